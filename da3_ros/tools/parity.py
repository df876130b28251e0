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

"""Golden-fixture parity of our DA3 against upstream outputs (docs/parity.md).

``python -m da3_ros.tools.parity FIXTURE.npz [...]`` regenerates each fixture's weights with the
deterministic rule, runs our model in float32 on the CPU, prints one JSON line per fixture with
the max absolute and max relative error of every output, and exits 1 if any output exceeds the
docs/parity.md tolerances. ``run(variant, state_dict, inputs)`` is the callable contract of the
fixtures' independent checker (docs/parity.md).

Fixtures of the Gaussian branch (``forward_kwargs.infer_gs``) also compare the five Gaussian
fields: quaternions up to the sign of each one (q and -q are one rotation; upstream's w >= 0
choice is arbitrary near w = 0), harmonics per SH band normalised by the band's own maximum (the
l >= 1 terms are 40-160x smaller than the DC term), and opacities element-wise as well.
"""
import argparse
import json
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from da3_ros.model import build_model
from da3_ros.model.ray_pose import ray_to_pose
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict

TOLERANCE = {'depth': 1e-4, 'depth_conf': 1e-4, 'ray_conf': 1e-4, 'ray': 1e-4,
             'extrinsics': 1e-4, 'intrinsics': 1e-4, 'sky': 1e-4, 'scale_factor': 1e-4,
             'raypose_extrinsics': 1e-4, 'raypose_intrinsics': 1e-4, 'is_metric': 0.0}
NESTED_TOLERANCE = {'depth': 3e-4, 'extrinsics': 3e-4, 'scale_factor': 3e-4}
ELEMENT_TOLERANCE = {'depth': 2e-4, 'depth_conf': 2e-4, 'ray_conf': 2e-4}
NESTED_ELEMENT_TOLERANCE = {'depth': 3e-4}
DEFAULT_TOLERANCE = 1e-4
GS_FIELDS = ('means', 'scales', 'rotations', 'harmonics', 'opacities')
GS_TOLERANCE = {'gs_rotations': 3e-4}
GS_ELEMENT_TOLERANCE = {'gs_opacities': 2e-4}
SH_BANDS = ((0, 0, 1), (1, 1, 4), (2, 4, 9))


def _tensor(value: Optional[np.ndarray]) -> Optional[torch.Tensor]:
    if value is None or torch.is_tensor(value):
        return value
    return torch.as_tensor(np.asarray(value, dtype=np.float32))


def _on(value: Optional[np.ndarray], device: str) -> Optional[torch.Tensor]:
    tensor = _tensor(value)
    return None if tensor is None else tensor.to(device)


def _forward_outputs(model: torch.nn.Module, inputs: dict,
                     device: str = 'cpu') -> Dict[str, torch.Tensor]:
    torch.manual_seed(0)
    with torch.inference_mode():
        pred = model(_on(inputs['images'], device), _on(inputs.get('extrinsics'), device),
                     _on(inputs.get('intrinsics'), device),
                     export_feat_layers=list(inputs.get('export_feat_layers', [])),
                     use_ray_pose=bool(inputs.get('use_ray_pose', False)),
                     ref_view_strategy=inputs.get('ref_view_strategy', 'saddle_balanced'),
                     gaussians=bool(inputs.get('infer_gs', False)))
    names = ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'sky', 'ray', 'ray_conf',
             'scale_factor')
    outputs = {n: getattr(pred, n) for n in names if getattr(pred, n) is not None}
    if pred.is_metric:
        outputs['is_metric'] = torch.ones(1)
    outputs.update({f'aux_{k}': v for k, v in pred.aux.items()})
    if pred.gaussians is not None:
        outputs.update({f'gs_{f}': getattr(pred.gaussians, f) for f in GS_FIELDS})
    return outputs


def _ray_pose_outputs(inputs: dict) -> Dict[str, torch.Tensor]:
    if 'raypose_ray' not in inputs:
        return {}
    torch.manual_seed(0)
    extrinsics, intrinsics = ray_to_pose(_tensor(inputs['raypose_ray']),
                                         _tensor(inputs['raypose_ray_conf']),
                                         (int(inputs['H']), int(inputs['W'])))
    return {'raypose_extrinsics': extrinsics, 'raypose_intrinsics': intrinsics}


def run(variant: str, state_dict: Dict[str, np.ndarray], inputs: dict,
        device: str = 'cpu') -> Dict[str, np.ndarray]:
    """Checker contract: build ``variant``, load ``state_dict`` strictly, run in fp32.

    The network runs on ``device`` (CPU for the checker); the ray->pose test stays on the CPU.
    """
    with torch.device('meta'):
        model = build_model(variant)
    load_state_dict_strict(model, state_dict, source=f'parity weights for {variant}')
    outputs = _forward_outputs(model.to(device).eval(), inputs, device)
    outputs.update(_ray_pose_outputs(inputs))
    return {k: v.detach().float().cpu().numpy() for k, v in outputs.items()}


def fixture_inputs(fixture: np.lib.npyio.NpzFile, meta: dict) -> dict:
    """Return the inputs dict of the checker contract, read from a fixture."""
    kwargs = meta['forward_kwargs']
    inputs = {'images': fixture['in_images'], 'images_uint8': fixture['in_images_uint8'],
              'extrinsics': fixture['in_extrinsics'] if 'in_extrinsics' in fixture else None,
              'intrinsics': fixture['in_intrinsics'] if 'in_intrinsics' in fixture else None,
              'export_feat_layers': list(kwargs['export_feat_layers']),
              'ref_view_strategy': kwargs['ref_view_strategy'], 'use_ray_pose': False,
              'infer_gs': bool(kwargs.get('infer_gs', False)),
              'H': int(meta['H']), 'W': int(meta['W']), 'S': int(meta['S'])}
    for name in ('raypose_ray', 'raypose_ray_conf'):
        if 'in_' + name in fixture:
            inputs[name] = fixture['in_' + name]
    return inputs


def compare(name: str, got: np.ndarray, ref: np.ndarray, nested: bool) -> dict:
    """Errors of one output: max_abs, max_rel (= max_abs / max|ref|), elem, tolerance, ok."""
    key = 'aux' if name.startswith('aux_') else name
    tol = (NESTED_TOLERANCE if nested else {}).get(key, TOLERANCE.get(key, DEFAULT_TOLERANCE))
    tol = GS_TOLERANCE.get(key, tol)
    elem_tol = (NESTED_ELEMENT_TOLERANCE if nested else {}).get(key, ELEMENT_TOLERANCE.get(key))
    elem_tol = GS_ELEMENT_TOLERANCE.get(key, elem_tol)
    got = got.reshape(ref.shape) if got.size == ref.size else got
    if got.shape != ref.shape:
        return {'ok': False, 'error': f'shape {list(got.shape)} != {list(ref.shape)}'}
    if key == 'gs_rotations':
        sign = np.sign((got.astype(np.float64) * ref).sum(-1, keepdims=True))
        got = got * np.where(sign == 0, 1.0, sign)
    return _errors(got, ref, tol, elem_tol)


def compare_output(name: str, got: np.ndarray, ref: np.ndarray, nested: bool) -> Dict[str, dict]:
    """Compare one output: ``{reported name: errors}``, one per SH band for ``gs_harmonics``."""
    if name != 'gs_harmonics' or ref.shape[-1] != 9 or got.size != ref.size:
        return {name: compare(name, got, ref, nested)}
    got = got.reshape(ref.shape)
    return {f'{name}[l={band}]': compare(name, got[..., lo:hi], ref[..., lo:hi], nested)
            for band, lo, hi in SH_BANDS}


def _errors(got: np.ndarray, ref: np.ndarray, tol: float, elem_tol: Optional[float]) -> dict:
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    result = {'max_abs': max_abs, 'max_rel': max_rel, 'tol': tol}
    ok = bool(np.isfinite(got).all()) and max_rel <= tol
    if elem_tol is not None:
        elem = float((diff / np.maximum(np.abs(ref.astype(np.float64)), 1e-30)).max())
        result.update({'elem': elem, 'elem_tol': elem_tol})
        ok = ok and elem <= elem_tol
    result['ok'] = ok
    return result


def check_fixture(path: str, device: str = 'cpu') -> dict:
    """Run one fixture on ``device``; returns the JSON-ready report."""
    fixture = np.load(path, allow_pickle=False)
    meta = json.loads(str(fixture['meta_json']))
    variant = meta['variant']
    outputs = run(variant, rule_state_dict(variant, int(meta['base_seed'])),
                  fixture_inputs(fixture, meta), device)
    nested = variant.startswith('da3nested')
    report = {'fixture': path.rsplit('/', 1)[-1], 'variant': variant, 'outputs': {}}
    for array_name in fixture.files:
        if not array_name.startswith('out_'):
            continue
        name = array_name[4:]
        if name not in outputs:
            report['outputs'][name] = {'ok': False, 'error': 'missing'}
            continue
        report['outputs'].update(compare_output(name, outputs[name], fixture[array_name], nested))
    report['pass'] = all(r['ok'] for r in report['outputs'].values())
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: one JSON line per fixture; exit status 1 if any fixture fails."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('fixtures', nargs='+', help='parity fixture .npz files')
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    failed: List[str] = []
    for path in args.fixtures:
        report = check_fixture(path)
        print(json.dumps(report), flush=True)
        if not report['pass']:
            failed.append(path)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
