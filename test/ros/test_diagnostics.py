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

"""NodeStats (rates, drops, latency, rate-limited errors) and the DiagnosticArray built from it.

Checked as diagnostic_updater publishes them: names, byte levels, string values.
"""
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.ros.diagnostics import diagnostic_array, LEVELS, NodeStats, StatusReport
from da3_ros.ros.messages.msgtypes import rclpy_types
from da3_ros.ros.messages.tf_msgs import stamp_to_ns


def test_node_stats_reports():
    now = [0.0]
    stats = NodeStats(['a', 'b'], name='n', clock=lambda: now[0])
    for _ in range(11):
        stats.image('a')
        stats.synced(['b'])
        now[0] += 0.1
    for ms in (10.0, 20.0, 30.0, 40.0):
        stats.result(ms, True, None)
    assert stats.error('ConversionError: bad', 'b')
    assert not stats.error('ConversionError: bad', 'b')
    stats.drop('busy', 3)
    reports = {r.name: r for r in stats.reports({('b', 'queue_overflow'): 2})}
    pipe = reports['n: pipeline'].values
    assert pipe['inference_latency_p50_ms'] == '25.0' and pipe['depth'] == 'metric'
    assert pipe['dropped.busy'] == '3' and pipe['dropped.sync:queue_overflow:b'] == '2'
    assert float(reports['n: camera a'].values['input_rate_hz']) == pytest.approx(10.0, 0.1)
    assert reports['n: camera b'].level == 'ERROR'
    assert reports['n: camera b'].values['missing_from_sets'] == '11'


def test_errors_are_logged_per_distinct_error_and_rate_limited():
    now = [0.0]
    stats = NodeStats(['a'], name='n', clock=lambda: now[0], log_period_s=10.0)
    faults = [f'ConversionError: fault {chr(97 + i)}' for i in range(14)]
    assert all(stats.error(text, 'a') for text in faults), 'each distinct fault gets its line'
    stats.camera_ok('a')
    assert not stats.error(faults[0], 'a'), 'a flapping fault is rate-limited too'
    logged = 0
    for k in range(66):  # two alternating TF errors at 6 Hz for 11 s
        now[0] += 1 / 6
        stamp = 100 + k
        text = (f'ExtrapolationException: requested {stamp}.5 s, latest {stamp - 1}.2 s'
                if k % 2 else 'LookupException: "cam_x" does not exist')
        logged += stats.error(text)
    assert logged == 2 + 2, 'each once at first, each once more after the period'


def test_diagnostic_array(types, wire_round_trip):
    msg = wire_round_trip(diagnostic_array(types, 5 * rm.NS, [
        StatusReport('da3: front', 'OK', 'ok', {'rate_hz': '10.0'}),
        StatusReport('da3: back', 'ERROR', 'no images', {})]))
    assert stamp_to_ns(msg.header.stamp) == 5 * rm.NS
    levels = [int.from_bytes(s.level, 'little') if isinstance(s.level, bytes) else s.level
              for s in msg.status]
    assert levels == [0, 2] and msg.status[1].message == 'no images'
    assert [(kv.key, kv.value) for kv in msg.status[0].values] == [('rate_hz', '10.0')]


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
