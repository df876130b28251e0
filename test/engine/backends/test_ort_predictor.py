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

"""The onnxruntime backend against the torch backend through the Predictor protocol.

Weights: the parity rule with another seed than the golden fixtures; images: random, at shapes
and view counts (S <= 2) no fixture has. Tolerance: 1e-4 max relative error per output (fp32 on
the CPU; observed about 5e-6), 1e-2 for the RANSAC ray poses (ill-conditioned on random weights).
"""
import dataclasses

import pytest
import torch

from da3_ros.config import ModelConfig
from da3_ros.engine.backends import graph
from da3_ros.engine.backends.ort_predictor import OnnxRuntimePredictor
from da3_ros.engine.predictor import build_predictor, load_network, TorchPredictor
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model.ray_pose import ray_to_pose
from da3_ros.model.weight_rule import rule_state_dict

pytestmark = pytest.mark.slow
SHAPES = ((1, 56, 84), (2, 70, 98))
TOLERANCE = 1e-4
FIELDS = ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'ray', 'ray_conf')


@pytest.fixture(scope='module')
def state_dict():
    return rule_state_dict('da3-small', 1234)


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('da3_cache'))


def _config(backend, cache_dir, **kw):
    return ModelConfig(variant='da3-small', weights='random', device='cpu', dtype='fp32',
                       backend=backend, cache_dir=cache_dir, **kw)


def _torch_with_rays(cache_dir, state_dict, **kw):
    """The torch backend returning the ray map too (the engine's default skips it)."""
    cfg = _config('torch', cache_dir, **kw)
    return TorchPredictor(load_network(cfg, state_dict), device='cpu', dtype='fp32',
                          use_ray_pose=cfg.use_ray_pose, ray_outputs=True)


def _inputs(views, height, width, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return ModelInput(torch.randn(views, 3, height, width, generator=gen))


def _max_rel(got, want):
    return float((got - want).abs().max() / want.abs().max())


@pytest.mark.parametrize('views,height,width', SHAPES)
def test_onnxruntime_equals_torch(state_dict, cache_dir, views, height, width):
    backend = build_predictor(_config('onnxruntime', cache_dir), state_dict)
    reference = _torch_with_rays(cache_dir, state_dict)
    assert isinstance(backend, OnnxRuntimePredictor)
    for seed in (3, 4):  # the second forward reuses the shape's session
        inputs = _inputs(views, height, width, seed)
        got, want = backend.predict(inputs), reference.predict(inputs)
        for name in FIELDS:
            assert _max_rel(getattr(got, name), getattr(want, name)) < TOLERANCE, name
        assert got.depth.shape == (1, views, height, width)


def test_ray_pose_is_finished_after_the_graph(state_dict, cache_dir):
    inputs = _inputs(*SHAPES[1])
    results = []
    for backend in ('onnxruntime', 'torch'):
        predictor = build_predictor(_config(backend, cache_dir, use_ray_pose=True), state_dict)
        torch.manual_seed(0)  # RANSAC draws from the global RNG
        results.append(predictor.predict(inputs))
    got, want = results
    torch.manual_seed(0)
    expected = ray_to_pose(got.ray, got.ray_conf, tuple(inputs.images.shape[-2:]))
    assert torch.equal(got.extrinsics, expected[0]) and torch.equal(got.intrinsics, expected[1])
    # RANSAC + QL on random weights is ill-conditioned: 1e-5 ray differences grow to ~1e-3
    assert _max_rel(got.extrinsics, want.extrinsics) < 1e-2
    assert _max_rel(got.intrinsics, want.intrinsics) < 1e-2


def test_cache_is_reused_and_keyed_by_weights(state_dict, cache_dir, monkeypatch):
    """A new predictor finds the exports on disk; other weights need a new export."""
    def no_export(*args, **kwargs):
        raise AssertionError('exported although cached')

    monkeypatch.setattr(graph, 'export_onnx', no_export)
    build_predictor(_config('onnxruntime', cache_dir), state_dict).predict(_inputs(*SHAPES[0]))
    other = rule_state_dict('da3-small', 99)
    with pytest.raises(AssertionError, match='exported although cached'):
        build_predictor(_config('onnxruntime', cache_dir), other).predict(_inputs(*SHAPES[0]))


def test_given_model_file_of_another_variant_is_refused(state_dict, cache_dir):
    predictor = build_predictor(_config('onnxruntime', cache_dir), state_dict)
    path = predictor.source.onnx_for(predictor.shape_of(_inputs(*SHAPES[0])))
    with pytest.raises(ConfigError, match='is an export of da3-small'):
        build_predictor(ModelConfig(variant='da3-base', weights='random', device='cpu',
                                    backend='onnxruntime', model_file=path))
    given = build_predictor(_config('onnxruntime', '/nonexistent', model_file=path), state_dict)
    assert given.source.onnx_for(given.shape_of(_inputs(*SHAPES[0]))) == path


def test_placeholder_words_are_identified_by_their_values(cache_dir):
    """'parity' (and 'random') are built, not files: the export cache keys on their values."""
    parity = dataclasses.replace(_config('onnxruntime', cache_dir), weights='parity')
    first, again = (graph.OnnxSource(parity, None, load_network).weights_id() for _ in range(2))
    assert first == again and first.startswith('tensors:')
    random_id = graph.OnnxSource(_config('onnxruntime', cache_dir), None, load_network)
    assert random_id.weights_id() != first
