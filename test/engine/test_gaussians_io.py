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

"""World Gaussians from the engine: off by default, and they render back each camera's depth."""
import dataclasses

import numpy as np
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine import gaussians_io
from da3_ros.engine.engine import Engine
from da3_ros.engine.predictor import build_predictor
from da3_ros.engine.types import ModelInput
from da3_ros.model.gaussians import Gaussians
from da3_ros.model.prediction import Prediction
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.render import render, RenderCameras
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ['front', 'front_left', 'back']


def _engine(gaussians: bool) -> Engine:
    cfg = EngineConfig(model=ModelConfig(variant='da3-small', weights='random', device='cpu',
                                         dtype='fp32', process_res=42,
                                         ref_view_strategy='first'),
                       window=WindowConfig(length=2),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9, gaussians=gaussians))
    return Engine(cfg, build_predictor(cfg.model, rule_state_dict('da3-small')))


@pytest.mark.parametrize('names', [NAMES, ['front_left']], ids=['3cams', '1cam'])
def test_world_gaussians_render_back_the_depth_of_the_camera(names):
    rig = SyntheticRig((28, 56))
    plain = _engine(False)
    engine = _engine(True)
    for step in range(2):
        frame = rig.frame(step, names=names)
        base, res = plain.step(frame), engine.step(frame)
    assert base.gaussians is None
    np.testing.assert_array_equal(base.cameras[names[0]].depth, res.cameras[names[0]].depth)
    g = res.gaussians
    assert g.means.shape[0] == 1 and g.means.shape[1] > 0.9 * len(names) * 28 * 42
    if len(names) > 1:
        return  # placeholder weights: other views' splats may occlude (depths disagree)
    for name in names:
        cam = res.cameras[name]
        w2c = torch.tensor(np.linalg.inv(cam.t_world_cam), dtype=torch.float32)
        k = torch.tensor(cam.k, dtype=torch.float32)
        out = render(g, RenderCameras(w2c[None], k[None], 56, 28), 'reference')
        drawn = (out.alpha[0] > 0.5).numpy()
        assert drawn.mean() > 0.8
        # expected depth blends the splats around a pixel: it lies within the depth range of
        # the 7 x 7 neighbourhood (placeholder weights give a noisy depth map)
        pad = np.pad(cam.depth, 3, mode='edge')
        windows = np.lib.stride_tricks.sliding_window_view(pad, (7, 7))
        low, high = windows.min(axis=(-1, -2)), windows.max(axis=(-1, -2))
        got = out.depth[0].numpy()
        inside = (got >= low * 0.99) & (got <= high * 1.01)
        assert inside[drawn].mean() > 0.95, name


def test_head_gaussians_are_brought_to_the_camera_gauge_and_the_world():
    means = torch.tensor([[[1.0, 0.0, 2.0], [0.0, 1.0, 3.0], [5.0, 5.0, 5.0], [6.0, 6.0, 6.0]]])
    head = Gaussians(means, torch.ones(1, 4, 3), torch.tensor([[1.0, 0, 0, 0]]).repeat(1, 4, 1)
                     .reshape(1, 4, 4), torch.zeros(1, 4, 3, 9), torch.ones(1, 4))
    pred = Prediction(depth=torch.ones(1, 2, 1, 2), extrinsics=torch.eye(4)[:3].repeat(1, 2, 1, 1),
                      scale_factor=torch.tensor([2.0]), gaussians=head)
    inputs = ModelInput(images=torch.zeros(2, 3, 1, 2))
    gauge = np.tile(np.eye(4), (2, 1, 1))
    gauge[1, :3, 3] = [1.0, 0.0, 0.0]  # view 1 sits at x = 1 in the gauge
    world = np.eye(4)
    world[:3, :3] = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    world[:3, 3] = [0.0, 0.0, 1.0]
    out = gaussians_io.world_gaussians(pred, inputs, [1], gauge, np.tile(np.eye(3), (2, 1, 1)),
                                       [world], 3.0, 0.5)
    # gauge point x (x 2 for the nested scale factor) -> view 1 camera -> x3 -> world pose
    cam = means[0, 2:] * 2.0 - torch.tensor([1.0, 0.0, 0.0])
    expected = 3.0 * cam @ torch.tensor(world[:3, :3], dtype=torch.float32).T \
        + torch.tensor([0.0, 0.0, 1.0])
    assert torch.allclose(out.means[0], expected)
    assert torch.allclose(out.scales[0], torch.full((2, 3), 6.0))


@pytest.mark.parametrize('variant,expected', [('da3-small', False), ('da3-giant', True),
                                              ('da3nested-giant-large', True)])
def test_only_variants_with_a_head_run_it(variant, expected):
    assert gaussians_io.wants_head(variant, True) is expected
    assert gaussians_io.wants_head(variant, False) is False
    assert dataclasses.fields(ModelInput)[-1].name == 'gaussians'


def test_posed_nested_gaussians_undo_the_models_pose_factor():
    """Nested with given poses: sigma is divided out, the metric scale factor applied.

    The model scaled its any-view Gaussians by sigma (any-view cameras -> given cameras).
    """
    w2c = torch.eye(4)[:3].repeat(1, 2, 1, 1)
    w2c[0, 1, 0, 3] = -1.0  # metric-scaled predicted camera 1 at x = 1; any-view: x = 0.5
    given = torch.eye(4).repeat(2, 1, 1)
    given[1, 0, 3] = -1.5  # given camera 1 at x = 1.5: sigma = 1.5 / 0.5 = 3
    means = torch.ones(1, 4, 3)
    head = Gaussians(means, torch.ones(1, 4, 3), torch.tensor([[[1.0, 0, 0, 0]] * 4]),
                     torch.zeros(1, 4, 3, 9), torch.ones(1, 4))
    pred = Prediction(depth=torch.ones(1, 2, 1, 2), extrinsics=w2c,
                      scale_factor=torch.tensor([2.0]), gaussians=head)
    inputs = ModelInput(images=torch.zeros(2, 3, 1, 2), extrinsics=given)
    out = gaussians_io.world_gaussians(pred, inputs, [0], np.tile(np.eye(4), (2, 1, 1)),
                                       np.tile(np.eye(3), (2, 1, 1)), [np.eye(4)], 1.0, 0.5)
    assert torch.allclose(out.means[0], torch.full((2, 3), 2.0 / 3.0), atol=1e-5)
