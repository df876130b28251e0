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

"""Parity fixtures on a CUDA device in float32 (TF32 off), for the GPU correctness check.

Usage: python scripts/gpu_parity.py FIXTURE.npz [...]  (prints one JSON line per fixture)
"""
import json
import sys

import torch

from da3_ros.tools.parity import check_fixture


def main(paths) -> int:
    """Check every fixture on the GPU; exit status 1 if any fails."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    ok = True
    for path in paths:
        report = check_fixture(path, 'cuda')
        report['device'] = torch.cuda.get_device_name()
        ok &= report['pass']
        print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
