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

"""Golden parity of the Gaussian branch (da3-giant) and the GS-specific comparison rules."""
import glob
import json
import os

import numpy as np
import pytest

from da3_ros.tools import parity

DATA = os.path.join(os.path.dirname(__file__), '..', 'data', 'parity_gs')
FIXTURES = sorted(glob.glob(os.path.join(DATA, '*.npz')))


def test_gs_fixture_is_present():
    assert FIXTURES


@pytest.mark.parametrize('path', FIXTURES, ids=os.path.basename)
def test_gs_fixture_within_tolerance(path):
    report = parity.check_fixture(path)
    names = set(report['outputs'])
    assert {'gs_means', 'gs_scales', 'gs_rotations', 'gs_opacities',
            'gs_harmonics[l=0]', 'gs_harmonics[l=1]', 'gs_harmonics[l=2]'} <= names
    failures = {k: v for k, v in report['outputs'].items() if not v['ok']}
    assert not failures, json.dumps(failures)


def test_rotations_compare_up_to_sign_only():
    ref = np.array([[[0.0, 0.6, 0.0, 0.8], [1e-5, 0.0, 1.0, 0.0]]])
    flipped = ref * np.array([[[1.0], [-1.0]]])
    assert parity.compare('gs_rotations', flipped, ref, nested=False)['ok']
    assert not parity.compare('gs_rotations', ref[..., [3, 0, 1, 2]], ref, nested=False)['ok']


def test_harmonics_bands_are_normalised_separately():
    ref = np.zeros((1, 4, 3, 9))
    ref[..., 0], ref[..., 1:4], ref[..., 4:] = 1.0, 0.01, 0.001
    got = ref.copy()
    got[..., 5] += 0.0005  # 5e-4 of the DC maximum, but half of the l = 2 band
    report = parity.compare_output('gs_harmonics', got, ref, nested=False)
    assert report['gs_harmonics[l=0]']['ok'] and report['gs_harmonics[l=1]']['ok']
    assert not report['gs_harmonics[l=2]']['ok']
