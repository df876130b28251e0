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

"""Per-stage wall-clock timing that synchronises CUDA so device work is counted."""
from contextlib import contextmanager
import time
from typing import Dict, Iterator

import torch


class StageTimer:
    """Collects stage durations in milliseconds; synchronises the device around each stage."""

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)
        self.ms: Dict[str, float] = {}

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as stage ``name`` (accumulates on repeats)."""
        self._sync()
        start = time.perf_counter()
        yield
        self._sync()
        self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1e3
