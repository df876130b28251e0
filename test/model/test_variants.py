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

"""The literal table of the upstream DA3 variants (docs/model.md, section 1).

That the tables build networks with exactly upstream's state-dict keys is test_keys.py.
"""
import pytest

from da3_ros.errors import ConfigError
from da3_ros.model.variants import (check_variant, has_gaussian_head, NESTED, VARIANT_NAMES,
                                    variant_spec)


def test_the_seven_variants():
    assert VARIANT_NAMES == ('da3-small', 'da3-base', 'da3-large', 'da3-giant', 'da3metric-large',
                             'da3mono-large', 'da3nested-giant-large')
    assert NESTED == {'da3nested-giant-large': ('da3-giant', 'da3metric-large')}


@pytest.mark.parametrize('name, embed_dim, depth, heads, ffn, head_kind, features', [
    ('da3-small', 384, 12, 6, 'mlp', 'dualdpt', 64),
    ('da3-base', 768, 12, 12, 'mlp', 'dualdpt', 128),
    ('da3-large', 1024, 24, 16, 'mlp', 'dualdpt', 256),
    ('da3-giant', 1536, 40, 24, 'swiglu', 'dualdpt', 256),
    ('da3metric-large', 1024, 24, 16, 'mlp', 'dpt', 256),
    ('da3mono-large', 1024, 24, 16, 'mlp', 'dpt', 256),
])
def test_backbone_and_head_facts(name, embed_dim, depth, heads, ffn, head_kind, features):
    spec = variant_spec(name)
    assert spec.name == name
    assert (spec.backbone.embed_dim, spec.backbone.depth, spec.backbone.num_heads,
            spec.backbone.ffn) == (embed_dim, depth, heads, ffn)
    assert (spec.head.kind, spec.head.features) == (head_kind, features)
    assert spec.backbone.out_layers[-1] == depth - 1  # the last feature is the last block
    # Only the any-view (DualDPT) networks have the camera token, global attention and cameras.
    assert spec.has_camera == (head_kind == 'dualdpt') == (spec.backbone.alt_start > 0)


def test_only_the_giant_networks_carry_the_gaussian_head():
    headed = [n for n in VARIANT_NAMES if has_gaussian_head(n)]
    assert headed == ['da3-giant', 'da3nested-giant-large']


def test_unknown_names_are_refused_naming_them_and_the_known_ones():
    with pytest.raises(ConfigError, match="'da3-tiny'.*da3-small, da3-base"):
        variant_spec('da3-tiny')
    with pytest.raises(ConfigError, match="'da3nested-giant-large'"):
        variant_spec('da3nested-giant-large')  # nested is two networks, not one spec
    assert check_variant('da3nested-giant-large') == 'da3nested-giant-large'
    with pytest.raises(ConfigError, match="'DA3-SMALL'"):
        check_variant('DA3-SMALL')
    with pytest.raises(ConfigError, match="'da3-tiny'"):
        has_gaussian_head('da3-tiny')
