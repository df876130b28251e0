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

"""Patch embedding as the stride-14 convolution; the position table resampled to the grid."""
import pytest
import torch
import torch.nn.functional as F

from da3_ros.errors import ConversionError
from da3_ros.model.layers.patch_embed import interpolate_pos_embed, PatchEmbed


def test_pos_embed_shortcut_only_for_square_518():
    table = torch.randn(1, 1370, 8)
    assert interpolate_pos_embed(table, 37, 37, True) is table
    assert interpolate_pos_embed(table, 37, 37, False).shape == (1, 1370, 8)
    assert interpolate_pos_embed(table, 9, 13, False).shape == (1, 1 + 9 * 13, 8)


def test_patch_embed_is_the_stride_14_convolution():
    torch.manual_seed(4)
    embed = PatchEmbed(24)
    for h, w in ((28, 42), (31, 44)):  # the second has remainders the conv drops too
        x = torch.randn(2, 3, h, w)
        expected = F.conv2d(x, embed.proj.weight, embed.proj.bias, stride=14)
        expected = expected.flatten(2).transpose(1, 2)
        out = embed(x)
        assert out.shape == expected.shape == (2, (h // 14) * (w // 14), 24)
        assert torch.allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('h, w', [(13, 28), (28, 10)])
def test_an_image_smaller_than_one_patch_is_refused_with_its_size(h, w):
    with pytest.raises(ConversionError, match=f'{h}x{w} pixels'):
        PatchEmbed(8)(torch.zeros(1, 3, h, w))
