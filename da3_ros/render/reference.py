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

"""Pure-torch reference rasterizer of 3D Gaussians with gsplat's conventions (CPU and tests).

Why our own: gsplat compiles CUDA kernels and cannot run on the CPU. This module reproduces what
``gsplat.rasterization`` (1.5.3, ``rasterize_mode='classic'``, pinhole, ``packed=False``) computes
for one pixel, in plain tensors, so the CPU path and the tests use the same conventions:

- projection: camera-space mean m = R x + t; culled unless ``near <= z <= far``; EWA Jacobian with
  the tangent clamped to 1.3x the half field of view; 2D covariance + ``eps2d`` (0.3 px) blur,
  culled when its determinant is <= 0; opacity-aware extent ``min(3.33, sqrt(2 ln(o / (1/255))))``;
  culled when entirely outside the image;
- quaternions are read (w, x, y, z) and normalised, covariance R S S^T R^T (the sign of a scale
  does not matter);
- colour: SH of degree <= 2 evaluated at the unit direction from the camera centre to the mean,
  plus 0.5, clamped at >= 0;
- compositing: front to back by camera z, at pixel centres (j + 0.5, i + 0.5);
  alpha = min(0.999, o exp(-sigma)), skipped when sigma < 0 or alpha < 1/255; a pixel stops
  before the Gaussian that would bring its transmittance to <= 1e-4.

Instead of gsplat's per-pixel loop it lists every (Gaussian, pixel) pair inside the Gaussian's
extent box (as gsplat's tiles bound the work), drops the skipped ones, and composites each pixel's
depth-ordered pairs with a segmented cumulative product. Costs O(pairs) memory per band of rows;
meant for small images, the CPU and tests; gsplat is the fast path.
"""
import torch

from da3_ros.model.gaussians import Gaussians
from da3_ros.model.sh import sh_basis
from da3_ros.render.types import RenderCameras, RenderOutput

ALPHA_THRESHOLD = 1.0 / 255.0
MAX_ALPHA = 0.999
TRANSMITTANCE_STOP = 1e-4
EPS2D = 0.3
NEAR, FAR = 0.01, 1e10
MAX_EXTENT = 3.33
BAND_ROWS = 32


def quat_wxyz_to_mat(quats: torch.Tensor) -> torch.Tensor:
    """[N, 4] (w, x, y, z), any norm -> [N, 3, 3].

    Torch, not scipy: the quaternions are tensors on the renderer's device (tested against
    scipy's ``Rotation.from_quat(..., scalar_first=True)``).
    """
    w, x, y, z = torch.nn.functional.normalize(quats, dim=-1).unbind(-1)
    rows = (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))
    return torch.stack(rows, dim=-1).reshape(quats.shape[:-1] + (3, 3))


def sh_colours(harmonics: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    """Colours [N, 3] (+0.5, >= 0) of harmonics [N, 3, K] seen along directions [N, 3]."""
    degree = int(round(harmonics.shape[-1] ** 0.5)) - 1
    basis = sh_basis(torch.nn.functional.normalize(dirs, dim=-1), degree)
    return torch.clamp_min((harmonics * basis[:, None]).sum(-1) + 0.5, 0.0)


def project(means, quats, scales, opacities, viewmat, k, width, height):
    """Per-Gaussian screen parameters for one camera.

    Returns:
        valid [N] bool, mean2d [N, 2], conic [N, 3] (a, b, c of the inverse 2D covariance),
        depth [N] camera z, radius [N, 2] in pixels.
    """
    rot, trans = viewmat[:3, :3], viewmat[:3, 3]
    mean_c = means @ rot.T + trans
    x, y, z = mean_c.unbind(-1)
    m = quat_wxyz_to_mat(quats) * scales[:, None, :]
    cov_c = rot @ (m @ m.transpose(-1, -2)) @ rot.T
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    safe_z = torch.where(z.abs() > 0, z, torch.ones_like(z))
    tx = safe_z * torch.clamp(x / safe_z, -(cx / fx + 0.3 * tan_x),
                              (width - cx) / fx + 0.3 * tan_x)
    ty = safe_z * torch.clamp(y / safe_z, -(cy / fy + 0.3 * tan_y),
                              (height - cy) / fy + 0.3 * tan_y)
    jac = torch.zeros(means.shape[0], 2, 3, dtype=means.dtype, device=means.device)
    jac[:, 0, 0], jac[:, 1, 1] = fx / safe_z, fy / safe_z
    jac[:, 0, 2], jac[:, 1, 2] = -fx * tx / safe_z ** 2, -fy * ty / safe_z ** 2
    cov2d = jac @ cov_c @ jac.transpose(-1, -2)
    a, b, c = cov2d[:, 0, 0] + EPS2D, cov2d[:, 0, 1], cov2d[:, 1, 1] + EPS2D
    det = a * c - b * b
    safe_det = torch.where(det > 0, det, torch.ones_like(det))
    conic = torch.stack([c / safe_det, -b / safe_det, a / safe_det], dim=-1)
    mean2d = torch.stack([fx * x / safe_z + cx, fy * y / safe_z + cy], dim=-1)
    extent = torch.clamp(torch.sqrt(2.0 * torch.log(
        torch.clamp_min(opacities, ALPHA_THRESHOLD) / ALPHA_THRESHOLD)), max=MAX_EXTENT)
    radius = torch.stack([torch.ceil(extent * torch.sqrt(torch.clamp_min(a, 0))),
                          torch.ceil(extent * torch.sqrt(torch.clamp_min(c, 0)))], dim=-1)
    inside = ((mean2d[:, 0] + radius[:, 0] > 0) & (mean2d[:, 0] - radius[:, 0] < width)
              & (mean2d[:, 1] + radius[:, 1] > 0) & (mean2d[:, 1] - radius[:, 1] < height))
    valid = ((z >= NEAR) & (z <= FAR) & (det > 0) & (opacities >= ALPHA_THRESHOLD) & inside
             & ((radius[:, 0] > 0) | (radius[:, 1] > 0)))
    return valid, mean2d, conic, z, radius


def _pairs(low, high, top, bottom, width):
    """(Gaussian, pixel row, pixel column) pairs: pixel centres inside each extent box.

    Only rows [top, bottom) are listed; boxes [low, high] are in pixels; rank order is kept.
    """
    x0 = torch.clamp(torch.ceil(low[:, 0] - 0.5), min=0).long()
    x1 = torch.clamp(torch.floor(high[:, 0] - 0.5), max=width - 1).long()
    y0 = torch.clamp(torch.ceil(low[:, 1] - 0.5), min=top).long()
    y1 = torch.clamp(torch.floor(high[:, 1] - 0.5), max=bottom - 1).long()
    cols, rows = torch.clamp(x1 - x0 + 1, min=0), torch.clamp(y1 - y0 + 1, min=0)
    counts = cols * rows
    gauss = torch.repeat_interleave(torch.arange(low.shape[0], device=low.device), counts)
    first = torch.cumsum(counts, 0) - counts
    local = torch.arange(gauss.shape[0], device=low.device) - first[gauss]
    return gauss, y0[gauss] + local // cols[gauss], x0[gauss] + local % cols[gauss]


def _composite(gauss, pix, mean2d, conic, opacity, values, width, pixels_total):
    """Front-to-back compositing of (Gaussian, pixel) pairs given in depth-rank order.

    Per pixel: alpha = min(0.999, o exp(-sigma)), skipped when sigma < 0 or alpha < 1/255; a
    Gaussian counts while the transmittance after it stays above 1e-4 (T only decreases, so this
    is gsplat's stop-before rule). Products are taken as sums of logs in float64.
    Returns (accumulated values [pixels_total, C], transmittance [pixels_total]).
    """
    px = (pix % width).to(mean2d.dtype) + 0.5
    py = (pix // width).to(mean2d.dtype) + 0.5
    dx, dy = mean2d[gauss, 0] - px, mean2d[gauss, 1] - py
    c = conic[gauss]
    sigma = 0.5 * (c[:, 0] * dx * dx + c[:, 2] * dy * dy) + c[:, 1] * dx * dy
    alpha = torch.clamp(opacity[gauss] * torch.exp(-sigma), max=MAX_ALPHA)
    live = (sigma >= 0) & (alpha >= ALPHA_THRESHOLD)
    gauss, pix, alpha = gauss[live], pix[live], alpha[live]
    order = torch.argsort(pix, stable=True)  # pairs were generated in depth-rank order
    gauss, pix, alpha = gauss[order], pix[order], alpha[order]
    log_keep = torch.log1p(-alpha.double())
    inclusive = torch.cumsum(log_keep, 0)
    starts = torch.ones_like(pix, dtype=torch.bool)
    starts[1:] = pix[1:] != pix[:-1]
    seg_start = torch.cummax(torch.where(starts, torch.arange(pix.shape[0], device=pix.device),
                                         torch.zeros_like(pix)), 0).values
    offset = (inclusive - log_keep)[seg_start]
    after = torch.exp(inclusive - offset)
    before = torch.exp(inclusive - log_keep - offset)
    keep = after > TRANSMITTANCE_STOP
    weight = (alpha.double() * before * keep).to(values.dtype)
    acc = values.new_zeros(pixels_total, values.shape[1])
    acc.index_add_(0, pix, weight[:, None] * values[gauss])
    trans = torch.ones(pixels_total, dtype=torch.float64, device=values.device)
    trans.scatter_reduce_(0, pix[keep], after[keep], reduce='amin')
    return acc, trans.to(values.dtype)


def render_reference(gaussians: Gaussians, cameras: RenderCameras,
                     background: torch.Tensor = None) -> RenderOutput:
    """Render Gaussians (batch 1; quaternions taken as (w, x, y, z)) into every camera."""
    means, quats = gaussians.means[0], gaussians.rotations[0]
    scales, opac = gaussians.scales[0], gaussians.opacities[0]
    colours, depths, alphas = [], [], []
    for view in range(cameras.viewmats.shape[0]):
        out = _render_view(means, quats, scales, opac, gaussians.harmonics[0], cameras, view)
        colour, depth, alpha = out
        if background is not None:
            colour = colour + (1.0 - alpha)[..., None] * background.to(colour)
        colours.append(colour)
        depths.append(depth)
        alphas.append(alpha)
    return RenderOutput(torch.stack(colours), torch.stack(depths), torch.stack(alphas))


def _render_view(means, quats, scales, opac, harmonics, cameras: RenderCameras, view: int):
    width, height = cameras.width, cameras.height
    valid, mean2d, conic, z, radius = project(means, quats, scales, opac, cameras.viewmats[view],
                                              cameras.intrinsics[view], width, height)
    idx = torch.nonzero(valid)[:, 0]
    idx = idx[torch.argsort(z[idx], stable=True)]
    colour = sh_colours(harmonics[idx], means[idx] - cameras.centres[view])
    values = torch.cat([colour, z[idx, None]], dim=-1)
    mean2d, conic, opac = mean2d[idx], conic[idx], opac[idx]
    low, high = mean2d - radius[idx], mean2d + radius[idx]  # [G, 2] extent (x, y)
    out = means.new_zeros(height * width, 4)
    trans = means.new_ones(height * width)
    for top in range(0, height, BAND_ROWS):
        bottom = min(top + BAND_ROWS, height)
        near = torch.nonzero((high[:, 1] > top) & (low[:, 1] < bottom))[:, 0]
        gauss, rows, cols = _pairs(low[near], high[near], top, bottom, width)
        pix = rows * width + cols
        acc, band_trans = _composite(gauss, pix, mean2d[near], conic[near], opac[near],
                                     values[near], width, out.shape[0])
        out += acc
        trans = torch.minimum(trans, band_trans)
    out = out.reshape(height, width, 4)
    alpha = 1.0 - trans.reshape(height, width)
    depth = out[..., 3] / torch.clamp_min(alpha, 1e-10)
    return out[..., :3], depth, alpha
