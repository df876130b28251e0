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

"""Offline novel views for ``da3_bag``: what-if camera images and 3DGS PLY export.

``--render-offset x,y,z,yaw`` renders every camera of every output set as if the vehicle had been
displaced by that offset (metres / radians, in the base frame at the set: x forward, y left,
z up, yaw about z), and writes ``<cam>/offset/image`` (rgb8), ``<cam>/offset/depth`` (32FC1) and
``<cam>/offset/camera_info`` (the camera's own intrinsics, size and frame id; the pose is the
displaced one), stamped like the set.
It needs the base pose of the set (rig extrinsics); sets without one get no what-if views.
``--render-offset FILE`` reads one ``t x y z yaw`` line per row (t in seconds of bag time, ``#``
comments) and interpolates linearly in t (held constant outside), e.g. a lane-change path.

``--export-gs DIR`` writes the Gaussians of each output set to ``DIR/gaussians_<stamp_ns>.ply``:
the binary little-endian 3DGS layout common viewers open (x, y, z, nx, ny, nz, f_dc_0..2,
f_rest_* channel-major, opacity as a logit, scale_0..2 as log, rot_0..3 as w, x, y, z). Sizes are
written as log|s| (the Gaussian head can predict negative scales; the sign does not change a
Gaussian). Existing files are not overwritten: the export refuses a folder that already holds
``gaussians_*.ply``.

Both need ``output.gaussians`` (turned on by the options): the Gaussian head of da3-giant /
da3nested-giant-large, or one splat per pixel for the other variants.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple

import numpy as np
import torch

from da3_ros.engine.types import RigResult
from da3_ros.errors import ConfigError
from da3_ros.geometry import pose as pose_lib
from da3_ros.model.gaussians import Gaussians
from da3_ros.render import render, RenderCameras
from da3_ros.ros.messages.image import array_to_image, depth_to_image
from da3_ros.ros.messages.rig_input import RigInput
from da3_ros.ros.messages.rig_output import camera_info

MIN_COVERAGE = 0.5
PLY_PREFIX = 'gaussians_'


@dataclass(frozen=True)
class OffsetPath:
    """Vehicle offsets (x, y, z, yaw) over time; one row means a constant offset.

    Attributes:
        times: [K] seconds, increasing (ignored when K = 1).
        offsets: [K, 4] (x, y, z, yaw) in the base frame.
    """

    times: Tuple[float, ...]
    offsets: Tuple[Tuple[float, float, float, float], ...]

    def at(self, stamp: float) -> np.ndarray:
        """(x, y, z, yaw) at ``stamp`` (linear in time, held outside the path)."""
        values = np.asarray(self.offsets, dtype=np.float64)
        if len(values) == 1:
            return values[0]
        return np.array([np.interp(stamp, self.times, values[:, i]) for i in range(4)])

    def matrix(self, stamp: float) -> np.ndarray:
        """``T_base_displaced`` [4, 4]: the displaced base in the base frame."""
        x, y, z, yaw = self.at(stamp)
        return pose_lib.make_pose(pose_lib.so3_exp(np.array([0.0, 0.0, yaw])),
                                  np.array([x, y, z]))


def parse_offset(text: str) -> OffsetPath:
    """``'x,y,z,yaw'`` or the path of a ``t x y z yaw`` file; ConfigError naming the problem."""
    path = Path(text)
    if path.is_file():
        return _read_path_file(path)
    try:
        values = tuple(float(v) for v in text.split(','))
    except ValueError:
        values = ()
    if len(values) != 4 or not np.isfinite(values).all():
        raise ConfigError(f'--render-offset {text!r}: need x,y,z,yaw (metres, radians) or an '
                          f'existing file of "t x y z yaw" rows')
    return OffsetPath((0.0,), (values,))


def _read_path_file(path: Path) -> OffsetPath:
    rows = []
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), start=1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        try:
            row = [float(v) for v in line.replace(',', ' ').split()]
        except ValueError:
            row = []
        if len(row) != 5 or not np.isfinite(row).all():
            raise ConfigError(f'{path}:{number}: need "t x y z yaw", got {line!r}')
        rows.append(row)
    times = [r[0] for r in rows]
    if not rows or any(b <= a for a, b in zip(times, times[1:])):
        raise ConfigError(f'{path}: need at least one row, times strictly increasing')
    return OffsetPath(tuple(times), tuple(tuple(r[1:]) for r in rows))


def ply_bytes(gaussians: Gaussians) -> bytes:
    """Return a binary little-endian 3DGS PLY of batch-1 Gaussians."""
    means = gaussians.means[0].detach().float().cpu().numpy()
    harmonics = gaussians.harmonics[0].detach().float().cpu().numpy()
    count, rest = means.shape[0], 3 * (harmonics.shape[-1] - 1)
    opacity = np.clip(gaussians.opacities[0].detach().double().cpu().numpy(), 1e-6, 1 - 1e-6)
    scales = np.abs(gaussians.scales[0].detach().double().cpu().numpy())
    names = (['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2']
             + [f'f_rest_{i}' for i in range(rest)] + ['opacity']
             + [f'scale_{i}' for i in range(3)] + [f'rot_{i}' for i in range(4)])
    columns = [means, np.zeros_like(means), harmonics[..., 0],
               harmonics[..., 1:].reshape(count, rest), np.log(opacity / (1 - opacity))[:, None],
               np.log(np.maximum(scales, 1e-12)),
               gaussians.rotations[0].detach().float().cpu().numpy()]
    table = np.concatenate([np.asarray(c, dtype='<f4').reshape(count, -1) for c in columns],
                           axis=1)
    header = ['ply', 'format binary_little_endian 1.0', f'element vertex {count}']
    header += [f'property float {n}' for n in names] + ['end_header']
    return ('\n'.join(header) + '\n').encode('ascii') + np.ascontiguousarray(table).tobytes()


@dataclass
class NovelViews:
    """What-if renders and PLY export for each output set of the bag pipeline.

    Attributes:
        offset: vehicle displacement to render every camera with, or None.
        export_dir: folder for the PLY files, or None.
        backend: render backend (``auto``: gsplat on CUDA when installed).
        written: PLY files written so far.
    """

    offset: Optional[OffsetPath] = None
    export_dir: Optional[Path] = None
    backend: str = 'auto'
    written: List[str] = field(default_factory=list)

    def prepare(self) -> None:
        """Create the export folder; refuse one that already holds exported Gaussians."""
        if self.export_dir is None:
            return
        self.export_dir.mkdir(parents=True, exist_ok=True)
        if any(self.export_dir.glob(PLY_PREFIX + '*.ply')):
            raise ConfigError(f'--export-gs {self.export_dir}: already holds {PLY_PREFIX}*.ply;'
                              f' choose an empty folder (nothing is overwritten)')

    def __call__(self, types: Any, result: RigResult, source: RigInput) -> list:
        """``(relative topic, message)`` pairs of the what-if views; writes the PLY."""
        if result.gaussians is None:
            return []
        if self.export_dir is not None:
            path = self.export_dir / f'{PLY_PREFIX}{source.stamp_ns}.ply'
            path.write_bytes(ply_bytes(result.gaussians))
            self.written.append(str(path))
        if self.offset is None or result.t_world_base is None:
            return []
        return self._offset_views(types, result, source)

    def _offset_views(self, types: Any, result: RigResult, source: RigInput) -> list:
        base = result.t_world_base
        displaced = base @ self.offset.matrix(result.stamp)
        device = result.gaussians.means.device
        out = []
        for name, cam in result.cameras.items():
            t_world_cam = displaced @ pose_lib.inverse(base) @ cam.t_world_cam
            height, width = cam.depth.shape
            cams = RenderCameras(
                torch.tensor(pose_lib.inverse(t_world_cam), dtype=torch.float32,
                             device=device)[None],
                torch.tensor(cam.k, dtype=torch.float32, device=device)[None], width, height)
            view = render(result.gaussians, cams, self.backend)
            rgb = (view.colour[0].clamp(0, 1) * 255 + 0.5).to(torch.uint8).cpu().numpy()
            depth = torch.where(view.alpha[0] >= MIN_COVERAGE, view.depth[0],
                                torch.full_like(view.depth[0], float('nan'))).cpu().numpy()
            stamp = source.stamps_ns.get(name, source.stamp_ns)
            frame = source.frame_ids.get(name, cam.frame_id)
            out += [(f'{name}/offset/image', array_to_image(types, rgb, 'rgb8', stamp, frame)),
                    (f'{name}/offset/depth', depth_to_image(types, depth, stamp, frame)),
                    (f'{name}/offset/camera_info', camera_info(types, cam.k, (height, width),
                                                               stamp, frame))]
        return out
