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

"""Synthetic multi-camera sequences: engine RigFrames plus exact ground truth.

``SyntheticRig`` renders the six-camera driving rig through the street scene. Ground truth
(``t_world_cam``, depth) is keyed by (stamp, camera name), the same keys the engine hands to a
predictor, so a simulated predictor can look it up. The world frame is the odometry frame.
"""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import numpy as np

from da3_ros.engine.types import CameraFrame, RigFrame, ViewKey
from da3_ros.synthetic import rig as rig_lib
from da3_ros.synthetic import scene as scene_lib


class SyntheticRig:
    """Renders timesteps of a moving rig; caches a bounded number of renders.

    Args:
        size_hw: rendered image size (height, width); multiples of 14 avoid resampling.
        trajectory: the base trajectory.
        scene: the scene (default: :func:`scene.street_scene`).
        cache_size: renders kept in the LRU cache.
    """

    def __init__(self, size_hw: Tuple[int, int] = (56, 98), *,
                 trajectory: Optional[rig_lib.Trajectory] = None,
                 scene: Optional[scene_lib.Scene] = None, cache_size: int = 256) -> None:
        self.size_hw = tuple(size_hw)
        self.trajectory = trajectory or rig_lib.Trajectory()
        self.scene = scene or scene_lib.street_scene()
        self.cameras = {cam.name: cam for cam in rig_lib.driving_rig()}
        self._cache: 'OrderedDict[tuple, Tuple[np.ndarray, np.ndarray]]' = OrderedDict()
        self._cache_size = cache_size

    def step_of(self, stamp: float) -> int:
        """Timestep index of a stamp produced by this rig."""
        return int(round(stamp * self.trajectory.rate))

    def t_world_cam(self, key: ViewKey) -> np.ndarray:
        """Ground-truth camera-to-world pose [4, 4] of a view."""
        stamp, name = key
        t_world_base = self.trajectory.t_odom_base(self.step_of(stamp))
        return t_world_base @ self.cameras[name].t_base_cam

    def intrinsics(self, name: str, size_hw: Tuple[int, int]) -> np.ndarray:
        """Ground-truth intrinsics [3, 3] at ``size_hw``."""
        return self.cameras[name].intrinsics(size_hw)

    def render(self, key: ViewKey,
               size_hw: Optional[Tuple[int, int]] = None) -> Tuple[np.ndarray, np.ndarray]:
        """(uint8 image [H, W, 3], depth [H, W] with NaN sky) of a view, cached."""
        size_hw = tuple(size_hw or self.size_hw)
        cache_key = (key, size_hw)
        if cache_key in self._cache:
            self._cache.move_to_end(cache_key)
            return self._cache[cache_key]
        out = scene_lib.render(self.scene, self.t_world_cam(key),
                               self.intrinsics(key[1], size_hw), size_hw)
        self._cache[cache_key] = out
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def frame(self, step: int, *, names: Optional[Sequence[str]] = None,
              with_intrinsics: bool = True, with_extrinsics: bool = True,
              with_odometry: bool = False) -> RigFrame:
        """Return the RigFrame of timestep ``step`` with the chosen cameras and metadata."""
        stamp = self.trajectory.stamp(step)
        frames = []
        for name in names if names is not None else self.cameras:
            image, _ = self.render((stamp, name))
            cam = self.cameras[name]
            frames.append(CameraFrame(
                name=name, image=image, frame_id=f'{name}_optical',
                k=self.intrinsics(name, self.size_hw) if with_intrinsics else None,
                t_base_cam=cam.t_base_cam if with_extrinsics else None))
        odom = self.trajectory.t_odom_base(step) if with_odometry else None
        return RigFrame(stamp=stamp, cameras=tuple(frames), t_odom_base=odom)
