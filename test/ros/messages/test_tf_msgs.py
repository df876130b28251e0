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

"""TransformStamped / TFMessage builders and readers against geometry_msgs semantics."""
from types import SimpleNamespace

import numpy as np
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.quaternion import transform_matrix
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.messages.tf_msgs import (make_header, ns_to_stamp, stamp_to_ns, tf_message,
                                          transform_from_msg, transform_stamped)

STAMP = 1_700_000_000_999_999_999


def _pose():
    half = np.pi / 8  # 45 degrees about z
    return transform_matrix([1.0, -2.0, 0.5], [0.0, 0.0, np.sin(half), np.cos(half)])


def test_stamp_conversion(types):
    stamp = ns_to_stamp(types, STAMP)
    assert (stamp.sec, stamp.nanosec) == (1_700_000_000, 999_999_999)
    assert stamp_to_ns(stamp) == STAMP
    assert stamp_to_ns(make_header(types, 5, 'map').stamp) == 5
    with pytest.raises(ConversionError, match='-1'):
        ns_to_stamp(types, -1)


def test_transform_stamped_carries_T_parent_child(types, wire_round_trip):
    msg = wire_round_trip(transform_stamped(types, _pose(), 'base', 'cam', STAMP))
    assert (msg.header.frame_id, msg.child_frame_id) == ('base', 'cam')
    t, q = msg.transform.translation, msg.transform.rotation
    assert (t.x, t.y, t.z) == (1.0, -2.0, 0.5)
    np.testing.assert_allclose([q.x, q.y, q.z, q.w],
                               [0, 0, np.sin(np.pi / 8), np.cos(np.pi / 8)], atol=1e-12)
    parent, child, stamp, matrix = transform_from_msg(msg)
    assert (parent, child, stamp) == ('base', 'cam', STAMP)
    np.testing.assert_allclose(matrix, _pose(), atol=1e-12)


def test_tf_message_feeds_the_buffer(types, wire_round_trip):
    if types.TFMessage is None:
        pytest.skip('tf2_msgs stand-in not built')
    msg = wire_round_trip(tf_message(types, [
        transform_stamped(types, _pose(), 'odom', 'base', STAMP),
        transform_stamped(types, np.eye(4), 'base', 'cam', STAMP)]))
    buf = TfBuffer()
    assert buf.add_tf_message(msg) == 2
    np.testing.assert_allclose(buf.lookup('odom', 'cam', STAMP), _pose(), atol=1e-12)


def test_builder_and_reader_errors(types):
    with pytest.raises(ConversionError, match="child ''"):
        transform_stamped(types, np.eye(4), 'base', '', 0)
    bad = np.eye(4)
    bad[:3, :3] *= 2.0
    with pytest.raises(ConversionError, match='not a rotation'):
        transform_stamped(types, bad, 'base', 'cam', 0)
    vec = SimpleNamespace(x=0.0, y=0.0, z=0.0, w=0.0)
    msg = SimpleNamespace(header=SimpleNamespace(frame_id='a', stamp=SimpleNamespace(
        sec=0, nanosec=0)), child_frame_id='b', transform=SimpleNamespace(
        translation=vec, rotation=vec))
    with pytest.raises(ConversionError, match=r'\[a\] <- \[b\]: quaternion has zero norm'):
        transform_from_msg(msg)
