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

"""da3_node driven by an external lifecycle manager (``autostart: false``), between processes.

This process plays the manager the way ``ros2 lifecycle set`` and Nav2's lifecycle manager do:
``<node>/get_state`` and ``<node>/change_state`` (lifecycle_msgs), plus ``<node>/set_parameters``
for a run-time update. Checked: the node waits unconfigured; configure loads the model but
subscribes to nothing; activate subscribes and outputs flow; ``tf_mode`` set while active takes
effect with the next sets; deactivate unsubscribes; cleanup, a second configure + activate (Nav2's
reset and startup) and shutdown succeed; Ctrl-C then exits cleanly.
"""
import json
from pathlib import Path
import sys
import time

import pytest
from ros.ros_collector import TopicCollector  # test/ is on sys.path

from da3_ros.ros.messages.tf_msgs import stamp_to_ns

pytestmark = [pytest.mark.ros, pytest.mark.slow]
OVERRIDE = """/**/da3_node:
  ros__parameters:
    autostart: false
    use_sim_time: true
    model: {variant: da3-small, weights: parity, device: cpu, dtype: fp32, process_res: 56}
    window: {length: 1}
    sync: {timeout_s: 0.25}
"""
IMAGE_TOPIC = '/cam_front/image_raw'
NS = 1_000_000_000


class Manager:
    """Lifecycle and parameter service clients on the collector's node."""

    def __init__(self, collector: TopicCollector, node_name: str = '/da3_node') -> None:
        from lifecycle_msgs.srv import ChangeState, GetState
        from rcl_interfaces.srv import SetParameters
        node = collector.node
        self.get = node.create_client(GetState, f'{node_name}/get_state')
        self.change = node.create_client(ChangeState, f'{node_name}/change_state')
        self.params = node.create_client(SetParameters, f'{node_name}/set_parameters')
        for client in (self.get, self.change, self.params):
            assert client.wait_for_service(timeout_sec=60.0), client.srv_name

    @staticmethod
    def _call(client, request, timeout_s: float = 120.0):
        future = client.call_async(request)
        end = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < end:
            time.sleep(0.02)
        assert future.done(), f'{client.srv_name}: no answer in {timeout_s} s'
        return future.result()

    def state(self) -> str:
        return self._call(self.get, self.get.srv_type.Request()).current_state.label

    def transition(self, label: str) -> bool:
        from lifecycle_msgs.msg import Transition
        ids = {'configure': Transition.TRANSITION_CONFIGURE,
               'activate': Transition.TRANSITION_ACTIVATE,
               'deactivate': Transition.TRANSITION_DEACTIVATE,
               'cleanup': Transition.TRANSITION_CLEANUP,
               'shutdown': Transition.TRANSITION_UNCONFIGURED_SHUTDOWN}
        request = self.change.srv_type.Request()
        request.transition.id = ids[label]
        return self._call(self.change, request).success

    def set_string(self, name: str, value: str):
        from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
        request = self.params.srv_type.Request(parameters=[Parameter(
            name=name, value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                            string_value=value))])
        return self._call(self.params, request).results[0]


def _subscribers(collector: TopicCollector, topic: str, want_zero: bool,
                 timeout_s: float = 15.0) -> int:
    """Subscriber count of ``topic`` once it settles at zero / above zero (or the timeout)."""
    end = time.monotonic() + timeout_s
    count = collector.node.count_subscribers(topic)
    while time.monotonic() < end and (count == 0) != want_zero:
        time.sleep(0.1)
        count = collector.node.count_subscribers(topic)
    return count


def _play(ros_launcher, tmp_path: Path, name: str, start_k: int) -> tuple:
    """One player process for one phase of two RigSteps; returns its (first, last) stamp."""
    scenario = {'period_s': 0.2, 'distinct_images': 2, 'start_k': start_k, 'settle_s': 0.5,
                'linger_s': 0.5, 'phases': [{'name': name, 'min_results': 2}]}
    path = tmp_path / f'{name}.json'
    path.write_text(json.dumps(scenario))
    player = ros_launcher.start([sys.executable, str(Path(__file__).with_name('rig_player.py')),
                                 str(path)], name=f'player_{name}')
    assert player.wait(timeout=240) == 0, player.output()
    phase = next(line.split() for line in player.output().splitlines()
                 if line.startswith('PHASE'))
    return int(phase[2]), int(phase[3])


def _da3_tf_stamps(collector: TopicCollector) -> list:
    return [stamp_to_ns(t.header.stamp) for m in list(collector.msgs['/tf'])
            for t in m.transforms if t.child_frame_id.startswith('da3/')]


def test_external_lifecycle_manager_and_run_time_tf_mode(ros_launcher, tmp_path):
    from da3_ros.ros.messages.msgtypes import rclpy_types
    override = tmp_path / 'override.yaml'
    override.write_text(OVERRIDE)
    node = ros_launcher.module('da3_ros.ros.node', '--ros-args', '--params-file',
                               'config/multi_cam.yaml', '--params-file', str(override),
                               name='da3_node', env={'OMP_NUM_THREADS': '2'})
    types = rclpy_types()
    collector = TopicCollector({'/da3_node/rig_step': types.RigStep, '/tf': types.TFMessage,
                                '/da3_node/front/depth': types.Image}, name='manager')
    try:
        manager = Manager(collector)
        assert manager.state() == 'unconfigured'
        time.sleep(1.0)  # discovery has had time: a subscription would show by now
        assert _subscribers(collector, IMAGE_TOPIC, want_zero=True) == 0
        assert manager.transition('configure')
        assert manager.state() == 'inactive'
        assert _subscribers(collector, IMAGE_TOPIC, want_zero=True) == 0
        assert manager.transition('activate')
        assert manager.state() == 'active'
        assert _subscribers(collector, IMAGE_TOPIC, want_zero=False) > 0

        first = _play(ros_launcher, tmp_path, 'tf_none', start_k=0)
        assert collector.wait_for('/da3_node/rig_step', 2, 10.0)
        assert not _da3_tf_stamps(collector)  # tf_mode none (the file's value)

        rejected = manager.set_string('tf_mode', 'everything')
        assert not rejected.successful and 'tf_mode' in rejected.reason
        assert manager.set_string('tf_mode', 'cameras').successful
        second = _play(ros_launcher, tmp_path, 'tf_cameras', start_k=first[1] // (NS // 10) - 999)
        time.sleep(1.0)
        stamps = _da3_tf_stamps(collector)
        assert stamps and all(second[0] <= s <= second[1] for s in stamps), (stamps, second)
        steps = collector.stamps('/da3_node/rig_step')
        assert any(first[0] <= s <= first[1] for s in steps)
        assert any(second[0] <= s <= second[1] for s in steps)

        assert manager.transition('deactivate')
        assert manager.state() == 'inactive'
        assert _subscribers(collector, IMAGE_TOPIC, want_zero=True) == 0
        assert manager.transition('cleanup')
        assert manager.state() == 'unconfigured'
        assert manager.transition('configure')  # Nav2's reset + startup: configure again
        assert manager.transition('activate')
        assert _subscribers(collector, IMAGE_TOPIC, want_zero=False) > 0
        assert manager.transition('deactivate') and manager.transition('cleanup')
        assert manager.transition('shutdown')
        assert manager.state() == 'finalized'
    finally:
        collector.close()
    assert node.poll() is None, node.output()
    assert node.stop() == 0, node.output()  # Ctrl-C: a clean exit, no crash in teardown
    log = node.output()
    assert 'applied at run time: tf_mode' in log, log
    assert '[ERROR]' not in log, log
