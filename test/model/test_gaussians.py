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

"""Gaussian adapter: analytic placement on pixel rays, frame equivariance, pose scale, layout."""
from model.rotations import rotation  # test/model helper (test/ is on sys.path)
import pytest
import torch

from da3_ros.model.gaussians import GaussianAdapter, pose_scale
from da3_ros.model.pose_encoding import affine_inverse, mat_to_quat, quat_to_mat
from da3_ros.model.sh import sh_basis


def rigid(seed: int) -> torch.Tensor:
    """A random rigid transform [4, 4] (float32)."""
    out = torch.eye(4, dtype=torch.float64)
    out[:3, :3] = rotation(seed)
    out[:3, 3] = torch.randn(3, generator=torch.Generator().manual_seed(seed + 1))
    return out.float()


def cameras(views: int, seed: int = 0):
    """Predicted w2c [1, S, 3, 4] and K [1, S, 3, 3] for a 6 x 8 image."""
    c2w = torch.stack([rigid(seed + 10 * v) for v in range(views)])
    k = torch.tensor([[7.0, 0.0, 4.0], [0.0, 6.0, 3.0], [0.0, 0.0, 1.0]])
    return affine_inverse(c2w)[None], k.expand(1, views, 3, 3).clone()


def test_adapter_places_gaussians_on_pixel_rays():
    height, width = 6, 8
    w2c, k = cameras(2)
    raw = torch.zeros(1, 2, height, width, 37)
    raw[..., 7] = 1.0  # raw quaternion (0, 0, 1, 0) is the identity rotation in camera space
    raw[..., 9] = 0.4  # red DC
    depth = torch.full((1, 2, height, width), 2.0)
    density = torch.full((1, 2, height, width), 0.7)
    g = GaussianAdapter()(raw, density, depth, w2c, k)
    c2w = affine_inverse(w2c)[0]
    v, i, j = 1, 2, 5
    pix = torch.tensor([j + 0.5, i + 0.5, 1.0])
    ray = torch.linalg.solve(k[0, v], pix)
    expected = c2w[v, :, 3] + c2w[v, :, :3] @ (ray / ray.norm()) * 2.0
    n = v * height * width + i * width + j
    assert torch.allclose(g.means[0, n], expected, atol=1e-5)
    size = (1e-5 + (30 - 1e-5) * 0.5) * 2.0 * 0.1 * (1 / 7.0 + 1 / 6.0)
    assert torch.allclose(g.scales[0, n], torch.full((3,), size), rtol=1e-5)
    assert torch.allclose(quat_to_mat(g.rotations[0, n]), c2w[v, :, :3], atol=1e-5)
    assert torch.allclose(g.harmonics[0, n, :, 0], torch.tensor([0.4, 0.0, 0.0]))
    assert torch.allclose(g.opacities, torch.full((1, 2 * height * width), 0.7))
    assert g.means.shape == (1, 2 * height * width, 3) and g.harmonics.shape[-2:] == (3, 9)


def test_adapter_is_equivariant_to_a_change_of_world_frame():
    """A world frame the project was never tuned on: every field moves rigidly with it."""
    gen = torch.Generator().manual_seed(7)
    raw = torch.randn(1, 3, 6, 8, 37, generator=gen)
    depth = torch.rand(1, 3, 6, 8, generator=gen) + 0.5
    density = torch.rand(1, 3, 6, 8, generator=gen)
    w2c, k = cameras(3, seed=5)
    g_map = rigid(42)
    moved_w2c = affine_inverse(g_map @ torch.cat([affine_inverse(w2c)[0], torch.tensor(
        [[[0.0, 0.0, 0.0, 1.0]]]).expand(3, 1, 4)], dim=1))[None]
    adapter = GaussianAdapter()
    a = adapter(raw, density, depth, w2c, k)
    b = adapter(raw, density, depth, moved_w2c, k)
    assert torch.allclose(b.means[0], a.means[0] @ g_map[:3, :3].T + g_map[:3, 3], atol=1e-4)
    assert torch.allclose(b.scales, a.scales) and torch.allclose(b.opacities, a.opacities)
    rot_a, rot_b = quat_to_mat(a.rotations[0]), quat_to_mat(b.rotations[0])
    assert torch.allclose(rot_b, g_map[:3, :3] @ rot_a, atol=1e-4)
    dirs = torch.nn.functional.normalize(torch.randn(a.means.shape[1], 3, generator=gen), dim=-1)
    colour_a = (sh_basis(dirs)[:, None] * a.harmonics[0]).sum(-1)
    colour_b = (sh_basis(dirs @ g_map[:3, :3].T)[:, None] * b.harmonics[0]).sum(-1)
    assert torch.allclose(colour_a, colour_b, atol=1e-5)


def test_pose_scale_is_the_baseline_ratio_and_clamped():
    w2c, _ = cameras(2)
    c2w = affine_inverse(w2c)
    for factor, expected in ((2.0, 2.0), (10.0, 3.0), (0.01, 1.0 / 3.0)):
        given = c2w.clone()
        given[..., :3, 3] *= factor
        given44 = torch.cat([affine_inverse(given), torch.tensor(
            [0.0, 0.0, 0.0, 1.0]).expand(1, 2, 1, 4)], dim=-2)
        assert pose_scale(w2c, given44).item() == pytest.approx(expected, rel=1e-5)
    assert pose_scale(w2c[:, :1], w2c[:, :1] * 2).item() == 1.0  # one camera: no alignment


def test_stored_rotation_layout_is_xyzw_with_non_negative_w():
    raw = torch.randn(1, 1, 6, 8, 37, generator=torch.Generator().manual_seed(1))
    w2c, k = cameras(1)
    g = GaussianAdapter()(raw, torch.rand(1, 1, 6, 8), torch.ones(1, 1, 6, 8), w2c, k)
    assert bool((g.rotations[..., 3] >= 0).all())
    assert torch.allclose(g.rotations.norm(dim=-1), torch.ones(1, 48), atol=1e-5)
    assert torch.allclose(mat_to_quat(quat_to_mat(g.rotations)), g.rotations, atol=1e-5)
