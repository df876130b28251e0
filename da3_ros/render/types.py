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

"""Cameras in and images out of a Gaussian renderer (OpenCV frames, pixels)."""
from dataclasses import dataclass

import torch

from da3_ros.errors import ConfigError


@dataclass(frozen=True)
class RenderCameras:
    """V pinhole cameras of one image size.

    Attributes:
        viewmats: [V, 4, 4] world-to-camera (OpenCV: x right, y down, z forward).
        intrinsics: [V, 3, 3] in pixels of a ``width`` x ``height`` image; pixel (i, j) has its
            centre at (j + 0.5, i + 0.5).
        width, height: image size in pixels.
    """

    viewmats: torch.Tensor
    intrinsics: torch.Tensor
    width: int
    height: int

    def __post_init__(self) -> None:
        views = self.viewmats.shape[0]
        if self.viewmats.shape != (views, 4, 4) or self.intrinsics.shape != (views, 3, 3):
            raise ConfigError(f'render cameras: viewmats {tuple(self.viewmats.shape)} and'
                              f' intrinsics {tuple(self.intrinsics.shape)} must be [V,4,4] and'
                              f' [V,3,3]')
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(f'render cameras: image size {self.width}x{self.height} is empty')

    @property
    def centres(self) -> torch.Tensor:
        """[V, 3] camera centres in the world frame."""
        rot, trans = self.viewmats[:, :3, :3], self.viewmats[:, :3, 3:]
        return -(rot.transpose(-1, -2) @ trans)[..., 0]


@dataclass
class RenderOutput:
    """What a renderer returns for V cameras of H x W pixels.

    Attributes:
        colour: [V, H, W, 3] RGB (SH colour + 0.5, clamped at >= 0), composited on the
            background; about [0, 1].
        depth: [V, H, W] expected camera z-depth (sum w z / sum w); 0 where nothing was drawn.
        alpha: [V, H, W] accumulated opacity 1 - T.
    """

    colour: torch.Tensor
    depth: torch.Tensor
    alpha: torch.Tensor
