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

"""TfBuffer against tf2's documented lookup semantics."""
import numpy as np
import pytest

from da3_ros.errors import SyncError
from da3_ros.ros.messages.quaternion import transform_matrix
from da3_ros.ros.messages.tf_buffer import (ConnectivityException, ExtrapolationException,
                                            InvalidArgumentException, LookupException, TfBuffer,
                                            TransformException)
from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped

S = 1_000_000_000


def _pose(x: float = 0.0, y: float = 0.0, z: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    return transform_matrix([x, y, z], [0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)])


def _apply(matrix: np.ndarray, point) -> np.ndarray:
    return (matrix @ np.append(point, 1.0))[:3]


@pytest.fixture
def rig() -> TfBuffer:
    """Frames map -> odom (static), odom -> base (dynamic, 1-3 s), base -> cam_l/cam_r (static)."""
    buf = TfBuffer()
    buf.set_transform(_pose(x=10.0), 'map', 'odom', 0, static=True)
    for sec in (1, 2, 3):
        buf.set_transform(_pose(x=float(sec), yaw=0.5 * (sec - 1)), 'odom', 'base', sec * S)
    buf.set_transform(_pose(y=0.5), 'base', 'cam_l', 0, static=True)
    buf.set_transform(_pose(y=-0.5), 'base', 'cam_r', 0, static=True)
    return buf


def test_same_frame_is_identity(rig):
    np.testing.assert_array_equal(rig.lookup('base', 'base', 123), np.eye(4))


def test_lookup_maps_source_points_into_target(rig):
    # tf2: lookup_transform(target, source) transforms data from source into target.
    T_base_cam = rig.lookup('base', 'cam_l', 2 * S)
    np.testing.assert_allclose(_apply(T_base_cam, [0, 0, 0]), [0.0, 0.5, 0.0])
    np.testing.assert_allclose(rig.lookup('cam_l', 'base', 2 * S), np.linalg.inv(T_base_cam))


def test_lookup_through_common_ancestor(rig):
    T_l_r = rig.lookup('cam_l', 'cam_r', 1 * S)
    np.testing.assert_allclose(_apply(T_l_r, [0, 0, 0]), [0.0, -1.0, 0.0], atol=1e-12)


def test_chain_composes_static_and_dynamic(rig):
    T_map_base = rig.lookup('map', 'base', 1 * S)
    np.testing.assert_allclose(T_map_base, _pose(x=10.0) @ _pose(x=1.0), atol=1e-12)


def test_exact_stamp_returns_sample(rig):
    np.testing.assert_allclose(rig.lookup('odom', 'base', 3 * S), _pose(x=3.0, yaw=1.0),
                               atol=1e-12)


def test_interpolates_translation_linearly_and_rotation_by_slerp(rig):
    T = rig.lookup('odom', 'base', 1 * S + S // 4)
    np.testing.assert_allclose(T, _pose(x=1.25, yaw=0.125), atol=1e-12)


def test_future_extrapolation_is_an_error(rig):
    with pytest.raises(SyncError, match='into the future') as err:
        rig.lookup('map', 'cam_l', 3 * S + 1)
    assert '3000000001' in str(err.value) and '3000000000' in str(err.value)
    assert '[base]' in str(err.value) and '[odom]' in str(err.value)


def test_past_extrapolation_is_an_error(rig):
    with pytest.raises(SyncError, match='into the past'):
        rig.lookup('odom', 'base', S - 1)


def test_stamp_zero_uses_latest_common_time():
    buf = TfBuffer()
    for sec in (1, 2, 3):
        buf.set_transform(_pose(x=float(sec)), 'odom', 'base', sec * S)
    for sec in (1, 2):
        buf.set_transform(_pose(z=float(sec)), 'base', 'arm', sec * S)
    assert buf.latest_common_time('odom', 'arm') == 2 * S
    assert buf.latest_common_time('odom', 'base') == 3 * S
    np.testing.assert_allclose(buf.lookup('odom', 'arm', 0), buf.lookup('odom', 'arm', 2 * S))


def test_static_only_chain_is_valid_at_any_time(rig):
    assert rig.latest_common_time('cam_l', 'cam_r') == 0
    expected = rig.lookup('cam_l', 'cam_r', 0)
    np.testing.assert_allclose(rig.lookup('cam_l', 'cam_r', 10**18), expected)


def test_single_sample_only_at_its_stamp():
    buf = TfBuffer()
    buf.set_transform(_pose(x=1.0), 'odom', 'base', 5 * S)
    np.testing.assert_allclose(buf.lookup('odom', 'base', 0), _pose(x=1.0))
    np.testing.assert_allclose(buf.lookup('odom', 'base', 5 * S), _pose(x=1.0))
    assert not buf.can_transform('odom', 'base', 5 * S + 1)
    assert not buf.can_transform('odom', 'base', 5 * S - 1)


def test_cache_is_bounded_behind_the_newest_sample():
    buf = TfBuffer(cache_time_ns=10 * S)
    for sec in range(21):
        assert buf.set_transform(_pose(x=float(sec)), 'odom', 'base', sec * S)
    assert buf.can_transform('odom', 'base', 10 * S)
    with pytest.raises(SyncError, match='into the past'):
        buf.lookup('odom', 'base', 10 * S - 1)
    assert not buf.set_transform(_pose(), 'odom', 'base', 9 * S), 'too old: ignored like tf2'


def test_repeated_stamp_replaces_the_value_as_jazzy_tf2_does(rig):
    assert rig.set_transform(_pose(x=99.0), 'odom', 'base', 2 * S)
    np.testing.assert_allclose(rig.lookup('odom', 'base', 2 * S), _pose(x=99.0), atol=1e-12)


def test_out_of_order_inserts_are_sorted():
    buf = TfBuffer()
    buf.set_transform(_pose(x=3.0), 'odom', 'base', 3 * S)
    buf.set_transform(_pose(x=1.0), 'odom', 'base', 1 * S)
    np.testing.assert_allclose(buf.lookup('odom', 'base', 2 * S), _pose(x=2.0), atol=1e-12)


def test_unknown_frame_and_unconnected_trees(rig):
    with pytest.raises(SyncError, match='"nowhere" passed to lookup as source_frame'):
        rig.lookup('map', 'nowhere', 0)
    rig.set_transform(_pose(), 'world2', 'robot2', 0, static=True)
    with pytest.raises(SyncError, match='not part of the same tree'):
        rig.lookup('map', 'robot2', 0)
    with pytest.raises(SyncError, match='not part of the same tree'):
        rig.lookup('map', 'robot2', 2 * S)


def test_clear_forgets_everything(rig):
    rig.clear()
    assert rig.frames() == set()
    with pytest.raises(SyncError, match='does not exist'):
        rig.lookup('map', 'base', 0)


def test_invalid_frames_rejected():
    with pytest.raises(SyncError):
        TfBuffer().set_transform(np.eye(4), 'a', 'a', 0)
    with pytest.raises(SyncError):
        TfBuffer().set_transform(np.eye(4), '', 'a', 0)


def test_errors_are_typed_like_tf2(rig):
    with pytest.raises(LookupException):
        rig.lookup('map', 'nowhere', 0)
    rig.set_transform(_pose(), 'world2', 'robot2', 0, static=True)
    with pytest.raises(ConnectivityException):
        rig.lookup('map', 'robot2', 0)
    with pytest.raises(ExtrapolationException):
        rig.lookup('odom', 'base', 4 * S)
    with pytest.raises(InvalidArgumentException):
        rig.set_transform(np.eye(4), 'a', 'a', 0)
    for cls in (LookupException, ConnectivityException, ExtrapolationException,
                InvalidArgumentException):
        assert issubclass(cls, TransformException) and issubclass(cls, SyncError)


def test_extrapolation_above_the_common_frame_does_not_matter(rig):
    # tf2 walks up from both frames and stops where they meet: odom -> base is not needed.
    np.testing.assert_allclose(rig.lookup('cam_l', 'cam_r', 100 * S), _pose(y=-1.0),
                               atol=1e-12)


def _loop_message(types, good: bool):
    if good:
        return tf_message(types, [transform_stamped(types, _pose(y=0.5), 'base', 'cam_l', 0)])
    return tf_message(types, [transform_stamped(types, _pose(), 'cam_l', 'base', 0)])


def test_an_insert_that_would_close_a_loop_is_rejected_and_does_not_poison(rig, types):
    before = rig.lookup('map', 'cam_l', 2 * S)
    with pytest.raises(InvalidArgumentException, match='would close a loop'):
        rig.add_tf_message(_loop_message(types, good=False), static=True)
    np.testing.assert_allclose(rig.lookup('map', 'cam_l', 2 * S), before)
    assert rig.add_tf_message(_loop_message(types, good=True), static=True) == 1
    np.testing.assert_allclose(rig.lookup('map', 'cam_l', 2 * S), before)
    with pytest.raises(InvalidArgumentException, match='loop'):
        rig.set_transform(_pose(), 'cam_r', 'odom', 5 * S)  # a dynamic loop as well


def test_valid_transforms_of_a_message_are_stored_when_others_are_rejected(types):
    buf = TfBuffer()
    msg = tf_message(types, [transform_stamped(types, _pose(x=1.0), 'odom', 'base', S),
                             transform_stamped(types, _pose(), 'x', 'x', S)])
    msg.transforms[1].child_frame_id = 'x'
    with pytest.raises(InvalidArgumentException, match="'x'"):
        buf.add_tf_message(msg)
    np.testing.assert_allclose(buf.lookup('odom', 'base', S), _pose(x=1.0))


@pytest.mark.parametrize('w, stored', [(1.0, True), (1.004, True), (0.996, True),
                                       (1.006, False), (0.994, False), (2.0, False),
                                       (float('nan'), False)])
def test_quaternion_norm_tolerance_as_tf2(types, w, stored):
    # tf2 BufferCore: |x^2 + y^2 + z^2 + w^2 - 1| < 10e-3, else TF_DENORMALIZED_QUATERNION.
    msg = tf_message(types, [transform_stamped(types, np.eye(4), 'odom', 'base', S)])
    msg.transforms[0].transform.rotation.w = w
    buf = TfBuffer()
    if stored:
        assert buf.add_tf_message(msg) == 1
        np.testing.assert_allclose(buf.lookup('odom', 'base', S), np.eye(4), atol=1e-12)
    else:
        with pytest.raises(InvalidArgumentException, match='normalised'):
            buf.add_tf_message(msg)
        assert buf.frames() == set()


def test_reparenting_follows_the_parent_valid_at_each_stamp():
    buf = TfBuffer()
    buf.set_transform(_pose(x=1.0), 'a', 'child', 1 * S)
    buf.set_transform(_pose(x=1.0), 'a', 'child', 2 * S)
    buf.set_transform(_pose(y=1.0), 'b', 'child', 3 * S)  # re-parented to b from 3 s on
    buf.set_transform(_pose(y=1.0), 'b', 'child', 4 * S)
    buf.set_transform(_pose(z=5.0), 'root', 'a', 0, static=True)
    buf.set_transform(_pose(z=7.0), 'root', 'b', 0, static=True)
    np.testing.assert_allclose(buf.lookup('root', 'child', 1 * S + S // 2),
                               _pose(x=1.0, z=5.0), atol=1e-12)
    np.testing.assert_allclose(buf.lookup('root', 'child', 3 * S + S // 2),
                               _pose(y=1.0, z=7.0), atol=1e-12)
    # between the last sample under a and the first under b tf2 does not interpolate
    np.testing.assert_allclose(buf.lookup('root', 'child', 2 * S + S // 2),
                               _pose(x=1.0, z=5.0), atol=1e-12)
    assert buf.latest_common_time('root', 'child') == 4 * S


def test_a_new_static_replaces_the_old_one_with_its_parent():
    buf = TfBuffer()
    buf.set_transform(_pose(x=1.0), 'a', 'cam', 0, static=True)
    buf.set_transform(_pose(x=2.0), 'b', 'cam', 0, static=True)
    np.testing.assert_allclose(buf.lookup('b', 'cam', 0), _pose(x=2.0))
    with pytest.raises(ConnectivityException):
        buf.lookup('a', 'cam', 0)
