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

Costs O(pixels x overlapping Gaussians) memory per band of rows: meant for small images.
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
BAND_ROWS = 16


def quat_wxyz_to_mat(quats: torch.Tensor) -> torch.Tensor:
    """[N, 4] (w, x, y, z), any norm -> [N, 3, 3]."""
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


def _composite(pixels, mean2d, conic, opacity, values):
    """Front-to-back compositing of depth-sorted Gaussians at pixel centres [P, 2].

    Returns (accumulated values [P, C], alpha [P]).
    """
    if mean2d.shape[0] == 0:
        return (pixels.new_zeros(pixels.shape[0], values.shape[1]),
                pixels.new_zeros(pixels.shape[0]))
    delta = mean2d[None] - pixels[:, None]
    dx, dy = delta[..., 0], delta[..., 1]
    sigma = 0.5 * (conic[:, 0] * dx * dx + conic[:, 2] * dy * dy) + conic[:, 1] * dx * dy
    alpha = torch.clamp(opacity[None] * torch.exp(-sigma), max=MAX_ALPHA)
    alpha = torch.where((sigma < 0) | (alpha < ALPHA_THRESHOLD), torch.zeros_like(alpha), alpha)
    after = torch.cumprod(1.0 - alpha, dim=1)
    before = torch.cat([torch.ones_like(after[:, :1]), after[:, :-1]], dim=1)
    keep = torch.cumsum((after <= TRANSMITTANCE_STOP).to(torch.int32), dim=1) == 0
    weight = alpha * before * keep
    transmittance = torch.where(keep, after, torch.full_like(after, 2.0)).amin(dim=1)
    transmittance = torch.minimum(transmittance, torch.ones_like(transmittance))
    return weight @ values, 1.0 - transmittance


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
    out = torch.zeros(height, width, 4, dtype=means.dtype, device=means.device)
    alpha = torch.zeros(height, width, dtype=means.dtype, device=means.device)
    cols = torch.arange(width, dtype=means.dtype, device=means.device) + 0.5
    for top in range(0, height, BAND_ROWS):
        rows = torch.arange(top, min(top + BAND_ROWS, height), dtype=means.dtype,
                            device=means.device) + 0.5
        lo, hi = mean2d[idx, 1] - radius[idx, 1], mean2d[idx, 1] + radius[idx, 1]
        near_band = (hi > rows[0] - 0.5) & (lo < rows[-1] + 0.5)
        sel = torch.nonzero(near_band)[:, 0]
        grid = torch.stack(torch.meshgrid(rows, cols, indexing='ij'), dim=-1).reshape(-1, 2)
        grid = grid[:, [1, 0]]
        acc, acc_alpha = _composite(grid, mean2d[idx[sel]], conic[idx[sel]], opac[idx[sel]],
                                    values[sel])
        out[top:top + rows.shape[0]] = acc.reshape(rows.shape[0], width, 4)
        alpha[top:top + rows.shape[0]] = acc_alpha.reshape(rows.shape[0], width)
    depth = out[..., 3] / torch.clamp_min(alpha, 1e-10)
    return out[..., :3], depth, alpha
