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

"""Pinhole camera maths: intrinsics bookkeeping (numpy) and dense (un)projection (torch).

Pixel convention: integer pixel (u, v) is the centre of column u, row v (OpenCV); the image
spans [-0.5, W - 0.5]. Camera frame: OpenCV optical (x right, y down, z forward); depth is z.
"""
from typing import Optional, Tuple

import numpy as np
import torch


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """3x3 pinhole matrix (no skew)."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def scale_intrinsics(k: np.ndarray, sx: float, sy: float, half_pixel: bool = True) -> np.ndarray:
    """Intrinsics [..., 3, 3] of an image resized by (sx, sy) = (new_w / old_w, new_h / old_h).

    ``half_pixel=True`` keeps pixel centres consistent with area/bilinear resampling that
    aligns image corners (``align_corners=False``): ``c' = (c + 0.5) s - 0.5``. Upstream DA3
    scales K without that correction (``half_pixel=False``).
    """
    out = np.array(k, dtype=np.float64, copy=True)
    out[..., 0, :] *= sx
    out[..., 1, :] *= sy
    if half_pixel:
        out[..., 0, 2] += 0.5 * sx - 0.5
        out[..., 1, 2] += 0.5 * sy - 0.5
    return out


def crop_intrinsics(k: np.ndarray, x0: float, y0: float) -> np.ndarray:
    """Intrinsics [..., 3, 3] after cropping an image at top-left (x0, y0)."""
    out = np.array(k, dtype=np.float64, copy=True)
    out[..., 0, 2] -= x0
    out[..., 1, 2] -= y0
    return out


def resize_intrinsics(k: np.ndarray, old_hw: Tuple[int, int], new_hw: Tuple[int, int],
                      half_pixel: bool = True) -> np.ndarray:
    """Intrinsics after resizing an image from ``old_hw`` to ``new_hw`` (height, width)."""
    return scale_intrinsics(k, new_hw[1] / old_hw[1], new_hw[0] / old_hw[0], half_pixel)


def fov_to_focal(fov: float, size: float) -> float:
    """Focal length (px) of a field of view (radians) spanning ``size`` pixels."""
    return (size / 2.0) / np.tan(fov / 2.0)


def pixel_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Homogeneous pixel centres [H, W, 3] = (u, v, 1)."""
    v, u = torch.meshgrid(torch.arange(height, device=device, dtype=dtype),
                          torch.arange(width, device=device, dtype=dtype), indexing='ij')
    return torch.stack([u, v, torch.ones_like(u)], dim=-1)


def intrinsics_inverse(k: torch.Tensor) -> torch.Tensor:
    """Inverse [..., 3, 3] of upper-triangular intrinsics [..., 3, 3], in closed form.

    Intrinsics are upper triangular (focal lengths and skew, principal point, last row
    (0, 0, k22)); their inverse is too, with the entries below. Unlike ``torch.linalg.inv``,
    which on CUDA checks its result on the host (a device synchronisation), this is a few
    element-wise kernels. Entries below the diagonal are taken as zero.
    """
    fx, skew, cx = k[..., 0, 0], k[..., 0, 1], k[..., 0, 2]
    fy, cy, last = k[..., 1, 1], k[..., 1, 2], k[..., 2, 2]
    zero = torch.zeros_like(fx)
    rows = (
        (1.0 / fx, -skew / (fx * fy), (skew * cy - cx * fy) / (fx * fy * last)),
        (zero, 1.0 / fy, -cy / (fy * last)),
        (zero, zero, 1.0 / last),
    )
    return torch.stack([torch.stack(row, -1) for row in rows], -2)


def unproject_depth(depth: torch.Tensor, k: Optional[torch.Tensor] = None, *,
                    k_inv: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Depth maps [..., H, W] and intrinsics [..., 3, 3] to camera-frame points [..., H, W, 3].

    ``k`` is one camera [3, 3] for every map or one per map (leading dimensions broadcast
    against ``depth``'s). All cameras' rays come from one batched matrix product; the points
    are contiguous with the camera outermost. Invalid depths (NaN) stay NaN in the points.
    Callers that hold the intrinsics on the host pass their inverse ``k_inv`` instead of ``k``
    (one upload, no inversion kernels).
    """
    if (k is None) == (k_inv is None):
        raise ValueError('unproject_depth takes exactly one of k and k_inv')
    if k_inv is None:
        k_inv = intrinsics_inverse(k.to(depth.dtype))
    height, width = depth.shape[-2:]
    pixels = pixel_grid(height, width, depth.device, depth.dtype).reshape(1, -1, 3)
    cameras = k_inv.to(depth.dtype).transpose(-1, -2).reshape(-1, 3, 3)
    rays = torch.bmm(pixels.expand(cameras.shape[0], -1, -1), cameras)
    return rays.reshape(*k_inv.shape[:-2], height, width, 3) * depth[..., None]


def project_points(points: torch.Tensor, k: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Camera-frame points [..., N, 3] to pixels [..., N, 2] and depths [..., N].

    Points at or behind the camera (z <= 0) give non-finite pixels.
    """
    z = points[..., 2]
    uvw = torch.einsum('...ij,...nj->...ni', k.to(points.dtype), points)
    with torch.no_grad():
        safe = torch.where(z > 0, z, torch.full_like(z, float('nan')))
    return uvw[..., :2] / safe[..., None], z


def transform_points_torch(pose: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply one transform [4, 4] to points [..., 3], or B transforms [B, 4, 4] to [B, ..., 3]."""
    pose = pose.to(points.dtype)
    if pose.dim() == 2:
        return points @ pose[:3, :3].T + pose[:3, 3]
    flat = points.reshape(pose.shape[0], -1, 3)
    out = flat @ pose[:, :3, :3].transpose(1, 2) + pose[:, None, :3, 3]
    return out.reshape(points.shape)
