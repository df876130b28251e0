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

"""timing: stage durations in ms, accumulated per stage name (a fake clock, fake events)."""
import pytest

from da3_ros.engine import timing
from da3_ros.engine.timing import StageTimer


@pytest.fixture
def clock(monkeypatch):
    """perf_counter that advances only when told to."""
    now = [100.0]
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: now[0])
    return now


def test_stages_are_timed_in_milliseconds_and_repeats_accumulate(clock):
    timer = StageTimer('cpu')
    with timer.stage('forward'):
        clock[0] += 0.25
    with timer.stage('align'):
        clock[0] += 0.002
    with timer.stage('forward'):
        clock[0] += 0.5
    assert timer.ms == pytest.approx({'forward': 750.0, 'align': 2.0})


def test_a_failing_stage_is_not_recorded(clock):
    timer = StageTimer('cpu')
    with pytest.raises(RuntimeError):
        with timer.stage('forward'):
            clock[0] += 1.0
            raise RuntimeError('boom')
    assert timer.ms == {}


class FakeEvent:
    """A timing event on the fake clock: ``record`` stamps it, ``elapsed_time`` in ms."""

    def __init__(self, clock, log):
        self.clock, self.log, self.at = clock, log, None

    def record(self):
        self.at = self.clock[0]
        self.log.append('record')

    def synchronize(self):
        self.log.append('sync')

    def elapsed_time(self, end):
        return (end.at - self.at) * 1e3


def test_device_stages_use_events_and_wait_only_when_read(clock):
    log = []
    timer = StageTimer('cpu', event_factory=lambda: FakeEvent(clock, log))
    with timer.stage('forward'):
        clock[0] += 0.004
    with timer.stage('forward'):
        clock[0] += 0.001
    with timer.host_stage('transfer'):
        clock[0] += 0.002
    assert 'sync' not in log  # nothing waited while the stages were being enqueued
    assert timer.ms == pytest.approx({'forward': 5.0, 'transfer': 2.0})
    assert 'sync' in log


def test_elapsed_and_added_times(clock):
    timer = StageTimer('cpu')
    clock[0] += 0.010
    timer.add('copy', 1.5)
    timer.add('copy', 0.5)
    assert timer.ms == pytest.approx({'copy': 2.0})
    assert timer.elapsed_ms() == pytest.approx(10.0)
