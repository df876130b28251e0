"""The real DA3 network through the engine, with the deterministic parity-rule weights."""
import numpy as np
import pytest

from da3_ros.config import EngineConfig, ModelConfig, OutputConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.predictor import build_predictor
from da3_ros.model.weight_rule import rule_state_dict
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
