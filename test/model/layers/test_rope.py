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

"""2-D rotary position embedding: relative scores, norm kept, patch positions from one."""
import pytest
import torch

from da3_ros.model.layers.rope import apply_rope, patch_positions, rope_tables


def test_rope_is_relative():
    """q.k after RoPE depends only on the position difference."""
    gen = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 64, generator=gen), torch.randn(1, 1, 1, 64, generator=gen)

    def score(pq, pk):
        tq = rope_tables(torch.tensor([pq]), 64)
        tk = rope_tables(torch.tensor([pk]), 64)
        return float((apply_rope(q, tq) * apply_rope(k, tk)).sum())

    assert score((3, 5), (1, 2)) == pytest.approx(score((7, 9), (5, 6)), abs=1e-4)
    assert score((3, 5), (1, 2)) != pytest.approx(score((3, 5), (2, 2)), abs=1e-3)
    rotated = apply_rope(q, rope_tables(torch.tensor([(4, 11)]), 64))
    assert float(rotated.norm()) == pytest.approx(float(q.norm()), rel=1e-5)


def test_patch_positions_row_major_from_one():
    pos = patch_positions(2, 3, torch.device('cpu'))
    assert pos.tolist() == [[0, 0], [1, 1], [1, 2], [1, 3], [2, 1], [2, 2], [2, 3]]
