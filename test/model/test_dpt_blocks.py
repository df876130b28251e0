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

"""DPT building blocks: upsampler and fusion block."""
import torch

from da3_ros.model.dpt_blocks import FeatureFusionBlock, upsample


def test_upsample_doubles_and_keeps_the_corners():
    x = torch.arange(6.0).reshape(1, 1, 2, 3)
    up = upsample(x)
    assert up.shape == (1, 1, 4, 6)
    assert up[0, 0, 0, 0] == x[0, 0, 0, 0] and up[0, 0, -1, -1] == x[0, 0, -1, -1]
    assert upsample(x, (5, 7)).shape == (1, 1, 5, 7)


def test_fusion_block_equals_upstreams_order_conv_after_upsampling():
    torch.manual_seed(6)
    block = FeatureFusionBlock(8)
    top, lateral = torch.randn(2, 8, 5, 7), torch.randn(2, 8, 5, 7)
    for size in (None, (9, 16)):
        out = block(top, lateral, size=size)
        fused = top + block.resConfUnit1(lateral)
        expected = block.out_conv(upsample(block.resConfUnit2(fused), size))
        assert out.shape == expected.shape
        assert torch.allclose(out, expected, rtol=1e-5, atol=1e-5)
