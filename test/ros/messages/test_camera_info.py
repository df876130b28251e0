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

"""CameraInfo -> CameraModel with validation, on real sensor_msgs and rosbags messages."""
import numpy as np
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.camera_info import (camera_from_info, camera_info_topic,
                                              is_rectified_topic)

sensor_msgs = pytest.importorskip('sensor_msgs.msg', reason='ROS 2 message wheels (make venv)')

K = [500.0, 0.0, 320.5, 0.0, 510.0, 240.5, 0.0, 0.0, 1.0]


def _info(**overrides):
    fields = {'width': 640, 'height': 480, 'distortion_model': 'plumb_bob',
              'd': [0.1, -0.05, 0.001, 0.002, 0.01], 'k': K}
    fields.update(overrides)
    msg = sensor_msgs.CameraInfo(**fields)
    msg.header.frame_id = 'front_optical'
    msg.header.stamp.sec, msg.header.stamp.nanosec = 12, 345
    return msg


def test_reads_k_d_model_size_frame_and_stamp():
    cam = camera_from_info(_info())
    assert (cam.frame_id, cam.stamp_ns, cam.width, cam.height) == (
        'front_optical', 12_000_000_345, 640, 480)
    np.testing.assert_array_equal(cam.K, np.reshape(K, (3, 3)))
    np.testing.assert_array_equal(cam.D, [0.1, -0.05, 0.001, 0.002, 0.01])
    assert cam.distortion_model == 'plumb_bob'


def test_rosbags_message_gives_the_same_model(rosbags_store):
    from rclpy.serialization import serialize_message
    msg = _info(distortion_model='equidistant', d=[0.1, 0.2, 0.3, 0.4])
    bag_msg = rosbags_store.deserialize_cdr(serialize_message(msg), 'sensor_msgs/msg/CameraInfo')
    ours, theirs = camera_from_info(msg), camera_from_info(bag_msg)
    np.testing.assert_array_equal(ours.K, theirs.K)
    np.testing.assert_array_equal(ours.D, theirs.D)
    assert (ours.distortion_model, ours.stamp_ns) == (theirs.distortion_model, theirs.stamp_ns)


@pytest.mark.parametrize('model,size', [('plumb_bob', 5), ('rational_polynomial', 8),
                                        ('equidistant', 4)])
def test_models_and_coefficient_counts(model, size):
    assert camera_from_info(_info(distortion_model=model, d=[0.01] * size)).D.shape == (size,)
    assert not camera_from_info(_info(distortion_model=model, d=[])).D.any()
    with pytest.raises(ConversionError, match=f'{model} needs {size} coefficients, got 3'):
        camera_from_info(_info(distortion_model=model, d=[0.1] * 3))


def test_empty_model_means_no_distortion():
    assert camera_from_info(_info(distortion_model='', d=[0.0] * 5)).distortion_model == 'none'
    with pytest.raises(ConversionError, match='no distortion_model'):
        camera_from_info(_info(distortion_model='', d=[0.1] * 5))
    with pytest.raises(ConversionError, match="'fisheye62'"):
        camera_from_info(_info(distortion_model='fisheye62', d=[0.0] * 8))


def test_nan_inf_and_zero_focal_are_rejected():
    with pytest.raises(ConversionError, match='k of \\[front_optical\\] is not finite'):
        camera_from_info(_info(k=[np.nan] + K[1:]))
    with pytest.raises(ConversionError, match='d of \\[front_optical\\] is not finite'):
        camera_from_info(_info(d=[0.0, np.inf, 0.0, 0.0, 0.0]))
    with pytest.raises(ConversionError, match='fx=0.0, fy=0.0'):
        camera_from_info(_info(k=[0.0] * 9))
    with pytest.raises(ConversionError, match='K\\[2\\]'):
        camera_from_info(_info(k=K[:6] + [0.0, 0.0, 2.0]))


def test_size_errors():
    with pytest.raises(ConversionError, match='size 0x480'):
        camera_from_info(_info(width=0))
    with pytest.raises(ConversionError, match='binning_x=2'):
        camera_from_info(_info(binning_x=2))
    cam = camera_from_info(_info())
    cam.check_image_size(640, 480)
    with pytest.raises(ConversionError, match='image is 641x480 but CameraInfo of'
                                              ' \\[front_optical\\] is 640x480'):
        cam.check_image_size(641, 480)


@pytest.mark.parametrize('image, info', [
    ('/cam_front/image_raw', '/cam_front/camera_info'),
    ('/cam_front/image_raw/compressed', '/cam_front/camera_info'),
    ('/rig/cam_front/image_rect', '/rig/cam_front/camera_info'),
    ('/image_raw/compressed', '/camera_info'),
    ('image_raw', 'camera_info'),
])
def test_camera_info_topic_follows_image_transport(image, info):
    assert camera_info_topic(image) == info


def test_node_and_bag_tool_share_the_rule():
    from da3_ros.config import CameraConfig
    from da3_ros.ros.params import info_topic
    from da3_ros.tools.bag.config import BagConfig
    topic = '/cam_front/image_raw/compressed'
    cam = CameraConfig(name='front', image_topic=topic)
    assert info_topic(topic, '') == BagConfig.info_topic(None, cam) == '/cam_front/camera_info'


@pytest.mark.parametrize('model, d', [
    ('plumb_bob', [-0.35, 0.12, 0.001, -0.001, -0.02]),  # wide-angle barrel
    ('plumb_bob', [0.1, -0.05, 0.001, 0.002, 0.01]),  # mild pincushion
    ('rational_polynomial', [11.9, 6.2, 0.0, 0.0, 0.2, 12.3, 10.9, 1.5]),  # OpenCV fit
    ('equidistant', [0.05, -0.01, 0.002, 0.0]),  # fisheye
])
def test_real_lens_distortions_are_plausible(model, d):
    assert camera_from_info(_info(distortion_model=model, d=d)).distortion_model == model


@pytest.mark.parametrize('d, needle', [
    ([1e6, -1e6, 1e6, 0.0, 0.0], 'maps the image corner'),
    ([-2.0, 0.0, 0.0, 0.0, 0.0], 'folds the image back'),
])
def test_absurd_distortion_is_rejected(d, needle):
    with pytest.raises(ConversionError, match=f'implausible.*{needle}'):
        camera_from_info(_info(d=d))


@pytest.mark.parametrize('topic, rectified', [
    ('/stereo/left/image_rect_color', True), ('/cam/image_rect', True),
    ('/cam/image_rect/compressed', True), ('/cam/image_raw', False),
    ('/cam/image_raw/compressed', False), ('/image_color', False)])
def test_rectified_topics_by_image_proc_names(topic, rectified):
    assert is_rectified_topic(topic) == rectified


def test_r_and_p_give_the_rectified_view():
    yaw = np.radians(2.0)
    r = np.array([[np.cos(yaw), 0.0, np.sin(yaw)], [0.0, 1.0, 0.0],
                  [-np.sin(yaw), 0.0, np.cos(yaw)]])
    p = np.array([[480.0, 0.0, 300.0, -480.0 * 0.12], [0.0, 480.0, 250.0, 0.0],
                  [0.0, 0.0, 1.0, 0.0]])
    cam = camera_from_info(_info(r=r.reshape(-1).tolist(), p=p.reshape(-1).tolist()))
    k_rect, t_cam_rect = cam.rectified_view()
    np.testing.assert_array_equal(k_rect, p[:, :3])
    ray_rect = np.array([0.1, 0.0, 1.0])  # X_rect = R X_cam  <=>  X_cam = T_cam_rect X_rect
    np.testing.assert_allclose(t_cam_rect[:3, :3] @ ray_rect, r.T @ ray_rect)
    plain = camera_from_info(_info())  # monocular drivers leave R and P zero
    np.testing.assert_array_equal(plain.R, np.eye(3))
    np.testing.assert_array_equal(plain.P[:, :3], np.reshape(K, (3, 3)))
    with pytest.raises(ConversionError, match='R of .* is not a rotation'):
        camera_from_info(_info(r=[2.0, 0, 0, 0, 1, 0, 0, 0, 1]))
