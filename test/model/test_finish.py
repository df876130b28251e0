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

"""Finishing steps after the network: sky fill for mono/metric, ray-map poses on request.

The nested alignment (finish_nested) is covered by the da3nested golden fixture in
test/tools/test_parity.py; the ray-pose option of the whole model by test_da3.py.
"""
import torch

from da3_ros.model.finish import finish_single
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import fill_sky_depth


def test_sky_is_filled_for_a_network_with_a_sky_head():
    depth = torch.arange(1.0, 65.0).reshape(1, 1, 8, 8)
    sky = torch.zeros(1, 1, 8, 8)
    sky[..., :2, :] = 1.0
    out = finish_single(Prediction(depth=depth, sky=sky), (8, 8), use_ray_pose=False)
    assert torch.equal(out.depth, fill_sky_depth(depth, sky))
    assert not torch.equal(out.depth, depth)


def test_poses_come_from_the_ray_map_only_when_asked():
    rows, cols = 4, 6
    ys, xs = torch.meshgrid(torch.linspace(-0.5, 0.5, rows), torch.linspace(-0.75, 0.75, cols),
                            indexing='ij')
    direction = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1)
    ray = torch.cat([direction, torch.zeros(rows, cols, 3)], dim=-1)[None, None]
    decoder_pose = torch.zeros(1, 1, 3, 4)
    raw = Prediction(depth=torch.ones(1, 1, 28, 42), extrinsics=decoder_pose, ray=ray,
                     ray_conf=torch.ones(1, 1, rows, cols))
    assert finish_single(raw, (28, 42), use_ray_pose=False) is raw
    torch.manual_seed(0)
    out = finish_single(raw, (28, 42), use_ray_pose=True)
    assert torch.allclose(out.extrinsics[0, 0, :, :3], torch.eye(3), atol=1e-4)  # identity R
    assert torch.allclose(out.extrinsics[0, 0, :, 3], torch.zeros(3), atol=1e-4)  # at origin
    assert out.intrinsics.shape == (1, 1, 3, 3) and torch.equal(out.depth, raw.depth)
