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

"""Rendering 3D Gaussians into pinhole cameras, behind one interface.

``render(gaussians, cameras, backend)`` with backend ``'auto'`` (gsplat on CUDA when installed,
otherwise the reference rasterizer), ``'gsplat'`` or ``'reference'``. Both follow gsplat's
conventions (see ``da3_ros.render.reference``); quaternions are handed over exactly as the
model stores them, as upstream DA3 does.
"""
from typing import Optional

import torch

from da3_ros.errors import ConfigError
from da3_ros.model.gaussians import Gaussians
from da3_ros.render.gsplat_backend import gsplat_available, render_gsplat
from da3_ros.render.reference import render_reference
from da3_ros.render.types import RenderCameras, RenderOutput

BACKENDS = ('auto', 'gsplat', 'reference')

__all__ = ['BACKENDS', 'RenderCameras', 'RenderOutput', 'render', 'resolve_backend']


def resolve_backend(backend: str, device: torch.device) -> str:
    """Return the concrete backend for ``backend`` on ``device`` ('gsplat' or 'reference')."""
    if backend not in BACKENDS:
        raise ConfigError(f'render backend {backend!r} is not one of {BACKENDS}')
    if backend == 'auto':
        return 'gsplat' if device.type == 'cuda' and gsplat_available() else 'reference'
    return backend


def render(gaussians: Gaussians, cameras: RenderCameras, backend: str = 'auto',
           background: Optional[torch.Tensor] = None) -> RenderOutput:
    """Render batch-1 ``gaussians`` into every camera; see :class:`RenderOutput`."""
    if resolve_backend(backend, gaussians.means.device) == 'reference':
        cams = RenderCameras(cameras.viewmats.to(gaussians.means),
                             cameras.intrinsics.to(gaussians.means), cameras.width,
                             cameras.height)
        return render_reference(gaussians, cams, background)
    return render_gsplat(gaussians, cameras, background)
