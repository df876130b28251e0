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

"""OutputPublishers: which output topics have subscribers (the demand the pipeline serves)."""
import pytest

from da3_ros.ros.messages.rig_output import OutputOptions

pytestmark = pytest.mark.ros


def test_publishers_report_subscribed_topics(ros_env):
    import time

    import rclpy
    from da3_ros.ros.messages.msgtypes import rclpy_types
    from da3_ros.ros.publishers import OutputPublishers
    types = rclpy_types()
    contexts = [rclpy.Context(), rclpy.Context()]
    for ctx in contexts:
        rclpy.init(context=ctx)
    node = rclpy.create_node('da3_pubs', context=contexts[0])
    other = rclpy.create_node('reader', context=contexts[1])
    try:
        pubs = OutputPublishers(node, types, ['front'], OutputOptions(tf_mode='odom'))
        assert pubs.subscribed() == {'/tf'}  # /tf always counts: it feeds TF
        other.create_subscription(types.PointCloud2, '/da3_pubs/front/points',
                                  lambda m: None, 5)
        deadline = time.monotonic() + 20
        while pubs.subscribed() != {'/tf', 'front/points'} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pubs.subscribed() == {'/tf', 'front/points'}
    finally:
        other.destroy_node()
        node.destroy_node()
        for ctx in contexts:
            rclpy.shutdown(context=ctx)
