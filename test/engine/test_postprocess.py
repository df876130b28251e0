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

"""Tests of post-processing: mapping back, organized clouds, filters, voxels, one host copy."""
import numpy as np
import pytest
import torch

from da3_ros.config import OutputConfig
from da3_ros.engine.outputs import CAMERA_OUTPUTS, CLOUD, CONFIDENCE, DEPTH, SKY
from da3_ros.engine.postprocess import Postprocessor, sample_pixels, to_host, voxel_downsample
from da3_ros.engine.preprocess import processed_size
from da3_ros.geometry import camera as cam_lib


def camera_maps(post, depth, conf, sky, tf, k_out):
    """(depth, conf, sky, cloud or empty) at output resolution for one camera."""
    out = post.batch_outputs(depth[None], conf[None], sky[None], tf, np.asarray(k_out)[None],
                             CAMERA_OUTPUTS)
    return (out[DEPTH][0], out[CONFIDENCE][0], out[SKY][0],
            out[CLOUD][0] if CLOUD in out else depth.new_zeros(0))


def test_depth_maps_back_to_full_resolution_with_matching_intrinsics():
    tf = processed_size((56, 112), 56, 'upper_bound_resize')  # -> 28 x 56, scale 0.5
    post = Postprocessor(OutputConfig(min_depth=0.0, max_depth=100.0), 'cpu')
    k_full = cam_lib.intrinsics_matrix(60.0, 60.0, 55.5, 27.5)
    k_proc = tf.intrinsics(k_full)
    # A fronto-parallel plane at 4 m has depth 4 at any resolution.
    depth = torch.full((28, 56), 4.0)
    conf = torch.full((28, 56), 2.0)
    sky = torch.zeros((28, 56), dtype=torch.bool)
    sky[0, 0] = True
    k_out = post.output_k(k_proc, tf)
    np.testing.assert_allclose(k_out, k_full, atol=1e-9)
    d_out, c_out, s_out, cloud = camera_maps(post, depth, conf, sky, tf, k_out)
    assert d_out.shape == (56, 112) and cloud.shape == (56, 112, 3)
    assert bool(s_out[0, 0]) and bool(s_out[1, 1]) and not bool(s_out[5, 5])
    assert torch.isnan(cloud[0, 0]).all()
    uv, z = cam_lib.project_points(cloud[10:12, 20:23].reshape(1, -1, 3).double(),
                                   torch.from_numpy(k_full)[None])
    grid = cam_lib.pixel_grid(56, 112, dtype=torch.float64)[10:12, 20:23, :2].reshape(1, -1, 2)
    torch.testing.assert_close(uv, grid, atol=1e-4, rtol=0)
    torch.testing.assert_close(z.float(), torch.full_like(z.float(), 4.0))


def test_filters_range_and_confidence():
    post = Postprocessor(OutputConfig(min_depth=1.0, max_depth=10.0, min_confidence=1.5), 'cpu')
    depth = torch.tensor([[0.5, 5.0, 20.0, 5.0, float('nan')]])
    conf = torch.tensor([[2.0, 2.0, 2.0, 1.0, 2.0]])
    valid = post.valid_mask(depth, conf, torch.zeros_like(depth, dtype=torch.bool))
    assert valid.tolist() == [[False, True, False, False, False]]
    fused = post.fused_cloud(depth[None], conf[None], torch.zeros_like(depth[None]).bool(),
                             np.eye(3)[None], np.eye(4)[None])
    assert fused.shape == (1, 3)


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


def test_to_host_keeps_dtypes_and_shapes():
    a, b, c = torch.ones(2, 3), torch.tensor([True, False]), torch.zeros(1, dtype=torch.float64)
    ha, hb = to_host([a, b])
    assert ha.dtype == np.float32 and ha.shape == (2, 3) and hb.dtype == bool
    assert to_host([a, c])[0].dtype == np.float64
    assert to_host([]) == []


def test_sample_pixels_regular_and_in_range():
    idx = sample_pixels(28, 56, 64)
    assert len(idx) <= 64 and len(set(idx.tolist())) == len(idx)
    assert int(idx.max()) < 28 * 56
