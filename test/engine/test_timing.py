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

"""timing: stage durations in milliseconds, accumulated per stage name (a fake clock)."""
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
