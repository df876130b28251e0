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
