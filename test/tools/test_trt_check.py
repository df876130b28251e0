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

"""TensorRT: ``make trt-check``'s tool, the engine build and the tensorrt backend.

Where TensorRT is absent (the project's CI machines) the tool must stop with a clear message and
exit status 2, and the backend must refuse with ConfigError; the tests that need TensorRT and a
GPU are skipped with the reason, so they are reported as not run.
"""
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from da3_ros.config import ModelConfig
from da3_ros.engine.predictor import build_predictor
from da3_ros.errors import ConfigError

HAS_TENSORRT = importlib.util.find_spec('tensorrt') is not None
NEEDS_TENSORRT = pytest.mark.skipif(
    not (HAS_TENSORRT and torch.cuda.is_available()),
    reason='not run: needs TensorRT >= 10.14 and a CUDA GPU (make trt-check on such a machine)')


def _tool(*args):
    return subprocess.run([sys.executable, '-m', 'da3_ros.tools.trt_check', *args],
                          capture_output=True, text=True, check=False)


@pytest.mark.skipif(HAS_TENSORRT, reason='TensorRT is installed here')
def test_without_tensorrt_the_check_stops_with_a_clear_message():
    result = _tool()
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'NOT RUN' in result.stderr and 'tensorrt Python package is not installed' in (
        result.stderr)
    assert result.stdout == ''


@pytest.mark.skipif(HAS_TENSORRT, reason='TensorRT is installed here')
def test_without_tensorrt_the_backend_is_refused():
    cfg = ModelConfig(variant='da3-small', weights='random', device='cuda', backend='tensorrt')
    with pytest.raises(ConfigError, match='tensorrt Python package is not installed'):
        build_predictor(cfg, {})


@NEEDS_TENSORRT
@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize('precision', ['fp32', 'fp16'])
def test_trt_check_passes(tmp_path, precision):
    out = tmp_path / 'report.json'
    result = _tool('--height', '126', '--width', '182', '--iters', '3', '--precision',
                   precision, '--cache-dir', str(tmp_path), '--json', str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert report['errors']['depth']['max_rel'] < (1e-3 if precision == 'fp32' else 5e-2)
    engines = list(tmp_path.glob('*.engine'))
    assert len(engines) == 1 and (tmp_path / (engines[0].name + '.json')).is_file()
