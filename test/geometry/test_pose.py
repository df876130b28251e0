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

"""Tests of da3_ros.geometry.pose."""
import numpy as np

from da3_ros.geometry import pose


def _random_poses(n, seed=0):
    rng = np.random.default_rng(seed)
    return pose.make_pose(pose.so3_exp(rng.normal(size=(n, 3))), rng.normal(size=(n, 3)))


def test_inverse_and_compose():
    poses = _random_poses(8)
    eye = poses @ pose.inverse(poses)
    np.testing.assert_allclose(eye, np.broadcast_to(np.eye(4), eye.shape), atol=1e-12)
    a, b = poses[0], poses[1]
    pts = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_allclose(pose.transform_points(a @ b, pts),
                               pose.transform_points(a, pose.transform_points(b, pts)),
                               atol=1e-12)


def test_quaternion_round_trip_and_sign():
    rot = _random_poses(50, seed=2)[:, :3, :3]
    quat = pose.mat_to_quat(rot)
    assert np.all(quat[:, 3] >= 0)
    np.testing.assert_allclose(np.linalg.norm(quat, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(pose.quat_to_mat(quat), rot, atol=1e-12)
    np.testing.assert_allclose(pose.quat_to_mat(3.0 * quat), rot, atol=1e-12)
    np.testing.assert_allclose(pose.mat_to_quat(np.eye(3)), [0, 0, 0, 1])


def test_exp_log_round_trip():
    vec = np.random.default_rng(3).normal(size=(20, 3))
    vec = vec / np.linalg.norm(vec, axis=1, keepdims=True) * np.linspace(0, 3.0, 20)[:, None]
    np.testing.assert_allclose(pose.so3_log(pose.so3_exp(vec)), vec, atol=1e-9)
    np.testing.assert_allclose(pose.rotation_angle(pose.so3_exp(vec)),
                               np.linalg.norm(vec, axis=1), atol=1e-9)


def test_sim3_on_pose_keeps_points_consistent():
    rng = np.random.default_rng(4)
    t_a_cam = _random_poses(1, 5)[0]
    scale, rot, trans = 2.5, pose.so3_exp(rng.normal(size=3)), rng.normal(size=3)
    t_b_cam = pose.apply_sim3_to_pose(scale, rot, trans, t_a_cam)
    p_cam = rng.normal(size=(4, 3))
    p_a = pose.transform_points(t_a_cam, p_cam)
    p_b = pose.transform_points(t_b_cam, scale * p_cam)
    np.testing.assert_allclose(p_b, scale * p_a @ rot.T + trans, atol=1e-12)


def test_mean_pose_is_projected_arithmetic_mean():
    poses = _random_poses(6, seed=6)
    poses[:, :3, :3] = pose.so3_exp(0.3 * np.random.default_rng(7).normal(size=(6, 3)))
    mean = pose.mean_pose(poses)
    # The chordal L2 mean is the rotation nearest (Frobenius) to the summed matrices: U V^T.
    u, _, vt = np.linalg.svd(poses[:, :3, :3].sum(0))
    np.testing.assert_allclose(mean[:3, :3], u @ vt, atol=1e-9)
    np.testing.assert_allclose(mean[:3, 3], poses[:, :3, 3].mean(0), atol=1e-12)


def test_quaternion_convention_is_xyzw_active():
    # A quarter turn about z: x -> y, quaternion (0, 0, sin 45, cos 45) in xyzw order.
    quat = np.array([0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4)])
    np.testing.assert_allclose(pose.quat_to_mat(quat) @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                               atol=1e-12)
    np.testing.assert_allclose(pose.so3_exp([0.0, 0.0, np.pi / 2]), pose.quat_to_mat(quat),
                               atol=1e-12)
    # Batched: any leading shape.
    assert pose.so3_exp(np.zeros((2, 5, 3))).shape == (2, 5, 3, 3)
    assert pose.mat_to_quat(np.broadcast_to(np.eye(3), (2, 5, 3, 3))).shape == (2, 5, 4)


def test_optical_ros_conversion():
    t_base_optical = pose.make_pose(pose.R_ROS_OPTICAL, [1.0, 2.0, 3.0])
    body = pose.optical_to_ros(t_base_optical)
    np.testing.assert_allclose(body[:3, :3], np.eye(3), atol=1e-12)
    np.testing.assert_allclose(pose.ros_to_optical(body), t_base_optical, atol=1e-12)
    # The optical z axis (forward) is the body x axis.
    np.testing.assert_allclose(pose.R_ROS_OPTICAL @ [0, 0, 1], [1, 0, 0])
