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

"""Where a window's depth scale comes from: every scale decision of the engine, in one place.

DA3 predicts each window in its own gauge: an arbitrary frame and an arbitrary unit. The engine
publishes metres whenever a source of metric scale exists, and says which one it used
(``RigResult.scale_source``). In order of precedence:

1. ``odometry``: every view has a known pose (odometry composed with its rig extrinsic) and
   ``window.scale_source`` is ``auto``. The window is fitted to those poses with a free
   scale (``Stitcher``): the scale is whatever takes the predicted camera centres onto the
   odometry ones. With pose conditioning the model already sees those poses: the source is
   reported as ``pose_conditioning``.
2. ``rig``: timesteps with at least ``MIN_RIG_CAMERAS`` cameras of known rig extrinsics. One
   scale, shared by those timesteps, takes the predicted camera centres onto the rig's
   (``rig_scale``): a known baseline b predicted as b / s gives s.
3. ``model``: the network's depth is already metric (``scale_source: auto`` only):
   - the metric variant (``METRIC_VARIANT``) predicts depth for a canonical focal length;
     metres = output * ((fx + fy) / 2) / ``METRIC_FOCAL_DIVISOR`` per view
     (``metric_model_depth``, the rule in ``model.metric_scale``);
   - the nested variant aligns its any-view depth to its metric model inside the forward
     (``model.metric_scale.align_scale``), as upstream does, and returns it in metres.
4. ``none``: relative depth (scale 1 at the first window, then chained).

Between windows the scale is chained (the median ratio of depths at shared pixels, in
``Stitcher``); an absolute source (rig or model) is blended in with the gain
``window.scale_gain`` g, geometrically: s = abs^g * chained^(1 - g) (``blend``). The gauge
depth becomes world depth by one multiplication (``world_depth``).
"""
import dataclasses
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from da3_ros.config import WindowConfig
from da3_ros.engine.window_geometry import WindowGeometry
from da3_ros.geometry import align as align_lib
from da3_ros.model.metric_scale import metric_focal_factor
from da3_ros.model.prediction import Prediction
from da3_ros.model.variants import METRIC_VARIANT

ODOMETRY, POSE_CONDITIONING, RIG, MODEL, NONE = (
    'odometry', 'pose_conditioning', 'rig', 'model', 'none')
MIN_RIG_CAMERAS = 2  # cameras of one timestep with known extrinsics: one baseline


@dataclass(frozen=True)
class Alignment:
    """Gauge-to-world similarity of a window and where its scale came from.

    Attributes:
        sim: gauge-to-world similarity (its ``scale`` multiplies gauge depth into world depth).
        is_metric: the world is in metres.
        scale_source: one of ODOMETRY, POSE_CONDITIONING, RIG, MODEL, NONE.
        world_is_odom: the world frame is the odometry frame.
        reset: the world frame (re)started at this window.
    """

    sim: align_lib.Sim3
    is_metric: bool
    scale_source: str
    world_is_odom: bool
    reset: bool


def metric_model_depth(pred: Prediction, intrinsics: Optional[torch.Tensor],
                       variant: str) -> Prediction:
    """Return the metric variant's depth in metres (spec 8.2); other variants unchanged.

    depth_m = output * ((fx + fy) / 2) / 300 per view, with processed-pixel intrinsics
    [S, 3, 3]; without them the depth stays relative.
    """
    if variant != METRIC_VARIANT or intrinsics is None:
        return pred
    depth = pred.depth * metric_focal_factor(intrinsics).to(pred.depth)[None, :, None, None]
    return dataclasses.replace(pred, depth=depth, is_metric=True)


def uses_odometry(geo: WindowGeometry, cfg: WindowConfig) -> bool:
    """Whether the window is fitted to its known poses (every view known, source ``auto``)."""
    return cfg.scale_source == 'auto' and all(p is not None for p in geo.t_world_cam_known)


def model_is_metric(geo: WindowGeometry, cfg: WindowConfig) -> bool:
    """Whether the model's own metric depth counts as a scale source."""
    return geo.model_metric and cfg.scale_source == 'auto'


def rig_scale(geo: WindowGeometry) -> Optional[float]:
    """Gauge-to-metric scale from timesteps with >= 2 cameras of known rig extrinsics."""
    groups: Dict[float, List[int]] = {}
    for i, (key, ext) in enumerate(zip(geo.keys, geo.t_base_cam)):
        if ext is not None:
            groups.setdefault(key[0], []).append(i)
    idx = [g for g in groups.values() if len(g) >= MIN_RIG_CAMERAS]
    if not idx:
        return None
    src = [geo.t_gauge_cam[g, :3, 3] for g in idx]
    dst = [np.stack([geo.t_base_cam[i][:3, 3] for i in g]) for g in idx]
    scale, spread = align_lib.shared_scale(src, dst, weighted=True)
    return scale if spread > 0 and np.isfinite(scale) and scale > 0 else None


def absolute_scale(geo: WindowGeometry, cfg: WindowConfig) -> Tuple[Optional[float], str]:
    """Return the window's absolute gauge-to-metric scale and its source (rig, model or none)."""
    if cfg.scale_source == 'none':
        return None, NONE
    scale = rig_scale(geo)
    if scale is not None:
        return scale, RIG
    if model_is_metric(geo, cfg):
        return 1.0, MODEL
    return None, NONE


def blend(absolute: float, chained: float, gain: float) -> float:
    """Geometric blend absolute^gain * chained^(1 - gain) (``window.scale_gain``)."""
    return float(np.exp(gain * np.log(absolute) + (1 - gain) * np.log(chained)))


def window_alignment(geo: WindowGeometry, predicted_poses: bool, conditioned: bool,
                     chain: Callable[[WindowGeometry], Alignment],
                     cfg: WindowConfig) -> Alignment:
    """Gauge-to-world alignment of a window.

    Args:
        geo: the window's host geometry.
        predicted_poses: the model predicted camera poses (mono and metric do not: their
            views keep known or rig poses, scale 1).
        conditioned: the forward was conditioned on known poses.
        chain: the stitcher's ``align`` (chains the window to the previous ones).
        cfg: window configuration.
    """
    if not predicted_poses:
        metric = model_is_metric(geo, cfg)
        known = all(p is not None for p in geo.t_world_cam_known)
        return Alignment(align_lib.Sim3.identity(), metric, MODEL if metric else NONE, known,
                         False)
    alignment = chain(geo)
    if conditioned and alignment.scale_source == ODOMETRY:
        alignment = dataclasses.replace(alignment, scale_source=POSE_CONDITIONING)
    return alignment


def world_depth(gauge_depth: torch.Tensor, scale: float) -> torch.Tensor:
    """Depth [...] in world units (float32) from gauge depth and the window's scale."""
    return gauge_depth.float() * scale
