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

"""Typed output of the DA3 network (tensors, processed resolution, OpenCV frames)."""
from dataclasses import dataclass, field
from typing import Dict, Optional

import torch

from da3_ros.model.gaussians import Gaussians


@dataclass
class Prediction:
    """What one DA3 forward returns; B = batch, S = views, H x W = processed image size.

    Attributes:
        depth: [B, S, H, W] z-depth along the OpenCV optical axis. Up to scale for the any-view
            models; metric (metres) for the nested model; raw network output for mono/metric.
        depth_conf: [B, S, H, W] confidence >= 1 (any-view and nested), else None.
        extrinsics: [B, S, 3, 4] OpenCV world-to-camera (``T_cam_world``), world = reference
            view's camera frame, or None for mono/metric.
        intrinsics: [B, S, 3, 3] in processed-image pixels, or None for mono/metric.
        sky: [B, S, H, W] sky score (ReLU output, >= 0) for mono/metric (nested: its metric
            model's), else None.
        ray: [B, S, 8H/14, 8W/14, 6] ray direction (0:3) and origin (3:6), any-view only.
        ray_conf: [B, S, 8H/14, 8W/14] ray confidence >= 1, any-view only.
        is_metric: True when depth is in metres (nested model).
        scale_factor: [1] nested-model scale applied to the any-view depth, else None.
        aux: exported backbone features, ``feat_layer_<i>`` -> [B, S, H/14, W/14, C].
        gaussians: world-frame Gaussians (N = S*H*W) when requested, else None; nested: in the
            any-view scale (before ``scale_factor``).
    """

    depth: torch.Tensor
    depth_conf: Optional[torch.Tensor] = None
    extrinsics: Optional[torch.Tensor] = None
    intrinsics: Optional[torch.Tensor] = None
    sky: Optional[torch.Tensor] = None
    ray: Optional[torch.Tensor] = None
    ray_conf: Optional[torch.Tensor] = None
    is_metric: bool = False
    scale_factor: Optional[torch.Tensor] = None
    aux: Dict[str, torch.Tensor] = field(default_factory=dict)
    gaussians: Optional[Gaussians] = None
