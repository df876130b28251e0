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

"""The synthetic driving rig (six cameras on the base, ROS body frame) and its S-curve drive."""
import numpy as np
import pytest

from da3_ros.synthetic.rig import driving_rig, FULL_HW, Trajectory


def test_six_cameras_looking_where_their_names_say():
    cams = {c.name: c for c in driving_rig()}
    assert list(cams) == ['front', 'front_left', 'front_right', 'back', 'back_left', 'back_right']
    # Column 2 of R_base_cam is the optical axis (OpenCV z) in the base frame (x fwd, y left).
    axis = {name: c.t_base_cam[:3, 2] for name, c in cams.items()}
    np.testing.assert_allclose(axis['front'], [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(axis['back'], [-1.0, 0.0, 0.0], atol=1e-12)
    assert axis['front_left'][1] > 0 > axis['front_right'][1]
    assert axis['back_left'][0] < 0 and axis['back_left'][1] > 0
    # Image down (OpenCV y) is base down for every camera: the rig is level.
    for cam in cams.values():
        np.testing.assert_allclose(cam.t_base_cam[:3, 1], [0.0, 0.0, -1.0], atol=1e-12)


def test_intrinsics_scale_with_the_render_size():
    front = driving_rig()[0]
    assert FULL_HW == (900, 1600)
    np.testing.assert_allclose(front.intrinsics(FULL_HW), front.k_full)
    half = front.intrinsics((450, 800))
    assert half[0, 0] == pytest.approx(front.k_full[0, 0] / 2)
    assert half[1, 1] == pytest.approx(front.k_full[1, 1] / 2)


def test_trajectory_moves_forward_at_its_speed_on_an_s_curve():
    drive = Trajectory(speed=5.0, rate=10.0, amplitude=2.0, wavelength=60.0)
    assert drive.stamp(25) == pytest.approx(2.5)
    start, later = drive.t_odom_base(0), drive.t_odom_base(30)
    np.testing.assert_allclose(start[:3, 3], [0.0, 0.0, 0.0], atol=1e-12)
    assert later[0, 3] == pytest.approx(15.0)  # 3 s at 5 m/s along +x
    assert later[1, 3] == pytest.approx(2.0 * np.sin(2 * np.pi * 15.0 / 60.0))
    for step in (0, 30, 77):
        rot = drive.t_odom_base(step)[:3, :3]
        np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
