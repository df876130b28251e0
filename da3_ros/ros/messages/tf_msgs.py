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

"""Stamps, ``TransformStamped`` and ``TFMessage`` to and from numpy.

Why it exists: ``tf2_ros``/``tf2_geometry_msgs`` are not installable on the pip-only runtime
(``docs/pip-runtime.md``), so the node publishes ``tf2_msgs/TFMessage`` itself. The
message semantics mirror tf2: a ``TransformStamped`` with ``header.frame_id = parent`` and
``child_frame_id = child`` carries ``T_parent_child``, the pose of the child frame in the parent
frame (it maps child-frame points into the parent frame); rotation is a unit quaternion
``[x, y, z, w]``.

Readers take any object with the message's field names (rclpy messages or rosbags dataclasses);
builders create messages through a ``MsgTypes`` bundle.
"""
from typing import Any, Sequence

import numpy as np

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.quaternion import split_transform, transform_matrix

_NS_PER_S = 1_000_000_000


def stamp_to_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time``-like (``sec``, ``nanosec``) to integer nanoseconds."""
    return int(stamp.sec) * _NS_PER_S + int(stamp.nanosec)


def ns_to_stamp(types: MsgTypes, stamp_ns: int) -> Any:
    """Integer nanoseconds (>= 0) to a ``builtin_interfaces/Time``.

    Raises:
        ConversionError: for negative stamps (``Time.sec`` is int32, ``nanosec`` uint32).
    """
    if stamp_ns < 0:
        raise ConversionError(f'stamp must be >= 0 ns, got {stamp_ns}')
    sec, nanosec = divmod(int(stamp_ns), _NS_PER_S)
    return types.Time(sec=sec, nanosec=nanosec)


def make_header(types: MsgTypes, stamp_ns: int, frame_id: str) -> Any:
    """Return a ``std_msgs/Header`` with the given stamp and frame."""
    return types.Header(stamp=ns_to_stamp(types, stamp_ns), frame_id=frame_id)


def transform_from_msg(msg: Any) -> tuple[str, str, int, np.ndarray]:
    """Read a ``TransformStamped``-like object.

    Returns:
        ``(parent, child, stamp_ns, T_parent_child)`` with a 4x4 float64 matrix.

    Raises:
        ConversionError: non-finite values or a zero quaternion (naming the frames).
    """
    t, r = msg.transform.translation, msg.transform.rotation
    parent, child = msg.header.frame_id, msg.child_frame_id
    try:
        matrix = transform_matrix([t.x, t.y, t.z], [r.x, r.y, r.z, r.w])
    except ConversionError as err:
        raise ConversionError(f'transform [{parent}] <- [{child}]: {err}') from err
    return parent, child, stamp_to_ns(msg.header.stamp), matrix


def transform_stamped(types: MsgTypes, T_parent_child: np.ndarray, parent: str, child: str,
                      stamp_ns: int) -> Any:
    """Build a ``geometry_msgs/TransformStamped`` carrying ``T_parent_child`` (4x4).

    Raises:
        ConversionError: empty frame ids or a matrix that is not a finite rigid transform.
    """
    if not parent or not child:
        raise ConversionError(f'frame ids must be non-empty: parent {parent!r}, child {child!r}')
    translation, q = split_transform(T_parent_child)
    transform = types.Transform(
        translation=types.Vector3(x=float(translation[0]), y=float(translation[1]),
                                  z=float(translation[2])),
        rotation=types.Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])))
    return types.TransformStamped(header=make_header(types, stamp_ns, parent),
                                  child_frame_id=child, transform=transform)


def tf_message(types: MsgTypes, transforms: Sequence[Any]) -> Any:
    """Wrap ``TransformStamped`` messages into a ``tf2_msgs/TFMessage``.

    Raises:
        ConversionError: when ``types`` has no ``TFMessage`` (``tf2_msgs`` not installed).
    """
    if types.TFMessage is None:
        raise ConversionError('tf2_msgs/msg/TFMessage is not available (build the tf2_msgs'
                              ' stand-in, docs/pip-runtime.md)')
    return types.TFMessage(transforms=list(transforms))
