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

"""Pre-norm transformer block with LayerScale (backbone blocks and camera-encoder trunk)."""
from typing import Optional

import torch
from torch import nn

from da3_ros.model.layers.attention import Attention
from da3_ros.model.layers.mlp import Mlp, swiglu_hidden, SwiGLUFFN


class LayerScale(nn.Module):
    """Per-channel scale ``gamma * x`` (values come from the checkpoint)."""

    def __init__(self, dim: int, init: float = 1.0) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale x [..., dim]."""
        return x * self.gamma


class Block(nn.Module):
    """x += ls1(attn(norm1(x))); x += ls2(ffn(norm2(x)))."""

    def __init__(self, dim: int, num_heads: int, *, ffn: str = 'mlp', qk_norm: bool = False,
                 ln_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=ln_eps)
        self.attn = Attention(dim, num_heads, qk_norm=qk_norm)
        self.ls1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=ln_eps)
        self.mlp = SwiGLUFFN(dim, swiglu_hidden(dim)) if ffn == 'swiglu' else Mlp(dim, 4 * dim)
        self.ls2 = LayerScale(dim)

    def forward(self, x: torch.Tensor, rope: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run on x [B, L, C] with optional RoPE tables [2, L, head_dim]."""
        x = x + self.ls1(self.attn(self.norm1(x), rope))
        return x + self.ls2(self.mlp(self.norm2(x)))
