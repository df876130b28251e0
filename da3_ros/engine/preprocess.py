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

"""Device-side pre-processing: upload uint8 once, undistort + resize, normalise.

Geometry of the processed image: processed pixel ``p = (u + 0.5) * s - 0.5 - crop`` for source
pixel ``u`` (per axis), i.e. resampling with ``align_corners=False``; ``ImageTransform`` records
``s`` and ``crop`` so depth can be mapped back and K follows (``geometry.camera``). A distorted
camera is resampled onto the ideal pinhole camera with the same K through a cached remap grid.

:meth:`Preprocessor.process` batches a frame: the host uint8 images of one shape that take the
plain resize/crop path are uploaded together (``upload.HostUpload``: one pinned staging copy and
one non-blocking upload on CUDA instead of one synchronous pageable upload per camera), then
converted, resized, cropped and normalised as one [B, 3, H, W] batch; device tensors of one
shape (GPU-decoded JPEGs) are stacked and batched likewise. Every camera's result equals what
:meth:`Preprocessor.__call__` gives it alone (the batch adds no cross-image arithmetic);
cameras that are undistorted through a grid, or not uint8 [H, W, 3], go one by one.
"""
import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from da3_ros.engine.decode import EncodedImage, ImageDecoder
from da3_ros.engine.types import CameraFrame, RigFrame
from da3_ros.engine.upload import host_tensor, HostUpload
from da3_ros.errors import ConversionError
from da3_ros.geometry import camera as cam_lib
from da3_ros.geometry import distortion as dist_lib

PATCH = 14
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

Processed = Tuple[torch.Tensor, 'ImageTransform', Optional[np.ndarray]]


@dataclass(frozen=True)
class ImageTransform:
    """Source image (H, W) to processed (h, w): scale (sx, sy), then crop (x0, y0)."""

    src_hw: Tuple[int, int]
    out_hw: Tuple[int, int]
    scale: Tuple[float, float]
    crop: Tuple[int, int]

    def intrinsics(self, k: np.ndarray) -> np.ndarray:
        """Source intrinsics [3, 3] to processed-image intrinsics."""
        return cam_lib.crop_intrinsics(cam_lib.scale_intrinsics(k, *self.scale), *self.crop)

    def inverse_intrinsics(self, k_proc: np.ndarray) -> np.ndarray:
        """Processed-image intrinsics [3, 3] back to source resolution."""
        k = cam_lib.crop_intrinsics(k_proc, -self.crop[0], -self.crop[1])
        return cam_lib.scale_intrinsics(k, 1.0 / self.scale[0], 1.0 / self.scale[1])


def _round14(x: float) -> int:
    down = max(PATCH, int(x // PATCH) * PATCH)
    up = down + PATCH
    return up if abs(up - x) <= abs(x - down) else down


def processed_size(src_hw: Tuple[int, int], process_res: int,
                   method: str) -> ImageTransform:
    """Return the transform of one image under a DA3 resize policy (spec 7.2, single resample).

    Args:
        src_hw: source (height, width).
        process_res: bound on the longest (``upper_bound_*``) or shortest (``lower_*``) side.
        method: ``{upper,lower}_bound_{resize,crop}``.
    """
    height, width = src_hw
    side = max(height, width) if method.startswith('upper') else min(height, width)
    ratio = process_res / side
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    if method.endswith('resize'):
        out_w, out_h = _round14(new_w), _round14(new_h)
        return ImageTransform(src_hw, (out_h, out_w), (out_w / width, out_h / height), (0, 0))
    out_w = max(PATCH, new_w // PATCH * PATCH)
    out_h = max(PATCH, new_h // PATCH * PATCH)
    crop = ((new_w - out_w) // 2, (new_h - out_h) // 2)
    return ImageTransform(src_hw, (out_h, out_w), (new_w / width, new_h / height), crop)


def common_transform(src_hw: Tuple[int, int], out_hw: Tuple[int, int]) -> ImageTransform:
    """Resize ``src_hw`` straight to ``out_hw`` (used to bring every camera to one size)."""
    return ImageTransform(tuple(src_hw), tuple(out_hw),
                          (out_hw[1] / src_hw[1], out_hw[0] / src_hw[0]), (0, 0))


def window_size(shapes: Sequence[Tuple[int, int]], process_res: int, method: str):
    """One processed (h, w) for all cameras: the smallest of their processed sizes."""
    sizes = [processed_size(hw, process_res, method).out_hw for hw in shapes]
    return min(s[0] for s in sizes), min(s[1] for s in sizes)


class Preprocessor:
    """Turns CameraFrames into normalised device tensors; caches remap grids per camera.

    Args:
        device: torch device of the model.
        process_res: see :func:`processed_size`.
        method: resize policy name.
        uploader: batched host upload of :meth:`process`; default: ``HostUpload(device)``.
    """

    def __init__(self, device: torch.device, process_res: int, method: str,
                 uploader: Optional[HostUpload] = None) -> None:
        self.device = torch.device(device)
        self.uploader = uploader if uploader is not None else HostUpload(self.device)
        self.process_res = process_res
        self.method = method
        self._grids: Dict[tuple, torch.Tensor] = {}
        self.decoder = ImageDecoder(self.device)  # encoded images (JPEG/PNG bytes)
        self._mean = torch.tensor(MEAN, device=self.device).view(3, 1, 1) * 255.0
        self._std = torch.tensor(STD, device=self.device).view(3, 1, 1) * 255.0

    def decode(self, frame: RigFrame) -> Tuple[RigFrame, Dict[str, str]]:
        """Decode the frame's ``EncodedImage`` cameras (on the device when the decoder can).

        Returns:
            (the frame with decoded images and without the cameras that failed, camera name ->
            error of those).
        """
        index = [i for i, c in enumerate(frame.cameras) if isinstance(c.image, EncodedImage)]
        if not index:
            return frame, {}
        errors, cameras = {}, list(frame.cameras)
        for i, image in zip(index, self.decoder.decode([cameras[i].image for i in index])):
            if isinstance(image, ConversionError):
                errors[cameras[i].name] = f'ConversionError: {image}'
                cameras[i] = None
            else:
                cameras[i] = dataclasses.replace(cameras[i], image=image)
        kept = tuple(c for c in cameras if c is not None)
        return dataclasses.replace(frame, cameras=kept), errors

    def transform(self, src_hw: Tuple[int, int], out_hw: Tuple[int, int]) -> ImageTransform:
        """Return the policy's transform when it yields ``out_hw``, else a direct resize."""
        tf = processed_size(src_hw, self.process_res, self.method)
        return tf if tf.out_hw == tuple(out_hw) else common_transform(src_hw, out_hw)

    def upload(self, image: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
        """uint8 [H, W, 3] image to float [1, 3, H, W] on the device (at most one copy).

        The image is a host array or a tensor (e.g. already decoded on the device).
        """
        if isinstance(image, torch.Tensor):
            return image.to(self.device).permute(2, 0, 1)[None].float()
        return host_tensor(image).to(self.device).permute(2, 0, 1)[None].float()

    def _grid(self, frame: CameraFrame, tf: ImageTransform, mid_hw, k_mid) -> torch.Tensor:
        key = (frame.name, tf, mid_hw, frame.k.tobytes(), frame.distortion_model,
               tuple(frame.distortion))
        if key not in self._grids:
            if len(self._grids) > 64:
                self._grids.clear()
            grid = dist_lib.remap_grid(k_mid, mid_hw, frame.distortion_model, frame.distortion,
                                       tf.intrinsics(frame.k), tf.out_hw)
            self._grids[key] = torch.from_numpy(grid)[None].to(self.device)
        return self._grids[key]

    def process(self, cameras: Sequence[CameraFrame], out_hw: Tuple[int, int],
                undistort: Mapping[str, bool]) -> List[Processed]:
        """Process a frame's cameras, batching those that share a shape (module docstring).

        Args:
            cameras: the frame's cameras.
            out_hw: processed (h, w) of every camera.
            undistort: camera name -> undistort through a grid (default True), as ``__call__``.

        Returns:
            per camera, in order, what :meth:`__call__` returns for it.
        """
        results: List[Optional[Processed]] = [None] * len(cameras)
        groups: Dict[tuple, List[int]] = {}
        for i, cam in enumerate(cameras):
            groups.setdefault(self._batch_key(cam, undistort.get(cam.name, True)), []).append(i)
        for key, index in groups.items():
            if key is None:
                for i in index:
                    results[i] = self(cameras[i], out_hw, undistort.get(cameras[i].name, True))
                continue
            images = [cameras[i].image for i in index]
            batch = (self.uploader(images) if key[0] == 'host'
                     else torch.stack(images).to(self.device))
            for i, result in zip(index, self._batched([cameras[i] for i in index], batch,
                                                      out_hw)):
                results[i] = result
        return results

    def _batch_key(self, frame: CameraFrame, undistort: bool) -> Optional[tuple]:
        """Group of a camera in :meth:`process`; None: processed alone."""
        image = frame.image
        shape = tuple(getattr(image, 'shape', ()))
        if (undistort and self._distorted(frame)) or len(shape) != 3 or shape[2] != 3:
            return None
        if isinstance(image, np.ndarray) and image.dtype == np.uint8:
            return ('host', image.shape)
        if isinstance(image, torch.Tensor) and image.dtype == torch.uint8:
            return ('tensor', image.device, tuple(image.shape))
        return None

    def _batched(self, frames: Sequence[CameraFrame], batch: torch.Tensor,
                 out_hw: Tuple[int, int]) -> List[Processed]:
        """Resize/crop path of ``__call__`` over uint8 [B, H, W, 3] on the device at once."""
        tf = self.transform(tuple(batch.shape[1:3]), out_hw)
        img = self._resize_crop(batch.permute(0, 3, 1, 2).float(), tf)
        images = (img - self._mean) / self._std
        return [(images[j], tf, self._k_proc(frame, tf)) for j, frame in enumerate(frames)]

    @staticmethod
    def _distorted(frame: CameraFrame) -> bool:
        return frame.k is not None and not dist_lib.is_identity(frame.distortion_model,
                                                                frame.distortion)

    @staticmethod
    def _k_proc(frame: CameraFrame, tf: ImageTransform) -> Optional[np.ndarray]:
        return None if frame.k is None else tf.intrinsics(frame.k)

    def __call__(self, frame: CameraFrame, out_hw: Tuple[int, int],
                 undistort: bool = True) -> Processed:
        """Process one camera image.

        Returns:
            (normalised image [3, h, w] float32 on the device, transform, processed-pixel
            intrinsics [3, 3] or None when the frame has no K).
        """
        src_hw = tuple(frame.image.shape[:2])
        tf = self.transform(src_hw, out_hw)
        img = self.upload(frame.image)
        k_proc = self._k_proc(frame, tf)
        if undistort and self._distorted(frame):
            mid_hw = (max(tf.out_hw[0], round(src_hw[0] * tf.scale[1])),
                      max(tf.out_hw[1], round(src_hw[1] * tf.scale[0])))
            mid_hw = (min(mid_hw[0], src_hw[0]), min(mid_hw[1], src_hw[1]))
            k_mid = cam_lib.resize_intrinsics(frame.k, src_hw, mid_hw)
            if mid_hw != src_hw:
                img = F.interpolate(img, size=mid_hw, mode='bilinear', antialias=True,
                                    align_corners=False)
            img = F.grid_sample(img, self._grid(frame, tf, mid_hw, k_mid), mode='bilinear',
                                padding_mode='border', align_corners=False)
        else:
            img = self._resize_crop(img, tf)
        return ((img[0] - self._mean) / self._std), tf, k_proc

    @staticmethod
    def _resize_crop(img: torch.Tensor, tf: ImageTransform) -> torch.Tensor:
        src_h, src_w = tf.src_hw
        size = (round(src_h * tf.scale[1]), round(src_w * tf.scale[0]))
        if size != (src_h, src_w):
            mode = 'bicubic' if size[0] > src_h else 'bilinear'
            img = F.interpolate(img, size=size, mode=mode, antialias=True, align_corners=False)
            img = img.clamp(0.0, 255.0)
        x0, y0 = tf.crop
        return img[..., y0:y0 + tf.out_hw[0], x0:x0 + tf.out_hw[1]]
