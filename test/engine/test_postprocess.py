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
from da3_ros.engine import postprocess
from da3_ros.engine.outputs import CAMERA_OUTPUTS, CLOUD, CONFIDENCE, DEPTH, SKY
from da3_ros.engine.point_rows import valid_rows
from da3_ros.engine.postprocess import MAX_RAY_SETS, Postprocessor, sample_pixels, to_host
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


def test_organised_cloud_is_the_unprojection_of_the_masked_depth_with_cached_rays():
    post = Postprocessor(OutputConfig(min_depth=1.0, max_depth=10.0, min_confidence=1.5), 'cpu')
    gen = torch.Generator().manual_seed(1)
    depth = torch.rand(2, 5, 7, generator=gen) * 12.0
    conf = torch.rand(2, 5, 7, generator=gen) * 3.0
    sky = torch.rand(2, 5, 7, generator=gen) > 0.8
    maps = {DEPTH: depth, CONFIDENCE: conf, SKY: sky}
    k_out = np.stack([cam_lib.intrinsics_matrix(4.0 + j, 5.0, 3.1, 2.2 - j) for j in range(2)])
    cloud = post.batch_cloud(maps, k_out)
    masked = torch.where(post.valid_mask(depth, conf, sky), depth, float('nan'))
    expected = cam_lib.unproject_depth(masked, torch.from_numpy(k_out).float())
    torch.testing.assert_close(cloud, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
    # The scale-free part of the mask given by the caller gives the same cloud.
    torch.testing.assert_close(post.batch_cloud(maps, k_out, post.kept(conf, sky)), cloud,
                               rtol=0, atol=0, equal_nan=True)
    rays = post.rays(k_out, (5, 7))
    assert post.rays(k_out.copy(), (5, 7)) is rays  # made once per intrinsics and size
    for shift in range(1, MAX_RAY_SETS):  # other intrinsics, the first one used in between
        post.rays(k_out + shift, (5, 7))
        assert post.rays(k_out, (5, 7)) is rays  # the least recently used set goes first
    for shift in range(MAX_RAY_SETS, 2 * MAX_RAY_SETS):
        post.rays(k_out + shift, (5, 7))
    assert len(post._ray_sets) == MAX_RAY_SETS  # a bounded number is kept
    assert post.rays(k_out, (5, 7)) is not rays  # made again after it was dropped


def test_ray_sets_larger_than_the_memory_bound_are_made_but_not_kept(monkeypatch):
    monkeypatch.setattr(postprocess, 'MAX_RAY_BYTES', 2 * 5 * 7 * 3 * 4)  # one set of two
    post = Postprocessor(OutputConfig(), 'cpu')
    k = np.stack([cam_lib.intrinsics_matrix(4.0, 5.0, 3.1, 2.2)] * 2)
    small = post.rays(k, (5, 7))
    assert post.rays(k, (5, 7)) is small
    large = post.rays(k, (6, 7))
    assert large.shape == (2, 6, 7, 3) and len(post._ray_sets) == 0


def test_filters_range_and_confidence():
    post = Postprocessor(OutputConfig(min_depth=1.0, max_depth=10.0, min_confidence=1.5), 'cpu')
    depth = torch.tensor([[0.5, 5.0, 20.0, 5.0, float('nan')]])
    conf = torch.tensor([[2.0, 2.0, 2.0, 1.0, 2.0]])
    valid = post.valid_mask(depth, conf, torch.zeros_like(depth, dtype=torch.bool))
    assert valid.tolist() == [[False, True, False, False, False]]
    fused = post.fused_cloud(depth[None], conf[None], torch.zeros_like(depth[None]).bool(),
                             np.eye(3)[None], np.eye(4)[None])
    assert fused.shape == (5, 3)  # one row per pixel: the valid point first, then NaN rows
    assert valid_rows(fused.numpy()).tolist() == [[5.0, 0.0, 5.0]]
    assert torch.isnan(fused[1:]).all()


@pytest.mark.parametrize('max_depth', [10.0, float('inf')])
def test_range_never_keeps_nan_or_infinite_depth(max_depth):
    post = Postprocessor(OutputConfig(min_depth=0.0, max_depth=max_depth), 'cpu')
    depth = torch.tensor([float('nan'), float('inf'), -float('inf'), 0.0, 5.0, 1e30])
    assert post.in_range(depth).tolist() == [False, False, False, True, True,
                                             max_depth == float('inf')]


@pytest.mark.parametrize('voxel', [0.0, 1.0])
def test_fused_cloud_never_keeps_points_a_non_finite_pose_made(voxel):
    post = Postprocessor(OutputConfig(min_depth=0.5, max_depth=50.0, min_confidence=0.0,
                                      voxel_size=voxel), 'cpu')
    depth = torch.full((2, 3, 4), 4.0)
    poses = np.stack([np.eye(4), np.full((4, 4), np.nan)])
    fused = post.fused_cloud(depth, torch.ones_like(depth), torch.zeros_like(depth).bool(),
                             np.stack([np.eye(3)] * 2), poses)
    points = valid_rows(fused.numpy())
    assert np.isfinite(points).all() and len(points) > 0
    if voxel == 0:
        assert len(points) == 3 * 4  # the first camera's pixels, none of the second's


def test_voxel_fused_cloud_has_no_padding():
    post = Postprocessor(OutputConfig(min_depth=0.5, max_depth=50.0, min_confidence=0.0,
                                      voxel_size=2.0), 'cpu')
    depth = torch.full((1, 6, 8), 4.0)
    fused = post.fused_cloud(depth, torch.ones_like(depth), torch.zeros_like(depth).bool(),
                             np.diag([8.0, 8.0, 1.0])[None], np.eye(4)[None])
    assert torch.isfinite(fused).all() and 0 < fused.shape[0] < 48
    assert valid_rows(fused.numpy()).shape == tuple(fused.shape)


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
