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

"""Tests of window chaining and scale sources (simulated predictor, short sequences)."""
import numpy as np

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.stitch import Stitcher
from da3_ros.engine.window_geometry import WindowGeometry
from da3_ros.geometry import align, pose
from da3_ros.synthetic.predictor import Distortion, SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig


def _engine(rig, distortion=Distortion(), **window):
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(length=3, **window),
                       output=OutputConfig(organized_clouds=False))
    return Engine(cfg, SimulatedPredictor(rig, distortion, seed=3))


def test_known_odometry_without_conditioning_anchors_to_odom():
    rig = SyntheticRig((14, 28))
    engine = _engine(rig, pose_conditioning='never')
    for step in range(5):
        res = engine.step(rig.frame(step, with_odometry=True))
        assert res.world_is_odom and res.is_metric and res.scale_source == 'odometry'
        np.testing.assert_allclose(res.t_world_base, rig.trajectory.t_odom_base(step),
                                   atol=1e-9)


def test_odometry_appearing_restarts_the_world_in_odom():
    rig = SyntheticRig((14, 28))
    engine = _engine(rig, pose_conditioning='never')
    for step in range(3):
        assert not engine.step(rig.frame(step)).world_is_odom
    res = [engine.step(rig.frame(step, with_odometry=True)) for step in range(3, 6)]
    assert not res[0].world_is_odom  # the window still holds timesteps without odometry
    assert res[-1].world_is_odom and res[-1].reset


def test_metric_model_is_a_scale_source_without_rig():
    rig = SyntheticRig((14, 28))
    engine = _engine(rig, Distortion(metric=True))
    res = [engine.step(rig.frame(step, with_extrinsics=False)) for step in range(4)]
    assert all(r.is_metric and r.scale_source == 'model' for r in res)
    np.testing.assert_allclose([r.scale for r in res], 1.0, atol=1e-12)


def test_scale_source_none_never_claims_metric():
    rig = SyntheticRig((14, 28))
    engine = _engine(rig, scale_source='none')
    res = [engine.step(rig.frame(step)) for step in range(4)]
    assert not any(r.is_metric for r in res)
    assert {r.scale_source for r in res} == {'none'}


def test_alignment_ignores_an_outlier_view():
    rng = np.random.default_rng(0)
    stitcher = Stitcher(WindowConfig(align_points_per_view=0))
    poses = pose.make_pose(pose.so3_exp(rng.normal(size=(12, 3))), rng.normal(size=(12, 3)) * 3)
    keys = [(float(i // 6), f'c{i % 6}') for i in range(12)]

    def geo(t_gauge_cam, window_keys):
        return WindowGeometry(window_keys, t_gauge_cam, np.zeros((12, 0, 3)), np.zeros((12, 0)),
                              np.zeros((12, 0)), [None] * 12, [None] * 12)

    first = stitcher.align(geo(poses, keys)).sim
    gauge = align.Sim3(1.7, pose.so3_exp([0.3, -0.2, 0.5]), np.array([1.0, 2.0, 3.0]))
    new_keys = keys[6:] + [(2.0, f'c{i}') for i in range(6)]
    new_gauge = gauge.apply_pose(np.concatenate([poses[6:], poses[:6]]))
    new_gauge[0, :3, 3] += 50.0  # one shared view is wildly wrong
    out = stitcher.align(geo(new_gauge, new_keys)).sim
    recovered = first.inverse().compose(out).compose(gauge)
    assert abs(recovered.scale - 1.0) < 1e-6
    assert np.degrees(pose.rotation_angle(recovered.rotation)) < 1e-4
    assert np.linalg.norm(recovered.translation) < 1e-4
