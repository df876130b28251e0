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

"""model_inputs: which poses condition the forward, normalised as upstream normalises them."""
import numpy as np
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.model_inputs import conditioning_poses, model_input, normalise_extrinsics
from da3_ros.engine.preprocess import common_transform
from da3_ros.engine.window import ViewMeta, WindowBuffer
from da3_ros.geometry import pose
from da3_ros.synthetic.predictor import SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

K = np.array([[20.0, 0, 7], [0, 20.0, 7], [0, 0, 1]])


def _span(odometry, extrinsics, steps=1):
    """A two-camera window of ``steps`` timesteps (odometry and extrinsics may be None)."""
    buf = WindowBuffer(3, 8, ['a', 'b'], 'cpu')
    tf = common_transform((14, 14), (14, 14))
    for step in range(steps):
        entries = {name: (torch.zeros(3, 14, 14), ViewMeta(name, tf, K, ext))
                   for name, ext in zip('ab', extrinsics)}
        buf.push(float(step), entries, None if odometry is None else odometry[step])
    return buf.span(0)


def test_normalised_poses_are_relative_to_view_0_with_unit_median_range():
    rng = np.random.default_rng(1)
    t_world_cam = pose.make_pose(pose.so3_exp(rng.normal(size=(4, 3))), rng.normal(size=(4, 3)))
    w2c = normalise_extrinsics(t_world_cam)
    np.testing.assert_allclose(w2c[0], np.eye(4), atol=1e-12)
    dist = np.sort(np.linalg.norm(pose.inverse(w2c)[:, :3, 3], axis=1))
    assert dist[1] == pytest.approx(1.0)  # the lower median of (0, d1, d2, d3)
    np.testing.assert_allclose(w2c[:, :3, :3], (pose.inverse(t_world_cam) @ t_world_cam[0])
                               [:, :3, :3], atol=1e-12)


def test_normalised_range_is_floored_at_a_tenth():
    t_world_cam = np.stack([np.eye(4)] * 3)
    t_world_cam[1, 0, 3], t_world_cam[2, 0, 3] = 0.01, 0.02
    w2c = normalise_extrinsics(t_world_cam)
    assert np.linalg.norm(pose.inverse(w2c)[1, :3, 3]) == pytest.approx(0.01 / 0.1)


def test_odometry_then_rig_extrinsics_of_one_timestep_condition():
    ext = [np.eye(4), pose.make_pose(np.eye(3), np.array([0.5, 0.0, 0.0]))]
    odom = [pose.make_pose(np.eye(3), np.array([0.0, 0.0, float(s)])) for s in range(2)]
    span = _span(odom, ext, steps=2)
    np.testing.assert_allclose(np.stack(conditioning_poses(span)),
                               np.stack([o @ e for o in odom for e in ext]))
    assert conditioning_poses(_span(None, ext, steps=2)) is None  # two timesteps, no odometry
    np.testing.assert_allclose(np.stack(conditioning_poses(_span(None, ext))), np.stack(ext))
    assert conditioning_poses(_span(None, [ext[0], None])) is None
    inputs = model_input(_span(None, ext), 'auto', gaussians=True)
    assert inputs.gaussians and inputs.keys == ((0.0, 'a'), (0.0, 'b'))
    np.testing.assert_allclose(inputs.intrinsics.numpy(), np.stack([K, K]), atol=1e-6)
    np.testing.assert_allclose(inputs.extrinsics.numpy(), normalise_extrinsics(np.stack(ext)),
                               atol=1e-6)
    assert model_input(_span(None, ext), 'never', gaussians=False).extrinsics is None


class Recorder:
    """Wraps a predictor and keeps the extrinsics each forward was conditioned on."""

    def __init__(self, inner) -> None:
        self.inner, self.extrinsics = inner, []

    def predict(self, inputs):
        self.extrinsics.append(inputs.extrinsics)
        return self.inner.predict(inputs)


def test_rig_extrinsics_condition_a_single_timestep_without_odometry():
    rig = SyntheticRig((28, 42))
    names = ['front', 'front_left', 'back']
    for length, conditioned in ((1, [True, True]), (2, [True, False])):
        cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                           window=WindowConfig(length=length))
        recorder = Recorder(SimulatedPredictor(rig))
        engine = Engine(cfg, recorder)
        for step in range(2):
            engine.step(rig.frame(step, names=names))  # no odometry
        assert [e is not None for e in recorder.extrinsics] == conditioned, length
        expected = normalise_extrinsics(np.stack([rig.cameras[n].t_base_cam for n in names]))
        np.testing.assert_allclose(recorder.extrinsics[0].numpy(), expected, atol=1e-6)
