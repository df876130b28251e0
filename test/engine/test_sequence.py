"""Windowing, scale recovery and chaining on a 300-step synthetic six-camera sequence.

The simulated predictor answers every window in its own random similarity gauge (scale in
[0.5, 2]); see da3_ros.synthetic.predictor. Numbers are printed (pytest -s) for the record.
"""
import numpy as np
import pytest

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.synthetic import metrics
from da3_ros.synthetic.predictor import Distortion, SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

STEPS = 300
NOISE = Distortion(depth_noise=0.02, rot_noise_deg=0.5, trans_noise_rel=0.01,
                   trans_noise_abs=0.01)


@pytest.fixture(scope='module')
def rig():
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


def test_noise_free_with_rig_is_metric_and_exact(rig):
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


def test_noise_free_without_rig_after_one_similarity(rig):
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


def test_noisy_with_rig_scale_and_rpe(rig):
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
