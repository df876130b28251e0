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

"""The deterministic weight rule of the parity fixtures (docs/parity.md, "The weight rule")."""
import numpy as np

from da3_ros.model.weight_rule import canonical_key, mean_std, rule_array, rule_state_dict


def test_rule_is_deterministic_and_keyed_by_name():
    first, again = rule_array('model.a.weight', (4, 3)), rule_array('model.a.weight', (4, 3))
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32
    assert not np.array_equal(first, rule_array('model.b.weight', (4, 3)))
    assert not np.array_equal(first, rule_array('model.a.weight', (4, 3), base_seed=1))


def test_norm_weights_centre_on_one_and_tied_keys_share_values():
    assert mean_std('model.backbone.pretrained.norm.weight', (8,)) == (1.0, 0.02)
    assert mean_std('model.da3.backbone.pretrained.norm.weight', (8,)) == (1.0, 0.02)
    tied = 'model.head.scratch.output_conv2_aux.2.2.weight'
    assert canonical_key(tied) == 'model.head.scratch.output_conv2_aux.0.2.weight'
    state = rule_state_dict('da3-small')
    np.testing.assert_array_equal(state[tied], state[canonical_key(tied)])
