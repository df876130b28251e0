# Copyright 2026 The da3_ros Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Offline bag processing: output round trip, determinism, eval, storage formats, resume."""
import dataclasses
import json
import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path
import torch

from da3_ros.config import placeholder_notice, WindowConfig
from da3_ros.ros.messages.cloud import cloud_to_arrays
from da3_ros.ros.messages.image import image_to_depth
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.config import cpu_model, load_config
from da3_ros.tools.bag.io import BagError
from da3_ros.tools.bag.process import EVAL_FILE, process_bag
from da3_ros.tools.bag.sample_recording import image_topic, RecordingSpec
from da3_ros.tools.bag.writer import SegmentedWriter

CAMS = bf.SPEC.cameras
STEPS = bf.SPEC.steps
NODE = '/da3_node'  # the node publishes its outputs as ~/<topic>
CAMERA_TOPICS = ('depth', 'depth/camera_info', 'confidence', 'points')


@pytest.fixture(scope='module')
def recording(tmp_path_factory) -> Path:
    return bf.make_recording(tmp_path_factory.mktemp('rec') / 'sample')


@pytest.fixture(scope='module')
def baseline(recording, tmp_path_factory):
    """One uninterrupted run with --eval, recording every message as it was written."""
    written = []
    original = SegmentedWriter.write

    def spy(self, topic, msgtype, time_ns, data):
        written.append((topic, time_ns, self.store.deserialize_cdr(bytes(data), msgtype)))
        return original(self, topic, msgtype, time_ns, data)

    out = tmp_path_factory.mktemp('out') / 'baseline'
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SegmentedWriter, 'write', spy)
        summary = process_bag(recording, out, bf.small_config(), eval=True, progress=False,
                              split_sets=2)
    return out, summary, written


def test_every_output_topic_round_trips(baseline):
    out, summary, written = baseline
    back = bf.comparable(bf.messages(out), drop_timings=False)
    sent = bf.comparable(written, drop_timings=False)
    expected = {f'{NODE}/{c}/{t}' for c in CAMS for t in CAMERA_TOPICS}
    expected |= {f'{NODE}/points', f'{NODE}/rig_step', '/tf', '/diagnostics'}
    assert set(back) == expected
    assert bf.same_topics(sent, back) == []
    assert summary.sets_total == summary.sets_processed == summary.sets_output == STEPS
    assert all(len(back[t]) == STEPS for t in expected)
    assert summary.skipped == {} and summary.camera_errors == {}
    assert placeholder_notice('parity') in summary.warnings


def test_output_contents(baseline):
    out, _, _ = baseline
    back = bf.comparable(bf.messages(out))
    depth = image_to_depth(back[f'{NODE}/front/depth'][0][1])
    assert depth.shape == bf.SPEC.size_hw and np.isfinite(depth).any()
    cloud = cloud_to_arrays(back[f'{NODE}/front/points'][0][1])
    assert cloud['z'].shape == bf.SPEC.size_hw
    valid = np.isfinite(cloud['z'])
    assert valid.any() and np.allclose(cloud['z'][valid], depth[valid], rtol=1e-5)
    step = back[f'{NODE}/rig_step'][-1][1]
    assert [c.camera_name for c in step.cameras] == list(CAMS)
    assert all(c.valid for c in step.cameras)
    assert [m.sequence for _, m in back[f'{NODE}/rig_step']] == list(range(STEPS))
    stamps = [t for t, _ in back[f'{NODE}/rig_step']]
    assert stamps == sorted(set(stamps)) and len(stamps) == STEPS


def test_eval_numbers_printed_and_saved(baseline):
    out, summary, _ = baseline
    report = json.loads((out / EVAL_FILE).read_text())
    assert report == json.loads(json.dumps(summary.evaluation))
    assert set(report['depth']) == set(CAMS)
    for cam in report['depth'].values():
        assert cam['images'] == STEPS
        assert cam['abs_rel'] >= 0 and 0 <= cam['delta1'] <= 1
    assert report['trajectory']['poses'] == STEPS and report['trajectory']['ate_m'] >= 0
    assert report['skipped'] == {}


def test_deterministic(baseline, recording, tmp_path):
    out, _, _ = baseline
    again = tmp_path / 'again'
    process_bag(recording, again, bf.small_config(), progress=False, split_sets=4)
    assert bf.same_topics(bf.comparable(bf.messages(out)), bf.comparable(bf.messages(again))) == []


def test_sqlite3_input_and_passthrough(baseline, tmp_path):
    spec = RecordingSpec(steps=STEPS, cameras=CAMS, storage='sqlite3')
    rec = bf.make_recording(tmp_path / 'db', spec)
    assert list(rec.glob('*.db3'))
    out = tmp_path / 'out'
    process_bag(rec, out, bf.small_config(spec), progress=False, passthrough=True)
    got = bf.comparable(bf.messages(out))
    ref = bf.comparable(bf.messages(baseline[0]))
    inputs = bf.comparable(bf.messages(rec))
    assert bf.same_topics({t: got[t] for t in ref if t != '/tf'},
                          {t: ref[t] for t in ref if t != '/tf'}) == []
    assert bf.same_topics({t: got[t] for t in inputs if t != '/tf'},
                          {t: inputs[t] for t in inputs if t != '/tf'}) == []
    assert len(got['/tf']) == len(ref['/tf']) + len(inputs['/tf'])


def test_existing_output_needs_resume_or_overwrite(baseline, recording):
    with pytest.raises(BagError, match='--resume'):
        process_bag(recording, baseline[0], bf.small_config(), progress=False)


# The child holds still after its stop_after-th commit until the test has signalled it and
# created the release file: without the hold, a loaded machine let it finish every set
# before the signal lands, and the interrupted run would not be partial.
_CHILD = """
import os
import sys
import time
import torch
torch.set_num_threads({threads})  # another count rounds differently (see tools.bag.process)
sys.path.insert(0, {test_dir!r})
from tools.bag import fixtures as bf
from da3_ros.tools.bag.process import process_bag
from da3_ros.tools.bag.writer import SegmentedWriter

commit, commits = SegmentedWriter.commit, []


def held_commit(self, *args, **kwargs):
    result = commit(self, *args, **kwargs)
    commits.append(1)
    deadline = time.monotonic() + 120
    while (len(commits) == {stop_after} and not os.path.exists({release!r})
           and time.monotonic() < deadline):
        time.sleep(0.01)
    return result


SegmentedWriter.commit = held_commit
summary = process_bag({rec!r}, {out!r}, bf.small_config(), split_sets=1, progress=False)
sys.exit(130 if summary.interrupted else 0)
"""


def _start_child(recording: Path, out: Path, threads: int, stop_after: int,
                 release: Path) -> subprocess.Popen:
    code = _CHILD.format(test_dir=str(Path(__file__).parents[2]), rec=str(recording),
                         out=str(out), threads=threads, stop_after=stop_after,
                         release=str(release))
    return subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _wait_for_segments(out: Path, count: int, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        meta = out / 'metadata.yaml'
        if meta.is_file() and meta.read_text().count('.mcap') >= 2 * count:
            return
        time.sleep(0.05)
    raise AssertionError(f'child did not commit {count} segments: {child.poll()}')


@pytest.mark.parametrize('sig', [signal.SIGKILL, signal.SIGINT], ids=['kill', 'ctrl-c'])
def test_resume_after_interrupt(baseline, recording, tmp_path, sig):
    seed = int.from_bytes(os.urandom(2), 'little')
    stop_after = random.Random(seed).randint(1, STEPS - 2)
    out = tmp_path / 'out'
    release = tmp_path / 'release'
    child = _start_child(recording, out, torch.get_num_threads(), stop_after, release)
    _wait_for_segments(out, stop_after, child)
    child.send_signal(sig)
    release.touch()
    log = child.communicate(timeout=120)[0].decode()
    assert child.returncode == (-9 if sig == signal.SIGKILL else 130), (seed, log)
    partial = bf.comparable(bf.messages(out))
    done = len(partial[f'{NODE}/rig_step'])
    assert 1 <= done < STEPS, (seed, done)
    threads = torch.get_num_threads()
    other = 2 if threads == 1 else 1  # resume must take the interrupted run's count back
    torch.set_num_threads(other)
    try:
        summary = process_bag(recording, out, bf.small_config(), resume=True, progress=False)
        assert torch.get_num_threads() == other
    finally:
        torch.set_num_threads(threads)
    assert summary.sets_resumed == done, seed
    assert summary.sets_output == summary.sets_total == STEPS, seed
    full = bf.comparable(bf.messages(baseline[0]))
    assert bf.same_topics(full, bf.comparable(bf.messages(out))) == [], seed


def test_node_params_file_drives_the_tool(tmp_path):
    """config/multi_cam.yaml (the node's file) reads a raw six-camera recording as is."""
    spec = RecordingSpec(steps=2, transport='raw')
    rec = bf.make_recording(tmp_path / 'raw', spec)
    config = load_config(Path(__file__).parents[3] / 'config' / 'multi_cam.yaml')
    names = [c.name for c in config.engine.cameras]
    assert [c.image_topic for c in config.engine.cameras] == [image_topic(spec, n) for n in names]
    config = dataclasses.replace(config, engine=dataclasses.replace(
        config.engine, model=cpu_model(28), window=WindowConfig(length=1)))
    summary = process_bag(rec, tmp_path / 'out', config, progress=False)
    assert summary.sets_output == 2 and summary.camera_errors == {}, summary.text()
    topics = {t for t, _, _ in bf.messages(tmp_path / 'out')}
    assert {f'{NODE}/{c}/depth' for c in ('front', 'back_right')} <= topics


def test_cli_record_and_process(tmp_path, capsys):
    rec = tmp_path / 'rec'
    assert main(['record', str(rec), '--steps', '2']) == 0
    assert (rec / 'metadata.yaml').is_file()
    assert main(['process', str(rec), str(tmp_path / 'out'), '--config',
                 str(tmp_path / 'nope.yaml')]) == 2
    assert 'error' in capsys.readouterr().err
