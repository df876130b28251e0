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

"""``/diagnostics`` of the node: ``NodeStats`` reports published on a steady-clock timer.

Steady, not ROS time: diagnostics must keep coming when ``/clock`` stops with the inputs (a
paused bag, a dead driver), which is exactly when someone looks at them. The messages are
stamped with the node's clock, like every other output.
"""
from typing import Any, Callable, Mapping

from rclpy.clock import Clock, ClockType
from rclpy.node import Node

from da3_ros.ros.diagnostics import diagnostic_array, NodeStats
from da3_ros.ros.messages.msgtypes import MsgTypes


class DiagnosticsPublisher:
    """Publishes ``stats`` every ``period_s`` steady seconds while started.

    Args:
        node: creates the timer and stamps the messages (its clock).
        types: message classes (``DiagnosticArray`` ...).
        stats: the node's counters.
        sync_drops: the synchroniser's drop counts at publish time.
    """

    def __init__(self, node: Node, types: MsgTypes, stats: NodeStats,
                 sync_drops: Callable[[], Mapping]) -> None:
        self.node, self.types, self.stats, self.sync_drops = node, types, stats, sync_drops
        self.timer: Any = None
        self.publisher: Any = None

    def start(self, publisher: Any, period_s: float) -> None:
        """Publish on ``publisher`` (the configured ``/diagnostics`` publisher) from now on."""
        self.publisher = publisher
        self._create_timer(period_s)

    def set_period(self, period_s: float) -> None:
        """Restart the timer with a new period (a run-time parameter update); idle: nothing."""
        if self.timer is not None:
            self.node.destroy_timer(self.timer)
            self._create_timer(period_s)

    def stop(self) -> None:
        if self.timer is not None:
            self.node.destroy_timer(self.timer)
            self.timer = None

    def _create_timer(self, period_s: float) -> None:
        self.timer = self.node.create_timer(period_s, self._publish,
                                            clock=Clock(clock_type=ClockType.STEADY_TIME))

    def _publish(self) -> None:
        reports = self.stats.reports(self.sync_drops())
        stamp = self.node.get_clock().now().nanoseconds
        self.publisher.publish(diagnostic_array(self.types, stamp, reports))
