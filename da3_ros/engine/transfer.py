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

"""Device tensors to host numpy: asynchronous copies into pinned buffers, one wait per copy.

On CUDA every tensor is copied with ``non_blocking=True`` into a page-locked host tensor of its
own shape, on a side stream that first waits for the compute stream; a CUDA event marks the end
of the copies and :meth:`PendingCopy.wait` synchronises on it, and on nothing else. Pinned
tensors come from PyTorch's caching host allocator (``torch.empty(..., pin_memory=True)``), the
well-kept allocator that PyTorch's own loaders use: a block goes back to its cache when the
arrays that view it are dropped and is reused, without a new ``cudaHostAlloc``, by the next
tensor of that size. So a node that publishes and drops each result reuses the same few blocks,
while a caller that keeps results keeps valid arrays (a fixed ring would overwrite them).

``HostTransfer.start`` copies a list of tensors at once (the window geometry's small copy, on a
lane of its own: ``host_transfer``); ``HostTransfer.begin`` returns a :class:`StreamingCopy`
that takes each output as soon as it is built, so the copy engine moves one map while the device
and the host build the next (the engine's outputs: measured on an H100, the small 6-camera
step's wait for its copies went from 3.75 to 1.17 ms).

Host arrays follow :func:`postprocess.to_host`'s rule: bool stays bool, the rest is float64 if
any tensor is float64, else float32 (``StreamingCopy`` applies it per tensor). On the CPU the
copy is ``to_host`` itself, so the CPU path is unchanged.
"""
import functools
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.postprocess import to_host
from da3_ros.engine.upload import staging_choice

Allocate = Callable[[torch.Size, torch.dtype], torch.Tensor]


def _host_dtype(tensor: torch.Tensor, wide: bool) -> torch.dtype:
    if tensor.dtype == torch.bool:
        return torch.bool
    return torch.float64 if wide else torch.float32


class PendingCopy:
    """Copies in flight; :meth:`wait` returns the host arrays (same order as the tensors)."""

    def __init__(self, sources: Sequence[torch.Tensor], hosts: Sequence[torch.Tensor],
                 event: Optional[object], spans: Sequence[Tuple[object, object]] = ()) -> None:
        self._sources = list(sources)  # device tensors stay alive until the copies finish
        self._hosts, self._event, self._spans = list(hosts), event, list(spans)
        self._arrays: Optional[List[np.ndarray]] = None

    @classmethod
    def done(cls, arrays: List[np.ndarray]) -> 'PendingCopy':
        """Return a copy that already happened (the synchronous CPU path)."""
        pending = cls([], [], None)
        pending._arrays = arrays
        return pending

    def wait(self) -> List[np.ndarray]:
        """Block until the copies are done (the one synchronisation point); idempotent."""
        if self._arrays is None:
            if self._event is not None:
                self._event.synchronize()
            self._arrays = [h.numpy() for h in self._hosts]
            self._sources = []
        return self._arrays

    @property
    def device_ms(self) -> Optional[float]:
        """Device time of the copies in ms (CUDA, after :meth:`wait`); None elsewhere.

        The sum over the (start, end) event pairs around each batch of copies: the time the
        copies themselves took, not the gaps between batches while outputs were being built.
        """
        if not self._spans or self._arrays is None:
            return None
        return sum(start.elapsed_time(end) for start, end in self._spans)


class HostTransfer:
    """Starts the copies of one step's outputs to the host.

    Args:
        device: device of the tensors; ``'cpu'`` copies with ``to_host`` (synchronous).
        staged: use the staged path (per-tensor host buffers, non-blocking copies) on any
            device; default: on CUDA only. Tests run it on the CPU with ``pin=False``.
        pin: allocate page-locked host buffers (CUDA only); default: on CUDA.
    """

    def __init__(self, device: torch.device, *, staged: Optional[bool] = None,
                 pin: Optional[bool] = None) -> None:
        self.device = torch.device(device)
        self.staged, self.pin = staging_choice(self.device, staged, pin)
        self._stream = None

    def __getstate__(self) -> dict:
        """Picklable (the bag tool saves engine state): the CUDA stream is rebuilt lazily."""
        return {**self.__dict__, '_stream': None}

    def allocate(self, shape: torch.Size, dtype: torch.dtype) -> torch.Tensor:
        """Return a host buffer (pinned when ``pin``) from PyTorch's caching allocators."""
        return torch.empty(shape, dtype=dtype, pin_memory=self.pin)

    def start(self, tensors: Sequence[torch.Tensor]) -> PendingCopy:
        """Enqueue the copies of ``tensors``; nothing waits here."""
        if not self.staged:
            return PendingCopy.done(to_host(tensors))
        wide = any(t.dtype == torch.float64 for t in tensors)
        hosts = [self.allocate(t.shape, _host_dtype(t, wide)) for t in tensors]
        if self.device.type != 'cuda':
            for host, src in zip(hosts, tensors):
                host.copy_(src)
            return PendingCopy([], hosts, None)
        stream = self._side_stream()
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            started = torch.cuda.Event(enable_timing=True)
            started.record(stream)
            for host, src in zip(hosts, tensors):
                host.copy_(src, non_blocking=True)
            event = torch.cuda.Event(enable_timing=True)
            event.record(stream)
        return PendingCopy(tensors, hosts, event, [(started, event)])

    def begin(self) -> 'StreamingCopy':
        """Return a copy that takes its tensors one at a time, each as soon as it exists."""
        return StreamingCopy(self)

    def __call__(self, tensors: Sequence[torch.Tensor]) -> List[np.ndarray]:
        """Copy and wait: the host arrays of ``tensors``."""
        return self.start(tensors).wait()

    def _side_stream(self):
        if self._stream is None:
            self._stream = torch.cuda.Stream(self.device)
        return self._stream


@functools.lru_cache(maxsize=None)
def host_transfer(device: torch.device, lane: str = 'outputs') -> HostTransfer:
    """Get the shared :class:`HostTransfer` of ``device`` for ``lane`` (one side stream each).

    The window geometry's small copy has a lane of its own: on the outputs' stream it would
    queue behind the previous step's output copies, which may still be in flight while the
    node overlaps steps.
    """
    return HostTransfer(device)


class StreamingCopy:
    """A step's copies to the host, each started as soon as its tensor has been produced.

    :meth:`add` makes the side stream wait for the work queued so far on the compute stream and
    enqueues that one tensor's copy, so on CUDA the copy engine moves a map while the host is
    still launching the kernels of the next output (a copy started only after the last output
    would add its whole duration to the step). Callers add tensors in the order they build them
    and keep the returned index. A synchronous device read between adds may queue behind the
    copies already in flight, so reads belong before the bulk copies. :meth:`finish` returns the
    :class:`PendingCopy` of every added tensor, in add order.

    Host arrays: bool stays bool and float64 stays float64, everything else is float32 (per
    tensor: ``to_host``'s rule for outputs of one float width, which every engine step's are).
    Off the staged path the tensors are kept and :meth:`finish` copies them with ``to_host``.
    """

    def __init__(self, transfer: HostTransfer) -> None:
        self._transfer = transfer
        self._sources: List[torch.Tensor] = []
        self._hosts: List[torch.Tensor] = []
        self._spans: List[Tuple[object, object]] = []

    def add(self, tensor: torch.Tensor) -> int:
        """Start the copy of ``tensor``; return its index in the finished copy's arrays."""
        return self.add_all([tensor])[0]

    def add_all(self, tensors: Sequence[torch.Tensor]) -> List[int]:
        """Start the copies of ``tensors`` (one wait on the compute stream); their indices."""
        first = len(self._sources)
        self._sources.extend(tensors)
        transfer = self._transfer
        if not transfer.staged:
            return list(range(first, len(self._sources)))
        hosts = [transfer.allocate(t.shape, _host_dtype(t, t.dtype == torch.float64))
                 for t in tensors]
        self._hosts.extend(hosts)
        if transfer.device.type != 'cuda':
            for host, tensor in zip(hosts, tensors):
                host.copy_(tensor)
            return list(range(first, len(self._sources)))
        stream = transfer._side_stream()
        stream.wait_stream(torch.cuda.current_stream(transfer.device))
        with torch.cuda.stream(stream):
            started, ended = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            started.record(stream)
            for host, tensor in zip(hosts, tensors):
                host.copy_(tensor, non_blocking=True)
            ended.record(stream)
            self._spans.append((started, ended))
        return list(range(first, len(self._sources)))

    def finish(self) -> PendingCopy:
        """Return the pending copy of every added tensor (an event after the last on CUDA)."""
        transfer = self._transfer
        if not transfer.staged:
            return PendingCopy.done(to_host(self._sources))
        if transfer.device.type != 'cuda':
            return PendingCopy([], self._hosts, None)
        stream = transfer._side_stream()
        with torch.cuda.stream(stream):
            event = torch.cuda.Event(enable_timing=True)
            event.record(stream)
        return PendingCopy(self._sources, self._hosts, event, self._spans)
