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

"""rig_output: RigResult -> messages (rclpy and rosbags), checked against the engine's arrays."""
import numpy as np
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.config import CameraConfig, EngineConfig, ModelConfig
from da3_ros.engine.engine import Engine
from da3_ros.errors import ConfigError
from da3_ros.ros.messages.cloud import cloud_to_arrays, unpack_rgb
from da3_ros.ros.messages.image import image_to_array, image_to_depth
from da3_ros.ros.messages.quaternion import transform_matrix
from da3_ros.ros.messages.rig_input import build_rig_input, CameraSource
from da3_ros.ros.messages.rig_output import OutputOptions, result_messages
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.ros.messages.tf_msgs import stamp_to_ns, transform_from_msg
from da3_ros.synthetic.predictor import SimulatedPredictor
from da3_ros.synthetic.sequence import SyntheticRig

NAMES = ('front', 'front_left', 'back')


@pytest.fixture(scope='module')
def rig():
    return SyntheticRig((28, 42))


@pytest.fixture
def step_result(types, rig):
    """(RigInput, RigResult) of step 1 with 'back' missing, odometry from TF."""
    cfg = EngineConfig(model=ModelConfig(device='cpu', dtype='fp32', process_res=42),
                       cameras=tuple(CameraConfig(name=n) for n in NAMES))
    engine = Engine(cfg, predictor=SimulatedPredictor(rig))
    tf = TfBuffer()
    tf.add_tf_message(rm.static_tf(types, rig), static=True)
    for step in range(3):
        tf.add_tf_message(rm.odom_tf(types, rig, step))
    sources = [CameraSource(n) for n in NAMES]
    for step in range(2):
        synced = rm.synced_set(types, rig, step, NAMES, missing=('back',) if step else ())
        rig_input = build_rig_input(synced, sources, tf, base_frame=rm.BASE, odom_frame=rm.ODOM)
        result = engine.step(rig_input.frame)
    return rig_input, result


def _by_topic(messages):
    topics = [t for t, _ in messages]
    assert len(topics) == len(set(topics)), topics
    return dict(messages)


def test_camera_outputs(types, step_result, wire_round_trip):
    rig_input, result = step_result
    opts = OutputOptions(cloud_rgb=True, cloud_confidence=True)
    out = _by_topic(result_messages(types, result, rig_input, opts, camera_names=NAMES))
    assert 'back/depth' not in out
    for name in ('front', 'front_left'):
        cam = result.cameras[name]
        depth = wire_round_trip(out[f'{name}/depth'])
        assert depth.encoding == '32FC1' and (depth.height, depth.width) == cam.depth.shape
        assert depth.header.frame_id == f'{name}_optical'
        assert stamp_to_ns(depth.header.stamp) == rm.NS // 10
        np.testing.assert_array_equal(image_to_depth(depth), cam.depth)
        info = wire_round_trip(out[f'{name}/depth/camera_info'])
        assert (info.height, info.width) == cam.depth.shape
        np.testing.assert_allclose(np.reshape(info.k, (3, 3)), cam.k)
        assert info.header.frame_id == depth.header.frame_id
        conf = wire_round_trip(out[f'{name}/confidence'])
        np.testing.assert_array_equal(image_to_array(conf), cam.confidence)
        cloud = cloud_to_arrays(wire_round_trip(out[f'{name}/points']))
        xyz = np.stack([cloud['x'], cloud['y'], cloud['z']], -1)
        np.testing.assert_array_equal(xyz, cam.cloud.astype(np.float32))
        assert set(cloud) == {'x', 'y', 'z', 'rgb', 'confidence'}
        valid = np.isfinite(xyz[..., 2])
        # points reproject into the depth image: z equals depth, u, v equal the pixel
        np.testing.assert_allclose(xyz[..., 2][valid], cam.depth[valid], rtol=1e-5)
        uv = (cam.k @ (xyz[valid] / xyz[valid][:, 2:]).T).T[:, :2]
        rows, cols = np.nonzero(valid)
        np.testing.assert_allclose(uv, np.stack([cols, rows], 1), atol=1e-3)


def _coded_input(rig_input, name, distortion):
    """``rig_input`` with camera ``name``'s image coding (row, col) and the given distortion."""
    import dataclasses
    frame = rig_input.frame
    cams = list(frame.cameras)
    i = next(j for j, c in enumerate(cams) if c.name == name)
    h, w = cams[i].image.shape[:2]
    rows, cols = np.mgrid[0:h, 0:w]
    coded = np.stack([rows, cols, np.zeros_like(rows)], -1).astype(np.uint8)
    cams[i] = dataclasses.replace(cams[i], image=coded, distortion_model='plumb_bob',
                                  distortion=distortion)
    return dataclasses.replace(rig_input, frame=dataclasses.replace(frame, cameras=tuple(cams)))


@pytest.mark.parametrize('k1', [0.0, -0.3])
def test_cloud_colours_are_sampled_on_the_undistorted_rays(types, step_result, k1):
    rig_input, result = step_result
    rig_input = _coded_input(rig_input, 'front', (k1, 0.0, 0.0, 0.0, 0.0))
    opts = OutputOptions(cloud_rgb=True)
    out = _by_topic(result_messages(types, result, rig_input, opts, camera_names=NAMES))
    cloud = cloud_to_arrays(out['front/points'])
    rgb = unpack_rgb(cloud['rgb'])
    cam = result.cameras['front']
    k_src = next(c.k for c in rig_input.frame.cameras if c.name == 'front')
    h, w = cam.cloud.shape[:2]
    v, u = np.mgrid[0:h, 0:w].astype(float)
    x = (u - cam.k[0, 2]) / cam.k[0, 0]
    y = (v - cam.k[1, 2]) / cam.k[1, 1]
    radial = 1 + k1 * (x * x + y * y)  # plumb_bob with k1 only, written out independently
    cols = np.clip(np.rint(k_src[0, 0] * x * radial + k_src[0, 2]), 0, 41)
    rows = np.clip(np.rint(k_src[1, 1] * y * radial + k_src[1, 2]), 0, 27)
    assert np.abs(rgb[..., 0].astype(int) - rows).max() <= 1
    assert np.abs(rgb[..., 1].astype(int) - cols).max() <= 1
    if k1:
        assert np.abs(rgb[..., 1].astype(int) - u).max() >= 2, 'distortion moves the colours'
    raw = OutputOptions(cloud_rgb=True, raw_cameras=('front',))
    out = _by_topic(result_messages(types, result, rig_input, raw, camera_names=NAMES))
    np.testing.assert_array_equal(unpack_rgb(cloud_to_arrays(out['front/points'])['rgb'])[..., 1],
                                  u.astype(np.uint8))


def test_fused_cloud_rig_step_and_16uc1(types, step_result):
    rig_input, result = step_result
    opts = OutputOptions(depth_encoding='16UC1', model_variant='da3-small')
    out = _by_topic(result_messages(types, result, rig_input, opts, camera_names=NAMES,
                                    sequence=7))
    depth = out['front/depth']
    assert depth.encoding == '16UC1'
    mm = image_to_array(depth)
    expect = np.rint(result.cameras['front'].depth * 1000)
    in_range = np.isfinite(expect) & (expect <= 65535)
    np.testing.assert_array_equal(mm[in_range], expect[in_range])
    assert np.all(mm[~in_range] == 0)
    fused = cloud_to_arrays(out['points'])
    assert out['points'].header.frame_id == rm.BASE and out['points'].height == 1
    np.testing.assert_array_equal(np.stack([fused['x'], fused['y'], fused['z']], -1)[0],
                                  result.fused_points.astype(np.float32))
    step = out['rig_step']
    assert step.sequence == 7 and step.model_variant == 'da3-small'
    assert [c.camera_name for c in step.cameras] == list(NAMES)
    assert [c.valid for c in step.cameras] == [True, True, False]
    assert 'missing' in step.cameras[2].error and step.header.frame_id == rm.ODOM
    assert step.window_size == 2 and step.window_index == 1
    assert step.cameras[0].depth.encoding == '32FC1'
    assert step.cameras[0].confidence is out['front/confidence']  # built once, shared


def test_rig_step_shares_32fc1_images_and_topics_filter(types, step_result):
    rig_input, result = step_result
    out = _by_topic(result_messages(types, result, rig_input, OutputOptions(), camera_names=NAMES))
    assert out['rig_step'].cameras[1].depth is out['front_left/depth']
    alone = result_messages(types, result, rig_input, OutputOptions(), camera_names=NAMES,
                            topics={'rig_step', 'front/points'})
    assert [t for t, _ in alone] == ['front/points', 'rig_step']
    np.testing.assert_array_equal(image_to_depth(dict(alone)['rig_step'].cameras[0].depth),
                                  image_to_depth(out['front/depth']))


@pytest.mark.parametrize('mode', ['none', 'odom', 'cameras'])
def test_tf_modes(types, step_result, mode):
    rig_input, result = step_result
    opts = OutputOptions(tf_mode=mode, camera_frame_prefix='da3/')
    out = _by_topic(result_messages(types, result, rig_input, opts))
    if mode == 'none':
        assert '/tf' not in out
        return
    transforms = [transform_from_msg(t) for t in out['/tf'].transforms]
    if mode == 'odom':
        [(parent, child, stamp, matrix)] = transforms
        assert (parent, child, stamp) == (rm.ODOM, rm.BASE, rm.NS // 10)
        np.testing.assert_allclose(matrix, result.t_world_base, atol=1e-6)
    else:
        assert [(p, c) for p, c, _, _ in transforms] == [
            (rm.ODOM, 'da3/front_optical'), (rm.ODOM, 'da3/front_left_optical')]
        np.testing.assert_allclose(transforms[0][3], result.cameras['front'].t_world_cam,
                                   atol=1e-6)


def test_options_are_validated():
    with pytest.raises(ConfigError, match='tf_mode'):
        OutputOptions(tf_mode='map')
    with pytest.raises(ConfigError, match='depth_encoding'):
        OutputOptions(depth_encoding='8UC1')
    with pytest.raises(ConfigError, match='prefix'):
        OutputOptions(tf_mode='cameras', camera_frame_prefix='')


def test_quaternion_helper_consistency():
    np.testing.assert_allclose(transform_matrix([0, 0, 0], [0, 0, 0, 1]), np.eye(4))
