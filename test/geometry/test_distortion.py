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

"""Tests of da3_ros.geometry.distortion against closed-form cases and OpenCV's models.

OpenCV (the ``test`` extra) is the reference: ``cv2.projectPoints`` documents plumb_bob and
rational_polynomial (k1, k2, p1, p2, k3, k4, k5, k6), ``cv2.fisheye`` the equidistant model, and
``initUndistortRectifyMap`` gives, per output pixel, the source pixel that ``remap_grid`` finds.
"""
import cv2
import numpy as np
import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.geometry import camera, distortion


def test_equidistant_zero_coeffs_is_angle_mapping():
    xy = np.array([[0.5, 0.0], [0.0, -2.0], [1e-9, 0.0]])
    out = distortion.distort(xy, 'equidistant', [0, 0, 0, 0])
    # Fisheye without coefficients: image radius = incidence angle = atan(r).
    np.testing.assert_allclose(out[:, 0], [np.arctan(0.5), 0.0, 1e-9], atol=1e-15)
    np.testing.assert_allclose(out[1, 1], -np.arctan(2.0))


CASES = [
    ('plumb_bob', [-0.3, 0.1, 0.001, -0.002, -0.02]),
    ('rational_polynomial', [0.5, -0.1, 0.001, 0.001, 0.0, 0.7, -0.05, 0.01]),
    ('equidistant', [0.05, -0.01, 0.003, -0.001]),
]


def _cv2_distort(xy, model, coeffs):
    """Distorted normalised coordinates of the rays (x, y, 1) as OpenCV projects them (K = I)."""
    rays = np.concatenate([xy, np.ones_like(xy[:, :1])], axis=1)[:, None, :]
    zero, d = np.zeros(3), np.asarray(coeffs, dtype=np.float64)
    if model == 'equidistant':
        out, _ = cv2.fisheye.projectPoints(rays, zero, zero, np.eye(3), d)
    else:
        out, _ = cv2.projectPoints(rays, zero, zero, np.eye(3), d)
    return out[:, 0, :]


@pytest.mark.parametrize('model,coeffs', CASES)
def test_distort_matches_opencv(model, coeffs):
    xy = np.random.default_rng(0).uniform(-0.8, 0.8, size=(200, 2))
    np.testing.assert_allclose(distortion.distort(xy, model, coeffs),
                               _cv2_distort(xy, model, coeffs), atol=1e-10)


@pytest.mark.parametrize('model,coeffs', CASES)
def test_remap_grid_matches_opencv_maps(model, coeffs):
    src_hw, out_hw = (96, 128), (80, 100)
    k_src = camera.intrinsics_matrix(110.0, 105.0, 63.0, 48.5)
    k_out = camera.intrinsics_matrix(90.0, 90.0, 49.5, 39.5)
    grid = distortion.remap_grid(k_src, src_hw, model, coeffs, k_out, out_hw)
    init = cv2.fisheye.initUndistortRectifyMap if model == 'equidistant' \
        else cv2.initUndistortRectifyMap
    map_u, map_v = init(k_src, np.asarray(coeffs, dtype=np.float64), np.eye(3), k_out,
                        out_hw[::-1], cv2.CV_32FC1)
    # grid_sample with align_corners=False: pixel centre u sits at (u + 0.5) / W * 2 - 1.
    src_px = (grid.astype(np.float64) + 1.0) / 2.0 * [src_hw[1], src_hw[0]] - 0.5
    np.testing.assert_allclose(src_px, np.stack([map_u, map_v], axis=-1), atol=2e-3)


def test_unknown_model_raises():
    with pytest.raises(ConfigError, match='fisheye62'):
        distortion.distort(np.zeros((1, 2)), 'fisheye62', [])


def test_identity_remap_grid_reproduces_image():
    k = camera.intrinsics_matrix(20.0, 20.0, 15.5, 11.5)
    grid = distortion.remap_grid(k, (24, 32), 'plumb_bob', [0, 0, 0, 0, 0], k, (24, 32))
    img = torch.rand(1, 3, 24, 32, dtype=torch.float64)
    out = torch.nn.functional.grid_sample(img, torch.from_numpy(grid)[None].double(),
                                          align_corners=False)
    torch.testing.assert_close(out, img, atol=1e-5, rtol=0)
    assert distortion.is_identity('plumb_bob', [0, 0, 0, 0, 0])


def test_remap_grid_points_at_distorted_pixel():
    k = camera.intrinsics_matrix(100.0, 100.0, 63.5, 47.5)
    coeffs = [0.1, 0, 0, 0]
    grid = distortion.remap_grid(k, (96, 128), 'equidistant', coeffs, k, (96, 128))
    u, v = 100, 20
    xy = (np.array([u, v]) - [63.5, 47.5]) / 100.0
    xy_d = distortion.distort(xy, 'equidistant', coeffs)
    expect = xy_d * 100.0 + [63.5, 47.5]
    got = (grid[v, u] + 1.0) / 2.0 * [128, 96] - 0.5
    np.testing.assert_allclose(got, expect, atol=1e-3)
