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

"""Tests of the backbone's inference-time position-table reuse."""
import torch

from da3_ros.model import build_model


def test_position_table_is_reused_in_inference_and_follows_new_weights():
    model = build_model('da3-small').eval()
    vit = model.backbone.pretrained
    images = torch.randn(1, 2, 3, 70, 98, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference = model(images).depth
    assert not vit._position_cache  # outside inference mode nothing is kept
    with torch.inference_mode():
        first = model(images).depth
        again = model(images).depth
    assert torch.equal(reference, first) and torch.equal(first, again)
    assert len(vit._position_cache) == 1
    with torch.no_grad():
        vit.pos_embed.add_(0.5)  # a new checkpoint: the cached table must not be used
    with torch.inference_mode():
        changed = model(images).depth
    with torch.no_grad():
        recomputed = model(images).depth
    assert not torch.equal(changed, first)
    assert torch.equal(changed, recomputed)
    assert len(vit._position_cache) == 1  # replaced for the new weights, not added


def test_position_tables_of_other_grids_stay_while_a_graph_may_read_them():
    """A captured CUDA graph reads the table's memory at replay: no grid evicts another's."""
    vit = build_model('da3-small').eval().backbone.pretrained
    with torch.inference_mode():
        first = vit.position_table(2, 3, False)
        for size in range(3, 15):
            vit.position_table(size, size + 1, False)
        assert vit.position_table(2, 3, False) is first


def test_position_table_of_a_model_built_in_inference_mode():
    images = torch.randn(1, 1, 3, 42, 56, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        model = build_model('da3-small').eval()
        first = model(images).depth
        again = model(images).depth
    assert torch.equal(first, again)
