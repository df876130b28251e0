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

"""Predictors that run an exported graph per window shape (onnxruntime, TensorRT).

A window's shape (S views, processed H x W, with or without pose conditioning) fixes one graph
(``da3_ros.model.export``). ``GraphPredictor`` keeps one runner per shape, gets the ``.onnx`` of
a shape from :class:`OnnxSource` (the configured file when its shape matches, else an export
into the cache) and finishes the raw outputs with ``to_prediction``, so it returns exactly what
``TorchPredictor`` returns for the same network, up to the graph runtime's rounding.
"""
import hashlib
import logging
import os
from typing import Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np
import torch
from torch import nn

from da3_ros.config import ModelConfig, PLACEHOLDER_WEIGHTS
from da3_ros.engine.backends import cache
from da3_ros.engine.types import ModelInput
from da3_ros.errors import ConfigError
from da3_ros.model import checkpoint
from da3_ros.model.export import (export_onnx, GraphShape, IMAGE_INPUT, OPSET, POSE_INPUTS,
                                  shape_from_metadata, to_prediction)
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import NESTED, variant_spec

LOG = logging.getLogger(__name__)
Runner = Callable[[Dict[str, torch.Tensor]], Dict[str, torch.Tensor]]
MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'model')


def tensors_fingerprint(items: Iterable[Tuple[str, object]]) -> str:
    """sha256 (16 hex) over (name, shape, fp32 values) of tensors or arrays, sorted by name."""
    digest = hashlib.sha256()
    for name, value in sorted(items, key=lambda item: item[0]):
        array = np.ascontiguousarray(torch.as_tensor(value).detach().cpu().float().numpy())
        digest.update(f'{name}:{array.shape};'.encode())
        digest.update(array.view(np.uint8).tobytes())
    return digest.hexdigest()[:16]


def model_source_digest() -> str:
    """sha256 (12 hex) of the network's source files: a code change invalidates exports."""
    digest = hashlib.sha256()
    for root, _, files in sorted(os.walk(MODEL_DIR)):
        for name in sorted(f for f in files if f.endswith('.py')):
            with open(os.path.join(root, name), 'rb') as handle:
                digest.update(name.encode() + handle.read())
    return digest.hexdigest()[:12]


def read_onnx_shape(path: str) -> GraphShape:
    """Return the ``GraphShape`` stored in a da3_ros ONNX export; ConfigError naming the file."""
    import onnx
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # noqa: B902 - protobuf and OS errors alike
        raise ConfigError(f'model.model_file: cannot read ONNX {path!r} ({exc})') from exc
    try:
        return shape_from_metadata({p.key: p.value for p in model.metadata_props})
    except ConfigError as exc:
        raise ConfigError(f'model.model_file: {path!r}: {exc}') from exc


class OnnxSource:
    """The ``.onnx`` of a shape: ``cfg.model_file`` if it matches, else exported into the cache.

    Args:
        cfg: model configuration (variant, weights, model_file, cache_dir).
        state_dict: checkpoint-keyed tensors instead of ``cfg.weights`` (as ``load_network``).
        load: ``load_network``-like callable building the torch network on first export.
    """

    def __init__(self, cfg: ModelConfig, state_dict: Optional[Mapping] = None,
                 load: Optional[Callable[[ModelConfig, Optional[Mapping]], nn.Module]] = None
                 ) -> None:
        self.cfg = cfg
        self.state_dict = state_dict
        self._load = load
        self._net: Optional[nn.Module] = None
        self._weights_id: Optional[str] = None
        self.given: Optional[GraphShape] = None
        if cfg.model_file.endswith('.onnx'):
            self.given = read_onnx_shape(cfg.model_file)
            if self.given.variant != cfg.variant:
                raise ConfigError(f'model.model_file: {cfg.model_file!r} is an export of '
                                  f'{self.given.variant}, model.variant is {cfg.variant}')

    def network(self) -> nn.Module:
        """Build the torch network once, on the first export, and return it."""
        if self._net is None:
            LOG.info('loading %s on the CPU to export it', self.cfg.variant)
            self._net = self._load(self.cfg, self.state_dict).float().eval()
        return self._net

    def weights_id(self) -> str:
        """Identity of the weights: checkpoint size + header hash, else a hash of the values."""
        if self._weights_id is None:
            if self.state_dict is not None:
                self._weights_id = 'tensors:' + tensors_fingerprint(self.state_dict.items())
            elif self.cfg.weights in PLACEHOLDER_WEIGHTS:  # built, not read from a file
                net = self.network()
                self._weights_id = 'tensors:' + tensors_fingerprint(net.state_dict().items())
            else:
                path, _ = checkpoint.resolve(self.cfg.weights, self.cfg.variant)
                size, digest = checkpoint.identity(path)
                self._weights_id = f'file:{size}:{digest}'
        return self._weights_id

    def key(self, shape: GraphShape) -> dict:
        """Everything an export depends on."""
        import onnx
        import onnxscript
        return {'artifact': 'onnx', 'variant': shape.variant, 'views': shape.views,
                'height': shape.height, 'width': shape.width, 'pose': shape.pose,
                'ref_view_strategy': shape.ref_view_strategy, 'weights': self.weights_id(),
                'torch': torch.__version__, 'onnx': onnx.__version__,
                'onnxscript': onnxscript.__version__, 'opset': OPSET,
                'model_source': model_source_digest()}

    def onnx_for(self, shape: GraphShape) -> str:
        """Path of an ONNX file computing ``shape``."""
        if self.given == shape:
            return self.cfg.model_file
        if self.given is not None:
            LOG.warning('model.model_file %s is for %s; exporting %s into the cache',
                        self.cfg.model_file, self.given, shape)
        stem = f'{shape.variant}_s{shape.views}_{shape.height}x{shape.width}' + (
            '_pose' if shape.pose else '')

        def build(path: str) -> None:
            LOG.info('exporting %s to ONNX (once per shape; cached)', stem)
            export_onnx(self.network(), shape, path, {'da3.weights': self.weights_id()})

        return cache.get_or_build(cache.cache_root(self.cfg.cache_dir), stem, '.onnx',
                                  self.key(shape), build)


class GraphPredictor:
    """Base of the graph backends: ``predict`` as TorchPredictor; subclasses make runners.

    Args:
        cfg: model configuration.
        source: where the ONNX of each shape comes from.
    """

    def __init__(self, cfg: ModelConfig, source: OnnxSource) -> None:
        self.cfg = cfg
        self.source = source
        self.device = torch.device(cfg.device)
        variant = cfg.variant
        self.anyview = variant in NESTED or variant_spec(variant).has_camera
        self._runners: Dict[GraphShape, Runner] = {}

    def shape_of(self, inputs: ModelInput) -> GraphShape:
        """Return the graph shape that serves ``inputs``."""
        views, _, height, width = inputs.images.shape
        pose = self.anyview and inputs.extrinsics is not None
        return GraphShape(self.cfg.variant, int(views), int(height), int(width), pose,
                          self.cfg.ref_view_strategy)

    def runner(self, shape: GraphShape) -> Runner:
        """Return the runner of ``shape`` (created on first use)."""
        if shape not in self._runners:
            self._runners[shape] = self.make_runner(shape)
        return self._runners[shape]

    def make_runner(self, shape: GraphShape) -> Runner:
        """Create the runner of one shape (subclasses)."""
        raise NotImplementedError

    def predict(self, inputs: ModelInput) -> Prediction:
        """One forward of the window's views (batch 1), finished as the torch forward."""
        shape = self.shape_of(inputs)
        feed = {IMAGE_INPUT: inputs.images[None].float()}
        if shape.pose:
            feed[POSE_INPUTS[0]] = inputs.extrinsics[None].float()
            feed[POSE_INPUTS[1]] = inputs.intrinsics[None].float()
        outputs = self.runner(shape)(feed)
        with torch.inference_mode():
            return to_prediction(shape, outputs, self.cfg.use_ray_pose)
