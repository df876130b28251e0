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

"""DPT head of the mono and metric models: depth and sky (spec 4.2)."""
from typing import List, Sequence, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from da3_ros.model.dpt_blocks import (add_layer_rn, add_refinenets, fuse, make_projects,
                                      make_resize_layers, reassemble, upsample)


class DPT(nn.Module):
    """Tokens of 4 levels (already final-normed) -> depth [B, S, H, W], sky [B, S, H, W]."""

    def __init__(self, dim_in: int, features: int, out_channels: Sequence[int]) -> None:
        super().__init__()
        self.projects = make_projects(dim_in, out_channels)
        self.resize_layers = make_resize_layers(out_channels)
        self.scratch = nn.Module()
        add_layer_rn(self.scratch, out_channels, features)
        add_refinenets(self.scratch, features)
        self.scratch.output_conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
        self.scratch.output_conv2 = nn.Sequential(
            nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 1, 1))
        self.scratch.sky_output_conv2 = nn.Sequential(
            nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 1, 1))

    def forward(self, features: List[torch.Tensor], image_hw: Tuple[int, int]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """features: 4 x [B, S, N, C]; returns depth (exp) and sky (ReLU) [B, S, H, W]."""
        batch, views = features[0].shape[:2]
        grid = (image_hw[0] // 14, image_hw[1] // 14)
        levels = []
        for k, level_tokens in enumerate(features):
            x = reassemble(level_tokens.flatten(0, 1), grid, self.projects[k],
                           self.resize_layers[k], None)
            levels.append(getattr(self.scratch, f'layer{k + 1}_rn')(x))
        out = upsample(self.scratch.output_conv1(fuse(self.scratch, levels)), image_hw)
        depth = torch.exp(self.scratch.output_conv2(out)[:, 0])
        sky = F.relu(self.scratch.sky_output_conv2(out)[:, 0])
        return depth.unflatten(0, (batch, views)), sky.unflatten(0, (batch, views))
