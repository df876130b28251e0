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

"""The node's publishers, created up front from the camera list and the output options.

``OutputPublishers.publish(pairs)`` takes the ``(topic, message)`` list of ``rig_output`` and
hands each message to the publisher of its topic. Relative topics are published in the node's
private namespace (``<ns>/da3_node/<cam>/depth``); ``/tf`` and ``/diagnostics`` are absolute.
QoS: outputs are RELIABLE, KEEP_LAST 5, VOLATILE (matches reliable and best-effort
subscribers, including Nav2's sensor-data observation sources); ``/tf`` uses tf2's broadcaster
QoS (RELIABLE, KEEP_LAST 100).
"""
from typing import Any, Sequence

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from da3_ros.ros.diagnostics import DIAGNOSTICS_TOPIC
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.rig_output import OutputOptions, TF_TOPIC

OUTPUT_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def output_topics(types: MsgTypes, cameras: Sequence[str],
                  options: OutputOptions) -> dict[str, Any]:
    """``{topic: message class}`` of everything ``rig_output`` may publish with ``options``."""
    topics: dict[str, Any] = {}
    for cam in cameras:
        if options.depth:
            topics[f'{cam}/depth'] = types.Image
            topics[f'{cam}/depth/camera_info'] = types.CameraInfo
        if options.confidence:
            topics[f'{cam}/confidence'] = types.Image
        if options.camera_clouds:
            topics[f'{cam}/points'] = types.PointCloud2
    if options.fused_cloud:
        topics['points'] = types.PointCloud2
    if options.rig_step and types.RigStep is not None:
        topics['rig_step'] = types.RigStep
    if options.tf_mode != 'none':
        topics[TF_TOPIC] = types.TFMessage
    return topics


class OutputPublishers:
    """Publishers for the outputs of one configuration (destroyed together)."""

    def __init__(self, node: Node, types: MsgTypes, cameras: Sequence[str],
                 options: OutputOptions) -> None:
        self._node, self._types, self._cameras = node, types, tuple(cameras)
        self._pubs: dict[str, Any] = {}
        self.ensure(options)
        self.diagnostics = node.create_publisher(types.DiagnosticArray, DIAGNOSTICS_TOPIC, 10)

    def ensure(self, options: OutputOptions) -> None:
        """Create the publishers ``options`` needs that do not exist yet (run-time updates).

        Existing publishers are kept: the worker may be publishing on them right now, and
        ``rig_output`` only builds the messages ``options`` asks for.
        """
        pubs = dict(self._pubs)
        for topic, cls in output_topics(self._types, self._cameras, options).items():
            if topic not in pubs:
                pubs[topic] = self._node.create_publisher(
                    cls, topic if topic.startswith('/') else '~/' + topic,
                    TF_QOS if topic == TF_TOPIC else OUTPUT_QOS)
        self._pubs = pubs  # one assignment: the worker thread sees the old or the new dict

    def subscribed(self) -> frozenset[str]:
        """Topics with at least one subscriber now (``/tf`` always counts: it feeds TF)."""
        pubs = self._pubs
        return frozenset(topic for topic, pub in pubs.items()
                         if topic == TF_TOPIC or pub.get_subscription_count() > 0)

    def publish(self, messages: list[tuple[str, Any]]) -> None:
        """Publish each ``(topic, message)``; topics without a publisher are skipped."""
        for topic, msg in messages:
            pub = self._pubs.get(topic)
            if pub is not None:
                pub.publish(msg)

    def destroy(self) -> None:
        for pub in [*self._pubs.values(), self.diagnostics]:
            self._node.destroy_publisher(pub)
        self._pubs.clear()
