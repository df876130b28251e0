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

"""``sensor_msgs/PointCloud2`` builders and a reader, packed by hand (no sensor_msgs_py).

Why it exists: ``sensor_msgs_py`` is not installable on the pip-only ROS 2 runtime
(``docs/pip-runtime.md``), and its ``create_cloud`` reads organised ``[H, W]``
arrays as ``(width, height)`` (https://github.com/ros2/common_interfaces/issues/236), so the
layout is written here explicitly and tested byte by byte. Layout as the PointCloud2 message
definition documents it: point ``(row, col)`` starts at byte ``row * row_step + col *
point_step``; ``row_step = width * point_step``; fields are little-endian (``is_bigendian``
False; written as such on any host) at the offsets in ``fields``.

Fields written: ``x, y, z`` float32 (offsets 0, 4, 8), then optionally ``rgb`` (float32 holding
the bits of ``0x00RRGGBB``, the PCL/RViz convention) and ``confidence`` float32.

- Organised clouds (``height = H``, ``width = W``): invalid points are NaN and ``is_dense`` is
  False, as REP 118-style depth clouds are.
- Unorganised clouds (``height = 1``): invalid points are left out and ``is_dense`` is True.

Points are in the frame named by ``frame_id`` (an OpenCV optical frame for per-camera clouds).

Cross-checked against ``sensor_msgs_py.point_cloud2`` of ROS 2 Jazzy (common_interfaces branch
``jazzy``, sensor_msgs_py 5.3.5) with rclpy messages after a CDR round trip, outside this
repository: ``read_points`` / ``read_points_numpy`` / ``read_points_list`` (``skip_nans`` on
and off, field subsets) return exactly our values, dtypes, field names, offsets, datatypes,
``point_step``, ``row_step``, height/width and flags, for H x W (non-square) and ``height = 1``
clouds with and without ``rgb`` / ``confidence``; ``cloud_to_arrays`` reads what
``create_cloud`` / ``create_cloud_xyz32`` write (mixed datatypes, ``count > 1``, padding, empty
clouds) as ``buffer.reshape(height, width)``. Two sensor_msgs_py conventions to know: an
``[A, B]`` array given to ``create_cloud`` becomes ``width = A, height = B`` over its row-major
buffer, so an ``[H, W]`` image must be passed as ``image.reshape(W, H)`` (a reshape, not a
transpose; that message is byte-identical to ``organized_cloud``'s), and
``read_points(..., reshape_organized_cloud=True)`` returns ``buffer.reshape(width, height)``,
so ``.reshape(H, W)`` recovers the image. Colours follow RViz's ``RGB8PCTransformer`` (the
``rgb`` field's four bytes read as a uint32, ``r = v >> 16 & 255``, ``g = v >> 8 & 255``,
``b = v & 255``; FLOAT32, UINT32 and INT32 accepted) and PCL's ``PCL_ADD_UNION_RGB`` (bytes
b, g, r, a); the zero alpha byte keeps every packed colour a finite float32, so
``skip_nans`` never drops a point for its colour.
"""
from typing import Any

import numpy as np

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.tf_msgs import make_header

FLOAT32 = 7  # sensor_msgs/PointField datatypes
_DTYPES = {1: 'i1', 2: 'u1', 3: 'i2', 4: 'u2', 5: 'i4', 6: 'u4', 7: 'f4', 8: 'f8'}


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """``[..., 3]`` uint8 RGB to ``[...]`` float32 carrying the bits of ``0x00RRGGBB``."""
    rgb = np.asarray(rgb, dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed.astype(np.uint32).view(np.float32)


def unpack_rgb(packed: np.ndarray) -> np.ndarray:
    """Inverse of ``pack_rgb``: ``[...]`` packed colours to ``[..., 3]`` uint8 RGB.

    Float input (a FLOAT32 ``rgb`` field) is read for the bits of its float32 value; integer
    input (the UINT32 / INT32 ``rgb`` or ``rgba`` fields that RViz also accepts, as
    ``cloud_to_arrays`` returns them) *is* the bit pattern, not a value to convert. The alpha
    byte is ignored.
    """
    packed = np.asarray(packed)
    if packed.dtype.kind in 'iub':
        bits = packed.astype(np.uint32)  # wraps modulo 2**32: int32 -1 -> 0xFFFFFFFF
    else:
        bits = np.asarray(packed, dtype=np.float32).view(np.uint32)
    return np.stack([(bits >> 16) & 255, (bits >> 8) & 255, bits & 255], -1).astype(np.uint8)


def organized_cloud(types: MsgTypes, points: np.ndarray, stamp_ns: int, frame_id: str, *,
                    rgb: np.ndarray | None = None, confidence: np.ndarray | None = None,
                    valid: np.ndarray | None = None) -> Any:
    """Build an organised cloud from ``[H, W, 3]`` points (metres, in ``frame_id``).

    Args:
        rgb: ``[H, W, 3]`` uint8 colours.
        confidence: ``[H, W]`` per-point confidence.
        valid: ``[H, W]`` bool; False (and non-finite points) become NaN.

    Raises:
        ConversionError: shapes that do not match ``points``.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 3 or points.shape[2] != 3:
        raise ConversionError(f'organized cloud needs [H, W, 3] points, got {points.shape}')
    points = np.where(_kept(points, valid)[..., None], points, np.float32(np.nan))
    return _build(types, points, stamp_ns, frame_id, rgb, confidence, is_dense=False)


def unorganized_cloud(types: MsgTypes, points: np.ndarray, stamp_ns: int, frame_id: str, *,
                      rgb: np.ndarray | None = None, confidence: np.ndarray | None = None,
                      valid: np.ndarray | None = None) -> Any:
    """Build a ``height = 1`` cloud from ``[N, 3]`` points, leaving invalid ones out.

    Arguments as in ``organized_cloud`` with ``[N, ...]`` shapes.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ConversionError(f'unorganized cloud needs [N, 3] points, got {points.shape}')
    keep = _kept(points, valid)
    rgb = None if rgb is None else _check_shape('rgb', np.asarray(rgb), points.shape[:1])[keep]
    if confidence is not None:
        confidence = _check_shape('confidence', np.asarray(confidence), points.shape[:1])[keep]
    return _build(types, points[keep][None], stamp_ns, frame_id,
                  None if rgb is None else rgb[None],
                  None if confidence is None else confidence[None], is_dense=True)


def cloud_to_arrays(msg: Any) -> dict[str, np.ndarray]:
    """Read every field of a PointCloud2-like object into ``[height, width]`` arrays.

    Honours ``point_step``, ``row_step``, field offsets, datatypes and ``is_bigendian``; fields
    with ``count > 1`` come back as ``[height, width, count]``. Results are native-endian copies.

    Raises:
        ConversionError: unknown datatypes, fields beyond ``point_step`` or too little data.
    """
    height, width = int(msg.height), int(msg.width)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    data = np.frombuffer(memoryview(msg.data).cast('B'), np.uint8)
    if row_step < width * point_step or data.size < row_step * height:
        raise ConversionError(f'cloud {width}x{height}: point_step {point_step}, row_step'
                              f' {row_step}, {data.size} bytes of data do not fit')
    order = '>' if msg.is_bigendian else '<'
    out = {}
    for field in msg.fields:
        if field.datatype not in _DTYPES:
            raise ConversionError(f'field {field.name!r} has unknown datatype {field.datatype}')
        dtype = np.dtype(order + _DTYPES[field.datatype])
        count = max(int(field.count), 1)
        if field.offset + dtype.itemsize * count > point_step:
            raise ConversionError(f'field {field.name!r} at offset {field.offset} exceeds'
                                  f' point_step {point_step}')
        if height * width == 0:  # e.g. an unorganised cloud with every point left out
            array = np.empty((height, width, count), dtype.newbyteorder('='))
        else:
            view = np.ndarray((height, width, count), dtype, data, int(field.offset),
                              (row_step, point_step, dtype.itemsize))
            array = view.astype(dtype.newbyteorder('='))
        out[field.name] = array[..., 0] if count == 1 else array
    return out


def _kept(points: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """``[...]`` True for the points ``[..., 3]`` a cloud keeps: finite and ``valid``.

    Raises:
        ConversionError: ``valid`` not shaped like the points' leading axes.
    """
    keep = _finite_points(points)
    if valid is not None:
        keep &= _check_shape('valid', np.asarray(valid, bool), points.shape[:-1])
    return keep


def _finite_points(points: np.ndarray) -> np.ndarray:
    """``[...]`` True where all three coordinates of ``[..., 3]`` points are finite.

    Per coordinate, not ``np.isfinite(points).all(-1)``: a reduction over a last axis of 3 is
    about ten times slower on full-resolution clouds (the node's largest CPU cost).
    """
    return np.isfinite(points[..., 0]) & np.isfinite(points[..., 1]) & np.isfinite(
        points[..., 2])


def _check_shape(name: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if array.shape[:len(shape)] != tuple(shape):
        raise ConversionError(f'{name} has shape {array.shape}, points need {tuple(shape)}')
    return array


def _build(types: MsgTypes, points: np.ndarray, stamp_ns: int, frame_id: str,
           rgb: np.ndarray | None, confidence: np.ndarray | None, *, is_dense: bool) -> Any:
    """Pack ``[H, W, 3]`` points and optional ``[H, W, 3]`` rgb / ``[H, W]`` confidence."""
    height, width = points.shape[:2]
    columns, names = [points], ['x', 'y', 'z']
    if rgb is not None:
        rgb = _check_shape('rgb', np.asarray(rgb), (height, width, 3))
        columns.append(pack_rgb(rgb)[..., None])
        names.append('rgb')
    if confidence is not None:
        confidence = _check_shape('confidence', np.asarray(confidence), (height, width))
        columns.append(confidence.astype(np.float32)[..., None])
        names.append('confidence')
    packed = np.concatenate(columns, axis=2).astype('<f4', copy=False) if len(columns) > 1 \
        else np.ascontiguousarray(points, '<f4')
    point_step = 4 * len(names)
    fields = [types.PointField(name=n, offset=4 * i, datatype=FLOAT32, count=1)
              for i, n in enumerate(names)]
    return types.PointCloud2(
        header=make_header(types, stamp_ns, frame_id), height=height, width=width,
        fields=fields, is_bigendian=False, point_step=point_step, row_step=point_step * width,
        data=types.blob(packed.view(np.uint8)), is_dense=is_dense)
