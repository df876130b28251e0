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

"""Multi-head self-attention against a written-out softmax(q k^T / sqrt(d)) v."""
import math

import torch

from da3_ros.model.layers.attention import Attention
from da3_ros.model.layers.rope import patch_positions, rope_tables


def reference(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    """The textbook computation, head by head."""
    batch, length, channels = x.shape
    heads, dim = attn.num_heads, channels // attn.num_heads
    q, k, v = attn.qkv(x).reshape(batch, length, 3, heads, dim).permute(2, 0, 3, 1, 4)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dim), dim=-1)
    return attn.proj((weights @ v).transpose(1, 2).reshape(batch, length, channels))


def test_attention_is_scaled_dot_product_over_heads():
    torch.manual_seed(0)
    attn = Attention(16, 4).eval()
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        assert torch.allclose(attn(x), reference(attn, x), atol=1e-5)


def test_tokens_are_mixed_by_position_only_with_rope():
    """Without RoPE, swapping two tokens swaps their outputs; with it, it does not."""
    torch.manual_seed(1)
    attn = Attention(16, 2).eval()
    x = torch.randn(1, 4, 16)
    swap = torch.tensor([1, 0, 2, 3])
    rope = rope_tables(patch_positions(2, 2, torch.device('cpu'))[1:], 8)
    with torch.no_grad():
        assert torch.allclose(attn(x[:, swap]), attn(x)[:, swap], atol=1e-5)
        assert not torch.allclose(attn(x[:, swap], rope), attn(x, rope)[:, swap], atol=1e-3)
