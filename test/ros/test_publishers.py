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
