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

"""Tests of the sliding window buffer and keyframe/reset policy."""
import gc
import tracemalloc

import numpy as np
import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.engine import Engine
from da3_ros.engine.preprocess import common_transform
from da3_ros.engine.types import RigFrame
from da3_ros.engine.window import ViewMeta, WindowBuffer
from da3_ros.errors import SyncError
from da3_ros.model.prediction import Prediction
from da3_ros.synthetic.sequence import SyntheticRig


def _entry(value):
    meta = ViewMeta('f', common_transform((14, 14), (14, 14)), None, None)
    return torch.full((3, 14, 14), float(value)), meta


def test_ring_order_eviction_and_missing_cameras():
    buf = WindowBuffer(3, 100, ['a', 'b'], 'cpu')
    for step in range(5):
        names = ['a', 'b'] if step != 3 else ['b']
        buf.push(float(step), {n: _entry(step) for n in names}, None)
    views = buf.views()
    assert [(v.stamp, v.name) for v in views] == [(2.0, 'a'), (2.0, 'b'), (3.0, 'b'),
                                                  (4.0, 'a'), (4.0, 'b')]
    images = buf.gather(views)
    assert images.shape == (5, 3, 14, 14)
    assert images[:, 0, 0, 0].tolist() == [2.0, 2.0, 3.0, 4.0, 4.0]


def test_max_views_drops_oldest_timesteps():
    buf = WindowBuffer(3, 3, ['a', 'b'], 'cpu')
    for step in range(3):
        buf.push(float(step), {'a': _entry(step), 'b': _entry(step)}, None)
    assert [v.stamp for v in buf.views()] == [2.0, 2.0]
    tiny = WindowBuffer(2, 1, ['a', 'b'], 'cpu')
    tiny.push(0.0, {'a': _entry(0), 'b': _entry(0)}, None)
    assert [v.name for v in tiny.views()] == ['a']


def test_span_waits_for_the_delay_and_names_the_output_views():
    buf = WindowBuffer(3, 100, ['a', 'b'], 'cpu')
    odom = np.eye(4)
    odom[:3, 3] = [0.0, 0.0, 2.0]
    t_base_cam = np.eye(4)
    t_base_cam[:3, 3] = [0.5, 0.0, 0.0]
    tf = common_transform((14, 14), (14, 14))
    for step in range(2):
        assert buf.span(1 if step == 0 else 2) is None  # not more timesteps than the delay
        buf.push(float(step), {'a': _entry(step), 'b': (torch.zeros(3, 14, 14),
                                                        ViewMeta('fb', tf, None, t_base_cam))},
                 odom if step == 1 else None)
    span = buf.span(1)
    assert span.stamps == (0.0, 1.0) and span.output_stamp == 0.0
    assert span.keys == [(0.0, 'a'), (0.0, 'b'), (1.0, 'a'), (1.0, 'b')]
    assert span.output_indices == [0, 1] and buf.span(0).output_indices == [2, 3]
    assert [k is None for k in span.known] == [True, True, True, False]  # odometry and extrinsic
    np.testing.assert_allclose(span.known[3], odom @ t_base_cam)
    assert span.metas[3].frame_id == 'fb'


def test_unknown_camera_raises():
    buf = WindowBuffer(2, 10, ['a'], 'cpu')
    with pytest.raises(SyncError, match='zz'):
        buf.push(0.0, {'zz': _entry(0)}, None)


class _ConstantPredictor:
    """Same answer for every window: the rig at the origin, 5 m depth everywhere."""

    def __init__(self, rig):
        self.rig = rig

    def predict(self, inputs):
        poses = [self.rig.cameras[name].t_base_cam for _, name in inputs.keys]
        extr = torch.tensor(np.stack([np.linalg.inv(p)[:3] for p in poses]))[None]
        intr = torch.tensor(np.stack([self.rig.intrinsics(n, (14, 28)) for _, n in inputs.keys]))
        depth = torch.full((1, len(inputs.keys), 14, 28), 5.0, dtype=torch.float64)
        return Prediction(depth=depth, depth_conf=torch.ones_like(depth) * 2, extrinsics=extr,
                          intrinsics=intr[None])


def _growth(run, steps):
    """Bytes still allocated after ``run(step)`` for each step (garbage collected first)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for step in steps:
        run(step)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, 'filename'))


def test_window_buffer_ten_thousand_steps_do_not_grow():
    buf = WindowBuffer(3, 24, ['a', 'b', 'c'], 'cpu')
    entries = {n: _entry(1) for n in 'abc'}
    for step in range(100):
        buf.push(step * 0.1, entries, np.eye(4))
    images = buf.images

    def push(step):
        buf.push(step * 0.1, entries, np.eye(4))
        buf.gather(buf.views())

    assert _growth(push, range(100, 10000)) < 16 * 1024
    assert buf.images is images


def test_engine_steps_do_not_grow_memory():
    rig = SyntheticRig((14, 28))
    cfg = EngineConfig(model=ModelConfig(device='cpu', weights='random', process_res=28),
                       window=WindowConfig(length=3, align_points_per_view=16))
    engine = Engine(cfg, _ConstantPredictor(rig))
    frames = [rig.frame(s) for s in range(4)]
    results = []

    def step(index):
        results[:] = [engine.step(RigFrame(stamp=index * 0.1, cameras=frames[index % 4].cameras))]

    for index in range(100):
        step(index)
    # About 90 KiB of live state differs between the snapshots whatever the step count.
    assert _growth(step, range(100, 700)) < 192 * 1024
    assert len(engine.stitcher.history) <= 18
    assert engine.window.images.shape[:2] == (3, 6)
    assert results[0].is_metric and not results[0].reset
