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

"""The node's input subscriptions: class per transport, QoS per topic, messages to the intake.

Subscriptions on a live ROS graph are exercised by test_node_process.py.
"""
import pytest
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, ReliabilityPolicy

from da3_ros.config import CameraConfig
from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.ros.messages.rig_input import CameraSource
from da3_ros.ros.subscriptions import INPUT_QOS, subscribe_inputs

pytestmark = [pytest.mark.ros]


class FakeNode:
    """Records create_subscription calls and returns a handle naming the topic."""

    def __init__(self, fail_on: str = ''):
        self.calls, self.fail_on = [], fail_on

    def create_subscription(self, cls, topic, callback, qos):
        if topic == self.fail_on:
            raise RuntimeError(f'cannot subscribe {topic}')
        self.calls.append((cls, topic, callback, qos))
        return f'handle:{topic}'


class FakeIntake:
    def __init__(self):
        self.seen = []

    def image(self, camera, msg):
        self.seen.append(('image', camera, msg))

    def info(self, camera, msg):
        self.seen.append(('info', camera, msg))

    def transforms(self, msg, static):
        self.seen.append(('tf', static, msg))


CAMERAS = (CameraConfig(name='front', image_topic='/f/image', info_topic='/f/info'),
           CameraConfig(name='back', image_topic='/b/image', info_topic='/b/info'))
SOURCES = (CameraSource('front', 'compressed'), CameraSource('back', 'raw'))


def test_each_camera_gets_its_class_and_the_chosen_qos_tf_is_reliable():
    types, node, intake, handles = rclpy_types(), FakeNode(), FakeIntake(), []
    subscribe_inputs(node, types, CAMERAS, SOURCES, 'sensor_data', intake, handles)
    by_topic = {topic: (cls, qos) for cls, topic, _, qos in node.calls}
    assert by_topic['/f/image'] == (types.CompressedImage, qos_profile_sensor_data)
    assert by_topic['/b/image'] == (types.Image, qos_profile_sensor_data)
    assert by_topic['/b/info'][0] is types.CameraInfo
    assert by_topic['/tf'][1].reliability == ReliabilityPolicy.RELIABLE
    assert by_topic['/tf_static'][1].durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert handles == [f'handle:{t}' for _, t, _, _ in node.calls] and len(handles) == 6


def test_callbacks_name_their_camera_and_whether_tf_is_static():
    node, intake = FakeNode(), FakeIntake()
    subscribe_inputs(node, rclpy_types(), CAMERAS, SOURCES, 'reliable', intake, [])
    for _, topic, callback, qos in node.calls:
        callback(topic)
    assert ('image', 'back', '/b/image') in intake.seen
    assert ('info', 'front', '/f/info') in intake.seen
    assert ('tf', False, '/tf') in intake.seen and ('tf', True, '/tf_static') in intake.seen
    assert node.calls[0][3] is INPUT_QOS['reliable']


def test_a_failure_halfway_leaves_the_created_handles_with_the_owner():
    node, handles = FakeNode(fail_on='/b/image'), []
    with pytest.raises(RuntimeError, match='/b/image'):
        subscribe_inputs(node, rclpy_types(), CAMERAS, SOURCES, 'sensor_data', FakeIntake(),
                         handles)
    assert handles == ['handle:/f/image', 'handle:/f/info']
