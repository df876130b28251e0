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

"""The Gaussian head (DPT-style, 37 raw channels per pixel plus a density).

Its use inside the whole model is in test_da3.py; the adapter that turns its output into
Gaussians in test_gaussians.py.
"""
import torch

from da3_ros.model.gs_head import GaussianHead


def test_head_chunks_frames_like_a_single_pass():
    torch.manual_seed(0)
    head = GaussianHead(8, 16, (8, 8, 16, 16)).eval()
    tokens = [torch.randn(1, 9, 4, 8) for _ in range(4)]
    images = torch.randn(1, 9, 3, 28, 28)
    with torch.no_grad():
        raw, density = head(tokens, images)
        one_raw, one_density = head([t[:, 8:] for t in tokens], images[:, 8:])
    assert raw.shape == (1, 9, 28, 28, 37) and density.shape == (1, 9, 28, 28)
    assert torch.allclose(raw[:, 8:], one_raw, atol=1e-6)
    assert torch.allclose(density[:, 8:], one_density)
    assert bool(((density > 0) & (density < 1)).all())
