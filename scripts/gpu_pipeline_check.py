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

"""GPU check of the pipeline around the forward (issue 16): JPEG decode, requested outputs, copies.

Run on a CUDA machine from the repository root (no network, random weights)::

    OUT=/tmp/out python scripts/gpu_pipeline_check.py [--variant da3-small] [--iters 20]

Prints a table and writes ``$OUT/gpu_pipeline_check.json``:

- decode: six 1600x900 JPEGs (quality 90) with Pillow on the CPU and with the engine's
  ``ImageDecoder`` on CUDA (nvJPEG through torchvision when importable), p50 ms and the largest
  and mean absolute difference to Pillow;
- copies: ``HostTransfer`` (pinned, asynchronous) against ``to_host`` on real step outputs
  (must be identical);
- step: ``Engine.step`` p50 (and its transfer stage) with uint8 arrays, with JPEG bytes
  (GPU decode in the step), and with only one camera's depth requested.
"""
import argparse
import io
import json
import os
import time

import numpy as np
from PIL import Image
import torch

from da3_ros.config import EngineConfig, ModelConfig, WindowConfig
from da3_ros.engine.decode import decode_cpu, EncodedImage, ImageDecoder
from da3_ros.engine.engine import Engine
from da3_ros.engine.outputs import ALL, OutputRequest
from da3_ros.engine.postprocess import to_host
from da3_ros.engine.predictor import build_predictor
from da3_ros.engine.transfer import HostTransfer
from da3_ros.engine.types import CameraFrame, RigFrame
from da3_ros.geometry import camera as cam_lib

HW = (900, 1600)


def _images(cameras):
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:HW[0], 0:HW[1]]
    out = []
    for c in range(cameras):
        base = np.dstack([(cols + 40 * c) % 256, rows * 255 // HW[0], (rows + cols) % 256])
        out.append(np.clip(base + rng.integers(-12, 13, base.shape), 0, 255).astype(np.uint8))
    return out


def _jpeg(rgb):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format='JPEG', quality=90)
    return EncodedImage.inspect(buffer.getvalue())


def _p50(fn, iters, sync=True):
    sync = sync and torch.cuda.is_available()
    times = []
    for _ in range(iters):
        if sync:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if sync:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def check_decode(jpegs, iters, device):
    decoder = ImageDecoder(device)
    cpu = [decode_cpu(j) for j in jpegs]
    report = {'torchvision': decoder.gpu is not None,
              'pillow_ms': _p50(lambda: [decode_cpu(j) for j in jpegs], iters, sync=False)}
    decoder.decode(jpegs)  # warm-up (nvJPEG handles)
    report['engine_decoder_ms'] = _p50(lambda: decoder.decode(jpegs), iters)
    gpu = [np.asarray(d.cpu()) if isinstance(d, torch.Tensor) else d
           for d in decoder.decode(jpegs)]
    diffs = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(gpu, cpu)]
    report['max_abs_diff'] = int(max(d.max() for d in diffs))
    report['mean_abs_diff'] = float(np.mean([d.mean() for d in diffs]))
    report['on_device'] = all(isinstance(d, torch.Tensor) and d.is_cuda
                              for d in decoder.decode(jpegs))
    report['decoder'] = 'pillow' if decoder.gpu is None else 'nvjpeg (torchvision)'
    return report


def check_step(args, images, jpegs):
    k = cam_lib.intrinsics_matrix(1000.0, 1000.0, HW[1] / 2, HW[0] / 2)
    model = ModelConfig(variant=args.variant, weights='random', device=args.device,
                        dtype='bf16', process_res=504)
    cfg = EngineConfig(model=model, window=WindowConfig(length=1))
    predictor = build_predictor(model)
    report = {}

    def frames(use_jpeg):
        source = jpegs if use_jpeg else images
        return [RigFrame(0.1 * (i + 1), tuple(
            CameraFrame(f'cam{c}', source[c], k=k) for c in range(len(images))))
            for i in range(args.iters + 3)]

    cases = {'arrays_all': (False, ALL), 'jpeg_all': (True, ALL),
             'arrays_one_depth': (False, OutputRequest.per_camera({'cam0': ['depth']}, False))}
    for name, (use_jpeg, request) in cases.items():
        engine = Engine(cfg, predictor)
        totals, transfers = [], []
        for i, frame in enumerate(frames(use_jpeg)):
            result = engine.step(frame, request)
            if i >= 3 or args.iters < 3:
                totals.append(result.timings['total'])
                transfers.append(result.timings['transfer'])
        report[name] = {'total_ms': float(np.median(totals)),
                        'transfer_ms': float(np.median(transfers)),
                        'preprocess_ms': result.timings['preprocess']}
    engine = Engine(cfg, predictor)
    pending = engine.submit(frames(False)[0])
    tensors = pending._parts.tensors
    pinned = HostTransfer(args.device, staged=True)(tensors)
    plain = to_host(tensors)
    report['pinned_equals_to_host'] = all(
        a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == 'f')
        for a, b in zip(pinned, plain))
    report['pinned_is_pinned'] = HostTransfer(args.device).allocate((4,),
                                                                    torch.float32).is_pinned()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--variant', default='da3-small')
    parser.add_argument('--cameras', type=int, default=6)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--device', default='cuda', help='cpu: a smoke test of the script only')
    args = parser.parse_args()
    images = _images(args.cameras)
    jpegs = [_jpeg(rgb) for rgb in images]
    gpu = torch.cuda.get_device_name() if args.device.startswith('cuda') else 'none (cpu)'
    report = {'gpu': gpu, 'torch': torch.__version__,
              'variant': args.variant, 'cameras': args.cameras, 'hw': list(HW),
              'decode': check_decode(jpegs, args.iters, args.device),
              'step': check_step(args, images, jpegs)}
    print(json.dumps(report, indent=2))
    out = os.environ.get('OUT', '.')
    with open(os.path.join(out, 'gpu_pipeline_check.json'), 'w') as handle:
        json.dump(report, handle, indent=2)


if __name__ == '__main__':
    main()
