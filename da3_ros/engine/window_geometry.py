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

"""Window-geometry stage: the small per-view geometry the stitcher needs, copied to the host.

From a window's prediction (gauge frame, gauge units) it takes, in one small copy to the host,
each view's camera-to-gauge pose, its processed-pixel intrinsics and the camera-frame points at
a fixed grid of pixels (the same pixels in every window, so consecutive windows can be
compared). Models without poses (mono, metric) get the known, rig or identity pose of each view.
The copy is asynchronous (``transfer``): ``start_geometry`` starts it and the engine queues the
scale-free outputs behind it before ``PendingGeometry.wait``, so the device works on them while
the host works on the geometry.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.postprocess import sample_pixels, view_points
from da3_ros.engine.transfer import host_transfer, PendingCopy
from da3_ros.engine.types import ViewKey
from da3_ros.engine.upload import to_device
from da3_ros.engine.window import ViewMeta, WindowSpan
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction


@dataclass
class WindowGeometry:
    """Host-side geometry of one predicted window (S views, P sampled points per view).

    Attributes:
        keys: (stamp, camera name) per view.
        t_gauge_cam: [S, 4, 4] predicted camera-to-gauge poses.
        points: [S, P, 3] gauge-frame points at fixed sample pixels.
        weights: [S, P] point weights (confidence; 0 where invalid).
        depths: [S, P] gauge-unit z-depths of the sampled points.
        t_base_cam: per view the rig extrinsic [4, 4] or None.
        t_world_cam_known: per view the known metric pose [4, 4] (odometry), or None.
        model_metric: the model's depth is already metric.
    """

    keys: Sequence[ViewKey]
    t_gauge_cam: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    depths: np.ndarray
    t_base_cam: Sequence[Optional[np.ndarray]]
    t_world_cam_known: Sequence[Optional[np.ndarray]]
    model_metric: bool = False


def real(tensor: torch.Tensor) -> torch.Tensor:
    """float64 stays float64 (exact simulated predictors); anything else becomes float32."""
    return tensor if tensor.dtype == torch.float64 else tensor.float()


def depth_confidence(pred: Prediction) -> torch.Tensor:
    """Depth confidence; NaN (not estimated) for the variants without one (mono, metric)."""
    return pred.depth_conf.float() if pred.depth_conf is not None else torch.full_like(
        pred.depth.float(), float('nan'))


def host_geometry(span: WindowSpan, pred: Prediction,
                  points_per_view: int) -> Tuple[WindowGeometry, np.ndarray]:
    """Host geometry of the window (one small copy) and per-view processed K [S, 3, 3].

    Args:
        span: the step's views.
        pred: the window's prediction (batch 1, S views, gauge frame).
        points_per_view: sampled pixels per view; 0 gives every point zero weight.
    """
    return start_geometry(span, pred, points_per_view).wait()


def start_geometry(span: WindowSpan, pred: Prediction,
                   points_per_view: int) -> 'PendingGeometry':
    """:func:`host_geometry` up to its copy to the host, which is started, not waited for.

    The caller may queue more device work before :meth:`PendingGeometry.wait`: the copy only
    waits for the work queued before it, so the device keeps busy while the host works on
    the geometry. Arguments as :func:`host_geometry`.
    """
    depth = real(pred.depth[0])
    k_given = [m.k_proc for m in span.metas]
    if all(k is not None for k in k_given) or pred.intrinsics is None:
        k_np = np.stack([k if k is not None else _centred_k(depth.shape[-2:]) for k in k_given])
        k_dev = to_device(k_np, depth.device, depth.dtype)
    else:
        k_dev = real(pred.intrinsics[0])
    index = to_device(sample_pixels(depth.shape[-2], depth.shape[-1], max(points_per_view, 1)),
                      depth.device, torch.int64)
    conf = depth_confidence(pred)[0].reshape(len(span.views), -1)[:, index]
    pts = view_points(depth, k_dev, index)
    extr = real(pred.extrinsics[0]) if pred.extrinsics is not None else None
    tensors = [pts, conf, k_dev] + ([extr] if extr is not None else [])
    copy = host_transfer(depth.device, 'geometry').start(tensors)
    return PendingGeometry(span, copy, points_per_view, bool(pred.is_metric))


class PendingGeometry:
    """A window's geometry whose small copy to the host is in flight (:func:`start_geometry`)."""

    def __init__(self, span: WindowSpan, copy: PendingCopy, points_per_view: int,
                 model_metric: bool) -> None:
        self._span, self._copy = span, copy
        self._points_per_view, self._model_metric = points_per_view, model_metric

    def wait(self) -> Tuple[WindowGeometry, np.ndarray]:
        """Wait for the copy; the window's host geometry and per-view processed K [S, 3, 3]."""
        return _from_host(self._span, self._copy.wait(), self._points_per_view,
                          self._model_metric)


def _from_host(span: WindowSpan, host: Sequence[np.ndarray], points_per_view: int,
               model_metric: bool) -> Tuple[WindowGeometry, np.ndarray]:
    """Build the geometry from the host copies of (points, confidences, K[, extrinsics])."""
    pts_cam, conf_np, k_np = host[0].astype(np.float64), host[1].astype(np.float64), host[2]
    if len(host) > 3:  # the model predicted extrinsics
        t_gauge_cam = pose_lib.inverse(pose_lib.to_homogeneous(host[3]))
    else:
        t_gauge_cam = np.stack([_fallback_pose(p, m) for p, m in zip(span.known, span.metas)])
    weights = np.where(np.isfinite(pts_cam).all(-1) & (pts_cam[..., 2] > 0), conf_np, 0.0)
    pts_gauge = np.einsum('sij,spj->spi', t_gauge_cam[:, :3, :3], np.nan_to_num(pts_cam))
    pts_gauge += t_gauge_cam[:, None, :3, 3]
    if points_per_view == 0:
        weights = np.zeros_like(weights)
    geo = WindowGeometry(keys=span.keys, t_gauge_cam=t_gauge_cam, points=pts_gauge,
                         weights=weights, depths=pts_cam[..., 2],
                         t_base_cam=[m.t_base_cam for m in span.metas],
                         t_world_cam_known=list(span.known), model_metric=model_metric)
    return geo, k_np.astype(np.float64)


def _fallback_pose(known: Optional[np.ndarray], meta: ViewMeta) -> np.ndarray:
    """Pose of a view when the model predicts none: known, else rig extrinsic, else identity."""
    if known is not None:
        return known
    return meta.t_base_cam if meta.t_base_cam is not None else np.eye(4)


def _centred_k(hw) -> np.ndarray:
    """Intrinsics [3, 3] with focal max(h, w) and the principal point at the image centre."""
    focal = float(max(hw))
    return np.array([[focal, 0, hw[1] / 2.0], [0, focal, hw[0] / 2.0], [0, 0, 1.0]])
