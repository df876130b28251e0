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

"""``python -m da3_ros.tools.export``: a real export with its check, and clear refusals."""
import importlib.util
import json
import subprocess
import sys

import pytest

from da3_ros.config import placeholder_notice


def _export(*args):
    return subprocess.run([sys.executable, '-m', 'da3_ros.tools.export', *args],
                          capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_small_export_runs_in_onnxruntime_like_torch(tmp_path):
    out = tmp_path / 'small.onnx'
    result = _export('onnx', '--variant', 'da3-small', '--views', '2', '--height', '28',
                     '--width', '42', '--check', str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report['max_rel_error']) == {'depth', 'depth_conf', 'extrinsics', 'intrinsics',
                                            'ray', 'ray_conf'}
    assert max(report['max_rel_error'].values()) < 1e-4
    assert placeholder_notice('parity') in result.stderr
    assert out.is_file() and (tmp_path / 'small.onnx.data').is_file()


@pytest.mark.parametrize('args,message', [
    (['--variant', 'da3mono-large', '--views', '1', '--height', '56', '--width', '56',
      '--pose'], 'has no camera encoder'),
    (['--variant', 'da3-small', '--views', '1', '--height', '50', '--width', '56'],
     'height: 50 must be a positive multiple of 14'),
    (['--variant', 'da3-small', '--views', '0', '--height', '56', '--width', '56'],
     'views: 0 must be >= 1'),
])
def test_unsupported_exports_are_refused_in_one_line(tmp_path, args, message):
    out = tmp_path / 'x.onnx'
    result = _export('onnx', *args, str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], lines
    assert not out.exists()


@pytest.mark.skipif(importlib.util.find_spec('tensorrt') is not None,
                    reason='TensorRT is installed here')
def test_trt_without_tensorrt_is_refused(tmp_path):
    result = _export('trt', str(tmp_path / 'x.onnx'), str(tmp_path / 'x.engine'), '--fp16')
    assert result.returncode == 2 and 'tensorrt Python package is not installed' in result.stderr
    assert not (tmp_path / 'x.engine').exists()
