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

"""The DPT head of the mono/metric networks: positive depth, non-negative sky, frames independent.

Its weights' layout against upstream is test_keys.py; whole-model parity test/tools/test_parity.py.
"""
import torch

from da3_ros.model.dpt import DPT


def tokens(views: int, grid=(2, 3), dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, views, grid[0] * grid[1], dim, generator=gen) for _ in range(4)]


def test_depth_is_positive_sky_non_negative_at_the_image_size():
    torch.manual_seed(0)
    head = DPT(8, 16, (8, 8, 16, 16)).eval()
    with torch.no_grad():
        depth, sky = head(tokens(3), (28, 42))
    assert depth.shape == sky.shape == (1, 3, 28, 42)
    assert bool((depth > 0).all()) and bool((sky >= 0).all())


def test_each_frame_is_decoded_on_its_own():
    torch.manual_seed(1)
    head = DPT(8, 16, (8, 8, 16, 16)).eval()
    levels = tokens(3, seed=2)
    with torch.no_grad():
        depth, sky = head(levels, (28, 42))
        one_depth, one_sky = head([t[:, 2:] for t in levels], (28, 42))
    assert torch.allclose(depth[:, 2:], one_depth, atol=1e-6)
    assert torch.allclose(sky[:, 2:], one_sky, atol=1e-6)
