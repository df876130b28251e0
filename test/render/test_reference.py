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

"""Reference rasterizer against analytic cases (gsplat conventions) and the backend interface."""
import math

import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model.gaussians import Gaussians
from da3_ros.model.sh import SH_C0, SH_C1
from da3_ros.render import render, RenderCameras, resolve_backend

FOCAL = 10.0
SIZE = 5  # odd: the principal point (2.5, 2.5) is the centre of pixel (2, 2)


def camera(size: int = SIZE) -> RenderCameras:
    k = torch.tensor([[FOCAL, 0.0, size / 2], [0.0, FOCAL, size / 2], [0.0, 0.0, 1.0]])
    return RenderCameras(torch.eye(4)[None], k[None], size, size)


def splats(means, scales, opacities, dc, quats=None, rest=None) -> Gaussians:
    """Gaussians from lists; dc: [N, 3] raw DC coefficients; rest: [N, 3, 8] or None."""
    means = torch.tensor(means, dtype=torch.float32)
    n = means.shape[0]
    harmonics = torch.zeros(n, 3, 9)
    harmonics[..., 0] = torch.tensor(dc, dtype=torch.float32)
    if rest is not None:
        harmonics[..., 1:] = rest
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]] * n) if quats is None else torch.tensor(quats)
    return Gaussians(means[None], torch.tensor(scales, dtype=torch.float32)[None], quats[None],
                     harmonics[None], torch.tensor(opacities, dtype=torch.float32)[None])


def colour_of(dc: float) -> float:
    return SH_C0 * dc + 0.5


def test_one_gaussian_footprint_centre_and_colour():
    depth, scale, opacity = 5.0, 0.4, 0.8
    out = render(splats([[0.0, 0.0, depth]], [[scale] * 3], [opacity], [[1.0, 0.0, -1.0]]),
                 camera(), 'reference')
    var = (FOCAL * scale / depth) ** 2 + 0.3  # EWA footprint + the 0.3 px blur
    ii, jj = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing='ij')
    expected = opacity * torch.exp(-0.5 * ((ii - 2.5) ** 2 + (jj - 2.5) ** 2) / var)
    expected = torch.where(expected < 1 / 255, torch.zeros_like(expected), expected)
    assert torch.allclose(out.alpha[0], expected, atol=1e-6)
    assert out.alpha[0, 2, 2] == pytest.approx(opacity)  # centre pixel, sigma = 0
    rgb = torch.tensor([colour_of(1.0), colour_of(0.0), max(colour_of(-1.0), 0.0)])
    assert torch.allclose(out.colour[0], expected[..., None] * rgb, atol=1e-6)
    drawn = expected > 0
    assert torch.allclose(out.depth[0][drawn], torch.full_like(out.depth[0][drawn], depth))
    assert torch.all(out.depth[0][~drawn] == 0)


def test_off_axis_mean_projects_to_its_pixel():
    # x/z = 1/FOCAL: one pixel to the right of the centre -> pixel (2, 3); y: one up -> row 1
    out = render(splats([[0.4, -0.4, 4.0]], [[0.05] * 3], [0.6], [[0.0, 0.0, 0.0]]),
                 camera(), 'reference')
    peak = int(torch.argmax(out.alpha[0]))
    assert divmod(peak, SIZE) == (1, 3) and out.alpha[0, 1, 3] == pytest.approx(0.6)


def test_nearer_gaussian_is_composited_first_whatever_the_input_order():
    far, near = [0.0, 0.0, 4.0], [0.0, 0.0, 2.0]
    gs = splats([far, near], [[0.5] * 3, [0.25] * 3], [0.9, 0.9],
                [[-1.0, -1.0, 1.0], [1.0, -1.0, -1.0]])  # far blue-ish, near red-ish
    out = render(gs, camera(), 'reference')
    blue = torch.tensor([colour_of(-1.0), colour_of(-1.0), colour_of(1.0)])
    red = torch.tensor([colour_of(1.0), colour_of(-1.0), colour_of(-1.0)])
    w_near, w_far = 0.9, 0.9 * (1 - 0.9)
    assert torch.allclose(out.colour[0, 2, 2], w_near * red + w_far * blue, atol=1e-6)
    assert out.alpha[0, 2, 2] == pytest.approx(1 - 0.1 * 0.1)
    assert out.depth[0, 2, 2] == pytest.approx((w_near * 2.0 + w_far * 4.0) / (w_near + w_far))


def test_transmittance_stop_and_alpha_clamp():
    gs = splats([[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]], [[0.3] * 3] * 2, [1.0, 1.0],
                [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    out = render(gs, camera(), 'reference')
    # alpha is clamped to 0.999; the second would leave T = 1e-6 <= 1e-4: the pixel stops first
    assert out.alpha[0, 2, 2] == pytest.approx(0.999)
    assert torch.allclose(out.colour[0, 2, 2], torch.full((3,), 0.999 * colour_of(1.0)))
    assert out.depth[0, 2, 2] == pytest.approx(2.0)


def test_sh_degree_one_adds_the_view_dependent_term():
    rest = torch.zeros(1, 3, 8)
    rest[0, :, 1] = torch.tensor([0.5, 0.0, -0.5])  # k = 2: C1 * z, and z = 1 on the axis
    out = render(splats([[0.0, 0.0, 3.0]], [[0.3] * 3], [0.5], [[0.0, 0.0, 0.0]], rest=rest),
                 camera(), 'reference')
    expected = 0.5 * torch.tensor([0.5 + SH_C1 * 0.5, 0.5, 0.5 - SH_C1 * 0.5])
    assert torch.allclose(out.colour[0, 2, 2], expected, atol=1e-6)


def test_quaternions_are_read_wxyz_and_scale_sign_is_irrelevant():
    quarter_turn_z = [[math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)]]
    wide_x = splats([[0.0, 0.0, 5.0]], [[1.5, 0.1, 0.1]], [0.9], [[0.0] * 3], quarter_turn_z)
    out = render(wide_x, camera(9), 'reference')
    column, row = out.alpha[0, :, 4], out.alpha[0, 4, :]
    assert column.sum() > 2 * row.sum()  # the long axis turned from image x to image y
    flipped = splats([[0.0, 0.0, 5.0]], [[-1.5, 0.1, -0.1]], [0.9], [[0.0] * 3], quarter_turn_z)
    assert torch.allclose(render(flipped, camera(9), 'reference').alpha, out.alpha)


def test_gaussians_behind_the_near_plane_are_not_drawn():
    out = render(splats([[0.0, 0.0, -2.0], [0.0, 0.0, 0.005]], [[1.0] * 3] * 2, [0.9, 0.9],
                        [[1.0] * 3] * 2), camera(), 'reference')
    assert torch.all(out.alpha == 0) and torch.all(out.colour == 0)


def test_backend_choice():
    assert resolve_backend('auto', torch.device('cpu')) == 'reference'
    with pytest.raises(ConfigError, match='splatter'):
        resolve_backend('splatter', torch.device('cpu'))
    with pytest.raises(ConfigError, match='CUDA'):
        render(splats([[0.0, 0.0, 1.0]], [[1.0] * 3], [0.5], [[0.0] * 3]), camera(), 'gsplat')


def test_quaternion_matrix_matches_scipy():
    from scipy.spatial.transform import Rotation

    from da3_ros.render.reference import quat_wxyz_to_mat
    quats = torch.randn(32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expect = Rotation.from_quat(quats.numpy(), scalar_first=True).as_matrix()
    torch.testing.assert_close(quat_wxyz_to_mat(quats), torch.from_numpy(expect), atol=1e-12,
                               rtol=0)
