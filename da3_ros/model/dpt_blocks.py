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

"""Building blocks shared by the DPT and DualDPT heads (spec 4.1): reassemble and fusion.

Upsampling is always bilinear with ``align_corners=True``, as upstream.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from da3_ros.model.uv_embedding import add_uv_embedding


def upsample(x: torch.Tensor, size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
    """Bilinear, align_corners=True, to ``size`` or x2 when size is None."""
    if size is None:
        return F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


class ResidualConvUnit(nn.Module):
    """y = x + conv2(relu(conv1(relu(x)))), 3x3 convs with bias."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to x [N, f, h, w]."""
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class FeatureFusionBlock(nn.Module):
    """(top + RCU1(lateral)) -> RCU2 -> upsample -> 1x1 out_conv (upstream's order).

    The 1x1 out_conv runs before the upsampling: both are linear, a per-pixel channel map
    commutes with a resampling whose weights sum to 1 at every output pixel (bilinear does),
    and the bias passes through unchanged. Same values up to float rounding, with the 1x1
    convolution on the 4 times smaller map.
    """

    def __init__(self, features: int, has_residual: bool = True) -> None:
        super().__init__()
        if has_residual:
            self.resConfUnit1 = ResidualConvUnit(features)
        self.resConfUnit2 = ResidualConvUnit(features)
        self.out_conv = nn.Conv2d(features, features, 1)

    def forward(self, top: torch.Tensor, lateral: Optional[torch.Tensor] = None,
                size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Fuse top [N, f, h, w] with lateral; upsample to ``size`` (x2 when None)."""
        out = top if lateral is None else top + self.resConfUnit1(lateral)
        return upsample(self.out_conv(self.resConfUnit2(out)), size)


def make_projects(dim_in: int, out_channels: Sequence[int]) -> nn.ModuleList:
    """1x1 convs from token channels to each level's channels."""
    return nn.ModuleList(nn.Conv2d(dim_in, c, 1) for c in out_channels)


def make_resize_layers(out_channels: Sequence[int]) -> nn.ModuleList:
    """x4 transpose conv, x2 transpose conv, identity, stride-2 conv."""
    return nn.ModuleList([
        nn.ConvTranspose2d(out_channels[0], out_channels[0], 4, stride=4),
        nn.ConvTranspose2d(out_channels[1], out_channels[1], 2, stride=2),
        nn.Identity(),
        nn.Conv2d(out_channels[3], out_channels[3], 3, stride=2, padding=1),
    ])


def add_layer_rn(scratch: nn.Module, out_channels: Sequence[int], features: int) -> None:
    """scratch.layer{1..4}_rn: 3x3 convs without bias to ``features`` channels."""
    for level, channels in enumerate(out_channels, start=1):
        setattr(scratch, f'layer{level}_rn',
                nn.Conv2d(channels, features, 3, padding=1, bias=False))


def add_refinenets(scratch: nn.Module, features: int, suffix: str = '') -> None:
    """scratch.refinenet{1..4}<suffix>; refinenet4 has no lateral input."""
    for level in range(1, 5):
        setattr(scratch, f'refinenet{level}{suffix}',
                FeatureFusionBlock(features, has_residual=level != 4))


def fuse(scratch: nn.Module, levels: Sequence[torch.Tensor], suffix: str = '') -> torch.Tensor:
    """Run the refinenet chain 4 -> 1 on the layer_rn outputs; returns [N, f, 8h, 8w]."""
    l0, l1, l2, l3 = levels
    out = getattr(scratch, f'refinenet4{suffix}')(l3, size=l2.shape[-2:])
    out = getattr(scratch, f'refinenet3{suffix}')(out, l2, size=l1.shape[-2:])
    out = getattr(scratch, f'refinenet2{suffix}')(out, l1, size=l0.shape[-2:])
    return getattr(scratch, f'refinenet1{suffix}')(out, l0)


def reassemble(tokens: torch.Tensor, grid: Tuple[int, int], project: nn.Module,
               resize: nn.Module, image_hw: Optional[Tuple[int, int]]) -> torch.Tensor:
    """Map tokens [N, P, c] -> [N, c, h, w] -> project -> (+UV embed) -> resize."""
    x = tokens.permute(0, 2, 1).reshape(tokens.shape[0], tokens.shape[-1], grid[0], grid[1])
    x = project(x)
    if image_hw is not None:
        x = add_uv_embedding(x, image_hw)
    return resize(x)


class Permute(nn.Module):
    """Permute dimensions (lets a LayerNorm act on channels inside a Sequential)."""

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Permute x."""
        return x.permute(self.dims)
