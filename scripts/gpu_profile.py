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

Usage: python3 scripts/gpu_profile.py [variant] [views] [height] [width] [head_dtype]
Prints the 20 most expensive CUDA ops of one eager bf16 forward (random weights: speed does not
depend on the values) and the time split between backbone and heads.
"""
import sys

import torch
from torch.profiler import profile, ProfilerActivity

from da3_ros.engine.predictor import TorchPredictor
from da3_ros.engine.types import ModelInput
from da3_ros.model import build_model


def main() -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else 'da3-large'
    views, height, width = (int(v) for v in (sys.argv[2:5] or (12, 280, 504)))
    head = sys.argv[5] if len(sys.argv) > 5 else 'bf16'
    predictor = TorchPredictor(build_model(variant), device='cuda', dtype='bf16',
                               head_dtype=head)
    images = torch.randn(views, 3, height, width, device='cuda')
    for _ in range(3):
        predictor.predict(ModelInput(images=images))
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        predictor.predict(ModelInput(images=images))
        torch.cuda.synchronize()
    print(f'== {variant} {views}v {height}x{width} heads {head}')
    print(prof.key_averages().table(sort_by='cuda_time_total', row_limit=20,
                                    max_name_column_width=60))
    print(prof.key_averages(group_by_input_shape=True).table(
        sort_by='self_cuda_time_total', row_limit=25, max_name_column_width=40,
        max_shapes_column_width=90))


if __name__ == '__main__':
    main()
