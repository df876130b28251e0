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

"""Camera pose and intrinsics from the DualDPT ray map (``use_ray_pose``; spec 6).

Per view: a weighted RANSAC homography from the canonical image plane to the ray directions,
a QL factorisation into rotation and intrinsics, and the confidence-weighted mean ray origin
as the camera centre. The QL step (not RQ) is kept exactly as upstream: it is only unbiased for
centred principal points, and "fixing" it would change the official outputs.
"""
from typing import Tuple

import torch

from da3_ros.model.pose_encoding import affine_inverse

RANSAC_ITERS = 100
RANSAC_SUBSET = 8
CANDIDATE_RATIO = 0.3
INLIER_THRESHOLD = 0.2
MAX_REFIT_POINTS = 8000
Z_THRESHOLD = 1e-4


def _canonical_points(rows: int, cols: int, device: torch.device) -> torch.Tensor:
    """Cell centres of a [0, 2]^2 image minus the centre: [rows * cols, 2] (x, y)."""
    xs = (2 * torch.arange(cols, device=device, dtype=torch.float32) + 1) / cols - 1
    ys = (2 * torch.arange(rows, device=device, dtype=torch.float32) + 1) / rows - 1
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([xx, yy], dim=-1).reshape(-1, 2)


def weighted_homography(src: torch.Tensor, dst: torch.Tensor,
                        weight: torch.Tensor) -> torch.Tensor:
    """Weighted DLT for batches: src, dst [..., K, 2], weight [..., K] -> H [..., 3, 3]."""
    root = weight.sqrt()[..., None]
    x, y = src[..., 0:1], src[..., 1:2]
    u, v = dst[..., 0:1], dst[..., 1:2]
    zero = torch.zeros_like(x)
    rows_u = torch.cat([-x * root, -y * root, -root, zero, zero, zero,
                        x * u * root, y * u * root, u * root], dim=-1)
    rows_v = torch.cat([zero, zero, zero, -x * root, -y * root, -root,
                        x * v * root, y * v * root, v * root], dim=-1)
    system = torch.cat([rows_u, rows_v], dim=-2)
    vh = torch.linalg.svd(system).Vh
    hom = vh[..., -1, :].reshape(vh.shape[:-2] + (3, 3))
    return hom / hom[..., 2:3, 2:3]


def _reprojection_error(hom: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Reprojection error of hom [I, 3, 3], src/dst [N, 2] -> error [I, N]."""
    src_h = torch.cat([src, torch.ones_like(src[:, :1])], dim=-1)
    proj = src_h[None] @ hom.transpose(1, 2)
    proj = proj[..., :2] / proj[..., 2:3]
    return ((proj - dst[None]) ** 2).sum(-1).sqrt()


def ransac_homography(src: torch.Tensor, dst: torch.Tensor, weight: torch.Tensor,
                      subsets: torch.Tensor) -> torch.Tensor:
    """One view: src/dst [N, 2], weight [N], subsets [iters, 8] into the top candidates."""
    n_sample = max(RANSAC_SUBSET, int(src.shape[0] * CANDIDATE_RATIO))
    candidates = torch.argsort(weight, descending=True)[:n_sample]
    picked = candidates[subsets]
    hyps = weighted_homography(src[picked], dst[picked], weight[picked])
    inliers = _reprojection_error(hyps, src, dst) < INLIER_THRESHOLD
    score = (inliers * weight[None]).sum(dim=1)
    best = inliers[torch.argmax(score)]
    in_src, in_dst, in_w = src[best], dst[best], weight[best]
    order = torch.argsort(in_w, descending=True)
    if order.numel() > MAX_REFIT_POINTS:
        order = order[:max(int(order.numel() * 0.95), MAX_REFIT_POINTS)]
        order = order[torch.randperm(order.numel(), device=order.device)[:MAX_REFIT_POINTS]]
    return weighted_homography(in_src[order], in_dst[order], in_w[order])


def ql_decomposition(mat: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Factor mat [3, 3] = Q @ L with L lower triangular and a positive diagonal."""
    exchange = torch.flip(torch.eye(3, device=mat.device, dtype=mat.dtype), dims=[0])
    q_tilde, r_tilde = torch.linalg.qr(mat @ exchange)
    q = q_tilde @ exchange
    low = exchange @ r_tilde @ exchange
    signs = torch.sign(torch.diagonal(low))
    return q * signs[None, :], low * signs[:, None]


def ray_to_pose(ray: torch.Tensor, ray_conf: torch.Tensor, image_hw: Tuple[int, int]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Ray map [B, S, h, w, 6] (dir, origin) + conf [B, S, h, w] -> (w2c [B,S,3,4], K [B,S,3,3]).

    Uses the global torch RNG (one subset table shared by all views, like upstream); seed it
    for reproducible output.
    """
    batch, views, rows, cols, _ = ray.shape
    rays = ray.float().reshape(batch * views, rows * cols, 6)
    weight = ray_conf.float().reshape(batch * views, rows * cols).clone()
    n_sample = max(RANSAC_SUBSET, int(rows * cols * CANDIDATE_RATIO))
    subsets = torch.stack([torch.randperm(n_sample, device=ray.device)[:RANSAC_SUBSET]
                           for _ in range(RANSAC_ITERS)])
    src = _canonical_points(rows, cols, ray.device)
    rotations, intrinsics = [], []
    for view in range(rays.shape[0]):
        direction = rays[view, :, :3]
        valid = direction[:, 2].abs() > Z_THRESHOLD
        dst = torch.where(valid[:, None], direction[:, :2] / direction[:, 2:3], direction[:, :2])
        weight[view] = torch.where(valid, weight[view], torch.zeros_like(weight[view]))
        hom = ransac_homography(src, dst, weight[view], subsets)
        if torch.linalg.det(hom) < 0:
            hom = -hom
        rot, low = ql_decomposition(hom)
        low = low / low[2, 2]
        rotations.append(rot)
        intrinsics.append(_intrinsics(low, image_hw))
    centres = (rays[..., 3:] * weight[..., None]).sum(1) / weight.sum(-1, keepdim=True)
    c2w = torch.cat([torch.stack(rotations), centres[..., None]], dim=-1)
    w2c = affine_inverse(c2w).reshape(batch, views, 3, 4)
    return w2c, torch.stack(intrinsics).reshape(batch, views, 3, 3)


def _intrinsics(low: torch.Tensor, image_hw: Tuple[int, int]) -> torch.Tensor:
    height, width = image_hw
    k = torch.zeros(3, 3, dtype=low.dtype, device=low.device)
    k[0, 0] = (1.0 / low[0, 0]) * width / 2
    k[1, 1] = (1.0 / low[1, 1]) * height / 2
    k[0, 2] = (low[2, 0] + 1.0) * width / 2
    k[1, 2] = (low[2, 1] + 1.0) * height / 2
    k[2, 2] = 1.0
    return k
