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

"""The fleet scale benchmark's analysis: speed-up, efficiency and where scaling stops.

The benchmark's runs themselves (Ray, stand-in workers) are not part of the unit tests.
"""
import pytest

from da3_ros.tools.fleet.bench import analyse, camera_names


def test_speedup_efficiency_and_the_cpu_ceiling():
    runs = [{'workers': 1, 'frames_per_s': 10.0, 'host_ms_per_frame': 50.0},
            {'workers': 2, 'frames_per_s': 19.0, 'host_ms_per_frame': 50.0},
            {'workers': 4, 'frames_per_s': 24.0, 'host_ms_per_frame': 50.0}]
    report = analyse(runs, cores=2, latency_ms=50.0, efficiency=0.8)
    assert [r['speedup'] for r in runs] == [1.0, 1.9, 2.4]
    assert [r['efficiency'] for r in runs] == [1.0, 0.95, 0.6]
    assert report['stops_scaling_at_workers'] == 4
    assert report['cpu_ceiling_frames_per_s'] == pytest.approx(40.0)  # 2 cores x 1000 / 50
    assert report['stand_in_ceiling_per_worker'] == pytest.approx(10.0)  # 1000 / (50 + 50)
    assert '2 cores cap the machine' in report['explanation']


def test_scaling_that_never_drops_below_the_bar_has_no_stop():
    runs = [{'workers': 1, 'frames_per_s': 5.0, 'host_ms_per_frame': 10.0},
            {'workers': 2, 'frames_per_s': 10.0, 'host_ms_per_frame': 10.0}]
    assert analyse(runs, cores=8, latency_ms=100.0, efficiency=0.8)[
        'stops_scaling_at_workers'] is None


def test_camera_names_are_the_first_of_the_rig():
    assert camera_names(2) == ('front', 'front_left')
    assert len(camera_names(6)) == 6
