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

"""The tensorrt backend's version gate and engine selection, with a stand-in tensorrt module.

Building and running engines needs TensorRT and a GPU (test/tools/test_trt_check.py, not run
where they are absent); what is checked here is which engine file would be loaded or rebuilt.
"""
import json
import sys
import types

import pytest
import torch

from da3_ros.config import ModelConfig
from da3_ros.engine.backends import trt_predictor
from da3_ros.errors import ConfigError
from da3_ros.model.export import GraphShape

SHAPE = GraphShape('da3-small', 6, 280, 504, pose=True)


def _fake_tensorrt(version):
    return types.SimpleNamespace(__version__=version)


@pytest.mark.parametrize('version,ok', [('10.3.0', False), ('10.13.3', False),
                                        ('10.14.1', True), ('11.4.0', True)])
def test_version_gate(monkeypatch, version, ok):
    monkeypatch.setitem(sys.modules, 'tensorrt', _fake_tensorrt(version))
    if ok:
        assert trt_predictor.import_tensorrt().__version__ == version
    else:
        with pytest.raises(ConfigError, match=f'TensorRT {version} is older than 10.14'):
            trt_predictor.import_tensorrt()


class Source:
    """Stand-in OnnxSource: a fixed ONNX path and key."""

    def onnx_for(self, shape):
        return '/exports/graph.onnx'

    def key(self, shape):
        return {'artifact': 'onnx', 'views': shape.views, 'weights': 'tensors:abc'}


@pytest.fixture
def predictor_for(monkeypatch, tmp_path):
    monkeypatch.setattr(trt_predictor, 'import_tensorrt', lambda: _fake_tensorrt('10.14.1'))
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda *args: 'Orin')
    built = []

    def build(onnx_path, engine_path, fp16):
        built.append((onnx_path, fp16))
        with open(engine_path, 'wb') as handle:
            handle.write(b'engine')

    monkeypatch.setattr(trt_predictor, 'build_engine', build)

    def make(model_file=''):
        cfg = ModelConfig(variant='da3-small', weights='random', device='cuda', dtype='fp16',
                          backend='tensorrt', model_file=model_file,
                          cache_dir=str(tmp_path / 'cache'))
        return trt_predictor.TensorRTPredictor(cfg, Source()), built
    return make


def _given(tmp_path, **changes):
    path = tmp_path / 'rig.engine'
    path.write_bytes(b'engine')
    sidecar = {'tensorrt': '10.14.1', 'gpu': 'Orin', 'precision': 'fp16',
               'variant': 'da3-small', 'views': 6, 'height': 280, 'width': 504, 'pose': True,
               'ref_view_strategy': 'saddle_balanced'}
    sidecar.update(changes)
    (tmp_path / 'rig.engine.json').write_text(json.dumps(sidecar))
    return str(path)


def test_given_engine_of_this_shape_gpu_and_version_is_used(predictor_for, tmp_path):
    path = _given(tmp_path)
    predictor, built = predictor_for(path)
    assert predictor.engine_for(SHAPE) == path and not built


@pytest.mark.parametrize('field,value', [('gpu', 'NVIDIA H200'), ('tensorrt', '10.3.0'),
                                         ('precision', 'fp32')])
def test_given_engine_for_another_target_is_refused(predictor_for, tmp_path, field, value):
    predictor, built = predictor_for(_given(tmp_path, **{field: value}))
    with pytest.raises(ConfigError, match='rebuild it'):
        predictor.engine_for(SHAPE)
    assert not built


def test_other_shapes_are_built_once_into_the_cache(predictor_for, tmp_path):
    predictor, built = predictor_for(_given(tmp_path, views=12))
    path = predictor.engine_for(SHAPE)
    assert path.startswith(str(tmp_path / 'cache')) and built == [('/exports/graph.onnx', True)]
    sidecar = json.loads(open(path + '.json').read())
    assert (sidecar['gpu'], sidecar['tensorrt'], sidecar['precision']) == ('Orin', '10.14.1',
                                                                           'fp16')
    assert predictor.engine_for(SHAPE) == path and len(built) == 1


def test_cpu_device_is_refused(monkeypatch):
    monkeypatch.setattr(trt_predictor, 'import_tensorrt', lambda: _fake_tensorrt('10.14.1'))
    cfg = ModelConfig(variant='da3-small', weights='random', device='cpu', backend='tensorrt')
    with pytest.raises(ConfigError, match='CUDA device'):
        trt_predictor.TensorRTPredictor(cfg, Source())
