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
