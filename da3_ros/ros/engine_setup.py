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

"""The node's engine: loading it at configure, and the GPU memory it holds (diagnostics)."""
from typing import Any

from da3_ros.config import EngineConfig, placeholder_notice, PLACEHOLDER_WEIGHTS
from da3_ros.engine.engine import Engine


def build_engine(config: EngineConfig, logger: Any) -> Engine:
    """Load the model and build the engine (the slow part of ``configure``).

    The placeholder weights words (``config.PLACEHOLDER_WEIGHTS``: ``parity``, ``random``) are
    understood by ``build_predictor``, as for every other tool; here they are announced loudly.

    Raises:
        WeightsError: the checkpoint does not match the variant.
        ConfigError: an invalid configuration.
    """
    if config.model.weights in PLACEHOLDER_WEIGHTS:
        notice = placeholder_notice(config.model.weights)
        logger.warning(f'{notice} (model {config.model.variant})')
    return Engine(config)


def gpu_memory_mb() -> float | None:
    """Memory allocated by torch on the current CUDA device in MiB, None without CUDA."""
    import torch
    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda.memory_allocated() / 2 ** 20
