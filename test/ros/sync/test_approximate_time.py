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

"""ApproximateTimeSync against message_filters' documented ApproximateTime policy + timeouts."""
import random

import pytest

from da3_ros.errors import ConfigError, SyncError
from da3_ros.ros.sync.approximate_time import ApproximateTimeSync

MS = 1_000_000
PERIOD = 100 * MS


def _feed(sync, events):
    """Feed (name, stamp) events; message = (name, stamp); return all emitted sets."""
    out = []
    for name, stamp in events:
        out.extend(sync.add(name, stamp, (name, stamp)))
    return out


def _interleave(streams):
    """Arrival order sorted by stamp (ties by name), like a live graph."""
    return sorted(((n, s) for n, stamps in streams.items() for s in stamps),
                  key=lambda e: (e[1], e[0]))


def test_perfect_sync_emits_each_set_when_complete():
    sync = ApproximateTimeSync(['a', 'b', 'c'], slop_ns=10 * MS)
    for k in range(5):
        stamp = k * PERIOD
        assert sync.add('a', stamp, 'a%d' % k) == []
        assert sync.add('b', stamp, 'b%d' % k) == []
        (out,) = sync.add('c', stamp, 'c%d' % k)
        assert out.messages == ('a%d' % k, 'b%d' % k, 'c%d' % k)
        assert out.stamp_ns == stamp and out.spread_ns == 0 and not out.partial
    assert sum(sync.drops.values()) == 0


def test_jitter_within_slop_pairs_the_right_messages():
    rng = random.Random(1)
    streams = {n: [k * PERIOD + rng.randint(0, 8) * MS for k in range(20)] for n in 'abc'}
    sets = _feed(ApproximateTimeSync(list('abc'), slop_ns=10 * MS), _interleave(streams))
    # message_filters waits for the next message before it can be sure: the last set stays.
    assert len(sets) == 19
    for k, out in enumerate(sets):
        assert out.stamps_ns == tuple(streams[n][k] for n in 'abc')
        assert out.spread_ns <= 10 * MS


def test_min_period_publishes_without_waiting_for_the_next_message():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=20 * MS, min_period_ns=50 * MS)
    assert sync.add('a', 100 * MS, 'a') == []
    (out,) = sync.add('b', 103 * MS, 'b')
    assert out.messages == ('a', 'b')
    without = ApproximateTimeSync(['a', 'b'], slop_ns=20 * MS)
    assert _feed(without, [('a', 100 * MS), ('b', 103 * MS)]) == []


def test_pivot_chooses_the_set_of_minimal_spread():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=100 * MS)
    assert _feed(sync, [('a', 0), ('b', 8 * MS)]) == [], 'a later a could be closer to b'
    (out,) = sync.add('a', 10 * MS, None)
    assert out.stamps_ns == (10 * MS, 8 * MS)
    assert sync.drops[('a', 'unmatched')] == 1


def test_half_rate_input_matches_its_partners_and_drops_the_rest():
    streams = {'fast': [k * PERIOD for k in range(10)],
               'slow': [k * PERIOD + 2 * MS for k in range(0, 10, 2)]}
    sync = ApproximateTimeSync(['fast', 'slow'], slop_ns=10 * MS)
    sets = _feed(sync, _interleave(streams))
    expected = [(k * PERIOD, k * PERIOD + 2 * MS) for k in range(0, 10, 2)]
    assert [out.stamps_ns for out in sets] == expected
    assert sync.drops == {('fast', 'no_match_within_slop'): 4}


@pytest.mark.parametrize('seed', range(5))
def test_output_depends_only_on_stamps_not_arrival_order(seed):
    rng = random.Random(seed)
    streams = {n: sorted(rng.sample(range(0, 3000 * MS, MS), 25)) for n in 'abc'}
    reference = _feed(ApproximateTimeSync(list('abc'), slop_ns=30 * MS, queue_size=100),
                      _interleave(streams))
    # Shuffle across inputs while keeping each input in order.
    pending = {n: list(s) for n, s in streams.items()}
    events = []
    while any(pending.values()):
        name = rng.choice([n for n, s in pending.items() if s])
        events.append((name, pending[name].pop(0)))
    shuffled = _feed(ApproximateTimeSync(list('abc'), slop_ns=30 * MS, queue_size=100), events)
    assert [s.stamps_ns for s in shuffled] == [s.stamps_ns for s in reference]


@pytest.mark.parametrize('seed', range(5))
def test_sets_are_valid_unique_and_do_not_cross(seed):
    rng = random.Random(seed)
    streams = {n: sorted(rng.sample(range(0, 2000 * MS, MS), 100)) for n in 'abcd'}
    sets = _feed(ApproximateTimeSync(list('abcd'), slop_ns=30 * MS, queue_size=50),
                 _interleave(streams))
    assert len(sets) > 20
    for out in sets:
        assert out.spread_ns <= 30 * MS and not out.partial
        assert all(msg == (n, s) for n, s, msg in zip('abcd', out.stamps_ns, out.messages))
    for before, after in zip(sets, sets[1:]):
        assert all(x < y for x, y in zip(before.stamps_ns, after.stamps_ns))


def test_dropped_message_loses_only_its_set():
    streams = {n: [k * PERIOD for k in range(6)] for n in 'ab'}
    streams['b'].remove(2 * PERIOD)
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS)
    sets = _feed(sync, _interleave(streams))
    assert [out.stamps_ns[0] // PERIOD for out in sets] == [0, 1, 3, 4, 5]
    assert sync.drops[('a', 'no_match_within_slop')] == 1


def test_dead_camera_with_timeout_emits_partial_sets():
    sync = ApproximateTimeSync(list('abc'), slop_ns=10 * MS, timeout_ns=250 * MS,
                               min_period_ns=50 * MS)
    streams = {n: [k * PERIOD + MS * (n == 'b') for k in range(12)] for n in 'ab'}
    streams['c'] = [k * PERIOD for k in range(3)]  # camera c dies after 0.2 s
    sets = _feed(sync, _interleave(streams))
    full = [s for s in sets if not s.partial]
    partial = [s for s in sets if s.partial]
    assert [s.stamps_ns[0] for s in full] == [0, PERIOD, 2 * PERIOD]
    assert all(s.missing == ('c',) for s in partial)
    assert [s.stamps_ns[:2] for s in partial] == [(k * PERIOD, k * PERIOD + MS)
                                                  for k in range(3, 9)]
    # c comes back: the frames waiting for it leave as partial sets, then full sets again
    out = _feed(sync, [('c', 12 * PERIOD), ('a', 12 * PERIOD), ('b', 12 * PERIOD + MS)])
    out += _feed(sync, [('c', 15 * PERIOD), ('a', 15 * PERIOD), ('b', 15 * PERIOD + MS)])
    assert [s.stamps_ns[0] for s in out[:-1]] == [k * PERIOD for k in (9, 10, 11, 12)]
    assert [s.missing for s in out[:3]] == [('c',)] * 3
    assert out[3].stamps_ns == (12 * PERIOD, 12 * PERIOD + MS, 12 * PERIOD)


def test_timeout_with_injected_clock_and_poll():
    now = [0]
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS, timeout_ns=200 * MS,
                               clock=lambda: now[0])
    assert sync.add('a', 0, 'a0') == []
    now[0] = 150 * MS
    assert sync.poll() == []
    now[0] = 201 * MS
    (out,) = sync.poll()
    assert out.messages == ('a0', None) and out.missing == ('b',)


def test_reset_drops_the_queues_and_the_time():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS)
    _feed(sync, [('a', 100 * PERIOD), ('a', 101 * PERIOD)])
    sync.reset()  # the clock policy's decision; the synchroniser itself never decides it
    assert _feed(sync, [('a', 0), ('b', 0)])[0].stamps_ns == (0, 0)
    assert sync.resets == 1 and sync.drops[('a', 'clock_reset')] == 2


def test_stamps_behind_an_input_newest_do_not_reset_by_themselves():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS)
    _feed(sync, [('a', 100 * PERIOD)])
    assert _feed(sync, [('a', 0), ('b', 0)])[0].stamps_ns == (0, 0)
    assert sync.resets == 0


def test_camera_returning_loses_none_of_the_waiting_partial_sets():
    now = [0]
    sync = ApproximateTimeSync(list('abc'), slop_ns=10 * MS, timeout_ns=250 * MS,
                               clock=lambda: now[0])
    streams = {n: [k * PERIOD for k in range(10)] for n in 'ab'}
    streams['c'] = [k * PERIOD for k in range(3)] + [k * PERIOD for k in range(8, 10)]
    sets = []
    for name, stamp in _interleave(streams):
        now[0] = stamp
        sets.extend(sync.add(name, stamp, (name, stamp)))
    now[0] = 20 * PERIOD
    sets.extend(sync.poll())
    assert [s.stamps_ns[0] for s in sets] == [k * PERIOD for k in range(10)]
    assert [s.missing for s in sets] == [()] * 3 + [('c',)] * 5 + [()] * 2
    assert sum(sync.drops.values()) == 0


def test_per_input_reordering_within_the_queue_loses_nothing():
    streams = {n: [k * PERIOD for k in range(20)] for n in 'abc'}
    events = _interleave(streams)
    for k in range(1, 19, 3):  # camera b delivers k + 1 before k
        i = events.index(('b', k * PERIOD))
        j = events.index(('b', (k + 1) * PERIOD))
        events[i], events[j] = events[j], events[i]
    sync = ApproximateTimeSync(list('abc'), slop_ns=10 * MS, timeout_ns=250 * MS)
    sets = _feed(sync, events) + _feed(sync, [(n, 30 * PERIOD) for n in 'abc'])
    assert [s.stamps_ns for s in sets] == [(k * PERIOD,) * 3 for k in range(20)] + [
        (30 * PERIOD,) * 3]
    assert sum(sync.drops.values()) == 0


def test_camera_later_than_the_timeout_is_labelled_late():
    sync = ApproximateTimeSync(list('ab'), slop_ns=10 * MS, timeout_ns=250 * MS)
    events = [(n, k * PERIOD) for k in range(10) for n in 'a']
    late = [('b', k * PERIOD) for k in range(10)]
    sets = []
    for k in range(10):  # b's frame k arrives after a's frame k + 3 (0.3 s late)
        sets += _feed(sync, [events[k]] + ([late[k - 3]] if k >= 3 else []))
    assert sets and all(s.missing == ('b',) for s in sets)
    assert set(sync.drops) == {('b', 'late')}


def test_excluded_input_is_not_waited_for():
    sync = ApproximateTimeSync(list('abc'), slop_ns=10 * MS)
    assert _feed(sync, [('a', 0), ('b', 0)]) == []
    (out,) = sync.exclude(['c'])
    assert out.stamps_ns == (0, 0, None) and out.missing == ('c',)
    assert _feed(sync, [('c', PERIOD)]) == [] and sync.drops[('c', 'excluded')] == 1
    (out,) = _feed(sync, [('a', PERIOD), ('b', PERIOD)])
    assert out.missing == ('c',)
    sync.exclude([])
    assert _feed(sync, [('a', 2 * PERIOD), ('b', 2 * PERIOD)]) == []
    assert _feed(sync, [('c', 2 * PERIOD)])[0].stamps_ns == (2 * PERIOD,) * 3


def test_late_and_duplicate_messages_are_dropped_and_counted():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS, min_period_ns=50 * MS)
    _feed(sync, [('a', PERIOD), ('b', PERIOD)])
    assert sync.add('a', PERIOD - MS, None) == []
    sync.add('b', 2 * PERIOD, None)
    sync.add('b', 2 * PERIOD, None)
    assert sync.drops[('a', 'late')] == 1 and sync.drops[('b', 'duplicate')] == 1


def test_queues_are_bounded():
    sync = ApproximateTimeSync(['a', 'b'], slop_ns=10 * MS, queue_size=3)
    _feed(sync, [('a', k * PERIOD) for k in range(10)])
    assert sync.drops[('a', 'queue_overflow')] == 7
    (out,) = _feed(sync, [('b', 9 * PERIOD)])
    assert out.stamps_ns == (9 * PERIOD, 9 * PERIOD)


def test_bad_arguments():
    with pytest.raises(ConfigError):
        ApproximateTimeSync([], slop_ns=0)
    with pytest.raises(ConfigError):
        ApproximateTimeSync(['a', 'a'], slop_ns=0)
    with pytest.raises(ConfigError):
        ApproximateTimeSync(['a'], slop_ns=-1)
    with pytest.raises(SyncError, match="'z'"):
        ApproximateTimeSync(['a'], slop_ns=0).add('z', 0, None)
