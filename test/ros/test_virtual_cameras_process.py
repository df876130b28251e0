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

"""da3_node publishes virtual cameras between real processes (parity weights, CPU, da3-small).

The node runs as in test_node_process (multi_cam.yaml + a CPU override) plus two virtual
cameras: a bird's-eye view at a fixed pose over base_link, and one rendered from the TF frame of
the real front camera, which must see what the front camera's depth says.
"""
import json
from pathlib import Path
import sys
import time

import numpy as np
import pytest
from ros.ros_collector import TopicCollector  # test/ is on sys.path

from da3_ros.ros.messages.image import image_to_array, image_to_depth
from da3_ros.ros.messages.tf_msgs import stamp_to_ns

pytestmark = [pytest.mark.ros, pytest.mark.slow]
OVERRIDE = """/**/da3_node:
  ros__parameters:
    use_sim_time: true
    model: {variant: da3-small, weights: parity, device: cpu, dtype: fp32, process_res: 98}
    window: {length: 1}
    sync: {timeout_s: 0.25}
    virtual_cameras: [bev, front_twin]
    virtual:
      bev: {pose: [0.0, 0.0, 8.0, 0.0, 1.5707963, 0.0], size: [40, 30], fov_deg: 90.0}
      front_twin: {frame: cam_front_optical_frame, size: [49, 28], fov_deg: 100.0}
"""


def _collector() -> TopicCollector:
    from da3_ros.ros.messages.msgtypes import rclpy_types
    types = rclpy_types()
    topics = {'/da3_node/rig_step': types.RigStep, '/da3_node/front/depth': types.Image}
    for name in ('bev', 'front_twin'):
        topics.update({f'/da3_node/virtual/{name}/image': types.Image,
                       f'/da3_node/virtual/{name}/depth': types.Image,
                       f'/da3_node/virtual/{name}/camera_info': types.CameraInfo})
    return TopicCollector(topics)


def _wait_idle(c: TopicCollector, topic: str, quiet_s: float = 4.0, limit_s: float = 90.0):
    """Let the node finish the set it is rendering (a loaded CI machine is slow)."""
    deadline = time.monotonic() + limit_s
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(c.msgs[topic]) != count:
            count, since = len(c.msgs[topic]), time.monotonic()
        elif time.monotonic() - since > quiet_s:
            return
        time.sleep(0.5)


def test_node_publishes_virtual_cameras_at_the_set_stamps(ros_launcher, tmp_path):
    (tmp_path / 'override.yaml').write_text(OVERRIDE)
    # One image per camera at every step: the last set's render is the same whichever it is.
    scenario = {'period_s': 0.2, 'distinct_images': 1,
                'phases': [{'name': 'run', 'min_results': 3, 'max_steps': 900}]}
    (tmp_path / 'scenario.json').write_text(json.dumps(scenario))
    node = ros_launcher.module('da3_ros.ros.node', '--ros-args', '--params-file',
                               'config/multi_cam.yaml', '--params-file',
                               str(tmp_path / 'override.yaml'), name='da3_node',
                               env={'OMP_NUM_THREADS': '2'})
    c = _collector()
    unmatched = c.wait_matched(list(c.subscriptions), timeout_s=300)  # the model loads first
    assert not unmatched, (unmatched, node.output())
    player = ros_launcher.start([sys.executable, str(Path(__file__).with_name('rig_player.py')),
                                 str(tmp_path / 'scenario.json')], name='player')
    try:
        player.wait(timeout=400)
        _wait_idle(c, '/da3_node/virtual/bev/image')
    finally:
        c.close()
    assert node.stop() == 0, node.output()
    assert 'DONE' in player.output(), player.output() + node.output()
    sets = {stamp_to_ns(m.header.stamp) for m in c.msgs['/da3_node/rig_step']}
    assert len(sets) >= 3
    for name, (width, height) in (('bev', (40, 30)), ('front_twin', (49, 28))):
        images = c.msgs[f'/da3_node/virtual/{name}/image']
        assert len(images) >= 3, node.output()
        assert {stamp_to_ns(m.header.stamp) for m in images} <= sets
        image = images[-1]
        assert (image.encoding, image.width, image.height) == ('rgb8', width, height)
        assert image_to_array(image).shape == (height, width, 3)
        info = c.msgs[f'/da3_node/virtual/{name}/camera_info'][-1]
        assert (info.width, info.height) == (width, height)
        assert info.k[2] == pytest.approx(width / 2) and info.k[0] == info.k[4]
        expected_frame = 'cam_front_optical_frame' if name == 'front_twin' else 'da3/virtual/bev'
        assert image.header.frame_id == info.header.frame_id == expected_frame
    twin = c.msgs['/da3_node/virtual/front_twin/depth'][-1]
    stamp = stamp_to_ns(twin.header.stamp)
    real = next(m for m in c.msgs['/da3_node/front/depth'] if stamp_to_ns(m.header.stamp) == stamp)
    twin_depth, real_depth = image_to_depth(twin), image_to_depth(real)
    covered = np.isfinite(twin_depth)
    assert covered.mean() > 0.5  # the front camera's own splats fill most of its view
    lo, hi = np.nanpercentile(real_depth, 1), np.nanpercentile(real_depth, 99)
    inside = (twin_depth[covered] > 0.9 * lo) & (twin_depth[covered] < 1.1 * hi)
    assert inside.mean() > 0.9, inside.mean()  # the wider view sees the neighbours' splats too
    rgb = image_to_array(c.msgs['/da3_node/virtual/front_twin/image'][-1])
    assert rgb[covered].mean() > 5  # not a black image where it is covered
