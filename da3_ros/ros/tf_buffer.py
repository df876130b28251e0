"""A small TF buffer with tf2's lookup semantics, in pure Python (no rclpy, no tf2_ros).

Why it exists: ``tf2_ros`` (and its C++ ``tf2`` core) is not installable on the pip-only ROS 2
runtime this package targets (see ``docs/pip-runtime.md``), and the offline bag tool
needs lookups without a running graph. This module mirrors the documented behaviour of
``tf2::BufferCore``:

- static transforms (``/tf_static``) never expire and are valid at every time;
- dynamic transforms are kept per child frame in a time cache of ``cache_time_ns`` (tf2's default
  is 10 s) measured back from the newest stamp of that frame; data older than that window and
  data with a repeated stamp are ignored, as tf2 does (``TF_OLD_DATA``, ``TF_REPEATED_DATA``);
- ``lookup(target, source, stamp)`` walks both frames up to their common ancestor and returns
  ``T_target_source`` (maps points in ``source`` into ``target``), interpolating each dynamic link
  linearly in translation and by slerp in rotation between the two surrounding samples;
- ``stamp_ns == 0`` means the latest time at which every dynamic link of the chain has data
  (tf2's "latest common time"; 0 when the chain is all static);
- a stamp after the newest or before the oldest sample of a link is an extrapolation error, never
  a guess; unknown frames and frames in unconnected trees are errors. All raise ``SyncError``.

Call ``clear()`` when the clock jumps backwards (tf2_ros clears its buffer on such jumps too).
"""
import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np

from da3_ros.errors import SyncError
from da3_ros.geometry.pose import inverse
from da3_ros.ros.quaternion import slerp, split_transform, transform_matrix
from da3_ros.ros.tf_msgs import transform_from_msg

DEFAULT_CACHE_TIME_NS = 10_000_000_000
_MAX_DEPTH = 1000


@dataclass(frozen=True)
class _Sample:
    """One ``T_parent_child`` at one stamp: translation (3,) and quaternion ``[x, y, z, w]``."""

    stamp_ns: int
    parent: str
    translation: np.ndarray
    rotation: np.ndarray

    def matrix(self) -> np.ndarray:
        return transform_matrix(self.translation, self.rotation)


class _TimeCache:
    """Time-ordered samples of one child frame, bounded to ``cache_time_ns`` behind the newest."""

    def __init__(self, cache_time_ns: int) -> None:
        self._cache_time_ns = cache_time_ns
        self._stamps: list[int] = []
        self._samples: list[_Sample] = []

    @property
    def oldest_ns(self) -> int:
        return self._stamps[0]

    @property
    def latest(self) -> _Sample:
        return self._samples[-1]

    def insert(self, sample: _Sample) -> bool:
        """Insert in stamp order; False for too-old or repeated stamps (tf2 ignores them)."""
        if self._stamps and sample.stamp_ns < self._stamps[-1] - self._cache_time_ns:
            return False
        index = bisect.bisect_left(self._stamps, sample.stamp_ns)
        if index < len(self._stamps) and self._stamps[index] == sample.stamp_ns:
            return False
        self._stamps.insert(index, sample.stamp_ns)
        self._samples.insert(index, sample)
        horizon = self._stamps[-1] - self._cache_time_ns
        drop = bisect.bisect_left(self._stamps, horizon)
        del self._stamps[:drop], self._samples[:drop]
        return True

    def at(self, stamp_ns: int, child: str) -> _Sample:
        """The (interpolated) sample at ``stamp_ns``; ``SyncError`` outside the data."""
        first, last = self._samples[0], self._samples[-1]
        if stamp_ns > last.stamp_ns:
            raise SyncError(
                f'Lookup would require extrapolation into the future. Requested time {stamp_ns} ns'
                f' but the latest data is at time {last.stamp_ns} ns, when looking up transform'
                f' from frame [{child}] to frame [{last.parent}]')
        if stamp_ns < first.stamp_ns:
            raise SyncError(
                f'Lookup would require extrapolation into the past. Requested time {stamp_ns} ns'
                f' but the earliest data is at time {first.stamp_ns} ns, when looking up'
                f' transform from frame [{child}] to frame [{first.parent}]')
        index = bisect.bisect_left(self._stamps, stamp_ns)
        after = self._samples[index]
        if after.stamp_ns == stamp_ns:
            return after
        before = self._samples[index - 1]
        if before.parent != after.parent:
            return before  # tf2 does not interpolate across a parent change either
        ratio = (stamp_ns - before.stamp_ns) / (after.stamp_ns - before.stamp_ns)
        translation = before.translation + ratio * (after.translation - before.translation)
        rotation = slerp(before.rotation, after.rotation, ratio)
        return _Sample(stamp_ns, before.parent, translation, rotation)


class TfBuffer:
    """Static and time-cached dynamic transforms with tf2-style ``lookup``.

    Args:
        cache_time_ns: how far back from its newest sample each dynamic frame keeps data.
    """

    def __init__(self, *, cache_time_ns: int = DEFAULT_CACHE_TIME_NS) -> None:
        if cache_time_ns <= 0:
            raise SyncError(f'cache_time_ns must be positive, got {cache_time_ns}')
        self._cache_time_ns = cache_time_ns
        self._static: dict[str, _Sample] = {}
        self._dynamic: dict[str, _TimeCache] = {}

    def clear(self) -> None:
        """Forget every transform (call on backwards clock jumps)."""
        self._static.clear()
        self._dynamic.clear()

    def set_transform(self, T_parent_child: np.ndarray, parent: str, child: str, stamp_ns: int,
                      *, static: bool = False) -> bool:
        """Store ``T_parent_child`` (4x4) at ``stamp_ns``.

        Returns:
            False when tf2 would ignore the data (older than the cache window or a repeated
            stamp), else True.

        Raises:
            SyncError: on empty or equal frame ids.
            ConversionError: when the matrix is not a finite rigid transform.
        """
        if not parent or not child or parent == child:
            raise SyncError(f'invalid transform frames: parent {parent!r}, child {child!r}')
        translation, rotation = split_transform(T_parent_child)
        sample = _Sample(int(stamp_ns), parent, translation, rotation)
        if static:
            self._static[child] = sample
            return True
        cache = self._dynamic.setdefault(child, _TimeCache(self._cache_time_ns))
        return cache.insert(sample)

    def add_tf_message(self, tf_message: Any, *, static: bool = False) -> int:
        """Store every ``TransformStamped`` of a ``tf2_msgs/TFMessage``-like object.

        Works with rclpy messages and rosbags dataclasses alike (only field names are used).

        Returns:
            How many transforms were stored (ignored old or repeated data is not counted).
        """
        stored = 0
        for msg in tf_message.transforms:
            parent, child, stamp_ns, matrix = transform_from_msg(msg)
            stored += self.set_transform(matrix, parent, child, stamp_ns, static=static)
        return stored

    def frames(self) -> set[str]:
        """Every frame id known as a child or a parent."""
        names = set(self._static) | set(self._dynamic)
        names |= {s.parent for s in self._static.values()}
        names |= {c.latest.parent for c in self._dynamic.values()}
        return names

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool:
        """Whether ``lookup`` would succeed."""
        try:
            self.lookup(target, source, stamp_ns)
        except SyncError:
            return False
        return True

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> np.ndarray:
        """Return ``T_target_source`` (4x4) at ``stamp_ns`` (0 = latest common time).

        Raises:
            SyncError: unknown frame, unconnected trees, or extrapolation (naming frames and
                times).
        """
        source_path, target_path, common = self._paths(target, source)
        if stamp_ns == 0:
            stamp_ns = self._latest_stamp(source_path + target_path)
        T_common_source = self._compose(source_path, common, stamp_ns)
        T_common_target = self._compose(target_path, common, stamp_ns)
        return inverse(T_common_target) @ T_common_source

    def latest_common_time(self, target: str, source: str) -> int:
        """Newest stamp at which every dynamic link between the frames has data (0 if all static).

        Raises:
            SyncError: unknown frame or unconnected trees.
        """
        source_path, target_path, _ = self._paths(target, source)
        return self._latest_stamp(source_path + target_path)

    def _paths(self, target: str, source: str) -> tuple[list[str], list[str], str]:
        """Child frames from ``source`` and ``target`` up to their common ancestor, and it."""
        known = self.frames()
        for frame, role in ((target, 'target_frame'), (source, 'source_frame')):
            if frame not in known:
                raise SyncError(f'"{frame}" passed to lookup as {role} does not exist'
                                f' (known frames: {sorted(known)})')
        up_source, up_target = self._ancestors(source), self._ancestors(target)
        common = next((frame for frame in up_target if frame in up_source), None)
        if common is None:
            raise SyncError(f'Could not find a connection between [{target}] and [{source}]'
                            ' because they are not part of the same tree')
        return (up_source[:up_source.index(common)], up_target[:up_target.index(common)],
                common)

    def _ancestors(self, frame: str) -> list[str]:
        """``frame`` and its parents up to the root (by each frame's newest parent)."""
        chain = [frame]
        while (link := self._latest_link(chain[-1])) is not None:
            if len(chain) > _MAX_DEPTH:
                raise SyncError(f'TF tree above [{frame}] is deeper than {_MAX_DEPTH} (a loop?)')
            chain.append(link.parent)
        return chain

    def _latest_stamp(self, children: list[str]) -> int:
        stamps = [self._dynamic[c].latest.stamp_ns for c in children if c not in self._static]
        return min(stamps) if stamps else 0

    def _compose(self, children: list[str], top: str, stamp_ns: int) -> np.ndarray:
        """``T_top_first``: chain the links of ``children`` (bottom-up) at ``stamp_ns``."""
        T_top_child = np.eye(4)
        for child, expected in zip(children, [*children[1:], top]):
            link = self._static.get(child) or self._dynamic[child].at(stamp_ns, child)
            if link.parent != expected:
                raise SyncError(f'parent of [{child}] at {stamp_ns} ns is [{link.parent}], not'
                                f' [{expected}] as in its newest data; cannot chain')
            T_top_child = link.matrix() @ T_top_child
        return T_top_child

    def _latest_link(self, child: str) -> _Sample | None:
        if child in self._static:
            return self._static[child]
        cache = self._dynamic.get(child)
        return None if cache is None else cache.latest
