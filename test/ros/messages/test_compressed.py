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

"""CompressedImage decode/encode and compressed_image_transport format strings."""
import io
from types import SimpleNamespace

import numpy as np
from PIL import Image, ImageFile
import pytest
from ros import rig_messages as rm  # test/ros helper (test/ is on sys.path)

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.compressed import (compressed_to_rgb, inspect, MAX_PIXELS, parse_format,
                                             rgb_to_compressed)


def _smooth_rgb(height=24, width=37):
    rows, cols = np.mgrid[0:height, 0:width]
    return np.dstack([cols * 6, rows * 9, np.full_like(rows, 90)]).astype(np.uint8)


@pytest.mark.parametrize('text,expected', [
    ('jpeg', ('', 'jpeg', '')),
    ('png', ('', 'png', '')),
    ('rgb8; jpeg compressed bgr8', ('rgb8', 'jpeg', 'bgr8')),
    ('bgr8; png compressed bgr8', ('bgr8', 'png', 'bgr8')),
    ('mono8; jpeg compressed ', ('mono8', 'jpeg', '')),
])
def test_parse_format(text, expected):
    fmt = parse_format(text)
    assert (fmt.source_encoding, fmt.codec, fmt.compressed_encoding) == expected


@pytest.mark.parametrize('text', ['16UC1; compressedDepth png', 'tiff', ''])
def test_parse_format_rejects(text):
    with pytest.raises(ConversionError, match=repr(text) if text else 'format'):
        parse_format(text)


def test_png_round_trip_is_exact(types, wire_round_trip):
    rgb = _smooth_rgb()
    msg = wire_round_trip(rgb_to_compressed(types, rgb, 7, 'cam', codec='png'))
    assert msg.format == 'rgb8; png compressed bgr8' and msg.header.frame_id == 'cam'
    np.testing.assert_array_equal(compressed_to_rgb(msg), rgb)


def test_jpeg_round_trip_keeps_colour_order(types):
    rgb = _smooth_rgb()
    msg = rgb_to_compressed(types, rgb, 0, 'cam', quality=95)
    assert msg.format == 'rgb8; jpeg compressed bgr8'
    back = compressed_to_rgb(msg)
    assert back.shape == rgb.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - rgb).mean() < 3.0


def test_grey_png_becomes_rgb():
    buffer = io.BytesIO()
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(grey).save(buffer, format='PNG')
    msg = SimpleNamespace(format='mono8; png compressed ', data=buffer.getvalue())
    np.testing.assert_array_equal(compressed_to_rgb(msg), np.dstack([grey] * 3))


def test_undecodable_and_16bit_data():
    with pytest.raises(ConversionError, match="cannot decode 'jpeg' CompressedImage .3 bytes"):
        compressed_to_rgb(SimpleNamespace(format='jpeg', data=b'abc'))
    buffer = io.BytesIO()
    Image.fromarray(np.full((2, 2), 4000, np.uint16)).save(buffer, format='PNG')
    with pytest.raises(ConversionError, match='mode'):
        compressed_to_rgb(SimpleNamespace(format='png', data=buffer.getvalue()))


def test_encode_rejects_bad_input(types):
    with pytest.raises(ConversionError, match='uint8 RGB'):
        rgb_to_compressed(types, np.zeros((2, 2), np.uint8), 0, 'cam')
    with pytest.raises(ConversionError, match="'webp'"):
        rgb_to_compressed(types, np.zeros((2, 2, 3), np.uint8), 0, 'cam', codec='webp')


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    """Fail the test if any image's pixels are decoded."""
    def load(self):
        raise AssertionError(f'pixels of a {self.size} image were decoded')

    monkeypatch.setattr(Image.Image, 'load', load)
    monkeypatch.setattr(ImageFile.ImageFile, 'load', load)


def test_header_is_read_without_decoding(no_pixel_decoding):
    header = inspect(SimpleNamespace(format='png', data=rm.png_header_only(12000, 9000)))
    assert (header.codec, header.width, header.height, header.mode) == ('png', 12000, 9000, 'L')


def test_size_disagreeing_with_camera_info_is_refused_before_decoding(no_pixel_decoding):
    msg = SimpleNamespace(format='png', data=rm.png_header_only(12000, 12000))
    with pytest.raises(ConversionError, match='12000x12000 but the CameraInfo says 640x480'):
        compressed_to_rgb(msg, (640, 480))


def test_size_over_the_limit_is_refused_before_decoding(no_pixel_decoding):
    side = int(MAX_PIXELS ** 0.5) + 1
    msg = SimpleNamespace(format='png', data=rm.png_header_only(side, side))
    with pytest.raises(ConversionError, match=f'exceeds the limit of {MAX_PIXELS} pixels'):
        compressed_to_rgb(msg, (side, side))


def test_decompression_bomb_is_a_conversion_error():
    """Pillow raises DecompressionBombError from open(); it is not an OSError/ValueError."""
    msg = SimpleNamespace(format='png', data=rm.png_header_only(20000, 20000))
    with pytest.raises(ConversionError, match='DecompressionBombError'):
        compressed_to_rgb(msg)


def test_truncated_stream_is_a_conversion_error():
    buffer = io.BytesIO()
    Image.fromarray(_smooth_rgb(64, 64)).save(buffer, format='PNG')
    msg = SimpleNamespace(format='png', data=buffer.getvalue()[:-40])
    with pytest.raises(ConversionError, match='cannot decode'):
        compressed_to_rgb(msg, (64, 64))
