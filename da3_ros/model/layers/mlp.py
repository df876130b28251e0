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

"""Feed-forward layers: GELU MLP (ViT-S/B/L, camera encoder) and SwiGLU (ViT-g).

The GELU MLP has a second form for the half-precision fast path (``Mlp.epilogue_dtype``): fc1,
its bias and the GELU as one matmul whose epilogue applies the GELU (``torch._addmm_activation``;
cuBLASLt's GELU-bias epilogue on CUDA). The [tokens, 4C] hidden activations are then written
once instead of written, read and written again by a separate GELU kernel: on da3-large's
12-view forward that kernel is 24 passes over 8652 x 4096 values. The epilogue's GELU is the
tanh form on CUDA (exact on the CPU); it differs from the exact one by at most 5e-4, well below
the bf16 rounding of the same activations (3.9e-3 relative), and it is never used in fp32.
"""
from typing import Optional

import torch
from torch import nn
import torch.nn.functional as F


class Mlp(nn.Module):
    """fc1 -> exact GELU -> fc2 (upstream's maths); see the module docstring for the fast form."""

    def __init__(self, dim: int, hidden: int, out_dim: int = 0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out_dim or dim)
        # None: exact, unfused. A half dtype: fc1 + GELU as one matmul with a GELU epilogue,
        # in that dtype, while autocast runs in it (set by the predictor on the CUDA fast
        # path only).
        self.epilogue_dtype: Optional[torch.dtype] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to x [..., dim]."""
        dtype = self.epilogue_dtype
        if not epilogue_in_force(dtype, x):
            return self.fc2(self.act(self.fc1(x)))
        hidden = fc1_gelu(x, self.fc1, dtype)
        return F.linear(hidden, self.fc2.weight.to(dtype), self.fc2.bias.to(dtype))


def epilogue_in_force(dtype: Optional[torch.dtype], x: torch.Tensor) -> bool:
    """Whether the epilogue form applies to ``x``: ``dtype`` set and autocast on in that dtype.

    The flag lives on the module, which a predictor shares; checking the autocast in force
    keeps a call outside the fast path's autocast (fp32, autocast disabled, another dtype) on
    the exact form. Dynamo reads both queries while tracing and guards on them, so a compiled
    forward has no branch at run time.
    """
    device_type = x.device.type
    return (dtype is not None and torch.is_autocast_enabled(device_type)
            and torch.get_autocast_dtype(device_type) == dtype)


def fc1_gelu(x: torch.Tensor, fc1: nn.Linear, dtype: torch.dtype) -> torch.Tensor:
    """GELU(fc1(x)) as one matmul with a GELU epilogue, in ``dtype``.

    Args:
        x: [..., dim] activations (any float dtype; cast to ``dtype``).
        fc1: the Linear(dim, hidden) with bias.
        dtype: the compute and result dtype.

    Returns:
        [..., hidden] in ``dtype``.
    """
    rows = x.reshape(-1, x.shape[-1]).to(dtype)
    hidden = torch._addmm_activation(fc1.bias.to(dtype), rows, fc1.weight.to(dtype).t(),
                                     use_gelu=True)
    return hidden.reshape(*x.shape[:-1], hidden.shape[-1])


class SwiGLUFFN(nn.Module):
    """w12 (C -> 2 x hidden) -> SiLU(a) * b -> w3; unfused, same maths as xformers' SwiGLU."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to x [..., dim]."""
        gate, value = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(gate) * value)


def swiglu_hidden(dim: int) -> int:
    """Return the SwiGLU hidden width from 4C: floor(4C * 2 / 3) rounded up to a multiple of 8."""
    hidden = int(4 * dim * 2 / 3)
    return (hidden + 7) // 8 * 8
