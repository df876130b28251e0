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

"""The sample recording: topics, types, stamps, images, ground truth and TF match the rig."""
from pathlib import Path

import numpy as np
import pytest

from da3_ros.ros.messages.camera_info import camera_from_info
from da3_ros.ros.messages.compressed import compressed_to_rgb
from da3_ros.ros.messages.image import image_to_depth, image_to_rgb
from da3_ros.ros.messages.tf_buffer import TfBuffer
from da3_ros.tools.bag import sample_recording as rec
from da3_ros.tools.bag.io import InputBag, read_decoded

CAMS = ('front', 'back_left')


def _record(tmp_path: Path, **kwargs) -> tuple:
    spec = rec.RecordingSpec(steps=3, cameras=CAMS, **kwargs)
    path = rec.write_recording(tmp_path / 'bag', spec)
    return spec, path, list(read_decoded(path))


def test_raw_recording_matches_the_rig(tmp_path):
    spec, path, records = _record(tmp_path, transport='raw', storage='sqlite3')
    assert list(path.glob('*.db3'))
    rig = rec.make_rig(spec)
    with InputBag(path) as bag:
        assert bag.topics == rec.topic_types(spec, CAMS)
    by_topic = {}
    for topic, time_ns, msg in records:
        by_topic.setdefault(topic, []).append((time_ns, msg))
    for index, name in enumerate(CAMS):
        images = by_topic[rec.image_topic(spec, name)]
        assert len(images) == spec.steps
        for step, (time_ns, msg) in enumerate(images):
            stamp = rec.step_stamp_ns(spec, step) + index * rec.TRIGGER_OFFSET_NS
            assert time_ns == stamp and msg.header.frame_id == rec.optical_frame(name)
            image, depth = rig.render((rig.trajectory.stamp(step), name))
            assert np.array_equal(image_to_rgb(msg), image)
            gt = image_to_depth(by_topic[rec.depth_gt_topic(spec, name)][step][1])
            assert np.allclose(gt, depth, equal_nan=True)
            model = camera_from_info(by_topic[rec.info_topic(spec, name)][step][1])
            assert np.allclose(model.K, rig.intrinsics(name, spec.size_hw))


def test_tf_gives_trajectory_and_extrinsics(tmp_path):
    spec, _, records = _record(tmp_path)
    rig = rec.make_rig(spec)
    tf = TfBuffer()
    for topic, _, msg in records:
        if topic in ('/tf', '/tf_static'):
            tf.add_tf_message(msg, static=topic == '/tf_static')
    for name in CAMS:
        assert np.allclose(tf.lookup(rec.BASE_FRAME, rec.optical_frame(name)),
                           rig.cameras[name].t_base_cam, atol=1e-9)
    for step in range(spec.steps):
        pose = tf.lookup(rec.ODOM_FRAME, rec.BASE_FRAME, rec.step_stamp_ns(spec, step))
        assert np.allclose(pose, rig.trajectory.t_odom_base(step), atol=1e-9)
    assert np.allclose(rec.ground_truth_poses(spec, [2])[0], rig.trajectory.t_odom_base(2))


def test_jpeg_recording_decodes_close_to_the_render(tmp_path):
    spec, _, records = _record(tmp_path)
    rig = rec.make_rig(spec)
    topic = rec.image_topic(spec, 'front')
    assert topic.endswith('/compressed')
    msgs = [m for t, _, m in records if t == topic]
    assert all(m.format.startswith('rgb8; jpeg') for m in msgs)
    decoded = compressed_to_rgb(msgs[0]).astype(float)
    image, _ = rig.render((0.0, 'front'))
    assert decoded.shape == image.shape
    assert np.mean(np.abs(decoded - image)) < 6.0


def test_bad_spec(tmp_path):
    with pytest.raises(ValueError, match='unknown cameras'):
        rec.write_recording(tmp_path / 'a', rec.RecordingSpec(cameras=('nope',)))
    with pytest.raises(ValueError, match='transport'):
        rec.write_recording(tmp_path / 'b', rec.RecordingSpec(transport='h264'))
