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

"""predictor: the device rule ('auto' resolves in one place) and TorchPredictor's options."""
import contextlib
import dataclasses
import logging

import pytest
import torch

from da3_ros.config import EngineConfig, ModelConfig, validate_model
from da3_ros.engine import predictor
from da3_ros.engine.predictor import (build_predictor, resolve_device, TorchPredictor,
                                      with_device)
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model import build_model
from da3_ros.model.layers.mlp import Mlp
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
    built = build_predictor(_config(cuda_graph=True), small_state)
    assert built.graphed is None
    assert 'cuda_graph' in caplog.text


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


def test_auto_is_cuda_when_present_else_cpu_with_one_warning(caplog):
    predictor._auto_device.cache_clear()
    with caplog.at_level(logging.WARNING, logger=predictor.LOG.name):
        first, second = resolve_device('auto'), resolve_device('auto')
    assert first == second == ('cuda' if torch.cuda.is_available() else 'cpu')
    warnings = [r for r in caplog.records if 'no CUDA device' in r.getMessage()]
    assert len(warnings) == (0 if torch.cuda.is_available() else 1)


def test_auto_is_the_default_and_a_concrete_device_passes_through():
    assert ModelConfig().device == EngineConfig().model.device == 'auto'
    assert with_device(ModelConfig(device='cpu')).device == 'cpu'
    assert with_device(ModelConfig()).device in ('cuda', 'cpu')


@pytest.mark.parametrize('name, needle', [('cuda:99', 'CUDA device'),
                                          ('gpu', 'not a torch device')])
def test_impossible_devices_are_refused_with_the_value(name, needle):
    with pytest.raises(ConfigError, match=f'model.device: {name!r}.*{needle}'):
        resolve_device(name)


def test_compiled_forward_freezes_weights_on_cuda_only(monkeypatch):
    seen = []
    monkeypatch.setattr(torch, 'compile', lambda model, **kw: seen.append(kw) or model)
    TorchPredictor(build_model('da3-small'), device='cpu', compile_model=True)
    assert seen == [{'dynamic': False, 'options': {}}]
    assert predictor.compile_options('cuda') == {'freezing': True}
    import torch._inductor.config as inductor_config
    assert hasattr(inductor_config, 'freezing')  # an option name this inductor knows


def test_mlp_epilogue_reaches_the_backbone_mlps_only():
    model = build_model('da3-small')
    predictor._set_mlp_epilogue(model, torch.bfloat16)
    backbone = [m.epilogue_dtype for m in model.backbone.modules() if isinstance(m, Mlp)]
    camera = [m.epilogue_dtype for m in model.cam_enc.modules() if isinstance(m, Mlp)]
    assert backbone and set(backbone) == {torch.bfloat16}
    assert camera and set(camera) == {None}  # the camera encoder stays fp32, as upstream
    predictor._set_mlp_epilogue(model, None)
    assert {m.epilogue_dtype for m in model.modules() if isinstance(m, Mlp)} == {None}


def test_mlp_epilogue_only_on_cuda_under_half_autocast():
    for dtype in (torch.float16, torch.bfloat16):
        assert predictor.mlp_epilogue_dtype('cuda', dtype) == dtype
        assert predictor.mlp_epilogue_dtype('cpu', dtype) is None
    assert predictor.mlp_epilogue_dtype('cuda', None) is None  # fp32 stays exact
    assert predictor.mlp_epilogue_dtype('cpu', None) is None


def test_cpu_predictor_keeps_the_exact_mlp(small_state):
    """The fused epilogue is a CUDA fast-path form; on the CPU bf16 stays upstream's maths."""
    net = build_predictor(_config(dtype='bf16'), small_state).model
    assert {m.epilogue_dtype for m in net.modules() if isinstance(m, Mlp)} == {None}


def test_compiled_predictor_calls_the_network_inside_compile_context(monkeypatch):
    """Every compiled call is traced with the options in force; nothing leaks past the call."""
    import torch._dynamo.config as dynamo_config
    import torch._inductor.config as inductor_config
    monkeypatch.setattr(torch, 'compile', lambda model, **kw: model)
    real_context = predictor.compile_context
    entered = []

    def recording(device_type):
        entered.append(device_type)
        return real_context(device_type)

    monkeypatch.setattr(predictor, 'compile_context', recording)
    before = (inductor_config.freezing, dynamo_config.recompile_limit)
    images = torch.randn(2, 3, 28, 42, generator=torch.Generator().manual_seed(3))
    TorchPredictor(build_model('da3-small'), device='cpu', compile_model=True).predict(
        ModelInput(images=images))
    assert entered == ['cpu']
    TorchPredictor(build_model('da3-small'), device='cpu').predict(ModelInput(images=images))
    assert entered == ['cpu']  # an eager predictor does not enter it
    assert (inductor_config.freezing, dynamo_config.recompile_limit) == before


def test_compile_context_compiles_more_shapes_than_dynamos_default():
    """Past Dynamo's default limit (8) a new shape ran eagerly; inside the context it compiles."""
    from torch._dynamo.utils import counters
    shapes = 10
    compiled_per_mode = {}
    for inside in (False, True):
        torch._dynamo.reset()
        counters.clear()
        double = torch.compile(lambda x: x * 2, dynamic=False, backend='eager')
        context = predictor.compile_context('cpu') if inside else contextlib.nullcontext()
        with context:
            for size in range(1, shapes + 1):
                assert torch.equal(double(torch.ones(size)), torch.full((size,), 2.0))
        compiled_per_mode[inside] = counters['stats']['unique_graphs']
    torch._dynamo.reset()
    assert compiled_per_mode == {False: 8, True: shapes}
    assert predictor.COMPILED_SHAPES_LIMIT >= shapes


def test_compile_context_makes_freezing_reach_the_traced_graph(monkeypatch):
    """With the context, weights are graph constants: a later weight change is not seen."""
    monkeypatch.setattr(predictor, 'compile_options', lambda device_type: {'freezing': True})
    outputs = {}
    for frozen in (False, True):
        torch._dynamo.reset()
        layer = torch.nn.Linear(8, 8).eval()
        compiled = torch.compile(layer, dynamic=False, options={'freezing': True})
        context = predictor.compile_context('cpu') if frozen else contextlib.nullcontext()
        x = torch.randn(2, 8)
        with torch.inference_mode(), context:
            before = compiled(x)
        with torch.no_grad():
            layer.weight.mul_(2.0)
        with torch.inference_mode(), context:
            outputs[frozen] = torch.equal(compiled(x), before)
    torch._dynamo.reset()
    # The options of torch.compile alone freeze nothing; in force while tracing, they do.
    assert outputs == {False: False, True: True}
