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

"""Lens distortion models of sensor_msgs/CameraInfo and undistortion remap grids (numpy).

Models (coefficient order as in CameraInfo.d):
- ``plumb_bob``: (k1, k2, p1, p2, k3) radial-tangential (OpenCV);
- ``rational_polynomial``: (k1, k2, p1, p2, k3, k4, k5, k6);
- ``equidistant``: (k1, k2, k3, k4) fisheye, ``theta_d = theta (1 + k1 theta^2 + ...)``.
Coordinates are normalised image coordinates (x, y) = (X / Z, Y / Z) of the OpenCV frame.

Why not OpenCV's ``initUndistortRectifyMap``: these are the same models (test_distortion.py
checks ``distort`` against ``cv2.projectPoints`` / ``cv2.fisheye.projectPoints`` and
``remap_grid`` against the cv2 maps), but the engine needs ``grid_sample``'s normalised grid for
its GPU resampling, a grid is computed once per camera (speed is not at stake), and
``opencv-python`` would add a ~60 MB wheel to the runtime for twenty lines of polynomial.
OpenCV is therefore only a test dependency (the ``test`` extra).
"""
from typing import Sequence, Tuple

import numpy as np

from da3_ros.errors import ConfigError

# model -> number of coefficients in CameraInfo.d
COEFFICIENT_COUNTS = {'none': 0, 'plumb_bob': 5, 'rational_polynomial': 8, 'equidistant': 4}
MODELS = tuple(COEFFICIENT_COUNTS)


def _coeffs(model: str, coeffs: Sequence[float]) -> np.ndarray:
    if model not in COEFFICIENT_COUNTS:
        raise ConfigError(f'distortion model {model!r} is not one of {MODELS!r}')
    size = COEFFICIENT_COUNTS[model]
    out = np.zeros(size)
    given = np.asarray(coeffs, dtype=np.float64).ravel()[:size]
    out[:len(given)] = given
    return out


def is_identity(model: str, coeffs: Sequence[float]) -> bool:
    """Return True when the model leaves every point unchanged."""
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


def remap_grid(k_src: np.ndarray, src_hw: Tuple[int, int], model: str,
               coeffs: Sequence[float], k_out: np.ndarray,
               out_hw: Tuple[int, int]) -> np.ndarray:
    """Return sampling grid [H_out, W_out, 2] for ``torch.nn.functional.grid_sample``.

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
