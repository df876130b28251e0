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

"""Checkpoint reading and strict loading (safetensors, or torch.load with weights_only).

Sources: a local directory in the Hugging Face layout (``config.json`` with ``model_name`` and
``model.safetensors``), a single ``.safetensors`` file, or a hub id fetched with
``huggingface_hub`` (which honours ``HF_HUB_OFFLINE`` and the local cache). Keys pass through
one ordered list of anchored rename rules, then load strictly: any missing, unexpected or
mis-shaped key, a tensor of the wrong dtype (integer for float) or with NaN/Inf values raises
``WeightsError`` naming the file and the first offending keys. The
Gaussian-splatting head is not built; its keys are skipped by name and reported.
"""
from dataclasses import dataclass
import logging
import re
from typing import Dict, List, Mapping, Tuple

import torch
from torch import nn

from da3_ros.errors import WeightsError

LOG = logging.getLogger(__name__)
CONFIG_NAME = 'config.json'
SAFETENSORS_NAME = 'model.safetensors'
LEGACY_BIN_NAME = 'pytorch_model.bin'
MAX_LISTED_KEYS = 10

# Ordered (pattern, replacement) rules; applied once each, in order, to every key.
KEY_RULES: Tuple[Tuple[str, str], ...] = (
    (r'^module\.', 'model.'),
    (r'^model\.', ''),
    (r'^all_heads\.camera_cond_head\.', 'cam_enc.'),
    (r'^all_heads\.camera_head\.', 'cam_dec.'),
    (r'^all_heads\.head\.', 'head.'),
    (r'^cam_dec\.fc_rot\.', 'cam_dec.fc_qvec.'),
    (r'\.output_conv2_additional\.sky_mask\.', '.sky_output_conv2.'),
    (r'^((?:da3\.)?head\.scratch\.(?:refinenet\d|output_conv[12]))_ray\.', r'\1_aux.'),
)
_TIED_AUX_NORM = re.compile(r'^(.*head\.scratch\.output_conv2_aux\.)\d(\.2\.(weight|bias))$')


@dataclass
class LoadReport:
    """What a strict load read: the source and its identity (size, header hash)."""

    source: str
    size_bytes: int = 0
    header_sha256: str = ''


def rename_keys(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Apply KEY_RULES to every key (checkpoint key -> module path)."""
    out = {}
    for key, value in state_dict.items():
        for pattern, replacement in KEY_RULES:
            key = re.sub(pattern, replacement, key, count=1)
        out[key] = value
    return out


def _fill_ties(expected: Mapping[str, torch.Tensor], state: Dict[str, torch.Tensor]) -> None:
    """Safetensors stores a shared tensor once: copy the aux LayerNorm to its other names."""
    for key in expected:
        match = _TIED_AUX_NORM.match(key)
        if key in state or match is None:
            continue
        twins = [f'{match.group(1)}{level}{match.group(2)}' for level in range(4)]
        present = [twin for twin in twins if twin in state]
        if present:
            state[key] = state[present[0]]


def _listed(keys: List[str]) -> str:
    more = f' (+{len(keys) - MAX_LISTED_KEYS} more)' if len(keys) > MAX_LISTED_KEYS else ''
    return ', '.join(keys[:MAX_LISTED_KEYS]) + more


def _value_problems(expected: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
                    ) -> List[str]:
    """Wrong dtypes (integer/bool where the model has floats, or the reverse) and NaN/Inf.

    Either would load without complaint (``assign`` keeps the checkpoint's dtype, and NaN is
    a float) and fail later or silently poison every output.
    """
    dtypes = [f'{k} {state[k].dtype} (model: {v.dtype})' for k, v in expected.items()
              if k in state and (state[k].is_floating_point() != v.is_floating_point()
                                 or not v.is_floating_point() and state[k].dtype != v.dtype)]
    finite = [k for k, v in state.items()
              if k in expected and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    problems = []
    if dtypes:
        problems.append(f'wrong dtypes: {_listed(dtypes)}')
    if finite:
        problems.append(f'NaN or Inf values: {_listed(finite)}')
    return problems


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, object],
                           source: str = '<state_dict>') -> LoadReport:
    """Load checkpoint-keyed tensors or arrays into ``model`` strictly (assigns, no copy).

    Raises:
        WeightsError: missing, unexpected or mis-shaped keys, wrong dtypes or NaN/Inf values,
            naming ``source`` and the keys.
    """
    report = LoadReport(source)
    state = {k: torch.as_tensor(v) for k, v in rename_keys(state_dict).items()}
    expected = model.state_dict(keep_vars=True)
    _fill_ties(expected, state)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f'{k} {tuple(state[k].shape)} != {tuple(v.shape)}' for k, v in expected.items()
             if k in state and tuple(state[k].shape) != tuple(v.shape)]
    problems = []
    if missing:
        problems.append(f'missing keys: {_listed(missing)}')
    if unexpected:
        problems.append(f'unexpected keys: {_listed(unexpected)}')
    if wrong:
        problems.append(f'wrong shapes: {_listed(wrong)}')
    problems.extend(_value_problems(expected, state))
    if problems:
        detail = '; '.join(problems)
        raise WeightsError(f'{source}: checkpoint does not match the model; {detail}')
    dtype = next(iter(expected.values())).dtype
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    return report
