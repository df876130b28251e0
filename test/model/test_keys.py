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

"""Key coverage: our state_dict equals the upstream key listing, name for name, shape for shape."""
import os
import re

import pytest
import torch

from da3_ros.model import build_model, VARIANT_NAMES

LISTING = os.path.join(os.path.dirname(__file__), '..', 'data', 'da3-state-dict-keys.txt')


def upstream_keys():
    """{variant: {name: shape}} with '{i}' ranges expanded."""
    tables, current = {}, None
    with open(LISTING, encoding='utf-8') as handle:
        for line in handle:
            header = re.match(r'## (\S+):', line)
            if header:
                current = tables.setdefault(header.group(1), {})
                continue
            if current is None or not line.strip() or line.startswith('#'):
                continue
            name, shape = line.rstrip('\n').split('\t')
            dims = tuple(int(d) for d in shape.strip('[]').split(',') if d.strip())
            span = re.search(r'\s+\[i in (\d+)-(\d+)\]$', name)
            if span:
                base = name[:span.start()]
                for i in range(int(span.group(1)), int(span.group(2)) + 1):
                    current[base.replace('{i}', str(i))] = dims
            else:
                current[name] = dims
    return tables


UPSTREAM = upstream_keys()


@pytest.mark.parametrize('variant', VARIANT_NAMES)
def test_state_dict_matches_upstream(variant):
    with torch.device('meta'):
        model = build_model(variant)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = UPSTREAM[variant]
    assert set(ours) == set(theirs)
    assert all(ours[k] == theirs[k] for k in ours)
    gs = {k for k in ours if re.match(r'^(da3\.)?gs_head\.', k)}
    assert bool(gs) == (variant in ('da3-giant', 'da3nested-giant-large'))
