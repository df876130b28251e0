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

"""Message classes that the builders construct, for rclpy and for rosbags alike.

The converters read messages by field name only, so they accept rclpy messages and rosbags
dataclasses. To *create* messages they need the classes, and the two libraries differ in one
detail: a ``uint8[]`` field takes ``bytes`` in rclpy (assigning an ndarray there iterates element
by element, about 1000x slower; ``docs/pip-runtime.md``) but must be a ``uint8``
ndarray in rosbags (its serializer calls ``.view``). ``MsgTypes`` bundles the classes with the
matching ``blob`` function. Build one with ``rclpy_types()`` in the node or
``rosbags_types(typestore)`` in the bag tool; neither import happens at module import time, so
this module works without a ROS graph.
"""
import array
from dataclasses import dataclass
import importlib
from pathlib import Path
import sys
from typing import Any, Callable

import numpy as np

from da3_ros.errors import ConversionError

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
    'CameraInfo': 'sensor_msgs/msg/CameraInfo',
    'RegionOfInterest': 'sensor_msgs/msg/RegionOfInterest',
    'Point': 'geometry_msgs/msg/Point',
    'Pose': 'geometry_msgs/msg/Pose',
    'DiagnosticArray': 'diagnostic_msgs/msg/DiagnosticArray',
    'DiagnosticStatus': 'diagnostic_msgs/msg/DiagnosticStatus',
    'KeyValue': 'diagnostic_msgs/msg/KeyValue',
    'RigStep': 'da3_ros_msgs/msg/RigStep',
    'CameraDepth': 'da3_ros_msgs/msg/CameraDepth',
}

# Message packages the package reads or writes (the replay tool imports only these).
KNOWN_PACKAGES = frozenset(name.split('/')[0] for name in _NAMES.values()) | {'rosgraph_msgs'}


@dataclass(frozen=True)
class MsgTypes:
    """Message classes (called with keyword fields) plus how ``uint8[]`` fields take data.

    ``TFMessage`` is None where ``tf2_msgs`` is not installed. The classes after ``blob`` are
    optional as well (None where their package is missing or, in rosbags, not registered):
    the node's outputs (``rig_output``) need them, the converters do not.
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
    CameraInfo: Callable[..., Any] | None = None
    RegionOfInterest: Callable[..., Any] | None = None
    Point: Callable[..., Any] | None = None
    Pose: Callable[..., Any] | None = None
    DiagnosticArray: Callable[..., Any] | None = None
    DiagnosticStatus: Callable[..., Any] | None = None
    KeyValue: Callable[..., Any] | None = None
    RigStep: Callable[..., Any] | None = None
    CameraDepth: Callable[..., Any] | None = None

    def require(self, *names: str) -> None:
        """Check that the optional classes ``names`` are in this bundle.

        Raises:
            ConversionError: naming the classes that are None here.
        """
        missing = [n for n in names if getattr(self, n, None) is None]
        if missing:
            raise ConversionError(f'message classes {missing} are not available in this'
                                  ' MsgTypes bundle (install or register their packages)')


def _bytes_blob(data: np.ndarray) -> array.array:
    """``array('B')``, what rclpy stores for ``uint8[]``: one copy, no per-byte checks."""
    out = array.array('B')
    out.frombytes(np.ascontiguousarray(data).reshape(-1).view(np.uint8).data)
    return out


def _ndarray_blob(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def rclpy_types() -> MsgTypes:
    """Classes from the installed ROS 2 message packages (``tf2_msgs`` optional)."""
    # Imported here, not at module level, so the bag tool never needs the ROS wheels.
    import builtin_interfaces.msg as bi
    import geometry_msgs.msg as gm
    import sensor_msgs.msg as sm
    import std_msgs.msg as st
    optional = {
        'TFMessage': ('tf2_msgs.msg', 'TFMessage'),
        'DiagnosticArray': ('diagnostic_msgs.msg', 'DiagnosticArray'),
        'DiagnosticStatus': ('diagnostic_msgs.msg', 'DiagnosticStatus'),
        'KeyValue': ('diagnostic_msgs.msg', 'KeyValue'),
        'RigStep': ('da3_ros_msgs.msg', 'RigStep'),
        'CameraDepth': ('da3_ros_msgs.msg', 'CameraDepth'),
    }
    return MsgTypes(
        Time=bi.Time, Header=st.Header, Image=sm.Image, CompressedImage=sm.CompressedImage,
        PointField=sm.PointField, PointCloud2=sm.PointCloud2, Vector3=gm.Vector3,
        Quaternion=gm.Quaternion, Transform=gm.Transform,
        TransformStamped=gm.TransformStamped, blob=_bytes_blob, CameraInfo=sm.CameraInfo,
        RegionOfInterest=sm.RegionOfInterest, Point=gm.Point, Pose=gm.Pose,
        **{name: _optional_class(*where) for name, where in optional.items()})


def _optional_class(module: str, name: str) -> Any:
    """``module.name`` or None when the package is not installed."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def rosbags_types(typestore: Any) -> MsgTypes:
    """Classes from a rosbags typestore, e.g. ``get_typestore(Stores.ROS2_JAZZY)``."""
    classes = {field: typestore.types.get(name) for field, name in _NAMES.items()}
    return MsgTypes(**classes, blob=_ndarray_blob)


def da3_msg_dirs() -> list[Path]:
    """Where ``da3_ros_msgs``' ``.msg`` files are: the install prefix, then the source tree."""
    return [Path(sys.prefix) / 'share' / 'da3_ros_msgs' / 'msg',
            Path(__file__).resolve().parents[2] / 'msg' / 'msg']


def register_da3_msgs(typestore: Any) -> Any:
    """Register ``da3_ros_msgs`` (RigStep, CameraDepth) in a rosbags typestore; returns it.

    Raises:
        FileNotFoundError: when no directory of ``da3_msg_dirs()`` holds the definitions.
    """
    from rosbags.typesys import get_types_from_msg  # the bag extra; never at module import
    folder = next((d for d in da3_msg_dirs() if (d / 'RigStep.msg').is_file()), None)
    if folder is None:
        raise FileNotFoundError(f'da3_ros_msgs definitions not found in {da3_msg_dirs()}')
    types = {}
    for name in ('CameraDepth', 'RigStep'):  # dependencies first
        text = (folder / f'{name}.msg').read_text()
        types.update(get_types_from_msg(text, f'da3_ros_msgs/msg/{name}'))
    typestore.register(types)
    return typestore
