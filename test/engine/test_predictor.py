"""Tests of the TorchPredictor's precision options and of CUDA-graph bookkeeping on the CPU."""
import dataclasses

import pytest
import torch

from da3_ros.config import ModelConfig, validate_model
from da3_ros.engine import graph_capture
from da3_ros.engine.predictor import build_predictor, TorchPredictor
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model import build_model
from da3_ros.model.prediction import Prediction
from da3_ros.model.weight_rule import rule_state_dict


@pytest.fixture(scope='module')
def small_state():
    return rule_state_dict('da3-small')


def _config(**changes) -> ModelConfig:
    return dataclasses.replace(ModelConfig(variant='da3-small', weights='random', device='cpu',
                                           dtype='fp32'), **changes)


def test_head_dtype_is_checked():
    with pytest.raises(ConfigError, match="head_dtype: 'int8'"):
        TorchPredictor(build_model('da3-small'), dtype='bf16', head_dtype='int8')
    with pytest.raises(ConfigError, match='model.head_dtype'):
        validate_model(_config(head_dtype='fp8'))


def test_fp16_heads_add_less_error_than_bf16_heads(small_state):
    images = torch.randn(2, 3, 70, 98, generator=torch.Generator().manual_seed(5))
    ref = build_predictor(_config(), small_state).predict(ModelInput(images=images)).depth
    errors = {}
    for head in ('fp32', 'fp16', 'bf16'):
        depth = build_predictor(_config(dtype='bf16', head_dtype=head),
                                small_state).predict(ModelInput(images=images)).depth
        errors[head] = float(((depth - ref).abs() / ref).median())
    assert errors['fp32'] < errors['fp16'] < errors['bf16']
    assert errors['fp16'] - errors['fp32'] < 0.5 * (errors['bf16'] - errors['fp32'])


def test_fp32_heads_are_the_default_and_half_heads_change_only_the_dense_outputs(small_state):
    images = torch.randn(2, 3, 70, 98, generator=torch.Generator().manual_seed(3))
    ref = build_predictor(_config(), small_state).predict(ModelInput(images=images))
    backbone_only = build_predictor(_config(dtype='bf16'), small_state)
    assert backbone_only.model.head_dtype is None
    both = build_predictor(_config(dtype='bf16', head_dtype='bf16'), small_state)
    assert both.model.head_dtype is torch.bfloat16
    a = backbone_only.predict(ModelInput(images=images))
    b = both.predict(ModelInput(images=images))
    # bf16 heads move depth, yet stay near the fp32 forward; outputs come back as fp32.
    assert b.depth.dtype == torch.float32 and b.extrinsics.dtype == torch.float32
    assert not torch.equal(a.depth, b.depth)
    rel = ((b.depth - ref.depth).abs() / ref.depth).median()
    assert 0 < float(rel) < 0.02
    # The camera decoder runs in fp32 in both: its input is the same backbone token.
    torch.testing.assert_close(a.extrinsics, b.extrinsics)


def test_cuda_graph_request_off_cuda_runs_eagerly(small_state, caplog):
    predictor = build_predictor(_config(cuda_graph=True), small_state)
    assert predictor.graphed is None
    assert 'cuda_graph' in caplog.text


def test_signature_separates_shapes_and_missing_inputs():
    a = torch.zeros(1, 2, 3, 14, 14)
    k = torch.zeros(1, 2, 3, 3)
    assert graph_capture.signature((a, None, k)) == graph_capture.signature((a + 1, None, k))
    assert graph_capture.signature((a, None, k)) != graph_capture.signature((a, None, None))
    assert graph_capture.signature((a, None, None)) != graph_capture.signature(
        (torch.zeros(1, 3, 3, 14, 14), None, None))


def test_clone_prediction_copies_every_tensor():
    pred = Prediction(depth=torch.ones(1, 1, 2, 2), depth_conf=torch.ones(1, 1, 2, 2),
                      scale_factor=torch.ones(1), aux={'feat_layer_1': torch.ones(2)},
                      is_metric=True)
    copy = graph_capture.clone_prediction(pred)
    pred.depth.fill_(5)
    pred.aux['feat_layer_1'].fill_(5)
    assert float(copy.depth.max()) == 1 and float(copy.aux['feat_layer_1'].max()) == 1
    assert copy.is_metric and copy.extrinsics is None


def test_ray_branch_runs_only_when_someone_reads_it(small_state):
    images = torch.randn(2, 3, 70, 98, generator=torch.Generator().manual_seed(7))
    plain = build_predictor(_config(), small_state)
    model = plain.model
    calls = []
    hook = model.head.scratch.refinenet1_aux.register_forward_hook(
        lambda *args: calls.append(1))
    try:
        lean = plain.predict(ModelInput(images=images))
        assert lean.ray is None and lean.ray_conf is None and not calls
        full = TorchPredictor(model, ray_outputs=True).predict(ModelInput(images=images))
        assert full.ray is not None and full.ray_conf is not None and calls
        torch.testing.assert_close(lean.depth, full.depth, rtol=0, atol=0)
        torch.testing.assert_close(lean.extrinsics, full.extrinsics, rtol=0, atol=0)
        calls.clear()
        TorchPredictor(model, use_ray_pose=True).predict(ModelInput(images=images))
        assert calls  # ray-based poses need the ray map
    finally:
        hook.remove()
