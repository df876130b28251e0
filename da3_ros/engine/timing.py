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

"""Per-stage timing of an engine step that never synchronises the device.

On CUDA each stage is bracketed by two timing events on the current stream, so a stage's time
is the device timeline between its start and its end (launch gaps included: a launch-bound
stage shows its real cost). Nothing waits here: synchronising around every stage, as this
module once did, serialised the host's launches with the device's work and kept the copies of
one step from overlapping the next. The events are read in :attr:`StageTimer.ms` after the
step's single wait, when they have completed. On the CPU stages are host wall-clock.

``host_stage`` times host-side waits (the copy back) by wall clock on every device.
"""
from contextlib import contextmanager
import time
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import torch

EventFactory = Callable[[], object]


def _cuda_event() -> object:
    return torch.cuda.Event(enable_timing=True)


class StageTimer:
    """Collects stage durations in milliseconds; repeats of a stage name accumulate.

    Args:
        device: the device the stages run on (``cuda``: events; else wall clock).
        event_factory: makes timing events with ``record()``, ``synchronize()`` and
            ``elapsed_time(end)`` in ms; default ``torch.cuda.Event(enable_timing=True)`` on
            CUDA, none elsewhere. Tests pass a fake.
    """

    def __init__(self, device: torch.device,
                 event_factory: Optional[EventFactory] = None) -> None:
        self.device = torch.device(device)
        if event_factory is None and self.device.type == 'cuda':
            event_factory = _cuda_event
        self._event = event_factory
        self._created = time.perf_counter()
        self._host: Dict[str, float] = {}
        self._pairs: List[Tuple[str, object, object]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as device stage ``name``; a stage that raises is not recorded."""
        if self._event is None:
            with self.host_stage(name):
                yield
            return
        start = self._event()
        start.record()
        yield
        end = self._event()
        end.record()
        self._pairs.append((name, start, end))

    @contextmanager
    def host_stage(self, name: str) -> Iterator[None]:
        """Time the body by host wall clock as stage ``name``."""
        start = time.perf_counter()
        yield
        self._add(self._host, name, (time.perf_counter() - start) * 1e3)

    def add(self, name: str, ms: float) -> None:
        """Add ``ms`` measured elsewhere (e.g. the device time of the copies) to ``name``."""
        self._add(self._host, name, ms)

    def elapsed_ms(self) -> float:
        """Host wall clock since the timer was made (a step's submit to its result)."""
        return (time.perf_counter() - self._created) * 1e3

    @property
    def ms(self) -> Dict[str, float]:
        """Stage name -> milliseconds; waits for the stages' end events (call after the step)."""
        out = dict(self._host)
        for name, start, end in self._pairs:
            end.synchronize()
            self._add(out, name, start.elapsed_time(end))
        return out

    @staticmethod
    def _add(into: Dict[str, float], name: str, ms: float) -> None:
        into[name] = into.get(name, 0.0) + ms
