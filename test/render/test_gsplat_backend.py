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
