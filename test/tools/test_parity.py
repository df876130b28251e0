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

"""Golden parity: our float32 CPU forward against upstream outputs under the weight rule."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from da3_ros.tools import parity

DATA = os.path.join(os.path.dirname(__file__), '..', 'data', 'parity')
FIXTURES = sorted(glob.glob(os.path.join(DATA, '*.npz')))
SHARED_CHECKER = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'parity',
                              'parity_check.py')
REPO = os.path.join(os.path.dirname(__file__), '..', '..')


def test_fixtures_are_present():
    assert len(FIXTURES) >= 10


@pytest.mark.parametrize('path', FIXTURES, ids=os.path.basename)
def test_fixture_within_tolerance(path):
    report = parity.check_fixture(path)
    failures = {k: v for k, v in report['outputs'].items() if not v['ok']}
    assert report['outputs'], 'fixture compared no outputs'
    assert not failures, json.dumps(failures)


def test_compare_flags_a_perturbed_output():
    ref = np.linspace(1.0, 10.0, 100, dtype=np.float32).reshape(1, 1, 10, 10)
    assert parity.compare('depth', ref * (1 + 1e-6), ref, nested=False)['ok']
    bad = ref.copy()
    bad[0, 0, 0, 0] *= 1.001  # tiny absolute change, large element-wise change
    assert not parity.compare('depth', bad, ref, nested=False)['ok']
    assert not parity.compare('depth', ref[..., :5], ref, nested=False)['ok']


def test_command_line_prints_json_and_exit_status(tmp_path):
    fixture = os.path.join(DATA, 'da3-small_s1_126x182.npz')
    ok = subprocess.run([sys.executable, '-m', 'da3_ros.tools.parity', fixture],
                        capture_output=True, text=True, cwd=REPO, check=False)
    assert ok.returncode == 0, ok.stderr
    line = json.loads(ok.stdout.strip().splitlines()[-1])
    assert line['pass'] and line['outputs']['depth']['max_rel'] < 1e-4

    broken = tmp_path / 'broken.npz'
    with np.load(fixture) as data:
        arrays = dict(data)
    arrays['out_depth'] = arrays['out_depth'] * 1.01
    np.savez(broken, **arrays)
    bad = subprocess.run([sys.executable, '-m', 'da3_ros.tools.parity', str(broken)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert bad.returncode == 1
    assert json.loads(bad.stdout.strip())['outputs']['depth']['ok'] is False


@pytest.mark.skipif(not os.path.isfile(SHARED_CHECKER), reason='shared/ checker not beside repo')
def test_independent_checker_accepts_run_contract():
    fixture = os.path.join(DATA, 'da3-small_s3_126x182.npz')
    result = subprocess.run(
        [sys.executable, SHARED_CHECKER, fixture, 'da3_ros.tools.parity:run', '--strict'],
        capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'RESULT: PASS' in result.stdout
