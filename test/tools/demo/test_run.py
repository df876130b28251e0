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

"""The demo run's depth error map: AbsRel, with median scaling for relative depth.

The whole demo run (files, pages, Ctrl-C) is tested end to end in test_cli.py.
"""
import numpy as np

from da3_ros.tools.demo import run as demo_run


def test_error_map_is_abs_rel_and_median_scales_relative_depth():
    truth = np.array([[2.0, 4.0, np.nan]])
    np.testing.assert_allclose(demo_run.error_map(truth * 1.5, truth, metric=True)[0, :2],
                               [0.5, 0.5])
    np.testing.assert_allclose(demo_run.error_map(truth * 1.5, truth, metric=False)[0, :2],
                               [0.0, 0.0], atol=1e-6)
    assert np.isnan(demo_run.error_map(truth, truth, metric=True)[0, 2])
