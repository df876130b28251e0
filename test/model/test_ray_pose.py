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

"""Camera pose and intrinsics from a ray map: QL decomposition, recovery of a known camera."""
from model.rotations import random_rotations  # test/model helper (test/ is on sys.path)
import pytest
import torch

from da3_ros.model.ray_pose import ql_decomposition, ray_to_pose


def test_ql_decomposition_is_orthogonal_times_lower():
    mat = torch.randn(3, 3, generator=torch.Generator().manual_seed(5))
    q, low = ql_decomposition(mat)
    assert torch.allclose(q @ low, mat, atol=1e-5)
    assert torch.allclose(q @ q.T, torch.eye(3), atol=1e-5)
    assert torch.allclose(torch.triu(low, diagonal=1), torch.zeros(3, 3))
    assert torch.all(torch.diagonal(low) > 0)


def test_ray_pose_recovers_a_centred_camera():
    """Exact rays d = R K^-1 p and origin C give back R, C and the focal lengths."""
    rows, cols, height, width = 24, 32, 42, 56
    rot = random_rotations(1, seed=2)[0].float()
    centre = torch.tensor([0.3, -0.2, 1.5])
    fx_n, fy_n = 1.2, 1.1  # focal in units of half the image size
    xs = (2 * torch.arange(cols) + 1) / cols - 1
    ys = (2 * torch.arange(rows) + 1) / rows - 1
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    cam = torch.stack([xx / fx_n, yy / fy_n, torch.ones_like(xx)], dim=-1)
    direction = cam @ rot.T
    ray = torch.cat([direction, centre.expand(rows, cols, 3)], dim=-1)[None, None]
    torch.manual_seed(0)
    w2c, k = ray_to_pose(ray, torch.ones(1, 1, rows, cols), (height, width))
    assert torch.allclose(w2c[0, 0, :, :3], rot.T, atol=1e-4)
    assert torch.allclose(-rot @ w2c[0, 0, :, 3], centre, atol=1e-4)
    assert k[0, 0, 0, 0].item() == pytest.approx(fx_n * width / 2, rel=1e-4)
    assert k[0, 0, 1, 1].item() == pytest.approx(fy_n * height / 2, rel=1e-4)
    assert k[0, 0, 0, 2].item() == pytest.approx(width / 2, abs=1e-3)
