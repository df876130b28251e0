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

"""The fleet's stand-in network: a ring rig moving along z, depth 5 to 15 down the image.

Its use in whole fleet runs (windows align, bags finish) is tested in test_driver.py.
"""
import numpy as np
import pytest
import torch

from da3_ros.engine.types import ModelInput
from da3_ros.tools.fleet.standin import RING_M, SPEED, StandInPredictor


def predict(keys, size_hw=(28, 42)):
    images = torch.zeros(len(keys), 3, *size_hw)
    return StandInPredictor(0.0).predict(ModelInput(images=images, keys=tuple(keys)))


def test_cameras_sit_on_the_ring_and_the_rig_moves_at_speed():
    keys = [(0.0, 'a'), (0.0, 'b'), (0.5, 'a'), (0.5, 'b')]
    pred = predict(keys)
    w2c = pred.extrinsics[0].double().numpy()
    centres = np.stack([-m[:3, :3].T @ m[:3, 3] for m in w2c])
    # camera 'a' (index 0 of 2) looks along +z from (0, 0, RING_M); 'b' from the opposite side
    np.testing.assert_allclose(centres[0], [0.0, 0.0, RING_M], atol=1e-6)
    np.testing.assert_allclose(centres[1], [0.0, 0.0, -RING_M], atol=1e-6)
    np.testing.assert_allclose(centres[2] - centres[0], [0.0, 0.0, SPEED * 0.5], atol=1e-5)


def test_depth_rows_and_intrinsics():
    pred = predict([(1.0, 'front')], size_hw=(11, 20))
    assert pred.depth.shape == (1, 1, 11, 20)
    assert pred.depth[0, 0, 0, 0].item() == pytest.approx(5.0)
    assert pred.depth[0, 0, -1, 7].item() == pytest.approx(15.0)
    assert torch.equal(pred.depth[0, 0, :, 0], pred.depth[0, 0, :, 19])  # constant along a row
    k = pred.intrinsics[0, 0]
    assert (k[0, 0].item(), k[0, 2].item(), k[1, 2].item()) == (20.0, 10.0, 5.5)
