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

"""The node's input subscriptions and their QoS: images, CameraInfo, ``/tf``, ``/tf_static``.

Images and CameraInfo use the ``qos`` parameter (``sensor_data``: best effort, what camera
drivers publish; ``reliable``: e.g. a bag played with its recorded QoS). TF is reliable with a
deep queue, as tf2's listener subscribes; ``/tf_static`` is also transient-local, so statics
published before the node started arrive. Every message goes to a ``RigIntake``.
"""
from typing import Any, Sequence

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy

from da3_ros.config import CameraConfig
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.rig_input import CameraSource
from da3_ros.ros.rig_intake import RigIntake

TF_SUB_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
TF_STATIC_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                           durability=DurabilityPolicy.TRANSIENT_LOCAL)
INPUT_QOS = {'sensor_data': qos_profile_sensor_data,
             'reliable': QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)}


def subscribe_inputs(node: Node, types: MsgTypes, cameras: Sequence[CameraConfig],
                     sources: Sequence[CameraSource], qos: str, intake: RigIntake,
                     handles: list[Any]) -> None:
    """Create the subscriptions into ``intake``, each appended to ``handles`` at once.

    Appended one by one so that a failure halfway leaves every created subscription where its
    owner destroys it. ``sources`` decide each camera's image class (``CompressedImage`` for
    the compressed transport, else ``Image``); ``qos`` is a key of ``INPUT_QOS``.
    """
    profile = INPUT_QOS[qos]
    for cam in cameras:
        source = next(s for s in sources if s.name == cam.name)
        image_cls = types.CompressedImage if source.transport == 'compressed' else types.Image
        handles.append(node.create_subscription(
            image_cls, cam.image_topic, lambda m, c=cam.name: intake.image(c, m), profile))
        handles.append(node.create_subscription(
            types.CameraInfo, cam.info_topic, lambda m, c=cam.name: intake.info(c, m), profile))
    handles.append(node.create_subscription(
        types.TFMessage, '/tf', lambda m: intake.transforms(m, False), TF_SUB_QOS))
    handles.append(node.create_subscription(
        types.TFMessage, '/tf_static', lambda m: intake.transforms(m, True), TF_STATIC_QOS))
