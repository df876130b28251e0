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

"""DepthAnything3Net forward on CPU with parity-rule weights: shapes, precision, conditioning.

Whole-model parity against the golden fixtures lives in test/tools/test_parity.py and
test_parity_gs.py; the ONNX export of this forward in test_export.py.
"""
from dataclasses import replace

import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model.da3 import DepthAnything3Net
from da3_ros.model.variants import variant_spec


def images(views, height=56, width=84, seed=0):
    return torch.randn(1, views, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_anyview_shapes_and_ranges(small_model):
    with torch.inference_mode():
        pred = small_model(images(4))
    assert pred.depth.shape == (1, 4, 56, 84) and pred.depth.dtype == torch.float32
    assert torch.all(pred.depth > 0) and torch.all(pred.depth_conf >= 1)
    assert pred.extrinsics.shape == (1, 4, 3, 4) and pred.intrinsics.shape == (1, 4, 3, 3)
    assert pred.ray.shape == (1, 4, 32, 48, 6) and pred.ray_conf.shape == (1, 4, 32, 48)
    assert pred.sky is None and not pred.is_metric
    rot = pred.extrinsics[0, :, :, :3]
    assert torch.allclose(rot @ rot.transpose(-1, -2), torch.eye(3).expand(4, 3, 3), atol=1e-4)


def test_bf16_autocast_keeps_heads_fp32_and_close(small_model):
    with torch.inference_mode():
        ref = small_model(images(2))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = small_model(images(2))
    assert low.depth.dtype == torch.float32 and low.extrinsics.dtype == torch.float32
    rel = ((low.depth - ref.depth).abs() / ref.depth).median()
    assert rel < 0.1


def test_pose_conditioning_changes_the_prediction(small_model):
    w2c = torch.eye(4).repeat(1, 3, 1, 1)
    w2c[0, 1, 0, 3], w2c[0, 2, 1, 3] = 1.0, 1.0
    k = torch.tensor([[60.0, 0, 42], [0, 60.0, 28], [0, 0, 1]]).repeat(1, 3, 1, 1)
    with torch.inference_mode():
        free = small_model(images(3))
        cond = small_model(images(3), w2c, k)
        cond_again = small_model(images(3), w2c, k)
    assert torch.equal(cond.depth, cond_again.depth)
    assert not torch.allclose(free.depth, cond.depth)


def test_ray_pose_option_returns_cameras(small_model):
    torch.manual_seed(0)
    with torch.inference_mode():
        pred = small_model(images(2), use_ray_pose=True)
    assert pred.extrinsics.shape == (1, 2, 3, 4) and torch.isfinite(pred.extrinsics).all()


def test_view_order_equivariance_without_selection(small_model):
    """With S = 2 (no reference selection) only view 0's camera token tells the views apart.

    Global attention sees every view at the same positions, so with the reference token made
    equal to the others' swapping the views swaps the depths; with the real tokens it does not.
    """
    x = images(2)
    token = small_model.backbone.pretrained.camera_token
    saved = token.detach().clone()
    with torch.inference_mode():
        a = small_model(x, ref_view_strategy='first')
        b = small_model(x.flip(1), ref_view_strategy='first')
    try:
        with torch.no_grad():
            token[:, 0] = token[:, 1]
        with torch.inference_mode():
            same_a = small_model(x, ref_view_strategy='first')
            same_b = small_model(x.flip(1), ref_view_strategy='first')
    finally:
        with torch.no_grad():
            token.copy_(saved)
    assert a.depth.shape == b.depth.shape
    torch.testing.assert_close(same_b.depth.flip(1), same_a.depth, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(same_b.depth_conf.flip(1), same_a.depth_conf, rtol=1e-5,
                               atol=1e-4)
    assert (b.depth.flip(1) - a.depth).abs().max() > 1e-2  # the reference token differs
    assert not torch.allclose(a.depth[0, 0], b.depth[0, 1])


def test_gaussians_only_when_asked_and_only_with_a_head():
    torch.manual_seed(0)
    spec = replace(variant_spec('da3-small'), has_gs_head=True)
    model = DepthAnything3Net(spec).eval()
    images = torch.randn(1, 2, 3, 28, 42)

    def forbidden(*_args, **_kwargs):
        raise AssertionError('the Gaussian head ran without being asked')

    with torch.no_grad():
        asked = model(images, gaussians=True)
        model.gs_head.forward = forbidden
        plain = model(images)
    assert plain.gaussians is None
    assert torch.equal(plain.depth, asked.depth)
    assert asked.gaussians.means.shape == (1, 2 * 28 * 42, 3)
    with pytest.raises(ConfigError, match='da3-small'):
        DepthAnything3Net(variant_spec('da3-small'))(images, gaussians=True)
