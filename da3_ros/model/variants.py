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

"""Literal table of the upstream DA3 configurations (da3/configs/*.yaml at 2c21ea8).

Every number here is a fact of the official configurations (docs/model.md, section 1);
nothing is derived from a registry or YAML at run time.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

from da3_ros.errors import ConfigError


@dataclass(frozen=True)
class BackboneSpec:
    """DINOv2-style ViT/14 with alternating local/global attention (spec 1.1)."""

    embed_dim: int
    depth: int
    num_heads: int
    ffn: str  # 'mlp' (GELU, 4C hidden) or 'swiglu' (w12 -> 2 x 4096, w3)
    out_layers: Tuple[int, int, int, int]
    alt_start: int  # -1 = no camera token, no global attention
    qknorm_start: int
    rope_start: int
    cat_token: bool


@dataclass(frozen=True)
class HeadSpec:
    """DPT / DualDPT head dimensions (spec 1.2)."""

    kind: str  # 'dualdpt' (depth + ray) or 'dpt' (depth + sky)
    features: int
    out_channels: Tuple[int, int, int, int]


@dataclass(frozen=True)
class VariantSpec:
    """One network: backbone, head and whether it has the camera encoder/decoder."""

    name: str
    backbone: BackboneSpec
    head: HeadSpec
    has_camera: bool
    has_gs_head: bool


_VITS = BackboneSpec(384, 12, 6, 'mlp', (5, 7, 9, 11), 4, 4, 4, True)
_VITB = BackboneSpec(768, 12, 12, 'mlp', (5, 7, 9, 11), 4, 4, 4, True)
_VITL = BackboneSpec(1024, 24, 16, 'mlp', (11, 15, 19, 23), 8, 8, 8, True)
_VITG = BackboneSpec(1536, 40, 24, 'swiglu', (19, 27, 33, 39), 13, 13, 13, True)
_VITL_MONO = BackboneSpec(1024, 24, 16, 'mlp', (4, 11, 17, 23), -1, -1, -1, False)

_LARGE_CHANNELS = (256, 512, 1024, 1024)

METRIC_VARIANT = 'da3metric-large'  # its depth becomes metres by the focal rule (metric_scale)

VARIANTS = {
    'da3-small': VariantSpec(
        'da3-small', _VITS, HeadSpec('dualdpt', 64, (48, 96, 192, 384)), True, False),
    'da3-base': VariantSpec(
        'da3-base', _VITB, HeadSpec('dualdpt', 128, (96, 192, 384, 768)), True, False),
    'da3-large': VariantSpec(
        'da3-large', _VITL, HeadSpec('dualdpt', 256, _LARGE_CHANNELS), True, False),
    'da3-giant': VariantSpec(
        'da3-giant', _VITG, HeadSpec('dualdpt', 256, _LARGE_CHANNELS), True, True),
    METRIC_VARIANT: VariantSpec(
        METRIC_VARIANT, _VITL_MONO, HeadSpec('dpt', 256, _LARGE_CHANNELS), False, False),
    'da3mono-large': VariantSpec(
        'da3mono-large', _VITL_MONO, HeadSpec('dpt', 256, _LARGE_CHANNELS), False, False),
}

NESTED = {'da3nested-giant-large': ('da3-giant', METRIC_VARIANT)}

VARIANT_NAMES = tuple(VARIANTS) + tuple(NESTED)


def variant_spec(name: str) -> VariantSpec:
    """Return the spec of a single-network variant, or raise ConfigError naming it."""
    spec: Optional[VariantSpec] = VARIANTS.get(name)
    if spec is None:
        raise ConfigError(f'unknown DA3 variant {name!r}; known: {", ".join(VARIANT_NAMES)}')
    return spec


def check_variant(name: str) -> str:
    """Validate any variant name (nested included) and return it."""
    if name not in VARIANT_NAMES:
        raise ConfigError(f'unknown DA3 variant {name!r}; known: {", ".join(VARIANT_NAMES)}')
    return name


def has_gaussian_head(name: str) -> bool:
    """Whether the variant (nested included) carries the Gaussian-splatting head."""
    check_variant(name)
    anyview = NESTED[name][0] if name in NESTED else name
    return VARIANTS[anyview].has_gs_head
