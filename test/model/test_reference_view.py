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

"""Choice of the reference view and the view order that puts it first (and its inverse)."""
import math

import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model.reference_view import (inverse_order, reference_order,
                                          select_reference_view)


def test_reference_view_strategies():
    tokens = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.1]])
    assert select_reference_view(tokens, 'first') == 0
    assert select_reference_view(tokens, 'middle') == 2
    assert 0 <= select_reference_view(tokens, 'saddle_balanced') < 4
    assert 0 <= select_reference_view(tokens, 'saddle_sim_range') < 4
    with pytest.raises(ConfigError, match='bogus'):
        select_reference_view(tokens, 'bogus')
    for ref in range(5):
        order = reference_order(5, torch.tensor(ref))
        expected = [ref] + [v for v in range(5) if v != ref]
        assert order.tolist() == expected
        assert order[inverse_order(5, torch.tensor(ref))].tolist() == list(range(5))


def test_saddle_balanced_picks_the_balanced_view():
    """A view in the middle of the similarity, norm and variance ranges wins."""
    base = torch.tensor([1.0, 0.0, 0.0, 0.0])
    tokens = torch.stack([base * 1.0, base * 3.0 + torch.tensor([0, 1.0, 0, 0]),
                          base * 5.0 + torch.tensor([0, 3.0, 2.0, 0])])
    scores = select_reference_view(tokens, 'saddle_balanced')
    assert scores == 1
    assert math.isfinite(float(tokens.norm()))
