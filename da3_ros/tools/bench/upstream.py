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

"""Upstream DA3 (the ``depth_anything_3`` package) as a benchmark reference, never a dependency.

``python -m da3_ros.tools.bench --upstream`` times upstream's network next to ours in the same
process. Upstream's package imports export and visualisation libraries at module level (open3d,
moviepy, evo, trimesh, pycolmap, xformers, gsplat, ...) that the forward and ``inference()``
never call; where they are missing, :func:`inert_optional_imports` lets the import succeed with
inert placeholder modules, for this benchmark only (nothing of the package runs through them).
Upstream builds its network from its own presets with its own initialisation; the benchmark then
loads the deterministic parity-rule weights into it, so both networks compute the same function.
"""
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch

from da3_ros.config import ModelConfig

DEFAULT_STRATEGY = ModelConfig.ref_view_strategy  # the dataclass field's default

# Top-level modules upstream imports for export, visualisation or its web app only.
OPTIONAL_UPSTREAM_IMPORTS = frozenset({
    'evo', 'open3d', 'moviepy', 'trimesh', 'pycolmap', 'plyfile', 'xformers', 'gsplat',
    'pillow_heif', 'matplotlib', 'gradio', 'fastapi', 'uvicorn', 'e3nn', 'typer', 'imageio',
})


class _Inert:
    """Stands for any attribute of a placeholder module: callable, subclassable, indexable."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs) -> '_Inert':
        return _Inert()

    def __getattr__(self, name: str) -> '_Inert':
        return _Inert()

    def __getitem__(self, key) -> '_Inert':
        return _Inert()


class _InertModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Inert


class _InertLoader(importlib.abc.Loader):
    def create_module(self, spec):
        module = _InertModule(spec.name)
        module.__path__ = []  # a package, so submodules import too
        return module

    def exec_module(self, module) -> None:
        pass


class _InertFinder(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: answers only for missing OPTIONAL_UPSTREAM_IMPORTS modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split('.')[0] not in OPTIONAL_UPSTREAM_IMPORTS:
            return None
        return importlib.machinery.ModuleSpec(fullname, _InertLoader(), is_package=True)


@contextlib.contextmanager
def inert_optional_imports() -> Iterator[None]:
    """Import upstream with placeholders for its missing optional libraries (benchmark only)."""
    finder = _InertFinder()
    sys.meta_path.append(finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def available() -> bool:
    """Whether upstream's package can be imported here."""
    return importlib.util.find_spec('depth_anything_3') is not None


class Upstream:
    """Upstream's ``DepthAnything3`` of one preset, with the given checkpoint-keyed weights.

    Args:
        variant: preset name, the same as the package's variant names (``da3-large``).
        state_dict: checkpoint-keyed tensors (keys start with ``model.``); None keeps upstream's
            own initialisation.
        device: torch device string.
    """

    def __init__(self, variant: str, state_dict: Optional[Dict[str, torch.Tensor]],
                 device: str) -> None:
        with inert_optional_imports():
            api = importlib.import_module('depth_anything_3.api')
        self.api = api.DepthAnything3(model_name=variant)
        self.missing: List[str] = []
        if state_dict is not None:
            result = self.api.load_state_dict(
                {k: torch.as_tensor(v) for k, v in state_dict.items()}, strict=False)
            self.missing = list(result.missing_keys)
        self.api = self.api.to(device).eval()
        self.device = torch.device(device)

    def forward(self, images: torch.Tensor, strategy: str = DEFAULT_STRATEGY) -> dict:
        """Upstream's own bf16/fp16-autocast pass on images [1, S, 3, H, W] (normalised)."""
        return self.api.forward(images, None, None, [], ref_view_strategy=strategy)

    def forward_fp32(self, images: torch.Tensor, strategy: str = DEFAULT_STRATEGY) -> dict:
        """Return the same network without autocast: upstream's fp32 reference."""
        with torch.inference_mode():
            return self.api.model(images, None, None, [], False, False, strategy)

    def inference(self, images: List[np.ndarray], process_res: int = 504):
        """Upstream's end-to-end call: uint8 HxWx3 images in, numpy results out."""
        return self.api.inference(images, process_res=process_res)


def depth_and_extrinsics(output) -> tuple:
    """(depth [S, H, W], extrinsics [S, 3, 4] or None) as float32 tensors from upstream output."""
    depth = output['depth'].float().reshape(-1, *output['depth'].shape[-2:])
    extr = output.get('extrinsics') if hasattr(output, 'get') else None
    if extr is not None:
        extr = extr.float().reshape(-1, *extr.shape[-2:])[:, :3, :4]
    return depth, extr
