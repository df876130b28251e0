"""Message classes that the builders construct, for rclpy and for rosbags alike.

The converters read messages by field name only, so they accept rclpy messages and rosbags
dataclasses. To *create* messages they need the classes, and the two libraries differ in one
detail: a ``uint8[]`` field takes ``bytes`` in rclpy (assigning an ndarray there iterates element
by element, about 1000x slower; ``docs/ros2-on-pypi.md`` section 5) but must be a ``uint8``
ndarray in rosbags (its serializer calls ``.view``). ``MsgTypes`` bundles the classes with the
matching ``blob`` function. Build one with ``rclpy_types()`` in the node or
``rosbags_types(typestore)`` in the bag tool; neither import happens at module import time, so
this module works without a ROS graph.
"""
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

_NAMES = {
    'Time': 'builtin_interfaces/msg/Time',
    'Header': 'std_msgs/msg/Header',
    'Image': 'sensor_msgs/msg/Image',
    'CompressedImage': 'sensor_msgs/msg/CompressedImage',
    'PointField': 'sensor_msgs/msg/PointField',
    'PointCloud2': 'sensor_msgs/msg/PointCloud2',
    'Vector3': 'geometry_msgs/msg/Vector3',
    'Quaternion': 'geometry_msgs/msg/Quaternion',
    'Transform': 'geometry_msgs/msg/Transform',
    'TransformStamped': 'geometry_msgs/msg/TransformStamped',
    'TFMessage': 'tf2_msgs/msg/TFMessage',
}


@dataclass(frozen=True)
class MsgTypes:
    """Message classes (called with keyword fields) plus how ``uint8[]`` fields take data.

    ``TFMessage`` is None where ``tf2_msgs`` is not installed.
    """

    Time: Callable[..., Any]
    Header: Callable[..., Any]
    Image: Callable[..., Any]
    CompressedImage: Callable[..., Any]
    PointField: Callable[..., Any]
    PointCloud2: Callable[..., Any]
    Vector3: Callable[..., Any]
    Quaternion: Callable[..., Any]
    Transform: Callable[..., Any]
    TransformStamped: Callable[..., Any]
    TFMessage: Callable[..., Any] | None
    blob: Callable[[np.ndarray], Any]


def _bytes_blob(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def _ndarray_blob(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def rclpy_types() -> MsgTypes:
    """Classes from the installed ROS 2 message packages (``tf2_msgs`` optional)."""
    # Imported here, not at module level, so the bag tool never needs the ROS wheels.
    import builtin_interfaces.msg as bi
    import geometry_msgs.msg as gm
    import sensor_msgs.msg as sm
    import std_msgs.msg as st
    try:
        from tf2_msgs.msg import TFMessage
    except ImportError:
        TFMessage = None
    return MsgTypes(
        Time=bi.Time, Header=st.Header, Image=sm.Image, CompressedImage=sm.CompressedImage,
        PointField=sm.PointField, PointCloud2=sm.PointCloud2, Vector3=gm.Vector3,
        Quaternion=gm.Quaternion, Transform=gm.Transform,
        TransformStamped=gm.TransformStamped, TFMessage=TFMessage, blob=_bytes_blob)


def rosbags_types(typestore: Any) -> MsgTypes:
    """Classes from a rosbags typestore, e.g. ``get_typestore(Stores.ROS2_JAZZY)``."""
    classes = {field: typestore.types.get(name) for field, name in _NAMES.items()}
    return MsgTypes(**classes, blob=_ndarray_blob)
