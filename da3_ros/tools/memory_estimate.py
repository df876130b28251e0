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

r"""Estimate which DA3 variants fit which Jetson Orin memory, at which resolution and window.

Usage::

    python -m da3_ros.tools.memory_estimate [--precision fp16] [--markdown]

An ESTIMATE, not a measurement: Orin memory is shared by CPU and GPU, so the budget is
``USABLE_SHARE`` of the module's memory minus ``RUNTIME_OVERHEAD_GB`` (CUDA context, TensorRT /
cuDNN libraries, the ROS node and its image queues). The model needs

* weights: exact parameter count (our network, built on the meta device) x bytes per value;
* backbone activations: S x (1 + N) tokens (N = H/14 x W/14 patches) x ``TOKEN_WIDTHS`` x C
  values live at once (residual, norm, qkv, attention output, MLP hidden); with fused attention
  (flash / TensorRT MHA fusion) nothing else, unfused also the heads x L x L scores of a global
  block (L = S x (1 + N); mono/metric: S such matrices with L = 1 + N);
* head activations: the views of one head pass (DualDPT: ``FRAMES_PER_CHUNK`` = 8 at a time;
  DPT: all) at full resolution with ``features + 64`` channels (the output convolutions).
The nested model holds both networks (giant + metric large) and runs them one after the other.
"""
import argparse
from typing import Dict, Sequence, Tuple

import torch

from da3_ros.model import build_model
from da3_ros.model.dualdpt import FRAMES_PER_CHUNK
from da3_ros.model.layers.patch_embed import PATCH_SIZE
from da3_ros.model.variants import NESTED, variant_spec, VARIANTS

ORIN_MEMORY_GB = (8, 16, 32, 64)
USABLE_SHARE = 0.75
RUNTIME_OVERHEAD_GB = 1.5
TOKEN_WIDTHS = 10  # x C values per token alive in one block (see the module docstring)
BYTES = {'fp16': 2, 'fp32': 4}
RESOLUTIONS = ((280, 504), (378, 672), (504, 896))  # 16:9 cameras at process_res 504/672/896
VIEWS = (1, 2, 3, 6, 12, 18, 24)
GB = 1024 ** 3


def parameter_count(variant: str) -> int:
    """Exact parameter count of our network for ``variant`` (nested: both networks)."""
    with torch.device('meta'):
        model = build_model(variant)
    return sum(p.numel() for p in model.parameters())


def _networks(variant: str) -> Tuple[str, ...]:
    return NESTED.get(variant, (variant,))


def activation_bytes(variant: str, views: int, height: int, width: int, precision: str,
                     fused: bool = True) -> int:
    """Peak activation estimate of one forward (largest of the networks run in turn)."""
    size = BYTES[precision]
    tokens = views * (1 + (height // PATCH_SIZE) * (width // PATCH_SIZE))
    peak = 0
    for name in _networks(variant):
        spec = variant_spec(name)
        backbone = tokens * TOKEN_WIDTHS * spec.backbone.embed_dim * size
        if not fused:  # the largest score matrix: one global block, or per view without them
            length = tokens if spec.backbone.alt_start != -1 else tokens // views
            backbone += spec.backbone.num_heads * length * length * size * (tokens // length)
        frames = min(views, FRAMES_PER_CHUNK) if spec.head.kind == 'dualdpt' else views
        head = frames * height * width * (spec.head.features + 64) * size
        peak = max(peak, backbone + head)
    return peak


def required_gb(variant: str, views: int, height: int, width: int, precision: str,
                params: int, fused: bool = True) -> float:
    """Weights + activations in GB (the runtime overhead is on the budget side)."""
    weights = params * BYTES[precision]
    return (weights + activation_bytes(variant, views, height, width, precision, fused)) / GB


def budget_gb(memory_gb: float) -> float:
    """Memory left to the model on an Orin with ``memory_gb``."""
    return memory_gb * USABLE_SHARE - RUNTIME_OVERHEAD_GB


def max_views(variant: str, height: int, width: int, memory_gb: float, precision: str,
              params: int, fused: bool = True, candidates: Sequence[int] = VIEWS) -> int:
    """Largest S in ``candidates`` that fits ``memory_gb`` (0: not even one view)."""
    budget = budget_gb(memory_gb)
    fits = [s for s in candidates
            if required_gb(variant, s, height, width, precision, params, fused) <= budget]
    return max(fits, default=0)


def table(precision: str = 'fp16'
          ) -> Dict[Tuple[str, Tuple[int, int]], Dict[int, Tuple[int, int]]]:
    """{(variant, (H, W)): {Orin GB: (max views fused, unfused)}} for every variant."""
    out = {}
    for variant in tuple(VARIANTS) + tuple(NESTED):
        params = parameter_count(variant)
        for hw in RESOLUTIONS:
            out[(variant, hw)] = {
                mem: tuple(max_views(variant, *hw, mem, precision, params, fused)
                           for fused in (True, False)) for mem in ORIN_MEMORY_GB}
    return out


def _cell(views: int) -> str:
    if views == 0:
        return '-'
    return f'>={views}' if views == VIEWS[-1] else str(views)


def markdown(precision: str = 'fp16') -> str:
    """Markdown table; cell = largest window S that fits, fused / unfused attention."""
    head = '| variant | params | H x W | ' + ' | '.join(f'Orin {m} GB' for m in ORIN_MEMORY_GB)
    lines = [head + ' |', '|' + ' --- |' * (3 + len(ORIN_MEMORY_GB))]
    counts = {}
    for (variant, hw), cells in table(precision).items():
        params = counts.setdefault(variant, parameter_count(variant))
        row = [variant, f'{params / 1e6:.0f} M', f'{hw[0]} x {hw[1]}']
        row += [' / '.join(_cell(v) for v in cells[m]) for m in ORIN_MEMORY_GB]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv: Sequence[str] = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.memory_estimate',
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--precision', default='fp16', choices=tuple(BYTES))
    args = parser.parse_args(argv)
    print(markdown(args.precision))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
