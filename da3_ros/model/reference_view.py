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

"""Reference-view selection on backbone token 0 (spec 3).

The chosen view is moved first so it receives the reference camera token; its camera frame
becomes the world frame of the prediction. The index and both permutations are tensors (argmin,
where and gather, no tensor -> int conversion), so the choice stays on the device and the
network exports to a graph without control flow.
"""
import torch

from da3_ros.errors import ConfigError

STRATEGIES = ('first', 'middle', 'saddle_balanced', 'saddle_sim_range')
MIN_VIEWS_FOR_SELECTION = 3


def _minmax(values: torch.Tensor) -> torch.Tensor:
    return (values - values.min()) / (values.max() - values.min() + 1e-8)


def select_reference_view(token0: torch.Tensor, strategy: str) -> torch.Tensor:
    """Pick the reference view from token0 [S, C] (raw, any dtype); returns its index [] int64."""
    views = token0.shape[0]
    if strategy in ('first', 'middle'):
        index = 0 if strategy == 'first' else views // 2
        return torch.full((), index, dtype=torch.long, device=token0.device)
    tokens = token0.float()
    unit = tokens / tokens.norm(dim=-1, keepdim=True)
    sims = unit @ unit.T
    if strategy == 'saddle_balanced':
        sim = (sims.sum(dim=-1) - 1.0) / (views - 1)
        norms = tokens.norm(dim=-1)
        spread = unit.var(dim=-1, unbiased=True)
        score = ((_minmax(sim) - 0.5).abs() + (_minmax(norms) - 0.5).abs()
                 + (_minmax(spread) - 0.5).abs())
        return torch.argmin(score)
    if strategy == 'saddle_sim_range':
        sims = sims - torch.eye(views, device=sims.device)
        value_range = sims.max(dim=-1).values - sims.min(dim=-1).values
        return torch.argmax(value_range)
    raise ConfigError(f'unknown ref_view_strategy {strategy!r}; known: {", ".join(STRATEGIES)}')


def reference_order(views: int, ref: torch.Tensor) -> torch.Tensor:
    """View order [S] int64 that puts ``ref`` ([] int64) first and keeps the others in order."""
    slot = torch.arange(views, device=ref.device)
    return torch.where(slot == 0, ref, torch.where(slot - 1 < ref, slot - 1, slot))


def inverse_order(views: int, ref: torch.Tensor) -> torch.Tensor:
    """Inverse permutation [S] of ``reference_order(views, ref)``: original view -> its slot."""
    view = torch.arange(views, device=ref.device)
    return torch.where(view == ref, 0, torch.where(view < ref, view + 1, view))
