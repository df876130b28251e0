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

"""Quaternion helpers against closed-form rotations and round trips."""
import numpy as np
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.quaternion import (matrix_to_quaternion, normalize_quaternion,
                                             quaternion_to_matrix, slerp, split_transform,
                                             transform_matrix)


def _yaw_quaternion(angle: float) -> np.ndarray:
    return np.array([0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)])


def _random_rotations(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [quaternion_to_matrix(rng.normal(size=4)) for _ in range(count)]


def test_yaw_quaternion_rotates_x_to_y():
    rotation = quaternion_to_matrix(_yaw_quaternion(np.pi / 2))
    np.testing.assert_allclose(rotation @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize('angle', [0.0, 0.3, np.pi / 2, np.pi - 1e-9, np.pi])
def test_matrix_quaternion_round_trip_near_pi(angle):
    for axis in np.eye(3):
        q = np.append(axis * np.sin(angle / 2), np.cos(angle / 2))
        back = matrix_to_quaternion(quaternion_to_matrix(q))
        assert back[3] >= 0.0
        assert min(np.abs(back - q).max(), np.abs(back + q).max()) < 1e-7


def test_matrix_quaternion_round_trip_random():
    for rotation in _random_rotations(50):
        np.testing.assert_allclose(quaternion_to_matrix(matrix_to_quaternion(rotation)),
                                   rotation, atol=1e-12)


def test_matrix_to_quaternion_rejects_reflection_and_bad_shape():
    with pytest.raises(ConversionError, match='not a rotation'):
        matrix_to_quaternion(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ConversionError, match='3x3'):
        matrix_to_quaternion(np.eye(4))


def test_normalize_rejects_zero_and_nan():
    with pytest.raises(ConversionError, match='zero norm'):
        normalize_quaternion([0, 0, 0, 0])
    with pytest.raises(ConversionError, match='finite'):
        normalize_quaternion([0, 0, np.nan, 1])


def test_slerp_halfway_and_shortest_arc():
    q0, q1 = _yaw_quaternion(0.0), _yaw_quaternion(np.pi / 2)
    np.testing.assert_allclose(slerp(q0, q1, 0.5), _yaw_quaternion(np.pi / 4), atol=1e-12)
    np.testing.assert_allclose(slerp(q0, -q1, 0.5), _yaw_quaternion(np.pi / 4), atol=1e-12)
    np.testing.assert_allclose(slerp(q0, q1, 0.0), q0, atol=1e-12)
    np.testing.assert_allclose(slerp(q0, q1, 1.0), q1, atol=1e-12)


def test_transform_split_round_trip():
    rotation = _random_rotations(1, seed=3)[0]
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = rotation, [1.0, -2.0, 0.5]
    translation, q = split_transform(matrix)
    np.testing.assert_allclose(transform_matrix(translation, q), matrix, atol=1e-12)


def test_split_transform_rejects_projective_row():
    matrix = np.eye(4)
    matrix[3, 0] = 1.0
    with pytest.raises(ConversionError, match='last row'):
        split_transform(matrix)
