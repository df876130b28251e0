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

"""Accuracy of the fast path against the issue's bound (side-by-side benchmark).

Our fast forward's deviation from our fp32 forward is compared with upstream's bf16 deviation
from upstream's fp32 forward on the same inputs: it may be at most
max(ALLOWED_FACTOR x upstream's, DEPTH_FLOOR) in median relative depth and
max(ALLOWED_FACTOR x upstream's, ROTATION_FLOOR_DEG) in camera rotation.
"""
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from da3_ros.geometry import pose as pose_lib

ALLOWED_FACTOR = 1.5
DEPTH_FLOOR = 0.005  # 0.5 % median relative depth error
ROTATION_FLOOR_DEG = 0.1

# (depth [S, H, W], world-to-camera extrinsics [S, 3, 4] or None) of one forward.
Forward = Tuple[torch.Tensor, Optional[torch.Tensor]]


def relative_rotations(extrinsics: torch.Tensor) -> torch.Tensor:
    """World-to-camera rotations [S, 3, 3] relative to view 0: R_i R_0^T (gauge-free).

    Relative rotations do not depend on the world frame. They cannot undo a different choice
    of reference view, though: the network then sees the views in another order, and on random
    weights its cameras have nothing in common with the other choice's.
    """
    rot = extrinsics[:, :3, :3].double()
    return rot @ rot[0].transpose(0, 1)


def rotation_error_deg(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest angle between the relative camera rotations of extrinsics a, b [S, 3, 4] (deg)."""
    rel = relative_rotations(a).transpose(1, 2) @ relative_rotations(b)
    return float(np.degrees(pose_lib.rotation_angle(rel.cpu().numpy())).max())


def depth_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """Median relative depth error |a - b| / |b| over all pixels."""
    return float(((a.float() - b.float()).abs() / b.float().abs().clamp(min=1e-6)).median())


def deviations(fast: Forward, reference: Forward, upstream_fast: Forward,
               upstream_reference: Forward) -> Dict[str, object]:
    """Depth and rotation deviations of both fast paths, the bounds and whether ours is within.

    Rotation entries appear only when both references predict cameras.
    """
    out = {'ours_depth_rel': depth_error(fast[0], reference[0]),
           'upstream_depth_rel': depth_error(upstream_fast[0], upstream_reference[0])}
    out['depth_bound'] = max(ALLOWED_FACTOR * out['upstream_depth_rel'], DEPTH_FLOOR)
    out['ok'] = out['ours_depth_rel'] <= out['depth_bound']
    if reference[1] is not None and upstream_reference[1] is not None:
        out['ours_rot_deg'] = rotation_error_deg(fast[1], reference[1])
        out['upstream_rot_deg'] = rotation_error_deg(upstream_fast[1], upstream_reference[1])
        out['rot_bound_deg'] = max(ALLOWED_FACTOR * out['upstream_rot_deg'], ROTATION_FLOOR_DEG)
        out['ok'] = out['ok'] and out['ours_rot_deg'] <= out['rot_bound_deg']
    return out
