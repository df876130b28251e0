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

"""engine: admission, the real network through the engine, scale and chaining over 300 steps.

Admission: stride, output delay, time jumps. The real network runs with the parity-rule weights.
The sequence tests run windowing, scale recovery and chaining on a synthetic six-camera rig.

In the sequence tests the simulated predictor answers every window in its own random similarity
gauge (scale in [0.5, 2]); see da3_ros.synthetic.predictor. Numbers are printed (pytest -s).
"""
import numpy as np
import pytest

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.predictor import build_predictor
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.synthetic import metrics
from da3_ros.synthetic.predictor import Distortion, SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ['front', 'front_left', 'back']


@pytest.fixture(scope='module')
def state_dict():
    return rule_state_dict('da3-small')


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((28, 56))


def _engine(state_dict, **window):
    cfg = EngineConfig(model=ModelConfig(variant='da3-small', weights='random', device='cpu',
                                         dtype='fp32', process_res=42,
                                         ref_view_strategy='first'),
                       window=WindowConfig(length=2, **window),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9))
    return Engine(cfg, build_predictor(cfg.model, state_dict))


def _steps(engine, rig, count, **frame_kw):
    return [engine.step(rig.frame(s, names=NAMES, **frame_kw)) for s in range(count)]


def test_shapes_dtypes_and_determinism(state_dict, rig):
    first = _steps(_engine(state_dict), rig, 3)
    second = _steps(_engine(state_dict), rig, 3)
    res = first[-1]
    assert list(res.cameras) == NAMES
    assert res.window_stamps == (rig.trajectory.stamp(1), rig.trajectory.stamp(2))
    for name, cam in res.cameras.items():
        assert cam.depth.shape == (28, 56) and cam.depth.dtype == np.float32
        assert cam.confidence.shape == (28, 56) and cam.sky.dtype == bool
        assert cam.cloud.shape == (28, 56, 3)
        assert cam.k.shape == (3, 3) and cam.t_world_cam.shape == (4, 4)
        assert np.all(np.isfinite(cam.depth)) and np.all(cam.confidence >= 1.0)
        np.testing.assert_array_equal(cam.depth, second[-1].cameras[name].depth)
        np.testing.assert_allclose(cam.k, rig.intrinsics(name, (28, 56)), atol=1e-9)
    assert res.fused_points.ndim == 2 and res.fused_points.shape[1] == 3
    assert res.is_metric and res.scale_source == 'rig'
    assert set(res.timings) >= {'preprocess', 'forward', 'align', 'postprocess', 'total'}


def test_pose_conditioning_uses_known_poses(state_dict, rig):
    res = _steps(_engine(state_dict), rig, 2, with_odometry=True)[-1]
    assert res.scale_source == 'pose_conditioning' and res.world_is_odom and res.is_metric
    expected = rig.t_world_cam((res.stamp, 'front'))
    np.testing.assert_allclose(res.cameras['front'].t_world_cam, expected, atol=1e-9)
    np.testing.assert_allclose(res.t_world_base, rig.trajectory.t_odom_base(1), atol=1e-9)
    never = _engine(state_dict, pose_conditioning='never')
    res_never = _steps(never, rig, 2, with_odometry=True)[-1]
    assert res_never.scale_source == 'odometry'
    assert not np.array_equal(res_never.cameras['front'].depth, res.cameras['front'].depth)


def test_missing_camera_keeps_going(state_dict, rig):
    engine = _engine(state_dict)
    engine.step(rig.frame(0, names=NAMES))
    res = engine.step(rig.frame(1, names=['front', 'back']))
    assert list(res.cameras) == ['front', 'back']
    res = engine.step(rig.frame(2, names=NAMES))
    assert list(res.cameras) == NAMES and res.is_metric


def test_autocast_bf16_runs(state_dict, rig):
    cfg = EngineConfig(model=ModelConfig(variant='da3-small', weights='random', device='cpu',
                                         dtype='bf16', process_res=42),
                       window=WindowConfig(length=1))
    engine = Engine(cfg, build_predictor(cfg.model, state_dict))
    res = engine.step(rig.frame(0, names=NAMES))
    assert res.cameras['front'].depth.dtype == np.float32
    assert np.all(np.isfinite(res.cameras['front'].depth))


class RawDepth:
    """Wraps a predictor and keeps the depth [S, h, w] the network returned."""

    def __init__(self, inner) -> None:
        self.inner, self.depth = inner, None

    def predict(self, inputs):
        pred = self.inner.predict(inputs)
        self.depth = pred.depth[0].numpy().copy()
        return pred


def test_metric_model_rule_and_rig_poses(rig):
    cfg = EngineConfig(model=ModelConfig(variant='da3metric-large', weights='random',
                                         device='cpu', dtype='fp32', process_res=28),
                       window=WindowConfig(length=1),
                       output=OutputConfig(min_depth=0.0, max_depth=1e9,
                                           resolution='processed'))
    raw = RawDepth(build_predictor(cfg.model))
    engine = Engine(cfg, raw)
    res = engine.step(SyntheticRig((14, 28)).frame(0, names=NAMES))
    assert res.is_metric and res.scale_source == 'model'
    np.testing.assert_allclose(res.cameras['back'].t_world_cam,
                               rig.cameras['back'].t_base_cam, atol=1e-12)
    assert np.all(np.isfinite(res.cameras['back'].depth))
    for index, name in enumerate(NAMES):  # metres = output * ((fx + fy) / 2) / 300
        k = res.cameras[name].k
        expected = raw.depth[index] * ((k[0, 0] + k[1, 1]) / 2 / 300.0)
        np.testing.assert_allclose(res.cameras[name].depth, expected, rtol=1e-6)
        assert not np.allclose(res.cameras[name].depth, raw.depth[index], rtol=1e-3)


def _sim_engine(rig, **window):
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(**window),
                       output=OutputConfig(organized_clouds=False, fused_cloud=False))
    return Engine(cfg, SimulatedPredictor(rig, Distortion()))


def test_stride_delay_and_time_jump_reset():
    rig = SyntheticRig((14, 28))
    engine = _sim_engine(rig, length=3, stride=2, output_delay=1)
    out = [engine.step(rig.frame(s)) for s in range(6)]
    assert [r is None for r in out] == [True, True, False, True, False, True]
    assert out[2].stamp == rig.trajectory.stamp(0)
    assert out[4].window_stamps == tuple(rig.trajectory.stamp(s) for s in (0, 2, 4))
    assert out[4].stamp == rig.trajectory.stamp(2)
    engine = _sim_engine(rig, length=3)
    engine.step(rig.frame(5))
    assert not engine.step(rig.frame(6)).reset
    back = engine.step(rig.frame(2))
    assert back.reset and back.window_stamps == (rig.trajectory.stamp(2),)
    gap = engine.step(rig.frame(40))
    assert gap.reset and len(gap.window_stamps) == 1


STEPS = 300
NOISE = Distortion(depth_noise=0.02, rot_noise_deg=0.5, trans_noise_rel=0.01,
                   trans_noise_abs=0.01)


@pytest.fixture(scope='module')
def long_rig():
    return SyntheticRig((14, 28), cache_size=STEPS * 6 + 64)


def _run(rig, distortion, with_extrinsics, seed=1):
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(length=3))
    predictor = SimulatedPredictor(rig, distortion, seed=seed)
    engine = Engine(cfg, predictor)
    results, scale_ratio = [], []
    for step in range(STEPS):
        result = engine.step(rig.frame(step, with_extrinsics=with_extrinsics))
        results.append(result)
        true_scale = 1.0 / predictor.last_gauges[-1][0]
        scale_ratio.append(result.scale / true_scale)
    gt = np.stack([rig.trajectory.t_odom_base(s) for s in range(STEPS)])
    return results, np.array(scale_ratio), gt, predictor


def test_noise_free_with_rig_is_metric_and_exact(long_rig):
    rig = long_rig
    results, ratio, gt, _ = _run(rig, Distortion(), with_extrinsics=True)
    assert all(r.is_metric and r.scale_source == 'rig' for r in results)
    np.testing.assert_allclose(ratio, 1.0, atol=1e-9)
    est = np.stack([r.t_world_base for r in results])
    ate, fit = metrics.ate(est, gt, with_scale=False)
    print(f'\nnoise-free, rig known: ATE {ate:.3e} m over {metrics.path_length(gt):.1f} m')
    assert ate <= 1e-6 * metrics.path_length(gt)
    # Depth is metric too.
    cam = results[-1].cameras['front']
    _, depth_gt = rig.render((results[-1].stamp, 'front'), (14, 28))
    np.testing.assert_allclose(cam.depth, depth_gt, rtol=1e-6)


def test_noise_free_without_rig_after_one_similarity(long_rig):
    rig = long_rig
    results, ratio, gt, _ = _run(rig, Distortion(), with_extrinsics=False)
    assert not any(r.is_metric for r in results)
    assert {r.scale_source for r in results} == {'none'}
    assert all(r.t_world_base is None for r in results)
    est = np.stack([r.cameras['front'].t_world_cam for r in results])
    gt_front = gt @ rig.cameras['front'].t_base_cam
    ate, fit = metrics.ate(est, gt_front, with_scale=True)
    print(f'\nnoise-free, no rig: ATE {ate:.3e} m after one Sim(3), scale {fit.scale:.6f}')
    assert ate <= 1e-6 * metrics.path_length(gt_front)
    # After the single global fit every step's scale is exact as well (no scale drift).
    np.testing.assert_allclose(ratio * fit.scale, 1.0, atol=1e-9)


def test_noisy_with_rig_scale_and_rpe(long_rig):
    rig = long_rig
    results, ratio, gt, predictor = _run(rig, NOISE, with_extrinsics=True)
    scale_err = np.abs(ratio - 1.0)
    est = np.stack([r.t_world_base for r in results])
    trans, rot = metrics.rpe(est, gt)
    ate, _ = metrics.ate(est, gt, with_scale=False)
    injected_t = predictor.injected_translation_rms()
    rpe_t, rpe_r = float(np.sqrt(np.mean(trans ** 2))), float(np.sqrt(np.mean(rot ** 2)))
    print(f'\nnoisy, rig known: scale error max {scale_err.max():.4%} mean {scale_err.mean():.4%}'
          f'\n  RPE trans RMS {rpe_t:.4f} m (injected per-view {injected_t:.4f} m),'
          f' rot RMS {rpe_r:.3f} deg (injected 0.5 deg)'
          f'\n  RPE trans mean first/last 100: {trans[:100].mean():.4f}'
          f' / {trans[-100:].mean():.4f}'
          f' m; rot {rot[:100].mean():.3f} / {rot[-100:].mean():.3f} deg'
          f'\n  ATE {ate:.3f} m over {metrics.path_length(gt):.1f} m (reported, not bounded)')
    assert all(r.is_metric for r in results)
    assert scale_err.max() <= 0.01
    assert rpe_t <= 2.0 * injected_t
    assert rpe_r <= 2.0 * NOISE.rot_noise_deg
    assert trans[-100:].mean() <= 1.2 * trans[:100].mean()
    assert rot[-100:].mean() <= 1.2 * rot[:100].mean()
