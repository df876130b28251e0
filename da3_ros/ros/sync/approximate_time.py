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

"""N-way approximate-time synchroniser with a timeout for dead inputs (pure Python, no rclpy).

Why it exists: ``message_filters`` is not installable on the pip-only ROS 2 runtime
(``docs/pip-runtime.md``), and the offline bag tool must synchronise without a ROS
graph. The matching mirrors the policy documented for ``message_filters``' ApproximateTime
(ROS wiki "message_filters/ApproximateTime"), with ``slop`` as the maximum set spread
(``ApproximateTimeSynchronizer(fs, queue_size, slop)``; ``max_interval_duration`` in C++):

- one queue of at most ``queue_size`` messages per input; the oldest is dropped on overflow;
- a set holds one message per input; each message is used at most once; sets do not cross, so
  messages older than a published set's message on the same input are dropped;
- the *pivot* is the latest of the queue heads: every candidate set contains the pivot and is
  formed by repeatedly advancing the earliest message; the set of minimal spread is published as
  soon as no later message can give a smaller one (otherwise it waits for more messages);
- a head that cannot be within ``slop`` of any message of another input is dropped;
- ``min_period_ns`` is the documented "inter message lower bound": when an input's messages are
  known to be at least that far apart, a set can be published without waiting for that input's
  next message (with 0, the default, the policy waits for it, as message_filters does);
- the output depends only on the stamps, not on arrival order across inputs.

Extensions (not in message_filters):

- ``timeout_ns``: when the oldest waiting message is older than ``timeout_ns`` (in message time,
  or by the injected ``clock``), a *partial* set is emitted with the inputs whose heads lie
  within ``slop`` of it; the others are marked missing, so a dead camera does not stop output.
  With a timeout, a message that waits is emitted (in a full or a partial set) whatever
  arrives afterwards: a head that no longer matches the other inputs' heads is not dropped but
  waits for its timeout, because an input may still deliver an older message (per-input
  reordering within the queue is tolerated, as the Python ``message_filters`` does) and
  because a camera that comes back must not take the others' waiting frames with it;
- sets leave in the order of their oldest stamp; a message not newer than the oldest stamp of
  the last emitted set can join no set any more and is dropped as ``late`` (a camera whose
  frames arrive after the others' partial sets left);
- ``exclude(names)``: inputs the caller set aside (a camera with a bad clock) are not waited for
  and are missing from every set until included again;
- drops are counted per ``(input, reason)``. Nothing here decides that time went backwards:
  the owner of that decision (``clock_policy``) calls ``reset``.

Time is integer nanoseconds throughout.
"""
import collections
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from da3_ros.errors import ConfigError, SyncError

Queue = list[tuple[int, Any]]


@dataclass(frozen=True)
class SyncedSet:
    """One set: per input (in constructor order) a stamp and message, or None when missing."""

    inputs: tuple[str, ...]
    stamps_ns: tuple[int | None, ...]
    messages: tuple[Any, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the inputs without a message in this set."""
        return tuple(n for n, s in zip(self.inputs, self.stamps_ns) if s is None)

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    @property
    def stamp_ns(self) -> int:
        """Newest stamp in the set (the time by which every member existed)."""
        return max(s for s in self.stamps_ns if s is not None)

    @property
    def spread_ns(self) -> int:
        present = [s for s in self.stamps_ns if s is not None]
        return max(present) - min(present)


class ApproximateTimeSync:
    """Match messages of several inputs by stamp (see the module docstring for the policy).

    Args:
        inputs: input names, e.g. camera names; sets list them in this order.
        slop_ns: maximum spread of a set.
        queue_size: per-input queue bound.
        timeout_ns: emit partial sets for messages waiting longer than this; None = never.
        clock: returns "now" in ns; default is message time (newest stamp seen).
        min_period_ns: lower bound on the stamp gap between two messages of one input.
    """

    def __init__(self, inputs: Sequence[str], *, slop_ns: int, queue_size: int = 10,
                 timeout_ns: int | None = None, clock: Callable[[], int] | None = None,
                 min_period_ns: int = 0) -> None:
        if not inputs or len(set(inputs)) != len(inputs):
            raise ConfigError(f'inputs must be non-empty and unique, got {list(inputs)}')
        if (slop_ns < 0 or queue_size < 1 or min_period_ns < 0
                or (timeout_ns is not None and timeout_ns < 0)):
            raise ConfigError(f'invalid sync options: slop_ns={slop_ns}, queue_size={queue_size}'
                              f', timeout_ns={timeout_ns}, min_period_ns={min_period_ns}')
        self.inputs = tuple(inputs)
        self._index = {name: i for i, name in enumerate(self.inputs)}
        self._slop, self._queue_size, self._timeout = slop_ns, queue_size, timeout_ns
        self._clock = clock
        self._excluded: frozenset = frozenset()
        self._min_period = min_period_ns
        self.drops: collections.Counter = collections.Counter()
        self.resets = 0
        self._clear()

    def reset(self) -> None:
        """Drop every queued message (counted as ``clock_reset``) and forget the time.

        Called by the owner of the clock policy when time jumped; exclusions are kept.
        """
        for name, queue in zip(self.inputs, self._queues):
            if queue:
                self.drops[(name, 'clock_reset')] += len(queue)
        self.resets += 1
        self._clear()

    def _clear(self) -> None:
        self._queues: list[Queue] = [[] for _ in self.inputs]
        self._consumed: list[int | None] = [None] * len(self.inputs)
        self._last_set_ns: int | None = None
        self._now: int | None = None

    def exclude(self, names: Sequence[str]) -> list[SyncedSet]:
        """Stop waiting for ``names`` (their queues are dropped); return sets now ready."""
        excluded = frozenset(self._index[n] for n in names if n in self._index)
        for i in excluded - self._excluded:
            if self._queues[i]:
                self.drops[(self.inputs[i], 'excluded')] += len(self._queues[i])
            self._queues[i] = []
        self._excluded = excluded
        return self._drain()

    def add(self, name: str, stamp_ns: int, msg: Any) -> list[SyncedSet]:
        """Queue one message; return the sets that became ready (possibly none)."""
        if name not in self._index:
            raise SyncError(f'unknown sync input {name!r}; known: {list(self.inputs)}')
        i, stamp_ns = self._index[name], int(stamp_ns)
        self._tick()
        if i in self._excluded:
            self.drops[(name, 'excluded')] += 1
            return []
        if not self._admit(i, stamp_ns, msg):
            return []
        if self._clock is None:
            self._now = stamp_ns if self._now is None else max(self._now, stamp_ns)
        return self._drain()

    def poll(self) -> list[SyncedSet]:
        """Emit timed-out partial sets without a new message (call from a timer)."""
        self._tick()
        return self._drain()

    def _tick(self) -> None:
        if self._clock is not None:
            self._now = int(self._clock())

    def _admit(self, i: int, stamp_ns: int, msg: Any) -> bool:
        queue, consumed = self._queues[i], self._consumed[i]
        last_set = self._last_set_ns
        if (consumed is not None and stamp_ns <= consumed) or (
                last_set is not None and stamp_ns <= last_set):
            self.drops[(self.inputs[i], 'late')] += 1
            return False
        if any(s == stamp_ns for s, _ in queue):
            self.drops[(self.inputs[i], 'duplicate')] += 1
            return False
        queue.append((stamp_ns, msg))
        queue.sort(key=lambda item: item[0])
        if len(queue) > self._queue_size:
            self._drop_head(i, 'queue_overflow')
        return True

    def _drop_head(self, i: int, reason: str) -> None:
        stamp_ns, _ = self._queues[i].pop(0)
        self._consumed[i] = stamp_ns
        self.drops[(self.inputs[i], reason)] += 1

    def _drain(self) -> list[SyncedSet]:
        out = []
        while (chosen := self._find_full()) is not None:
            out.append(self._emit(chosen))
        while (chosen := self._find_timed_out()) is not None:
            out.append(self._emit(chosen))
            while (full := self._find_full()) is not None:
                out.append(self._emit(full))
        return out

    def _active(self) -> list[int]:
        return [i for i in range(len(self.inputs)) if i not in self._excluded]

    def _drop_unmatchable_heads(self, active: list[int]) -> bool:
        """Get True when the active heads lie within slop; False while a queue is empty or waits.

        Without a timeout a head that cannot be within slop of the others is dropped, as
        message_filters does; with one it waits (see the module docstring).
        """
        while active and all(self._queues[i] for i in active):
            heads = {i: self._queues[i][0][0] for i in active}
            earliest = min(heads, key=heads.__getitem__)
            if max(heads.values()) - heads[earliest] <= self._slop:
                return True
            if self._timeout is not None:
                return False
            self._drop_head(earliest, 'no_match_within_slop')
        return False

    def _find_full(self) -> list[int | None] | None:
        """Queue indices of the next full set, or None while it is not decided yet."""
        active = self._active()
        if not self._drop_unmatchable_heads(active):
            return None
        queues = [self._queues[i] for i in active]
        idx = [0] * len(queues)
        stamps = [q[0][0] for q in queues]
        pivot = max(range(len(stamps)), key=stamps.__getitem__)
        pivot_ns = stamps[pivot]
        best, best_spread = list(idx), max(stamps) - min(stamps)
        while True:
            earliest = min(range(len(stamps)), key=lambda k: (stamps[k], k != pivot))
            if earliest == pivot or max(stamps) - pivot_ns >= best_spread:
                return self._expand(active, best)
            if idx[earliest] + 1 >= len(queues[earliest]):
                # Any later set moves this input on, to a stamp >= now + the minimum period.
                next_ns = stamps[earliest] + self._min_period
                decided = max(next_ns, *stamps) - pivot_ns >= best_spread
                return self._expand(active, best) if decided else None
            idx[earliest] += 1
            stamps[earliest] = queues[earliest][idx[earliest]][0]
            if max(stamps) - min(stamps) < best_spread:
                best, best_spread = list(idx), max(stamps) - min(stamps)

    def _expand(self, active: list[int], chosen: list[int]) -> list[int | None]:
        """Per-input choice from the choice over the active inputs (None for excluded ones)."""
        full: list[int | None] = [None] * len(self.inputs)
        for i, index in zip(active, chosen):
            full[i] = index
        return full

    def _find_timed_out(self) -> list[int | None] | None:
        """Get partial set around the oldest waiting message once it is older than the timeout."""
        if self._timeout is None or self._now is None:
            return None
        heads = [q[0][0] if q else None for q in self._queues]
        present = [s for s in heads if s is not None]
        if not present or self._now - min(present) <= self._timeout:
            return None
        oldest = min(present)
        return [0 if s is not None and s - oldest <= self._slop else None for s in heads]

    def _emit(self, chosen: Sequence[int | None]) -> SyncedSet:
        stamps, messages = [], []
        for i, index in enumerate(chosen):
            if index is None:
                stamps.append(None)
                messages.append(None)
                continue
            for _ in range(index):
                self._drop_head(i, 'unmatched')
            stamp_ns, msg = self._queues[i].pop(0)
            self._consumed[i] = stamp_ns
            stamps.append(stamp_ns)
            messages.append(msg)
        self._last_set_ns = min(s for s in stamps if s is not None)
        return SyncedSet(self.inputs, tuple(stamps), tuple(messages))
