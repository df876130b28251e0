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

"""DualDPT head of the any-view models: depth + confidence and the ray map (spec 4.1)."""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from da3_ros.model.dpt_blocks import (add_layer_rn, add_refinenets, fuse, make_projects,
                                      make_resize_layers, Permute, reassemble, upsample)
from da3_ros.model.uv_embedding import add_uv_embedding

FRAMES_PER_CHUNK = 8


def _aux_output_conv1(features: int) -> nn.Sequential:
    half = features // 2
    widths = [features, half, features, half, features, half]
    return nn.Sequential(*(nn.Conv2d(widths[i], widths[i + 1], 3, padding=1) for i in range(5)))


def _aux_output_conv2(features: int, shared_norm: nn.LayerNorm) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(features // 2, 32, 3, padding=1), Permute((0, 2, 3, 1)), shared_norm,
        Permute((0, 3, 1, 2)), nn.ReLU(), nn.Conv2d(32, 7, 1))


class DualDPT(nn.Module):
    """Tokens of 4 levels -> depth [.., H, W], depth_conf, ray [.., 8h, 8w, 6], ray_conf."""

    def __init__(self, dim_in: int, features: int, out_channels: Sequence[int]) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim_in, eps=1e-5)
        self.projects = make_projects(dim_in, out_channels)
        self.resize_layers = make_resize_layers(out_channels)
        self.scratch = nn.Module()
        add_layer_rn(self.scratch, out_channels, features)
        add_refinenets(self.scratch, features)
        add_refinenets(self.scratch, features, '_aux')
        self.scratch.output_conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
        self.scratch.output_conv2 = nn.Sequential(
            nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 2, 1))
        self.scratch.output_conv1_aux = nn.ModuleList(
            _aux_output_conv1(features) for _ in range(4))
        # Upstream shares ONE LayerNorm(32) object between the four aux output stacks.
        shared_norm = nn.LayerNorm(32, eps=1e-5)
        self.scratch.output_conv2_aux = nn.ModuleList(
            _aux_output_conv2(features, shared_norm) for _ in range(4))

    def forward(self, features: List[torch.Tensor], image_hw: Tuple[int, int],
                with_ray: bool = True) -> Tuple[Optional[torch.Tensor], ...]:
        """features: 4 x [B, S, N, dim_in]; returns depth, depth_conf, ray, ray_conf.

        ``with_ray=False`` skips the ray branch (its refinenets and output convs, about half of
        the head) and returns None for ray and ray_conf: the engine needs them only to recover
        poses from rays.
        """
        batch, views = features[0].shape[:2]
        flat = [f.flatten(0, 1) for f in features]
        outputs = [self._frames([f[i:i + FRAMES_PER_CHUNK] for f in flat], image_hw, with_ray)
                   for i in range(0, flat[0].shape[0], FRAMES_PER_CHUNK)]
        unflat = (batch, views)
        return tuple(None if parts[0] is None else torch.cat(parts, dim=0).unflatten(0, unflat)
                     for parts in zip(*outputs))

    def _frames(self, tokens: List[torch.Tensor], image_hw: Tuple[int, int],
                with_ray: bool = True):
        grid = (image_hw[0] // 14, image_hw[1] // 14)
        levels = []
        for k, level_tokens in enumerate(tokens):
            x = reassemble(self.norm(level_tokens), grid, self.projects[k],
                           self.resize_layers[k], image_hw)
            levels.append(getattr(self.scratch, f'layer{k + 1}_rn')(x))
        main = self.scratch.output_conv1(fuse(self.scratch, levels))
        main = add_uv_embedding(upsample(main, image_hw), image_hw)
        logits = self.scratch.output_conv2(main)
        depth = torch.exp(logits[:, 0])
        conf = torch.exp(logits[:, 1]) + 1.0
        if not with_ray:
            return depth, conf, None, None
        aux = self.scratch.output_conv1_aux[3](fuse(self.scratch, levels, '_aux'))
        aux = self.scratch.output_conv2_aux[3](add_uv_embedding(aux, image_hw))
        ray = aux[:, :6].permute(0, 2, 3, 1)
        ray_conf = torch.exp(aux[:, 6]) + 1.0
        return depth, conf, ray, ray_conf
