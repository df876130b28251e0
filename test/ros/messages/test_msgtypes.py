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

"""Message-class bundles: rclpy's and a rosbags typestore's name the same ROS types.

Building and reading messages with them is tested in the converter files beside this one.
"""
import dataclasses

import numpy as np
import pytest
from rosbags.typesys import get_typestore, Stores

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.msgtypes import (KNOWN_PACKAGES, MsgTypes, rclpy_types,
                                           register_da3_msgs, rosbags_types)

pytestmark = [pytest.mark.ros]

CLASS_FIELDS = [f.name for f in dataclasses.fields(MsgTypes) if f.name != 'blob']


def rclpy_name(cls) -> str:
    """``sensor_msgs/msg/Image`` of an rclpy message class."""
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


def test_rclpy_and_rosbags_bundles_hold_the_same_types():
    ours = rclpy_types()
    bags = rosbags_types(register_da3_msgs(get_typestore(Stores.ROS2_JAZZY)))
    for name in CLASS_FIELDS:
        assert rclpy_name(getattr(ours, name)) == getattr(bags, name).__msgtype__, name
    assert {rclpy_name(getattr(ours, n)).split('/')[0] for n in CLASS_FIELDS} <= KNOWN_PACKAGES


def test_unregistered_classes_are_none_and_require_names_them():
    bags = rosbags_types(get_typestore(Stores.ROS2_JAZZY))  # da3_ros_msgs not registered
    assert bags.RigStep is None and bags.CameraDepth is None and bags.Image is not None
    bags.require('Image', 'CameraInfo')
    with pytest.raises(ConversionError, match=r"\['RigStep', 'CameraDepth'\]"):
        bags.require('Image', 'RigStep', 'CameraDepth')


def test_rosbags_blob_is_the_bytes_of_the_array():
    blob = rosbags_types(get_typestore(Stores.ROS2_JAZZY)).blob
    data = np.array([[1.0, -2.0]], dtype=np.float32)
    out = blob(data)
    assert out.dtype == np.uint8 and out.tobytes() == data.tobytes()
