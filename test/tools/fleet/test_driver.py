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

"""``da3_bag fleet`` on a local Ray (2 CPUs): whole bags, a bag in 3 time shards, a corrupt bag.

The fleet's outputs are compared with sequential ``process_bag`` runs at the workers' torch
thread count (1): whole bags message for message (up to wall-clock timings), the sharded bag
within the bounds of docs/fleet.md (depth identical, trajectory ATE below ``ATE_BOUND_M``).
"""
import dataclasses
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path
import torch

from da3_ros.ros.messages.quaternion import transform_matrix
from da3_ros.synthetic import metrics
from da3_ros.tools.bag.config import load_config
from da3_ros.tools.bag.process import process_bag
from da3_ros.tools.bag.sample_recording import RecordingSpec
from da3_ros.tools.fleet.driver import FleetOptions, run_fleet
from da3_ros.tools.fleet.manifest import MANIFEST_FILE
from da3_ros.tools.fleet.standin import StandInPredictor
from da3_ros.tools.fleet.work import TaskOptions

pytest.importorskip('ray')

CAMS = ('front', 'back')
SIZE = (48, 64)
STEPS = {'short': 4, 'mid': 5, 'long': 16}  # long: 1.6 s at 10 Hz, 3 shards of 0.5 s
SHARD_S = 0.5
ATE_BOUND_M = 1e-3  # docs/fleet.md: joined vs sequential trajectory on the sample recording
POSE_TOPICS = ('/da3_node/rig_step', '/tf')


def spec(steps: int) -> RecordingSpec:
    return RecordingSpec(steps=steps, cameras=CAMS, size_hw=SIZE)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory) -> Path:
    """Four recordings: three good ones and one cut in half (corrupt)."""
    root = tmp_path_factory.mktemp('fleet_in')
    for name, steps in STEPS.items():
        bf.make_recording(root / name, spec(steps))
    bad = bf.make_recording(root / 'corrupt', spec(3))
    segment = next(bad.glob('*.mcap'))
    segment.write_bytes(segment.read_bytes()[:segment.stat().st_size // 2])
    return root


@pytest.fixture(scope='module')
def config():
    """The small config, its depth scale re-anchored at every window (docs/fleet.md)."""
    cfg = bf.small_config(spec(1))
    window = dataclasses.replace(cfg.engine.window, scale_gain=1.0)
    return dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, window=window))


@pytest.fixture(scope='module')
def fleet(inputs, config, tmp_path_factory):
    out = tmp_path_factory.mktemp('fleet_out')
    options = FleetOptions(num_cpus=2, shard_s=SHARD_S, retries=1, progress=False,
                           task=TaskOptions(eval=True))
    return out, run_fleet([inputs], out, config, options)


@pytest.fixture(scope='module')
def sequential(inputs, config, tmp_path_factory):
    """``process_bag`` of every good bag at the workers' thread count."""
    out = tmp_path_factory.mktemp('sequential')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name in STEPS:
            process_bag(inputs / name, out / name, config, progress=False)
    finally:
        torch.set_num_threads(threads)
    return out


def _records(out: Path) -> dict:
    lines = (out / MANIFEST_FILE).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len({r['name'] for r in records}) == len(records), 'one record per bag or shard'
    return {r['name']: r for r in records}


def test_manifest_and_exit_status(fleet, inputs):
    out, result = fleet
    records = _records(out)
    assert sorted(records) == ['corrupt', 'long', 'long#000', 'long#001', 'long#002', 'mid',
                               'short']
    bad = records['corrupt']
    assert bad['status'] == 'failed' and bad['attempts'] == 2, bad
    assert str(inputs / 'corrupt') in bad['error'] and 'BagError' in bad['error'], bad
    assert result.exit_status() == 1 and [r['name'] for r in result.failed] == ['corrupt']
    for name in ('short', 'mid', 'long'):
        rec = records[name]
        assert rec['status'] == 'done' and rec['error'] == '', rec
        assert rec['frames_out'] == STEPS[name], rec
        assert rec['gpu_s'] > 0 and rec['wall_s'] >= rec['gpu_s'], rec
        assert set(rec['drops']) == {'skipped', 'sync', 'camera', 'no_output'}, rec
    for name in ('short', 'mid', 'long#000'):  # --eval: the bag's ground truth, per bag or shard
        report = records[name]['eval']
        assert sorted(report['depth']) == sorted(CAMS), report
        assert report['trajectory']['poses'] == records[name]['frames_out'], report
    shards = [records[f'long#{k:03d}'] for k in range(3)]
    assert all(r['status'] == 'done' for r in shards)
    # each later shard re-reads the sets that fill its window and overlap its predecessor
    assert sum(r['frames_in'] for r in shards) > STEPS['long']
    assert [a['shard'] for a in records['long']['alignment']] == [0, 1, 2]
    assert not any((out / 'shards' / 'long').glob('shard_*'))  # joined: outputs and slices gone
    assert all(a['common_poses'] >= 2 for a in records['long']['alignment'][1:])


@pytest.mark.parametrize('name', ['short', 'mid'])
def test_whole_bags_equal_sequential(fleet, sequential, name):
    fleet_out = bf.comparable(bf.messages(fleet[0] / 'bags' / name))
    assert bf.same_topics(bf.comparable(bf.messages(sequential / name)), fleet_out) == []


def _poses(records: list) -> np.ndarray:
    """T_world_cam [N, C, 4, 4] of a list of (time, RigStep)."""
    out = []
    for _, msg in records:
        out.append([transform_matrix([c.pose.position.x, c.pose.position.y, c.pose.position.z],
                                     [c.pose.orientation.x, c.pose.orientation.y,
                                      c.pose.orientation.z, c.pose.orientation.w])
                    for c in msg.cameras])
    return np.asarray(out)


def test_sharded_bag_within_bounds(fleet, sequential):
    seq = bf.comparable(bf.messages(sequential / 'long'))
    joined = bf.comparable(bf.messages(fleet[0] / 'bags' / 'long'))
    assert sorted(seq) == sorted(joined)
    # depth, confidence, clouds, camera info: identical (each set ran the same window)
    exact = {t: m for t, m in seq.items() if t not in POSE_TOPICS}
    assert bf.same_topics(exact, {t: joined[t] for t in exact}) == []
    steps_seq, steps_joined = seq['/da3_node/rig_step'], joined['/da3_node/rig_step']
    assert [t for t, _ in steps_seq] == [t for t, _ in steps_joined]
    for (_, a), (_, b) in zip(steps_seq, steps_joined):
        assert a.sequence == b.sequence and a.is_metric == b.is_metric
        for ca, cb in zip(a.cameras, b.cameras):
            assert bf.msg_equal(ca.depth, cb.depth)
            assert bf.msg_equal(ca.confidence, cb.confidence)
    est, ref = _poses(steps_joined), _poses(steps_seq)
    for cam in range(len(CAMS)):
        ate, _ = metrics.ate(est[:, cam], ref[:, cam], with_scale=False)
        assert ate < ATE_BOUND_M, (ate, metrics.path_length(ref[:, cam]))
    tf_seq, tf_joined = seq['/tf'], joined['/tf']
    assert [t for t, _ in tf_seq] == [t for t, _ in tf_joined]
    for (_, a), (_, b) in zip(tf_seq, tf_joined):
        assert [t.child_frame_id for t in a.transforms] == [t.child_frame_id
                                                            for t in b.transforms]
        for ta, tb in zip(a.transforms, b.transforms):
            va, vb = ta.transform.translation, tb.transform.translation
            assert np.linalg.norm([va.x - vb.x, va.y - vb.y, va.z - vb.z]) < ATE_BOUND_M


PARAMS = """/**/da3_node:
  ros__parameters:
    model: {variant: da3-small, weights: parity, device: cpu, dtype: fp32, process_res: 42}
    window: {length: 2, scale_gain: 1.0}
    use_odometry: false
    tf_mode: cameras
    sync: {slop_s: 0.05, timeout_s: 0.3}
    cameras: [front, back]
    camera:
"""
CAMERA = """      %s: {image_topic: /cam_%s/image_raw/compressed, info_topic: /cam_%s/camera_info,
               transport: compressed}
"""


def _descendants(pid: int) -> list:
    """Process ids below ``pid`` (from /proc)."""
    children: dict = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cli(out: Path, params: Path, inputs: Path) -> list:
    return [sys.executable, '-m', 'da3_ros.tools.bag', 'fleet', '--out', str(out), '--config',
            str(params), '--num-cpus', '2', '--shard-s', str(SHARD_S), '--stand-in-ms', '150',
            '--split-sets', '1', '--no-progress', str(inputs)]


def _kill_mid_run(command: list, out: Path) -> None:
    """Start the driver, SIGKILL it once a task committed a segment, end what it left."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below: set = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and child.poll() is None:
        below.update(_descendants(child.pid))
        if any(out.glob('bags/*/metadata.yaml')) or any(out.glob('shards/*/*/metadata.yaml')):
            break
        time.sleep(0.05)
    assert child.poll() is None, 'the driver ended before any task committed a segment'
    below.update(_descendants(child.pid))
    child.kill()
    child.wait(timeout=60)
    time.sleep(2)  # Ray's workers die with their raylet; its agents may linger
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_killed_driver_rerun_completes(inputs, tmp_path):
    """CLI: kill the driver mid-run; the same command completes with nothing lost or doubled."""
    params = tmp_path / 'params.yaml'
    params.write_text(PARAMS + ''.join(CAMERA % (c, c, c) for c in CAMS))
    out = tmp_path / 'fleet'
    command = _cli(out, params, inputs)
    _kill_mid_run(command, out)
    assert not all((out / 'bags' / name).is_dir() for name in STEPS), 'killed too late'
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr[-2000:]  # the corrupt bag failed
    assert f"FAILED {inputs / 'corrupt'}:" in rerun.stderr
    records = _records(out)
    assert {n: r['status'] for n, r in records.items() if '#' not in n} == {
        'short': 'done', 'mid': 'done', 'long': 'done', 'corrupt': 'failed'}
    config = load_config(params)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name in STEPS:
            seq_out = tmp_path / 'sequential' / name
            process_bag(inputs / name, seq_out, config, progress=False,
                        predictor=StandInPredictor(0.0))
            seq = bf.comparable(bf.messages(seq_out))
            got = bf.comparable(bf.messages(out / 'bags' / name))
            assert {t: len(m) for t, m in seq.items()} == {t: len(m) for t, m in got.items()}
            exact = [t for t in seq if name != 'long' or t not in POSE_TOPICS]
            assert bf.same_topics({t: seq[t] for t in exact}, {t: got[t] for t in exact}) == []
    finally:
        torch.set_num_threads(threads)


NO_RAY = """
import sys
from pathlib import Path
from da3_ros.tools.bag import cli as bag_cli, process  # the whole single-bag path
from da3_ros.tools.bag.config import sample_config
from da3_ros.tools.bag.sample_recording import RecordingSpec, write_recording
from da3_ros.tools.fleet import cli, join, manifest, plan, standin, work
spec = RecordingSpec(steps=2, cameras=('front', 'back'), size_hw=(48, 64))
rec = write_recording(Path(sys.argv[1]) / 'rec', spec)
summary = process.process_bag(rec, Path(sys.argv[1]) / 'out', sample_config(spec), progress=False,
                              predictor=standin.StandInPredictor(0.0))
assert summary.sets_output == 2, summary.text()
print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))
"""


def test_single_bag_path_never_imports_ray(tmp_path):
    """``da3_bag process`` and the fleet's planning, work and join modules run without ray."""
    done = subprocess.run([sys.executable, '-c', NO_RAY, str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == '[]', done.stdout
