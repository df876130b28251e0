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

"""Rows of the fused cloud: valid points first without a host read, and voxel means.

A boolean index sizes its result on the host, which synchronises the device mid-step;
:func:`valid_first` keeps the size fixed instead (valid rows first, then NaN rows) and
:func:`valid_rows` cuts the NaN rows on the host after the copy. :func:`voxel_downsample`
averages points per occupied voxel (its size is data-dependent, so it reads from the device).
"""
import numpy as np
import torch


def valid_first(points: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Rows [N, 3] with the ``valid`` ones first in their order, then NaN rows.

    The same valid rows as ``points[valid]``, but of a size known without reading the mask on
    the host (a boolean index synchronises the device to size its result): a stable sort of
    the invalid flags moves the valid rows to the front. Valid points must be finite.
    """
    order = torch.argsort((~valid).to(torch.uint8), stable=True)
    return torch.where(valid[order, None], points[order], float('nan'))


def valid_rows(rows: np.ndarray) -> np.ndarray:
    """Leading finite rows of a :func:`valid_first` result [N, 3] (a view; binary search).

    Rows before the first NaN row are the valid ones; a result without NaN rows (voxel
    means) comes back whole.
    """
    low, high = 0, len(rows)
    while low < high:
        mid = (low + high) // 2
        if np.isnan(rows[mid, 0]):
            high = mid
        else:
            low = mid + 1
    return rows[:low]


def voxel_downsample(points: torch.Tensor, voxel: float) -> torch.Tensor:
    """Mean point per occupied voxel [M', 3]; unchanged when ``voxel`` <= 0.

    Two host synchronisations: the cells' bounds (:func:`_cell_keys`) and ``torch.unique``,
    which sizes its output by the number of occupied cells. That count is read from the
    output's shape (exactly ``inverse.max() + 1``, as ``inverse`` numbers the occupied cells
    0..M'-1), not from another device read.
    """
    if voxel <= 0 or points.shape[0] == 0:
        return points
    cells = torch.floor(points / voxel).to(torch.int64)
    occupied, inverse = torch.unique(_cell_keys(cells), return_inverse=True)
    count = occupied.shape[0]
    sums = torch.zeros(count, 3, dtype=points.dtype, device=points.device)
    sums.index_add_(0, inverse, points)
    hits = torch.zeros(count, dtype=points.dtype, device=points.device)
    hits.index_add_(0, inverse, torch.ones_like(points[:, 0]))
    return sums / hits[:, None]


_KEY_BITS = 21  # per axis: three offsets below 2^21 pack into one non-negative int64


def _cell_keys(cells: torch.Tensor) -> torch.Tensor:
    """One key per voxel cell [M] (int64), ordered as the cells [M, 3] are lexicographically.

    Cells offset by their minimum pack into ``_KEY_BITS`` bits per axis, x highest, so unique
    keys come out in the order of unique rows and a 1-D ``torch.unique`` (a radix sort on the
    GPU) replaces the much slower row-wise ``unique(dim=0)``. A cloud wider than 2^21 cells
    along an axis keeps the rows themselves.
    """
    low = cells.min(0).values
    span = (cells.max(0).values - low).tolist()
    if max(span) >= 2 ** _KEY_BITS:
        _, rows = torch.unique(cells, dim=0, return_inverse=True)
        return rows
    offset = cells - low
    return (offset[:, 0] << (2 * _KEY_BITS)) | (offset[:, 1] << _KEY_BITS) | offset[:, 2]
