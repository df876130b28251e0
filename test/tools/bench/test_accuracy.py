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

"""Accuracy of the fast path: rotation and depth deviations and the issue's bound."""
import math

import pytest
import torch

from da3_ros.tools.bench import accuracy


def test_rotation_error_of_a_known_rotation():
    angle = math.radians(0.3)
    rot = torch.tensor([[math.cos(angle), -math.sin(angle), 0.0],
                        [math.sin(angle), math.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    a = torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1)[None].repeat(2, 1, 1)
    b = a.clone()
    b[1, :, :3] = rot
    assert accuracy.rotation_error_deg(a, b) == pytest.approx(0.3, abs=1e-6)
    assert accuracy.rotation_error_deg(a, a) == pytest.approx(0.0, abs=1e-6)
    # Another world frame (a different reference view) changes nothing.
    gauge = b.clone()
    gauge[:, :, :3] = b[:, :, :3] @ rot.T @ rot.T
    assert accuracy.rotation_error_deg(a, gauge) == pytest.approx(0.3, abs=1e-5)


def test_depth_error_is_the_median_relative_error():
    ref = torch.full((1, 2, 2), 2.0)
    other = ref.clone()
    other[0, 0, 0] = 2.2  # one pixel off by 10 %, the median pixel exact
    assert accuracy.depth_error(other, ref) == pytest.approx(0.0)
    assert accuracy.depth_error(ref * 1.01, ref) == pytest.approx(0.01, rel=1e-5)


def _forward(depth_scale: float, angle_deg: float = 0.0, cameras: bool = True):
    """Depth [2, 4, 4] of 2.0 times ``depth_scale``; view 1 turned by ``angle_deg`` about z."""
    angle = math.radians(angle_deg)
    extrinsics = torch.cat([torch.eye(3), torch.zeros(3, 1)], dim=1)[None].repeat(2, 1, 1)
    extrinsics[1, :2, :2] = torch.tensor([[math.cos(angle), -math.sin(angle)],
                                          [math.sin(angle), math.cos(angle)]])
    return torch.full((2, 4, 4), 2.0 * depth_scale), extrinsics if cameras else None


def test_bounds_are_one_and_a_half_times_upstream_or_the_floors():
    reference = _forward(1.0)
    # upstream deviates 1 % and 0.2 deg: bounds 1.5 % and 0.3 deg
    upstream = (_forward(1.01, 0.2), reference)
    within = accuracy.deviations(_forward(1.014, 0.29), reference, *upstream)
    assert within['depth_bound'] == pytest.approx(0.015)
    assert within['rot_bound_deg'] == pytest.approx(0.3)
    assert within['ok']
    assert not accuracy.deviations(_forward(1.016, 0.29), reference, *upstream)['ok']
    assert not accuracy.deviations(_forward(1.014, 0.31), reference, *upstream)['ok']
    # an exact upstream leaves the floors: 0.5 % and 0.1 deg
    exact = accuracy.deviations(_forward(1.004, 0.09), reference, reference, reference)
    assert exact['depth_bound'] == accuracy.DEPTH_FLOOR
    assert exact['rot_bound_deg'] == accuracy.ROTATION_FLOOR_DEG
    assert exact['ok']


def test_without_cameras_only_depth_is_checked():
    reference = _forward(1.0, cameras=False)
    out = accuracy.deviations(_forward(1.002, cameras=False), reference, reference, reference)
    assert out['ok'] and 'ours_rot_deg' not in out and 'rot_bound_deg' not in out
