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

"""Model-inputs stage: the forward's images, intrinsics and (when they apply) known poses.

Pose conditioning (spec 7.4) feeds the network camera poses it can trust: the metric odometry
poses of every view, or, for a single timestep without odometry, the rig extrinsics. They are
normalised as upstream does (relative to view 0, unit median camera distance) before they
condition the model; the scale they carry back is decided in ``engine.scale``.
"""
from typing import List, Optional

import numpy as np
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.engine.upload import to_device
from da3_ros.engine.window import WindowSpan
from da3_ros.geometry import pose as pose_lib

MIN_NORMALISED_RANGE = 0.1  # upstream's floor on the median camera distance


def conditioning_poses(span: WindowSpan) -> Optional[List[np.ndarray]]:
    """Every view's pose [4, 4] in one frame, or None: what pose conditioning can use.

    The metric odometry poses when every view has one; else, for the views of one timestep
    (a single-timestep window without odometry), the rig extrinsics ``T_base_cam`` (all in
    the base frame of that timestep) when every view has one.
    """
    if all(p is not None for p in span.known):
        return list(span.known)
    extrinsics = [m.t_base_cam for m in span.metas]
    if len(span.stamps) == 1 and all(e is not None for e in extrinsics):
        return extrinsics
    return None


def normalise_extrinsics(t_world_cam: np.ndarray) -> np.ndarray:
    """Upstream ``_normalize_extrinsics``: w2c [S, 4, 4] relative to view 0, unit median range.

    The translation scale is the lower median of the camera distances to view 0 (view 0
    included), clamped at ``MIN_NORMALISED_RANGE``.
    """
    w2c = pose_lib.inverse(t_world_cam)
    rel = w2c @ t_world_cam[0]
    dist = np.sort(np.linalg.norm(pose_lib.inverse(rel)[:, :3, 3], axis=1))
    scale = max(float(dist[(len(dist) - 1) // 2]), MIN_NORMALISED_RANGE)
    rel[:, :3, 3] /= scale
    return rel


def model_input(span: WindowSpan, conditioning: str, gaussians: bool) -> ModelInput:
    """Return the forward's inputs for the views of ``span``.

    Args:
        span: the step's views.
        conditioning: ``WindowConfig.pose_conditioning`` (``'auto'`` conditions when poses
            and intrinsics of every view are known).
        gaussians: run the model's Gaussian head.
    """
    have_k = all(m.k_proc is not None for m in span.metas)
    device = span.window.device
    intr = to_device(np.stack([m.k_proc for m in span.metas]), device,
                     torch.float32) if have_k else None
    extr, poses = None, conditioning_poses(span)
    if conditioning == 'auto' and have_k and poses is not None:
        extr = to_device(normalise_extrinsics(np.stack(poses)), device, torch.float32)
    return ModelInput(span.window.gather(span.views), extr, intr, tuple(span.keys), gaussians)
