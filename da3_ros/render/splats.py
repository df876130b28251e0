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

"""Moving Gaussians between frames, and Gaussians from a depth map for models without a head.

Rotations follow the renderer: the stored 4-vector is read as (w, x, y, z) by gsplat and by the
reference rasterizer (``da3_ros.render.reference``), as upstream DA3 hands its stored rotations
over. A rigid rotation R therefore left-multiplies that quaternion (Hamilton product in wxyz), so
every Gaussian turns with the scene exactly as the renderer will draw it.

``depth_splats`` is our own fallback for variants without a Gaussian head (every model except
da3-giant and da3nested-giant-large): one isotropic, nearly opaque Gaussian per pixel at the
predicted depth, coloured by the pixel (SH degree 0), about one pixel wide. It lets virtual
cameras and what-if views run with any variant; only the giant head's Gaussians carry learned
shapes, opacities and view-dependent colour.
"""
import torch

from da3_ros.model.gaussians import Gaussians
from da3_ros.model.pose_encoding import mat_to_quat
from da3_ros.model.sh import rotate_sh, SH_C0

SPLAT_OPACITY = 0.98
SPLAT_PIXEL_SCALE = 0.7  # std in pixels of a depth splat (adjacent splats overlap)


def quat_multiply_wxyz(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a * b of (w, x, y, z) quaternions [..., 4].

    Torch, not scipy: it turns every Gaussian's tensor on its device (tested against scipy's
    ``Rotation`` composition).
    """
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz,
                        aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx,
                        aw * bz + ax * by - ay * bx + az * bw], dim=-1)


def mat_to_quat_wxyz(rot: torch.Tensor) -> torch.Tensor:
    """Rotation [3, 3] -> unit (w, x, y, z) quaternion (float64 for accuracy)."""
    xyzw = mat_to_quat(rot.double())
    return xyzw[..., [3, 0, 1, 2]]


def transform_gaussians(gaussians: Gaussians, scale: float, rotation: torch.Tensor,
                        translation: torch.Tensor) -> Gaussians:
    """Apply ``x -> scale R x + t`` to every Gaussian (means, sizes, rotations, SH)."""
    rot = rotation.to(gaussians.means)
    means = scale * gaussians.means @ rot.T + translation.to(gaussians.means)
    q_rot = mat_to_quat_wxyz(rotation).to(gaussians.rotations)
    rotations = quat_multiply_wxyz(q_rot.expand_as(gaussians.rotations), gaussians.rotations)
    harmonics = gaussians.harmonics
    if harmonics.shape[-1] > 1:
        harmonics = rotate_sh(harmonics, rot)
    return Gaussians(means, gaussians.scales * scale, rotations, harmonics, gaussians.opacities)


def rescale_gaussians(gaussians: Gaussians, factor: float) -> Gaussians:
    """Scale positions and sizes about the origin (a change of units)."""
    return Gaussians(gaussians.means * factor, gaussians.scales * factor, gaussians.rotations,
                     gaussians.harmonics, gaussians.opacities)


def depth_splats(depth: torch.Tensor, rgb: torch.Tensor, intrinsics: torch.Tensor,
                 t_world_cam: torch.Tensor, keep: torch.Tensor = None) -> Gaussians:
    """One Gaussian per pixel (batch 1, N = S*H*W or the kept pixels).

    Args:
        depth: [S, H, W] z-depth.
        rgb: [S, H, W, 3] colours in [0, 1].
        intrinsics: [S, 3, 3] pixels of the depth map.
        t_world_cam: [S, 4, 4] camera-to-world (OpenCV).
        keep: optional [S, H, W] bool mask of pixels to keep (e.g. not sky, finite depth).
    """
    views, height, width = depth.shape
    dev, dt = depth.device, depth.dtype
    v, u = torch.meshgrid(torch.arange(height, device=dev, dtype=dt) + 0.5,
                          torch.arange(width, device=dev, dtype=dt) + 0.5, indexing='ij')
    k = intrinsics.to(dt)
    x = (u[None] - k[:, None, None, 0, 2]) / k[:, None, None, 0, 0]
    y = (v[None] - k[:, None, None, 1, 2]) / k[:, None, None, 1, 1]
    cam = torch.stack([x, y, torch.ones_like(x)], dim=-1) * depth[..., None]
    pose = t_world_cam.to(dt)
    means = torch.einsum('sij,shwj->shwi', pose[:, :3, :3], cam) + pose[:, None, None, :3, 3]
    focal = 0.5 * (k[:, 0, 0] + k[:, 1, 1])
    size = (depth * SPLAT_PIXEL_SCALE / focal[:, None, None])[..., None].expand(-1, -1, -1, 3)
    harmonics = ((rgb.to(dt) - 0.5) / SH_C0)[..., None]
    rotations = torch.zeros(views, height, width, 4, device=dev, dtype=dt)
    rotations[..., 0] = 1.0
    opacities = torch.full((views, height, width), SPLAT_OPACITY, device=dev, dtype=dt)
    mask = torch.isfinite(depth) & (depth > 0)
    if keep is not None:
        mask = mask & keep
    fields = [t[mask] for t in (means, size, rotations, harmonics, opacities)]
    return Gaussians(*(f[None] for f in fields))
