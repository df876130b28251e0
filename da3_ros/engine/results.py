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
(``engine.outputs``) as device tensors, each one's copy to the host started as soon as it is
built (``transfer.StreamingCopy``). ``OutputParts.build`` assembles the result from the host
copies.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.outputs import ALL, CLOUD, CONFIDENCE, DEPTH, OutputRequest, SKY
from da3_ros.engine.postprocess import Postprocessor, valid_rows
from da3_ros.engine.preprocess import ImageTransform
from da3_ros.engine.scale import Alignment, world_depth
from da3_ros.engine.transfer import host_transfer, StreamingCopy
from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.engine.window import WindowSpan
from da3_ros.engine.window_geometry import depth_confidence, WindowGeometry
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction
from da3_ros.model.sky import SKY_THRESHOLD


@dataclass
class OutputParts:
    """The output timestep's copies to the host plus the host data to assemble a RigResult.

    ``copy`` holds every output tensor, each copy started as the tensor was built;
    ``cameras`` holds per camera (name, frame id, K, pose, output name -> index into the
    copy's arrays); ``fused`` is the fused cloud's index (None when not built).
    """

    copy: StreamingCopy
    cameras: List[Tuple[str, str, np.ndarray, np.ndarray, Dict[str, int]]] = field(
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
            maps = {output: host[i] for output, i in index.items()}
            results[name] = CameraResult(name, frame_id, maps.get(DEPTH), maps.get(CONFIDENCE),
                                         maps.get(SKY), k_out, pose, maps.get(CLOUD))
        fused = valid_rows(host[self.fused]) if self.fused is not None \
            else np.zeros((0, 3), np.float32)
        return RigResult(
            stamp=stamp, cameras=results, fused_points=fused,
            t_world_base=self.t_world_base, world_is_odom=alignment.world_is_odom,
            is_metric=alignment.is_metric, scale_source=alignment.scale_source,
            scale=alignment.sim.scale, reset=alignment.reset, window_stamps=window_stamps)


def output_tensors(post: Postprocessor, span: WindowSpan, pred: Prediction,
                   geo: WindowGeometry, k_proc: np.ndarray, alignment: Alignment,
                   request: OutputRequest = ALL) -> OutputParts:
    """Per-camera maps and the fused cloud of the output timestep's views, copies started.

    The fused cloud comes first: with voxels it reads its size from the device, which must
    happen before bulk copies are queued (a read would wait behind them). Each camera map is
    handed to the copy as soon as its group's resample exists, before the clouds are built,
    so the copy engine works while the host launches the rest.

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
    parts = OutputParts(host_transfer(depth.device).begin(), world_is_odom=alignment.world_is_odom)
    parts.t_world_base = _base_pose(span, sel, poses)
    if post.cfg.fused_cloud and request.fused_cloud:
        base = parts.t_world_base if parts.t_world_base is not None else poses[0]
        t_base_cam = np.stack([pose_lib.inverse(base) @ p for p in poses])
        parts.fused = parts.copy.add(
            post.fused_cloud(depth, conf, sky, k_proc[sel], t_base_cam))
    k_out = [post.output_k(k_proc[i], span.metas[i].transform) for i in sel]
    index: List[Dict[str, int]] = [{} for _ in sel]

    def hand_over(j: int, name: str, tensor: torch.Tensor) -> None:
        index[j][name] = parts.copy.add(tensor)

    camera_tensors(post, span, sel, depth, conf, sky, k_out, request, hand_over)
    for j, i in enumerate(sel):
        parts.cameras.append((span.views[i].name, span.metas[i].frame_id, k_out[j], poses[j],
                              index[j]))
    return parts


def camera_tensors(post: Postprocessor, span: WindowSpan, sel: Sequence[int],
                   depth: torch.Tensor, conf: torch.Tensor, sky: torch.Tensor,
                   k_out: Sequence[np.ndarray], request: OutputRequest,
                   on_output: Optional[Callable[[int, str, torch.Tensor], None]] = None
                   ) -> List[Dict[str, torch.Tensor]]:
    """Return each output camera's tensors (``Postprocessor.batch_outputs``), built per group.

    Cameras with the same ``ImageTransform`` and the same requested outputs share one
    resample (``Postprocessor.batch_maps``), one valid mask, one unprojection and one copy of
    their intrinsics to the device (``Postprocessor.batch_cloud``) instead of one each; the
    values are the same.

    Args:
        post: the post-processor.
        span: the step's views.
        sel: indices into ``span.views`` of the output cameras.
        depth: [len(sel), h, w] world-scaled depth of the output cameras.
        conf: [len(sel), h, w] confidence.
        sky: [len(sel), h, w] bool sky mask.
        k_out: output intrinsics [3, 3] per output camera.
        request: the outputs to build.
        on_output: called with (index into ``sel``, output name, tensor) as soon as each
            tensor exists: a group's maps before its clouds are built.

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
        maps = post.batch_maps(depth[rows], conf[rows], sky[rows], tf, wanted)
        _deliver(out, members, {n: t for n, t in maps.items() if n in wanted}, on_output)
        if post.builds_cloud(wanted):
            cloud = post.batch_cloud(maps, np.stack([k_out[j] for j in members]))
            _deliver(out, members, {CLOUD: cloud}, on_output)
    return out


def _deliver(out: List[Dict[str, torch.Tensor]], members: List[int],
             batch: Dict[str, torch.Tensor],
             on_output: Optional[Callable[[int, str, torch.Tensor], None]]) -> None:
    """Split a group's [B, ...] outputs into its cameras' slices and hand each over."""
    for name, tensor in batch.items():
        for b, j in enumerate(members):
            out[j][name] = tensor[b]
            if on_output is not None:
                on_output(j, name, tensor[b])


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
