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

"""Real spherical harmonics (3DGS basis, degree <= 2) and the rotation of their coefficients.

The Gaussian adapter that uses them is tested in test_gaussians.py.
"""
import math

from model.rotations import rotation  # test/model helper (test/ is on sys.path)
import pytest
import torch

from da3_ros.model.sh import rotate_sh, sh_basis, SH_C2


def test_degree_zero_is_the_constant_dc_term():
    """Y_0 = 1 / (2 sqrt(pi)) everywhere, so degree 0 evaluates to the DC colour times it."""
    dirs = torch.nn.functional.normalize(torch.randn(7, 3, dtype=torch.float64), dim=-1)
    basis = sh_basis(dirs, degree=0)
    assert basis.shape == (7, 1)
    assert torch.allclose(basis, torch.full((7, 1), 0.5 / math.sqrt(math.pi), dtype=torch.float64))
    dc = torch.tensor([0.2, -0.5, 1.0], dtype=torch.float64)
    colour = (basis[:, None] * dc[None, :, None]).sum(-1)
    assert torch.allclose(colour, dc.expand(7, 3) * 0.5 / math.sqrt(math.pi))


def test_coefficient_counts_and_degree_range():
    dirs = torch.tensor([[0.0, 0.0, 1.0]])
    assert [sh_basis(dirs, d).shape[-1] for d in range(3)] == [1, 4, 9]
    with pytest.raises(ValueError, match='SH degree 3 is not in 0..2'):
        sh_basis(dirs, degree=3)


def test_degree_two_zonal_term_matches_the_textbook_form_on_unit_vectors():
    """The gsplat form ``0.946 z^2 - 0.315`` equals ``C2[2] (2 z^2 - x^2 - y^2)`` where |d| = 1."""
    dirs = torch.nn.functional.normalize(torch.randn(50, 3, dtype=torch.float64), dim=-1)
    x, y, z = dirs.unbind(-1)
    assert torch.allclose(sh_basis(dirs)[:, 6], SH_C2[2] * (2 * z * z - x * x - y * y),
                          atol=1e-12)


def test_sh_rotation_keeps_the_colour_of_each_direction():
    rot = rotation(3)
    coeffs = torch.randn(5, 3, 9, dtype=torch.float64)
    dirs = torch.nn.functional.normalize(torch.randn(5, 3, dtype=torch.float64), dim=-1)
    world = rotate_sh(coeffs, rot)
    before = (sh_basis(dirs)[:, None] * coeffs).sum(-1)
    after = (sh_basis(dirs @ rot.T)[:, None] * world).sum(-1)
    assert torch.allclose(before, after, atol=1e-10)
    assert torch.equal(world[..., 0], coeffs[..., 0])  # DC is rotation invariant
