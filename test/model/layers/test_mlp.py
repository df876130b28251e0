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

"""Feed-forward layers: the GELU MLP, SwiGLU and its hidden width (xformers' rule)."""
import torch
import torch.nn.functional as F

from da3_ros.model.layers.mlp import Mlp, swiglu_hidden, SwiGLUFFN


def test_swiglu_hidden_width_of_the_giant_backbone():
    """ViT-g: C = 1536 -> floor(4C * 2/3) = 4096, already a multiple of 8."""
    assert swiglu_hidden(1536) == 4096
    assert swiglu_hidden(10) == 32  # floor(26.67) = 26, rounded up to 32


def test_mlp_is_fc1_exact_gelu_fc2():
    torch.manual_seed(0)
    mlp = Mlp(6, 12, 5)
    x = torch.randn(3, 6)
    expected = F.linear(F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias)), mlp.fc2.weight,
                        mlp.fc2.bias)
    assert torch.allclose(mlp(x), expected)
    assert Mlp(6, 12).fc2.out_features == 6  # out_dim 0: back to the input width


def test_epilogue_form_computes_the_same_mlp_in_the_half_dtype(monkeypatch):
    torch.manual_seed(2)
    mlp = Mlp(16, 64)
    x = torch.randn(2, 5, 16)
    calls = []
    fused = torch._addmm_activation

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return fused(*args, **kwargs)

    monkeypatch.setattr(torch, '_addmm_activation', spy)
    exact = mlp(x)
    assert not calls  # no epilogue dtype: the exact, unfused MLP
    mlp.epilogue_dtype = torch.bfloat16
    torch.testing.assert_close(mlp(x), exact, rtol=0, atol=0)
    assert not calls  # the dtype is set but no autocast runs in it: still exact
    with torch.autocast('cpu', dtype=torch.float16):
        mlp(x)
    assert not calls  # autocast in another dtype
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = mlp(x)
    assert calls == [{'use_gelu': True}]
    assert out.dtype == torch.bfloat16 and out.shape == (2, 5, 16)
    half = F.linear(F.gelu(F.linear(x.bfloat16(), mlp.fc1.weight.bfloat16(),
                                    mlp.fc1.bias.bfloat16())),
                    mlp.fc2.weight.bfloat16(), mlp.fc2.bias.bfloat16())
    assert torch.allclose(out.float(), half.float(), rtol=2e-2, atol=2e-2)
    assert (out.float() - exact).abs().max() < 0.05 * exact.abs().max()


def test_swiglu_gates_the_second_half_with_silu_of_the_first():
    torch.manual_seed(1)
    ffn = SwiGLUFFN(4, 8)
    x = torch.randn(2, 4)
    both = F.linear(x, ffn.w12.weight, ffn.w12.bias)
    gate, value = both[:, :8], both[:, 8:]
    expected = F.linear(gate * torch.sigmoid(gate) * value, ffn.w3.weight, ffn.w3.bias)
    assert torch.allclose(ffn(x), expected, atol=1e-6)
