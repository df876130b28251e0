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

"""Quaternion and rigid-transform helpers in ROS conventions (numpy only).

Quaternions are ``[x, y, z, w]`` like ``geometry_msgs/Quaternion`` and tf2, Hamilton product,
active rotations. A transform ``T_parent_child`` is a 4x4 homogeneous matrix that maps points
given in the child frame into the parent frame, which is what a ``TransformStamped`` with
``header.frame_id = parent`` and ``child_frame_id = child`` carries.

The maths is scipy's (``scipy.spatial.transform``, through ``da3_ros.geometry.pose`` and
``Slerp``); this module adds what message conversion needs on top: validation that raises
``ConversionError`` with the offending value, and the sign convention of the results.
"""
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from da3_ros.errors import ConversionError
from da3_ros.geometry import pose

_NORM_TOL = 1e-6


def normalize_quaternion(q: np.ndarray) -> np.ndarray:
    """Return ``q`` as a unit float64 ``[x, y, z, w]``.

    Raises:
        ConversionError: when ``q`` is not 4 finite numbers or has (near) zero norm.
    """
    q = np.asarray(q, dtype=np.float64).reshape(-1)
    if q.shape != (4,) or not np.all(np.isfinite(q)):
        raise ConversionError(f'quaternion must be 4 finite numbers, got {q!r}')
    norm = float(np.linalg.norm(q))
    if norm < _NORM_TOL:
        raise ConversionError(f'quaternion has zero norm: {q!r}')
    return q / norm


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Convert ``[x, y, z, w]`` (normalised first) to a 3x3 rotation matrix."""
    return pose.quat_to_mat(normalize_quaternion(q))


def matrix_to_quaternion(rotation: np.ndarray) -> np.ndarray:
    """Convert a 3x3 rotation matrix to a unit ``[x, y, z, w]`` with ``w >= 0``.

    Raises:
        ConversionError: when the matrix is not 3x3, not finite or not a rotation.
    """
    r = np.asarray(rotation, dtype=np.float64)
    if r.shape != (3, 3) or not np.all(np.isfinite(r)):
        raise ConversionError(f'rotation must be a finite 3x3 matrix, got shape {r.shape}')
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-5) or np.linalg.det(r) < 0:
        raise ConversionError(f'matrix is not a rotation (R R^T != I or det < 0): {r.tolist()}')
    return pose.mat_to_quat(r)


def slerp(q0: np.ndarray, q1: np.ndarray, ratio: float) -> np.ndarray:
    """Spherical linear interpolation along the shorter arc (``ratio`` in [0, 1], 0 gives ``q0``).

    The result has the sign of the hemisphere of ``q0`` (q and -q are one rotation).
    """
    a, b = normalize_quaternion(q0), normalize_quaternion(q1)
    out = Slerp([0.0, 1.0], Rotation.from_quat([a, b]))(float(ratio)).as_quat()
    return -out if float(np.dot(out, a)) < 0.0 else out


def transform_matrix(translation: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Build a 4x4 ``T_parent_child`` from a translation (3,) and a quaternion ``[x, y, z, w]``."""
    t = np.asarray(translation, dtype=np.float64).reshape(-1)
    if t.shape != (3,) or not np.all(np.isfinite(t)):
        raise ConversionError(f'translation must be 3 finite numbers, got {t!r}')
    return pose.make_pose(quaternion_to_matrix(q), t)


def split_transform(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a 4x4 rigid transform into translation (3,) and quaternion ``[x, y, z, w]``.

    Raises:
        ConversionError: when the matrix is not a finite 4x4 rigid transform.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ConversionError(f'transform must be a finite 4x4 matrix, got shape {m.shape}')
    if not np.allclose(m[3], [0.0, 0.0, 0.0, 1.0]):
        raise ConversionError(f'transform last row must be [0, 0, 0, 1], got {m[3].tolist()}')
    return m[:3, 3].copy(), matrix_to_quaternion(m[:3, :3])
