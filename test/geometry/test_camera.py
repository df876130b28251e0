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

"""Tests of da3_ros.geometry.camera."""
import numpy as np
import pytest
import torch

from da3_ros.geometry import camera


def test_unproject_project_round_trip():
    k = camera.intrinsics_matrix(300.0, 310.0, 251.5, 139.5)
    depth = torch.rand(2, 28, 42, dtype=torch.float64) * 10 + 0.5
    kt = torch.from_numpy(np.stack([k, k * [[2], [2], [1]]]))
    points = camera.unproject_depth(depth, kt)
    uv, z = camera.project_points(points.reshape(2, -1, 3), kt)
    grid = camera.pixel_grid(28, 42, dtype=torch.float64)[..., :2].reshape(-1, 2)
    torch.testing.assert_close(uv, grid.expand(2, -1, -1), atol=1e-9, rtol=0)
    torch.testing.assert_close(z, depth.reshape(2, -1))


def test_unproject_batched_intrinsics_equal_each_camera_alone():
    k = camera.intrinsics_matrix(300.0, 310.0, 251.5, 139.5)
    kt = torch.from_numpy(np.stack([k, k * [[2], [2], [1]], k * [[0.5], [0.7], [1]]])).float()
    depth = torch.rand(3, 28, 42) * 10 + 0.5
    depth[1, 4, 5] = float('nan')
    points = camera.unproject_depth(depth, kt)
    assert points.shape == (3, 28, 42, 3) and points.is_contiguous()
    for b in range(3):
        torch.testing.assert_close(points[b], camera.unproject_depth(depth[b], kt[b]),
                                   rtol=0, atol=0, equal_nan=True)
    assert torch.isnan(points[1, 4, 5]).all() and torch.isfinite(points[0]).all()
    shared = camera.unproject_depth(depth, kt[1])  # one K for every map
    torch.testing.assert_close(shared[2], camera.unproject_depth(depth[2], kt[1]),
                               rtol=0, atol=0)


def test_project_behind_camera_is_not_finite():
    uv, _ = camera.project_points(torch.tensor([[0.0, 0.0, -1.0]]),
                                  torch.eye(3))
    assert not torch.isfinite(uv).any()


def test_resize_intrinsics_matches_pixel_centres():
    k = camera.intrinsics_matrix(400.0, 400.0, 319.5, 239.5)
    k2 = camera.resize_intrinsics(k, (480, 640), (240, 320))
    # Centre pixel stays the image centre; focal halves.
    np.testing.assert_allclose(k2[:2, 2], [159.5, 119.5])
    np.testing.assert_allclose([k2[0, 0], k2[1, 1]], [200.0, 200.0])
    # A 3D point projects to the pixel whose centre covers the same image-plane spot.
    x = np.array([0.3, -0.2, 2.0])
    u_full = (k @ x)[:2] / x[2]
    u_half = (k2 @ x)[:2] / x[2]
    np.testing.assert_allclose((u_full + 0.5) / 2.0 - 0.5, u_half)
    upstream = camera.scale_intrinsics(k, 0.5, 0.5, half_pixel=False)
    np.testing.assert_allclose(upstream[:2, 2], [159.75, 119.75])


def test_crop_and_fov():
    k = camera.intrinsics_matrix(300.0, 300.0, 100.0, 50.0)
    np.testing.assert_allclose(camera.crop_intrinsics(k, 10, 5)[:2, 2], [90.0, 45.0])
    assert np.isclose(camera.fov_to_focal(np.pi / 2, 600), 300.0)


def test_transform_points_batch():
    pose = torch.eye(4, dtype=torch.float64).repeat(2, 1, 1)
    pose[1, :3, 3] = torch.tensor([1.0, 2.0, 3.0])
    pts = torch.zeros(2, 4, 5, 3, dtype=torch.float64)
    out = camera.transform_points_torch(pose, pts)
    torch.testing.assert_close(out[1, 2, 3], torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert float(out[0].abs().max()) == 0.0


def test_intrinsics_inverse_equals_the_matrix_inverse():
    rng = np.random.default_rng(4)
    k = np.zeros((5, 3, 3))
    k[:, 0, 0], k[:, 1, 1] = rng.uniform(50, 2000, 5), rng.uniform(50, 2000, 5)
    k[:, 0, 1] = rng.uniform(-5, 5, 5)  # skew
    k[:, 0, 2], k[:, 1, 2] = rng.uniform(-100, 900, 5), rng.uniform(-100, 600, 5)
    k[:, 2, 2] = [1.0, 1.0, 2.0, 0.5, 1.0]
    got = camera.intrinsics_inverse(torch.tensor(k))
    np.testing.assert_allclose(got.numpy(), np.linalg.inv(k), rtol=1e-12, atol=1e-15)
    assert got.shape == (5, 3, 3) and got.dtype == torch.float64
    one = camera.intrinsics_inverse(torch.tensor(k[0], dtype=torch.float32))
    np.testing.assert_allclose(one.numpy(), np.linalg.inv(k[0]), rtol=1e-5, atol=1e-9)


def test_unproject_with_a_given_inverse_equals_unproject_with_k():
    k = torch.tensor([[300.0, 0.5, 40.0], [0.0, 280.0, 30.0], [0.0, 0.0, 1.0]],
                     dtype=torch.float64)
    depth = torch.rand(2, 20, 30, dtype=torch.float64) + 1.0
    torch.testing.assert_close(camera.unproject_depth(depth, k_inv=torch.linalg.inv(k)),
                               camera.unproject_depth(depth, k), rtol=1e-12, atol=1e-12)
    for both in ({}, {'k': k, 'k_inv': k}):
        with pytest.raises(ValueError, match='exactly one'):
            camera.unproject_depth(depth, **both)
