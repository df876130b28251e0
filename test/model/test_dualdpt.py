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

"""The DualDPT head of the any-view networks: depth and ray branches, confidences >= 1.

Its weights' layout against upstream is test_keys.py; whole-model parity test/tools/test_parity.py.
"""
import torch
from torch import nn

from da3_ros.model.dualdpt import DualDPT, FRAMES_PER_CHUNK


def tokens(views: int, grid=(2, 3), dim=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(1, views, grid[0] * grid[1], dim, generator=gen) for _ in range(4)]


def head(seed: int) -> DualDPT:
    torch.manual_seed(seed)
    return DualDPT(8, 16, (8, 8, 16, 16)).eval()


def test_outputs_and_confidences():
    with torch.no_grad():
        depth, conf, ray, ray_conf = head(0)(tokens(2), (28, 42))
    assert depth.shape == conf.shape == (1, 2, 28, 42) and bool((depth > 0).all())
    assert bool((conf > 1).all()) and bool((ray_conf > 1).all())
    assert ray.shape == (1, 2, 16, 24, 6)  # 8 x the 2 x 3 token grid


def test_skipping_the_ray_branch_leaves_depth_unchanged():
    model, levels = head(1), tokens(2, seed=1)
    with torch.no_grad():
        full = model(levels, (28, 42))
        depth_only = model(levels, (28, 42), with_ray=False)
    assert depth_only[2] is None and depth_only[3] is None
    assert torch.equal(full[0], depth_only[0]) and torch.equal(full[1], depth_only[1])


def test_chunked_frames_match_a_single_pass():
    model, levels = head(2), tokens(FRAMES_PER_CHUNK + 1, seed=2)
    with torch.no_grad():
        together = model(levels, (28, 42))
        last = model([t[:, FRAMES_PER_CHUNK:] for t in levels], (28, 42))
    for all_frames, one in zip(together, last):
        assert torch.allclose(all_frames[:, FRAMES_PER_CHUNK:], one, atol=1e-5)


def test_the_four_aux_stacks_share_one_layer_norm_as_upstream():
    norms = [[m for m in stack if isinstance(m, nn.LayerNorm)]
             for stack in head(3).scratch.output_conv2_aux]
    assert all(len(n) == 1 for n in norms)
    assert all(n[0] is norms[0][0] for n in norms)
