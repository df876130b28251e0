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

"""The Jetson memory estimate: exact parameter counts, monotone in views and resolution."""
import torch

from da3_ros.model import build_model
from da3_ros.tools import memory_estimate as mem


def test_parameter_count_is_the_networks():
    with torch.device('meta'):
        small = build_model('da3-small')
    assert mem.parameter_count('da3-small') == sum(p.numel() for p in small.parameters())
    nested = mem.parameter_count('da3nested-giant-large')
    assert nested == mem.parameter_count('da3-giant') + mem.parameter_count('da3metric-large')


def test_requirement_grows_with_views_resolution_and_unfused_attention():
    params = mem.parameter_count('da3-small')
    small = mem.required_gb('da3-small', 2, 280, 504, 'fp16', params)
    assert mem.required_gb('da3-small', 6, 280, 504, 'fp16', params) > small
    assert mem.required_gb('da3-small', 2, 504, 896, 'fp16', params) > small
    assert mem.required_gb('da3-small', 2, 280, 504, 'fp32', params) > small
    assert mem.required_gb('da3-small', 2, 280, 504, 'fp16', params, fused=False) > small
    weights_only = params * 2 / mem.GB
    assert small > weights_only


def test_max_views_respects_the_budget():
    params = mem.parameter_count('da3-giant')
    fits = mem.max_views('da3-giant', 504, 896, 8, 'fp16', params, fused=False)
    assert fits in mem.VIEWS or fits == 0
    if fits:
        assert mem.required_gb('da3-giant', fits, 504, 896, 'fp16', params,
                               fused=False) <= mem.budget_gb(8)
    assert mem.max_views('da3-giant', 504, 896, 1, 'fp16', params) == 0  # 1 GB: nothing fits
    assert mem.max_views('da3-small', 280, 504, 64, 'fp16', 1) == mem.VIEWS[-1]
