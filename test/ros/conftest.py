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
