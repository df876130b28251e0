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

"""Feed-forward layers: GELU MLP (ViT-S/B/L, camera encoder) and SwiGLU (ViT-g)."""
import torch
from torch import nn
import torch.nn.functional as F


class Mlp(nn.Module):
    """fc1 -> exact GELU -> fc2."""

    def __init__(self, dim: int, hidden: int, out_dim: int = 0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out_dim or dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to x [..., dim]."""
        return self.fc2(self.act(self.fc1(x)))


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
