"""Parity fixtures on a CUDA device in float32 (TF32 off), for the GPU correctness check.

Usage: python scripts/gpu_parity.py FIXTURE.npz [...]  (prints one JSON line per fixture)
"""
import json
import sys

import numpy as np
import torch

from da3_ros.model import build_model
from da3_ros.model.weights import load_state_dict_strict
from da3_ros.tools import parity
from da3_ros.tools.weight_rule import rule_state_dict


def check_on_cuda(path: str) -> dict:
    """Run one fixture on the GPU in fp32 and compare with the README tolerances."""
    fixture = np.load(path)
    meta = json.loads(str(fixture['meta_json']))
    variant = meta['variant']
    with torch.device('meta'):
        model = build_model(variant)
    load_state_dict_strict(model, rule_state_dict(variant))
    inputs = parity.fixture_inputs(fixture, meta)
    for key in ('images', 'extrinsics', 'intrinsics'):
        if inputs[key] is not None:
            inputs[key] = torch.as_tensor(inputs[key]).cuda()
    outputs = parity._forward_outputs(model.cuda().eval(), inputs)
    nested = variant.startswith('da3nested')
    report = {'fixture': path.rsplit('/', 1)[-1], 'device': torch.cuda.get_device_name(),
              'outputs': {}}
    for name in fixture.files:
        if name.startswith('out_') and name[4:] in outputs:
            got = outputs[name[4:]].float().cpu().numpy()
            report['outputs'][name[4:]] = parity.compare(name[4:], got, fixture[name], nested)
    report['pass'] = all(r['ok'] for r in report['outputs'].values())
    return report


def main(paths) -> int:
    """Check every fixture; exit status 1 if any fails."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    ok = True
    for path in paths:
        report = check_on_cuda(path)
        ok &= report['pass']
        print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
