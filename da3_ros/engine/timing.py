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
