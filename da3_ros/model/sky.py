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

"""Sky handling: the sky threshold, the mono/metric sky fill and the nested sky (spec 8.1, 8.3).

The nested model's metric alignment is in ``model.metric_scale``.

The >100k-sample branches use the global torch RNG exactly where upstream samples; below that
size everything is deterministic.
"""
from typing import Tuple

import torch

SKY_THRESHOLD = 0.3
MIN_REGION_PIXELS = 10
MAX_QUANTILE_SAMPLES = 100_000
NESTED_SKY_DEPTH_CAP = 200.0


def _sample_with_replacement(values: torch.Tensor) -> torch.Tensor:
    if values.numel() <= MAX_QUANTILE_SAMPLES:
        return values
    index = torch.randint(0, values.numel(), (MAX_QUANTILE_SAMPLES,), device=values.device)
    return values[index]


def fill_sky_depth(depth: torch.Tensor, sky: torch.Tensor) -> torch.Tensor:
    """Mono/metric: set sky pixels (score >= 0.3) to q0.99 of the non-sky depth.

    depth, sky: [B, S, H, W]. Unchanged when either region has <= 10 pixels.
    """
    non_sky = sky < SKY_THRESHOLD
    n_non_sky = int(non_sky.sum())
    if n_non_sky <= MIN_REGION_PIXELS or non_sky.numel() - n_non_sky <= MIN_REGION_PIXELS:
        return depth
    fill = torch.quantile(_sample_with_replacement(depth[non_sky]), 0.99)
    return torch.where(non_sky, depth, fill)


def nested_sky(depth: torch.Tensor, conf: torch.Tensor, non_sky: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sky pixels get depth min(q0.99(non-sky depth), 200) and confidence 1.0 (the minimum)."""
    fill = torch.clamp(torch.quantile(_sample_with_replacement(depth[non_sky]), 0.99),
                       max=NESTED_SKY_DEPTH_CAP)
    depth = torch.where(non_sky, depth, fill)
    conf = torch.where(non_sky, conf, torch.ones_like(conf))
    return depth, conf
