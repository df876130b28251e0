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

"""Profile one DA3 forward on CUDA: top kernels by device time (benchmark notes, not a test).

Usage: python3 scripts/gpu_profile.py [variant] [views] [height] [width] [head_dtype] [--compile]
Prints the 20 most expensive CUDA ops of one bf16 forward (random weights: speed does not depend
on the values), eager or compiled (``--compile``: inductor, static shapes, no CUDA graph so that
the kernels show), and the device time summed by kernel kind (matmul, attention, convolution,
fused inductor kernels, other), which says what bounds the forward.
"""
import sys
from typing import Dict

import torch
from torch.profiler import profile, ProfilerActivity

from da3_ros.engine.predictor import TorchPredictor
from da3_ros.engine.types import ModelInput
from da3_ros.model import build_model

KINDS = (('attention', ('sdpa', 'flash', 'attention', 'fmha')),
         ('convolution', ('conv', 'fprop', 'implicit_gemm', 'dgrad', 'cudnn')),
         ('matmul', ('nvjet', 'gemm', 'cutlass', 'sm90_xmma', 'ampere_', 'cublas')),
         ('inductor fused', ('triton_',)),
         )


def kernel_kind(name: str) -> str:
    """Kind of a CUDA kernel by its name (first matching kind of ``KINDS``)."""
    low = name.lower()
    for kind, marks in KINDS:
        if any(mark in low for mark in marks):
            return kind
    return 'other'


def by_kind(prof) -> Dict[str, float]:
    """Device milliseconds and kernel counts per kind over the profiled events."""
    totals: Dict[str, float] = {}
    for evt in prof.events():
        if evt.device_type.name != 'CUDA':
            continue
        kind = kernel_kind(evt.name)
        totals[kind] = totals.get(kind, 0.0) + evt.device_time / 1e3
        totals[kind + ' (kernels)'] = totals.get(kind + ' (kernels)', 0) + 1
    return totals


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    compiled = '--compile' in sys.argv
    variant = args[0] if args else 'da3-large'
    views, height, width = (int(v) for v in (args[1:4] or (12, 280, 504)))
    head = args[4] if len(args) > 4 else 'bf16'
    predictor = TorchPredictor(build_model(variant), device='cuda', dtype='bf16',
                               head_dtype=head, compile_model=compiled)
    images = torch.randn(views, 3, height, width, device='cuda')
    for _ in range(3):
        predictor.predict(ModelInput(images=images))
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        predictor.predict(ModelInput(images=images))
        torch.cuda.synchronize()
    mode = 'compiled' if compiled else 'eager'
    print(f'== {variant} {views}v {height}x{width} heads {head} {mode}')
    print(prof.key_averages().table(sort_by='self_cuda_time_total', row_limit=25,
                                    max_name_column_width=70))
    for kind, value in sorted(by_kind(prof).items()):
        print(f'{kind:<28} {value:10.3f}')


if __name__ == '__main__':
    main()
