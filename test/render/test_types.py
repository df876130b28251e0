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

"""Renderer cameras: validation naming the offending shapes and size, and their world centres."""
import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.render.types import RenderCameras


def test_centres_are_the_camera_positions_in_the_world():
    viewmats = torch.eye(4).repeat(2, 1, 1)
    viewmats[1, :3, 3] = torch.tensor([1.0, 2.0, 3.0])  # t = -R C with R = I: C = -t
    cams = RenderCameras(viewmats, torch.eye(3).repeat(2, 1, 1), 8, 6)
    assert torch.allclose(cams.centres, torch.tensor([[0.0, 0.0, 0.0], [-1.0, -2.0, -3.0]]))


def test_mismatched_shapes_and_empty_images_are_refused_naming_them():
    with pytest.raises(ConfigError, match=r'viewmats \(2, 4, 4\) and intrinsics \(1, 3, 3\)'):
        RenderCameras(torch.eye(4).repeat(2, 1, 1), torch.eye(3)[None], 8, 6)
    with pytest.raises(ConfigError, match='image size 0x6 is empty'):
        RenderCameras(torch.eye(4)[None], torch.eye(3)[None], 0, 6)
