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

"""engine.scale: each scale source gives the scale its facts imply, numerically."""
import dataclasses

import numpy as np
import pytest
import torch

from da3_ros.config import WindowConfig
from da3_ros.engine import scale
from da3_ros.engine.stitch import Stitcher
from da3_ros.engine.window_geometry import WindowGeometry
from da3_ros.geometry import align, pose
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import METRIC_VARIANT

RNG = np.random.default_rng(7)


def _random_poses(count):
    return pose.make_pose(pose.so3_exp(RNG.normal(size=(count, 3))), RNG.normal(size=(count, 3)))


def _geo(t_gauge_cam, keys, t_base_cam=None, known=None, metric=False):
    count = len(keys)
    return WindowGeometry(keys, t_gauge_cam, np.zeros((count, 0, 3)), np.zeros((count, 0)),
                          np.zeros((count, 0)), t_base_cam or [None] * count,
                          known or [None] * count, metric)


@pytest.mark.parametrize('fx, fy', [(300.0, 300.0), (450.0, 450.0), (120.0, 180.0)])
def test_metric_model_depth_scales_by_mean_focal_over_300(fx, fy):
    depth = torch.rand(1, 2, 4, 5) + 0.5
    k = torch.tensor([[fx, 0, 2.0], [0, fy, 2.0], [0, 0, 1]]).repeat(2, 1, 1)
    k[1, :2, :2] *= 2  # the second view: twice the focal length, twice the depth
    out = scale.metric_model_depth(Prediction(depth=depth), k, METRIC_VARIANT)
    factor = (fx + fy) / 2 / 300.0  # upstream's canonical focal length, in pixels
    assert out.is_metric
    torch.testing.assert_close(out.depth[0, 0], depth[0, 0] * factor, rtol=1e-6, atol=0)
    torch.testing.assert_close(out.depth[0, 1], depth[0, 1] * 2 * factor, rtol=1e-6, atol=0)


def test_focal_rule_applies_to_the_metric_variant_with_intrinsics_only():
    pred = Prediction(depth=torch.ones(1, 1, 2, 2))
    k = torch.eye(3)[None] * 600
    assert scale.metric_model_depth(pred, k, 'da3mono-large') is pred
    assert scale.metric_model_depth(pred, None, METRIC_VARIANT) is pred


def test_rig_with_known_baseline_gives_its_scale():
    t_base_cam = [pose.make_pose(np.eye(3), np.array([x, 0.0, 0.0])) for x in (0.0, 0.6)]
    for s_true in (0.25, 3.0):
        gauge = _random_poses(2)
        gauge[1, :3, 3] = gauge[0, :3, 3] + pose.so3_exp([0.1, 0.2, 0.3]) @ [0.6 / s_true, 0, 0]
        geo = _geo(gauge, [(0.0, 'a'), (0.0, 'b')], t_base_cam)
        assert scale.rig_scale(geo) == pytest.approx(s_true, rel=1e-12)
        assert scale.absolute_scale(geo, WindowConfig()) == (pytest.approx(s_true), scale.RIG)


def test_rig_needs_two_cameras_of_one_timestep():
    t_base_cam = [np.eye(4), pose.make_pose(np.eye(3), np.array([0.6, 0.0, 0.0]))]
    geo = _geo(_random_poses(2), [(0.0, 'a'), (1.0, 'b')], t_base_cam)
    assert scale.rig_scale(geo) is None
    assert scale.absolute_scale(geo, WindowConfig()) == (None, scale.NONE)


def test_model_metric_is_scale_one_only_with_scale_source_auto():
    geo = _geo(_random_poses(1), [(0.0, 'a')], metric=True)
    assert scale.absolute_scale(geo, WindowConfig()) == (1.0, scale.MODEL)
    assert scale.absolute_scale(geo, WindowConfig(scale_source='rig')) == (None, scale.NONE)
    assert scale.absolute_scale(geo, WindowConfig(scale_source='none')) == (None, scale.NONE)


def test_odometry_poses_give_the_scale_that_maps_the_gauge_onto_them():
    gauge = _random_poses(4)
    keys = [(float(i), 'a') for i in range(4)]
    gauge_to_odom = align.Sim3(2.5, pose.so3_exp([0.2, -0.1, 0.4]), np.array([1.0, -2.0, 0.5]))
    known = list(gauge_to_odom.apply_pose(gauge))
    geo = _geo(gauge, keys, known=known)
    cfg = WindowConfig(align_points_per_view=0)
    assert scale.uses_odometry(geo, cfg)
    assert not scale.uses_odometry(geo, dataclasses.replace(cfg, scale_source='rig'))
    out = Stitcher(cfg).align(geo)
    assert out.scale_source == scale.ODOMETRY and out.is_metric and out.world_is_odom
    assert out.sim.scale == pytest.approx(2.5, rel=1e-9)


def test_gain_blends_absolute_and_chained_scale_geometrically():
    assert scale.blend(4.0, 1.0, 0.5) == pytest.approx(2.0, rel=1e-12)
    assert scale.blend(4.0, 1.0, 1.0) == pytest.approx(4.0, rel=1e-12)
    assert scale.blend(8.0, 2.0, 0.25) == pytest.approx(8.0 ** 0.25 * 2.0 ** 0.75, rel=1e-12)


def test_second_window_blends_rig_scale_with_chained_scale():
    """Window 1 is anchored at the rig scale; in window 2 the rig says 3, the chain says 2."""
    gain = 0.2
    cfg = WindowConfig(scale_gain=gain, align_points_per_view=0)
    stitcher = Stitcher(cfg)
    t_base_cam = [np.eye(4), pose.make_pose(np.eye(3), np.array([1.0, 0.0, 0.0]))]
    base = [pose.make_pose(np.eye(3), np.array([0.0, 0.0, float(t)])) for t in range(3)]
    cams = [b @ e for b in base for e in t_base_cam]
    keys = [(float(t), n) for t in range(3) for n in ('l', 'r')]
    first = stitcher.align(_geo(np.stack(cams[:4]), keys[:4], t_base_cam * 2))
    assert first.sim.scale == pytest.approx(1.0, rel=1e-9) and first.scale_source == scale.RIG
    half = np.stack(cams[2:]).copy()
    half[:, :3, 3] /= 2.0  # the shared views at half size: the chained scale is 2
    wide = [e.copy() for e in t_base_cam]
    wide[1][:3, 3] *= 1.5  # a baseline of 1.5 seen as 0.5: the rig says 3
    second = stitcher.align(_geo(half, keys[2:], wide * 2))
    assert second.sim.scale == pytest.approx(3.0 ** gain * 2.0 ** (1 - gain), rel=1e-6)
    assert second.scale_source == scale.RIG and second.is_metric


def test_models_without_poses_keep_scale_one():
    known = [np.eye(4)]
    geo = _geo(np.eye(4)[None], [(0.0, 'a')], known=known, metric=True)

    def chain(_):
        raise AssertionError('no poses: nothing to chain')

    out = scale.window_alignment(geo, False, False, chain, WindowConfig())
    assert (out.sim.scale, out.scale_source, out.is_metric, out.world_is_odom) == (
        1.0, scale.MODEL, True, True)
    out = scale.window_alignment(geo, False, False, chain, WindowConfig(scale_source='rig'))
    assert (out.scale_source, out.is_metric) == (scale.NONE, False)


def test_odometry_seen_by_the_model_is_reported_as_pose_conditioning():
    odometry = scale.Alignment(align.Sim3.identity(), True, scale.ODOMETRY, True, False)
    rig = dataclasses.replace(odometry, scale_source=scale.RIG)
    geo = _geo(np.eye(4)[None], [(0.0, 'a')])
    for given, conditioned, expected in ((odometry, True, scale.POSE_CONDITIONING),
                                         (odometry, False, scale.ODOMETRY),
                                         (rig, True, scale.RIG)):
        out = scale.window_alignment(geo, True, conditioned, lambda _: given, WindowConfig())
        assert out.scale_source == expected


def test_world_depth_is_gauge_depth_times_the_window_scale():
    depth = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    out = scale.world_depth(depth, 1.5)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[1.5, 3.0]]))
