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

r"""``make trt-check``: build a TensorRT engine and compare it with the torch backend.

Usage::

    python -m da3_ros.tools.trt_check [--variant da3-small] [--views 2] [--height 280] \
        [--width 504] [--precision fp16] [--iters 20] [--cache-dir DIR] [--json OUT.json]

Both backends load the deterministic parity-rule weights of ``--variant`` and run the same
random window on the GPU: torch in fp32, TensorRT at ``--precision`` (the engine is exported and
built through the tensorrt backend's cache, so this also checks the cache and the backend).
Prints the error of every output against torch (max abs, max relative to max |torch|, median
element-wise relative for depth) and the median latency of both. Exit status: 0 within
tolerance, 1 outside it, 2 where TensorRT (>= 10.14) or CUDA is missing - nothing is run then.
"""
import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from typing import Dict, Optional, Sequence

import torch

from da3_ros.config import ModelConfig
from da3_ros.engine.predictor import build_predictor
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model.weight_rule import rule_state_dict

FIELDS = ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'sky', 'ray', 'ray_conf',
          'scale_factor')
# Limits on the depth error against torch fp32: (max relative, median element-wise relative).
LIMITS = {'fp32': (1e-3, 1e-4), 'fp16': (5e-2, 1e-2)}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.trt_check',
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--variant', default='da3-small')
    parser.add_argument('--views', type=int, default=2)
    parser.add_argument('--height', type=int, default=280)
    parser.add_argument('--width', type=int, default=504)
    parser.add_argument('--precision', default='fp16', choices=tuple(LIMITS))
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--cache-dir', default='', help='engine cache (default: a temp folder)')
    parser.add_argument('--json', default='', help='also write the report here')
    return parser.parse_args(argv)


def latency_ms(predictor, inputs: ModelInput, iters: int) -> float:
    """Median wall time of one predict in ms (CUDA synchronised)."""
    times = []
    for _ in range(iters):
        torch.cuda.synchronize()
        start = time.perf_counter()
        predictor.predict(inputs)
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def errors(got, want) -> Dict[str, dict]:
    """Per output: max_abs, max_rel (/ max |want|); depth also median element-wise rel."""
    out = {}
    for name in FIELDS:
        ref = getattr(want, name)
        if ref is None:
            continue
        diff = (getattr(got, name).float() - ref.float()).abs()
        out[name] = {'max_abs': float(diff.max()),
                     'max_rel': float(diff.max() / ref.abs().max().clamp(min=1e-30))}
        if name == 'depth':
            out[name]['median_rel'] = float((diff / ref.abs().clamp(min=1e-12)).median())
    return out


def run(args: argparse.Namespace, cache_dir: str) -> dict:
    """Build both predictors, compare one window, time both."""
    reference_cfg = ModelConfig(variant=args.variant, weights='random', device='cuda',
                                dtype='fp32')
    trt_cfg = dataclasses.replace(reference_cfg, backend='tensorrt', dtype=args.precision,
                                  cache_dir=cache_dir)
    state = rule_state_dict(args.variant)
    reference = build_predictor(reference_cfg, state)
    backend = build_predictor(trt_cfg, state)
    gen = torch.Generator().manual_seed(0)
    inputs = ModelInput(torch.randn(args.views, 3, args.height, args.width,
                                    generator=gen).cuda())
    start = time.perf_counter()
    got = backend.predict(inputs)
    build_s = time.perf_counter() - start
    want = reference.predict(inputs)
    return {'variant': args.variant, 'views': args.views, 'hw': [args.height, args.width],
            'precision': args.precision, 'gpu': torch.cuda.get_device_name(),
            'tensorrt': backend.trt.__version__, 'export_and_build_s': build_s,
            'errors': errors(got, want),
            'latency_ms': {'torch_fp32': latency_ms(reference, inputs, args.iters),
                           'tensorrt': latency_ms(backend, inputs, args.iters)}}


def table(report: dict) -> str:
    """Human-readable summary."""
    lines = [f"{report['variant']} S={report['views']} {report['hw'][0]}x{report['hw'][1]} "
             f"TensorRT {report['tensorrt']} {report['precision']} on {report['gpu']}",
             f"{'output':12s} {'max_abs':>10s} {'max_rel':>10s} {'median_rel':>10s}"]
    for name, err in report['errors'].items():
        median = f"{err['median_rel']:10.2e}" if 'median_rel' in err else ' ' * 10
        lines.append(f"{name:12s} {err['max_abs']:10.2e} {err['max_rel']:10.2e} {median}")
    lat = report['latency_ms']
    lines.append(f"latency ms (median): torch fp32 {lat['torch_fp32']:.2f}, "
                 f"tensorrt {lat['tensorrt']:.2f}; "
                 f"export + build {report['export_and_build_s']:.0f} s")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point (exit status in the module docstring)."""
    args = parse_args(argv)
    from da3_ros.engine.backends.trt_predictor import import_tensorrt
    try:
        import_tensorrt()
    except ConfigError as exc:
        sys.stderr.write(f'trt-check: NOT RUN: {exc}\n')
        return 2
    if not torch.cuda.is_available():
        sys.stderr.write('trt-check: NOT RUN: this torch has no CUDA device\n')
        return 2
    with tempfile.TemporaryDirectory(prefix='da3_trt_') as tmp:
        report = run(args, args.cache_dir or tmp)
    print(table(report))
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(report, handle, indent=2)
    max_rel, median_rel = LIMITS[args.precision]
    depth = report['errors']['depth']
    ok = depth['max_rel'] <= max_rel and depth['median_rel'] <= median_rel
    print('PASS' if ok else f'FAIL: depth error above (max_rel {max_rel}, median {median_rel})')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
