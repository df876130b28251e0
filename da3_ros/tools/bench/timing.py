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

"""Timing helpers of the side-by-side benchmark: device and wall medians, memory, ceilings.

``median_cuda_ms`` times device work with CUDA events (forward cases); ``median_wall_ms`` and
``median_pipelined_ms`` time whole steps on the host clock, synchronously and with one step's
copy back in flight; ``soak_memory`` shows whether memory grows over many steps; ``ceilings``
measures the bf16 matmul rate and copy bandwidth the numbers are read against;
``dynamo_counts`` says how many graphs Dynamo compiled and where it broke one (a compiled
forward without graph breaks is one graph per input shape and argument set).
"""
import statistics
import time
from typing import Callable, Dict

import torch


def median_cuda_ms(fn: Callable[[], object], iters: int, warmup: int) -> float:
    """Median device time of ``fn`` in ms (CUDA events around each call)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_wall_ms(fn: Callable[[], object], iters: int, warmup: int) -> float:
    """Median wall time of ``fn`` in ms, synchronised after each call."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        _sync()
        start = time.perf_counter()
        fn()
        _sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def median_pipelined_ms(submit: Callable[[], object], iters: int, warmup: int) -> float:
    """Median wall time per step in ms with one step's copy back in flight, as the node runs.

    Each iteration submits the next step, then waits for the previous one's result (its copies
    to the host overlap the next step's work, as ``ros.rig_pipeline`` does with ``overlap``).
    """
    pending, times = None, []
    for i in range(warmup + iters):
        start = time.perf_counter()
        following = submit()
        if pending is not None:
            pending.result()
        pending = following
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    if pending is not None:
        pending.result()
    return statistics.median(times)


def soak_memory(step: Callable[[], object], steps: int) -> Dict[str, float]:
    """Device memory after warm-up and after ``steps`` more steps (flat means no growth)."""
    for _ in range(50):
        step()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return {'steps': steps, 'allocated_before_mb': before / 2 ** 20,
            'allocated_after_mb': torch.cuda.memory_allocated() / 2 ** 20,
            'peak_mb': torch.cuda.max_memory_allocated() / 2 ** 20}


def ceilings() -> Dict[str, float]:
    """Measured bf16 matmul rate (8192^3) and device-to-device copy bandwidth."""
    a = torch.randn(8192, 8192, device='cuda', dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device='cuda', dtype=torch.bfloat16)
    ms = median_cuda_ms(lambda: a @ b, 10, 3)
    src = torch.randn(2 ** 30 // 4, device='cuda')
    dst = torch.empty_like(src)
    copy_ms = median_cuda_ms(lambda: dst.copy_(src), 10, 3)
    return {'bf16_matmul_tflops': 2 * 8192 ** 3 / ms / 1e9,
            'copy_gb_per_s': 2 * src.numel() * 4 / copy_ms / 1e6}


def dynamo_counts() -> Dict[str, int]:
    """Graphs Dynamo compiled and graph breaks it took so far in this process (cumulative)."""
    from torch._dynamo.utils import counters  # only a compiled run has anything to count
    return {'graphs_compiled': int(counters['stats']['unique_graphs']),
            'graph_breaks': int(sum(counters['graph_break'].values()))}
