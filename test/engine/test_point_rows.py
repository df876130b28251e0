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

"""point_rows: the valid-first layout holds a boolean index's rows; voxel means per cell."""
import numpy as np
import pytest
import torch

from da3_ros.engine.point_rows import valid_first, valid_rows, voxel_downsample


def test_valid_first_holds_the_rows_of_a_boolean_index_then_nan():
    gen = torch.Generator().manual_seed(3)
    points = torch.randn(500, 3, generator=gen)
    for valid in (torch.rand(500, generator=gen) > 0.6, torch.zeros(500, dtype=torch.bool),
                  torch.ones(500, dtype=torch.bool)):
        padded = valid_first(points, valid)
        count = int(valid.sum())
        assert padded.shape == points.shape
        torch.testing.assert_close(padded[:count], points[valid], rtol=0, atol=0)
        assert torch.isnan(padded[count:]).all()
        np.testing.assert_array_equal(valid_rows(padded.numpy()), points[valid].numpy())


def _row_unique_means(points, voxel):
    """Reference: mean point per cell through row-wise unique (cells in lexicographic order)."""
    cells = torch.floor(points / voxel).to(torch.int64)
    occupied, inverse = torch.unique(cells, dim=0, return_inverse=True)
    sums = torch.zeros(len(occupied), 3, dtype=points.dtype).index_add_(0, inverse, points)
    hits = torch.zeros(len(occupied), dtype=points.dtype).index_add_(
        0, inverse, torch.ones_like(points[:, 0]))
    return sums / hits[:, None]


@pytest.mark.parametrize('scale, voxel', [(30.0, 0.5), (5.0, 0.05), (1e6, 1e-3)])
def test_voxel_downsample_equals_row_unique_in_order(scale, voxel):
    """Packed keys (and, past 2^21 cells an axis, the row fallback) keep cells and order."""
    gen = torch.Generator().manual_seed(7)
    points = (torch.rand(5000, 3, generator=gen) - 0.5) * scale
    points[:50] = points[50:100]  # shared cells
    torch.testing.assert_close(voxel_downsample(points, voxel), _row_unique_means(points, voxel),
                               rtol=0, atol=0)


def test_voxel_downsample_means_per_cell():
    pts = torch.tensor([[0.1, 0.1, 0.1], [0.3, 0.3, 0.3], [1.5, 0.0, 0.0]])
    out = voxel_downsample(pts, 1.0)
    assert out.shape == (2, 3)
    assert any(torch.allclose(row, torch.tensor([0.2, 0.2, 0.2])) for row in out)
    assert voxel_downsample(pts, 0.0) is pts
