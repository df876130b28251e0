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

"""Sky filling and metric scaling of the mono/metric networks (docs/model.md, spec 8.1, 8.3)."""
import torch

from da3_ros.model.sky import fill_sky_depth


def test_sky_pixels_get_the_99th_percentile_of_the_rest():
    depth = torch.arange(1.0, 65.0).reshape(1, 1, 8, 8)
    sky = torch.zeros(1, 1, 8, 8)
    sky[..., :2, :] = 0.9  # the top 16 pixels are sky
    filled = fill_sky_depth(depth, sky)
    expected = torch.quantile(depth[sky < 0.3], 0.99)
    assert torch.equal(filled[..., 2:, :], depth[..., 2:, :])
    assert torch.allclose(filled[..., :2, :], expected.expand(1, 1, 2, 8))


def test_too_little_sky_or_ground_leaves_the_depth_unchanged():
    depth = torch.arange(1.0, 65.0).reshape(1, 1, 8, 8)
    sky = torch.zeros(1, 1, 8, 8)
    sky[..., 0, :2] = 0.9  # two sky pixels: not a region
    assert torch.equal(fill_sky_depth(depth, sky), depth)
    assert torch.equal(fill_sky_depth(depth, torch.ones(1, 1, 8, 8)), depth)
