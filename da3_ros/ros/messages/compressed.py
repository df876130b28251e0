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

Decoding is defensive, in two steps: :func:`inspect` reads only the header (Pillow's ``open`` is
lazy) and :func:`check_header` refuses a size that disagrees with the CameraInfo or exceeds
:data:`MAX_PIXELS`, before :func:`decode` spends memory and time on the pixels; a 17 KB PNG may
claim 12000 x 12000 pixels. Every failure of either step (including Pillow's
``DecompressionBombError`` and whatever a corrupt stream raises) is a ``ConversionError``,
which the callers turn into a per-camera error.
"""
from dataclasses import dataclass
import io
from typing import Any, Optional, Tuple
import warnings

import numpy as np
from PIL import Image as PILImage

from da3_ros.errors import ConversionError
from da3_ros.ros.messages.msgtypes import MsgTypes
from da3_ros.ros.messages.tf_msgs import make_header

_CODECS = {'jpeg': 'JPEG', 'jpg': 'JPEG', 'png': 'PNG'}
_RGB_MODES = {'RGB', 'RGBA', 'L', 'LA', 'P', 'CMYK', 'YCbCr', '1'}
# Largest image decoded (width x height): 50 MP, above 8K UHD (33 MP) and far below what a
# decoder needs gigabytes for. Pillow's own bomb check (about 179 MP) stays in force as well.
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class ImageHeader:
    """What the compressed stream says about its image, read without decoding the pixels."""

    codec: str
    width: int
    height: int
    mode: str


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


def _open(msg: Any) -> PILImage.Image:
    """Return a lazily opened Pillow image of ``msg.data`` (reads the header only)."""
    return PILImage.open(io.BytesIO(memoryview(msg.data).cast('B').tobytes()))


def _failed(msg: Any, err: BaseException) -> ConversionError:
    return ConversionError(f'cannot decode {msg.format!r} CompressedImage ({len(msg.data)}'
                           f' bytes): {type(err).__name__}: {err}')


def inspect(msg: Any) -> ImageHeader:
    """Codec, size and mode from the header of a CompressedImage (no pixel is decoded).

    Raises:
        ConversionError: bad format string, or data that is not a readable JPEG/PNG header.
    """
    fmt = parse_format(msg.format)
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 MP; check_header refuses above MAX_PIXELS anyway.
            warnings.simplefilter('ignore', PILImage.DecompressionBombWarning)
            with _open(msg) as image:
                width, height = image.size
                return ImageHeader(fmt.codec, int(width), int(height), image.mode)
    except Exception as err:  # noqa: B902 - Pillow raises many types (DecompressionBombError...)
        raise _failed(msg, err) from err


def check_header(header: ImageHeader, expected_wh: Optional[Tuple[int, int]] = None) -> None:
    """Refuse an image before decoding it.

    Refused: a mode that is not 8-bit colour or grey, more than :data:`MAX_PIXELS`, or a size
    other than ``expected_wh`` (the CameraInfo's width, height).

    Raises:
        ConversionError: naming the size or mode.
    """
    if header.mode not in _RGB_MODES:
        raise ConversionError(f'{header.codec} image of mode {header.mode!r} is not an 8-bit'
                              ' colour or grey image')
    if expected_wh is not None and (header.width, header.height) != tuple(expected_wh):
        raise ConversionError(f'{header.codec} image is {header.width}x{header.height} but the'
                              f' CameraInfo says {expected_wh[0]}x{expected_wh[1]}; not decoded')
    if header.width * header.height > MAX_PIXELS:
        raise ConversionError(f'{header.codec} image of {header.width}x{header.height} pixels'
                              f' exceeds the limit of {MAX_PIXELS} pixels; not decoded')


def decode(msg: Any) -> np.ndarray:
    """Decode the pixels of a CompressedImage (checked by :func:`check_header`) to RGB.

    Raises:
        ConversionError: a truncated or corrupt stream.
    """
    try:
        with _open(msg) as image:
            image.load()
            return np.asarray(image.convert('RGB'))
    except Exception as err:  # noqa: B902 - Pillow raises many types for corrupt data
        raise _failed(msg, err) from err


def compressed_to_rgb(msg: Any, expected_wh: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Decode a CompressedImage to ``[H, W, 3]`` uint8 RGB: inspect the header, then decode.

    Args:
        msg: the CompressedImage.
        expected_wh: (width, height) the image must have (its CameraInfo), or None.

    Raises:
        ConversionError: bad format string, a refused header (see :func:`check_header`),
            undecodable data.
    """
    check_header(inspect(msg), expected_wh)
    return decode(msg)


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
