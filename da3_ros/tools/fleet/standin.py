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

"""A fixed-latency stand-in for the network, for the fleet's scale simulation.

``StandInPredictor`` sleeps for a fixed time (the GPU step it stands in for; the GIL is released,
as during a CUDA forward) and answers with a cheap, consistent geometry: camera ``c`` of ``N``
sits on a ring of radius ``RING_M`` looking outwards at yaw ``2 pi c / N``, the rig moves
``SPEED`` metres per second of stamp along the gauge z axis, and depth grows from 5 to 15 units
down the image. Every window thus aligns cleanly, and everything but the network runs as in a
real fleet: bag reading, decoding, sync, preprocessing, alignment, message building, writing.
"""
import time
from typing import Tuple

import numpy as np
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.model.prediction import Prediction

RING_M = 0.3
SPEED = 5.0


def _t_gauge_cam(index: int, count: int, seconds: float) -> np.ndarray:
    """Camera-to-gauge pose [4, 4] of camera ``index`` of ``count`` at ``seconds``."""
    yaw = 2 * np.pi * index / max(count, 1)
    c, s = np.cos(yaw), np.sin(yaw)
    pose = np.eye(4)
    pose[:3, :3] = [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]  # about the optical y (down)
    pose[:3, 3] = [RING_M * s, 0.0, RING_M * c + SPEED * seconds]
    return pose


class StandInPredictor:
    """Implements the engine's Predictor protocol in ``latency_s`` of wall time.

    Args:
        latency_s: seconds each ``predict`` call takes (one window forward).
    """

    def __init__(self, latency_s: float) -> None:
        self.latency_s = float(latency_s)

    def predict(self, inputs: ModelInput) -> Prediction:
        """Return a batch-1 Prediction of ``inputs.keys`` after ``latency_s``."""
        started = time.perf_counter()
        size_hw: Tuple[int, int] = tuple(inputs.images.shape[-2:])
        names = sorted({key[1] for key in inputs.keys})
        first = min(key[0] for key in inputs.keys)
        extr = np.stack([np.linalg.inv(_t_gauge_cam(names.index(name), len(names),
                                                    stamp - first))[:3]
                         for stamp, name in inputs.keys])
        h, w = size_hw
        k = np.array([[float(w), 0.0, w / 2.0], [0.0, float(w), h / 2.0], [0.0, 0.0, 1.0]])
        rows = np.linspace(5.0, 15.0, h, dtype=np.float32)[:, None].repeat(w, axis=1)
        count = len(inputs.keys)
        device = inputs.images.device
        depth = torch.from_numpy(np.broadcast_to(rows, (1, count, h, w)).copy()).to(device)
        pred = Prediction(
            depth=depth, depth_conf=torch.full_like(depth, 2.0),
            extrinsics=torch.tensor(extr[None], dtype=torch.float32, device=device),
            intrinsics=torch.tensor(np.broadcast_to(k, (1, count, 3, 3)).copy(),
                                    dtype=torch.float32, device=device))
        time.sleep(max(self.latency_s - (time.perf_counter() - started), 0.0))
        return pred
