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

"""The demo page explains each number it shows (the page itself is checked in test_cli.py)."""
from da3_ros.tools.demo import page as demo_page


def test_numbers_explain_each_metric():
    rows = demo_page.numbers({'depth_mean': {'abs_rel': 0.1, 'delta1': 0.9},
                              'trajectory': {'ate_m': 0.2, 'poses': 5, 'with_scale': True},
                              'depth_metric': False})
    assert [r[0] for r in rows] == ['AbsRel (mean over cameras)', 'delta < 1.25', 'ATE [m]',
                                    'depth is relative']
    assert all(len(r[2].split()) > 5 for r in rows) and 'similarity' in rows[2][2]
