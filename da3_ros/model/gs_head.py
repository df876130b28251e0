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

"""Gaussian-splatting head of the giant any-view model (``gs_head``; upstream GSDPT).

A DPT without the token LayerNorm: 4 token levels -> UV-embedded projections -> fusion ->
full-resolution features, plus an image branch (``images_merger``) on the normalised input, then
38 channels per pixel. Channels 0-36 are the raw Gaussian parameters (layout in
``da3_ros.model.gaussians``), channel 37 is the density logit.
"""
from typing import List, Sequence, Tuple

import torch
from torch import nn

from da3_ros.model.dpt_blocks import (add_layer_rn, add_refinenets, fuse, make_projects,
                                      make_resize_layers, reassemble, upsample)
from da3_ros.model.uv_embedding import add_uv_embedding

RAW_CHANNELS = 37
OUTPUT_DIM = RAW_CHANNELS + 1
FRAMES_PER_CHUNK = 8


def _images_merger(out_dim: int) -> nn.Sequential:
    """3 -> out/4 -> out/2 -> out, 3x3 convs each followed by GELU."""
    widths = [3, out_dim // 4, out_dim // 2, out_dim]
    layers: List[nn.Module] = []
    for i in range(3):
        layers += [nn.Conv2d(widths[i], widths[i + 1], 3, padding=1), nn.GELU()]
    return nn.Sequential(*layers)


class GaussianHead(nn.Module):
    """Tokens [B, S, N, dim_in] x 4 and images [B, S, 3, H, W] -> raw [B, S, H, W, 37], density.

    The density is ``sigmoid`` of channel 37, [B, S, H, W]. Runs in the caller's dtype (fp32).
    """

    def __init__(self, dim_in: int, features: int, out_channels: Sequence[int]) -> None:
        super().__init__()
        self.projects = make_projects(dim_in, out_channels)
        self.resize_layers = make_resize_layers(out_channels)
        self.scratch = nn.Module()
        add_layer_rn(self.scratch, out_channels, features)
        add_refinenets(self.scratch, features)
        self.scratch.output_conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
        self.scratch.output_conv2 = nn.Sequential(
            nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, OUTPUT_DIM, 1))
        self.images_merger = _images_merger(features // 2)

    def forward(self, features: List[torch.Tensor], images: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """features: 4 x [B, S, N, dim_in]; images: [B, S, 3, H, W] ImageNet-normalised."""
        batch, views = images.shape[:2]
        image_hw = (images.shape[-2], images.shape[-1])
        flat = [f.flatten(0, 1) for f in features]
        pixels = images.flatten(0, 1)
        chunks = [self._frames([f[i:i + FRAMES_PER_CHUNK] for f in flat],
                               pixels[i:i + FRAMES_PER_CHUNK], image_hw)
                  for i in range(0, pixels.shape[0], FRAMES_PER_CHUNK)]
        logits = torch.cat(chunks, dim=0).unflatten(0, (batch, views))
        raw = logits[:, :, :RAW_CHANNELS].permute(0, 1, 3, 4, 2)
        return raw, torch.sigmoid(logits[:, :, RAW_CHANNELS])

    def _frames(self, tokens: List[torch.Tensor], images: torch.Tensor,
                image_hw: Tuple[int, int]) -> torch.Tensor:
        grid = (image_hw[0] // 14, image_hw[1] // 14)
        levels = []
        for k, level_tokens in enumerate(tokens):
            x = reassemble(level_tokens, grid, self.projects[k], self.resize_layers[k], image_hw)
            levels.append(getattr(self.scratch, f'layer{k + 1}_rn')(x))
        out = upsample(self.scratch.output_conv1(fuse(self.scratch, levels)), image_hw)
        out = add_uv_embedding(out + self.images_merger(images), image_hw)
        return self.scratch.output_conv2(out)
