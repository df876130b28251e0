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

"""Trajectory and scale metrics against synthetic ground truth (numpy)."""
from typing import Tuple

import numpy as np

from da3_ros.geometry import align
from da3_ros.geometry import pose as pose_lib


def path_length(poses: np.ndarray) -> float:
    """Length (m) of the polyline of the translations of poses [N, 4, 4]."""
    return float(np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1).sum())


def ate(est: np.ndarray, gt: np.ndarray, with_scale: bool) -> Tuple[float, align.Sim3]:
    """Absolute trajectory error: RMS position error after one global SE(3) or Sim(3) fit.

    Args:
        est: estimated poses [N, 4, 4] (any frame).
        gt: ground-truth poses [N, 4, 4].
        with_scale: fit a similarity (relative-scale estimates) instead of a rigid transform.

    Returns:
        (RMS error in ground-truth units, the fitted est-to-gt transform).
    """
    fit = align.umeyama(est[:, :3, 3], gt[:, :3, 3], with_scale=with_scale)
    err = np.linalg.norm(fit.apply(est[:, :3, 3]) - gt[:, :3, 3], axis=1)
    return float(np.sqrt(np.mean(err ** 2))), fit


def rpe(est: np.ndarray, gt: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Relative pose errors between consecutive poses [N, 4, 4].

    Returns:
        (translation errors [N - 1] in metres, rotation errors [N - 1] in degrees).
    """
    rel_est = pose_lib.inverse(est[:-1]) @ est[1:]
    rel_gt = pose_lib.inverse(gt[:-1]) @ gt[1:]
    err = pose_lib.inverse(rel_gt) @ rel_est
    return (np.linalg.norm(err[:, :3, 3], axis=1),
            np.degrees(pose_lib.rotation_angle(err[:, :3, :3])))
