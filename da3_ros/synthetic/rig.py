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

"""A six-camera driving rig and a smooth trajectory through the synthetic street.

Base frame: ROS body convention at the rear axle (x forward, y left, z up). Cameras are
OpenCV optical frames; ``T_base_cam`` takes camera points to the base frame. Intrinsics are
given at a nominal 1600 x 900 sensor and scaled to any render size.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from da3_ros.geometry import camera as cam_lib
from da3_ros.geometry import pose as pose_lib

FULL_HW = (900, 1600)

# name, (x, y, z) in metres, yaw in degrees (0 = forward, + = left), focal at 1600 x 900.
_RIG = (
    ('front', (3.6, 0.0, 1.6), 0.0, 1260.0),
    ('front_left', (3.2, 0.9, 1.5), 55.0, 1260.0),
    ('front_right', (3.2, -0.9, 1.5), -55.0, 1260.0),
    ('back', (-1.0, 0.0, 1.6), 180.0, 800.0),
    ('back_left', (0.6, 0.95, 1.5), 110.0, 1260.0),
    ('back_right', (0.6, -0.95, 1.5), -110.0, 1260.0),
)


@dataclass(frozen=True)
class RigCamera:
    """One rig camera: name, ``T_base_cam`` [4, 4] and intrinsics [3, 3] at ``FULL_HW``."""

    name: str
    t_base_cam: np.ndarray
    k_full: np.ndarray

    def intrinsics(self, size_hw: Tuple[int, int]) -> np.ndarray:
        """Intrinsics [3, 3] at render size ``size_hw``."""
        return cam_lib.resize_intrinsics(self.k_full, FULL_HW, size_hw)


def _yaw(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0, 0, 1.0]])


def driving_rig() -> Tuple[RigCamera, ...]:
    """Return the six cameras (front, front_left, front_right, back, back_left, back_right)."""
    cams = []
    for name, xyz, yaw, focal in _RIG:
        rot = _yaw(yaw) @ pose_lib.R_ROS_OPTICAL
        k = cam_lib.intrinsics_matrix(focal, focal, 799.5, 449.5)
        cams.append(RigCamera(name, pose_lib.make_pose(rot, xyz), k))
    return tuple(cams)


@dataclass(frozen=True)
class Trajectory:
    """Smooth S-curve drive along +x with gentle pitch/roll and height changes.

    Attributes:
        speed: forward speed (m/s).
        rate: keyframe rate (Hz).
        amplitude: lateral amplitude of the S-curve (m).
        wavelength: S-curve period along x (m).
    """

    speed: float = 5.0
    rate: float = 10.0
    amplitude: float = 2.0
    wavelength: float = 60.0

    def stamp(self, step: int) -> float:
        """Time (s) of timestep ``step``."""
        return step / self.rate

    def t_odom_base(self, step: int) -> np.ndarray:
        """Return base pose [4, 4] in the odometry (= world) frame at timestep ``step``."""
        x = self.speed * self.stamp(step)
        w = 2 * np.pi / self.wavelength
        y = self.amplitude * np.sin(w * x)
        heading = np.arctan(self.amplitude * w * np.cos(w * x))
        pitch = 0.01 * np.sin(0.3 * x)
        roll = 0.008 * np.sin(0.21 * x + 1.0)
        rot = pose_lib.so3_exp([0.0, 0.0, heading]) @ pose_lib.so3_exp([0.0, pitch, 0.0])
        rot = rot @ pose_lib.so3_exp([roll, 0.0, 0.0])
        return pose_lib.make_pose(rot, [x, y, 0.05 * np.sin(0.17 * x)])
