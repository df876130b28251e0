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

"""rig_input: a synced set + TF buffer -> RigFrame, per-camera errors never lose other cameras."""
import dataclasses

import numpy as np
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.errors import ConfigError
from da3_ros.ros.messages.rig_input import build_rig_input, CameraSource
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.sync.approximate_time import SyncedSet
from da3_ros.ros.sync.multi_camera import ImagePair
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ('front', 'front_left', 'back')


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((28, 42))


@pytest.fixture
def tf(types, rig):
    buffer = TfBuffer()
    buffer.add_tf_message(rm.static_tf(types, rig), static=True)
    for step in range(4):
        buffer.add_tf_message(rm.odom_tf(types, rig, step))
    return buffer


def _replace(synced, name, **changes):
    i = synced.inputs.index(name)
    messages = list(synced.messages)
    messages[i] = dataclasses.replace(messages[i], **changes)
    return SyncedSet(synced.inputs, synced.stamps_ns, tuple(messages))


def test_full_set_from_tf(types, rig, tf):
    synced = rm.synced_set(types, rig, 1, NAMES)
    out = build_rig_input(synced, [CameraSource(n) for n in NAMES], tf, base_frame=rm.BASE,
                          odom_frame=rm.ODOM)
    assert out.errors == {} and out.missing == () and out.odom_error == ''
    assert out.stamp_ns == rm.NS // 10 and out.frame.stamp == pytest.approx(0.1)
    assert [c.name for c in out.frame.cameras] == list(NAMES)
    for cam in out.frame.cameras:
        expected, _ = rig.render((0.1, cam.name))
        np.testing.assert_array_equal(cam.image, expected)
        np.testing.assert_allclose(cam.t_base_cam, rig.cameras[cam.name].t_base_cam, atol=1e-12)
        np.testing.assert_allclose(cam.k, rig.intrinsics(cam.name, rig.size_hw))
        assert cam.frame_id == f'{cam.name}_optical' and cam.distortion_model == 'plumb_bob'
    np.testing.assert_allclose(out.frame.t_odom_base, rig.trajectory.t_odom_base(1), atol=1e-9)
    assert out.frame_ids['back'] == 'back_optical' and out.stamps_ns['back'] == rm.NS // 10


def test_compressed_and_param_extrinsics(types, rig):
    synced = rm.synced_set(types, rig, 0, NAMES, transport='compressed')
    extr = {n: rig.cameras[n].t_base_cam for n in NAMES}
    sources = [CameraSource(n, 'compressed', t_base_cam=extr[n]) for n in NAMES]
    out = build_rig_input(synced, sources, None, base_frame=rm.BASE)
    assert out.errors == {} and out.frame.t_odom_base is None
    for cam in out.frame.cameras:
        expected, _ = rig.render((0.0, cam.name))
        np.testing.assert_array_equal(cam.image, expected)  # PNG is lossless
        np.testing.assert_array_equal(cam.t_base_cam, extr[cam.name])


def test_missing_camera_is_listed_not_an_error(types, rig, tf):
    synced = rm.synced_set(types, rig, 2, NAMES, missing=('front_left',))
    out = build_rig_input(synced, [CameraSource(n) for n in NAMES], tf, base_frame=rm.BASE)
    assert out.missing == ('front_left',) and out.errors == {}
    assert [c.name for c in out.frame.cameras] == ['front', 'back']


@pytest.mark.parametrize('fault, needle', [
    ('encoding', 'unsupported image encoding'),
    ('size', 'CameraInfo of'),
    ('nan', 'not finite'),
    ('frame', 'nowhere_optical'),
])
def test_one_bad_camera_keeps_the_others(types, rig, tf, fault, needle):
    synced = rm.synced_set(types, rig, 1, NAMES)
    msg = synced.messages[1]
    if fault == 'encoding':
        msg.image.encoding = 'bayer_rggb8'
    elif fault == 'size':
        msg.info.width = msg.info.width + 2
    elif fault == 'nan':
        k = np.array(msg.info.k, float)
        k[0] = np.nan
        msg.info.k = k
    else:
        msg.image.header.frame_id = 'nowhere_optical'
    out = build_rig_input(_replace(synced, 'front_left', image=msg.image, info=msg.info),
                          [CameraSource(n) for n in NAMES], tf, base_frame=rm.BASE)
    assert list(out.errors) == ['front_left'] and needle in out.errors['front_left']
    assert [c.name for c in out.frame.cameras] == ['front', 'back']


def test_odometry_extrapolation_is_reported(types, rig, tf):
    synced = rm.synced_set(types, rig, 9, NAMES)  # odometry only up to step 3
    out = build_rig_input(synced, [CameraSource(n) for n in NAMES], tf, base_frame=rm.BASE,
                          odom_frame=rm.ODOM)
    assert out.frame.t_odom_base is None and 'extrapolat' in out.odom_error.lower()
    assert len(out.frame.cameras) == 3


def test_all_cameras_bad_gives_no_frame(types, rig):
    synced = rm.synced_set(types, rig, 1, NAMES[:1])
    synced.messages[0].image.encoding = '32FC1'
    out = build_rig_input(synced, [CameraSource(NAMES[0])], None, base_frame='')
    assert out.frame is None and 'ConversionError' in out.errors['front']
    assert out.stamp_ns == rm.NS // 10


def test_reference_stamp_is_oldest_image(types, rig):
    synced = rm.synced_set(types, rig, 1, NAMES)
    late = synced.messages[2]
    frames = list(synced.messages)
    frames[2] = ImagePair(late.camera, late.stamp_ns + 5_000_000, late.image, late.info,
                          late.info_stamp_ns + 5_000_000)
    late.info.header.stamp.nanosec += 5_000_000
    synced = SyncedSet(synced.inputs, synced.stamps_ns[:2] + (frames[2].stamp_ns,), tuple(frames))
    out = build_rig_input(synced, [CameraSource(n) for n in NAMES], None, base_frame='')
    assert out.stamp_ns == rm.NS // 10 and out.stamps_ns['back'] == rm.NS // 10 + 5_000_000


def test_each_camera_is_placed_with_odometry_at_its_own_stamp(types, rig):
    # base moving at 10 m/s along x: a camera 20 ms after the reference sits 0.2 m further on
    from da3_ros.ros.messages.tf_msgs import tf_message, transform_stamped
    tf = TfBuffer()
    tf.add_tf_message(rm.static_tf(types, rig), static=True)
    for sec in (0, 1):
        pose = np.eye(4)
        pose[0, 3] = 10.0 * sec
        tf.add_tf_message(tf_message(types, [transform_stamped(
            types, pose, rm.ODOM, rm.BASE, sec * rm.NS)]))
    synced = rm.synced_set(types, rig, 1, NAMES)
    later = synced.messages[2]
    frames = list(synced.messages)
    frames[2] = ImagePair(later.camera, later.stamp_ns + 20_000_000, later.image,
                          later.info, later.info_stamp_ns)
    synced = SyncedSet(synced.inputs, synced.stamps_ns[:2] + (frames[2].stamp_ns,), tuple(frames))
    out = build_rig_input(synced, [CameraSource(n) for n in NAMES], tf, base_frame=rm.BASE,
                          odom_frame=rm.ODOM)
    assert out.odom_error == '' and out.frame.t_odom_base[0, 3] == pytest.approx(1.0)
    cams = {c.name: c for c in out.frame.cameras}
    for name in NAMES[:2]:
        np.testing.assert_allclose(cams[name].t_base_cam, rig.cameras[name].t_base_cam,
                                   atol=1e-12)
    expected = rig.cameras['back'].t_base_cam.copy()
    expected[0, 3] += 0.2
    np.testing.assert_allclose(cams['back'].t_base_cam, expected, atol=1e-9)


def test_rectified_image_is_read_with_p_and_r(types, rig):
    yaw = np.radians(3.0)
    r = np.array([[np.cos(yaw), 0.0, np.sin(yaw)], [0.0, 1.0, 0.0],
                  [-np.sin(yaw), 0.0, np.cos(yaw)]])
    synced = rm.synced_set(types, rig, 0, NAMES)
    info = synced.messages[0].info
    p = np.reshape(np.asarray(info.p, dtype=float), (3, 4)).copy()
    p[0, 0] *= 1.1
    info.r, info.p, info.d = r.reshape(-1), p.reshape(-1), np.array([0.2, 0.0, 0.0, 0.0, 0.0])
    extr = {n: rig.cameras[n].t_base_cam for n in NAMES}
    for rectified in (False, True):
        sources = [CameraSource(n, t_base_cam=extr[n], rectified=rectified) for n in NAMES]
        out = build_rig_input(synced, sources, None, base_frame='')
        front = out.frame.cameras[0]
        if not rectified:  # raw image: K and D, the camera's own frame
            assert front.distortion == (0.2, 0.0, 0.0, 0.0, 0.0)
            np.testing.assert_allclose(front.t_base_cam, extr['front'])
            continue
        assert front.distortion_model == 'none' and front.distortion == ()
        np.testing.assert_allclose(front.k, p[:, :3])
        expected = extr['front'].copy()
        expected[:3, :3] = extr['front'][:3, :3] @ r.T
        np.testing.assert_allclose(front.t_base_cam, expected, atol=1e-12)


def test_unknown_transport_is_a_config_error():
    with pytest.raises(ConfigError, match='transport'):
        CameraSource('front', 'theora')


def test_decompression_bomb_in_one_camera_keeps_the_others(types, rig):
    """A PNG claiming 20000 x 20000 pixels (Pillow raises DecompressionBombError on open)."""
    synced = rm.synced_set(types, rig, 0, NAMES, transport='compressed')
    msg = synced.messages[1]
    msg.image.data = np.frombuffer(rm.png_header_only(20000, 20000), np.uint8)
    sources = [CameraSource(n, 'compressed', t_base_cam=np.eye(4)) for n in NAMES]
    out = build_rig_input(_replace(synced, 'front_left', image=msg.image), sources, None,
                          base_frame=rm.BASE)
    assert list(out.errors) == ['front_left'] and 'DecompressionBomb' in out.errors['front_left']
    assert [c.name for c in out.frame.cameras] == ['front', 'back']
