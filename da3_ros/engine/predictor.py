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

"""The Predictor protocol and its PyTorch implementation.

Anything with ``predict(ModelInput) -> Prediction`` can drive the engine: the eager or compiled
PyTorch network here, a TensorRT engine later, or the simulated predictor of
``da3_ros.synthetic``. Predictions are batch-1 and stay on the device.
"""
import contextlib
import dataclasses
import functools
import logging
import os
from typing import Optional, Protocol

import torch
from torch import nn

from da3_ros.config import ModelConfig, PARITY_WEIGHTS, RANDOM_WEIGHTS
from da3_ros.engine.graph_capture import GraphedForward
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model import build_model
from da3_ros.model import weights as weights_lib
from da3_ros.model.backbone import Backbone
from da3_ros.model.checkpoint import load_model
from da3_ros.model.layers.mlp import Mlp
from da3_ros.model.prediction import Prediction
from da3_ros.model.weight_rule import rule_state_dict

AUTOCAST_DTYPES = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}
# Compiled versions Dynamo keeps of the network's forward, one per input shape and per set of
# forward arguments (ray branch, reference strategy). Its default of 8 is reached in one run
# when a window fills up while cameras drop out (each view count is a shape), and every
# version past it runs eagerly with only a warning; 64 holds, e.g., every view count from 1 to
# 24, with and without the ray branch.
COMPILED_SHAPES_LIMIT = 64

LOG = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _auto_device() -> str:
    """CUDA when available, else CPU with one warning per process (cached)."""
    if torch.cuda.is_available():
        return 'cuda'
    LOG.warning("model.device 'auto': no CUDA device, running on the CPU (slow)")
    return 'cpu'


def resolve_device(name: str) -> str:
    """Return the torch device of a ``model.device`` setting: ``'auto'`` is CUDA when available.

    ``'auto'`` without CUDA gives ``'cpu'`` with one warning. The one place a device setting
    is turned into a device: the node, the bag tool and the engine all come through here.

    Raises:
        ConfigError: not a torch device, or a CUDA device on a machine without one.
    """
    if name == 'auto':
        return _auto_device()
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ConfigError(f'model.device: {name!r} is not a torch device ({err})') from err
    if device.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            raise ConfigError(f'model.device: {name!r} but this machine has {count} CUDA'
                              " device(s); use 'auto' (CUDA when present, else CPU) or 'cpu'")
    return name


def with_device(cfg: ModelConfig) -> ModelConfig:
    """``cfg`` with :func:`resolve_device` applied (unchanged when already concrete)."""
    device = resolve_device(cfg.device)
    return cfg if device == cfg.device else dataclasses.replace(cfg, device=device)


class Predictor(Protocol):
    """One multi-view DA3 forward over the S views of a window."""

    def predict(self, inputs: ModelInput) -> Prediction:
        """Run the network; shapes as in :class:`ModelInput` and ``Prediction`` (B = 1)."""


class TorchPredictor:
    """Runs a DA3 ``nn.Module`` under inference mode and backbone autocast.

    The caller-side autocast covers the backbone; the dense heads run in fp32 as upstream does
    unless ``head_dtype`` names a half dtype (the fast path; camera decoding, sky and alignment
    stay fp32 either way). fp16 heads behind a bf16 backbone are the recommended fast path: the
    conv stacks run at half-precision speed while fp16's 10-bit mantissa keeps their rounding
    error far below bf16's. ``torch.compile`` is applied once when requested, with its kernel
    cache on disk (``TORCHINDUCTOR_CACHE_DIR``, default ``~/.cache/da3_ros/inductor``);
    ``cuda_graph`` replays the forward as one CUDA graph per input shape (CUDA only).

    Args:
        model: the network (weights loaded), on any device; moved to ``device``.
        device: torch device string.
        dtype: ``'fp32'``, ``'fp16'`` or ``'bf16'`` (backbone autocast).
        use_ray_pose: decode poses from the ray head.
        ref_view_strategy: reference-view choice.
        compile_model: wrap in ``torch.compile``.
        head_dtype: ``'fp32'``, ``'fp16'`` or ``'bf16'`` (dense heads).
        cuda_graph: capture and replay the forward (ignored off CUDA).
        ray_outputs: also return the ray map; the engine never reads it (poses come from the
            camera decoder unless ``use_ray_pose``), so by default the head's ray branch is
            skipped and ``Prediction.ray`` is None.
    """

    def __init__(self, model: nn.Module, *, device: str = 'cpu', dtype: str = 'fp32',
                 use_ray_pose: bool = False, ref_view_strategy: str = 'saddle_balanced',
                 compile_model: bool = False, head_dtype: str = 'fp32',
                 cuda_graph: bool = False, ray_outputs: bool = False) -> None:
        if dtype not in AUTOCAST_DTYPES:
            raise ConfigError(f'model.dtype: {dtype!r} is not one of {tuple(AUTOCAST_DTYPES)!r}')
        if head_dtype not in AUTOCAST_DTYPES:
            raise ConfigError(f'model.head_dtype: {head_dtype!r} is not one of '
                              f'{tuple(AUTOCAST_DTYPES)!r}')
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        _set_head_dtype(self.model, AUTOCAST_DTYPES[head_dtype])
        _set_mlp_epilogue(self.model, mlp_epilogue_dtype(self.device.type,
                                                         AUTOCAST_DTYPES[dtype]))
        if compile_model:
            os.environ.setdefault('TORCHINDUCTOR_CACHE_DIR', os.path.join(
                os.path.expanduser('~'), '.cache', 'da3_ros', 'inductor'))
        # dynamic=False: the engine runs a few fixed window shapes; each gets kernels
        # specialised to its sizes, where dynamo's default would turn the second shape it
        # sees (a window filling up, a new camera count) into symbolic-size kernels for all.
        self.network = (torch.compile(self.model, dynamic=False,
                                      options=compile_options(self.device.type))
                        if compile_model else self.model)
        self.compiled = compile_model
        if self.device.type == 'cuda' and (compile_model or cuda_graph):
            # Fixed shapes: let cuDNN time its convolution algorithms once per shape (during
            # the warm-up before any capture) and keep the fastest.
            torch.backends.cudnn.benchmark = True
        self.autocast_dtype = AUTOCAST_DTYPES[dtype]
        self.use_ray_pose = use_ray_pose
        self.ref_view_strategy = ref_view_strategy
        self.with_ray = ray_outputs or use_ray_pose
        graph = cuda_graph and self.device.type == 'cuda' and _graph_safe(self.model,
                                                                          use_ray_pose)
        if cuda_graph and not graph:
            LOG.warning('model.cuda_graph: needs CUDA, an any-view variant and '
                        'use_ray_pose false; running eagerly')
        self.graphed = GraphedForward(self._forward) if graph else None

    def predict(self, inputs: ModelInput) -> Prediction:
        """One forward of the window's views (batch 1)."""
        extr = None if inputs.extrinsics is None else inputs.extrinsics[None].float()
        intr = None if inputs.intrinsics is None else inputs.intrinsics[None].float()
        images = inputs.images[None]
        with torch.inference_mode():
            if self.graphed is not None and not inputs.gaussians:
                return self.graphed(images, extr, intr)
            return self._forward(images, extr, intr, gaussians=inputs.gaussians)

    def _forward(self, images: torch.Tensor, extr: Optional[torch.Tensor],
                 intr: Optional[torch.Tensor], gaussians: bool = False) -> Prediction:
        enabled = self.autocast_dtype is not None
        # No autocast weight cache: it cannot live inside a CUDA graph, and the network casts
        # each weight once per forward anyway.
        compiling = (compile_context(self.device.type) if self.compiled
                     else contextlib.nullcontext())
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32,
                            enabled=enabled, cache_enabled=False), compiling:
            extra = {'gaussians': True} if gaussians else {}
            return self.network(images, extr, intr, use_ray_pose=self.use_ray_pose,
                                ref_view_strategy=self.ref_view_strategy,
                                with_ray=self.with_ray, **extra)


def compile_options(device_type: str) -> dict:
    """Inductor options of the compiled forward on ``device_type``.

    On CUDA the weights are frozen (``freezing``): inductor treats them as constants of the
    inference graph and folds what depends on them alone, chiefly autocast's per-forward casts
    of every weight to the half dtype (the casts run once at compile time; the values are the
    same). The options are in force while Dynamo traces too (:func:`compile_context`), without
    which nothing is frozen; ``docs/benchmarks/README.md`` has the measured effect. The
    price: the compiled graph keeps its own half copies of the weights, so weights loaded
    into the module after the first compiled call are not seen (the predictor never does
    that). Elsewhere inductor's defaults stay (not measured off CUDA).
    """
    return {'freezing': True} if device_type == 'cuda' else {}


def compile_context(device_type: str):
    """Context that puts :func:`compile_options` in force around each compiled call.

    ``torch.compile(options=...)`` reaches inductor only after Dynamo has traced, but Dynamo
    decides while tracing whether the parameters become attributes of the graph, which is
    what ``freezing`` turns into constants. With the option given to ``torch.compile`` alone,
    inductor receives the weights as inputs and freezes nothing. Dynamo's limit of compiled
    versions per function is raised to :data:`COMPILED_SHAPES_LIMIT` in the same context.
    """
    # Imported here: loading inductor's config loads Dynamo and inductor (about 2 s), which
    # only a compiled predictor needs.
    import torch._dynamo.config as dynamo_config
    import torch._inductor.config as inductor_config
    stack = contextlib.ExitStack()
    stack.enter_context(inductor_config.patch(compile_options(device_type)))
    stack.enter_context(dynamo_config.patch(recompile_limit=COMPILED_SHAPES_LIMIT))
    return stack


def _set_head_dtype(model: nn.Module, head_dtype: Optional[torch.dtype]) -> None:
    """Tell every DepthAnything3Net inside ``model`` which dtype its dense heads run in."""
    for module in model.modules():
        if hasattr(module, 'head_dtype'):
            module.head_dtype = head_dtype


def mlp_epilogue_dtype(device_type: str,
                       autocast_dtype: Optional[torch.dtype]) -> Optional[torch.dtype]:
    """Return the dtype of the backbone MLPs' fused fc1 + GELU (None: upstream's exact form).

    Only on CUDA under half autocast: the fusion is cuBLASLt's epilogue (on the CPU the same
    call is a matmul and a GELU anyway), and fp32 must stay exact to the parity fixtures.
    """
    return autocast_dtype if device_type == 'cuda' else None


def _set_mlp_epilogue(model: nn.Module, dtype: Optional[torch.dtype]) -> None:
    """Run fc1 + GELU of every backbone MLP as one matmul in ``dtype`` (None: exact, unfused).

    Only the backbone's MLPs: the backbone follows the autocast dtype, while the camera
    encoder's blocks run in fp32 as upstream's do.
    """
    for module in model.modules():
        if isinstance(module, Backbone):
            for mlp in module.modules():
                if isinstance(mlp, Mlp):
                    mlp.epilogue_dtype = dtype


def _graph_safe(model: nn.Module, use_ray_pose: bool) -> bool:
    """Whether the forward has no host synchronisation: any-view nets with the camera decoder.

    The ray-pose decoder (RANSAC) and the sky fill / nested alignment of the mono, metric and
    nested variants read data-dependent sizes on the host.
    """
    spec = getattr(model, 'spec', None)
    return not use_ray_pose and spec is not None and spec.head.kind == 'dualdpt'


def load_network(cfg: ModelConfig, state_dict: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.variant`` and load its weights strictly.

    Args:
        cfg: model configuration; of the placeholder words (``config.PLACEHOLDER_WEIGHTS``)
            ``random`` keeps PyTorch's initialisation and ``parity`` loads the deterministic
            parity-rule weights (``model.weight_rule``); anything else is a checkpoint.
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
    if cfg.weights == RANDOM_WEIGHTS:
        return build_model(cfg.variant)
    if cfg.weights == PARITY_WEIGHTS:
        return load_network(cfg, rule_state_dict(cfg.variant))
    model, report = load_model(cfg.weights, variant=cfg.variant)
    LOG.debug('weights %s: %d bytes, sha256 %s...', report.source, report.size_bytes,
              report.header_sha256)
    return model


def build_predictor(cfg: ModelConfig, state_dict: Optional[dict] = None) -> Predictor:
    """Return the predictor of ``cfg.backend``: TorchPredictor, or an exported-graph backend.

    ``cfg.device`` may be 'auto' (see :func:`with_device`).
    """
    if cfg.backend == 'tensorrt':  # a missing TensorRT is the reason to name, before the GPU
        from da3_ros.engine.backends.trt_predictor import import_tensorrt
        import_tensorrt()
    cfg = with_device(cfg)
    if cfg.backend != 'torch':
        from da3_ros.engine.backends import build_graph_predictor
        return build_graph_predictor(cfg, state_dict)
    return TorchPredictor(load_network(cfg, state_dict), device=cfg.device, dtype=cfg.dtype,
                          use_ray_pose=cfg.use_ray_pose,
                          ref_view_strategy=cfg.ref_view_strategy, compile_model=cfg.compile,
                          head_dtype=cfg.head_dtype, cuda_graph=cfg.cuda_graph)
