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

"""The gsplat backend refuses what it cannot do, naming it (it renders only CUDA tensors).

Its agreement with the reference renderer on a GPU is tested in test_reference.py.
"""
import pytest
import torch

from da3_ros.errors import ConfigError
from da3_ros.model.gaussians import Gaussians
from da3_ros.render.gsplat_backend import render_gsplat
from da3_ros.render.types import RenderCameras


def test_cpu_tensors_are_refused_naming_the_device_and_the_alternative():
    gaussians = Gaussians(torch.zeros(1, 2, 3), torch.ones(1, 2, 3), torch.zeros(1, 2, 4),
                          torch.zeros(1, 2, 3, 1), torch.ones(1, 2))
    cameras = RenderCameras(torch.eye(4)[None], torch.eye(3)[None], 4, 4)
    with pytest.raises(ConfigError, match='needs CUDA tensors, got cpu; use the reference'):
        render_gsplat(gaussians, cameras)
