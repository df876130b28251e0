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

"""GPU check of the Gaussian branch: gsplat vs the reference rasterizer, timings, memory.

Usage (repo root, CUDA torch, gsplat==1.5.3 installed, da3_ros importable):
    OUT=/some/dir python scripts/gpu_gs_check.py [--quick]

1. Imports gsplat and compiles its kernels once (timed).
2. Renders the same Gaussians into the same cameras with both backends and reports the per-pixel
   max / mean absolute error of colour, expected depth and alpha: a seeded synthetic scene, and the
   Gaussians of da3-giant (parity-rule weights) on the input of the committed GS parity fixture,
   rendered into its own predicted cameras.
3. Times gsplat for 6 views of 280x504 with ~200k Gaussians (CUDA events, median).
4. Times the giant forward (bf16 backbone, random weights) without and with the Gaussian branch,
   for 6 views of 280x504, and the peak memory of giant + Gaussians at the preset rig sizes.
Prints a table and writes gpu_gs_check.json to $OUT (default: the current directory).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from da3_ros.model import build_model
from da3_ros.model.gaussians import Gaussians
from da3_ros.render import render, RenderCameras
from da3_ros.tools.bench.side_by_side import median_cuda_ms

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, 'test', 'data', 'parity_gs', 'da3-giant_s2_gs_70x98.npz')
PRESETS = {'mono 1x1': 1, 'stereo 2x2': 4, 'multi_cam 6x1': 6, 'multi_cam 6x3': 18}


def ring_cameras(views: int, height: int, width: int, device) -> RenderCameras:
    """Cameras on a 1 m ring looking outwards, 70 deg horizontal field of view."""
    mats = []
    for v in range(views):
        yaw = 2 * np.pi * v / views
        c2w = np.eye(4)
        c2w[:3, :3] = [[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]]
        c2w[:3, 3] = c2w[:3, 2] * 0.1
        mats.append(np.linalg.inv(c2w))
    focal = width / 2 / np.tan(np.radians(35))
    k = torch.tensor([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]],
                     dtype=torch.float32)
    return RenderCameras(torch.tensor(np.stack(mats), dtype=torch.float32, device=device),
                         k.expand(views, 3, 3).clone().to(device), width, height)


def synthetic_gaussians(count: int, device, seed: int = 0) -> Gaussians:
    """Seeded Gaussians around the ring, 2-30 m away, SH degree 2."""
    gen = torch.Generator().manual_seed(seed)
    direction = torch.nn.functional.normalize(torch.randn(count, 3, generator=gen), dim=-1)
    direction[:, 1] *= 0.3
    means = direction * (2 + 28 * torch.rand(count, 1, generator=gen))
    scales = torch.exp(torch.empty(count, 3).uniform_(-4.5, -1.0, generator=gen))
    quats = torch.nn.functional.normalize(torch.randn(count, 4, generator=gen), dim=-1)
    harmonics = torch.randn(count, 3, 9, generator=gen) * torch.tensor(
        [1.0] + [0.1] * 3 + [0.05] * 5)
    opacities = torch.rand(count, generator=gen) * 0.9 + 0.05
    return Gaussians(*(t[None].to(device) for t in (means, scales, quats, harmonics, opacities)))


def compare(gs: Gaussians, cams: RenderCameras) -> dict:
    """Per-pixel errors between the gsplat and reference renders."""
    fast = render(gs, cams, 'gsplat')
    ref = render(gs, cams, 'reference')
    out = {'views': cams.viewmats.shape[0], 'hw': [cams.height, cams.width],
           'gaussians': gs.means.shape[1]}
    for name in ('colour', 'depth', 'alpha'):
        diff = (getattr(fast, name) - getattr(ref, name)).abs()
        out[name] = {'max_abs': float(diff.max()), 'mean_abs': float(diff.mean()),
                     'p999_abs': float(diff.flatten().float().quantile(0.999)
                                       if diff.numel() < 2 ** 24 else diff.max()),
                     'ref_max': float(getattr(ref, name).abs().max())}
    return out


def fixture_gaussians(device):
    """da3-giant (rule weights) Gaussians + predicted cameras on the fixture's input."""
    from da3_ros.model.weights import load_state_dict_strict
    from da3_ros.model.weight_rule import rule_state_dict
    data = np.load(FIXTURE)
    with torch.device('meta'):
        model = build_model('da3-giant')
    load_state_dict_strict(model, rule_state_dict('da3-giant'))
    model = model.to(device).eval()
    images = torch.as_tensor(data['in_images'], device=device)
    with torch.inference_mode():
        pred = model(images, gaussians=True)
    del model
    torch.cuda.empty_cache()
    w2c = torch.eye(4, device=device).repeat(images.shape[1], 1, 1)
    w2c[:, :3] = pred.extrinsics[0]
    cams = RenderCameras(w2c, pred.intrinsics[0], images.shape[-1], images.shape[-2])
    return pred.gaussians, cams


def gsplat_timings(iters: int) -> dict:
    """Milliseconds of gsplat for 200k Gaussians into 6 and into 1 camera(s) of 280x504."""
    big = synthetic_gaussians(200_000, 'cuda', seed=1)
    out = {}
    for views in (6, 1):
        cams = ring_cameras(views, 280, 504, 'cuda')
        out[f'gsplat_{views}x280x504_200k_ms'] = median_cuda_ms(
            lambda cams=cams: render(big, cams, 'gsplat'), iters, 3)
    return out


def forward_costs(views_list, height, width, iters) -> dict:
    """Giant forward ms and peak GiB without/with Gaussians (bf16 backbone, random weights)."""
    with torch.device('cuda'):
        model = build_model('da3-giant').eval()
    out = {}
    for label, views in views_list:
        images = torch.randn(1, views, 3, height, width, device='cuda')
        row = {'views': views}
        for gs in (False, True):
            def step(gs=gs, images=images):
                with torch.inference_mode(), torch.autocast('cuda', dtype=torch.bfloat16):
                    return model(images, gaussians=gs)
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            key = 'gaussians' if gs else 'plain'
            row[f'{key}_ms'] = median_cuda_ms(step, iters, warmup=2)
            row[f'{key}_peak_gib'] = torch.cuda.max_memory_allocated() / 2 ** 30
        row['gaussian_branch_ms'] = row['gaussians_ms'] - row['plain_ms']
        out[label] = row
        torch.cuda.empty_cache()
    return out


def main(argv=None) -> int:
    """Run every check; print a table; write JSON to $OUT."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='fewer iterations, no 6x3 preset')
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print('CUDA is not available: this check needs a GPU', file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    iters = 5 if args.quick else 20
    report = {'device': torch.cuda.get_device_name(), 'torch': torch.__version__}
    start = time.perf_counter()
    import gsplat
    from gsplat.cuda import _backend  # importing it builds (first time) or loads the kernels
    report['gsplat'] = {'version': gsplat.__version__, 'kernels_loaded': _backend._C is not None,
                        'import_and_compile_s': time.perf_counter() - start}

    cams = ring_cameras(2, 140, 252, 'cuda')
    report['agree_synthetic'] = compare(synthetic_gaussians(20000, 'cuda'), cams)
    if os.path.isfile(FIXTURE):
        gs, fixture_cams = fixture_gaussians('cuda')
        report['agree_giant_fixture'] = compare(gs, fixture_cams)

    report.update(gsplat_timings(iters))
    torch.cuda.empty_cache()

    presets = [(k, v) for k, v in PRESETS.items() if not (args.quick and v > 6)]
    report['giant_280x504_bf16'] = forward_costs(presets, 280, 504, max(3, iters // 4))
    print_table(report)
    out_dir = os.environ.get('OUT', '.')
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'gpu_gs_check.json'), 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=1)
    return 0


def print_table(report: dict) -> None:
    """Human-readable summary of the report."""
    info = report['gsplat']
    print(f"device {report['device']}, torch {report['torch']}, gsplat {info['version']}"
          f" (import+compile {info['import_and_compile_s']:.1f} s)")
    for key in ('agree_synthetic', 'agree_giant_fixture'):
        if key not in report:
            continue
        row = report[key]
        print(f"{key}: {row['views']} views {row['hw']}, {row['gaussians']} Gaussians")
        for name in ('colour', 'depth', 'alpha'):
            err = row[name]
            print(f"  {name:7s} max |d| {err['max_abs']:.3e}  mean |d| {err['mean_abs']:.3e}"
                  f"  p99.9 {err['p999_abs']:.3e}  (ref max {err['ref_max']:.3g})")
    print(f"gsplat 200k Gaussians: 6 x 280x504 {report['gsplat_6x280x504_200k_ms']:.2f} ms,"
          f" 1 x 280x504 {report['gsplat_1x280x504_200k_ms']:.2f} ms")
    print('giant bf16 280x504: preset, views, plain ms, +gaussians ms, branch ms, peak GiB')
    for label, row in report['giant_280x504_bf16'].items():
        print(f"  {label:14s} {row['views']:3d} {row['plain_ms']:9.1f} {row['gaussians_ms']:9.1f}"
              f" {row['gaussian_branch_ms']:8.1f}  {row['plain_peak_gib']:.2f} ->"
              f" {row['gaussians_peak_gib']:.2f}")


if __name__ == '__main__':
    sys.exit(main())
