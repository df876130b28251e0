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

"""``sensor_msgs/Image`` <-> numpy, RGB for the engine, and depth images (no cv_bridge).

Why it exists: ``cv_bridge`` is not installable on the pip-only ROS 2 runtime
(``docs/pip-runtime.md``; ``docs/architecture.md``, "Choices"). This module mirrors
``cv_bridge``'s ``imgmsg_to_cv2`` / ``cv2_to_imgmsg`` for the encodings da3_ros accepts:
rows are ``step`` bytes apart (padding after ``width * bytes_per_pixel`` is skipped),
multi-byte data honours ``is_bigendian``, and the result has native byte order. YUV 4:2:2
(``yuv422`` = UYVY, ``yuv422_yuy2`` = YUYV, aliases ``uyvy`` / ``yuyv``) is converted to RGB
with OpenCV's ``COLOR_YUV2RGB_UYVY`` / ``_YUY2`` maths (BT.601, video range), which is what
``cv_bridge.imgmsg_to_cv2(msg, 'rgb8')`` uses.

Depth images follow REP 118: ``32FC1`` in metres with NaN for invalid, ``16UC1`` in millimetres
with 0 for invalid.

Readers take any object with Image fields (rclpy message or rosbags dataclass); builders take a
``MsgTypes`` bundle.
"""
import sys
from typing import Any

import numpy as np

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.tf_msgs import make_header

# encoding -> (dtype, channels) of the raw array.
ENCODINGS = {
    'rgb8': (np.uint8, 3), 'bgr8': (np.uint8, 3), 'rgba8': (np.uint8, 4),
    'bgra8': (np.uint8, 4), 'mono8': (np.uint8, 1), '8UC1': (np.uint8, 1),
    'mono16': (np.uint16, 1), '16UC1': (np.uint16, 1), '32FC1': (np.float32, 1),
    'yuv422': (np.uint8, 2), 'yuv422_yuy2': (np.uint8, 2),
}
_ALIASES = {'uyvy': 'yuv422', 'yuyv': 'yuv422_yuy2'}
_NATIVE_BIGENDIAN = int(sys.byteorder == 'big')
_MM_PER_M = 1000.0


def canonical_encoding(encoding: str) -> str:
    """Map aliases (``uyvy``, ``yuyv``) to the names above; raise for unsupported ones."""
    name = _ALIASES.get(encoding, encoding)
    if name not in ENCODINGS:
        raise ConversionError(f'unsupported image encoding {encoding!r};'
                              f' supported: {sorted([*ENCODINGS, *_ALIASES])}')
    return name


def image_to_array(msg: Any) -> np.ndarray:
    """Raw pixels of an Image as ``[H, W]`` (one channel) or ``[H, W, C]``, native byte order.

    YUV 4:2:2 comes back as ``[H, W, 2]`` bytes in wire order. The result is a copy.

    Raises:
        ConversionError: unsupported encoding, odd YUV width, a ``step`` shorter than a row, or
            too little data for ``step * height`` (the message names the values).
    """
    encoding = canonical_encoding(msg.encoding)
    dtype, channels = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    itemsize = np.dtype(dtype).itemsize
    row_bytes = width * channels * itemsize
    if encoding.startswith('yuv') and width % 2:
        raise ConversionError(f'{encoding} needs an even width, got {width}')
    if step < row_bytes:
        raise ConversionError(f'step {step} < width {width} x {channels * itemsize} bytes'
                              f' ({encoding})')
    data = np.frombuffer(memoryview(msg.data).cast('B'), np.uint8)
    if data.size < step * height:
        raise ConversionError(f'{encoding} image {width}x{height} with step {step} needs'
                              f' {step * height} bytes, got {data.size}')
    wire = np.dtype(dtype).newbyteorder('>' if msg.is_bigendian else '<')
    view = np.ndarray((height, width, channels), wire, data, 0, (step, channels * itemsize,
                                                                 itemsize))
    out = view.astype(np.dtype(dtype), copy=True)
    return out[..., 0] if channels == 1 else out


def array_to_image(types: MsgTypes, array: np.ndarray, encoding: str, stamp_ns: int,
                   frame_id: str, *, step: int | None = None) -> Any:
    """Build an Image from ``[H, W]`` or ``[H, W, C]`` pixels (native byte order).

    Args:
        step: row size in bytes; larger than a row pads each row with zeros (default: packed).

    Raises:
        ConversionError: dtype or channel count not matching ``encoding``, or a short step.
    """
    encoding = canonical_encoding(encoding)
    dtype, channels = ENCODINGS[encoding]
    array = np.asarray(array)
    shape_ok = (array.ndim == 2 and channels == 1) or (array.ndim == 3
                                                       and array.shape[2] == channels)
    if array.dtype != dtype or not shape_ok:
        raise ConversionError(f'{encoding} needs dtype {np.dtype(dtype).name} with {channels}'
                              f' channel(s), got {array.dtype} {array.shape}')
    height, width = array.shape[:2]
    rows = np.ascontiguousarray(array).reshape(height, -1).view(np.uint8)
    step = rows.shape[1] if step is None else int(step)
    if step < rows.shape[1]:
        raise ConversionError(f'step {step} < row size {rows.shape[1]} bytes ({encoding})')
    if step > rows.shape[1]:
        rows = np.pad(rows, ((0, 0), (0, step - rows.shape[1])))
    return types.Image(header=make_header(types, stamp_ns, frame_id), height=height,
                       width=width, encoding=encoding, is_bigendian=_NATIVE_BIGENDIAN,
                       step=step, data=types.blob(rows))


def image_to_rgb(msg: Any) -> np.ndarray:
    """Any colour or intensity Image as ``[H, W, 3]`` uint8 RGB (what the engine consumes).

    ``mono16`` is scaled to 8 bits (value >> 8).

    Raises:
        ConversionError: depth encodings (``16UC1``, ``32FC1``) or the errors of
            ``image_to_array``.
    """
    encoding = canonical_encoding(msg.encoding)
    raw = image_to_array(msg)
    if encoding in ('rgb8', 'rgba8'):
        return np.ascontiguousarray(raw[..., :3])
    if encoding in ('bgr8', 'bgra8'):
        return np.ascontiguousarray(raw[..., 2::-1])
    if encoding in ('mono8', '8UC1'):
        return np.repeat(raw[..., None], 3, axis=2)
    if encoding == 'mono16':
        return np.repeat((raw >> 8).astype(np.uint8)[..., None], 3, axis=2)
    if encoding.startswith('yuv'):
        return yuv422_to_rgb(raw, yuyv=encoding == 'yuv422_yuy2')
    raise ConversionError(f'{msg.encoding!r} is a depth encoding, not an image for RGB')


def yuv422_to_rgb(raw: np.ndarray, *, yuyv: bool) -> np.ndarray:
    """``[H, W, 2]`` UYVY (or YUYV) bytes to ``[H, W, 3]`` RGB, BT.601 video range."""
    pairs = raw.reshape(raw.shape[0], -1, 4).astype(np.float32)
    if yuyv:
        y0, u, y1, v = np.moveaxis(pairs, -1, 0)
    else:
        u, y0, v, y1 = np.moveaxis(pairs, -1, 0)
    y = np.stack([y0, y1], axis=-1).reshape(raw.shape[:2])
    luma = 1.164 * (np.maximum(y, 16.0) - 16.0)
    u = np.repeat(u - 128.0, 2, axis=1)
    v = np.repeat(v - 128.0, 2, axis=1)
    rgb = np.stack([luma + 1.596 * v, luma - 0.391 * u - 0.813 * v, luma + 2.018 * u], -1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def depth_to_image(types: MsgTypes, depth_m: np.ndarray, stamp_ns: int, frame_id: str, *,
                   encoding: str = '32FC1') -> Any:
    """Build a REP 118 depth Image from ``[H, W]`` depth in metres (z along the optical axis).

    ``32FC1`` keeps metres (NaN/inf stay); ``16UC1`` stores rounded millimetres with 0 for
    invalid (non-finite, <= 0, or beyond 65.535 m).

    Raises:
        ConversionError: a non-2-D array or an encoding other than those two.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    if depth.ndim != 2:
        raise ConversionError(f'depth must be [H, W], got shape {depth.shape}')
    if encoding == '32FC1':
        return array_to_image(types, depth, encoding, stamp_ns, frame_id)
    if encoding != '16UC1':
        raise ConversionError(f'depth encoding must be 32FC1 or 16UC1, got {encoding!r}')
    with np.errstate(invalid='ignore'):
        mm = np.rint(depth.astype(np.float64) * _MM_PER_M)
        valid = np.isfinite(mm) & (mm > 0) & (mm <= np.iinfo(np.uint16).max)
    return array_to_image(types, np.where(valid, mm, 0).astype(np.uint16), encoding, stamp_ns,
                          frame_id)


def image_to_depth(msg: Any) -> np.ndarray:
    """Return a ``32FC1`` (metres) or ``16UC1`` (millimetres) Image as ``[H, W]`` float32 metres.

    Invalid pixels (``16UC1`` zeros) become NaN.

    Raises:
        ConversionError: any other encoding.
    """
    if msg.encoding not in ('32FC1', '16UC1'):
        raise ConversionError(f'depth image encoding must be 32FC1 or 16UC1, got'
                              f' {msg.encoding!r}')
    raw = image_to_array(msg)
    if msg.encoding == '32FC1':
        return raw
    depth = raw.astype(np.float32) / np.float32(_MM_PER_M)
    depth[raw == 0] = np.nan
    return depth
