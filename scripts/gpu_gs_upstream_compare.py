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

"""Side-by-side of our Gaussian branch and upstream DA3 on inputs the fixtures do not cover.

Usage (repo root, CUDA torch; upstream ``depth-anything-3`` with ``e3nn`` and ``evo`` importable,
used here only as the reference being compared against):
    OUT=/some/dir python scripts/gpu_gs_upstream_compare.py [--device cuda] [--scale 3]

Both networks get the same parity-rule weights (base seed 0x5EED) and the same seeded inputs:
other view counts and image sizes than the fixtures, a different image seed, and one case with
given poses (which exercises the pose-conditioned scale of the Gaussians). Each Gaussian field is
compared with the project's parity rules (sign-invariant quaternions, per-band SH) in float32
with TF32 off; ``--scale`` multiplies the tolerances (larger inputs accumulate more rounding).
Prints one line per field and writes gpu_gs_upstream_compare.json to $OUT.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from da3_ros.model import build_model
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict
from da3_ros.tools.parity import compare_output, GS_FIELDS

CASES = (  # variant, views, height, width, image seed, given poses
    ('da3-giant', 3, 126, 168, 11, False),
    ('da3-giant', 4, 98, 140, 12, True),
    ('da3nested-giant-large', 3, 112, 154, 13, False),
)
IMAGENET = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))


def inputs(views, height, width, seed, posed):
    """Normalised images [1, S, 3, H, W] and optional (w2c [1, S, 4, 4], K [1, S, 3, 3])."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (views, height, width, 3)).astype(np.float32) / 255.0
    images = ((pixels - IMAGENET[0]) / IMAGENET[1]).transpose(0, 3, 1, 2)[None]
    if not posed:
        return torch.tensor(images, dtype=torch.float32), None, None
    w2c = np.tile(np.eye(4), (1, views, 1, 1))
    for v in range(1, views):
        angle = rng.uniform(-0.3, 0.3)
        w2c[0, v, :3, :3] = [[np.cos(angle), 0, np.sin(angle)], [0, 1, 0],
                             [-np.sin(angle), 0, np.cos(angle)]]
        w2c[0, v, :3, 3] = rng.uniform(-0.8, 0.8, 3)
    k = np.array([[0.9 * width, 0, width / 2], [0, 0.9 * width, height / 2], [0, 0, 1]])
    return (torch.tensor(images, dtype=torch.float32), torch.tensor(w2c, dtype=torch.float32),
            torch.tensor(np.tile(k, (1, views, 1, 1)), dtype=torch.float32))


def upstream_net(variant, state, device):
    """Upstream DepthAnything3Net / Nested net with the rule weights."""
    from depth_anything_3.api import DepthAnything3
    net = DepthAnything3(model_name=variant).model
    plain = {k[len('model.'):]: torch.as_tensor(v) for k, v in state.items()}
    net.load_state_dict(plain, strict=True)
    return net.to(device).eval()


def our_net(variant, state, device):
    """Our network with the same weights."""
    with torch.device('meta'):
        model = build_model(variant)
    load_state_dict_strict(model, state)
    return model.to(device).eval()


def run_case(case, device, scale):
    """Compare every Gaussian field of one case; returns the report rows."""
    variant, views, height, width, seed, posed = case
    state = rule_state_dict(variant)
    arrays = inputs(views, height, width, seed, posed)
    images, w2c, k = (None if t is None else t.to(device) for t in arrays)
    rows = {}
    with torch.inference_mode():
        torch.manual_seed(0)
        ref = upstream_net(variant, state, device)(images, w2c, k, export_feat_layers=[],
                                                   infer_gs=True)
        ref_g = {f: getattr(ref.gaussians, f).float().cpu().numpy() for f in GS_FIELDS}
        del ref
        torch.manual_seed(0)
        ours = our_net(variant, state, device)(images, w2c, k, gaussians=True).gaussians
    for field in GS_FIELDS:
        got = getattr(ours, field).float().cpu().numpy()
        for name, row in compare_output(f'gs_{field}', got, ref_g[field],
                                        variant.startswith('da3nested')).items():
            row['ok'] = bool(row.get('max_rel', np.inf) <= row.get('tol', 0) * scale
                             and row.get('elem', 0) <= row.get('elem_tol', np.inf) * scale)
            rows[name] = row
    if device == 'cuda':
        torch.cuda.empty_cache()
    return {'case': dict(zip(('variant', 'views', 'height', 'width', 'seed', 'posed'), case)),
            'outputs': rows, 'pass': all(r['ok'] for r in rows.values())}


def main(argv=None) -> int:
    """Run every case; exit 1 if any field is out of tolerance."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--scale', type=float, default=1.0, help='tolerance multiplier')
    args = parser.parse_args(argv)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    reports = []
    for case in CASES:
        report = run_case(case, args.device, args.scale)
        reports.append(report)
        print(json.dumps(report['case']), 'PASS' if report['pass'] else 'FAIL')
        for name, row in report['outputs'].items():
            print(f"  {name:20s} max_rel {row.get('max_rel', float('nan')):.2e}"
                  f" (tol {row.get('tol', 0) * args.scale:.0e})  {'ok' if row['ok'] else 'FAIL'}")
    out_dir = os.environ.get('OUT', '.')
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'gpu_gs_upstream_compare.json'), 'w',
              encoding='utf-8') as handle:
        json.dump(reports, handle, indent=1)
    return 0 if all(r['pass'] for r in reports) else 1


if __name__ == '__main__':
    sys.exit(main())
