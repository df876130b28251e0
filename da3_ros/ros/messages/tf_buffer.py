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

"""A small TF buffer with tf2's insert and lookup semantics, in pure Python (no rclpy, no tf2).

Why it exists: ``tf2_ros`` (and its C++ ``tf2`` core) is not installable on the pip-only ROS 2
runtime this package targets (see ``docs/pip-runtime.md``), and the offline bag tool
needs lookups without a running graph. This module mirrors the behaviour of Jazzy's
``tf2::BufferCore``; the node's ``/tf`` and ``/tf_static`` intake goes through it alone.

Inserts (``set_transform``, ``add_tf_message``):

- static transforms (``/tf_static``) never expire and are valid at every time; a new static
  transform of the same child replaces the old one (also its parent);
- dynamic transforms are kept per child frame in a time cache of ``cache_time_ns`` (tf2's default
  is 10 s) measured back from the newest stamp of that frame; data older than that window is
  ignored (``TF_OLD_DATA``), and a repeated stamp replaces the stored value, as Jazzy's
  ``TimeCache::insertData`` does;
- each sample carries its own parent, so re-parenting works as in tf2: a lookup at time t
  walks the parents valid at t, new stamps follow the newest parent, and there is no
  interpolation across a parent change (the earlier sample is used);
- rejected with ``InvalidArgumentException`` and not stored (the rest of a message is still
  stored): empty or equal frame ids (``TF_NO_FRAME_ID``, ``TF_SELF_TRANSFORM``), NaN values
  (``TF_NAN_INPUT``), a quaternion with ``|x^2 + y^2 + z^2 + w^2 - 1| >= 0.01``
  (``TF_DENORMALIZED_QUATERNION``, tf2's ``QUATERNION_NORMALIZATION_TOLERANCE`` of 10e-3 on the
  squared norm; a quaternion inside the tolerance is used normalised), and - stricter than
  tf2, which stores it and fails every later lookup through it - a transform whose child is
  already an ancestor of its parent (it would close a loop in the tree). A rejected insert
  never changes the buffer, so a wrong transform arriving after the correct tree does not
  stop any lookup. (Order matters as it does in tf2: when the wrong transform came first, the
  correct one is the insert that closes the loop; the error names the chain, and the fix is
  to correct or re-parent the wrong link's child.)

Lookups (``lookup(target, source, stamp)``) return ``T_target_source`` (maps points in
``source`` into ``target``) through the common ancestor, interpolating each dynamic link
linearly in translation and by slerp in rotation; ``stamp_ns == 0`` means the latest time at
which every dynamic link of the chain has data (tf2's latest common time; 0 when all static).
Errors are typed like tf2's (all ``TransformException``, a ``SyncError``): an unknown frame is a
``LookupException``, frames in unconnected trees a ``ConnectivityException``, a stamp outside a
link's data an ``ExtrapolationException`` (never a guess).

The owner of the clock policy calls ``clear()`` when time jumps backwards (tf2_ros clears its
buffer on such jumps too).
"""
import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np

from da3_ros.errors import ConversionError, SyncError
from da3_ros.geometry.pose import inverse
from da3_ros.ros.messages.quaternion import slerp, split_transform, transform_matrix
from da3_ros.ros.messages.tf_msgs import transform_from_msg

DEFAULT_CACHE_TIME_NS = 10_000_000_000
QUATERNION_NORMALIZATION_TOLERANCE = 10e-3  # tf2's bound on |squared norm - 1|
_MAX_DEPTH = 1000  # tf2's MAX_GRAPH_DEPTH


class TransformException(SyncError):
    """Base of the TF errors (tf2's ``TransformException``)."""


class LookupException(TransformException):
    """A frame does not exist, or the tree above it is invalid (tf2's ``LookupException``)."""


class ConnectivityException(TransformException):
    """The frames are in unconnected trees (tf2's ``ConnectivityException``)."""


class ExtrapolationException(TransformException):
    """The stamp is outside a link's data (tf2's ``ExtrapolationException``).

    ``future`` is True when the stamp lies after the link's newest data: the data may still
    arrive (a message on ``/tf`` later than the image), which ``LockedTf.can_transform`` waits for.
    """

    def __init__(self, message: str, *, future: bool = False) -> None:
        super().__init__(message)
        self.future = future


class InvalidArgumentException(TransformException):
    """A transform not stored: bad ids, NaN, bad quaternion, a loop (tf2's same name)."""


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
        """Insert in stamp order (a repeated stamp replaces); False for too-old data."""
        if self._stamps and sample.stamp_ns < self._stamps[-1] - self._cache_time_ns:
            return False
        index = bisect.bisect_left(self._stamps, sample.stamp_ns)
        if index < len(self._stamps) and self._stamps[index] == sample.stamp_ns:
            self._samples[index] = sample
            return True
        self._stamps.insert(index, sample.stamp_ns)
        self._samples.insert(index, sample)
        horizon = self._stamps[-1] - self._cache_time_ns
        drop = bisect.bisect_left(self._stamps, horizon)
        del self._stamps[:drop], self._samples[:drop]
        return True

    def at(self, stamp_ns: int, child: str) -> _Sample:
        """Return the (interpolated) sample at ``stamp_ns``; ``ExtrapolationException`` outside."""
        first, last = self._samples[0], self._samples[-1]
        if stamp_ns > last.stamp_ns:
            raise ExtrapolationException(
                f'Lookup would require extrapolation into the future. Requested time {stamp_ns} ns'
                f' but the latest data is at time {last.stamp_ns} ns, when looking up transform'
                f' from frame [{child}] to frame [{last.parent}]', future=True)
        if stamp_ns < first.stamp_ns:
            raise ExtrapolationException(
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
    """Static and time-cached dynamic transforms with tf2-style inserts and ``lookup``.

    Args:
        cache_time_ns: how far back from its newest sample each dynamic frame keeps data.
    """

    def __init__(self, *, cache_time_ns: int = DEFAULT_CACHE_TIME_NS) -> None:
        if cache_time_ns <= 0:
            raise SyncError(f'cache_time_ns must be positive, got {cache_time_ns}')
        self._cache_time_ns = cache_time_ns
        self._static: dict[str, _Sample] = {}
        self._dynamic: dict[str, _TimeCache] = {}
        self._names: set[str] = set()  # every frame ever stored, as tf2 never forgets an id

    def clear(self) -> None:
        """Forget every transform (call on backwards clock jumps)."""
        self._static.clear()
        self._dynamic.clear()
        self._names.clear()

    def set_transform(self, T_parent_child: np.ndarray, parent: str, child: str, stamp_ns: int,
                      *, static: bool = False) -> bool:
        """Store ``T_parent_child`` (4x4) at ``stamp_ns``.

        Returns:
            False when tf2 would ignore the data (older than the cache window), else True.

        Raises:
            InvalidArgumentException: empty or equal frame ids, a non-rigid matrix, or a
                transform that would close a loop; nothing is stored then.
        """
        if not parent or not child or parent == child:
            raise InvalidArgumentException(
                f'invalid transform frames: parent {parent!r}, child {child!r}'
                ' (TF_NO_FRAME_ID / TF_SELF_TRANSFORM)')
        try:
            translation, rotation = split_transform(T_parent_child)
        except ConversionError as err:
            raise InvalidArgumentException(f'transform [{parent}] <- [{child}]: {err}') from err
        if child in self._ancestors(parent, strict=False):
            raise InvalidArgumentException(
                f'transform [{parent}] <- [{child}] would close a loop: [{child}] is already an'
                f' ancestor of [{parent}] ({" -> ".join(self._ancestors(parent, strict=False))})')
        sample = _Sample(int(stamp_ns), parent, translation, rotation)
        self._names.update((parent, child))
        if static:
            self._static[child] = sample
            self._dynamic.pop(child, None)
            return True
        cache = self._dynamic.setdefault(child, _TimeCache(self._cache_time_ns))
        return cache.insert(sample)

    def add_tf_message(self, tf_message: Any, *, static: bool = False) -> int:
        """Store every valid ``TransformStamped`` of a ``tf2_msgs/TFMessage``-like object.

        Works with rclpy messages and rosbags dataclasses alike (only field names are used).
        The valid transforms are stored even when others are rejected.

        Returns:
            How many transforms were stored (ignored old data is not counted).

        Raises:
            InvalidArgumentException: after storing the valid ones, naming every rejected one.
        """
        stored, rejected = 0, []
        for msg in tf_message.transforms:
            try:
                stored += self._add_msg(msg, static)
            except TransformException as err:
                rejected.append(str(err))
        if rejected:
            raise InvalidArgumentException('; '.join(rejected))
        return stored

    def _add_msg(self, msg: Any, static: bool) -> bool:
        r = msg.transform.rotation
        norm2 = r.x * r.x + r.y * r.y + r.z * r.z + r.w * r.w
        if not abs(norm2 - 1.0) < QUATERNION_NORMALIZATION_TOLERANCE:  # NaN fails too
            raise InvalidArgumentException(
                f'transform [{msg.header.frame_id}] <- [{msg.child_frame_id}]: quaternion'
                f' ({r.x}, {r.y}, {r.z}, {r.w}) is not normalised (squared norm {norm2}),'
                ' ignored as tf2 does (TF_DENORMALIZED_QUATERNION)')
        try:
            parent, child, stamp_ns, matrix = transform_from_msg(msg)
        except ConversionError as err:
            raise InvalidArgumentException(str(err)) from err
        return self.set_transform(matrix, parent, child, stamp_ns, static=static)

    def frames(self) -> set[str]:
        """Every frame id stored as a child or a parent since the last ``clear``."""
        return set(self._names)

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool:
        """Whether ``lookup`` would succeed."""
        try:
            self.lookup(target, source, stamp_ns)
        except TransformException:
            return False
        return True

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> np.ndarray:
        """Return ``T_target_source`` (4x4) at ``stamp_ns`` (0 = latest common time).

        Raises:
            LookupException: an unknown frame or a loop.
            ConnectivityException: the frames are in unconnected trees.
            ExtrapolationException: the stamp is outside the data of a link on the path.
        """
        if stamp_ns == 0:
            stamp_ns = self.latest_common_time(target, source)
        else:
            self._check_known(target, source)
        if target == source:
            return np.eye(4)
        up_source, links_source, error_source = self._walk(source, stamp_ns)
        up_target, links_target, error_target = self._walk(target, stamp_ns)
        common = next((frame for frame in up_target if frame in up_source), None)
        if common is None:
            if error_source or error_target:
                raise error_source or error_target
            raise ConnectivityException(
                f'Could not find a connection between [{target}] and [{source}] because they'
                ' are not part of the same tree')
        T_common_source = _chain(links_source[:up_source.index(common)])
        T_common_target = _chain(links_target[:up_target.index(common)])
        return inverse(T_common_target) @ T_common_source

    def latest_common_time(self, target: str, source: str) -> int:
        """Newest stamp at which every dynamic link between the frames has data (0 if all static).

        Raises:
            LookupException: an unknown frame or a loop.
            ConnectivityException: the frames are in unconnected trees.
        """
        self._check_known(target, source)
        up_source, up_target = self._ancestors(source), self._ancestors(target)
        common = next((frame for frame in up_target if frame in up_source), None)
        if common is None:
            raise ConnectivityException(
                f'Could not find a connection between [{target}] and [{source}] because they'
                ' are not part of the same tree')
        children = up_source[:up_source.index(common)] + up_target[:up_target.index(common)]
        stamps = [self._dynamic[c].latest.stamp_ns for c in children if c not in self._static]
        return min(stamps) if stamps else 0

    def _check_known(self, target: str, source: str) -> None:
        known = self.frames()
        for frame, role in ((target, 'target_frame'), (source, 'source_frame')):
            if frame not in known:
                raise LookupException(f'"{frame}" passed to lookup as {role} does not exist'
                                      f' (known frames: {sorted(known)})')

    def _ancestors(self, frame: str, *, strict: bool = True) -> list[str]:
        """``frame`` and its parents up to the root by each frame's newest parent."""
        chain = [frame]
        while (link := self._latest_link(chain[-1])) is not None:
            if len(chain) > _MAX_DEPTH:
                if not strict:
                    break
                raise LookupException(f'The tf tree above [{frame}] is invalid because it'
                                      ' contains a loop')
            chain.append(link.parent)
        return chain

    def _walk(self, frame: str, stamp_ns: int) -> tuple[list[str], list[_Sample], Any]:
        """Frames and links from ``frame`` up at ``stamp_ns``, as tf2 walks to the top parent.

        The walk stops at the root or at the first link without data at the stamp; that
        extrapolation is returned, not raised (the other side may still meet below it).
        """
        chain, links = [frame], []
        while True:
            static = self._static.get(chain[-1])
            cache = self._dynamic.get(chain[-1])
            if static is None and cache is None:
                return chain, links, None
            try:
                link = static or cache.at(stamp_ns, chain[-1])
            except ExtrapolationException as err:
                return chain, links, err
            if len(chain) > _MAX_DEPTH:
                raise LookupException(f'The tf tree above [{frame}] is invalid because it'
                                      ' contains a loop')
            chain.append(link.parent)
            links.append(link)

    def _latest_link(self, child: str) -> _Sample | None:
        if child in self._static:
            return self._static[child]
        cache = self._dynamic.get(child)
        return None if cache is None else cache.latest


def _chain(links: list[_Sample]) -> np.ndarray:
    """``T_top_first`` from the links of a walk, bottom-up."""
    T_top_child = np.eye(4)
    for link in links:
        T_top_child = link.matrix() @ T_top_child
    return T_top_child
