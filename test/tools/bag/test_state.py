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

"""``--resume`` state: no pickle, one line for corrupt state, other settings refused.

A crash at every step of a commit, or a full disk, resumes to the uninterrupted output.
"""
import errno
import json
import os
from pathlib import Path
import shutil

import numpy as np
import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path
from tools.bag.stub import StubPredictor

from da3_ros.config import OutputConfig
from da3_ros.tools.bag import config as bag_config, process as bag_process
from da3_ros.tools.bag import state as bag_state
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.io import BagError
from da3_ros.tools.bag.process import process_bag
from da3_ros.tools.bag.writer import SegmentedWriter


def _run(rec, out, config=None, **kwargs):
    return process_bag(rec, out, config or bf.small_config(), progress=False, split_sets=2,
                       predictor=StubPredictor(), **kwargs)


def _same_bag(a: Path, b: Path) -> list:
    return bf.same_topics(bf.comparable(bf.messages(a)), bf.comparable(bf.messages(b)))


@pytest.fixture(scope='module')
def recording(tmp_path_factory) -> Path:
    return bf.make_recording(tmp_path_factory.mktemp('rec') / 'sample')


@pytest.fixture(scope='module')
def finished(recording, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('done') / 'out'
    _run(recording, out)
    return out


@pytest.fixture
def cli(monkeypatch, recording):
    """``main(['process', recording, OUT, ...])`` on the small config with the stub network."""
    original = bag_process.build_engine
    monkeypatch.setattr(bag_config, 'sample_config', bf.small_config)
    monkeypatch.setattr(bag_process, 'build_engine',
                        lambda config, predictor=None: original(config, StubPredictor()))

    def run(out: Path, *flags: str) -> int:
        return main(['process', str(recording), str(out), '--sample-config', '--no-progress',
                     '--split-sets', '2', *flags])
    return run


class _Payload:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f'touch {self.path}',)


def test_a_planted_pickle_is_never_loaded(finished, tmp_path, cli, capsys):
    import pickle
    out = tmp_path / 'out'
    shutil.copytree(finished, out)
    for state in [out / bag_state.STATE_FILE, *out.glob('resume-*.npz')]:
        state.unlink()
    ran = tmp_path / 'ran'
    (out / 'resume.pkl').write_bytes(pickle.dumps({'state': _Payload(ran)}))
    assert cli(out, '--resume') == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('da3_bag: error: --resume')
    assert 'never unpickled' in err and not ran.exists()


def _corrupt(out: Path, how: str) -> None:
    path = out / bag_state.STATE_FILE
    head = json.loads(path.read_text())
    if how == 'garbage':
        path.write_bytes(b'\x80\x04not json')
    elif how == 'version':
        path.write_text(json.dumps({**head, 'version': 99}))
    elif how == 'arrays':
        npz = out / head['arrays']['file']
        npz.write_bytes(npz.read_bytes()[:-10])
    elif how == 'class':
        text = path.read_text().replace('da3_ros.tools.bag.summary.Summary', 'os.system')
        path.write_text(text)
    else:
        head['document']['writer'].pop('segments')
        path.write_text(json.dumps(head))


@pytest.mark.parametrize('how', ['garbage', 'version', 'arrays', 'class', 'missing-field'])
def test_corrupt_state_is_one_line_and_exit_2(finished, tmp_path, cli, capsys, how):
    out = tmp_path / 'out'
    shutil.copytree(finished, out)
    _corrupt(out, how)
    assert cli(out, '--resume') == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('da3_bag: error: --resume'), err
    assert 'resume' in err and 'Traceback' not in err


@pytest.mark.parametrize('change, needle', [
    ('output', 'engine.output.max_depth: 80.0 -> 5.0'),
    ('variant', "engine.model.variant: 'da3-small' -> 'da3-base'"),
])
def test_resume_with_other_settings_is_refused_naming_them(finished, recording, tmp_path,
                                                           change, needle):
    import dataclasses
    out = tmp_path / 'out'
    shutil.copytree(finished, out)
    config = bf.small_config()
    engine = config.engine
    if change == 'output':
        engine = dataclasses.replace(engine, output=OutputConfig(max_depth=5.0))
    else:
        engine = dataclasses.replace(engine, model=dataclasses.replace(engine.model,
                                                                       variant='da3-base'))
    with pytest.raises(BagError, match='other settings') as caught:
        _run(recording, out, dataclasses.replace(config, engine=engine), resume=True)
    assert needle in str(caught.value)


def test_state_round_trips_without_pickle(tmp_path):
    """The codec restores arrays, tensors, tuples, non-string keys and allow-listed objects."""
    import torch
    from da3_ros.geometry.align import Sim3
    from da3_ros.tools.bag.summary import Summary
    state = {'sim': Sim3(np.float64(1.5), np.eye(3), np.arange(3.0)),
             'keys': {(0.1, 'front'): (np.ones(2, np.float32), None)}, 'nan': float('nan'),
             'tensor': torch.arange(6.0).reshape(2, 3), 'summary': Summary(sets_total=3)}
    (tmp_path / 'out').mkdir()
    bag_state.save(tmp_path / 'out', state)
    back = bag_state.load(tmp_path / 'out')
    assert not list((tmp_path / 'out').glob('*.pkl'))
    assert back['sim'].scale == 1.5 and isinstance(back['sim'].scale, np.float64)
    np.testing.assert_array_equal(back['sim'].translation, np.arange(3.0))
    (key, (ones, none)), = back['keys'].items()
    assert key == (0.1, 'front') and ones.dtype == np.float32 and none is None
    assert np.isnan(back['nan']) and torch.equal(back['tensor'], state['tensor'])
    assert back['summary'] == Summary(sets_total=3)
    with pytest.raises(bag_state.StateError, match='allow-list'):
        bag_state.save(tmp_path / 'out', {'x': object()})


def test_objects_are_named_by_class_so_a_moved_module_keeps_states_readable(tmp_path):
    from da3_ros.tools.bag.summary import Summary
    (tmp_path / 'out').mkdir()
    bag_state.save(tmp_path / 'out', {'summary': Summary(sets_total=2)})
    text = (tmp_path / 'out' / bag_state.STATE_FILE).read_text()
    assert '"$obj": "Summary"' in text and 'da3_ros.' not in text.split('"state"')[-1]
    assert bag_state.load(tmp_path / 'out')['summary'] == Summary(sets_total=2)


def test_encoded_images_round_trip(tmp_path):
    """Frames held for the GPU decoder keep their JPEG bytes exactly."""
    import io
    from PIL import Image
    from da3_ros.engine.decode import EncodedImage
    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(buffer, format='JPEG')
    image = EncodedImage.inspect(buffer.getvalue())
    (tmp_path / 'out').mkdir()
    bag_state.save(tmp_path / 'out', {'image': image})
    back = bag_state.load(tmp_path / 'out')['image']
    assert isinstance(back, EncodedImage)
    assert (back.codec, back.height, back.width, back.mode) == ('jpeg', 6, 8, 'RGB')
    assert bytes(memoryview(back.data).cast('B')) == bytes(memoryview(image.data).cast('B'))


def _failing(monkeypatch, fail_at: int, calls: list) -> None:
    """Raise OSError at the ``fail_at``-th rename/unlink of the resume state or metadata."""
    for name in ('replace', 'unlink'):
        original = getattr(os, name)

        def step(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            if len(calls) == fail_at:
                raise OSError(errno.EIO, f'crash before {_name} #{fail_at}')
            return _original(*args, **kwargs)

        monkeypatch.setattr(bag_state.os, name, step)


def test_a_crash_at_every_step_of_a_commit_resumes_exactly(recording, finished, tmp_path):
    with pytest.MonkeyPatch.context() as patch:  # the steps of a whole run
        calls: list = []
        _failing(patch, 0, calls)
        _run(recording, tmp_path / 'count')
    commits = [i for i, name in enumerate(calls) if name == 'replace'][::3]
    assert len(commits) >= 3, calls  # npz, resume.json, metadata.yaml per commit
    second = range(commits[1] + 1, commits[2] + 1)  # every step of the second commit:
    # new npz into place, resume.json naming it, old npz deleted, metadata.yaml
    assert [calls[i - 1] for i in second] == ['replace', 'replace', 'unlink', 'replace']
    for fail_at in second:
        out = tmp_path / f'crash{fail_at}'
        with pytest.MonkeyPatch.context() as patch:
            _failing(patch, fail_at, [])
            with pytest.raises(BagError, match='cannot write'):
                _run(recording, out)
        summary = _run(recording, out, resume=True)
        assert summary.sets_resumed >= 1, fail_at
        assert _same_bag(out, finished) == [], fail_at


def test_disk_full_is_one_line_then_resume_is_exact(tmp_path, cli, capsys, monkeypatch):
    assert cli(tmp_path / 'whole', '--device', 'cpu') == 0
    capsys.readouterr()
    original, writes = SegmentedWriter.write, []

    def write(self, *args):
        writes.append(args[0])
        if len(writes) == 40:  # inside the third set
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SegmentedWriter, 'write', write)
        assert cli(tmp_path / 'out', '--device', 'cpu') == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('da3_bag: error: cannot write')
    assert 'No space left on device' in err and '--resume' in err
    assert cli(tmp_path / 'out', '--device', 'cpu', '--resume') == 0
    assert _same_bag(tmp_path / 'out', tmp_path / 'whole') == []


def test_device_is_an_option_and_an_impossible_one_is_one_line(tmp_path, cli, capsys):
    assert cli(tmp_path / 'out', '--device', 'cuda:99') == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and "model.device: 'cuda:99'" in err
