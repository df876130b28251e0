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

"""gsplat rasterization on CUDA (optional extra ``gs``: ``pip install gsplat==1.5.3``).

gsplat is imported lazily, on the first render: its CUDA kernels compile on first import (about
a minute, then cached by torch's extension cache), and it has no CPU implementation, so this
backend refuses CPU tensors instead of trying.
"""
from typing import Optional

import torch

from da3_ros.errors import ConfigError
from da3_ros.model.gaussians import Gaussians
from da3_ros.render.types import RenderCameras, RenderOutput


def gsplat_available() -> bool:
    """Whether the gsplat package can be found (without importing it or compiling kernels)."""
    import importlib.util
    return importlib.util.find_spec('gsplat') is not None


def render_gsplat(gaussians: Gaussians, cameras: RenderCameras,
                  background: Optional[torch.Tensor] = None) -> RenderOutput:
    """Render batch-1 Gaussians with ``gsplat.rasterization`` (RGB + expected depth).

    Called as upstream DA3 calls it: quaternions passed as stored, SH [N, K, 3] with the degree
    from K, w2c view matrices, eps2d/near/far and the classic mode left at gsplat's defaults.
    """
    if gaussians.means.device.type != 'cuda':
        raise ConfigError(f'render backend gsplat needs CUDA tensors, got '
                          f'{gaussians.means.device}; use the reference backend on the CPU')
    try:
        from gsplat import rasterization
    except ImportError as exc:
        raise ConfigError('render backend gsplat: the package is not installed '
                          '(pip install gsplat==1.5.3, the "gs" extra)') from exc
    harmonics = gaussians.harmonics[0].float()
    degree = int(round(harmonics.shape[-1] ** 0.5)) - 1
    bg = None
    if background is not None:
        bg = background.float().to(harmonics.device).expand(cameras.viewmats.shape[0], 3)
    colours, alphas, _ = rasterization(
        gaussians.means[0].float(), gaussians.rotations[0].float(), gaussians.scales[0].float(),
        gaussians.opacities[0].float(), harmonics.transpose(-1, -2).contiguous(),
        cameras.viewmats.float().to(harmonics.device),
        cameras.intrinsics.float().to(harmonics.device), cameras.width, cameras.height,
        sh_degree=degree, render_mode='RGB+ED', packed=False, backgrounds=bg)
    return RenderOutput(colours[..., :3], colours[..., 3], alphas[..., 0])
