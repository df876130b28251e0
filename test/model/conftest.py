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

"""Fixtures shared by the model tests: da3-small with the deterministic parity-rule weights."""
import pytest
import torch

from da3_ros.model import build_model
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.model.weights import load_state_dict_strict


@pytest.fixture(scope='module')
def small_model():
    """da3-small in eval mode, filled with ``rule_state_dict('da3-small')`` (no download)."""
    with torch.device('meta'):
        model = build_model('da3-small')
    load_state_dict_strict(model, rule_state_dict('da3-small'))
    return model.eval()
