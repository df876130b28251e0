"""CompressedImage decode/encode and compressed_image_transport format strings."""
import io
from types import SimpleNamespace

import numpy as np
from PIL import Image
import pytest

from da3_ros.errors import ConversionError
from da3_ros.ros.compressed import compressed_to_rgb, parse_format, rgb_to_compressed


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
