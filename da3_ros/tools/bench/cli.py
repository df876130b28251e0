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

r"""Benchmark the engine: per-stage latency, views/s, peak memory, FLOPs and TFLOP/s.

Usage::

    python -m da3_ros.tools.bench --variant da3-large --cameras 6 --window 2 \\
        --resolution 280x504 --precision bf16 --device cuda --iters 20 --json bench_out/bench.json

Weights are placeholders (no checkpoint is needed), with the words of the node, the bag tool
and the demo: ``--weights parity`` (default) the deterministic parity-rule weights,
``random`` PyTorch's initialisation (quicker to build). Progress goes to stderr; the JSON
goes to ``bench_out/`` (ignored by git) unless ``--json`` says otherwise. Images are random
uint8 at the processed resolution, so the resize is a no-op and the forward sees exactly
``cameras x window`` views of that size. On CUDA every stage is timed between
``torch.cuda.synchronize`` calls (the engine's StageTimer); the backbone runs under bf16/fp16
autocast, the heads in fp32; peak memory is ``torch.cuda.max_memory_allocated``.
FLOPs come from one forward under ``torch.utils.flop_counter.FlopCounterMode``.
"""
import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from da3_ros.config import (EngineConfig, ModelConfig, OutputConfig, PARITY_WEIGHTS,
                            PLACEHOLDER_WEIGHTS, WindowConfig)
from da3_ros.engine.engine import Engine
from da3_ros.engine.predictor import build_predictor, TorchPredictor
from da3_ros.engine.types import CameraFrame, ModelInput, RigFrame
from da3_ros.geometry import camera as cam_lib
from da3_ros.tools.bench import side_by_side

STAGES = ('preprocess', 'forward', 'align', 'postprocess', 'transfer', 'total')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.bench', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--variant', default='da3-small')
    parser.add_argument('--cameras', type=int, default=6)
    parser.add_argument('--window', type=int, default=1, help='timesteps per forward')
    parser.add_argument('--resolution', default='280x504', help='HxW, multiples of 14')
    parser.add_argument('--precision', default='bf16', choices=('fp32', 'fp16', 'bf16'))
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--weights', default=PARITY_WEIGHTS, choices=PLACEHOLDER_WEIGHTS)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--compile', action='store_true', help='torch.compile the model')
    parser.add_argument('--no-flops', action='store_true', help='skip the FLOP count')
    parser.add_argument('--json', default='bench_out/bench.json',
                        help='output file ("" to skip; its folder is created)')
    parser.add_argument('--upstream', action='store_true',
                        help='side-by-side run against upstream depth_anything_3 (CUDA only): '
                             'every case of side_by_side.CASES; --precision, --iters, '
                             '--warmup apply')
    parser.add_argument('--head-dtype', default='fp16', choices=('fp16', 'bf16', 'fp32'),
                        help='dtype of the dense heads in the --upstream run')
    parser.add_argument('--no-cuda-graph', action='store_true', help='eager forward')
    parser.add_argument('--with-ray', action='store_true',
                        help='--upstream: also time our forward computing the ray map, as '
                             "upstream's forward does before dropping it (the engine's "
                             'forward, timed always, skips it unless use_ray_pose)')
    parser.add_argument('--pinned-reference', action='store_true',
                        help='--upstream: repeat the accuracy check with the first view as '
                             'the reference of every forward (random views nearly tie in '
                             'the default choice)')
    parser.add_argument('--cases', default='', help='comma-separated case names (--upstream)')
    parser.add_argument('--soak', type=int, default=0,
                        help='extra steps of the small step case to check flat memory')
    return parser.parse_args(argv)


def _resolution(text: str) -> tuple:
    height, width = (int(v) for v in text.lower().split('x'))
    if height % 14 or width % 14:
        raise SystemExit(f'--resolution {text!r}: both sides must be multiples of 14')
    return height, width


def _frames(count: int, cameras: int, hw: tuple, seed: int = 0) -> List[RigFrame]:
    """Random uint8 rig frames with pinhole intrinsics, no extrinsics (predicted poses)."""
    rng = np.random.default_rng(seed)
    k = cam_lib.intrinsics_matrix(hw[1] * 0.8, hw[1] * 0.8, hw[1] / 2 - 0.5, hw[0] / 2 - 0.5)
    images = [rng.integers(0, 256, size=hw + (3,), dtype=np.uint8) for _ in range(cameras)]
    return [RigFrame(stamp=0.1 * i, cameras=tuple(
        CameraFrame(name=f'cam{c}', image=images[(c + i) % cameras], k=k)
        for c in range(cameras))) for i in range(count)]


def build(args: argparse.Namespace) -> Engine:
    """Engine for the benchmark configuration."""
    hw = _resolution(args.resolution)
    model_cfg = ModelConfig(variant=args.variant, weights=args.weights, device=args.device,
                            dtype=args.precision, process_res=max(hw), compile=args.compile)
    cfg = EngineConfig(model=model_cfg,
                       window=WindowConfig(length=args.window,
                                           max_views=args.window * args.cameras),
                       output=OutputConfig(resolution='processed'))
    return Engine(cfg, build_predictor(model_cfg))


def count_flops(predictor: TorchPredictor, views: int, hw: tuple) -> int:
    """Count the FLOPs of one forward over ``views`` views (FlopCounterMode, all ops it knows)."""
    images = torch.randn(views, 3, *hw, device=predictor.device)
    with FlopCounterMode(display=False) as counter:
        predictor.predict(ModelInput(images=images))
    return int(counter.get_total_flops())


def _percentiles(values: List[float]) -> Dict[str, float]:
    return {'p50': float(np.percentile(values, 50)), 'p90': float(np.percentile(values, 90))}


def run(args: argparse.Namespace) -> Dict[str, object]:
    """Run the benchmark; return the JSON-ready report."""
    hw = _resolution(args.resolution)
    _progress(f'building {args.variant} ({args.weights} weights) on {args.device}')
    engine = build(args)
    cuda = engine.device.type == 'cuda'
    frames = _frames(args.warmup + args.iters + args.window, args.cameras, hw)
    timings: Dict[str, List[float]] = {stage: [] for stage in STAGES}
    for i, frame in enumerate(frames):
        if cuda and i == args.warmup + args.window - 1:
            torch.cuda.reset_peak_memory_stats(engine.device)
        _progress(f'step {i + 1}/{len(frames)}', end='\r')
        result = engine.step(frame)
        if i >= args.warmup + args.window and result is not None:
            for stage in STAGES:
                timings[stage].append(result.timings.get(stage, 0.0))
    views = args.cameras * args.window
    report = {'variant': args.variant, 'cameras': args.cameras, 'window': args.window,
              'views': views, 'resolution': list(hw), 'precision': args.precision,
              'device': str(engine.device), 'compile': args.compile, 'iters': args.iters,
              'latency_ms': {s: _percentiles(v) for s, v in timings.items() if v}}
    total_p50 = report['latency_ms']['total']['p50']
    report['views_per_s'] = views / (total_p50 / 1e3)
    report['peak_memory_bytes'] = int(torch.cuda.max_memory_allocated(engine.device)) \
        if cuda else None
    if not args.no_flops:
        _progress('\ncounting FLOPs (one more forward)')
        flops = count_flops(engine.predictor, views, hw)
        report['flops'] = flops
        report['forward_tflops_per_s'] = flops / (report['latency_ms']['forward']['p50'] / 1e3)
        report['forward_tflops_per_s'] /= 1e12
    return report


def _progress(text: str, end: str = '\n') -> None:
    sys.stderr.write(text + end)
    sys.stderr.flush()


def table(report: Dict[str, object]) -> str:
    """Human-readable summary of a report."""
    lines = [f"{report['variant']} {report['views']} views ({report['cameras']} cams x "
             f"{report['window']}) {report['resolution'][0]}x{report['resolution'][1]} "
             f"{report['precision']} on {report['device']}",
             f"{'stage':<12}{'p50 ms':>10}{'p90 ms':>10}"]
    for stage, pct in report['latency_ms'].items():
        lines.append(f"{stage:<12}{pct['p50']:>10.2f}{pct['p90']:>10.2f}")
    lines.append(f"views/s {report['views_per_s']:.1f}")
    if report.get('peak_memory_bytes') is not None:
        lines.append(f"peak memory {report['peak_memory_bytes'] / 2 ** 30:.2f} GiB")
    if 'flops' in report:
        lines.append(f"forward {report['flops'] / 1e12:.3f} TFLOP, "
                     f"{report['forward_tflops_per_s']:.2f} TFLOP/s")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.upstream:
        def save(report: Dict[str, object]) -> None:
            if args.json:
                os.makedirs(os.path.dirname(args.json) or '.', exist_ok=True)
                with open(args.json, 'w') as handle:
                    json.dump(report, handle, indent=2)
        report = side_by_side.run(args.precision, args.head_dtype, not args.no_cuda_graph,
                                  args.iters, args.warmup,
                                  [c for c in args.cases.split(',') if c], args.soak,
                                  log=lambda line: print(line, flush=True),
                                  compile_model=args.compile, with_ray=args.with_ray,
                                  save=save, pinned_reference=args.pinned_reference)
        save(report)
        return 0
    report = run(args)
    sys.stdout.write(table(report) + '\n')
    if args.json:
        os.makedirs(os.path.dirname(args.json) or '.', exist_ok=True)
        with open(args.json, 'w') as handle:
            json.dump(report, handle, indent=2)
        _progress(f'wrote {args.json}')
    return 0
