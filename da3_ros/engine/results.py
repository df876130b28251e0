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

Only the requested maps and clouds (``engine.outputs``) are built, in two halves, and each
one's copy to the host starts as soon as it is built (``transfer.StreamingCopy``):

1. ``start_outputs``, before the host alignment: what does not depend on the window's scale
   (confidence, sky, the gauge depth) is resampled to output resolution and the confidence
   and sky copies start, so the device and the copy engine work while the host aligns;
2. ``output_tensors``, after it: depth scaled into the world (``engine.scale``), world poses
   (known, else aligned), the fused and organised clouds.

``OutputParts.build`` assembles the result from the host copies. Scaling after the resample
equals resampling the scaled depth up to float rounding (the resample is linear); nearest
and processed-resolution outputs are identical.
"""
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.outputs import ALL, CLOUD, CONFIDENCE, DEPTH, OutputRequest, SKY
from da3_ros.engine.point_rows import valid_rows
from da3_ros.engine.postprocess import Postprocessor
from da3_ros.engine.preprocess import ImageTransform
from da3_ros.engine.scale import Alignment, world_depth
from da3_ros.engine.transfer import host_transfer, StreamingCopy
from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.engine.upload import to_device
from da3_ros.engine.window import WindowSpan
from da3_ros.engine.window_geometry import depth_confidence, WindowGeometry
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import SKY_THRESHOLD


@dataclass
class OutputParts:
    """The output timestep's copies to the host plus the host data to assemble a RigResult.

    ``copy`` holds every output tensor, each copy started as the tensor was built;
    ``cameras`` holds per camera (name, frame id, K, pose, output name -> (index into the
    copy's arrays, the camera's row there)); ``fused`` is the fused cloud's index (None when
    not built).
    """

    copy: StreamingCopy
    cameras: List[Tuple[str, str, np.ndarray, np.ndarray, Dict[str, Tuple[int, int]]]] = field(
        default_factory=list)
    t_world_base: Optional[np.ndarray] = None
    world_is_odom: bool = False
    fused: Optional[int] = None

    @property
    def poses(self) -> List[np.ndarray]:
        """World pose ``T_world_cam`` [4, 4] of each output camera."""
        return [camera[3] for camera in self.cameras]

    def build(self, host: List[np.ndarray], alignment: Alignment, stamp: float,
              window_stamps: Tuple[float, ...]) -> RigResult:
        """Assemble the RigResult from the host copies (``copy``'s arrays, in add order)."""
        results = {}
        for name, frame_id, k_out, pose, index in self.cameras:
            maps = {output: host[place][b] for output, (place, b) in index.items()}
            results[name] = CameraResult(name, frame_id, maps.get(DEPTH), maps.get(CONFIDENCE),
                                         maps.get(SKY), k_out, pose, maps.get(CLOUD))
        fused = valid_rows(host[self.fused]) if self.fused is not None \
            else np.zeros((0, 3), np.float32)
        return RigResult(
            stamp=stamp, cameras=results, fused_points=fused,
            t_world_base=self.t_world_base, world_is_odom=alignment.world_is_odom,
            is_metric=alignment.is_metric, scale_source=alignment.scale_source,
            scale=alignment.sim.scale, reset=alignment.reset, window_stamps=window_stamps)


@dataclass
class MapGroup:
    """Output cameras that share a transform and a request: their maps, resampled once.

    ``members`` index the output cameras (``span.output_indices`` order); ``maps`` holds the
    [B, H, W] maps at output resolution (``Postprocessor.batch_maps``), depth still in gauge
    units until the alignment gives the scale; ``kept`` is the scale-free part of the clouds'
    valid mask (``Postprocessor.kept``), when the group builds organised clouds.
    """

    members: List[int]
    wanted: FrozenSet[str]
    maps: Dict[str, torch.Tensor]
    kept: Optional[torch.Tensor] = None


@dataclass
class StartedOutputs:
    """What :func:`start_outputs` built before the alignment, and the copies it started.

    ``gauge``, ``conf`` and ``sky`` are the output views' [V, h, w] processed maps (the fused
    cloud's input) and ``fused_kept`` the scale-free part of its mask when it is built;
    ``index`` maps per output camera an output name to (its group's place in
    ``copy``, the camera's row in that group).
    """

    copy: StreamingCopy
    request: OutputRequest
    gauge: torch.Tensor
    conf: torch.Tensor
    sky: torch.Tensor
    groups: List[MapGroup] = field(default_factory=list)
    fused_kept: Optional[torch.Tensor] = None
    index: List[Dict[str, Tuple[int, int]]] = field(default_factory=list)

    def hand_over(self, members: Sequence[int], name: str, batch: torch.Tensor) -> None:
        """Start the copy of a group's contiguous [B, ...] output ``name``: one memcpy.

        Each camera's result is its slice of the host copy.
        """
        place = self.copy.add(batch)
        for b, j in enumerate(members):
            self.index[j][name] = (place, b)


def start_outputs(post: Postprocessor, span: WindowSpan, pred: Prediction,
                  request: OutputRequest = ALL) -> StartedOutputs:
    """Queue the scale-free half of the outputs, before the host alignment runs.

    Confidence, sky and the gauge depth of the output views do not depend on the window's
    scale, so they are resampled to output resolution here and the copies of the requested
    confidence and sky maps start at once: the device and the copy engine work while the host
    aligns the window. :func:`output_tensors` scales the depth and builds the clouds after.

    Cameras with the same ``ImageTransform`` and the same requested outputs form one group:
    one resample, one copy per map and later one valid mask and one set of cached rays,
    instead of one each (the values are the same as one camera at a time).

    Args:
        post: the post-processor (its ``OutputConfig`` decides what may exist).
        span: the step's views.
        pred: the window's prediction (gauge units).
        request: the outputs to build (``engine.outputs``).
    """
    sel = span.output_indices
    views = _rows(sel, pred.depth.device)
    gauge = pred.depth[0, views]
    conf = depth_confidence(pred)[0, views]
    sky = (pred.sky[0, views] >= SKY_THRESHOLD) if pred.sky is not None \
        else torch.zeros_like(gauge, dtype=torch.bool)
    started = StartedOutputs(host_transfer(conf.device).begin(), request, gauge, conf, sky,
                             index=[{} for _ in sel])
    if post.cfg.fused_cloud and request.fused_cloud:
        started.fused_kept = post.kept(conf, sky)
    groups: Dict[Tuple[ImageTransform, FrozenSet[str]], List[int]] = {}
    for j, i in enumerate(sel):
        key = (span.metas[i].transform, request.for_camera(span.views[i].name))
        groups.setdefault(key, []).append(j)
    for (tf, wanted), members in groups.items():
        if not post.resampled(wanted):
            continue  # nothing to build: no device gather, no intrinsics copy
        rows = _rows(members, gauge.device)
        maps = post.batch_maps(gauge[rows], conf[rows], sky[rows], tf, wanted)
        for name in (CONFIDENCE, SKY):
            if name in wanted:
                started.hand_over(members, name, maps[name])
        kept = post.kept(maps[CONFIDENCE], maps[SKY]) if post.builds_cloud(wanted) else None
        started.groups.append(MapGroup(members, wanted, maps, kept))
    return started


def output_tensors(post: Postprocessor, span: WindowSpan, geo: WindowGeometry,
                   k_proc: np.ndarray, alignment: Alignment,
                   started: StartedOutputs) -> OutputParts:
    """Build the scaled half of the outputs: world depth, clouds and poses; copies started.

    Each group's depth is scaled and handed to the copy before its organised clouds are
    built, so the copy engine works while the device builds the rest. The fused cloud comes
    last, except with voxels: then it reads its size from the device, which must happen before
    this half's bulk copies are queued (the read would wait behind them).

    Args:
        post: the post-processor (its ``OutputConfig`` decides what may exist).
        span: the step's views.
        geo: the window's host geometry.
        k_proc: [S, 3, 3] processed-pixel intrinsics of every view.
        alignment: the window's gauge-to-world alignment.
        started: what :func:`start_outputs` built for this step.
    """
    sel = span.output_indices
    scale = alignment.sim.scale
    poses = [geo.t_world_cam_known[i] if geo.t_world_cam_known[i] is not None
             else alignment.sim.apply_pose(geo.t_gauge_cam[i]) for i in sel]
    parts = OutputParts(started.copy, world_is_odom=alignment.world_is_odom)
    parts.t_world_base = _base_pose(span, sel, poses)
    fused = post.cfg.fused_cloud and started.request.fused_cloud
    reads_device = post.cfg.voxel_size > 0
    if fused and reads_device:
        parts.fused = _fused_cloud(post, span, k_proc, scale, started, parts, poses)
    k_out = [post.output_k(k_proc[i], span.metas[i].transform) for i in sel]
    scaled_camera_outputs(post, started, scale, k_out)
    if fused and not reads_device:
        parts.fused = _fused_cloud(post, span, k_proc, scale, started, parts, poses)
    for j, i in enumerate(sel):
        parts.cameras.append((span.views[i].name, span.metas[i].frame_id, k_out[j], poses[j],
                              started.index[j]))
    return parts


def _fused_cloud(post: Postprocessor, span: WindowSpan, k_proc: np.ndarray, scale: float,
                 started: StartedOutputs, parts: OutputParts,
                 poses: Sequence[np.ndarray]) -> int:
    """Build the fused cloud in the base frame and start its copy; its index in the copy."""
    base = parts.t_world_base if parts.t_world_base is not None else poses[0]
    t_base_cam = np.stack([pose_lib.inverse(base) @ p for p in poses])
    return started.copy.add(post.fused_cloud(
        world_depth(started.gauge, scale), started.conf, started.sky,
        k_proc[span.output_indices], t_base_cam, started.fused_kept))


def scaled_camera_outputs(post: Postprocessor, started: StartedOutputs, scale: float,
                          k_out: Sequence[np.ndarray]) -> None:
    """Per group: depth in world units, then the organised clouds; each copy started.

    Args:
        post: the post-processor.
        started: the step's :func:`start_outputs` (its copy receives the tensors).
        scale: gauge-to-world scale of the window.
        k_out: output intrinsics [3, 3] per output camera.
    """
    for group in started.groups:
        maps = dict(group.maps)
        if DEPTH in maps:
            maps[DEPTH] = world_depth(maps[DEPTH], scale)
        if DEPTH in group.wanted:
            started.hand_over(group.members, DEPTH, maps[DEPTH])
        if post.builds_cloud(group.wanted):
            cloud = post.batch_cloud(maps, np.stack([k_out[j] for j in group.members]),
                                     group.kept)
            started.hand_over(group.members, CLOUD, cloud)


def _rows(members: Sequence[int], device: torch.device):
    """Index of ``members`` rows: a slice (a view, no device gather) when they are consecutive.

    Otherwise a device index tensor, uploaded without blocking: indexing with a Python list
    would copy the list from pageable memory, which waits for all queued device work.
    """
    members = list(members)
    if not members:
        return slice(0, 0)
    if members == list(range(members[0], members[-1] + 1)):
        return slice(members[0], members[-1] + 1)
    return to_device(members, device, torch.int64)


def _base_pose(span: WindowSpan, sel: Sequence[int],
               poses: Sequence[np.ndarray]) -> Optional[np.ndarray]:
    """Return base pose estimate: chordal mean of T_world_cam T_base_cam^-1 over rig cameras."""
    cand = [p @ pose_lib.inverse(span.metas[i].t_base_cam)
            for i, p in zip(sel, poses) if span.metas[i].t_base_cam is not None]
    return pose_lib.mean_pose(np.stack(cand)) if cand else None
