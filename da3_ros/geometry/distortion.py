"""Lens distortion models of sensor_msgs/CameraInfo and undistortion remap grids (numpy).

Models (coefficient order as in CameraInfo.d):
- ``plumb_bob``: (k1, k2, p1, p2, k3) radial-tangential (OpenCV);
- ``rational_polynomial``: (k1, k2, p1, p2, k3, k4, k5, k6);
- ``equidistant``: (k1, k2, k3, k4) fisheye, ``theta_d = theta (1 + k1 theta^2 + ...)``.
Coordinates are normalised image coordinates (x, y) = (X / Z, Y / Z) of the OpenCV frame.
"""
from typing import Sequence, Tuple

import numpy as np

from da3_ros.errors import ConfigError

MODELS = ('none', 'plumb_bob', 'rational_polynomial', 'equidistant')


def _coeffs(model: str, coeffs: Sequence[float]) -> np.ndarray:
    sizes = {'none': 0, 'plumb_bob': 5, 'rational_polynomial': 8, 'equidistant': 4}
    if model not in sizes:
        raise ConfigError(f'distortion model {model!r} is not one of {MODELS!r}')
    out = np.zeros(sizes[model])
    given = np.asarray(coeffs, dtype=np.float64).ravel()[:sizes[model]]
    out[:len(given)] = given
    return out


def is_identity(model: str, coeffs: Sequence[float]) -> bool:
    """True when the model leaves every point unchanged."""
    return model == 'none' or not np.any(_coeffs(model, coeffs))


def distort(xy: np.ndarray, model: str, coeffs: Sequence[float]) -> np.ndarray:
    """Map undistorted normalised coordinates [..., 2] to distorted ones."""
    d = _coeffs(model, coeffs)
    x, y = xy[..., 0], xy[..., 1]
    if model == 'none':
        return np.array(xy, dtype=np.float64)
    if model == 'equidistant':
        r = np.hypot(x, y)
        theta = np.arctan(r)
        t2 = theta * theta
        theta_d = theta * (1 + t2 * (d[0] + t2 * (d[1] + t2 * (d[2] + t2 * d[3]))))
        factor = np.where(r > 1e-12, theta_d / np.maximum(r, 1e-12), 1.0)
        return xy * factor[..., None]
    r2 = x * x + y * y
    radial = 1 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))
    if model == 'rational_polynomial':
        radial = radial / (1 + r2 * (d[5] + r2 * (d[6] + r2 * d[7])))
    xd = x * radial + 2 * d[2] * x * y + d[3] * (r2 + 2 * x * x)
    yd = y * radial + d[2] * (r2 + 2 * y * y) + 2 * d[3] * x * y
    return np.stack([xd, yd], axis=-1)


def undistort(xy_d: np.ndarray, model: str, coeffs: Sequence[float],
              iterations: int = 30) -> np.ndarray:
    """Invert :func:`distort` by Newton iterations with a numerical Jacobian [..., 2]."""
    xy_d = np.asarray(xy_d, dtype=np.float64)
    xy = xy_d.copy()
    eps = 1e-7
    for _ in range(iterations):
        err = distort(xy, model, coeffs) - xy_d
        jx = (distort(xy + [eps, 0.0], model, coeffs) - distort(xy, model, coeffs)) / eps
        jy = (distort(xy + [0.0, eps], model, coeffs) - distort(xy, model, coeffs)) / eps
        det = jx[..., 0] * jy[..., 1] - jy[..., 0] * jx[..., 1]
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        dx = (jy[..., 1] * err[..., 0] - jy[..., 0] * err[..., 1]) / det
        dy = (-jx[..., 1] * err[..., 0] + jx[..., 0] * err[..., 1]) / det
        xy = xy - np.stack([dx, dy], axis=-1)
    return xy


def remap_grid(k_src: np.ndarray, src_hw: Tuple[int, int], model: str,
               coeffs: Sequence[float], k_out: np.ndarray,
               out_hw: Tuple[int, int]) -> np.ndarray:
    """Sampling grid [H_out, W_out, 2] for ``torch.nn.functional.grid_sample``.

    Output pixel (u, v) of an ideal pinhole camera ``k_out`` looks up the source image (size
    ``src_hw``, intrinsics ``k_src``, distortion ``model``) at the returned location, in
    grid_sample's normalised coordinates with ``align_corners=False``.
    """
    h_out, w_out = out_hw
    v, u = np.meshgrid(np.arange(h_out, dtype=np.float64), np.arange(w_out, dtype=np.float64),
                       indexing='ij')
    pix = np.stack([u, v, np.ones_like(u)], axis=-1)
    rays = pix @ np.linalg.inv(k_out).T
    xy = distort(rays[..., :2] / rays[..., 2:], model, coeffs)
    us = k_src[0, 0] * xy[..., 0] + k_src[0, 1] * xy[..., 1] + k_src[0, 2]
    vs = k_src[1, 1] * xy[..., 1] + k_src[1, 2]
    gx = (us + 0.5) / src_hw[1] * 2.0 - 1.0
    gy = (vs + 0.5) / src_hw[0] * 2.0 - 1.0
    return np.stack([gx, gy], axis=-1).astype(np.float32)
