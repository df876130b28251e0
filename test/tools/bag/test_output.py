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

"""``--overwrite`` replaces only da3_bag's own output, never the input, and atomically."""
import dataclasses
import hashlib
import os
from pathlib import Path
import shutil

import pytest
from tools.bag import fixtures as bf  # test/ is on sys.path
from tools.bag.stub import StubPredictor

from da3_ros.config import OutputConfig
from da3_ros.tools.bag import config as bag_config, output as bag_output
from da3_ros.tools.bag.cli import main
from da3_ros.tools.bag.io import BagError
from da3_ros.tools.bag.process import process_bag


def _config(max_depth: float = 80.0):
    config = bf.small_config()
    return dataclasses.replace(config, engine=dataclasses.replace(
        config.engine, output=OutputConfig(max_depth=max_depth)))


def _run(rec, out, config=None, **kwargs):
    return process_bag(rec, out, config or _config(), progress=False, split_sets=2,
                       predictor=StubPredictor(), **kwargs)


def _digest(folder: Path) -> dict:
    """Relative path -> sha256 of every file below ``folder`` (directories as 'dir')."""
    return {str(p.relative_to(folder)): 'dir' if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*'))}


@pytest.fixture(scope='module')
def recording(tmp_path_factory) -> Path:
    return bf.make_recording(tmp_path_factory.mktemp('rec') / 'sample')


@pytest.fixture(scope='module')
def outputs(recording, tmp_path_factory):
    """Two finished outputs of different settings (A: max_depth 80, B: max_depth 5)."""
    root = tmp_path_factory.mktemp('outs')
    _run(recording, root / 'a', _config(80.0))
    _run(recording, root / 'b', _config(5.0))
    return root / 'a', root / 'b'


def _same_bag(a: Path, b: Path) -> bool:
    return bf.same_topics(bf.comparable(bf.messages(a)), bf.comparable(bf.messages(b))) == []


@pytest.mark.parametrize('case', ['is-input', 'inside-input', 'contains-input', 'foreign',
                                  'subfolder'])
def test_overwrite_refuses_what_is_not_its_own_output(recording, outputs, tmp_path, case):
    rec = tmp_path / 'outer' / 'rec'
    shutil.copytree(recording, rec)
    out = {'is-input': rec, 'inside-input': rec / 'out', 'contains-input': rec.parent,
           'foreign': tmp_path / 'mine', 'subfolder': tmp_path / 'old'}[case]
    if case == 'foreign':
        out.mkdir()
        (out / 'notes.txt').write_text('mine')
    if case == 'subfolder':
        shutil.copytree(outputs[0], out)
        (out / 'keep').mkdir()
        (out / 'keep' / 'data.txt').write_text('mine')
    before = _digest(tmp_path)
    needle = {'is-input': 'is the input bag', 'inside-input': 'is inside the input bag',
              'contains-input': 'contains the input bag', 'foreign': 'no da3_bag output marker',
              'subfolder': "holds 'keep'"}[case]
    with pytest.raises(BagError, match=needle) as caught:
        _run(rec, out, overwrite=True)
    assert str(out) in str(caught.value)
    assert _digest(tmp_path) == before


def test_exists_message_offers_overwrite_only_for_own_output(outputs, recording, tmp_path,
                                                             capsys, monkeypatch):
    monkeypatch.setattr(bag_config, 'sample_config', bf.small_config)
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    assert main(['process', str(recording), str(foreign), '--sample-config',
                 '--no-progress']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'not a da3_bag output' in err and '--overwrite' not in err
    with pytest.raises(BagError, match='earlier da3_bag output.*--overwrite'):
        _run(recording, outputs[0])


def test_overwrite_replaces_own_output_and_leaves_nothing_beside(recording, outputs, tmp_path):
    out = tmp_path / 'out'
    shutil.copytree(outputs[0], out)
    _run(recording, out, _config(5.0), overwrite=True)
    assert _same_bag(out, outputs[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']


def test_a_run_that_dies_while_overwriting_keeps_the_old_output(recording, outputs, tmp_path):
    out = tmp_path / 'out'
    shutil.copytree(outputs[0], out)
    before = _digest(out)

    class Dies(StubPredictor):
        calls = 0

        def predict(self, inputs):
            Dies.calls += 1
            if Dies.calls == 4:
                raise RuntimeError('killed')
            return super().predict(inputs)

    with pytest.raises(RuntimeError, match='killed'):
        process_bag(recording, out, _config(5.0), progress=False, split_sets=1, overwrite=True,
                    predictor=Dies())
    assert _digest(out) == before
    assert bag_output.staging(out).is_dir()  # the partial replacement, beside
    _run(recording, out, _config(5.0), overwrite=True)  # clears it and replaces OUT
    assert _same_bag(out, outputs[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']


def _swap_calls(monkeypatch, fail_at: int) -> list:
    """Make the ``fail_at``-th filesystem change of a swap raise (a crash at that step)."""
    calls = []
    for name in ('rename', 'unlink', 'rmdir'):
        original = getattr(os, name)

        def step(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            if len(calls) == fail_at:
                raise OSError(f'crash before {_name} #{fail_at}')
            return _original(*args, **kwargs)

        monkeypatch.setattr(bag_output.os, name, step)
    return calls


def test_swap_survives_a_crash_at_every_step(outputs, tmp_path):
    """Crash before each rename/unlink/rmdir of the swap, then run recover() (every run's start).

    After the crash OUT is the old or (from the first rename on) the new output, once recovered;
    nothing of the old output is left beside it.
    """
    with pytest.MonkeyPatch.context() as patch:  # how many steps a swap takes
        steps = _swap_calls(patch, fail_at=0)
        out = tmp_path / 'count' / 'out'
        shutil.copytree(outputs[0], out)
        shutil.copytree(outputs[1], bag_output.staging(out))
        bag_output.swap(bag_output.staging(out), out)
    assert steps[:2] == ['rename', 'rename'] and len(steps) > 3
    old, new = _digest(outputs[0]), _digest(outputs[1])
    for fail_at in range(1, len(steps) + 1):
        out = tmp_path / str(fail_at) / 'out'
        shutil.copytree(outputs[0], out)
        shutil.copytree(outputs[1], bag_output.staging(out))
        with pytest.MonkeyPatch.context() as patch:
            _swap_calls(patch, fail_at)
            with pytest.raises(OSError, match='crash'):
                bag_output.swap(bag_output.staging(out), out)
        bag_output.recover(out)
        assert _digest(out) == (old if fail_at == 1 else new), fail_at
        assert not bag_output.retired(out).exists(), fail_at
        if fail_at > 1:
            assert sorted(p.name for p in out.parent.iterdir()) == ['out'], fail_at


def test_ctrl_c_while_overwriting_swaps_in_a_resumable_output(recording, outputs, tmp_path):
    import signal
    out = tmp_path / 'out'
    shutil.copytree(outputs[0], out)

    class CtrlC(StubPredictor):
        calls = 0

        def predict(self, inputs):
            CtrlC.calls += 1
            if CtrlC.calls == 3:
                os.kill(os.getpid(), signal.SIGINT)  # the tool stops after this set
            return super().predict(inputs)

    summary = process_bag(recording, out, _config(5.0), progress=False, split_sets=1,
                          overwrite=True, predictor=CtrlC())
    assert summary.interrupted and summary.sets_output < bf.SPEC.steps
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']
    process_bag(recording, out, _config(5.0), progress=False, resume=True,
                predictor=CtrlC())  # the same network identity; no second Ctrl-C
    assert _same_bag(out, outputs[1])


def test_an_output_that_got_only_its_marker_is_written_without_overwrite(recording, outputs,
                                                                         tmp_path):
    """A run that stopped before writing anything (its model did not load) blocks nothing."""
    out = tmp_path / 'out'
    bag_output.write_marker(out)
    _run(recording, out, _config(5.0))
    assert _same_bag(out, outputs[1])
