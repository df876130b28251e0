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

"""World-frame 3D Gaussians of the output timestep (for virtual cameras, what-if views, export).

With a Gaussian head (da3-giant, da3nested-giant-large) the model's Gaussians of the output
timestep's views are taken; they live in the model's gauge at the any-view scale, scaled by the
pose-conditioning factor when known poses were given. We bring them to the gauge of the
predicted cameras (nested: x ``scale_factor``; posed: / that factor) and then, view by view,
into the engine's world frame along with that view's published pose and depth. Without a head,
``depth_splats`` of the output views stand in (see ``da3_ros.render.splats``).
"""
from typing import Optional, Sequence

import numpy as np
import torch

from da3_ros.engine.preprocess import MEAN, STD
from da3_ros.engine.scale import world_depth
from da3_ros.engine.types import ModelInput
from da3_ros.model.gaussians import Gaussians, pose_scale
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import has_gaussian_head
from da3_ros.render.splats import depth_splats, rescale_gaussians, transform_gaussians


def wants_head(variant: str, requested: bool) -> bool:
    """Whether the forward should run the Gaussian head."""
    return requested and has_gaussian_head(variant)


def denormalise(images: torch.Tensor) -> torch.Tensor:
    """ImageNet-normalised [S, 3, H, W] -> RGB [S, H, W, 3] in [0, 1]."""
    mean = torch.tensor(MEAN, device=images.device, dtype=torch.float32)
    std = torch.tensor(STD, device=images.device, dtype=torch.float32)
    return (images.float().permute(0, 2, 3, 1) * std + mean).clamp(0.0, 1.0)


def world_gaussians(pred: Prediction, inputs: ModelInput, sel: Sequence[int],
                    t_gauge_cam: np.ndarray, k_proc: np.ndarray,
                    t_world_cam: Sequence[np.ndarray], scale: float,
                    sky_threshold: float) -> Gaussians:
    """Gaussians of views ``sel`` in the engine's world frame (batch 1, on the device).

    Each view's Gaussians move with that view's published pose: gauge -> camera (the predicted
    pose), x ``scale`` (the window's gauge-to-world scale, as its depth), -> world (the output
    pose, known or aligned). So a virtual camera at a real camera's pose sees its depth.

    Args:
        pred: the window's prediction (gauge frame).
        inputs: the forward's inputs (images, and the given extrinsics if any).
        sel: indices of the output timestep's views in the window.
        t_gauge_cam: [S, 4, 4] camera-to-gauge poses of every window view.
        k_proc: [S, 3, 3] processed-pixel intrinsics of every window view.
        t_world_cam: output camera-to-world pose [4, 4] of each view in ``sel``.
        scale: gauge-to-world scale of the window.
        sky_threshold: depth splats skip pixels whose sky score reaches it.
    """
    sel = list(sel)
    if pred.gaussians is not None:
        head = _head_gaussians(pred, inputs, sel)
        per_view = head.means.shape[1] // len(sel)
        parts = []
        for j, i in enumerate(sel):
            part = head.select(torch.arange(j * per_view, (j + 1) * per_view,
                                            device=head.means.device))
            sim = _view_similarity(t_gauge_cam[i], t_world_cam[j], scale)
            parts.append(transform_gaussians(part, sim[0], torch.tensor(sim[1]),
                                             torch.tensor(sim[2])))
        return Gaussians(*(torch.cat([getattr(p, f) for p in parts], dim=1) for f in
                           ('means', 'scales', 'rotations', 'harmonics', 'opacities')))
    depth = world_depth(pred.depth[0, sel], scale)
    keep = None if pred.sky is None else pred.sky[0, sel] < sky_threshold
    dev = depth.device
    return depth_splats(depth, denormalise(inputs.images[sel]),
                        torch.tensor(k_proc[sel], dtype=torch.float32, device=dev),
                        torch.tensor(np.stack(t_world_cam), dtype=torch.float32, device=dev),
                        keep)


def _view_similarity(t_gauge_cam: np.ndarray, t_world_cam: np.ndarray, scale: float):
    """(s, R, t) taking gauge points of one view to world: T_world_cam s T_gauge_cam^-1."""
    rot = t_world_cam[:3, :3] @ t_gauge_cam[:3, :3].T
    return scale, rot, t_world_cam[:3, 3] - scale * rot @ t_gauge_cam[:3, 3]


def _head_gaussians(pred: Prediction, inputs: ModelInput, sel: Sequence[int]) -> Gaussians:
    views, height, width = pred.depth.shape[1:]
    per_view = height * width
    index = torch.cat([torch.arange(i * per_view, (i + 1) * per_view) for i in sel])
    gaussians = pred.gaussians.select(index.to(pred.gaussians.means.device))
    metric = 1.0 if pred.scale_factor is None else float(pred.scale_factor.reshape(-1)[0])
    factor = metric
    given = _given(inputs)
    if given is not None:  # the model scaled them by its pose factor, from its own cameras
        anyview = pred.extrinsics.float().clone()
        anyview[..., :3, 3] /= metric
        factor /= float(pose_scale(anyview, given)[0])
    return rescale_gaussians(gaussians, factor) if factor != 1.0 else gaussians


def _given(inputs: ModelInput) -> Optional[torch.Tensor]:
    return None if inputs.extrinsics is None else inputs.extrinsics[None].float()
