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

"""Trajectory metrics on trajectories whose errors are known by construction."""
import numpy as np
import pytest

from da3_ros.synthetic.metrics import ate, path_length, rpe


def straight_line(count: int, step: float) -> np.ndarray:
    """Poses [count, 4, 4] moving ``step`` metres along x per pose, identity rotation."""
    poses = np.repeat(np.eye(4)[None], count, axis=0)
    poses[:, 0, 3] = step * np.arange(count)
    return poses


def test_path_length_of_a_straight_line_and_a_corner():
    assert path_length(straight_line(5, 0.5)) == pytest.approx(2.0)
    corner = straight_line(3, 1.0)
    corner[2, :3, 3] = [1.0, 1.0, 0.0]
    assert path_length(corner) == pytest.approx(2.0)


def test_ate_is_zero_after_a_rigid_or_similarity_fit_and_measures_what_remains():
    gt = straight_line(6, 1.0)
    gt[:, 1, 3] = np.sin(np.arange(6))  # not collinear, so the fit is unique
    moved = gt.copy()
    moved[:, :3, 3] += [3.0, -1.0, 2.0]
    err, _ = ate(moved, gt, with_scale=False)
    assert err == pytest.approx(0.0, abs=1e-9)
    half = gt.copy()
    half[:, :3, 3] *= 0.5
    assert ate(half, gt, with_scale=True)[0] == pytest.approx(0.0, abs=1e-9)
    assert ate(half, gt, with_scale=False)[0] > 0.1  # a rigid fit cannot undo a scale
    noisy = gt.copy()
    noisy[3, 2, 3] += 0.6  # one pose off the plane of the others
    assert 0.0 < ate(noisy, gt, with_scale=False)[0] < 0.6 / np.sqrt(6) + 1e-9


def test_rpe_measures_the_step_error_in_metres_and_degrees():
    gt = straight_line(4, 1.0)
    est = straight_line(4, 1.0)
    est[2:, 0, 3] += 0.25  # the step 1 -> 2 is 0.25 m too long, the others exact
    trans, rot = rpe(est, gt)
    np.testing.assert_allclose(trans, [0.0, 0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(rot, [0.0, 0.0, 0.0], atol=1e-9)
    turn = np.radians(10.0)
    est[3, :3, :3] = [[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0],
                      [0, 0, 1]]
    assert rpe(est, gt)[1][2] == pytest.approx(10.0)
