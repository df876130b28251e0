"""TfBuffer against tf2's documented lookup semantics."""
import numpy as np
import pytest

from da3_ros.errors import SyncError
from da3_ros.ros.quaternion import transform_matrix
from da3_ros.ros.tf_buffer import TfBuffer

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


def test_repeated_stamp_is_ignored(rig):
    assert not rig.set_transform(_pose(x=99.0), 'odom', 'base', 2 * S)
    np.testing.assert_allclose(rig.lookup('odom', 'base', 2 * S), _pose(x=2.0, yaw=0.5),
                               atol=1e-12)


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
