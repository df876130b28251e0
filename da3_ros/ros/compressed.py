"""``sensor_msgs/CompressedImage`` (JPEG, PNG) <-> RGB numpy with Pillow (no cv_bridge).

Why it exists: ``cv_bridge`` and ``image_transport`` plugins are not installable on the pip-only
ROS 2 runtime (``docs/pip-runtime.md``). This module mirrors
``cv_bridge.compressed_imgmsg_to_cv2`` followed by a conversion to ``rgb8``, and the ``format``
strings that ``compressed_image_transport`` writes:

- ``'jpeg'`` / ``'png'`` (old drivers: the codec alone);
- ``'<encoding>; <codec> compressed <encoding>'``, e.g. ``'rgb8; jpeg compressed bgr8'``
  (the source encoding, then the codec and the channel order handed to the encoder).

JPEG and PNG store colour in a defined order, so decoding always gives true RGB whatever the
channel order named in the string. ``compressedDepth`` (16-bit depth in PNG with a private
header) is not supported.
"""
from dataclasses import dataclass
import io
from typing import Any

import numpy as np
from PIL import Image as PILImage

from da3_ros.errors import ConversionError
from da3_ros.ros.msgtypes import MsgTypes
from da3_ros.ros.tf_msgs import make_header

_CODECS = {'jpeg': 'JPEG', 'jpg': 'JPEG', 'png': 'PNG'}
_RGB_MODES = {'RGB', 'RGBA', 'L', 'LA', 'P', 'CMYK', 'YCbCr', '1'}


@dataclass(frozen=True)
class CompressedFormat:
    """A parsed ``CompressedImage.format``.

    Attributes:
        source_encoding: encoding of the image before compression ('' when not given).
        codec: ``'jpeg'`` or ``'png'``.
        compressed_encoding: channel order handed to the encoder ('' when not given).
    """

    source_encoding: str
    codec: str
    compressed_encoding: str


def parse_format(text: str) -> CompressedFormat:
    """Parse ``'jpeg'``, ``'png'`` or ``'rgb8; jpeg compressed bgr8'`` style strings.

    Raises:
        ConversionError: unknown codec or ``compressedDepth``.
    """
    source, _, rest = text.rpartition(';') if ';' in text else ('', '', text)
    words = rest.strip().lower().split()
    if not words or 'compresseddepth' in words:
        raise ConversionError(f'unsupported CompressedImage format {text!r}'
                              ' (only jpeg and png, not compressedDepth)')
    codec = words[0]
    if codec not in _CODECS:
        raise ConversionError(f'unsupported CompressedImage codec {codec!r} in format {text!r}')
    target = words[2] if len(words) >= 3 and words[1] == 'compressed' else ''
    return CompressedFormat(source.strip(), 'png' if codec == 'png' else 'jpeg', target)


def compressed_to_rgb(msg: Any) -> np.ndarray:
    """Decode a CompressedImage to ``[H, W, 3]`` uint8 RGB.

    Raises:
        ConversionError: bad format string, undecodable data, or a 16-bit/float image.
    """
    fmt = parse_format(msg.format)
    try:
        with PILImage.open(io.BytesIO(memoryview(msg.data).cast('B').tobytes())) as image:
            image.load()
            mode, rgb = image.mode, np.asarray(image.convert('RGB'))
    except (OSError, ValueError) as err:
        raise ConversionError(f'cannot decode {msg.format!r} CompressedImage'
                              f' ({len(msg.data)} bytes): {err}') from err
    if mode not in _RGB_MODES:
        raise ConversionError(f'{fmt.codec} image of mode {mode!r} is not an 8-bit colour or'
                              ' grey image')
    return rgb


def rgb_to_compressed(types: MsgTypes, rgb: np.ndarray, stamp_ns: int, frame_id: str, *,
                      codec: str = 'jpeg', quality: int = 90) -> Any:
    """Encode ``[H, W, 3]`` uint8 RGB as JPEG or PNG.

    The format string is ``'rgb8; <codec> compressed bgr8'``, as ``compressed_image_transport``
    writes for an ``rgb8`` source.

    Raises:
        ConversionError: wrong dtype/shape or unknown codec.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ConversionError(f'expected [H, W, 3] uint8 RGB, got {rgb.dtype} {rgb.shape}')
    if codec not in _CODECS:
        raise ConversionError(f'unsupported codec {codec!r}; use jpeg or png')
    buffer = io.BytesIO()
    options = {'quality': int(quality)} if _CODECS[codec] == 'JPEG' else {}
    PILImage.fromarray(rgb).save(buffer, format=_CODECS[codec], **options)
    name = 'png' if codec == 'png' else 'jpeg'
    data = np.frombuffer(buffer.getvalue(), np.uint8)
    return types.CompressedImage(header=make_header(types, stamp_ns, frame_id),
                                 format=f'rgb8; {name} compressed bgr8', data=types.blob(data))
