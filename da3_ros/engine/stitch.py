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

"""Chain window predictions into one world frame and recover metric scale.

Every window is predicted in its own gauge (frame and scale). ``Stitcher.align`` returns the
similarity taking that gauge to the running world frame:
1. metric scale, when a source exists (which one is decided in ``engine.scale``): known camera
   poses (odometry composed with rig extrinsics), else the rig's known camera centres, else
   the model's own metric output, blended with the scale chained from the previous window;
2. the frame: robust confidence-weighted Sim(3) (SE(3) once the scale is fixed) on the views
   the window shares with the previous one: camera centres, camera axes and depth points
   sampled at the same pixels in both windows.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from da3_ros.config import WindowConfig
from da3_ros.engine import scale as scale_lib
from da3_ros.engine.scale import Alignment
from da3_ros.engine.types import ViewKey
from da3_ros.engine.window_geometry import WindowGeometry
from da3_ros.geometry import align as align_lib


def _axis_points(poses: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Centres and unit-axis tips [S * 4, 3] of poses [S, 4, 4] (axes scaled by ``length``)."""
    tips = poses[:, None, :3, 3] + np.swapaxes(poses[:, :3, :3], 1, 2) * length
    return np.concatenate([poses[:, None, :3, 3], tips], axis=1).reshape(-1, 3)


class Stitcher:
    """Keeps the previous window's views in world coordinates and aligns new windows to them.

    Args:
        cfg: window configuration (scale source, gain, robust-fit parameters).
    """

    def __init__(self, cfg: WindowConfig) -> None:
        self.cfg = cfg
        self.history: Dict[ViewKey, Tuple[np.ndarray, ...]] = {}
        self.world_is_odom = False

    def reset(self) -> None:
        """Forget the world frame; the next window starts a new one."""
        self.history = {}
        self.world_is_odom = False

    def align(self, geo: WindowGeometry) -> Alignment:
        """Gauge-to-world similarity of ``geo``; updates the history."""
        reset = False
        if scale_lib.uses_odometry(geo, self.cfg):
            reset = bool(self.history) and not self.world_is_odom
            out = self._to_known(geo, reset)
        else:
            out = self._chain(geo)
        self._remember(geo, out.sim)
        return out

    def _to_known(self, geo: WindowGeometry, reset: bool) -> Alignment:
        dst = np.stack(geo.t_world_cam_known)
        sim = self._fit(geo.t_gauge_cam, dst, None, None, None, None)
        self.world_is_odom = True
        return Alignment(sim, True, scale_lib.ODOMETRY, True, reset)

    def _shared(self, geo: WindowGeometry) -> List[int]:
        return [i for i, key in enumerate(geo.keys) if key in self.history]

    def _chain(self, geo: WindowGeometry) -> Alignment:
        abs_scale, source = scale_lib.absolute_scale(geo, self.cfg)
        shared = self._shared(geo)
        if not shared:
            return self._start(geo, abs_scale, source)
        src_pose = geo.t_gauge_cam[shared]
        dst_pose = np.stack([self.history[geo.keys[i]][0] for i in shared])
        src_pts = geo.points[shared]
        dst_pts = np.stack([self.history[geo.keys[i]][1] for i in shared])
        wts = np.sqrt(geo.weights[shared] * np.stack([self.history[geo.keys[i]][2]
                                                      for i in shared]))
        chained = self._depth_ratio(geo, shared)
        if chained is None:
            chained = self._fit(src_pose, dst_pose, src_pts, dst_pts, wts, None).scale
        scale = chained
        if abs_scale is not None:
            scale = scale_lib.blend(abs_scale, chained, self.cfg.scale_gain)
        sim = self._fit(src_pose, dst_pose, src_pts, dst_pts, wts, scale)
        return Alignment(sim, abs_scale is not None, source, self.world_is_odom, False)

    def _depth_ratio(self, geo: WindowGeometry, shared: Sequence[int]) -> Optional[float]:
        """Gauge-to-world scale as the median ratio of world depth to gauge depth (shared pixels).

        Pose noise does not enter this ratio, only depth noise, so it is the precise link
        between consecutive windows' scales.
        """
        cur = geo.depths[shared]
        old = np.stack([self.history[geo.keys[i]][3] for i in shared])
        old_ok = np.stack([self.history[geo.keys[i]][2] > 0 for i in shared])
        ok = (geo.weights[shared] > 0) & old_ok & (cur > 0) & (old > 0)
        if np.count_nonzero(ok) < 8:
            return None
        return float(np.median(old[ok] / cur[ok]))

    def _start(self, geo: WindowGeometry, abs_scale: Optional[float],
               source: str) -> Alignment:
        """Return new world: the first view's camera sits at its rig extrinsic (or the origin)."""
        scale = 1.0 if abs_scale is None else abs_scale
        target = geo.t_base_cam[0] if geo.t_base_cam[0] is not None else np.eye(4)
        rot = target[:3, :3] @ geo.t_gauge_cam[0, :3, :3].T
        trans = target[:3, 3] - scale * rot @ geo.t_gauge_cam[0, :3, 3]
        self.world_is_odom = False
        return Alignment(align_lib.Sim3(scale, rot, trans), abs_scale is not None, source, False,
                         True)

    def _fit(self, src_pose, dst_pose, src_pts, dst_pts, wts, scale) -> align_lib.Sim3:
        """Robust fit of poses (+ points); free scale when ``scale`` is None."""
        n_views = len(src_pose)
        has_pts = src_pts is not None and wts is not None and wts.sum() > 0
        if scale is None and not has_pts:
            scale = self._centre_scale(src_pose[:, :3, 3], dst_pose[:, :3, 3])
        if scale is None:
            src = src_pose[:, :3, 3]
            dst = dst_pose[:, :3, 3]
            pose_w = np.ones(n_views)
        else:
            length = np.ones((n_views, 1, 1))
            src = _axis_points(src_pose, length / scale)
            dst = _axis_points(dst_pose, length)
            pose_w = np.ones(len(src))
        pose_w = pose_w / pose_w.sum() * self.cfg.align_pose_weight
        if has_pts:
            pts_w = wts.reshape(-1) / wts.sum() * (1.0 - self.cfg.align_pose_weight)
            src = np.concatenate([src, src_pts.reshape(-1, 3)])
            dst = np.concatenate([dst, dst_pts.reshape(-1, 3)])
            pose_w = np.concatenate([pose_w, pts_w])
        reach = np.median(np.linalg.norm(dst - dst_pose[:, :3, 3].mean(0), axis=1))
        fit, _ = align_lib.robust_umeyama(
            src, dst, pose_w, with_scale=scale is None, fixed_scale=scale,
            huber_delta=self.cfg.huber_delta * max(reach, 1e-9),
            iterations=self.cfg.align_iterations, ransac_trials=32 if n_views >= 3 else 0)
        return fit

    def _centre_scale(self, src: np.ndarray, dst: np.ndarray) -> float:
        """Robust scale from camera centres alone (RANSAC start with >= 4 views); 1 if < 2."""
        if len(src) < 2:
            return 1.0
        reach = np.median(np.linalg.norm(dst - np.median(dst, axis=0), axis=1))
        fit, _ = align_lib.robust_umeyama(
            src, dst, huber_delta=self.cfg.huber_delta * max(reach, 1e-9),
            iterations=self.cfg.align_iterations, ransac_trials=32 if len(src) >= 4 else 0)
        return fit.scale if fit.scale > 0 else 1.0

    def _remember(self, geo: WindowGeometry, sim: align_lib.Sim3) -> None:
        poses = sim.apply_pose(geo.t_gauge_cam)
        points = sim.apply(geo.points)
        self.history = {key: (poses[i], points[i], geo.weights[i], geo.depths[i] * sim.scale)
                        for i, key in enumerate(geo.keys)}
