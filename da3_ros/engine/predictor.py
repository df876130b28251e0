"""The Predictor protocol and its PyTorch implementation.

Anything with ``predict(ModelInput) -> Prediction`` can drive the engine: the eager or compiled
PyTorch network here, a TensorRT engine later, or the simulated predictor of
``da3_ros.synthetic``. Predictions are batch-1 and stay on the device.
"""
import logging
from typing import Optional, Protocol

import torch
from torch import nn

from da3_ros.config import ModelConfig
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model import build_model
from da3_ros.model import weights as weights_lib
from da3_ros.model.checkpoint import load_model
from da3_ros.model.prediction import Prediction

AUTOCAST_DTYPES = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}

LOG = logging.getLogger(__name__)


class Predictor(Protocol):
    """One multi-view DA3 forward over the S views of a window."""

    def predict(self, inputs: ModelInput) -> Prediction:
        """Run the network; shapes as in :class:`ModelInput` and ``Prediction`` (B = 1)."""


class TorchPredictor:
    """Runs a DA3 ``nn.Module`` under inference mode and backbone autocast.

    The caller-side autocast covers the backbone only: the model keeps its heads in fp32, as
    upstream does. ``torch.compile`` is applied once when requested.

    Args:
        model: the network (weights loaded), on any device; moved to ``device``.
        device: torch device string.
        dtype: ``'fp32'``, ``'fp16'`` or ``'bf16'`` (backbone autocast).
        use_ray_pose: decode poses from the ray head.
        ref_view_strategy: reference-view choice.
        compile_model: wrap in ``torch.compile``.
    """

    def __init__(self, model: nn.Module, *, device: str = 'cpu', dtype: str = 'fp32',
                 use_ray_pose: bool = False, ref_view_strategy: str = 'saddle_balanced',
                 compile_model: bool = False) -> None:
        if dtype not in AUTOCAST_DTYPES:
            raise ConfigError(f'model.dtype: {dtype!r} is not one of {tuple(AUTOCAST_DTYPES)!r}')
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.network = torch.compile(self.model) if compile_model else self.model
        self.autocast_dtype = AUTOCAST_DTYPES[dtype]
        self.use_ray_pose = use_ray_pose
        self.ref_view_strategy = ref_view_strategy

    def predict(self, inputs: ModelInput) -> Prediction:
        """One forward of the window's views (batch 1)."""
        extr = None if inputs.extrinsics is None else inputs.extrinsics[None].float()
        intr = None if inputs.intrinsics is None else inputs.intrinsics[None].float()
        enabled = self.autocast_dtype is not None
        with torch.inference_mode(), torch.autocast(self.device.type,
                                                    dtype=self.autocast_dtype or torch.float32,
                                                    enabled=enabled):
            return self.network(inputs.images[None], extr, intr,
                                use_ray_pose=self.use_ray_pose,
                                ref_view_strategy=self.ref_view_strategy)


def load_network(cfg: ModelConfig, state_dict: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.variant`` and load its weights strictly.

    Args:
        cfg: model configuration; ``cfg.weights == 'random'`` keeps the initialisation.
        state_dict: checkpoint-keyed tensors to load instead of ``cfg.weights``.

    Raises:
        WeightsError: the checkpoint does not match the variant.
    """
    if state_dict is not None:
        with torch.device('meta'):  # no throw-away initialisation; the load assigns tensors
            model = build_model(cfg.variant)
        weights_lib.load_state_dict_strict(model, {k: torch.as_tensor(v)
                                                   for k, v in state_dict.items()})
        return model
    if cfg.weights == 'random':
        return build_model(cfg.variant)
    model, report = load_model(cfg.weights, variant=cfg.variant)
    LOG.debug('weights %s: %d bytes, sha256 %s..., %d Gaussian-head keys skipped',
              report.source, report.size_bytes, report.header_sha256, len(report.skipped))
    return model


def build_predictor(cfg: ModelConfig, state_dict: Optional[dict] = None) -> Predictor:
    """The predictor of ``cfg.backend``: TorchPredictor, or an exported-graph backend."""
    if cfg.backend != 'torch':
        from da3_ros.engine.backends import build_graph_predictor
        return build_graph_predictor(cfg, state_dict)
    return TorchPredictor(load_network(cfg, state_dict), device=cfg.device, dtype=cfg.dtype,
                          use_ray_pose=cfg.use_ray_pose,
                          ref_view_strategy=cfg.ref_view_strategy, compile_model=cfg.compile)
