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

"""9-d pose encoding [T(3), q xyzw(4), fov_h, fov_w] <-> (camera-to-world, K) (spec 5.1).

All functions take and return torch tensors with arbitrary leading dims.
"""
from typing import Tuple

import torch

QUAT_FLOOR = 0.1
TAN_FLOOR = 1e-6


def quat_to_mat(quat: torch.Tensor) -> torch.Tensor:
    """Convert an xyzw quaternion [..., 4] (any norm) -> rotation [..., 3, 3]."""
    x, y, z, w = quat.unbind(-1)
    s = 2.0 / (quat * quat).sum(-1)
    rows = (
        1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w),
        s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w),
        s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y),
    )
    return torch.stack(rows, dim=-1).reshape(quat.shape[:-1] + (3, 3))


def mat_to_quat(rot: torch.Tensor) -> torch.Tensor:
    """Rotation [..., 3, 3] -> xyzw quaternion with w >= 0 (best-conditioned candidate)."""
    m = rot
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    mags = torch.sqrt(torch.clamp(torch.stack([
        1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
        1 - m00 + m11 - m22, 1 - m00 - m11 + m22], dim=-1), min=0.0))
    d21, d02, d10 = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], \
        m[..., 1, 0] - m[..., 0, 1]
    s10, s02, s21 = m[..., 1, 0] + m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], \
        m[..., 2, 1] + m[..., 1, 2]
    candidates = torch.stack([  # rows: candidate quaternions in (w, x, y, z)
        torch.stack([mags[..., 0] ** 2, d21, d02, d10], dim=-1),
        torch.stack([d21, mags[..., 1] ** 2, s10, s02], dim=-1),
        torch.stack([d02, s10, mags[..., 2] ** 2, s21], dim=-1),
        torch.stack([d10, s02, s21, mags[..., 3] ** 2], dim=-1),
    ], dim=-2)
    candidates = candidates / (2.0 * torch.clamp(mags, min=QUAT_FLOOR))[..., None]
    best = mags.argmax(dim=-1)
    wxyz = torch.gather(candidates, -2, best[..., None, None].expand(
        best.shape + (1, 4))).squeeze(-2)
    xyzw = wxyz[..., [1, 2, 3, 0]]
    return torch.where(xyzw[..., 3:] < 0, -xyzw, xyzw)


def affine_inverse(mat: torch.Tensor) -> torch.Tensor:
    """Inverse of a rigid [R | t] given as [..., 3, 4] or [..., 4, 4]; returns [..., 3, 4]."""
    rot_t = mat[..., :3, :3].transpose(-1, -2)
    trans = -(rot_t @ mat[..., :3, 3:4])
    return torch.cat([rot_t, trans], dim=-1)


def encode_pose(c2w: torch.Tensor, intrinsics: torch.Tensor,
                image_hw: Tuple[int, int]) -> torch.Tensor:
    """c2w [..., 3|4, 4] and K [..., 3, 3] -> encoding [..., 9]; principal point ignored."""
    height, width = image_hw
    quat = mat_to_quat(c2w[..., :3, :3])
    fov_h = 2 * torch.atan((height / 2) / intrinsics[..., 1, 1])
    fov_w = 2 * torch.atan((width / 2) / intrinsics[..., 0, 0])
    return torch.cat([c2w[..., :3, 3], quat, fov_h[..., None], fov_w[..., None]], dim=-1)


def decode_pose(encoding: torch.Tensor, image_hw: Tuple[int, int]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Decode [..., 9] -> (c2w [..., 3, 4], K [..., 3, 3]); principal point = image centre."""
    height, width = image_hw
    rot = quat_to_mat(encoding[..., 3:7])
    c2w = torch.cat([rot, encoding[..., :3, None]], dim=-1)
    fy = (height / 2) / torch.clamp(torch.tan(encoding[..., 7] / 2), min=TAN_FLOOR)
    fx = (width / 2) / torch.clamp(torch.tan(encoding[..., 8] / 2), min=TAN_FLOOR)
    intrinsics = torch.zeros(encoding.shape[:-1] + (3, 3), dtype=encoding.dtype,
                             device=encoding.device)
    intrinsics[..., 0, 0] = fx
    intrinsics[..., 1, 1] = fy
    intrinsics[..., 0, 2] = width / 2
    intrinsics[..., 1, 2] = height / 2
    intrinsics[..., 2, 2] = 1.0
    return c2w, intrinsics
