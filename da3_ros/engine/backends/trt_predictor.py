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

"""TensorRT backend: engines built from the exported ONNX, run in-process on torch CUDA memory.

Inputs, outputs and the execution stream are torch's own (``data_ptr`` bound with
``set_tensor_address``, ``execute_async_v3`` on the current stream), so the engine's GPU pre-
and post-processing share device buffers with TensorRT and nothing crosses the host. Engines are
cached by variant, shape, precision, weights, GPU name and TensorRT version (sidecar JSON); a
stale or foreign engine is rebuilt; a configured ``model.model_file`` engine serves the shape its
sidecar names, and is refused when that sidecar names another GPU, TensorRT or precision. Only
runs where TensorRT >= 10.14 is installed (older versions have been reported to make DA3's depth
scale jump between frames).
"""
import json
import logging
from typing import Dict, Tuple

import torch

from da3_ros.engine.backends import cache
from da3_ros.engine.backends.graph import GraphPredictor, OnnxSource, Runner
from da3_ros.errors import ConfigError
from da3_ros.model.export import GraphShape

LOG = logging.getLogger(__name__)
MIN_TENSORRT = (10, 14)
WORKSPACE_BYTES = 4 << 30


def import_tensorrt():
    """Return the ``tensorrt`` module; ConfigError with the reason when absent or too old."""
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise ConfigError('model.backend tensorrt: the tensorrt Python package is not installed '
                          f'({exc}); install TensorRT >= {MIN_TENSORRT[0]}.{MIN_TENSORRT[1]} '
                          '(JetPack or NVIDIA pip index) or use backend onnxruntime/torch'
                          ) from exc
    version = tuple(int(part) for part in trt.__version__.split('.')[:2])
    if version < MIN_TENSORRT:
        raise ConfigError(f'model.backend tensorrt: TensorRT {trt.__version__} is older than '
                          f'{MIN_TENSORRT[0]}.{MIN_TENSORRT[1]}, which has been reported to make '
                          'DA3 depth scale jump between frames; upgrade TensorRT')
    return trt


def target(trt, precision: str) -> Dict[str, str]:
    """Return what an engine is bound to: TensorRT version, GPU name and precision."""
    return {'tensorrt': trt.__version__, 'gpu': torch.cuda.get_device_name(), 'precision':
            precision}


def build_engine(onnx_path: str, engine_path: str, fp16: bool,
                 workspace_bytes: int = WORKSPACE_BYTES) -> None:
    """Parse ``onnx_path`` and write a serialized engine to ``engine_path`` (FP16 on request).

    Raises:
        ConfigError: TensorRT is missing, cannot parse the model, cannot build, or (TensorRT 11+,
            strongly typed only) has no FP16 flag.
    """
    trt = import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ConfigError(f'{onnx_path}: TensorRT cannot parse the ONNX model: {errors}')
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16:
        if not hasattr(trt.BuilderFlag, 'FP16'):
            raise ConfigError(f'TensorRT {trt.__version__} has no FP16 builder flag (strongly '
                              'typed builds only); build fp32 or use TensorRT 10.14 - 10.x')
        config.set_flag(trt.BuilderFlag.FP16)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ConfigError(f'{onnx_path}: TensorRT failed to build an engine (see its log)')
    with open(engine_path, 'wb') as handle:
        handle.write(serialized)


class TensorRTGraph:
    """One deserialized engine; ``__call__`` maps named CUDA tensors to fresh output tensors."""

    def __init__(self, trt, engine_path: str, device: torch.device) -> None:
        with open(engine_path, 'rb') as handle:
            data = handle.read()
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(data)
        if self.engine is None:
            raise ConfigError(f'{engine_path}: TensorRT cannot deserialize this engine')
        self.context = self.engine.create_execution_context()
        self.device = device
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.outputs: Dict[str, Tuple[int, ...]] = {
            n: tuple(self.engine.get_tensor_shape(n)) for n in names
            if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT}

    def __call__(self, feed: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Run on fp32 inputs (moved to the device if needed); outputs fp32 on the device."""
        inputs = {n: t.to(self.device, torch.float32).contiguous() for n, t in feed.items()}
        outputs = {n: torch.empty(s, dtype=torch.float32, device=self.device)
                   for n, s in self.outputs.items()}
        for name, tensor in list(inputs.items()) + list(outputs.items()):
            self.context.set_tensor_address(name, tensor.data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError('TensorRT execute_async_v3 failed')
        return outputs


class TensorRTPredictor(GraphPredictor):
    """``model.backend: tensorrt``: FP16 engines for ``model.dtype`` fp16/bf16, else FP32."""

    def __init__(self, cfg, source: OnnxSource) -> None:
        self.trt = import_tensorrt()
        super().__init__(cfg, source)
        if self.device.type != 'cuda':
            raise ConfigError(f'model.device: {cfg.device!r} must be a CUDA device for the '
                              'tensorrt backend')
        self.precision = 'fp32' if cfg.dtype == 'fp32' else 'fp16'

    def engine_for(self, shape: GraphShape) -> str:
        """Path of a valid engine for ``shape`` (the configured one or the cache's)."""
        bound = target(self.trt, self.precision)
        given = self.cfg.model_file
        if given.endswith('.engine'):
            sidecar = cache.read_sidecar(given) or {}
            fields = _shape_fields(shape)
            if {k: sidecar.get(k) for k in fields} == fields:
                if {k: sidecar.get(k) for k in bound} != bound:
                    raise ConfigError(f'model.model_file: {given!r} was built for '
                                      f'{json.dumps(sidecar)}; this run needs '
                                      f'{json.dumps(bound)}; rebuild it with '
                                      'python -m da3_ros.tools.export trt')
                return given
            LOG.warning('model.model_file %s (sidecar %s) is not for %s; building into the cache',
                        given, sidecar or 'missing', shape)
        onnx_path = self.source.onnx_for(shape)
        key = dict(self.source.key(shape), artifact='engine', **bound)
        stem = f'{shape.variant}_s{shape.views}_{shape.height}x{shape.width}_{self.precision}'
        return cache.get_or_build(cache.cache_root(self.cfg.cache_dir), stem, '.engine', key,
                                  lambda path: build_engine(onnx_path, path,
                                                            self.precision == 'fp16'))

    def make_runner(self, shape: GraphShape) -> Runner:
        """Return a TensorRTGraph of ``shape``'s engine."""
        return TensorRTGraph(self.trt, self.engine_for(shape), self.device)


def _shape_fields(shape: GraphShape) -> dict:
    return {'variant': shape.variant, 'views': shape.views, 'height': shape.height,
            'width': shape.width, 'pose': shape.pose, 'ref_view_strategy': shape.ref_view_strategy}
