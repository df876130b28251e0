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

"""Live replay: the sample recording played into da3_node with /clock, looped once.

Real middleware between three processes: the player (``da3_ros.tools.replay``, rosbags + rclpy,
standing in for ``ros2 bag play --clock --loop``), da3_node started as the launch file starts it
(``--params-file config/multi_cam.yaml`` plus a CPU override, ``use_sim_time``) and a subscriber
here. The second loop restarts the clock at the bag's start: the node must reset (its log says so)
and keep publishing.
"""
import sys
import time

import pytest
from ros.ros_collector import TopicCollector  # test/ is on sys.path

from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.tools.bag.sample_recording import image_topic, RecordingSpec, write_recording

pytestmark = [pytest.mark.ros, pytest.mark.slow]
SPEC = RecordingSpec(steps=12, cameras=('front', 'front_left', 'back'))
RATE = 0.5
OVERRIDE = """/**/da3_node:
  ros__parameters:
    use_sim_time: true
    model: {{variant: da3-small, weights: parity, device: cpu, dtype: fp32, process_res: 28}}
    window: {{length: 1}}
    sync: {{timeout_s: 0.25, slop_s: 0.05}}
    diagnostics_period_s: 0.5
    cameras: [{names}]
    camera:
{blocks}
"""
BLOCK = """      {name}: {{image_topic: {topic}, info_topic: /cam_{name}/camera_info,
               transport: compressed}}"""


def _override(tmp_path):
    blocks = '\n'.join(BLOCK.format(name=n, topic=image_topic(SPEC, n)) for n in SPEC.cameras)
    path = tmp_path / 'override.yaml'
    path.write_text(OVERRIDE.format(names=', '.join(SPEC.cameras), blocks=blocks))
    return path


def test_looped_replay_with_clock_resets_node_and_keeps_publishing(ros_launcher, tmp_path):
    bag = write_recording(tmp_path / 'sample', SPEC)
    node = ros_launcher.module('da3_ros.ros.node', '--ros-args', '--params-file',
                               'config/multi_cam.yaml', '--params-file',
                               str(_override(tmp_path)), name='da3_node',
                               env={'OMP_NUM_THREADS': '2'})
    collector = TopicCollector({'/da3_node/rig_step': rclpy_types().RigStep},
                               name='replay_collector')
    unmatched = collector.wait_matched(['/da3_node/rig_step'], timeout_s=300)  # model loads first
    assert not unmatched, (unmatched, node.output())
    player = ros_launcher.start(
        [sys.executable, '-m', 'da3_ros.tools.replay', str(bag), '--clock', '--loops', '2',
         '--rate', str(RATE), '--wait-topic', image_topic(SPEC, 'front'), '--wait-s', '180'],
        name='player')
    try:
        assert player.wait(timeout=240) == 0, player.output() + node.output()
        time.sleep(3.0)
    finally:
        collector.close()
    log = node.output()
    assert node.poll() is None, log
    assert 'LOOP 1' in player.output() and 'DONE' in player.output()
    stamps = collector.stamps('/da3_node/rig_step')
    jumps = [i for i in range(1, len(stamps)) if stamps[i] < stamps[i - 1]]
    assert len(jumps) == 1, (stamps, log)
    first, second = stamps[:jumps[0]], stamps[jumps[0]:]
    assert len(first) >= 2 and len(second) >= 2, (stamps, log)
    assert 'clock jumped backwards' in log and 'resetting' in log, log
