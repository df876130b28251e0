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

"""Image conversions, tested as cv_bridge tests itself: round trips over encodings and sizes."""
from types import SimpleNamespace

import numpy as np
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.image import (array_to_image, depth_to_image, ENCODINGS, image_to_array,
                                        image_to_depth, image_to_rgb)
from da3_ros.ros.messages.tf_msgs import stamp_to_ns

SIZES = [(1, 1), (3, 5), (4, 7), (2, 640)]
STAMP = 1_700_000_000_123_456_789


def _random(encoding, height, width, seed=0):
    dtype, channels = ENCODINGS[encoding]
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    if np.dtype(dtype).kind == 'f':
        return rng.normal(size=shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def _sizes(encoding):
    return [(h, w + w % 2) if encoding.startswith('yuv') else (h, w) for h, w in SIZES]


def _raw_image(encoding, height, width, step, data, is_bigendian=0):
    return SimpleNamespace(encoding=encoding, height=height, width=width, step=step,
                           is_bigendian=is_bigendian, data=data)


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
def test_round_trip_every_encoding_and_size(types, wire_round_trip, encoding):
    for height, width in _sizes(encoding):
        array = _random(encoding, height, width)
        msg = array_to_image(types, array, encoding, STAMP, 'cam_optical')
        itemsize = array.dtype.itemsize * ENCODINGS[encoding][1]
        assert (msg.height, msg.width, msg.step) == (height, width, width * itemsize)
        assert msg.encoding == encoding and msg.is_bigendian == 0
        assert stamp_to_ns(msg.header.stamp) == STAMP and msg.header.frame_id == 'cam_optical'
        back = image_to_array(wire_round_trip(msg))
        assert back.dtype == array.dtype
        np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
def test_padded_step_is_skipped(types, encoding):
    height, width = _sizes(encoding)[1]
    array = _random(encoding, height, width, seed=1)
    row = width * array.dtype.itemsize * ENCODINGS[encoding][1]
    msg = array_to_image(types, array, encoding, 0, 'cam', step=row + 3)
    assert msg.step == row + 3 and len(msg.data) == (row + 3) * height
    np.testing.assert_array_equal(image_to_array(msg), array)
    # Garbage in the padding must not leak into the pixels.
    data = np.frombuffer(bytes(msg.data), np.uint8).reshape(height, row + 3).copy()
    data[:, row:] = 0xAB
    padded = _raw_image(encoding, height, width, row + 3, data.tobytes())
    np.testing.assert_array_equal(image_to_array(padded), array)


@pytest.mark.parametrize('encoding,wire', [('mono16', '>u2'), ('16UC1', '>u2'),
                                           ('32FC1', '>f4')])
def test_big_endian_data_is_swapped(encoding, wire):
    array = _random(encoding, 3, 5, seed=2)
    step = 5 * array.dtype.itemsize
    msg = _raw_image(encoding, 3, 5, step, array.astype(wire).tobytes(), is_bigendian=1)
    back = image_to_array(msg)
    assert back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    little = _raw_image(encoding, 3, 5, step, array.astype(wire).tobytes(), is_bigendian=0)
    assert not np.array_equal(image_to_array(little), array)


def test_errors_name_the_offending_values():
    with pytest.raises(ConversionError, match="'bayer_rggb8'"):
        image_to_array(_raw_image('bayer_rggb8', 2, 2, 2, bytes(4)))
    with pytest.raises(ConversionError, match='step 5 < width 2 x 3'):
        image_to_array(_raw_image('rgb8', 2, 2, 5, bytes(12)))
    with pytest.raises(ConversionError, match='needs 12 bytes, got 11'):
        image_to_array(_raw_image('rgb8', 2, 2, 6, bytes(11)))
    with pytest.raises(ConversionError, match='even width, got 3'):
        image_to_array(_raw_image('yuv422', 1, 3, 6, bytes(6)))


def test_builder_rejects_mismatched_arrays(types):
    with pytest.raises(ConversionError, match='rgb8 needs dtype uint8 with 3'):
        array_to_image(types, np.zeros((2, 2), np.uint8), 'rgb8', 0, 'cam')
    with pytest.raises(ConversionError, match='float32'):
        array_to_image(types, np.zeros((2, 2), np.float64), '32FC1', 0, 'cam')
    with pytest.raises(ConversionError, match='step 5 < row size 6'):
        array_to_image(types, np.zeros((2, 2, 3), np.uint8), 'rgb8', 0, 'cam', step=5)


def test_to_rgb_channel_orders(types):
    rgb = _random('rgb8', 3, 5, seed=3)
    for encoding, pixels in [('rgb8', rgb), ('bgr8', rgb[..., ::-1]),
                             ('rgba8', np.dstack([rgb, np.full((3, 5), 7, np.uint8)])),
                             ('bgra8', np.dstack([rgb[..., ::-1], np.zeros((3, 5), np.uint8)]))]:
        msg = array_to_image(types, np.ascontiguousarray(pixels), encoding, 0, 'cam')
        np.testing.assert_array_equal(image_to_rgb(msg), rgb, err_msg=encoding)


def test_to_rgb_grey(types):
    grey = _random('mono8', 3, 5, seed=4)
    msg = array_to_image(types, grey, 'mono8', 0, 'cam')
    np.testing.assert_array_equal(image_to_rgb(msg), np.dstack([grey] * 3))
    msg16 = array_to_image(types, grey.astype(np.uint16) * 256 + 255, 'mono16', 0, 'cam')
    np.testing.assert_array_equal(image_to_rgb(msg16), np.dstack([grey] * 3))
    with pytest.raises(ConversionError, match='depth encoding'):
        image_to_rgb(array_to_image(types, np.zeros((2, 2), np.uint16), '16UC1', 0, 'cam'))


# Two pixel pairs: black + white, then BT.601 red (Y=81, Cb=90, Cr=240) twice.
_UYVY = bytes([128, 16, 128, 235, 90, 81, 240, 81])
_YUYV = bytes([16, 128, 235, 128, 81, 90, 81, 240])


@pytest.mark.parametrize('encoding,data', [('yuv422', _UYVY), ('uyvy', _UYVY),
                                           ('yuv422_yuy2', _YUYV), ('yuyv', _YUYV)])
def test_yuv422_to_rgb_bt601_video_range(encoding, data):
    rgb = image_to_rgb(_raw_image(encoding, 1, 4, 8, data))
    np.testing.assert_allclose(rgb[0].astype(int), [[0, 0, 0], [255, 255, 255],
                                                    [255, 0, 0], [255, 0, 0]], atol=2)


def test_depth_32fc1_keeps_metres_and_nan(types, wire_round_trip):
    depth = np.array([[1.5, np.nan], [np.inf, 0.25]], np.float32)
    msg = wire_round_trip(depth_to_image(types, depth, STAMP, 'cam'))
    assert msg.encoding == '32FC1'
    np.testing.assert_array_equal(image_to_depth(msg), depth)


def test_depth_16uc1_millimetres_with_zero_invalid(types):
    depth = np.array([[1.2344, np.nan, -1.0], [0.0, 70.0, 65.535]], np.float32)
    msg = depth_to_image(types, depth, STAMP, 'cam', encoding='16UC1')
    np.testing.assert_array_equal(image_to_array(msg), [[1234, 0, 0], [0, 0, 65535]])
    back = image_to_depth(msg)
    np.testing.assert_allclose(back, [[1.234, np.nan, np.nan], [np.nan, np.nan, 65.535]],
                               rtol=1e-6)
    with pytest.raises(ConversionError, match="'mono8'"):
        depth_to_image(types, depth, 0, 'cam', encoding='mono8')
    with pytest.raises(ConversionError, match='32FC1 or 16UC1'):
        image_to_depth(array_to_image(types, np.zeros((1, 1), np.uint8), 'mono8', 0, 'c'))
