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

r"""Export DA3 for one fixed rig shape: ONNX (onnxruntime, TensorRT) and TensorRT engines.

Usage::

    python -m da3_ros.tools.export onnx --variant da3-small --views 6 --height 280 \
        --width 504 --weights depth-anything/DA3-SMALL [--pose] [--check] da3-small.onnx
    python -m da3_ros.tools.export trt da3-small.onnx da3-small.engine --fp16

``onnx``: input ``images`` float32 [1, S, 3, H, W] (ImageNet-normalised); outputs named as the
model's (``depth``, ``depth_conf``, ``extrinsics`` [1, S, 3, 4], ``intrinsics`` [1, S, 3, 3],
``ray``, ``ray_conf`` for any-view variants; ``depth``, ``sky`` for mono/metric; the nested
model adds ``metric_depth``, ``metric_sky``). ``--pose`` adds ``cond_extrinsics`` [1, S, 4, 4]
and ``cond_intrinsics`` [1, S, 3, 3]. Outputs are raw: sky fill, ray pose and the nested
alignment run after the graph (``da3_ros.model.export.to_prediction``, which the onnxruntime and
tensorrt backends apply). ``--weights parity`` (the default) uses the deterministic parity-rule
placeholder weights. ``--check`` runs the export through onnxruntime on random images, finishes
it as the backends do, and prints the error of every output against the torch fp32 forward.
``trt`` builds an engine with the TensorRT Python API and writes ``<engine>.json`` (shape,
precision, GPU, TensorRT version), which the tensorrt backend checks.
Exit status: 0 done, 1 check failed, 2 invalid arguments or a missing dependency.
"""
import argparse
import hashlib
import json
import sys
from typing import Optional, Sequence

import torch

from da3_ros.config import ModelConfig, placeholder_notice, REF_VIEW_STRATEGIES
from da3_ros.engine.backends import cache
from da3_ros.engine.backends.graph import read_onnx_shape
from da3_ros.engine.predictor import load_network
from da3_ros.errors import Da3Error
from da3_ros.model.export import (check_shape, example_inputs, export_onnx, GraphShape,
                                  input_names, to_prediction)
from da3_ros.model.variants import VARIANT_NAMES

PREDICTION_FIELDS = ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'sky', 'ray', 'ray_conf',
                     'scale_factor')
CHECK_TOLERANCE = 1e-4  # max |ort - torch| / max |torch| per output, fp32 on the CPU


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line of both subcommands."""
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.export', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    onnx = sub.add_parser('onnx', help='export the network for one rig shape to ONNX')
    onnx.add_argument('--variant', required=True, choices=VARIANT_NAMES)
    onnx.add_argument('--views', type=int, required=True, help='S, views per forward')
    onnx.add_argument('--height', type=int, required=True, help='processed H, multiple of 14')
    onnx.add_argument('--width', type=int, required=True, help='processed W, multiple of 14')
    onnx.add_argument('--weights', default='parity',
                      help="checkpoint file, folder or hub id; 'parity' (default): placeholder")
    onnx.add_argument('--pose', action='store_true', help='pose-conditioning inputs')
    onnx.add_argument('--ref-view-strategy', default='saddle_balanced',
                      choices=REF_VIEW_STRATEGIES)
    onnx.add_argument('--check', action='store_true',
                      help='compare onnxruntime with the torch forward on random images')
    onnx.add_argument('out', help='output .onnx file')
    trt = sub.add_parser('trt', help='build a TensorRT engine from an exported ONNX file')
    trt.add_argument('onnx', help='.onnx written by the onnx subcommand')
    trt.add_argument('engine', help='output .engine file (a .json sidecar is written beside it)')
    trt.add_argument('--fp16', action='store_true', help='allow FP16 kernels')
    trt.add_argument('--workspace-gb', type=float, default=4.0)
    return parser.parse_args(argv)


def load_weights(variant: str, weights: str) -> torch.nn.Module:
    """Return the fp32 CPU network of ``variant`` with ``weights``; warn of placeholder words."""
    cfg = ModelConfig(variant=variant, weights=weights, device='cpu', dtype='fp32')
    notice = placeholder_notice(weights)
    if notice:
        sys.stderr.write(f'{variant}: {notice}\n')
    return load_network(cfg)


def onnx_errors(net: torch.nn.Module, shape: GraphShape, path: str, seed: int = 1) -> dict:
    """{output: max |ort - torch| / max |torch|}: finished ORT outputs vs the torch forward."""
    import onnxruntime as ort
    inputs = example_inputs(shape, seed)
    with torch.no_grad():
        expected = net(*inputs, ref_view_strategy=shape.ref_view_strategy)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    arrays = session.run(None, {n: x.numpy() for n, x in zip(input_names(shape), inputs)})
    raw = {o.name: torch.from_numpy(a) for o, a in zip(session.get_outputs(), arrays)}
    with torch.no_grad():
        got = to_prediction(shape, raw)
    errors = {}
    for name in PREDICTION_FIELDS:
        ref = getattr(expected, name)
        if ref is not None:
            diff = (getattr(got, name) - ref).abs().max()
            errors[name] = float(diff / ref.abs().max().clamp(min=1e-30))
    return errors


def run_onnx(args: argparse.Namespace) -> int:
    """Return the ``onnx`` subcommand."""
    shape = check_shape(GraphShape(args.variant, args.views, args.height, args.width, args.pose,
                                   args.ref_view_strategy))
    net = load_weights(args.variant, args.weights)
    export_onnx(net, shape, args.out, {'da3.weights': args.weights})
    report = {'onnx': args.out, **vars(args)}
    status = 0
    if args.check:
        report['max_rel_error'] = onnx_errors(net, shape, args.out)
        status = int(max(report['max_rel_error'].values()) > CHECK_TOLERANCE)
    print(json.dumps(report))
    return status


def run_trt(args: argparse.Namespace) -> int:
    """Return the ``trt`` subcommand."""
    from da3_ros.engine.backends.trt_predictor import build_engine, import_tensorrt, target
    trt = import_tensorrt()
    shape = read_onnx_shape(args.onnx)
    build_engine(args.onnx, args.engine, args.fp16, int(args.workspace_gb * (1 << 30)))
    with open(args.onnx, 'rb') as handle:
        onnx_sha = hashlib.sha256(handle.read()).hexdigest()[:16]
    sidecar = dict(target(trt, 'fp16' if args.fp16 else 'fp32'), variant=shape.variant,
                   views=shape.views, height=shape.height, width=shape.width, pose=shape.pose,
                   ref_view_strategy=shape.ref_view_strategy, onnx_sha256=onnx_sha)
    cache.write_sidecar(args.engine, sidecar)
    print(json.dumps({'engine': args.engine, **sidecar}))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; one line on stderr and exit status 2 for invalid input."""
    args = parse_args(argv)
    try:
        return run_onnx(args) if args.command == 'onnx' else run_trt(args)
    except (Da3Error, ImportError) as exc:
        sys.stderr.write(f'error: {exc}\n')
        return 2


if __name__ == '__main__':
    sys.exit(main())
