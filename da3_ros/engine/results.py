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

"""Outputs stage: the output timestep's device tensors, then the ``RigResult`` built from them.

``output_tensors`` scales the output views' depth into the world (``engine.scale``), resolves
their world poses (known, else aligned), and builds only the requested maps and clouds
(``engine.outputs``) as device tensors for one copy back. ``OutputParts.build`` assembles the
result from the host copies.
"""
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.outputs import ALL, CLOUD, CONFIDENCE, DEPTH, OutputRequest, SKY
from da3_ros.engine.postprocess import Postprocessor
from da3_ros.engine.preprocess import ImageTransform
from da3_ros.engine.scale import Alignment, world_depth
from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.engine.window import WindowSpan
from da3_ros.engine.window_geometry import depth_confidence, WindowGeometry
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import SKY_THRESHOLD


@dataclass
class OutputParts:
    """Device tensors of the output timestep plus the host data to assemble a RigResult.

    ``cameras`` holds per camera (name, frame id, K, pose, names of its tensors in ``tensors``);
    the fused cloud, when built, is the last tensor.
    """

    tensors: List[torch.Tensor] = field(default_factory=list)
    cameras: List[Tuple[str, str, np.ndarray, np.ndarray, Tuple[str, ...]]] = field(
        default_factory=list)
    t_world_base: Optional[np.ndarray] = None
    world_is_odom: bool = False
    fused: bool = False

    @property
    def poses(self) -> List[np.ndarray]:
        """World pose ``T_world_cam`` [4, 4] of each output camera."""
        return [camera[3] for camera in self.cameras]

    def build(self, host: List[np.ndarray], alignment: Alignment, stamp: float,
              window_stamps: Tuple[float, ...]) -> RigResult:
        """Assemble the RigResult from the host copies (same order as ``tensors``)."""
        results, start = {}, 0
        for name, frame_id, k_out, pose, names in self.cameras:
            maps = dict(zip(names, host[start:start + len(names)]))
            start += len(names)
            results[name] = CameraResult(name, frame_id, maps.get(DEPTH), maps.get(CONFIDENCE),
                                         maps.get(SKY), k_out, pose, maps.get(CLOUD))
        fused = host[start] if self.fused else None
        return RigResult(
            stamp=stamp, cameras=results,
            fused_points=fused if fused is not None else np.zeros((0, 3), np.float32),
            t_world_base=self.t_world_base, world_is_odom=alignment.world_is_odom,
            is_metric=alignment.is_metric, scale_source=alignment.scale_source,
            scale=alignment.sim.scale, reset=alignment.reset, window_stamps=window_stamps)


def output_tensors(post: Postprocessor, span: WindowSpan, pred: Prediction,
                   geo: WindowGeometry, k_proc: np.ndarray, alignment: Alignment,
                   request: OutputRequest = ALL) -> OutputParts:
    """Per-camera maps and the fused cloud of the output timestep's views (device tensors).

    Args:
        post: the post-processor (its ``OutputConfig`` decides what may exist).
        span: the step's views.
        pred: the window's prediction (gauge units).
        geo: the window's host geometry.
        k_proc: [S, 3, 3] processed-pixel intrinsics of every view.
        alignment: the window's gauge-to-world alignment.
        request: the outputs to build (``engine.outputs``).
    """
    sel = span.output_indices
    poses = [geo.t_world_cam_known[i] if geo.t_world_cam_known[i] is not None
             else alignment.sim.apply_pose(geo.t_gauge_cam[i]) for i in sel]
    depth = world_depth(pred.depth[0, sel], alignment.sim.scale)
    conf = depth_confidence(pred)[0, sel]
    sky = (pred.sky[0, sel] >= SKY_THRESHOLD) if pred.sky is not None \
        else torch.zeros_like(depth, dtype=torch.bool)
    parts = OutputParts(world_is_odom=alignment.world_is_odom)
    k_out = [post.output_k(k_proc[i], span.metas[i].transform) for i in sel]
    maps = camera_tensors(post, span, sel, depth, conf, sky, k_out, request)
    for j, i in enumerate(sel):
        parts.tensors.extend(maps[j].values())
        parts.cameras.append((span.views[i].name, span.metas[i].frame_id, k_out[j], poses[j],
                              tuple(maps[j])))
    parts.t_world_base = _base_pose(span, sel, poses)
    if post.cfg.fused_cloud and request.fused_cloud:
        base = parts.t_world_base if parts.t_world_base is not None else poses[0]
        t_base_cam = np.stack([pose_lib.inverse(base) @ p for p in poses])
        parts.tensors.append(post.fused_cloud(depth, conf, sky, k_proc[sel], t_base_cam))
        parts.fused = True
    return parts


def camera_tensors(post: Postprocessor, span: WindowSpan, sel: Sequence[int],
                   depth: torch.Tensor, conf: torch.Tensor, sky: torch.Tensor,
                   k_out: Sequence[np.ndarray],
                   request: OutputRequest) -> List[Dict[str, torch.Tensor]]:
    """Return each output camera's tensors (``Postprocessor.batch_outputs``), built per group.

    Cameras with the same ``ImageTransform`` and the same requested outputs share one
    ``Postprocessor.batch_outputs`` call (one resample, one valid mask, one unprojection, one
    copy of their intrinsics to the device) instead of one call each; the values are the same.

    Args:
        post: the post-processor.
        span: the step's views.
        sel: indices into ``span.views`` of the output cameras.
        depth: [len(sel), h, w] world-scaled depth of the output cameras.
        conf: [len(sel), h, w] confidence.
        sky: [len(sel), h, w] bool sky mask.
        k_out: output intrinsics [3, 3] per output camera.
        request: the outputs to build.

    Returns:
        per output camera (``sel`` order) name -> tensor at output resolution, each a
        contiguous camera slice of its group's batch.
    """
    groups: Dict[Tuple[ImageTransform, FrozenSet[str]], List[int]] = {}
    for j, i in enumerate(sel):
        key = (span.metas[i].transform, request.for_camera(span.views[i].name))
        groups.setdefault(key, []).append(j)
    out: List[Dict[str, torch.Tensor]] = [{} for _ in sel]
    for (tf, wanted), members in groups.items():
        if not post.resampled(wanted):
            continue  # nothing to build: no device gather, no intrinsics copy
        rows = _rows(members)
        batch = post.batch_outputs(depth[rows], conf[rows], sky[rows], tf,
                                   np.stack([k_out[j] for j in members]), wanted)
        for b, j in enumerate(members):
            out[j] = {name: tensor[b] for name, tensor in batch.items()}
    return out


def _rows(members: List[int]):
    """Index of ``members`` rows: a slice (a view, no device gather) when they are consecutive."""
    if members == list(range(members[0], members[-1] + 1)):
        return slice(members[0], members[-1] + 1)
    return members


def _base_pose(span: WindowSpan, sel: Sequence[int],
               poses: Sequence[np.ndarray]) -> Optional[np.ndarray]:
    """Return base pose estimate: chordal mean of T_world_cam T_base_cam^-1 over rig cameras."""
    cand = [p @ pose_lib.inverse(span.metas[i].t_base_cam)
            for i, p in zip(sel, poses) if span.metas[i].t_base_cam is not None]
    return pose_lib.mean_pose(np.stack(cand)) if cand else None
