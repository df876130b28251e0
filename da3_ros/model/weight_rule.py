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

"""Deterministic name-seeded weights of the parity fixtures (docs/parity.md, "The weight rule").

Any implementation with the official parameter names regenerates exactly the same weights, so
the golden outputs computed upstream can be compared with ours without a released checkpoint.
The placeholder weights word ``parity`` (``config.PLACEHOLDER_WEIGHTS``) stands for these weights
wherever a model is built (``engine.predictor.load_network``): node, bag tool, demo and bench.
"""
import re
from typing import Dict, Iterable, Tuple
import zlib

import numpy as np
import torch

from da3_ros.model import build_model

BASE_SEED = 0x5EED
KEY_PREFIX = 'model.'

_NORM_WEIGHTS = (
    r'backbone\.pretrained\.blocks\.\d+\.norm[12]\.weight',
    r'backbone\.pretrained\.blocks\.\d+\.attn\.[qk]_norm\.weight',
    r'backbone\.pretrained\.norm\.weight',
    r'head\.norm\.weight',
    r'head\.scratch\.output_conv2_aux\.\d+\.2\.weight',
    r'cam_enc\.(token_norm|trunk_norm)\.weight',
    r'cam_enc\.trunk\.\d+\.norm[12]\.weight',
)
_LAYER_SCALES = (
    r'backbone\.pretrained\.blocks\.\d+\.ls[12]\.gamma',
    r'cam_enc\.trunk\.\d+\.ls[12]\.gamma',
)
_TIED = re.compile(r'(.*head\.scratch\.output_conv2_aux\.)\d+(\.2\.(weight|bias))')


def module_path(key: str) -> str:
    """Checkpoint key without 'model.' and without a nested 'da3.' / 'da3_metric.' prefix."""
    path = key[len(KEY_PREFIX):] if key.startswith(KEY_PREFIX) else key
    for nested in ('da3.', 'da3_metric.'):
        if path.startswith(nested):
            return path[len(nested):]
    return path


def mean_std(key: str, shape: Tuple[int, ...]) -> Tuple[float, float]:
    """(mean, std) of a key by the first matching rule of the fixture README table."""
    path = module_path(key)
    if any(re.fullmatch(p, path) for p in _NORM_WEIGHTS):
        return 1.0, 0.02
    if any(re.fullmatch(p, path) for p in _LAYER_SCALES):
        return 0.1, 0.02
    if len(shape) == 4 and re.fullmatch(r'(head|gs_head)\.resize_layers\.[01]\.weight', path):
        return 0.0, 1.0 / float(np.sqrt(shape[0]))
    if len(shape) == 4 and re.fullmatch(r'(head|gs_head)\..*\.weight', path):
        return 0.0, 1.0 / float(np.sqrt(shape[1] * shape[2] * shape[3]))
    if len(shape) == 2 and re.fullmatch(r'cam_dec\..*\.weight', path):
        return 0.0, 1.0 / float(np.sqrt(shape[1]))
    if path == 'cam_dec.fc_fov.0.bias':
        return 1.0, 0.02
    if path == 'head.scratch.sky_output_conv2.2.bias':
        return -2.5, 0.02
    return 0.0, 0.02


def canonical_key(key: str) -> str:
    """Return the key whose values a (possibly tied) key carries: aux LayerNorms use level 0."""
    match = _TIED.fullmatch(key)
    return f'{match.group(1)}0{match.group(2)}' if match else key


def rule_array(key: str, shape: Tuple[int, ...], base_seed: int = BASE_SEED) -> np.ndarray:
    """Values of one key: seeded by crc32(key) ^ base_seed, normal(mean, std), float32."""
    mean, std = mean_std(key, shape)
    rng = np.random.Generator(np.random.PCG64(zlib.crc32(key.encode('utf-8')) ^ base_seed))
    return (rng.standard_normal(tuple(shape), dtype=np.float64) * std + mean).astype(np.float32)


def rule_weights(shapes: Iterable[Tuple[str, Tuple[int, ...]]],
                 base_seed: int = BASE_SEED) -> Dict[str, np.ndarray]:
    """Generate {checkpoint key: array} for (key, shape) pairs; tied keys share one array."""
    out: Dict[str, np.ndarray] = {}
    pending = []
    for key, shape in shapes:
        canon = canonical_key(key)
        if canon != key:
            pending.append((key, canon, shape))
            continue
        out[key] = rule_array(key, shape, base_seed)
    for key, canon, shape in pending:
        out[key] = out[canon] if canon in out else rule_array(canon, shape, base_seed)
    return out


def rule_state_dict(variant: str, base_seed: int = BASE_SEED) -> Dict[str, np.ndarray]:
    """Rule weights for every checkpoint key of our ``variant`` network ('model.' + name)."""
    with torch.device('meta'):
        model = build_model(variant)
    shapes = [(KEY_PREFIX + name, tuple(t.shape)) for name, t in model.state_dict().items()]
    return rule_weights(shapes, base_seed)
