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

"""The simulated predictor: ground truth in a random similarity gauge, noise as configured.

The engine runs on it throughout test/engine (e.g. test_sequence.py for whole drives).
"""
import numpy as np
import pytest
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.geometry import pose as pose_lib
from da3_ros.synthetic.predictor import Distortion, SimulatedPredictor, SKY_DEPTH
from da3_ros.synthetic.sequence import SyntheticRig

SIZE_HW = (14, 28)


def predict(predictor, keys):
    images = torch.zeros(len(keys), 3, *SIZE_HW)
    return predictor.predict(ModelInput(images=images, keys=tuple(keys)))


def test_noise_free_output_is_the_truth_in_the_gauge():
    rig = SyntheticRig(SIZE_HW)
    keys = [(rig.trajectory.stamp(2), 'front'), (rig.trajectory.stamp(3), 'back_left')]
    predictor = SimulatedPredictor(rig, seed=1)
    pred = predict(predictor, keys)
    scale = predictor.last_gauges[-1][0]
    assert 0.5 <= scale <= 2.0
    w2c = [np.vstack([m, [0, 0, 0, 1]]) for m in pred.extrinsics[0].numpy()]
    truth = [rig.t_world_cam(k) for k in keys]
    relative = w2c[0] @ pose_lib.inverse(w2c[1])  # T_cam0_cam1, gauge-free up to scale
    expected = pose_lib.inverse(truth[0]) @ truth[1]
    np.testing.assert_allclose(relative[:3, :3], expected[:3, :3], atol=1e-9)
    np.testing.assert_allclose(relative[:3, 3], scale * expected[:3, 3], atol=1e-9)
    _, depth = rig.render(keys[0], SIZE_HW)
    np.testing.assert_allclose(pred.depth[0, 0].numpy(),
                               scale * np.where(np.isnan(depth), SKY_DEPTH, depth), rtol=1e-12)
    assert not pred.is_metric and predictor.injected_translation_rms() == 0.0


def test_metric_predictions_keep_the_scale_and_noise_is_reported():
    rig = SyntheticRig(SIZE_HW)
    keys = [(rig.trajectory.stamp(1), 'front'), (rig.trajectory.stamp(1), 'back')]
    predictor = SimulatedPredictor(rig, Distortion(metric=True, trans_noise_abs=0.2), seed=2)
    pred = predict(predictor, keys)
    assert pred.is_metric and predictor.last_gauges[-1][0] == 1.0
    assert predictor.injected_translation_rms() == pytest.approx(0.2)
