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

"""Device-side post-processing: depth back to camera resolution, clouds, one copy to host.

Depth is mapped from the processed image to output resolution by the inverse of the
pre-processing transform (cached sampling grids); invalid pixels (outside the processed image,
non-finite, out of range, low confidence, sky) are NaN in the organized clouds and absent from
the fused cloud. The fused cloud is built at processed resolution in the base frame.
"""
import math
from typing import AbstractSet, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from da3_ros.config import OutputConfig
from da3_ros.engine.outputs import CLOUD, CONFIDENCE, DEPTH, MAP_ORDER, SKY
from da3_ros.engine.point_rows import valid_first, voxel_downsample
from da3_ros.engine.preprocess import ImageTransform
from da3_ros.engine.upload import to_device
from da3_ros.geometry import camera as cam_lib


MAX_RAY_SETS = 4  # ray sets kept on the device: organised and fused clouds of two layouts
MAX_RAY_BYTES = 256 * 2 ** 20  # and the device memory they may hold in all


def sample_pixels(height: int, width: int, count: int) -> torch.Tensor:
    """Flat indices [<= count] of a regular grid of pixels (same for every window)."""
    rows = max(1, int(round(np.sqrt(count * height / width))))
    cols = max(1, count // rows)
    v = ((np.arange(rows) + 0.5) * height / rows).astype(np.int64)
    u = ((np.arange(cols) + 0.5) * width / cols).astype(np.int64)
    return torch.from_numpy((v[:, None] * width + u[None]).reshape(-1))


def view_points(depth: torch.Tensor, k_proc: torch.Tensor,
                index: torch.Tensor) -> torch.Tensor:
    """Camera-frame points [S, P, 3] at flat pixel ``index`` of depths [S, h, w]."""
    width = depth.shape[-1]
    u = (index % width).to(depth)
    v = torch.div(index, width, rounding_mode='floor').to(depth)
    pix = torch.stack([u, v, torch.ones_like(u)], -1)
    rays = pix @ cam_lib.intrinsics_inverse(k_proc.to(depth)).transpose(1, 2)
    return rays * depth.reshape(depth.shape[0], -1)[:, index, None]


def inverse_on_device(k: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Inverse [..., 3, 3] of host intrinsics ``k``, computed in float64 on the host, uploaded."""
    return to_device(np.linalg.inv(np.asarray(k, dtype=np.float64)), device, dtype)


def to_host(tensors: Sequence[torch.Tensor]) -> List[np.ndarray]:
    """Copy tensors to numpy with one device-to-host transfer.

    Bool tensors come back as bool; the rest as float64 if any input is float64, else float32.
    """
    if not tensors:
        return []
    wide = any(t.dtype == torch.float64 for t in tensors)
    dtype = torch.float64 if wide else torch.float32
    flat = torch.cat([t.reshape(-1).to(dtype) for t in tensors]).cpu().numpy()
    out, start = [], 0
    for t in tensors:
        chunk = flat[start:start + t.numel()].reshape(tuple(t.shape))
        out.append(chunk > 0.5 if t.dtype == torch.bool else chunk)
        start += t.numel()
    return out


class Postprocessor:
    """Maps processed-resolution outputs back and builds clouds.

    Args:
        cfg: output configuration.
        device: torch device of the predictions.
    """

    def __init__(self, cfg: OutputConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self._grids: Dict[ImageTransform, Tuple[torch.Tensor, torch.Tensor]] = {}
        self._ray_sets: Dict[tuple, torch.Tensor] = {}

    def valid_mask(self, depth: torch.Tensor, conf: torch.Tensor,
                   sky: torch.Tensor) -> torch.Tensor:
        """Pixels kept by range, confidence and sky filters (same shape as ``depth``)."""
        return self.in_range(depth) & self.kept(conf, sky)

    def in_range(self, depth: torch.Tensor) -> torch.Tensor:
        """Pixels whose depth is finite and within the configured range.

        NaN fails both comparisons and -inf the lower bound (``min_depth`` >= 0), so the
        finiteness test is needed only for +inf under an infinite ``max_depth`` (each test is
        a launch over every output pixel).
        """
        inside = (depth >= self.cfg.min_depth) & (depth <= self.cfg.max_depth)
        return inside if math.isfinite(self.cfg.max_depth) else inside & torch.isfinite(depth)

    def kept(self, conf: torch.Tensor, sky: torch.Tensor) -> torch.Tensor:
        """Pixels kept by the confidence and sky filters (the scale-free part of the mask).

        A NaN confidence is "not estimated" (variants without a confidence output): the
        confidence filter does not apply to it.
        """
        return ((conf >= self.cfg.min_confidence) | torch.isnan(conf)) & ~sky

    def _grid(self, tf: ImageTransform) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return the sampling grid [1, H, W, 2] of ``tf`` and its outside mask [H, W] (cached)."""
        if tf not in self._grids:
            if len(self._grids) > 64:
                self._grids.clear()
            height, width = tf.src_hw
            u = (torch.arange(width, dtype=torch.float64) + 0.5) * tf.scale[0] - tf.crop[0]
            v = (torch.arange(height, dtype=torch.float64) + 0.5) * tf.scale[1] - tf.crop[1]
            gx = u / tf.out_hw[1] * 2.0 - 1.0
            gy = v / tf.out_hw[0] * 2.0 - 1.0
            grid = torch.stack(torch.meshgrid(gy, gx, indexing='ij')[::-1], -1)
            grid = grid[None].float().to(self.device)
            self._grids[tf] = grid, ~(grid[0].abs() <= 1.0).all(-1)
        return self._grids[tf]

    def to_output(self, maps: torch.Tensor, tf: ImageTransform) -> torch.Tensor:
        """Resample processed maps [M, N, h, w] to output resolution (NaN outside the image).

        Every map shares ``tf``, hence one grid: the M x N maps (e.g. maps x cameras) are folded
        into one image of M * N channels and resampled by one ``grid_sample`` (channels are
        sampled independently, so each equals its own resample).
        """
        if self.cfg.resolution == 'processed':
            return maps
        grid, outside = self._grid(tf)
        outer, inner, height, width = maps.shape
        out = F.grid_sample(maps.reshape(1, outer * inner, height, width).float(), grid,
                            mode=self.cfg.upsample, padding_mode='zeros', align_corners=False)
        out = out.reshape(outer, inner, *out.shape[-2:])
        return out.masked_fill(outside, float('nan'))

    def output_k(self, k_proc: np.ndarray, tf: ImageTransform) -> np.ndarray:
        """Intrinsics [3, 3] at output resolution."""
        return k_proc if self.cfg.resolution == 'processed' else tf.inverse_intrinsics(k_proc)

    def builds_cloud(self, wanted: AbstractSet[str]) -> bool:
        """Whether an organised cloud is built: wanted and allowed by the configuration."""
        return CLOUD in wanted and self.cfg.organized_clouds

    def resampled(self, wanted: AbstractSet[str]) -> Tuple[str, ...]:
        """Return the maps (``MAP_ORDER``) resampled for ``wanted``; empty: nothing is built."""
        return tuple(n for n in MAP_ORDER if n in wanted or self.builds_cloud(wanted))

    def batch_outputs(self, depth: torch.Tensor, conf: torch.Tensor, sky: torch.Tensor,
                      tf: ImageTransform, k_out: np.ndarray,
                      wanted: AbstractSet[str]) -> Dict[str, torch.Tensor]:
        """Return the ``wanted`` outputs (``engine.outputs`` names) of B cameras sharing ``tf``.

        :meth:`batch_maps`, then :meth:`batch_cloud` when an organised cloud is wanted and
        allowed (``OutputConfig.organized_clouds``).

        Args:
            depth: [B, h, w] scaled depth at processed resolution.
            conf: [B, h, w] confidence.
            sky: [B, h, w] bool sky mask.
            tf: pre-processing transform shared by the B cameras.
            k_out: [B, 3, 3] output intrinsics (only for a cloud; their rays are cached).
            wanted: output names.

        Returns:
            name -> tensor at output resolution ([B, H, W] maps, [B, H, W, 3] clouds in each
            camera's OpenCV optical frame), in ``MAP_ORDER`` then the cloud. Each is one
            contiguous block (a map is entry ``i`` of one [C, B, H, W] resample), so a group's
            output copies to the host as one memcpy, without a device-side gather.
        """
        maps = self.batch_maps(depth, conf, sky, tf, wanted)
        out = {n: t for n, t in maps.items() if n in wanted}
        if self.builds_cloud(wanted):
            out[CLOUD] = self.batch_cloud(maps, k_out)
        return out

    def batch_maps(self, depth: torch.Tensor, conf: torch.Tensor, sky: torch.Tensor,
                   tf: ImageTransform, wanted: AbstractSet[str]) -> Dict[str, torch.Tensor]:
        """Resample the maps ``wanted`` needs (:meth:`resampled`) of B cameras sharing ``tf``.

        One resample for all B cameras and maps; only the maps that are wanted, or that a
        wanted organised cloud needs, are resampled (channels are resampled independently, so
        a subset gives the same values). Arguments as :meth:`batch_outputs`.

        Returns:
            name -> [B, H, W] at output resolution, in ``MAP_ORDER`` (sky as bool).
        """
        names = self.resampled(wanted)
        if not names:
            return {}
        source = {DEPTH: depth, CONFIDENCE: conf, SKY: sky.float()}
        # Maps outermost ([C, B, h, w]; channels resample independently, so the layout does
        # not change a value): each map is one contiguous [B, H, W] block, one copy to the host.
        maps = self.to_output(torch.stack([source[n] for n in names], 0).float(), tf)
        return {n: (maps[i] > 0.5 if n == SKY else maps[i]) for i, n in enumerate(names)}

    def batch_cloud(self, maps: Dict[str, torch.Tensor], k_out: np.ndarray,
                    kept: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Organised clouds [B, H, W, 3] (camera optical frames) of :meth:`batch_maps` output.

        Invalid pixels (:meth:`valid_mask`) are NaN. ``kept`` is :meth:`kept` of the maps when
        the caller computed it earlier (it does not depend on the depth's scale).
        """
        if kept is None:
            kept = self.kept(maps[CONFIDENCE], maps[SKY])
        depth = maps[DEPTH]
        rays = self.rays(k_out, tuple(depth.shape[-2:]), depth.dtype)
        return rays * torch.where(self.in_range(depth) & kept, depth, float('nan'))[..., None]

    def rays(self, k: np.ndarray, hw: Tuple[int, int],
             dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Rays [B, H, W, 3] (z = 1) of cameras ``k`` [B, 3, 3], kept on the device.

        The rays of a rig change only with its intrinsics, so they are made once
        (``unproject_depth`` of unit depth, hence the same values) and each cloud is one
        product with the depth instead of a batched matrix product, an upload of the inverse
        intrinsics and their launches every step. The least recently used sets go first, so
        at most ``MAX_RAY_SETS`` sets of at most ``MAX_RAY_BYTES`` in all are kept (6 cameras
        at 1600 x 900 take 104 MB; a set larger than the bound is made and not kept), also
        when the intrinsics change every window (predicted by the model).
        """
        k = np.ascontiguousarray(k, dtype=np.float64)
        key = (k.tobytes(), k.shape, hw, dtype)
        rays = self._ray_sets.pop(key, None)
        if rays is None:
            ones = torch.ones((len(k),) + hw, device=self.device, dtype=dtype)
            rays = cam_lib.unproject_depth(ones, k_inv=inverse_on_device(k, self.device, dtype))
        self._ray_sets[key] = rays  # most recently used last
        while (len(self._ray_sets) > MAX_RAY_SETS
               or sum(r.nbytes for r in self._ray_sets.values()) > MAX_RAY_BYTES):
            self._ray_sets.pop(next(iter(self._ray_sets)))  # least recently used
        return rays

    def fused_cloud(self, depth: torch.Tensor, conf: torch.Tensor, sky: torch.Tensor,
                    k_proc: np.ndarray, t_base_cam: np.ndarray,
                    kept: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Return filtered points in the base frame from processed maps [V, h, w].

        Without voxels (``voxel_size`` 0) the result is [V * h * w, 3]: the valid points first,
        in pixel order, then NaN rows (:func:`valid_first`), built without reading anything on
        the host; :func:`valid_rows` cuts it to the valid points [M, 3] on the host. With
        voxels it is the [M', 3] voxel means, whose size ``voxel_downsample`` reads from the
        device (host synchronisations).

        Args:
            depth: [V, h, w] scaled depth.
            conf: [V, h, w] confidence.
            sky: [V, h, w] bool sky mask.
            k_proc: [V, 3, 3] processed intrinsics (host; their rays are cached, :meth:`rays`).
            t_base_cam: [V, 4, 4] camera-to-base poses (host).
            kept: :meth:`kept` of ``conf`` and ``sky`` when the caller computed it earlier.
        """
        if kept is None:
            kept = self.kept(conf, sky)
        points = self.rays(k_proc, tuple(depth.shape[-2:]), depth.dtype) * depth[..., None]
        pose = to_device(t_base_cam, depth.device, depth.dtype)
        points = cam_lib.transform_points_torch(pose, points).reshape(-1, 3)
        # A non-finite pose makes non-finite points of valid pixels: never kept, so the valid
        # rows of the padded layout are finite (``valid_rows`` relies on it) and voxel keys
        # are never made of NaN.
        valid = (self.in_range(depth) & kept).reshape(-1) & torch.isfinite(points).all(-1)
        if self.cfg.voxel_size > 0:
            return voxel_downsample(points[valid], self.cfg.voxel_size)
        return valid_first(points, valid)
