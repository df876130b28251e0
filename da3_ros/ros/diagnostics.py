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

"""Run-time statistics of the node and their ``/diagnostics`` messages (no rclpy; thread-safe).

Counts input rates per camera, synced-set and result rates, dropped sets by reason, inference
latency percentiles (p50, p90 over the last ``latency_window`` results), end-to-end latency
percentiles (image stamp to publish, in the node's clock), GPU memory, metric or relative output,
and the last error per camera and overall. Times are wall-clock seconds from an
injectable monotonic clock, so rates stay meaningful under sim time.

Why not ``diagnostic_updater`` (and ``diagnostic_aggregator``): they are ROS packages (apt
``ros-jazzy-diagnostic-updater``) with no wheel on the Python package index, so the pip-only
runtime cannot install them, and their ``Updater`` needs an rclpy node where this module stays
rclpy-free and callable from any thread. The reports follow what an ``Updater`` publishes:
status names ``"<node>: <item>"``, levels ``OK``/``WARN``/``ERROR``/``STALE`` (the
``DiagnosticStatus`` byte constants, set by ``diagnostic_array`` below) and string
key/values; test/ros/test_diagnostics.py checks that against ``diagnostic_msgs``.

:class:`StatusReport` is one status as plain data; :func:`diagnostic_array` turns reports into
``diagnostic_msgs/DiagnosticArray`` through a ``MsgTypes`` bundle (the node and the bag tool).
"""
import collections
from dataclasses import dataclass, field
import re
import threading
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.tf_msgs import make_header

LOG_PERIOD_S = 300.0  # a persisting error is logged again after this long
_MAX_KEYS = 256
_NUMBER = re.compile(r'[-+]?\d+(\.\d+)?(e[-+]?\d+)?')
DIAGNOSTICS_TOPIC = '/diagnostics'
LEVELS = ('OK', 'WARN', 'ERROR', 'STALE')


@dataclass(frozen=True)
class StatusReport:
    """One ``DiagnosticStatus``: level name (``LEVELS``), name, message and key/values."""

    name: str
    level: str = 'OK'
    message: str = ''
    values: Mapping[str, str] = field(default_factory=dict)
    hardware_id: str = ''


def diagnostic_array(types: MsgTypes, stamp_ns: int, reports: Sequence[StatusReport]) -> Any:
    """Return a ``diagnostic_msgs/DiagnosticArray`` from plain reports."""
    types.require('DiagnosticArray', 'DiagnosticStatus', 'KeyValue')
    status_cls = types.DiagnosticStatus
    statuses = [status_cls(
        level=getattr(status_cls, report.level), name=report.name, message=report.message,
        hardware_id=report.hardware_id,
        values=[types.KeyValue(key=str(k), value=str(v)) for k, v in report.values.items()])
        for report in reports]
    return types.DiagnosticArray(header=make_header(types, stamp_ns, ''), status=statuses)


def error_key(text: str) -> str:
    """Return what makes an error distinct: its text with the numbers (stamps, sizes) left out."""
    return _NUMBER.sub('#', text)


class RateMeter:
    """Events per second over a sliding window of ``window_s`` seconds."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self._window, self._clock = window_s, clock
        self._times: collections.deque = collections.deque()
        self.count = 0

    def tick(self) -> None:
        self._times.append(self._clock())
        self.count += 1
        self._trim()

    def rate(self) -> float:
        self._trim()
        if len(self._times) < 2:
            return 0.0
        span = max(self._clock() - self._times[0], self._times[-1] - self._times[0])
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def _trim(self) -> None:
        cutoff = self._clock() - self._window
        while self._times and self._times[0] < cutoff:
            self._times.popleft()


def _percentiles(samples: list) -> tuple[float, float]:
    """(p50, p90) of ``samples``; NaN when there are none."""
    if not samples:
        return float('nan'), float('nan')
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 90))


class NodeStats:
    """Everything ``/diagnostics`` reports; every method may be called from any thread.

    Args:
        cameras: camera names in rig order.
        name: prefix of the status names (e.g. the node name).
        latency_window: results kept for the latency percentiles.
        clock: monotonic seconds.
        log_period_s: a distinct error is logged at most once per this many seconds.
    """

    def __init__(self, cameras: Sequence[str], *, name: str = 'da3_node',
                 latency_window: int = 100, clock: Callable[[], float] = time.monotonic,
                 log_period_s: float = LOG_PERIOD_S):
        self.cameras, self.name = tuple(cameras), name
        self._lock = threading.Lock()
        self._inputs = {c: RateMeter(clock=clock) for c in self.cameras}
        self._sets, self._results = RateMeter(clock=clock), RateMeter(clock=clock)
        self._latency: collections.deque = collections.deque(maxlen=latency_window)
        self._end_to_end: collections.deque = collections.deque(maxlen=latency_window)
        self.drops: collections.Counter = collections.Counter()
        self.camera_errors: dict[str, str] = {}
        self.bad_clocks: dict[str, str] = {}
        self._clock, self._log_period = clock, log_period_s
        self._logged: collections.OrderedDict = collections.OrderedDict()
        self.missing: collections.Counter = collections.Counter()
        self.last_error = ''
        self.is_metric: bool | None = None
        self.gpu_memory_mb: float | None = None
        self.resets = 0

    def image(self, camera: str) -> None:
        with self._lock:
            self._inputs[camera].tick()

    def synced(self, missing: Sequence[str]) -> None:
        with self._lock:
            self._sets.tick()
            self.missing.update(missing)

    def drop(self, reason: str, count: int = 1) -> None:
        with self._lock:
            self.drops[reason] += count

    def error(self, text: str, camera: str = '') -> bool:
        """Record an error; True when it should be logged now.

        Errors are keyed on the distinct error (``error_key``) per source: each distinct error
        is logged once per ``log_period_s``, so a persistent fault is not logged once per set,
        different faults each get their line and alternating ones are rate-limited.
        """
        key, now = (camera, error_key(text)), self._clock()
        with self._lock:
            self.last_error = f'{camera}: {text}' if camera else text
            if camera:
                self.camera_errors[camera] = text
            last = self._logged.pop(key, None)
            new = last is None or now - last >= self._log_period
            self._logged[key] = now if new else last
            while len(self._logged) > _MAX_KEYS:
                self._logged.popitem(last=False)
            return new

    def clock(self, camera: str, bad_clock: str) -> bool:
        """Record whether ``camera``'s clock is bad ('' = good); True when that changed."""
        with self._lock:
            was_bad = camera in self.bad_clocks
            if bad_clock:
                self.bad_clocks[camera] = bad_clock
            else:
                self.bad_clocks.pop(camera, None)
            return was_bad != bool(bad_clock)

    def camera_ok(self, camera: str) -> None:
        with self._lock:
            self.camera_errors.pop(camera, None)

    def result(self, latency_ms: float, is_metric: bool, gpu_memory_mb: float | None) -> None:
        with self._lock:
            self._results.tick()
            self._latency.append(latency_ms)
            self.is_metric, self.gpu_memory_mb = is_metric, gpu_memory_mb

    def reset(self) -> None:
        with self._lock:
            self.resets += 1

    def end_to_end(self, latency_ms: float) -> None:
        """Record the time from a result's image stamp to its publication."""
        with self._lock:
            self._end_to_end.append(latency_ms)

    def latency_ms(self) -> tuple[float, float]:
        """(p50, p90) of the recent inference latencies; NaN before the first result."""
        with self._lock:
            samples = list(self._latency)
        return _percentiles(samples)

    def end_to_end_ms(self) -> tuple[float, float]:
        """(p50, p90) of the recent stamp-to-publish latencies; NaN before the first result."""
        with self._lock:
            samples = list(self._end_to_end)
        return _percentiles(samples)

    def reports(self, sync_drops: Mapping = ()) -> list[StatusReport]:
        """One status for the pipeline and one per camera."""
        p50, p90 = self.latency_ms()
        e2e50, e2e90 = self.end_to_end_ms()
        with self._lock:
            drops = collections.Counter(self.drops)
            for (camera, reason), count in dict(sync_drops).items():
                drops[f'sync:{reason}:{camera}'] += count
            values = {
                'synced_set_rate_hz': f'{self._sets.rate():.2f}',
                'synced_sets': str(self._sets.count),
                'result_rate_hz': f'{self._results.rate():.2f}',
                'results': str(self._results.count),
                'inference_latency_p50_ms': f'{p50:.1f}',
                'inference_latency_p90_ms': f'{p90:.1f}',
                'end_to_end_latency_p50_ms': f'{e2e50:.1f}',
                'end_to_end_latency_p90_ms': f'{e2e90:.1f}',
                'gpu_memory_mb': 'n/a' if self.gpu_memory_mb is None
                else f'{self.gpu_memory_mb:.0f}',
                'depth': {None: 'unknown', True: 'metric', False: 'relative'}[self.is_metric],
                'resets': str(self.resets),
                'last_error': self.last_error,
                **{f'dropped.{reason}': str(n) for reason, n in sorted(drops.items())},
            }
            level = 'WARN' if self.camera_errors or self.last_error else 'OK'
            message = 'running' if level == 'OK' else (self.last_error or 'camera errors')
            reports = [StatusReport(f'{self.name}: pipeline', level, message, values)]
            reports.extend(self._camera_report(c) for c in self.cameras)
        return reports

    def _camera_report(self, camera: str) -> StatusReport:
        rate = self._inputs[camera].rate()
        clock = self.bad_clocks.get(camera, '')
        error = self.camera_errors.get(camera, '') or clock
        level = 'ERROR' if error else ('WARN' if rate == 0.0 else 'OK')
        message = error or ('no images' if rate == 0.0 else 'ok')
        return StatusReport(f'{self.name}: camera {camera}', level, message, {
            'input_rate_hz': f'{rate:.2f}', 'images': str(self._inputs[camera].count),
            'missing_from_sets': str(self.missing[camera]), 'clock': clock or 'ok',
            'last_error': error})
