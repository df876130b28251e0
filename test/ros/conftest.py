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

"""Message-class bundles for the converter tests: rclpy (venv) and rosbags (bag tool)."""
import pytest

from da3_ros.ros.messages.msgtypes import MsgTypes, rclpy_types, register_da3_msgs, rosbags_types


@pytest.fixture(scope='session')
def rosbags_store():
    typesys = pytest.importorskip('rosbags.typesys', reason='rosbags (bag extra)')
    return register_da3_msgs(typesys.get_typestore(typesys.Stores.ROS2_JAZZY))


@pytest.fixture(params=['rclpy', 'rosbags'])
def flavour(request) -> str:
    """Each builder test runs with rclpy messages and with rosbags dataclasses."""
    if request.param == 'rclpy':
        pytest.importorskip('sensor_msgs.msg', reason='ROS 2 message wheels (make venv)')
    return request.param


@pytest.fixture
def types(flavour, request) -> MsgTypes:
    if flavour == 'rclpy':
        return rclpy_types()
    return rosbags_types(request.getfixturevalue('rosbags_store'))


@pytest.fixture
def wire_round_trip(flavour, request):
    """Serialise a built message to CDR and back with the library that owns its class."""
    if flavour == 'rclpy':
        from rclpy.serialization import deserialize_message, serialize_message
        return lambda msg: deserialize_message(serialize_message(msg), type(msg))
    store = request.getfixturevalue('rosbags_store')
    return lambda msg: store.deserialize_cdr(store.serialize_cdr(msg, msg.__msgtype__),
                                             msg.__msgtype__)
