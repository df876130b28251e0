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

"""A subscriber process-half for the multi-process tests: messages by topic, spun on a thread.

Each collector owns its own rclpy ``Context`` (so a test can make several, and the test process
never touches the default context) and spins one ``SingleThreadedExecutor`` on a daemon thread.
"""
import collections
import threading
import time
from typing import Any, Callable, Dict, Iterable, Optional

from da3_ros.ros.messages.tf_msgs import stamp_to_ns


class TopicCollector:
    """Subscribes to ``topics`` ({topic: message class}) and keeps every message per topic.

    Args:
        topics: what to subscribe to.
        name: node name of the collector.
        qos: subscription QoS; default RELIABLE, KEEP_LAST 50.
    """

    def __init__(self, topics: Dict[str, Any], *, name: str = 'collector',
                 qos: Optional[Any] = None) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        self.rclpy, self.ctx = rclpy, rclpy.Context()
        rclpy.init(context=self.ctx)
        self.node = rclpy.create_node(name, context=self.ctx)
        qos = qos or QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self.msgs: Dict[str, list] = collections.defaultdict(list)
        self.subscriptions = {topic: self.node.create_subscription(cls, topic,
                                                                   self._keeper(topic), qos)
                              for topic, cls in topics.items()}
        self.executor = SingleThreadedExecutor(context=self.ctx)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _keeper(self, topic: str) -> Callable[[Any], None]:
        return lambda msg: self.msgs[topic].append(msg)

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException
        try:
            while self.ctx.ok():
                self.executor.spin_once(timeout_sec=0.1)
        except ExternalShutdownException:
            pass

    def stamps(self, topic: str) -> list:
        """Header stamps in ns of the messages of ``topic``, in arrival order."""
        return [stamp_to_ns(m.header.stamp) for m in list(self.msgs[topic])]

    def wait_for(self, topic: str, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` messages of ``topic`` arrived; False on timeout."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if len(self.msgs[topic]) >= count:
                return True
            time.sleep(0.05)
        return len(self.msgs[topic]) >= count

    def wait_matched(self, topics: Iterable[str], timeout_s: float) -> list:
        """Wait until each of ``topics`` is matched with a publisher; returns those still not.

        Discovery is asynchronous and slow under load: a test that starts its inputs before the
        node's publishers are matched here would miss the first outputs (reliable QoS only
        delivers to readers that are matched when a message is written).
        """
        end = time.monotonic() + timeout_s
        while True:
            missing = [t for t in topics if self.subscriptions[t].get_publisher_count() < 1]
            if not missing or time.monotonic() >= end:
                return missing
            time.sleep(0.05)

    def close(self) -> None:
        self.rclpy.shutdown(context=self.ctx)
        self.thread.join(5)
