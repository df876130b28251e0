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

"""The UV embedding: spans and frequencies, and the cached operator the heads read it through."""
import math
import re

import pytest
import torch

from da3_ros.model import uv_embedding as uv
from da3_ros.model.uv_embedding import (add_uv_embedding, cached_uv_embedding, uv_embedding,
                                        uv_embedding_in_graph)


def test_uv_embedding_spans_and_first_frequency():
    """The u coordinate spans +-a/sqrt(a^2+1) (pixel centres), v +-1/sqrt(a^2+1); w_0 = 1."""
    height, width, aspect = 4, 6, 1.5
    embed = uv_embedding(8, height, width, aspect, torch.device('cpu')).double()
    assert embed.shape == (8, height, width)
    span_u = aspect / math.sqrt(aspect ** 2 + 1) * (width - 1) / width
    span_v = 1 / math.sqrt(aspect ** 2 + 1) * (height - 1) / height
    u = torch.asin(embed[0, 0])  # channel 0 = sin(u * w_0), |u| < pi/2
    v = torch.asin(embed[4, :, 0])  # channel 2 * quarter = sin(v * w_0)
    assert (u[0].item(), u[-1].item()) == pytest.approx((-span_u, span_u), abs=1e-6)
    assert (v[0].item(), v[-1].item()) == pytest.approx((-span_v, span_v), abs=1e-6)
    # sin/cos pairs: sin^2 + cos^2 = 1 for every frequency of u and of v.
    ones = torch.ones(2, height, width, dtype=torch.float64)
    assert torch.allclose(embed[0:2] ** 2 + embed[2:4] ** 2, ones, atol=1e-6)
    assert torch.allclose(embed[4:6] ** 2 + embed[6:8] ** 2, ones, atol=1e-6)


def test_uv_embedding_equals_the_formula_on_the_full_grid():
    """Every channel k < c/4 of every pixel: sin/cos of u_j w_k and v_i w_k, w_k = 100^(-4k/c)."""
    channels, height, width, aspect = 16, 5, 7, 1.7
    embed = uv_embedding(channels, height, width, aspect, torch.device('cpu')).double()
    quarter = channels // 4
    span_u = aspect / math.sqrt(aspect ** 2 + 1) * (width - 1) / width
    span_v = 1 / math.sqrt(aspect ** 2 + 1) * (height - 1) / height
    u = torch.linspace(-span_u, span_u, width, dtype=torch.float64)
    v = torch.linspace(-span_v, span_v, height, dtype=torch.float64)
    for k in range(quarter):
        w_k = 100.0 ** (-k / quarter)
        for i in range(height):
            for j in range(width):
                expected = (math.sin(u[j] * w_k), math.cos(u[j] * w_k),
                            math.sin(v[i] * w_k), math.cos(v[i] * w_k))
                got = [embed[b * quarter + k, i, j].item() for b in range(4)]
                assert got == pytest.approx(expected, abs=1e-6)


def test_add_uv_embedding_adds_a_tenth_of_the_embedding_in_the_maps_dtype():
    x = torch.randn(2, 8, 5, 9, dtype=torch.float64)
    embed = uv_embedding(8, 5, 9, 1.6, torch.device('cpu')).to(torch.float64)
    assert torch.equal(add_uv_embedding(x, (10, 16)), x + 0.1 * embed[None])
    half = add_uv_embedding(x.half(), (10, 16))
    assert half.dtype == torch.float16
    assert torch.equal(half, x.half() + 0.1 * embed.half()[None])


def test_cached_embedding_is_a_fresh_copy_each_call():
    """A caller (or a compiled graph reusing the buffer) writing into it cannot spoil the cache."""
    first = cached_uv_embedding(8, 4, 6, 1.5, torch.device('cpu'), torch.float32)
    expected = uv_embedding(8, 4, 6, 1.5, torch.device('cpu'))
    assert torch.equal(first, expected)
    first.fill_(7.0)
    assert torch.equal(cached_uv_embedding(8, 4, 6, 1.5, torch.device('cpu'), torch.float32),
                       expected)


def test_cached_embeddings_are_never_evicted():
    """A captured CUDA graph reads a cached table's memory at replay: no size evicts another."""
    cpu = torch.device('cpu')
    cached_uv_embedding(4, 3, 5, 1.25, cpu, torch.float32)
    first = uv._tables[(4, 3, 5, 1.25, cpu)]
    for size in range(4, 16):
        cached_uv_embedding(4, size, size, 1.0, cpu, torch.float32)
    assert uv._tables[(4, 3, 5, 1.25, cpu)] is first


def test_only_an_onnx_export_computes_the_embedding_in_the_graph(monkeypatch):
    """torch.compiler.is_exporting() does not decide: Dynamo folds it to True before 2.13."""
    calls = []

    def spy(*args):
        calls.append(args)
        return cached_uv_embedding(*args)

    monkeypatch.setattr(uv, 'cached_uv_embedding', spy)
    monkeypatch.setattr(torch.compiler, 'is_exporting', lambda: True)
    x = torch.randn(1, 8, 6, 10)
    cached = add_uv_embedding(x, (12, 20))
    assert len(calls) == 1
    monkeypatch.setattr(torch.onnx, 'is_in_onnx_export', lambda: True)
    assert torch.equal(add_uv_embedding(x, (12, 20)), cached)
    assert len(calls) == 1


def test_the_exporters_context_computes_the_embedding_in_the_graph():
    """export_onnx wraps its export in uv_embedding_in_graph (Dynamo folds the ONNX query)."""
    x = torch.randn(1, 8, 6, 10)
    compiled = torch.compile(lambda t: add_uv_embedding(t, (12, 20)), fullgraph=True,
                             backend='aot_eager', dynamic=False)
    graph_ops = []
    with uv_embedding_in_graph():

        def record(gm, example_inputs):
            graph_ops.extend(str(n.target) for n in gm.graph.nodes)
            return gm

        torch._dynamo.reset()
        torch.compile(lambda t: add_uv_embedding(t, (12, 20)), fullgraph=True,
                      backend=record, dynamic=False)(x)
    assert not any('da3_ros' in op for op in graph_ops)
    assert any('sin' in op for op in graph_ops)
    assert torch.allclose(compiled(x), add_uv_embedding(x, (12, 20)))


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize('size', [(1, 1), (5, 7), (37, 19)])
def test_cached_operator_equals_the_definition_cast(dtype, size):
    height, width = size
    expected = uv_embedding(16, height, width, 1.3, torch.device('cpu')).to(dtype)
    got = cached_uv_embedding(16, height, width, 1.3, torch.device('cpu'), dtype)
    assert got.dtype == dtype and got.shape == expected.shape
    assert torch.equal(got, expected)


def test_compiled_graph_reads_the_cached_embedding_instead_of_computing_sines():
    from torch._inductor.utils import run_and_get_code

    x = torch.randn(1, 8, 6, 10)
    compiled = torch.compile(lambda t: add_uv_embedding(t, (12, 20)) * 2, fullgraph=True,
                             dynamic=False)
    out, code = run_and_get_code(compiled, x)
    assert torch.allclose(out, (x + 0.1 * uv_embedding(8, 6, 10, 20 / 12,
                                                       torch.device('cpu'))[None]) * 2)
    source = '\n'.join(code)
    assert 'da3_ros.uv_embedding' in source
    assert not re.search(r'\b(sin|cos)\b', source)
