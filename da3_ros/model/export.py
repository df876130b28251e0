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

"""The exported-graph contract: one fixed rig shape, raw outputs, finishing outside the graph.

``GraphNet`` wraps a DA3 network for ``torch.onnx.export(..., dynamo=True)``: batch 1, S views,
fixed H x W, fp32. Its outputs are the network's raw tensors (``Prediction`` names); the
data-dependent steps of :mod:`da3_ros.model.finish` (sky fill, ray pose, nested alignment) run
after the graph in :func:`to_prediction`, so an exported model plus ``to_prediction`` computes
the same function as the torch forward. Reference-view selection (S >= 3) is inside the graph
(argmin / gather). ONNX value names are unique, so the pose-conditioning inputs are called
``cond_extrinsics`` [1, S, 4, 4] and ``cond_intrinsics`` [1, S, 3, 3].
"""
from dataclasses import dataclass
import logging
from typing import Dict, Mapping, Sequence, Tuple

import torch
from torch import nn

from da3_ros.errors import ConfigError
from da3_ros.model.finish import finish_nested, finish_single
from da3_ros.model.prediction import Prediction
from da3_ros.model.uv_embedding import uv_embedding_in_graph
from da3_ros.model.variants import check_variant, NESTED, variant_spec

ANYVIEW_OUTPUTS = ('depth', 'depth_conf', 'extrinsics', 'intrinsics', 'ray', 'ray_conf')
MONO_OUTPUTS = ('depth', 'sky')
NESTED_OUTPUTS = ANYVIEW_OUTPUTS + ('metric_depth', 'metric_sky')
IMAGE_INPUT = 'images'
POSE_INPUTS = ('cond_extrinsics', 'cond_intrinsics')
OPSET = 18


@dataclass(frozen=True)
class GraphShape:
    """What one exported graph is fixed to.

    Attributes:
        variant: DA3 variant name.
        views: S, the views of one forward.
        height: processed image height H (multiple of 14).
        width: processed image width W (multiple of 14).
        pose: whether the graph takes the pose-conditioning inputs.
        ref_view_strategy: reference-view choice baked into the graph (S >= 3, no pose).
    """

    variant: str
    views: int
    height: int
    width: int
    pose: bool = False
    ref_view_strategy: str = 'saddle_balanced'

    @property
    def image_hw(self) -> Tuple[int, int]:
        """(H, W)."""
        return self.height, self.width


def output_names(variant: str) -> Tuple[str, ...]:
    """Graph output names of ``variant`` in order."""
    if check_variant(variant) in NESTED:
        return NESTED_OUTPUTS
    return ANYVIEW_OUTPUTS if variant_spec(variant).has_camera else MONO_OUTPUTS


def input_names(shape: GraphShape) -> Tuple[str, ...]:
    """Graph input names: ``images`` and, for a pose-conditioned graph, the pose inputs."""
    return (IMAGE_INPUT,) + (POSE_INPUTS if shape.pose else ())


def check_shape(shape: GraphShape) -> GraphShape:
    """Refuse shapes and combinations that have no exported graph; ConfigError names them."""
    check_variant(shape.variant)
    if shape.views < 1:
        raise ConfigError(f'views: {shape.views} must be >= 1')
    for name, value in (('height', shape.height), ('width', shape.width)):
        if value < 14 or value % 14:
            raise ConfigError(f'{name}: {value} must be a positive multiple of 14')
    anyview = shape.variant in NESTED or variant_spec(shape.variant).has_camera
    if shape.pose and not anyview:
        raise ConfigError(f'{shape.variant} has no camera encoder: a pose-conditioned export '
                          f'needs an any-view variant (da3-small/base/large/giant, nested)')
    return shape


class GraphNet(nn.Module):
    """``forward(images[, cond_extrinsics, cond_intrinsics])`` -> raw outputs as a tuple."""

    def __init__(self, net: nn.Module, shape: GraphShape) -> None:
        super().__init__()
        self.net = net
        self.shape = check_shape(shape)

    def forward(self, images: torch.Tensor, *pose: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run on images [1, S, 3, H, W] (and pose [1, S, 4, 4], [1, S, 3, 3]) in fp32."""
        extrinsics, intrinsics = pose if pose else (None, None)
        strategy = self.shape.ref_view_strategy
        if self.shape.variant in NESTED:
            anyview, metric = self.net.raw(images, extrinsics, intrinsics,
                                           ref_view_strategy=strategy)
            return _fields(anyview, ANYVIEW_OUTPUTS) + (metric.depth, metric.sky)
        raw = self.net(images, extrinsics, intrinsics, ref_view_strategy=strategy, finish=False)
        return _fields(raw, output_names(self.shape.variant))


def _fields(pred: Prediction, names: Sequence[str]) -> Tuple[torch.Tensor, ...]:
    return tuple(getattr(pred, name) for name in names)


def example_inputs(shape: GraphShape, seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """Return inputs of the graph's shape: random images and, when posed, identity-ish cameras."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(1, shape.views, 3, shape.height, shape.width, generator=generator)
    if not shape.pose:
        return (images,)
    extrinsics = torch.eye(4).repeat(1, shape.views, 1, 1)
    extrinsics[..., :3, 3] = torch.randn(1, shape.views, 3, generator=generator) * 0.1
    intrinsics = torch.tensor([[shape.width, 0.0, shape.width / 2],
                               [0.0, shape.width, shape.height / 2], [0.0, 0.0, 1.0]])
    return images, extrinsics, intrinsics.repeat(1, shape.views, 1, 1)


def export_onnx(net: nn.Module, shape: GraphShape, path: str,
                metadata: Mapping[str, str] = ()) -> None:
    """Export ``net`` (fp32, CPU, weights loaded) for ``shape`` to the ONNX file ``path``.

    The weights go to ``<path>.data`` beside it (ONNX external data: protobuf files stop at
    2 GB). ``metadata`` is stored in the model's metadata_props next to the shape fields.
    """
    graph = GraphNet(net.float(), shape).eval()
    optimizer_log = logging.getLogger('onnxscript')  # one warning per Split node otherwise
    level = optimizer_log.level
    optimizer_log.setLevel(logging.ERROR)
    try:
        program = _export_program(graph, shape)
    finally:
        optimizer_log.setLevel(level)
    program.model.metadata_props.update(dict(shape_metadata(shape), **dict(metadata)))
    program.save(path, external_data=True)


def _export_program(graph: GraphNet, shape: GraphShape):
    with torch.no_grad(), uv_embedding_in_graph():
        return torch.onnx.export(graph, example_inputs(shape), dynamo=True,
                                 input_names=list(input_names(shape)),
                                 output_names=list(output_names(shape.variant)),
                                 opset_version=OPSET, verbose=False)


def shape_metadata(shape: GraphShape) -> Dict[str, str]:
    """Return the ``GraphShape`` as ONNX metadata strings (``da3.`` keys)."""
    return {'da3.variant': shape.variant, 'da3.views': str(shape.views),
            'da3.height': str(shape.height), 'da3.width': str(shape.width),
            'da3.pose': str(int(shape.pose)), 'da3.ref_view_strategy': shape.ref_view_strategy}


def shape_from_metadata(props: Mapping[str, str]) -> GraphShape:
    """Inverse of :func:`shape_metadata`; ConfigError when a key is missing."""
    try:
        return GraphShape(props['da3.variant'], int(props['da3.views']), int(props['da3.height']),
                          int(props['da3.width']), props['da3.pose'] == '1',
                          props['da3.ref_view_strategy'])
    except (KeyError, ValueError) as exc:
        raise ConfigError(f'not a da3_ros export (metadata {exc} missing or invalid)') from exc


def to_prediction(shape: GraphShape, outputs: Mapping[str, torch.Tensor],
                  use_ray_pose: bool = False) -> Prediction:
    """Raw graph outputs (by name, fp32 tensors) -> the finished ``Prediction`` of the forward."""
    hw = shape.image_hw
    if shape.variant in NESTED:
        anyview = Prediction(**{name: outputs[name] for name in ANYVIEW_OUTPUTS})
        metric = Prediction(depth=outputs['metric_depth'], sky=outputs['metric_sky'])
        return finish_nested(anyview, metric, hw, use_ray_pose)
    raw = Prediction(**{name: outputs[name] for name in output_names(shape.variant)})
    return finish_single(raw, hw, use_ray_pose)
