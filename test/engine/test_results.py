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

"""results: one sky threshold (what the model fills is what is masked), confidence NaN."""
import numpy as np
import torch

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import fill_sky_depth, SKY_THRESHOLD
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ['front', 'back']


class SkyPredictor:
    """A mono-like prediction: sky score just above the fill threshold in the top half."""

    def predict(self, inputs):
        views, _, h, w = inputs.images.shape
        depth = torch.linspace(2.0, 6.0, h * w).reshape(1, 1, h, w).repeat(1, views, 1, 1)
        sky = torch.zeros_like(depth)
        sky[..., :h // 2, :] = SKY_THRESHOLD + 0.1  # below the engine's former 0.5
        return Prediction(depth=fill_sky_depth(depth, sky), sky=sky)


def test_sky_the_model_filled_is_masked_and_mono_is_not_confidence_filtered():
    cfg = EngineConfig(model=ModelConfig(variant='da3mono-large', weights='random', device='cpu',
                                         dtype='fp32', process_res=28),
                       window=WindowConfig(length=1),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9, min_confidence=1.1,
                                           resolution='processed'))
    res = Engine(cfg, SkyPredictor()).step(SyntheticRig((28, 28)).frame(0, names=NAMES))
    cam = res.cameras['front']
    h = cam.depth.shape[0]
    assert cam.sky[:h // 2].all() and not cam.sky[h // 2:].any()
    assert np.isnan(cam.cloud[:h // 2]).all(), 'filled sky never reaches a cloud'
    assert np.isfinite(cam.cloud[h // 2:]).all(), 'no confidence output: not filtered by it'
    assert np.isnan(cam.confidence).all()
    assert len(res.fused_points) == len(NAMES) * cam.sky[h // 2:].size  # no voxel grid
