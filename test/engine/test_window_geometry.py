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

"""window_geometry: what the stitcher gets from a prediction (poses, gauge points, weights)."""
import numpy as np
import pytest
import torch

from da3_ros.engine.preprocess import common_transform
from da3_ros.engine.window import ViewMeta, WindowBuffer
from da3_ros.engine.window_geometry import depth_confidence, host_geometry
from da3_ros.geometry import pose
from da3_ros.model.prediction import Prediction

K = np.array([[10.0, 0, 4.0], [0, 10.0, 3.0], [0, 0, 1.0]])
EXT = [np.eye(4), pose.make_pose(pose.so3_exp([0.0, 0.3, 0.0]), np.array([1.0, 0.0, 0.0]))]


def _span(k=K, extrinsics=EXT, odometry=None):
    buf = WindowBuffer(2, 8, ['a', 'b'], 'cpu')
    tf = common_transform((6, 8), (6, 8))
    entries = {n: (torch.zeros(3, 6, 8), ViewMeta(n, tf, k, e)) for n, e in zip('ab', extrinsics)}
    buf.push(0.0, entries, odometry)
    return buf.span(0)


def test_gauge_poses_and_points_come_from_the_predicted_cameras():
    t_gauge_cam = np.stack([pose.make_pose(pose.so3_exp([0.1, 0.2, 0.3]), np.array([1, 2, 3.0])),
                            pose.make_pose(pose.so3_exp([0.0, -0.4, 0.1]), np.zeros(3))])
    w2c = torch.tensor(pose.inverse(t_gauge_cam)[:, :3], dtype=torch.float64)[None]
    depth = torch.full((1, 2, 6, 8), 2.0, dtype=torch.float64)
    depth[0, 1, 0, :] = -1.0  # behind the camera: no weight
    conf = torch.full_like(depth, 3.0)
    pred = Prediction(depth=depth, depth_conf=conf, extrinsics=w2c)
    geo, k_proc = host_geometry(_span(), pred, points_per_view=48)
    np.testing.assert_allclose(geo.t_gauge_cam, t_gauge_cam, atol=1e-6)
    np.testing.assert_allclose(k_proc, np.stack([K, K]))
    assert geo.keys == [(0.0, 'a'), (0.0, 'b')] and geo.points.shape == (2, 48, 3)
    np.testing.assert_allclose(geo.depths[0], 2.0)
    cam_points = np.einsum('ij,spj->spi', np.linalg.inv(t_gauge_cam[0])[:3, :3],
                           geo.points[:1] - t_gauge_cam[0, :3, 3])
    np.testing.assert_allclose(cam_points[..., 2], 2.0, atol=1e-5)
    assert np.all(geo.weights[0] == 3.0)
    assert np.all(geo.weights[1][geo.depths[1] < 0] == 0.0) and np.any(geo.depths[1] < 0)
    assert not host_geometry(_span(), pred, points_per_view=0)[0].weights.any()


def test_views_without_predicted_poses_keep_known_then_rig_then_identity_poses():
    odom = pose.make_pose(np.eye(3), np.array([0.0, 0.0, 5.0]))
    pred = Prediction(depth=torch.ones(1, 2, 6, 8))
    geo, _ = host_geometry(_span(odometry=odom), pred, points_per_view=4)
    np.testing.assert_allclose(geo.t_gauge_cam, np.stack([odom @ e for e in EXT]))
    geo, _ = host_geometry(_span(extrinsics=[EXT[1], None]), pred, points_per_view=4)
    np.testing.assert_allclose(geo.t_gauge_cam, np.stack([EXT[1], np.eye(4)]))
    assert not geo.model_metric


@pytest.mark.parametrize('given', [True, False])
def test_intrinsics_given_else_predicted(given):
    predicted = torch.tensor(np.stack([K, K]) * [[2.0], [2.0], [1.0]], dtype=torch.float32)
    pred = Prediction(depth=torch.ones(1, 2, 6, 8), intrinsics=predicted[None])
    _, k_proc = host_geometry(_span(k=K if given else None), pred, points_per_view=4)
    np.testing.assert_allclose(k_proc, np.stack([K, K]) if given else predicted.numpy())


def test_confidence_is_nan_where_the_variant_has_none():
    assert torch.isnan(depth_confidence(Prediction(depth=torch.ones(1, 1, 2, 2)))).all()
    conf = torch.full((1, 1, 2, 2), 2.0, dtype=torch.float64)
    out = depth_confidence(Prediction(depth=torch.ones(1, 1, 2, 2), depth_conf=conf))
    assert out.dtype == torch.float32 and torch.all(out == 2.0)
