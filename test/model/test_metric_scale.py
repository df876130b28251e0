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

"""model.metric_scale: the metric focal rule and the nested model's alignment, numerically."""
import pytest
import torch

from da3_ros.model.metric_scale import align_scale, metric_scale_depth


def test_metric_depth_is_output_times_mean_focal_over_300():
    depth = torch.rand(1, 2, 3, 4) + 0.1
    k = torch.eye(3).repeat(1, 2, 1, 1)
    k[0, 0, 0, 0], k[0, 0, 1, 1] = 600.0, 600.0  # f = 600: twice the canonical 300
    k[0, 1, 0, 0], k[0, 1, 1, 1] = 100.0, 200.0  # (fx + fy) / 2 = 150: half
    out = metric_scale_depth(depth, k)
    torch.testing.assert_close(out[0, 0], depth[0, 0] * 2.0)
    torch.testing.assert_close(out[0, 1], depth[0, 1] * 0.5)


def test_nested_alignment_recovers_the_scale_on_confident_pixels():
    torch.manual_seed(0)
    depth = torch.rand(1, 2, 8, 8) + 0.5
    conf = torch.rand(1, 2, 8, 8) + 1.0
    confident = conf >= torch.quantile(conf.flatten(), 0.5)
    metric = torch.where(confident, depth * 3.0, depth * 100.0)  # low confidence: ignored
    scale = align_scale(depth, conf, metric, torch.ones_like(depth, dtype=torch.bool))
    assert float(scale) == pytest.approx(3.0, rel=1e-6)


def test_nested_alignment_ignores_sky_and_needs_enough_ground():
    depth = torch.rand(1, 1, 8, 8) + 0.5
    conf = torch.ones_like(depth)
    non_sky = torch.zeros_like(depth, dtype=torch.bool)
    non_sky[..., 4:, :] = True
    metric = torch.where(non_sky, depth * 0.25, depth * 40.0)
    assert float(align_scale(depth, conf, metric, non_sky)) == pytest.approx(0.25, rel=1e-6)
    few = torch.zeros_like(non_sky)
    few[0, 0, :2, :5] = True
    with pytest.raises(ValueError, match='got 10'):
        align_scale(depth, conf, metric, few)
