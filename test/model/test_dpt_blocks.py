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

"""DPT building blocks: the UV embedding's spans and frequencies, upsampler, fusion block."""
import math

import pytest
import torch

from da3_ros.model import dpt_blocks
from da3_ros.model.dpt_blocks import (FeatureFusionBlock, add_uv_embedding, cached_uv_embedding,
                                      upsample, uv_embedding)


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
    first = dpt_blocks._uv_cache[(4, 3, 5, 1.25, cpu, torch.float32)]
    for size in range(4, 16):
        cached_uv_embedding(4, size, size, 1.0, cpu, torch.float32)
    assert dpt_blocks._uv_cache[(4, 3, 5, 1.25, cpu, torch.float32)] is first


def test_only_an_onnx_export_computes_the_embedding_in_the_graph(monkeypatch):
    """torch.compiler.is_exporting() does not decide: Dynamo folds it to True before 2.13."""
    calls = []

    def spy(*args):
        calls.append(args)
        return cached_uv_embedding(*args)

    monkeypatch.setattr(dpt_blocks, 'cached_uv_embedding', spy)
    monkeypatch.setattr(torch.compiler, 'is_exporting', lambda: True)
    x = torch.randn(1, 8, 6, 10)
    cached = add_uv_embedding(x, (12, 20))
    assert len(calls) == 1
    monkeypatch.setattr(torch.onnx, 'is_in_onnx_export', lambda: True)
    assert torch.equal(add_uv_embedding(x, (12, 20)), cached)
    assert len(calls) == 1


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
    assert 'sin' not in source and 'cos' not in source


def test_upsample_doubles_and_keeps_the_corners():
    x = torch.arange(6.0).reshape(1, 1, 2, 3)
    up = upsample(x)
    assert up.shape == (1, 1, 4, 6)
    assert up[0, 0, 0, 0] == x[0, 0, 0, 0] and up[0, 0, -1, -1] == x[0, 0, -1, -1]
    assert upsample(x, (5, 7)).shape == (1, 1, 5, 7)


def test_fusion_block_equals_upstreams_order_conv_after_upsampling():
    torch.manual_seed(6)
    block = FeatureFusionBlock(8)
    top, lateral = torch.randn(2, 8, 5, 7), torch.randn(2, 8, 5, 7)
    for size in (None, (9, 16)):
        out = block(top, lateral, size=size)
        fused = top + block.resConfUnit1(lateral)
        expected = block.out_conv(upsample(block.resConfUnit2(fused), size))
        assert out.shape == expected.shape
        assert torch.allclose(out, expected, rtol=1e-5, atol=1e-5)
