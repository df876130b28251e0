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

"""Encoded camera images (JPEG/PNG bytes) and their decoding inside the engine step.

A ``CameraFrame.image`` may be an :class:`EncodedImage` instead of a decoded uint8 array: the
bytes of a ``sensor_msgs/CompressedImage``, whose header (codec, size, mode) was read without
decoding the pixels, so the caller could check the size against CameraInfo first. The engine
decodes them in its preprocess stage with :class:`ImageDecoder`:

- on CUDA, 8-bit RGB or grey JPEGs go through ``torchvision.io.decode_jpeg(list,
  device='cuda')`` (nvJPEG, one batched call per step); torchvision is optional and imported
  lazily (it is not installable beside every torch build);
- everything else (PNG, CMYK JPEG, no GPU, no torchvision, or an image the GPU decoder
  refuses) is decoded on the CPU with Pillow, exactly as ``ros/compressed.py`` does.

A decoded image whose size differs from its header is refused (``ConversionError``).
"""
from dataclasses import dataclass
import io
import logging
from typing import Callable, List, Optional, Sequence, Union
import warnings

import numpy as np
from PIL import Image as PILImage
import torch

from da3_ros.errors import ConversionError

LOG = logging.getLogger(__name__)
CODECS = {'JPEG': 'jpeg', 'PNG': 'png'}
RGB_MODES = ('RGB', 'RGBA', 'L', 'LA', 'P', 'CMYK', 'YCbCr', '1')
GPU_MODES = ('RGB', 'L')  # JPEG colour spaces handed to nvJPEG; the rest go to Pillow
# What a device decoder raises for data or a mode it refuses (older torchvision: TypeError for a
# batch); the image then goes to Pillow.
GPU_ERRORS = (RuntimeError, ValueError, TypeError)
Decoded = Union[np.ndarray, torch.Tensor]
# (list of uint8 CPU byte tensors) -> list of [3, H, W] uint8 device tensors
GpuDecode = Callable[[List[torch.Tensor]], List[torch.Tensor]]


@dataclass(frozen=True, eq=False)
class EncodedImage:
    """A compressed image whose header was read, not its pixels.

    Attributes:
        data: the encoded bytes as a 1-D uint8 array (a view of the message's buffer).
        codec: ``'jpeg'`` or ``'png'``.
        height: pixel rows from the header.
        width: pixel columns from the header.
        mode: Pillow mode from the header (``'RGB'``, ``'L'``, ...).
    """

    data: np.ndarray
    codec: str
    height: int
    width: int
    mode: str

    @property
    def shape(self) -> tuple:
        """``(H, W, 3)``: the shape of the decoded RGB image."""
        return (self.height, self.width, 3)

    @classmethod
    def inspect(cls, data: Union[bytes, bytearray, memoryview, np.ndarray]) -> 'EncodedImage':
        """Read codec, size and mode from the header (no pixel is decoded).

        Raises:
            ConversionError: not a JPEG or PNG, an unreadable header, or a 16-bit/float mode.
        """
        blob = np.asarray(data, np.uint8).reshape(-1) if isinstance(data, np.ndarray) \
            else np.frombuffer(memoryview(data).cast('B'), np.uint8)
        try:
            with PILImage.open(io.BytesIO(blob)) as image:
                fmt, mode, (width, height) = image.format, image.mode, image.size
        except (OSError, ValueError) as err:
            raise ConversionError(f'unreadable image header ({len(blob)} bytes): {err}') from err
        if fmt not in CODECS:
            raise ConversionError(f'image format {fmt!r} is not JPEG or PNG')
        if mode not in RGB_MODES:
            raise ConversionError(f'{fmt} image of mode {mode!r} is not an 8-bit colour or grey'
                                  ' image')
        return cls(blob, CODECS[fmt], int(height), int(width), mode)


def decode_cpu(image: EncodedImage) -> np.ndarray:
    """Pillow decode to ``[H, W, 3]`` uint8 RGB.

    Raises:
        ConversionError: undecodable data or a size that differs from the header.
    """
    try:
        with PILImage.open(io.BytesIO(image.data)) as pil:
            pil.load()
            rgb = np.asarray(pil.convert('RGB'))
    except (OSError, ValueError) as err:
        raise ConversionError(f'cannot decode {image.codec} image ({len(image.data)} bytes):'
                              f' {err}') from err
    return _checked(rgb.shape[:2], image, rgb)


def torchvision_decoder() -> Optional[GpuDecode]:
    """``torchvision.io.decode_jpeg`` on CUDA as a :data:`GpuDecode`, None without torchvision."""
    try:
        from torchvision.io import decode_jpeg, ImageReadMode
    except ImportError:  # optional: not installable beside every torch build
        return None

    def decode(batch: List[torch.Tensor]) -> List[torch.Tensor]:
        return decode_jpeg(batch, mode=ImageReadMode.RGB, device='cuda')
    return decode


class ImageDecoder:
    """Decodes the encoded images of one step, on the device when it can.

    Args:
        device: the engine's device; GPU decoding needs CUDA.
        gpu_decode: the batched JPEG decoder; default: torchvision's on CUDA, looked up on
            first use (tests inject a fake one).
    """

    def __init__(self, device: torch.device, gpu_decode: Optional[GpuDecode] = None) -> None:
        self.device = torch.device(device)
        self._injected = gpu_decode
        self._resolved: Optional[GpuDecode] = None
        self._looked_up = False
        self._warned = False

    def __getstate__(self) -> dict:
        """Picklable (the bag tool saves engine state): the decoder is looked up again."""
        return {**self.__dict__, '_resolved': None, '_looked_up': False}

    @property
    def gpu(self) -> Optional[GpuDecode]:
        """The batched device decoder in use, or None (CPU decoding)."""
        if self._injected is not None:
            return self._injected
        if not self._looked_up:
            self._looked_up = True
            if self.device.type == 'cuda':
                self._resolved = torchvision_decoder()
                if self._resolved is None:
                    LOG.info('torchvision not importable: JPEG images are decoded on the CPU')
        return self._resolved

    def decode(self, images: Sequence[EncodedImage]) -> List[Union[Decoded, ConversionError]]:
        """Get decoded ``[H, W, 3]`` uint8 RGB per image (device tensor or numpy), or its error."""
        out: List[Union[Decoded, ConversionError, None]] = [None] * len(images)
        on_gpu = [i for i, im in enumerate(images)
                  if im.codec == 'jpeg' and im.mode in GPU_MODES] if self.gpu else []
        if on_gpu:
            for i, decoded in zip(on_gpu, self._decode_gpu([images[i] for i in on_gpu])):
                out[i] = decoded
        for i, image in enumerate(images):
            if out[i] is None:
                try:
                    out[i] = decode_cpu(image)
                except ConversionError as err:
                    out[i] = err
        return out

    def _decode_gpu(self, images: Sequence[EncodedImage]) -> List[Optional[Decoded]]:
        """One batched call; when it fails, image by image; None where the GPU refuses."""
        batch = [_byte_tensor(im.data) for im in images]
        try:
            results = list(self.gpu(batch))
        except GPU_ERRORS as err:
            self._warn(err)
            results = []
            for tensor in batch:
                try:
                    results.append(self.gpu([tensor])[0])
                except GPU_ERRORS:
                    results.append(None)
        out: List[Optional[Decoded]] = []
        for image, chw in zip(images, results):
            if chw is None:
                out.append(None)
                continue
            try:
                out.append(_checked(tuple(chw.shape[-2:]), image, chw.permute(1, 2, 0)))
            except ConversionError as err:
                out.append(err)
        return out

    def _warn(self, err: BaseException) -> None:
        if not self._warned:
            self._warned = True
            LOG.warning('batched GPU JPEG decode failed (%s); decoding one by one, with'
                        ' Pillow where the GPU refuses', err)


def _byte_tensor(data: np.ndarray) -> torch.Tensor:
    with warnings.catch_warnings():  # read-only message buffers: the decoder only reads them
        warnings.filterwarnings('ignore', message='The given NumPy array is not writable')
        return torch.from_numpy(np.ascontiguousarray(data))


def _checked(hw: tuple, image: EncodedImage, decoded: Decoded) -> Decoded:
    if tuple(hw) != (image.height, image.width):
        raise ConversionError(f'decoded {image.codec} image is {hw[1]}x{hw[0]}, its header says'
                              f' {image.width}x{image.height}')
    return decoded
