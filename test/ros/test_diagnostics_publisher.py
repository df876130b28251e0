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

"""DiagnosticsPublisher: NodeStats reports on a steady timer, restartable, stoppable."""
import time

import pytest

from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.diagnostics_publisher import DiagnosticsPublisher
from da3_ros.ros.messages.msgtypes import rclpy_types

pytestmark = pytest.mark.ros


class Sink:
    def __init__(self):
        self.messages = []

    def publish(self, msg):
        self.messages.append(msg)


@pytest.fixture
def node_and_executor(ros_env):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node('diag_test', context=ctx)
    executor = SingleThreadedExecutor(context=ctx)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=ctx)


def _spin_until(executor, done, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)


def test_reports_are_published_until_stopped(node_and_executor):
    node, executor = node_and_executor
    stats = NodeStats(['front'], name='n')
    diagnostics = DiagnosticsPublisher(node, rclpy_types(), stats,
                                       lambda: {('front', 'queue_overflow'): 2})
    diagnostics.set_period(0.01)  # not started: nothing to restart
    assert diagnostics.timer is None
    sink = Sink()
    diagnostics.start(sink, 0.02)
    _spin_until(executor, lambda: len(sink.messages) >= 2)
    names = [status.name for status in sink.messages[0].status]
    assert names == ['n: pipeline', 'n: camera front']
    pipeline = {kv.key: kv.value for kv in sink.messages[0].status[0].values}
    assert pipeline['dropped.sync:queue_overflow:front'] == '2'
    diagnostics.set_period(0.05)
    assert diagnostics.timer.timer_period_ns == 50_000_000
    diagnostics.stop()
    assert diagnostics.timer is None
    count = len(sink.messages)
    _spin_until(executor, lambda: False, timeout_s=0.2)
    assert len(sink.messages) == count
