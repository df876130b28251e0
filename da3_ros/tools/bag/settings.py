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

"""What a ``--resume`` must share with the run it continues, and the refusal when it does not.

The settings are flat ``{name: value}``: every ``BagConfig`` field under its dotted path
(``engine.model.variant``, ``engine.output.max_depth`` ...; ``model.device`` already resolved),
the weights' identity (the checkpoint by size and hash, not by path) and the tool version. They
are saved in every commit's resume state (``state``).
"""
from dataclasses import asdict
import json
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from da3_ros.config import PARITY_WEIGHTS, RANDOM_WEIGHTS
from da3_ros.tools.bag import params_file
from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.bag.io import BagError

UNSEEDED = 'unseeded random initialisation'  # weights 'random': never the same twice
SHOWN = 3  # differences named in the refusal


def run_settings(config: BagConfig, predictor: Optional[Any] = None) -> Dict[str, Any]:
    """Return what a resumed run must share with the run it continues, flat ``{name: value}``.

    Every config field (``model.device`` resolved; the checkpoint by identity, not by path),
    the weights' identity and the tool version.
    """
    tree = json.loads(json.dumps(asdict(config), default=lambda v: np.asarray(v).tolist()))
    settings = {k: v for k, v in params_file.flatten(tree).items() if k != 'engine.model.weights'}
    settings['weights'] = weights_identity(config.engine.model, predictor)
    settings['da3_bag version'] = tool_version()
    return settings


def weights_identity(model: Any, predictor: Optional[Any] = None) -> str:
    """Get the weights' identity: ``'parity rule'``, :data:`UNSEEDED`, a checkpoint or a predictor.

    A checkpoint is ``'<file> <bytes> bytes, sha256 <first MiB>'``; an injected predictor is
    named by its type.
    """
    if predictor is not None:
        return f'injected {type(predictor).__name__}'
    if model.weights == PARITY_WEIGHTS:
        return 'parity rule'
    if model.weights == RANDOM_WEIGHTS:
        return UNSEEDED
    from da3_ros.model.checkpoint import identity, resolve
    path, _ = resolve(model.weights, model.variant)
    size, digest = identity(path)
    return f'{Path(path).name} {size} bytes, sha256 {digest}'


def tool_version() -> str:
    """Return the installed da3_ros version ('unknown' outside an installation)."""
    from importlib import metadata
    try:
        return metadata.version('da3_ros')
    except metadata.PackageNotFoundError:
        return 'unknown'


def check(out: Path, saved: Dict[str, Any], current: Dict[str, Any]) -> None:
    """Raise BagError naming the settings of ``current`` that differ from ``saved``."""
    if UNSEEDED in (saved.get('weights'), current.get('weights')):
        raise BagError(f"--resume: {str(out)!r} was written with weights 'random', an unseeded"
                       ' initialisation that a resumed run cannot reproduce; use --weights'
                       ' parity (deterministic) for placeholder runs that must resume')
    differ = differences(saved, current)
    if differ:
        more = f' (+{len(differ) - SHOWN} more)' if len(differ) > SHOWN else ''
        shown = '; '.join(differ[:SHOWN]) + more
        raise BagError(f'--resume: {str(out)!r} was written with other settings: {shown}'
                       ' (interrupted run -> this run); resume with the same settings or write'
                       ' a new output')


def differences(saved: Dict[str, Any], current: Dict[str, Any]) -> list:
    """``'name: saved -> current'`` for every setting that differs."""
    keys = sorted(set(saved) | set(current))
    return [f'{key}: {saved.get(key)!r} -> {current.get(key)!r}' for key in keys
            if saved.get(key) != current.get(key)]
