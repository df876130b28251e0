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

"""A predictor that answers with ground truth distorted the way DA3 distorts it.

Each call picks its own random similarity gauge (rotation, translation, scale in
``scale_range``), as DA3's any-view models express every window in an arbitrary frame and
scale. Optional noise: multiplicative per-pixel depth noise, per-view rotation noise and per-view
camera-centre noise whose RMS is ``trans_noise_rel`` times the view's distance from the window's
reference view plus ``trans_noise_abs`` (metres, before the gauge scale).
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.prediction import Prediction
from da3_ros.synthetic.sequence import SyntheticRig

SKY_DEPTH = 200.0


@dataclass(frozen=True)
class Distortion:
    """How far the simulated predictor departs from ground truth (all zero: exact)."""

    scale_range: Tuple[float, float] = (0.5, 2.0)
    depth_noise: float = 0.0
    rot_noise_deg: float = 0.0
    trans_noise_rel: float = 0.0
    trans_noise_abs: float = 0.0
    metric: bool = False


class SimulatedPredictor:
    """Implements the engine's Predictor protocol from a :class:`SyntheticRig`'s ground truth.

    Args:
        rig: the synthetic rig whose views the engine is fed.
        distortion: gauge and noise parameters.
        seed: random seed (calls are deterministic given the call order).
    """

    def __init__(self, rig: SyntheticRig, distortion: Distortion = Distortion(), *,
                 seed: int = 0) -> None:
        self.rig = rig
        self.distortion = distortion
        self.rng = np.random.default_rng(seed)
        self.last_gauges = []
        self._trans_sq, self._views = 0.0, 0

    def _gauge(self) -> Tuple[float, np.ndarray, np.ndarray]:
        lo, hi = self.distortion.scale_range
        log_scale = self.rng.uniform(np.log(lo), np.log(hi))
        scale = 1.0 if self.distortion.metric else float(np.exp(log_scale))
        rot = pose_lib.so3_exp(self.rng.normal(size=3))
        return scale, rot, self.rng.normal(scale=20.0, size=3)

    def _noisy_pose(self, t_world_cam: np.ndarray, ref_centre: np.ndarray) -> np.ndarray:
        dist = self.distortion
        rot_sigma = np.radians(dist.rot_noise_deg) / np.sqrt(3.0)
        rot = t_world_cam[:3, :3] @ pose_lib.so3_exp(self.rng.normal(scale=rot_sigma, size=3))
        reach = np.linalg.norm(t_world_cam[:3, 3] - ref_centre)
        rms = dist.trans_noise_rel * reach + dist.trans_noise_abs
        self._trans_sq, self._views = self._trans_sq + rms ** 2, self._views + 1
        trans_sigma = rms / np.sqrt(3.0)
        centre = t_world_cam[:3, 3] + self.rng.normal(scale=trans_sigma, size=3)
        return pose_lib.make_pose(rot, centre)

    def injected_translation_rms(self) -> float:
        """RMS (m) of the per-view camera-centre noise injected so far."""
        return float(np.sqrt(self._trans_sq / max(self._views, 1)))

    def _depth(self, key, size_hw) -> np.ndarray:
        _, depth = self.rig.render(key, size_hw)
        depth = np.where(np.isnan(depth), SKY_DEPTH, depth)
        if self.distortion.depth_noise > 0:
            depth = depth * (1.0 + self.rng.normal(scale=self.distortion.depth_noise,
                                                   size=depth.shape))
        return depth

    def predict(self, inputs: ModelInput) -> Prediction:
        """Ground truth of ``inputs.keys`` in a fresh random gauge, as a batch-1 Prediction.

        Tensors are float64 so that the noise-free case is exact to double precision.
        """
        size_hw = tuple(inputs.images.shape[-2:])
        scale, rot, trans = self._gauge()
        self.last_gauges.append((scale, rot, trans))
        del self.last_gauges[:-4]
        gt = [self.rig.t_world_cam(key) for key in inputs.keys]
        ref_centre = gt[0][:3, 3]
        extr, intr, depth = [], [], []
        for key, t_world_cam in zip(inputs.keys, gt):
            noisy = self._noisy_pose(t_world_cam, ref_centre)
            t_gauge_cam = pose_lib.apply_sim3_to_pose(scale, rot, trans, noisy)
            extr.append(pose_lib.inverse(t_gauge_cam)[:3])
            intr.append(self.rig.intrinsics(key[1], size_hw))
            depth.append(self._depth(key, size_hw) * scale)
        device = inputs.images.device
        depth_t = torch.tensor(np.stack(depth), dtype=torch.float64, device=device)[None]
        return Prediction(
            depth=depth_t, depth_conf=torch.full_like(depth_t, 2.0),
            extrinsics=torch.tensor(np.stack(extr), dtype=torch.float64, device=device)[None],
            intrinsics=torch.tensor(np.stack(intr), dtype=torch.float64, device=device)[None],
            is_metric=self.distortion.metric)
