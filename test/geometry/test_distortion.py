"""Tests of da3_ros.geometry.distortion against closed-form cases."""
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


def test_plumb_bob_radial_inverse_matches_cubic_root():
    k1 = -0.2
    r_d = 0.4
    roots = np.roots([k1, 0.0, 1.0, -r_d])
    closed = float(min(r.real for r in roots if abs(r.imag) < 1e-12 and r.real > 0))
    out = distortion.undistort(np.array([[r_d, 0.0]]), 'plumb_bob', [k1, 0, 0, 0, 0])
    np.testing.assert_allclose(out[0], [closed, 0.0], atol=1e-10)


@pytest.mark.parametrize('model,coeffs', [
    ('plumb_bob', [-0.3, 0.1, 0.001, -0.002, -0.02]),
    ('rational_polynomial', [0.5, -0.1, 0.001, 0.001, 0.0, 0.7, -0.05, 0.01]),
    ('equidistant', [0.05, -0.01, 0.003, -0.001]),
])
def test_distort_undistort_round_trip(model, coeffs):
    xy = np.random.default_rng(0).uniform(-0.8, 0.8, size=(100, 2))
    back = distortion.undistort(distortion.distort(xy, model, coeffs), model, coeffs)
    np.testing.assert_allclose(back, xy, atol=1e-9)


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
