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

"""3D Gaussians from the Gaussian head's raw channels (upstream ``gs_adapter``).

Raw channel layout per pixel (37 + 1 density): xy offset 0-1 (pixels), scale 2-4, quaternion
5-8, SH 9-35 ([colour, coefficient], degree 2), depth offset 36; density -> opacity.

One Gaussian per pixel per view, N = S*H*W ordered view, row, column, placed with the
**predicted** cameras in the predicted world frame (= the reference camera, OpenCV axes):

- mean = C + R_c2w d t, with d the unit ray through the offset pixel centre and t = depth + r36
  a distance along the ray (it may be negative: those Gaussians sit behind their camera);
- scale = (1e-5 + (30 - 1e-5) sigmoid(r2..4)) t 0.1 (1/fx + 1/fy), signed like t;
- rotation = R_c2w R_cam as a unit quaternion stored (x, y, z, w), w >= 0, where R_cam is the
  rotation of the normalised raw quaternion (a, b, c, d) read with scalar c and vector (d, a, b)
  (upstream's channel convention; renderers take the stored 4-vector as given);
- harmonics = raw SH x [1, 0.025 x3, 0.00625 x5], rotated band by band into the world frame;
- opacity = the density.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import nn

from da3_ros.model.pose_encoding import affine_inverse, mat_to_quat, quat_to_mat
from da3_ros.model.sh import rotate_sh

SH_DEGREE = 2
SCALE_MIN = 1e-5
SCALE_MAX = 30.0
SCALE_MULTIPLIER = 0.1
QUAT_EPS = 1e-8
POSE_SCALE_RANGE = (1.0 / 3.0, 3.0)


@dataclass
class Gaussians:
    """A batch of 3D Gaussians; B = batch, N = Gaussians (S*H*W for the head's output).

    Attributes:
        means: [B, N, 3] centres in the world frame.
        scales: [B, N, 3] standard deviations along the rotated axes (linear, not log).
        rotations: [B, N, 4] unit quaternions laid out (x, y, z, w) as upstream stores them.
        harmonics: [B, N, 3, K] SH coefficients (colour, coefficient), K = (degree + 1)^2,
            3DGS real basis; colour = SH(d) + 0.5 with d the unit viewing direction.
        opacities: [B, N] in [0, 1].
    """

    means: torch.Tensor
    scales: torch.Tensor
    rotations: torch.Tensor
    harmonics: torch.Tensor
    opacities: torch.Tensor

    def select(self, index: torch.Tensor) -> 'Gaussians':
        """Get the Gaussians at ``index`` (a boolean mask [N] or indices) of every batch entry."""
        return Gaussians(self.means[:, index], self.scales[:, index], self.rotations[:, index],
                         self.harmonics[:, index], self.opacities[:, index])

    def to(self, *args, **kwargs) -> 'Gaussians':
        """Move/cast every field (``torch.Tensor.to`` arguments)."""
        return Gaussians(*(getattr(self, f).to(*args, **kwargs) for f in
                           ('means', 'scales', 'rotations', 'harmonics', 'opacities')))


def sh_mask(degree: int, device: torch.device) -> torch.Tensor:
    """[1, 0.1/4 x3, 0.1/16 x5][:K]: small view-dependent terms at the raw output's scale."""
    mask = torch.ones((degree + 1) ** 2, dtype=torch.float32, device=device)
    for level in range(1, degree + 1):
        mask[level ** 2:(level + 1) ** 2] = 0.1 * 0.25 ** level
    return mask


def pose_scale(predicted_w2c: torch.Tensor, given_w2c: torch.Tensor) -> torch.Tensor:
    """Umeyama Sim(3) scale [B] from predicted to given camera centres, clamped to [1/3, 3].

    Upstream aligns with evo (no RANSAC) and falls back to 1 when it raises: fewer than two
    cameras or coincident centres. With two cameras the scale is the ratio of the baselines.
    """
    est = affine_inverse(predicted_w2c.float())[..., :3, 3].double()
    ref = affine_inverse(given_w2c.float())[..., :3, 3].double()
    scales = []
    for est_b, ref_b in zip(est, ref):
        x, y = est_b - est_b.mean(0), ref_b - ref_b.mean(0)
        var_x = (x * x).sum(-1).mean()
        if est_b.shape[0] < 2 or float(var_x) <= 0.0:
            scales.append(torch.ones((), dtype=torch.float64, device=est.device))
            continue
        u, sig, vh = torch.linalg.svd(y.T @ x / est_b.shape[0])
        sign = torch.ones(3, dtype=torch.float64, device=est.device)
        if float(torch.det(u) * torch.det(vh)) < 0:
            sign[2] = -1.0
        scales.append((sig * sign).sum() / var_x)
    return torch.stack(scales).clamp(*POSE_SCALE_RANGE).to(predicted_w2c.dtype)


def _pixel_rays(raw_xy: torch.Tensor, intr_normed: torch.Tensor, image_hw: Tuple[int, int]
                ) -> torch.Tensor:
    """Return unit camera rays [B, S, H, W, 3] through pixel centres + raw_xy offsets (pixels)."""
    height, width = image_hw
    dev, dt = raw_xy.device, raw_xy.dtype
    u = (torch.arange(width, device=dev, dtype=dt) + 0.5) / width
    v = (torch.arange(height, device=dev, dtype=dt) + 0.5) / height
    grid = torch.stack(torch.meshgrid(u, v, indexing='xy'), dim=-1)
    xy = grid + raw_xy / torch.tensor((width, height), dtype=dt, device=dev)
    homog = torch.cat([xy, torch.ones_like(xy[..., :1])], dim=-1)
    inv_k = torch.linalg.inv(intr_normed.float()).to(dt)
    dirs = torch.einsum('bsij,bshwj->bshwi', inv_k, homog)
    return dirs / dirs.norm(dim=-1, keepdim=True)


class GaussianAdapter(nn.Module):
    """Raw head channels -> world :class:`Gaussians` (no parameters; upstream ``gs_adapter``)."""

    def forward(self, raw: torch.Tensor, density: torch.Tensor, depth: torch.Tensor,
                extrinsics: torch.Tensor, intrinsics: torch.Tensor,
                given_extrinsics: Optional[torch.Tensor] = None) -> Gaussians:
        """Build Gaussians (fp32).

        Args:
            raw: [B, S, H, W, 37] raw channels.
            density: [B, S, H, W] in [0, 1].
            depth: [B, S, H, W] predicted depth of the branch the head belongs to.
            extrinsics: [B, S, 3|4, 4] predicted w2c.
            intrinsics: [B, S, 3, 3] predicted, in pixels.
            given_extrinsics: [B, S, 4, 4] the conditioning poses, if any; they only rescale.
        """
        height, width = raw.shape[2:4]
        c2w = affine_inverse(extrinsics)
        rot, centre = c2w[..., :3, :3], c2w[..., :3, 3]
        intr_normed = intrinsics.clone()
        intr_normed[..., 0, :] /= width
        intr_normed[..., 1, :] /= height
        gs_depth = depth + raw[..., 36]
        if given_extrinsics is not None and not torch.equal(
                _homogeneous(extrinsics), _homogeneous(given_extrinsics)):
            sigma = pose_scale(extrinsics, given_extrinsics)
            centre = centre * sigma[:, None, None]
            gs_depth = gs_depth * sigma[:, None, None, None]
        rays = _pixel_rays(raw[..., 0:2], intr_normed, (height, width))
        world_rays = torch.einsum('bsij,bshwj->bshwi', rot, rays)
        means = centre[:, :, None, None] + world_rays * gs_depth[..., None]
        pixel = 1.0 / torch.tensor((width, height), dtype=raw.dtype, device=raw.device)
        inv_k2 = torch.linalg.inv(intr_normed[..., :2, :2].float()).to(raw.dtype)
        multiplier = SCALE_MULTIPLIER * (inv_k2 @ pixel).sum(-1)
        scales = SCALE_MIN + (SCALE_MAX - SCALE_MIN) * torch.sigmoid(raw[..., 2:5])
        scales = scales * gs_depth[..., None] * multiplier[:, :, None, None, None]
        quat = raw[..., 5:9]
        quat = quat / (quat.norm(dim=-1, keepdim=True) + QUAT_EPS)
        rot_cam = quat_to_mat(quat[..., [3, 0, 1, 2]])
        rotations = mat_to_quat(rot[:, :, None, None] @ rot_cam)
        harmonics = raw[..., 9:36].unflatten(-1, (3, 9)) * sh_mask(SH_DEGREE, raw.device)
        harmonics = rotate_sh(harmonics, rot[:, :, None, None])
        opacities = 0.5 * (1.0 - (1.0 - density) + density)
        flat = (lambda t: t.flatten(1, 3))
        return Gaussians(flat(means), flat(scales), flat(rotations), flat(harmonics),
                         flat(opacities))


def _homogeneous(w2c: torch.Tensor) -> torch.Tensor:
    """[..., 3|4, 4] -> [..., 4, 4]."""
    if w2c.shape[-2] == 4:
        return w2c
    bottom = torch.zeros_like(w2c[..., :1, :])
    bottom[..., 0, 3] = 1.0
    return torch.cat([w2c, bottom], dim=-2)
