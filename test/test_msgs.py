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

"""Interface packages: da3_ros_msgs (RigStep, CameraDepth) and the tf2_msgs stand-in.

Fill, serialise and deserialise each type with rclpy, check the stand-in's type hash against the
official Jazzy tf2_msgs, and publish RigStep + TFMessage from one process to another over Fast DDS.
Nothing here is skipped: without rclpy or the built interfaces these tests fail.
"""

import json
import os
from pathlib import Path
import sys
import time

from builtin_interfaces.msg import Time
from da3_ros_msgs.msg import CameraDepth
from da3_ros_msgs.msg import RigStep
from geometry_msgs.msg import TransformStamped
import numpy as np
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.serialization import deserialize_message
from rclpy.serialization import serialize_message
from tf2_msgs.msg import TFMessage

pytestmark = pytest.mark.ros

# Type hash that Jazzy reports for the official tf2_msgs/msg/TFMessage
# (docs/pip-runtime.md, "Building interface packages").
TF_MESSAGE_HASH = 'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087'


def make_camera(name: str, seq: int, height: int = 6, width: int = 8) -> CameraDepth:
    """A CameraDepth whose depth, confidence and pose are deterministic functions of ``seq``."""
    cam = CameraDepth()
    cam.camera_name = name
    depth = (np.arange(height * width, dtype=np.float32).reshape(height, width) + seq) * 0.5
    for image, array in ((cam.depth, depth), (cam.confidence, 1.0 / (1.0 + depth))):
        image.header.frame_id = f'{name}_optical'
        image.height, image.width = height, width
        image.encoding = '32FC1'
        image.is_bigendian = 0
        image.step = width * 4
        image.data = array.astype('<f4').tobytes()
    info = cam.camera_info
    info.header.frame_id = f'{name}_optical'
    info.height, info.width = height, width
    info.distortion_model = 'plumb_bob'
    info.d = [0.01, -0.02, 0.0, 0.0, 0.001]
    info.k = [5.0, 0.0, width / 2, 0.0, 5.0, height / 2, 0.0, 0.0, 1.0]
    info.p = [5.0, 0.0, width / 2, 0.0, 0.0, 5.0, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    cam.pose.position.x, cam.pose.position.y, cam.pose.position.z = float(seq), -1.5, 0.25
    cam.pose.orientation.w = 1.0
    cam.valid = True
    return cam


def make_rig_step(seq: int) -> RigStep:
    """A two-camera RigStep numbered ``seq``."""
    step = RigStep()
    step.header.stamp = Time(sec=1000 + seq, nanosec=123)
    step.header.frame_id = 'odom'
    step.cameras = [make_camera('front', seq), make_camera('left', seq)]
    step.cameras[1].valid = False
    step.cameras[1].error = 'no CameraInfo yet'
    step.is_metric = True
    step.scale_source = 'model'
    step.window_size, step.window_index, step.sequence = 4, seq % 4, 2**40 + seq
    step.inference_ms = 12.5
    step.model_variant = 'da3-small'
    return step


def make_tf(seq: int) -> TFMessage:
    """A TFMessage with one transform odom -> front_optical."""
    tf = TransformStamped()
    tf.header.stamp = Time(sec=1000 + seq)
    tf.header.frame_id = 'odom'
    tf.child_frame_id = 'front_optical'
    tf.transform.translation.x = float(seq)
    tf.transform.rotation.w = 1.0
    return TFMessage(transforms=[tf])


def test_rig_step_round_trip() -> None:
    step = make_rig_step(7)
    data = serialize_message(step)
    assert isinstance(data, bytes) and len(data) > 2 * 2 * 6 * 8 * 4
    back = deserialize_message(data, RigStep)
    assert back == step
    assert [c.camera_name for c in back.cameras] == ['front', 'left']
    depth = np.frombuffer(back.cameras[0].depth.data, dtype='<f4').reshape(6, 8)
    np.testing.assert_array_equal(depth, (np.arange(48, dtype=np.float32).reshape(6, 8) + 7) * 0.5)
    assert back.cameras[1].error == 'no CameraInfo yet' and not back.cameras[1].valid
    assert back.sequence == 2**40 + 7 and back.header.frame_id == 'odom'
    assert back.cameras[0].camera_info.k[2] == 4.0


def test_camera_depth_round_trip() -> None:
    cam = make_camera('rear', 3)
    assert deserialize_message(serialize_message(cam), CameraDepth) == cam


def test_tf_message_round_trip() -> None:
    msg = make_tf(2)
    back = deserialize_message(serialize_message(msg), TFMessage)
    assert back == msg and back.transforms[0].child_frame_id == 'front_optical'
    assert deserialize_message(serialize_message(TFMessage()), TFMessage) == TFMessage()


def _share_dir(package: str) -> Path:
    for prefix in os.environ.get('AMENT_PREFIX_PATH', sys.prefix).split(os.pathsep):
        if (Path(prefix) / 'share' / package).is_dir():
            return Path(prefix) / 'share' / package
    return Path(sys.prefix) / 'share' / package


def test_tf2_msgs_stand_in_has_the_official_type_hash() -> None:
    description = json.loads((_share_dir('tf2_msgs') / 'msg' / 'TFMessage.json').read_text())
    hashes = {entry['type_name']: entry['hash_string'] for entry in description['type_hashes']}
    assert hashes['tf2_msgs/msg/TFMessage'] == TF_MESSAGE_HASH


PUBLISHER = r"""
import importlib.util
import sys
import rclpy
from rclpy.executors import ExternalShutdownException
from da3_ros_msgs.msg import RigStep
from tf2_msgs.msg import TFMessage

# The message builders of this test file, loaded under a name that no ROS package uses.
spec = importlib.util.spec_from_file_location('rig_step_fixtures', sys.argv[1])
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)
make_rig_step, make_tf = fixtures.make_rig_step, fixtures.make_tf

rclpy.init(args=sys.argv)
node = rclpy.create_node('rig_step_publisher')
pub = node.create_publisher(RigStep, 'rig_step', 10)
tf_pub = node.create_publisher(TFMessage, 'tf', 10)
state = {'seq': 0}

def tick():
    pub.publish(make_rig_step(state['seq']))
    tf_pub.publish(make_tf(state['seq']))
    state['seq'] += 1

node.create_timer(0.1, tick)
print('publisher up', rclpy.get_rmw_implementation_identifier(), flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    node.destroy_node()
    rclpy.try_shutdown()
"""


@pytest.mark.slow
def test_rig_step_between_processes(ros_env, ros_launcher) -> None:
    """A publisher process sends RigStep and TFMessage; this process receives both intact."""
    publisher = ros_launcher.python(PUBLISHER, __file__, name='publisher')
    context = Context()
    rclpy.init(context=context, domain_id=int(ros_env['ROS_DOMAIN_ID']))
    received, tf_received = [], []
    try:
        assert rclpy.get_rmw_implementation_identifier() == 'rmw_fastrtps_cpp'
        node = rclpy.create_node('rig_step_subscriber', context=context)
        node.create_subscription(RigStep, 'rig_step', received.append, 10)
        node.create_subscription(TFMessage, 'tf', tf_received.append, 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        # Discovery usually takes < 0.5 s but has 2-3 s outliers (docs/pip-runtime.md).
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and (len(received) < 3 or not tf_received):
            assert publisher.poll() is None, f'publisher exited:\n{publisher.output()}'
            executor.spin_once(timeout_sec=0.1)
        topics = dict(node.get_topic_names_and_types())
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert len(received) >= 3, (
        f'{len(received)} RigSteps in 30 s; publisher:\n{publisher.output()}')
    assert tf_received, 'no TFMessage received'
    assert topics.get('/rig_step') == ['da3_ros_msgs/msg/RigStep']
    assert topics.get('/tf') == ['tf2_msgs/msg/TFMessage']
    seqs = [msg.sequence - 2**40 for msg in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    for msg in received:
        assert msg == make_rig_step(msg.sequence - 2**40)
    assert tf_received[0] == make_tf(int(tf_received[0].transforms[0].transform.translation.x))
    assert 'publisher up rmw_fastrtps_cpp' in publisher.output()
