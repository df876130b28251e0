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

"""Placeholder weights words mean the same in the node, the bag tool, the demo and the bench.

The rule itself is tested in test/model/test_weight_rule.py; here the words, end to end.
"""
import logging

import numpy as np
import torch

from da3_ros.config import EngineConfig, ModelConfig, placeholder_notice, PLACEHOLDER_WEIGHTS
from da3_ros.engine.predictor import load_network
from da3_ros.model.weight_rule import rule_state_dict
from da3_ros.ros import engine_setup
from da3_ros.tools.bag import config as bag_config, process as bag
from da3_ros.tools.bench import cli as bench

KEY = 'model.backbone.pretrained.patch_embed.proj.weight'


def _patch_weight(engine) -> np.ndarray:
    network = engine.predictor.network
    return network.backbone.pretrained.patch_embed.proj.weight.detach().cpu().numpy()


def test_words_and_their_state_dicts():
    assert set(PLACEHOLDER_WEIGHTS) == {'parity', 'random'}
    for word in PLACEHOLDER_WEIGHTS:
        assert 'MEANINGLESS' in placeholder_notice(word) and word in placeholder_notice(word)
    assert placeholder_notice('depth-anything/DA3-SMALL') == ''
    model = ModelConfig(variant='da3-small', weights='parity', device='cpu')
    parity = load_network(model).backbone.pretrained.patch_embed.proj.weight.detach().numpy()
    np.testing.assert_array_equal(parity, rule_state_dict('da3-small')[KEY])


def test_node_and_bag_tool_build_the_same_network_for_each_word():
    torch.manual_seed(0)
    rule = rule_state_dict('da3-small')[KEY]
    log = logging.getLogger('test')
    for word in PLACEHOLDER_WEIGHTS:
        model = ModelConfig(variant='da3-small', weights=word, device='cpu', dtype='fp32',
                            process_res=28)
        node = engine_setup.build_engine(EngineConfig(model=model), log)
        tool = bag.build_engine(bag_config.sample_config(model=model))
        same_as_rule = [np.array_equal(_patch_weight(e), rule) for e in (node, tool)]
        assert same_as_rule == ([True, True] if word == 'parity' else [False, False]), word
    assert bench.parse_args([]).weights == 'parity'
