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

"""Pre-norm transformer block: residual attention and FFN, each scaled by its LayerScale."""
import torch

from da3_ros.model.layers.block import Block
from da3_ros.model.layers.mlp import SwiGLUFFN


def test_zero_layer_scale_makes_the_block_the_identity():
    torch.manual_seed(0)
    block = Block(16, 4).eval()
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        block.ls1.gamma.zero_()
        block.ls2.gamma.zero_()
        assert torch.equal(block(x), x)


def test_block_is_the_two_pre_norm_residuals():
    torch.manual_seed(1)
    block = Block(16, 4, ffn='swiglu').eval()
    assert isinstance(block.mlp, SwiGLUFFN)
    x = torch.randn(1, 3, 16)
    with torch.no_grad():
        mid = x + block.ls1.gamma * block.attn(block.norm1(x))
        expected = mid + block.ls2.gamma * block.mlp(block.norm2(mid))
        assert torch.allclose(block(x), expected, atol=1e-6)
