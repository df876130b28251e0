"""NodeStats reports as diagnostic_updater publishes them: names, byte levels, string values."""
import pytest

from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.msgtypes import rclpy_types
from da3_ros.ros.rig_output import diagnostic_array, LEVELS


@pytest.fixture
def status_cls():
    return pytest.importorskip('diagnostic_msgs.msg', reason='diagnostic_msgs (ROS wheels)'
                               ).DiagnosticStatus


def test_level_names_are_the_message_constants_in_order(status_cls):
    # DiagnosticStatus: OK=0, WARN=1, ERROR=2, STALE=3, each a one-byte value.
    assert [getattr(status_cls, name) for name in LEVELS] == [bytes([i]) for i in range(4)]


def test_reports_publish_like_an_updater(status_cls):
    now = [0.0]
    stats = NodeStats(['front', 'back', 'left'], name='da3_node', clock=lambda: now[0])
    for _ in range(3):
        stats.image('front')
        stats.image('back')
        now[0] += 0.1
    stats.error('ConversionError: bad encoding', 'back')
    msg = diagnostic_array(rclpy_types(), 0, stats.reports())
    by_name = {s.name: s for s in msg.status}
    # Updater names each status "<node name>: <task name>".
    assert set(by_name) == {'da3_node: pipeline', 'da3_node: camera front',
                            'da3_node: camera back', 'da3_node: camera left'}
    assert by_name['da3_node: camera front'].level == status_cls.OK
    assert by_name['da3_node: camera left'].level == status_cls.WARN  # no images yet
    assert by_name['da3_node: camera back'].level == status_cls.ERROR
    assert by_name['da3_node: pipeline'].level == status_cls.WARN
    assert 'bad encoding' in by_name['da3_node: camera back'].message
    for status in msg.status:
        assert status.values and all(isinstance(kv.key, str) and isinstance(kv.value, str)
                                     for kv in status.values)
    front = {kv.key: kv.value for kv in by_name['da3_node: camera front'].values}
    assert front['images'] == '3' and float(front['input_rate_hz']) > 0
