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

"""Find, read and write DA3 checkpoints in the official Hugging Face layout.

A directory holds ``config.json`` (``{"model_name": "<variant>"}``) and ``model.safetensors``
with keys ``"model." + module path``. Reading never unpickles arbitrary objects: safetensors,
or ``torch.load(weights_only=True)`` for a legacy ``pytorch_model.bin``.
"""
import hashlib
import json
import logging
import os
import pickle
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from da3_ros.errors import WeightsError
from da3_ros.model.variants import check_variant
from da3_ros.model.weights import (CONFIG_NAME, LEGACY_BIN_NAME, load_state_dict_strict,
                                   LoadReport, SAFETENSORS_NAME)

LOG = logging.getLogger(__name__)
HEADER_HASH_BYTES = 1 << 20


def _read_config(directory: str) -> Optional[str]:
    path = os.path.join(directory, CONFIG_NAME)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise WeightsError(f'{path}: unreadable config.json ({exc})') from exc
    name = config.get('model_name') if isinstance(config, dict) else None
    if not isinstance(name, str):
        raise WeightsError(f'{path}: config.json has no string "model_name"')
    return name


def _hub_directory(repo_id: str) -> str:
    try:
        from huggingface_hub import snapshot_download
        return snapshot_download(repo_id, allow_patterns=[CONFIG_NAME, SAFETENSORS_NAME])
    except ImportError as exc:
        raise WeightsError(f'{repo_id}: huggingface_hub is not installed') from exc
    except Exception as exc:  # noqa: B902 - the hub raises many unrelated types
        raise WeightsError(f'{repo_id}: cannot fetch from the Hugging Face hub or its local '
                           f'cache ({type(exc).__name__}: {exc})') from exc


def resolve(source: str, variant: Optional[str] = None, *,
            default: Optional[str] = None) -> Tuple[str, str]:
    """(weights file, variant) for a directory, a .safetensors/.bin file or a hub id.

    The variant is ``variant``, else the one ``config.json`` names, else ``default``.
    """
    if os.path.isfile(source):
        name = variant or _read_config(os.path.dirname(os.path.abspath(source))) or default
        if name is None:
            raise WeightsError(f'{source}: no variant given and no config.json beside it')
        return source, check_variant(name)
    directory = resolve_directory(source)
    stored = _read_config(directory)
    if variant and stored and check_variant(stored) != check_variant(variant):
        raise WeightsError(f'{source}: the checkpoint is {stored} ({CONFIG_NAME} model_name) but'
                           f' the variant asked for is {variant}; set the variant to {stored}'
                           f' (node: model.variant, launch: variant:={stored})')
    name = variant or stored or default
    if name is None:
        raise WeightsError(f'{directory}: no {CONFIG_NAME} with "model_name" and no variant')
    for candidate in (SAFETENSORS_NAME, LEGACY_BIN_NAME):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path, check_variant(name)
    raise WeightsError(f'{directory}: neither {SAFETENSORS_NAME} nor {LEGACY_BIN_NAME} found')


def resolve_directory(source: str) -> str:
    """Return the folder of a directory source or of a hub id's snapshot."""
    if os.path.isdir(source):
        return source
    if (source.count('/') == 1 and not source.startswith(('.', '/'))
            and not source.endswith(('.safetensors', '.bin', '.pt', '.pth'))):
        return _hub_directory(source)
    raise WeightsError(f'{source}: no such checkpoint file or directory')


def read_tensors(path: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint file into {key: tensor} on the CPU; WeightsError if corrupt."""
    try:
        if path.endswith('.safetensors'):
            from safetensors.torch import load_file
            return load_file(path, device='cpu')
        state = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as exc:  # torch's text advises weights_only=False: not ours
        blocked = [line.strip() for line in str(exc).splitlines()
                   if line.strip().startswith(('Trying to load', 'Unsupported'))]
        detail = f' ({blocked[0]})' if blocked else ''
        raise WeightsError(f'{path}: refused: the pickle holds more than tensors{detail}; only'
                           ' plain tensors are read from a .bin (convert it to safetensors)'
                           ) from None
    except Exception as exc:  # noqa: B902 - safetensors/pickle raise many types
        raise WeightsError(f'{path}: cannot read checkpoint ({type(exc).__name__}: {exc})'
                           ) from exc
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise WeightsError(f'{path}: not a flat {{name: tensor}} state dict')
    return state


def identity(path: str) -> Tuple[int, str]:
    """(size in bytes, sha256 prefix of the first MiB) identifying a checkpoint file."""
    with open(path, 'rb') as handle:
        digest = hashlib.sha256(handle.read(HEADER_HASH_BYTES)).hexdigest()[:16]
    return os.path.getsize(path), digest


def load_model(source: str, *, variant: Optional[str] = None) -> Tuple[nn.Module, LoadReport]:
    """Build the checkpoint's variant and load it strictly (fp32, CPU)."""
    from da3_ros.model import build_model
    path, name = resolve(source, variant)
    with torch.device('meta'):
        model = build_model(name)
    report = load_state_dict_strict(model, read_tensors(path), source=path)
    report.size_bytes, report.header_sha256 = identity(path)
    LOG.debug('loaded %s (%s, %d bytes, sha256 %s...)', path, name, report.size_bytes,
              report.header_sha256)
    return model.eval(), report
