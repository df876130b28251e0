"""NodeStats (rates, drops, latency, rate-limited errors) and the DiagnosticArray built from it."""
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.ros.diagnostics import diagnostic_array, NodeStats, StatusReport
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
