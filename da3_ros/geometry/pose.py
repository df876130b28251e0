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

"""Rigid and similarity transforms as 4x4 numpy arrays (any leading batch shape).

Naming: ``T_a_b`` takes points from frame b to frame a, ``p_a = T_a_b @ p_b``; so
``T_world_cam`` is a camera-to-world pose and its inverse ``T_cam_world`` is the OpenCV
world-to-camera extrinsic that DA3 consumes and predicts. Quaternions are xyzw (scalar last).

Rotation maths (rotation vectors, quaternions, angles, the mean rotation) is scipy's
``scipy.spatial.transform.Rotation``; this module only fixes the conventions on top of it
(xyzw with ``w >= 0``, 4x4 homogeneous matrices, any leading batch shape). The model's torch
quaternion code (``da3_ros.model.pose_encoding``) stays separate: it must match upstream DA3
bit for bit and runs batched on the GPU.
"""
import numpy as np
from scipy.spatial.transform import Rotation

# Rotation taking OpenCV optical-frame vectors (x right, y down, z forward) to the ROS body
# convention (x forward, y left, z up): R_body_optical.
R_ROS_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def make_pose(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Build [..., 4, 4] transforms from rotations [..., 3, 3] and translations [..., 3]."""
    rotation = np.asarray(rotation, dtype=np.float64)
    out = np.zeros(rotation.shape[:-2] + (4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = translation
    out[..., 3, 3] = 1.0
    return out


def to_homogeneous(pose34: np.ndarray) -> np.ndarray:
    """Pad [..., 3, 4] matrices to [..., 4, 4]."""
    pose34 = np.asarray(pose34, dtype=np.float64)
    return make_pose(pose34[..., :3, :3], pose34[..., :3, 3])


def inverse(pose: np.ndarray) -> np.ndarray:
    """Inverse of rigid [..., 4, 4] transforms (uses R^T, not a general inverse)."""
    rot_t = np.swapaxes(pose[..., :3, :3], -1, -2)
    return make_pose(rot_t, -np.einsum('...ij,...j->...i', rot_t, pose[..., :3, 3]))


def sim3_matrix(scale: float, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 matrix of the similarity x -> scale * R x + t."""
    return make_pose(scale * np.asarray(rotation), translation)


def apply_sim3_to_pose(scale: float, rotation: np.ndarray, translation: np.ndarray,
                       pose: np.ndarray) -> np.ndarray:
    """Map camera-to-frame poses [..., 4, 4] through a similarity; result stays rigid.

    With ``S = (s, R, t)`` taking frame a to frame b, ``T_a_cam`` becomes
    ``T_b_cam = [R R_a_cam | s R t_a_cam + t]``: the camera frame keeps unit scale, so depths
    measured in frame a must be multiplied by ``s`` to stay consistent.
    """
    rot = np.einsum('ij,...jk->...ik', rotation, pose[..., :3, :3])
    trans = scale * np.einsum('ij,...j->...i', rotation, pose[..., :3, 3]) + translation
    return make_pose(rot, trans)


def transform_points(pose: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a [4, 4] transform to points [..., 3]."""
    return points @ pose[:3, :3].T + pose[:3, 3]


def so3_exp(rotvec: np.ndarray) -> np.ndarray:
    """Rotation vectors [..., 3] (axis times angle, radians) to rotation matrices [..., 3, 3]."""
    return Rotation.from_rotvec(np.asarray(rotvec, dtype=np.float64)).as_matrix()


def so3_log(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] to rotation vectors [..., 3] (radians, angle <= pi)."""
    return Rotation.from_matrix(np.asarray(rotation, dtype=np.float64)).as_rotvec()


def rotation_angle(rotation: np.ndarray) -> np.ndarray:
    """Angle (radians, in [0, pi]) of rotation matrices [..., 3, 3]."""
    return Rotation.from_matrix(np.asarray(rotation, dtype=np.float64)).magnitude()


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    """Convert xyzw quaternions [..., 4] (any non-zero norm) to rotation matrices [..., 3, 3]."""
    return Rotation.from_quat(np.asarray(quat, dtype=np.float64)).as_matrix()


def mat_to_quat(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] (det > 0) to unit xyzw quaternions [..., 4] with w >= 0."""
    return Rotation.from_matrix(np.asarray(rotation, dtype=np.float64)).as_quat(canonical=True)


def optical_to_ros(pose_x_optical: np.ndarray) -> np.ndarray:
    """Re-express ``T_x_optical`` [..., 4, 4] as ``T_x_body`` of a ROS body frame at the camera."""
    body_to_optical = make_pose(R_ROS_OPTICAL.T, np.zeros(3))
    return pose_x_optical @ body_to_optical


def ros_to_optical(pose_x_body: np.ndarray) -> np.ndarray:
    """Inverse of :func:`optical_to_ros`."""
    return pose_x_body @ make_pose(R_ROS_OPTICAL, np.zeros(3))


def mean_pose(poses: np.ndarray) -> np.ndarray:
    """Mean of rigid poses [N, 4, 4]: chordal L2 mean rotation, mean translation."""
    rotation = Rotation.from_matrix(poses[:, :3, :3]).mean().as_matrix()
    return make_pose(rotation, poses[:, :3, 3].mean(0))
