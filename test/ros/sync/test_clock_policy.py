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

"""ClockPolicy: clock jumps, a camera's own jumps, bad clocks (stamp 0, lag, lead)."""
import pytest

from da3_ros.errors import SyncError
from da3_ros.ros.sync.clock_policy import ClockPolicy

NS = 1_000_000_000
PERIOD = NS // 10
CAMS = ('a', 'b', 'c', 'd', 'e', 'f')


def _step(policy, stamps):
    """One rig step: every camera with its stamp; returns {camera: Verdict}."""
    return {cam: policy.image(cam, stamp) for cam, stamp in stamps.items()}


@pytest.mark.parametrize('bad_stamp', [lambda s: 0, lambda s: s - 2 * NS, lambda s: s + 2 * NS])
def test_one_bad_clock_is_flagged_and_excluded_without_resets(bad_stamp):
    policy = ClockPolicy(CAMS)
    used = dict.fromkeys(CAMS, 0)
    for k in range(50):
        stamp = 100 * NS + k * PERIOD
        stamps = {c: stamp for c in CAMS}
        stamps['c'] = bad_stamp(stamp)
        for cam, verdict in _step(policy, stamps).items():
            assert not verdict.reset
            used[cam] += verdict.use
    assert used['c'] <= 1, 'at most its very first image, before any other camera voted'
    assert all(used[c] == 50 for c in CAMS if c != 'c')
    assert set(policy.bad) == {'c'} and 'bad clock' in policy.bad['c']
    assert policy.excluded() == {'c'} and policy.resets == 0


def test_a_lagging_camera_seen_first_is_outvoted():
    policy = ClockPolicy(CAMS)
    for k in range(5):
        stamp = 100 * NS + k * PERIOD
        verdicts = _step(policy, {'a': stamp - 2 * NS, **{c: stamp for c in CAMS[1:]}})
    assert not verdicts['a'].use and all(verdicts[c].use for c in CAMS[1:])
    assert set(policy.bad) == {'a'}


def test_bad_clock_that_recovers_is_used_again():
    policy = ClockPolicy(CAMS)
    for k in range(10):
        stamp = 100 * NS + k * PERIOD
        verdicts = _step(policy, {**{c: stamp for c in CAMS}, 'f': 0 if k < 5 else stamp})
    assert verdicts['f'].use and not policy.bad and policy.resets == 0


def test_clock_jump_resets_once_and_forgets_the_histories():
    policy = ClockPolicy(CAMS)
    _step(policy, {c: 100 * NS for c in CAMS})
    assert policy.clock_jumped(NS, -99 * NS) == 'clock jumped backwards'
    verdicts = _step(policy, {c: NS for c in CAMS})
    assert all(v.use and not v.reset for v in verdicts.values()) and policy.resets == 1
    assert policy.clock_jumped(NS, -99 * NS) == '', 'the images are at the new time already'
    assert policy.resets == 1


def test_images_jumping_before_the_clock_make_one_reset():
    policy = ClockPolicy(CAMS)
    _step(policy, {c: 100 * NS for c in CAMS})
    verdicts = _step(policy, {c: NS for c in CAMS})
    assert [c for c, v in verdicts.items() if v.waiting] == ['a', 'b', 'c']
    assert [c for c, v in verdicts.items() if v.reset] == ['d']
    assert policy.clock_jumped(NS, -99 * NS) == '' and policy.resets == 1


def test_images_sent_before_a_clock_jump_are_dropped_after_it():
    policy = ClockPolicy(CAMS)
    _step(policy, {c: 100 * NS for c in CAMS})
    assert policy.clock_jumped(NS, -99 * NS) and policy.resets == 1
    late = policy.image('a', 100 * NS + PERIOD, now_ns=NS)  # in flight during the jump
    assert not late.use and not late.bad_clock and not late.reset
    verdicts = {c: policy.image(c, NS, now_ns=NS) for c in CAMS}
    assert all(v.use for v in verdicts.values()) and not policy.bad and policy.resets == 1


def test_a_short_loop_with_clock_resets_once_even_after_its_images():
    # a 1.2 s bag: the jump is barely over jump_ns; half the clock's jump decides
    policy = ClockPolicy(['a', 'b', 'c'])
    for k in range(12):
        _step(policy, {c: 100 * NS + k * PERIOD for c in 'abc'})
    verdict = policy.image('a', 100 * NS, now_ns=101 * NS + PERIOD)  # before /clock jumped
    assert not verdict.reset
    assert policy.clock_jumped(100 * NS, -(NS + PERIOD)) == 'clock jumped backwards'
    late = policy.image('b', 101 * NS + PERIOD, now_ns=100 * NS)
    assert not late.use and not late.bad_clock
    verdicts = _step(policy, {c: 100 * NS for c in 'abc'})
    assert all(v.use for v in verdicts.values()) and policy.resets == 1 and not policy.bad


def test_rig_looping_without_clock_resets_exactly_once():
    policy = ClockPolicy(CAMS)
    resets = []
    for k in range(40):
        stamp = 100 * NS + (k % 20) * PERIOD  # the bag loops after 20 steps
        for cam, verdict in _step(policy, {c: stamp for c in CAMS}).items():
            resets += [verdict.reset] if verdict.reset else []
            assert verdict.use or k == 20, (k, cam)
    assert resets == ['image stamps jumped backwards'] and policy.resets == 1
    assert not policy.excluded()


def test_single_camera_resets_on_its_own_jump():
    policy = ClockPolicy(['a'])
    assert policy.image('a', 100 * NS).use
    verdict = policy.image('a', NS)
    assert verdict.use and verdict.reset and policy.resets == 1


def test_one_camera_glitch_ahead_does_not_reset_the_rig():
    policy = ClockPolicy(CAMS)
    for k in range(10):
        stamp = 100 * NS + k * PERIOD
        stamps = {c: stamp for c in CAMS}
        if k == 5:
            stamps['b'] = stamp + 50 * NS
        verdicts = _step(policy, stamps)
        assert not any(v.reset for v in verdicts.values())
    assert all(v.use for v in verdicts.values()) and policy.resets == 0


def test_silent_cameras_do_not_vote():
    policy = ClockPolicy(['a', 'b', 'c'])
    _step(policy, {'a': 100 * NS, 'b': 100 * NS})
    for k in range(9):  # a and b went silent; c's clock is the only one now
        assert policy.image('c', 500 * NS + k * PERIOD).use == (k >= 8), k
    assert policy.resets == 0


def test_bad_arguments():
    with pytest.raises(SyncError):
        ClockPolicy([])
    with pytest.raises(SyncError, match="'z'"):
        ClockPolicy(['a']).image('z', 1)
