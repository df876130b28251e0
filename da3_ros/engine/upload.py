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

"""Same-shape host uint8 images to the device as one batch, through a pinned staging tensor.

On CUDA each image of a group is copied (``Tensor.copy_``, multithreaded) into its slot of one
page-locked uint8 tensor [B, H, W, C], and that slot is uploaded (``non_blocking=True``) into its
row of the device batch [B, H, W, C] right away, instead of B synchronous copies from pageable
memory (each of which the driver stages through its own bounce buffer and waits for). Uploading
slot by slot lets the DMA of camera i run while the host copies camera i + 1: one upload of the
whole staging tensor could only start once every host copy was done (measured, six 1600x900
images: ~660 us of upload queued after ~700 us of host copies). The device batch is allocated
once per call, from PyTorch's caching allocator on the current stream, so the stream orders its
reuse. The staging tensor is kept per (B, H, W, C) and reused frame after frame; a CUDA event
recorded after the last slot's upload is synchronised before the next host write into that
tensor, so a copy still in flight never reads half-overwritten pixels.

Off CUDA the default is a plain stack (no pinning, nothing asynchronous); ``staged=True`` runs
the staging path on the CPU (tests do, with ``pin=False``): the same slot-by-slot copies, each
synchronous there.
"""
from typing import Dict, Optional, Sequence, Tuple
import warnings

import numpy as np
import torch

from da3_ros.errors import ConversionError

MAX_STAGING = 8  # staging tensors kept (one per rig layout); more means shapes keep changing


def host_tensor(image: np.ndarray) -> torch.Tensor:
    """Return a host array as a CPU tensor sharing its memory (copied only if not contiguous)."""
    array = np.ascontiguousarray(image)
    with warnings.catch_warnings():
        # Read-only message buffers are fine: every caller copies before any write.
        warnings.filterwarnings('ignore', message='The given NumPy array is not writable')
        return torch.from_numpy(array)


def to_device(values, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Small host data (an array, a tensor or nested lists) as a device tensor of ``dtype``.

    A copy from pageable host memory blocks the host until the device has finished all work
    queued before it, so a few intrinsics sent mid-step would stall the launches behind them.
    On CUDA the values go through a page-locked copy with ``non_blocking=True`` instead (the
    caching host allocator keeps that buffer until the copy has run). The result never shares
    memory with ``values``.
    """
    device = torch.device(device)
    if isinstance(values, torch.Tensor):
        host = values.detach().to('cpu', dtype=dtype, copy=True)
    else:
        host = torch.tensor(np.asarray(values), dtype=dtype)
    if device.type != 'cuda':
        return host.to(device)
    return host.pin_memory().to(device, non_blocking=True)


def staging_choice(device: torch.device, staged: Optional[bool],
                   pin: Optional[bool]) -> Tuple[bool, bool]:
    """Return (staged, pin) for host staging on ``device``: both on CUDA unless given."""
    cuda = torch.device(device).type == 'cuda'
    return (cuda if staged is None else staged), (cuda if pin is None else pin)


class HostUpload:
    """Uploads a group of same-shape uint8 host images as one device batch.

    Args:
        device: target device.
        staged: copy through the cached staging tensor; default: on CUDA only.
        pin: page-lock the staging tensors (CUDA only); default: on CUDA.
    """

    def __init__(self, device: torch.device, *, staged: Optional[bool] = None,
                 pin: Optional[bool] = None) -> None:
        self.device = torch.device(device)
        self.staged, self.pin = staging_choice(self.device, staged, pin)
        self._staging: Dict[Tuple[int, ...], torch.Tensor] = {}
        self._events: Dict[Tuple[int, ...], object] = {}

    def __getstate__(self) -> dict:
        """Picklable: staging tensors and events are rebuilt on first use."""
        return {**self.__dict__, '_staging': {}, '_events': {}}

    def __call__(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Return uint8 [B, H, W, C] on the device holding ``images`` (each uint8 [H, W, C]).

        The result never aliases a staging tensor, so it stays valid after later calls.

        Raises:
            ConversionError: no image, or images of different shapes or not uint8.
        """
        sources = [host_tensor(image) for image in images]
        shapes = {(tuple(s.shape), s.dtype) for s in sources}
        if len(shapes) != 1 or next(iter(shapes))[1] != torch.uint8:
            raise ConversionError(f'one batch needs uint8 images of one shape, got {shapes!r}')
        if not self.staged:
            return torch.stack(sources).to(self.device)
        key = (len(sources),) + tuple(sources[0].shape)
        staging = self._writable(key)
        # A tensor of its own (never a staging view), so later calls cannot overwrite it.
        batch = torch.empty(key, dtype=torch.uint8, device=self.device)
        for slot, row, source in zip(staging, batch, sources):
            slot.copy_(source)
            # Enqueued now, not after the loop: this slot's DMA overlaps the next host copy.
            row.copy_(slot, non_blocking=True)
        event = self._record_event()
        if event is not None:
            self._events[key] = event
        return batch

    def _writable(self, key: Tuple[int, ...]) -> torch.Tensor:
        """Return the staging tensor of ``key`` once no upload from it is in flight."""
        event = self._events.pop(key, None)
        if event is not None:
            event.synchronize()
        if key not in self._staging:
            if len(self._staging) >= MAX_STAGING:
                self._release()
            self._staging[key] = torch.empty(key, dtype=torch.uint8, pin_memory=self.pin)
        return self._staging[key]

    def _record_event(self) -> Optional[object]:
        """Mark the end of the uploads just enqueued (None off CUDA: they ran synchronously)."""
        if self.device.type != 'cuda':
            return None
        event = torch.cuda.Event()
        event.record(torch.cuda.current_stream(self.device))
        return event

    def _release(self) -> None:
        for event in self._events.values():
            event.synchronize()
        self._staging.clear()
        self._events.clear()
