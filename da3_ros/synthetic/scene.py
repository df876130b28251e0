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

"""Ray-cast synthetic scene: textured planes and axis-aligned boxes (numpy, exact depth).

World frame: ROS convention (x forward along the road, y left, z up), metres. Cameras use
OpenCV optical frames; ``render`` returns z-depth along the optical axis, NaN where a ray hits
nothing (sky).
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np


@dataclass(frozen=True)
class Scene:
    """Planes ``n . x = offset`` [P, 3] / [P] and boxes ``[lo, hi]`` [B, 3] each."""

    plane_normals: np.ndarray
    plane_offsets: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray


def street_scene(length: float = 400.0, seed: int = 0) -> Scene:
    """Get a road along +x: ground plane, building blocks on both sides, a few cars, end walls."""
    rng = np.random.default_rng(seed)
    lo, hi = [], []
    for side in (-1.0, 1.0):
        x = -30.0
        while x < length:
            depth, width = rng.uniform(6, 14), rng.uniform(5, 15)
            near = rng.uniform(9, 14)
            y0, y1 = sorted((side * near, side * (near + depth)))
            lo.append([x, y0, 0.0])
            hi.append([x + width, y1, rng.uniform(4, 18)])
            x += width + rng.uniform(0.5, 4)
    for x in np.arange(5.0, length, 17.0):
        y = rng.choice([-1.0, 1.0]) * rng.uniform(4.5, 6.5)
        lo.append([x, y - 0.9, 0.0])
        hi.append([x + 4.2, y + 0.9, 1.5])
    normals = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    offsets = np.array([0.0, -40.0, length + 30.0])
    return Scene(normals, offsets, np.array(lo), np.array(hi))


def _hit_planes(scene: Scene, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    denom = dirs @ scene.plane_normals.T
    num = scene.plane_offsets - scene.plane_normals @ origin
    with np.errstate(divide='ignore', invalid='ignore'):
        t = num / denom
    t = np.where((np.abs(denom) > 1e-12) & (t > 1e-6), t, np.inf)
    return t


def _hit_boxes(scene: Scene, origin: np.ndarray, dirs: np.ndarray,
               max_range: float) -> Tuple[np.ndarray, np.ndarray]:
    """Slab test: t [N, B'] for the boxes within ``max_range`` and their indices [B']."""
    nearest = np.clip(origin, scene.box_lo, scene.box_hi)
    near = np.flatnonzero(np.linalg.norm(nearest - origin, axis=1) < max_range)
    lo, hi = scene.box_lo[near], scene.box_hi[near]
    safe = np.where(np.abs(dirs) < 1e-12, 1e-12, dirs)
    inv = 1.0 / safe
    t0 = (lo[None] - origin) * inv[:, None]
    t1 = (hi[None] - origin) * inv[:, None]
    t_near = np.minimum(t0, t1).max(axis=-1)
    t_far = np.maximum(t0, t1).min(axis=-1)
    hit = (t_near <= t_far) & (t_far > 1e-6)
    return np.where(hit, np.where(t_near > 1e-6, t_near, t_far), np.inf), near


def _texture(points: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Deterministic colours [N, 3] in [0, 1]: checkerboard times per-primitive tint."""
    cell = np.floor(points * 1.3).astype(np.int64).sum(axis=1) % 2
    fine = 0.5 + 0.5 * np.sin(points[:, 0] * 4.1 + points[:, 1] * 2.7 + points[:, 2] * 3.3)
    tint = np.stack([np.sin(ids * 1.7), np.sin(ids * 2.9 + 1.0), np.sin(ids * 4.3 + 2.0)], 1)
    base = 0.35 + 0.25 * cell[:, None] + 0.15 * fine[:, None]
    return np.clip(base + 0.2 * tint, 0.0, 1.0)


def cast(scene: Scene, origin: np.ndarray, dirs: np.ndarray,
         max_range: float = 120.0) -> Tuple[np.ndarray, np.ndarray]:
    """Ray parameters t [N] of the first hit (inf for none) and primitive ids [N].

    Boxes farther than ``max_range`` from the origin are skipped (planes never are).
    """
    t_boxes, box_ids = _hit_boxes(scene, origin, dirs, max_range)
    t_all = np.concatenate([_hit_planes(scene, origin, dirs), t_boxes], axis=1)
    ids = np.argmin(t_all, axis=1)
    n_planes = len(scene.plane_offsets)
    global_ids = np.concatenate([np.arange(n_planes), n_planes + box_ids])[ids]
    return t_all[np.arange(len(dirs)), ids], global_ids


def render(scene: Scene, t_world_cam: np.ndarray, k: np.ndarray,
           size_hw: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Render one pinhole camera.

    Args:
        scene: the scene.
        t_world_cam: camera-to-world pose [4, 4] of the OpenCV optical frame.
        k: intrinsics [3, 3] at the rendered size.
        size_hw: (height, width) in pixels.

    Returns:
        (uint8 RGB image [H, W, 3], z-depth [H, W] float64 in metres, NaN for sky).
    """
    height, width = size_hw
    v, u = np.meshgrid(np.arange(height), np.arange(width), indexing='ij')
    pix = np.stack([u, v, np.ones_like(u)], -1).reshape(-1, 3).astype(np.float64)
    rays_cam = pix @ np.linalg.inv(k).T
    dirs = rays_cam @ t_world_cam[:3, :3].T
    t_hit, ids = cast(scene, t_world_cam[:3, 3], dirs)
    finite = np.isfinite(t_hit)
    points = t_world_cam[:3, 3] + dirs * np.where(finite, t_hit, 0.0)[:, None]
    colour = np.where(finite[:, None], _texture(points, ids), [0.55, 0.7, 0.95])
    depth = np.where(finite, t_hit, np.nan)  # rays have camera z = 1, so t is z-depth
    image = (colour * 255.0 + 0.5).astype(np.uint8).reshape(height, width, 3)
    return image, depth.reshape(height, width)
