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

"""Strict state-dict loading: upstream key renames, missing/unexpected keys, dtypes, NaN/Inf.

The checkpoint files around it (layout, hub ids, pickles) are tested in test_checkpoint.py.
"""
from dataclasses import replace

import pytest
import torch

from da3_ros.errors import WeightsError
from da3_ros.model import build_model, DepthAnything3Net
from da3_ros.model.variants import variant_spec
from da3_ros.model.weights import load_state_dict_strict, rename_keys

VARIANT = 'da3-small'  # the variant of conftest.small_model


def test_gaussian_head_keys_load_strictly_like_the_rest(small_model):
    state = {'model.' + k: v for k, v in small_model.state_dict().items()}
    stray = dict(state, **{'model.gs_head.images_merger.0.weight': torch.zeros(32, 3, 3, 3)})
    with torch.device('meta'):
        model = build_model(VARIANT)
    with pytest.raises(WeightsError, match='unexpected keys: gs_head.images_merger.0.weight'):
        load_state_dict_strict(model, stray)
    with torch.device('meta'):  # a model with the head needs its keys: none is skipped by name
        headed = DepthAnything3Net(replace(variant_spec(VARIANT), has_gs_head=True))
    with pytest.raises(WeightsError, match='missing keys: gs_head.projects.0.weight'):
        load_state_dict_strict(headed, state)


def test_key_rules_are_anchored():
    renamed = rename_keys({'module.head.scratch.refinenet1_ray.out_conv.weight': 0,
                           'model.cam_dec.fc_rot.bias': 1,
                           'model.backbone.pretrained.blocks.0.attn.qkv_ray.x': 2})
    assert set(renamed) == {'head.scratch.refinenet1_aux.out_conv.weight',
                            'cam_dec.fc_qvec.bias', 'backbone.pretrained.blocks.0.attn.qkv_ray.x'}


@pytest.mark.parametrize('fault', ['int32', 'nan', 'inf'])
def test_wrong_dtype_or_non_finite_tensor_is_refused_with_its_key(small_model, fault):
    state = {'model.' + k: v.clone() for k, v in small_model.state_dict().items()}
    key = 'model.backbone.pretrained.cls_token'
    if fault == 'int32':
        state[key] = state[key].to(torch.int32)
    else:
        state[key].view(-1)[3] = float(fault)
    with torch.device('meta'):
        model = build_model(VARIANT)
    with pytest.raises(WeightsError, match='NaN or Inf' if fault != 'int32' else 'wrong dtypes'
                       ) as caught:
        load_state_dict_strict(model, state, source='ckpt')
    assert 'backbone.pretrained.cls_token' in str(caught.value)
