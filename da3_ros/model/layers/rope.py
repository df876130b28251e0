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

"""2D rotary position embedding of the DA3 backbone (spec 2.6).

Each 64-d head vector is split into a y half and an x half of 32 dims; each half is rotated
NeoX-style (dimension i paired with i + 16) by angles ``p * 100^(-2k/32)``.
"""
import torch

ROPE_BASE = 100.0


def patch_positions(h: int, w: int, device: torch.device) -> torch.Tensor:
    """Return True (y, x) positions of [token0, patches...] for one view: [1 + h*w, 2] int64.

    Patch (r, c) gets (r + 1, c + 1); token 0 gets (0, 0).
    """
    ys = torch.arange(1, h + 1, device=device).repeat_interleave(w)
    xs = torch.arange(1, w + 1, device=device).repeat(h)
    grid = torch.stack([ys, xs], dim=-1)
    return torch.cat([torch.zeros(1, 2, dtype=torch.long, device=device), grid], dim=0)


def global_positions(n_patches: int, views: int, device: torch.device) -> torch.Tensor:
    """'No-diff' positions of a global block: [views * (1 + n_patches), 2], patches all (1, 1)."""
    one = torch.ones(1 + n_patches, 2, dtype=torch.long, device=device)
    one[0] = 0
    return one.repeat(views, 1)


def rope_tables(positions: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Cos/sin tables for positions [L, 2]: returns [2, L, head_dim] float32 (cos, sin)."""
    half = head_dim // 2
    exponents = torch.arange(0, half, 2, device=positions.device, dtype=torch.float32) / half
    inv_freq = 1.0 / (ROPE_BASE ** exponents)
    angles = []
    for axis in range(2):
        theta = positions[:, axis].to(torch.float32)[:, None] * inv_freq[None, :]
        angles.append(torch.cat([theta, theta], dim=-1))
    theta = torch.cat(angles, dim=-1)
    return torch.stack([theta.cos(), theta.sin()], dim=0)


def _rotate_half(u: torch.Tensor) -> torch.Tensor:
    first, second = u.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


def apply_rope(x: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
    """Rotate x [B, heads, L, head_dim] with tables [2, L, head_dim] from ``rope_tables``."""
    cos = tables[0].to(x.dtype)
    sin = tables[1].to(x.dtype)
    y_half, x_half = x.chunk(2, dim=-1)
    cos_y, cos_x = cos.chunk(2, dim=-1)
    sin_y, sin_x = sin.chunk(2, dim=-1)
    y_rot = y_half * cos_y + _rotate_half(y_half) * sin_y
    x_rot = x_half * cos_x + _rotate_half(x_half) * sin_x
    return torch.cat([y_rot, x_rot], dim=-1)
