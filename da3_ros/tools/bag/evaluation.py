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

"""``--eval``: depth AbsRel and delta < 1.25 per camera and trajectory ATE against a bag's truth.

Ground-truth depth comes from ``<image namespace>/depth_gt`` (32FC1 or 16UC1, NaN or 0 invalid)
at the camera image's stamp; the ground-truth trajectory is ``T_odom_base`` from the bag's TF
(``odom_frame`` to ``base_frame``) at the set's stamp. Depth that is not metric is aligned per
image by the median ratio (the usual protocol for relative depth), metric depth is compared as
it is. ATE fits one SE(3) (metric) or Sim(3) (relative) over the whole run.
"""
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from da3_ros.synthetic import metrics

MAX_GT_DEPTH = 1000.0
DELTA = 1.25


def depth_errors(depth: np.ndarray, gt: np.ndarray, *, metric: bool) -> Optional[Dict[str, float]]:
    """Return AbsRel and delta < 1.25 of one image pair [H, W] (None without valid pixels).

    ``depth`` is median-scaled to ``gt`` unless ``metric``.
    """
    ok = np.isfinite(depth) & np.isfinite(gt) & (gt > 0) & (gt < MAX_GT_DEPTH) & (depth > 0)
    if not ok.any():
        return None
    pred, ref = depth[ok].astype(np.float64), gt[ok].astype(np.float64)
    scale = 1.0 if metric else float(np.median(ref) / np.median(pred))
    pred = pred * scale
    ratio = np.maximum(pred / ref, ref / pred)
    return {'abs_rel': float(np.mean(np.abs(pred - ref) / ref)),
            'delta1': float(np.mean(ratio < DELTA)), 'scale': scale}


@dataclass
class Evaluator:
    """Accumulates per-camera depth errors and the trajectory (saved in the resume state).

    Attributes:
        per_camera: camera -> list of per-image error dicts.
        poses: list of (stamp ns, estimated T_world_base [4, 4], ground truth T_odom_base).
        metric: every result so far was metric.
        skipped: reasons why a comparison was impossible -> count.
    """

    per_camera: Dict[str, List[Dict[str, float]]] = field(default_factory=dict)
    poses: List[Any] = field(default_factory=list)
    metric: bool = True
    skipped: Dict[str, int] = field(default_factory=dict)

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add_depth(self, camera: str, depth: np.ndarray, gt: Optional[np.ndarray],
                  metric: bool) -> None:
        """Compare one camera's output depth with its ground truth (None: not in the bag)."""
        if gt is None:
            self._skip(f'{camera}: no ground-truth depth at the image stamp')
            return
        if gt.shape != depth.shape:
            self._skip(f'{camera}: depth {depth.shape} and ground truth {gt.shape} differ')
            return
        errors = depth_errors(depth, gt, metric=metric)
        if errors is None:
            self._skip(f'{camera}: no valid pixel')
            return
        self.per_camera.setdefault(camera, []).append(errors)

    def add_pose(self, stamp_ns: int, estimate: Optional[np.ndarray],
                 gt: Optional[np.ndarray], metric: bool) -> None:
        """Record the base pose of one result against ground-truth odometry."""
        if estimate is None or gt is None:
            self._skip('trajectory: no estimated base pose or no ground-truth odometry')
            return
        self.metric = self.metric and metric
        self.poses.append((int(stamp_ns), np.asarray(estimate), np.asarray(gt)))

    def report(self) -> Dict[str, Any]:
        """JSON-ready numbers: per camera mean AbsRel / delta1 / count, ATE, skips."""
        cameras = {name: {'abs_rel': float(np.mean([e['abs_rel'] for e in errs])),
                          'delta1': float(np.mean([e['delta1'] for e in errs])),
                          'images': len(errs)}
                   for name, errs in self.per_camera.items()}
        out: Dict[str, Any] = {'depth': cameras, 'depth_metric': self.metric,
                               'skipped': dict(self.skipped)}
        if cameras:
            out['depth_mean'] = {key: float(np.mean([c[key] for c in cameras.values()]))
                                 for key in ('abs_rel', 'delta1')}
        out['trajectory'] = self._trajectory()
        return out

    def _trajectory(self) -> Dict[str, Any]:
        if len(self.poses) < 3:
            return {'poses': len(self.poses), 'ate_m': None,
                    'note': 'ATE needs at least 3 poses with ground truth'}
        est = np.stack([p[1] for p in self.poses])
        gt = np.stack([p[2] for p in self.poses])
        rms, fit = metrics.ate(est, gt, with_scale=not self.metric)
        return {'poses': len(self.poses), 'ate_m': rms, 'with_scale': not self.metric,
                'fitted_scale': float(fit.scale), 'path_length_m': metrics.path_length(gt)}


def format_report(report: Dict[str, Any]) -> str:
    """Human-readable table of :meth:`Evaluator.report`."""
    lines = ['camera            AbsRel   d<1.25  images']
    for name, cam in sorted(report['depth'].items()):
        lines.append(f"{name:<16} {cam['abs_rel']:7.4f} {cam['delta1']:8.4f} {cam['images']:7d}")
    if 'depth_mean' in report:
        mean = report['depth_mean']
        lines.append(f"{'mean':<16} {mean['abs_rel']:7.4f} {mean['delta1']:8.4f}")
    traj = report['trajectory']
    if traj.get('ate_m') is None:
        lines.append(f"trajectory: {traj.get('note')} (have {traj['poses']})")
    else:
        kind = 'Sim(3)' if traj['with_scale'] else 'SE(3)'
        lines.append(f"trajectory ATE {traj['ate_m']:.4f} m over {traj['poses']} poses"
                     f" ({kind} fit, path {traj['path_length_m']:.1f} m)")
    for reason, count in sorted(report['skipped'].items()):
        lines.append(f'not evaluated: {reason} (x{count})')
    return '\n'.join(lines)


def write_report(report: Dict[str, Any], path: Path) -> None:
    """Write the report as JSON."""
    Path(path).write_text(json.dumps(report, indent=2, sort_keys=True) + '\n')
