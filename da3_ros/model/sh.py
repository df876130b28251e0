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

"""Real spherical harmonics of degree <= 2 in the 3DGS basis, and their rotation matrices.

The basis and its constants are the ones 3D Gaussian splatting renderers evaluate (gsplat's
``spherical_harmonics``, the original 3DGS code): index k = l^2 + m over the bands l = 0..2, with
the direction d = (x, y, z) a unit vector in the frame the coefficients live in.

Rotating coefficients: for a rotation R we want world coefficients c_w with
``f_w(R d) = f_c(d)`` for every direction d. Each band maps to itself, so per band
``Y_l(R d)^T D_l = Y_l(d)^T``. We solve that linear system exactly (least squares over a fixed set
of directions, float64) instead of going through Euler angles and Wigner-D matrices: it needs no
extra dependency, has no gimbal-lock branch, and is by construction consistent with the basis the
renderer evaluates.
"""
import math
from typing import List

import torch

SH_C0 = 0.28209479177387814
SH_C1 = 0.4886025119029199
SH_C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792,
         0.5462742152960396)
MAX_DEGREE = 2
BAND_SLICES = ((0, 1), (1, 4), (4, 9))


def sh_basis(dirs: torch.Tensor, degree: int = MAX_DEGREE) -> torch.Tensor:
    """Evaluate the basis at unit directions [..., 3] -> [..., (degree + 1)^2].

    Degree 2 uses gsplat's arithmetic (``0.946 z^2 - 0.315`` for k = 6), equal to
    ``C2[2] (2 z^2 - x^2 - y^2)`` on unit vectors.
    """
    if not 0 <= degree <= MAX_DEGREE:
        raise ValueError(f'SH degree {degree} is not in 0..{MAX_DEGREE}')
    x, y, z = dirs.unbind(-1)
    terms = [torch.full_like(x, SH_C0)]
    if degree >= 1:
        terms += [-SH_C1 * y, SH_C1 * z, -SH_C1 * x]
    if degree >= 2:
        terms += [SH_C2[0] * x * y, SH_C2[1] * y * z,
                  0.9461746957575601 * z * z - 0.3153915652525201,
                  SH_C2[3] * x * z, SH_C2[4] * (x * x - y * y)]
    return torch.stack(terms, dim=-1)


def _sample_directions() -> torch.Tensor:
    """Return a fixed, well-spread set of 64 unit directions (Fibonacci sphere), float64."""
    count = 64
    idx = torch.arange(count, dtype=torch.float64) + 0.5
    z = 1.0 - 2.0 * idx / count
    radius = torch.sqrt(1.0 - z * z)
    phi = idx * math.pi * (3.0 - math.sqrt(5.0))
    return torch.stack([radius * torch.cos(phi), radius * torch.sin(phi), z], dim=-1)


def band_rotations(rotation: torch.Tensor, degree: int = MAX_DEGREE) -> List[torch.Tensor]:
    """Per-band matrices D_l [..., 2l+1, 2l+1], ``c_world_l = D_l c_l``, for rotation [..., 3, 3].

    Computed in float64 and returned in the rotation's dtype; D_0 is the identity.
    """
    rot = rotation.double()
    dirs = _sample_directions().to(rot.device)
    rotated = torch.einsum('...ij,nj->...ni', rot, dirs)
    basis = sh_basis(dirs, degree)
    basis_rot = sh_basis(rotated, degree)
    out = [torch.ones(rotation.shape[:-2] + (1, 1), dtype=rotation.dtype,
                      device=rotation.device)]
    for level in range(1, degree + 1):
        lo, hi = BAND_SLICES[level]
        lhs = basis_rot[..., lo:hi]
        rhs = basis[..., lo:hi].expand(lhs.shape)
        out.append(torch.linalg.lstsq(lhs, rhs).solution.to(rotation.dtype))
    return out


def rotate_sh(coefficients: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Rotate coefficients [..., C, K] by rotation [..., 3, 3] (batch dims broadcast).

    K = (degree + 1)^2; returns world coefficients [..., C, K] such that evaluating them at R d
    equals evaluating the input at d.
    """
    degree = math.isqrt(coefficients.shape[-1]) - 1
    mats = band_rotations(rotation, degree)
    parts = []
    for level, mat in enumerate(mats):
        lo, hi = BAND_SLICES[level]
        parts.append(torch.einsum('...ij,...cj->...ci', mat, coefficients[..., lo:hi]))
    return torch.cat(parts, dim=-1)
