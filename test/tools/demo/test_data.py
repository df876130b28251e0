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

"""Reading the demo's data back: images of either kind, the nearest frame, the rig's extrinsics.

Reading a whole processed output (steps, clouds) is covered by the demo run in test_cli.py.
"""
import numpy as np
import pytest

from da3_ros.ros.messages.compressed import rgb_to_compressed
from da3_ros.ros.messages.image import array_to_image
from da3_ros.ros.messages.msgtypes import register_da3_msgs, rosbags_types
from da3_ros.tools.bag.sample_recording import make_rig, RecordingSpec
from da3_ros.tools.demo.data import image_rgb, nearest, rig_extrinsics


def test_image_rgb_reads_raw_and_compressed_bag_messages():
    typesys = pytest.importorskip('rosbags.typesys', reason='rosbags (bag extra)')
    types = rosbags_types(register_da3_msgs(typesys.get_typestore(typesys.Stores.ROS2_JAZZY)))
    rows, cols = np.mgrid[0:12, 0:20]
    rgb = np.dstack([cols * 9, rows * 13, np.full_like(rows, 70)]).astype(np.uint8)
    raw = array_to_image(types, rgb[..., ::-1].copy(), 'bgr8', 5, 'cam')
    np.testing.assert_array_equal(image_rgb(raw), rgb)
    png = rgb_to_compressed(types, rgb, 5, 'cam', codec='png')
    np.testing.assert_array_equal(image_rgb(png), rgb)


def test_nearest_frame_within_the_tolerance_or_none():
    frames = {100: np.zeros(1), 200: np.ones(1)}
    assert nearest(frames, 160, 50)[0] == 1.0
    assert nearest(frames, 120, 50)[0] == 0.0
    assert nearest(frames, 150 + 100, 40) is None  # 50 ns from the closest: too far
    assert nearest({}, 100, 1000) is None


def test_rig_extrinsics_are_the_sample_rigs_for_the_chosen_cameras():
    spec = RecordingSpec()
    extr = rig_extrinsics(spec, ['front', 'back'])
    assert list(extr) == ['front', 'back']
    np.testing.assert_array_equal(extr['back'], make_rig(spec).cameras['back'].t_base_cam)
