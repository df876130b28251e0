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

"""Patch embedding and the interpolated absolute position embedding (spec 2.2, 2.3)."""
import torch
from torch import nn
import torch.nn.functional as F

from da3_ros.errors import ConversionError

PATCH_SIZE = 14
PRETRAIN_GRID = 37  # 518 / 14
POS_INTERP_OFFSET = 0.1


class PatchEmbed(nn.Module):
    """Conv2d(3 -> C, 14, stride 14); [N, 3, H, W] -> [N, H/14 * W/14, C] row-major.

    The weights are upstream's ``Conv2d`` (same names and shapes), but the forward runs it as
    the matrix product it is: a stride equal to the kernel makes every patch one row of
    3 * 14 * 14 values. cuDNN has no fast kernel for a 14 x 14 stride-14 convolution with three
    input channels (on an H100, 115 us for da3-small's six 280 x 504 views and 283 us for
    da3-large's twelve, in a generic direct-convolution kernel); the product is one matmul.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed images x [N, 3, H, W]; a remainder of H or W past a multiple of 14 is dropped."""
        n, c, h, w = x.shape
        ph, pw = h // PATCH_SIZE, w // PATCH_SIZE
        if ph == 0 or pw == 0:
            # The convolution refused such inputs; an empty token grid would fail later, unclearly.
            raise ConversionError(f'image of {h}x{w} pixels is smaller than one '
                                  f'{PATCH_SIZE}x{PATCH_SIZE} patch')
        patches = x[:, :, :ph * PATCH_SIZE, :pw * PATCH_SIZE].reshape(
            n, c, ph, PATCH_SIZE, pw, PATCH_SIZE)
        # Rows in (c, ky, kx) order, the order of the conv weight's [C, 3, 14, 14] flattened.
        rows = patches.permute(0, 2, 4, 1, 3, 5).reshape(n, ph * pw, c * PATCH_SIZE ** 2)
        weight = self.proj.weight.reshape(self.proj.out_channels, -1)
        return F.linear(rows, weight, self.proj.bias)


def interpolate_pos_embed(pos_embed: torch.Tensor, h: int, w: int, square: bool) -> torch.Tensor:
    """Resize the stored 37x37 (+cls) embedding [1, 1370, C] to an h x w patch grid.

    Upstream passes ``scale_factor=((h + 0.1) / 37, (w + 0.1) / 37)`` to a bicubic resize rather
    than a target size; the source coordinates depend on that scale, so we must do the same.
    The 518 x 518 input (37 x 37 patches, square image) uses the table unchanged.
    """
    if h == PRETRAIN_GRID and w == PRETRAIN_GRID and square:
        return pos_embed
    cls_pos = pos_embed[:, :1]
    grid = pos_embed[:, 1:].float().reshape(1, PRETRAIN_GRID, PRETRAIN_GRID, -1)
    grid = grid.permute(0, 3, 1, 2)
    scale = ((h + POS_INTERP_OFFSET) / PRETRAIN_GRID, (w + POS_INTERP_OFFSET) / PRETRAIN_GRID)
    grid = F.interpolate(grid, scale_factor=scale, mode='bicubic', align_corners=False,
                         antialias=False)
    if tuple(grid.shape[-2:]) != (h, w):
        raise RuntimeError(f'pos-embed resize gave {tuple(grid.shape[-2:])}, wanted {(h, w)}')
    grid = grid.permute(0, 2, 3, 1).reshape(1, h * w, -1)
    return torch.cat([cls_pos.float(), grid], dim=1).to(pos_embed.dtype)
