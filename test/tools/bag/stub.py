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

"""A fast deterministic stand-in for the network, for bag-tool tests about files, not depth."""
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.model.prediction import Prediction


class StubPredictor:
    """Depth from image brightness, fixed camera poses and intrinsics (a Predictor).

    Deterministic and input-dependent, so an output made of two runs differs from one run
    whenever a set is lost, repeated or processed with another window.
    """

    def predict(self, inputs: ModelInput) -> Prediction:
        """Shapes as ``Prediction``: depth [1, S, h, w], extrinsics [1, S, 3, 4]."""
        images = inputs.images.float()
        views, _, height, width = images.shape
        depth = (2.0 + images.mean(1).abs())[None]
        extr = torch.zeros(1, views, 3, 4)
        extr[..., :3, :3] = torch.eye(3)
        extr[0, :, 0, 3] = 0.1 * torch.arange(views)
        intr = torch.tensor([[float(width), 0.0, width / 2.0], [0.0, float(width), height / 2.0],
                             [0.0, 0.0, 1.0]]).expand(1, views, 3, 3)
        return Prediction(depth=depth, depth_conf=torch.full_like(depth, 2.0),
                          extrinsics=extr, intrinsics=intr)
