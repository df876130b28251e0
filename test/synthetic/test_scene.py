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

"""Tests of the synthetic scene (exact depth of the ground plane and boxes, sky)."""
import numpy as np

from da3_ros.geometry import camera as cam_lib
from da3_ros.geometry import pose as pose_lib
from da3_ros.synthetic import scene as scene_lib


def test_ground_plane_depth_is_exact():
    scene = scene_lib.Scene(np.array([[0.0, 0.0, 1.0]]), np.array([0.0]),
                            np.zeros((0, 3)), np.zeros((0, 3)))
    # Camera 2 m above the ground looking straight down (optical z = world -z).
    t_world_cam = pose_lib.make_pose(np.diag([1.0, -1.0, -1.0]), [0.0, 0.0, 2.0])
    k = cam_lib.intrinsics_matrix(20.0, 20.0, 7.5, 5.5)
    image, depth = scene_lib.render(scene, t_world_cam, k, (12, 16))
    np.testing.assert_allclose(depth, 2.0)
    assert image.dtype == np.uint8 and image.shape == (12, 16, 3)


def test_box_face_depth_and_sky():
    scene = scene_lib.Scene(np.zeros((0, 3)), np.zeros(0), np.array([[5.0, -1.0, -1.0]]),
                            np.array([[6.0, 1.0, 1.0]]))
    t_world_cam = pose_lib.make_pose(pose_lib.R_ROS_OPTICAL, [0.0, 0.0, 0.0])
    k = cam_lib.intrinsics_matrix(10.0, 10.0, 10.0, 10.0)
    _, depth = scene_lib.render(scene, t_world_cam, k, (21, 21))
    assert depth[10, 10] == 5.0
    assert np.isnan(depth[0, 0])
