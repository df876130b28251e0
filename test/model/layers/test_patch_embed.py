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

"""The position-embedding table is resampled to the patch grid (upstream's square-518 shortcut)."""
import torch

from da3_ros.model.layers.patch_embed import interpolate_pos_embed


def test_pos_embed_shortcut_only_for_square_518():
    table = torch.randn(1, 1370, 8)
    assert interpolate_pos_embed(table, 37, 37, True) is table
    assert interpolate_pos_embed(table, 37, 37, False).shape == (1, 1370, 8)
    assert interpolate_pos_embed(table, 9, 13, False).shape == (1, 1 + 9 * 13, 8)
