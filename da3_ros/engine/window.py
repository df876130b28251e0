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

"""Sliding multi-camera window: a preallocated device ring of T timesteps x N cameras.

Memory is fixed after the first push: images live in one [T, N, 3, h, w] device tensor and
per-view metadata in small fixed arrays, so a run of any length allocates nothing new (a new
processed size or camera set reallocates once). A :class:`WindowSpan` carries the views of one
step from stage to stage (model inputs, window geometry, outputs).
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from da3_ros.engine.preprocess import ImageTransform
from da3_ros.engine.upload import to_device
from da3_ros.errors import SyncError


@dataclass(frozen=True)
class View:
    """One view of a window: ring slot, camera index, stamp and camera name."""

    slot: int
    cam: int
    stamp: float
    name: str


@dataclass
class ViewMeta:
    """Host-side metadata of one buffered view (all frames as in engine.types)."""

    frame_id: str
    transform: ImageTransform
    k_proc: Optional[np.ndarray]
    t_base_cam: Optional[np.ndarray]


@dataclass(frozen=True)
class WindowSpan:
    """The views one engine step predicts, their metadata, and which of them it outputs.

    Attributes:
        window: the buffer holding the views' images.
        views: the predicted views in window order (oldest timestep first, rig order).
        metas: host metadata of each view.
        known: per view the metric ``T_odom_cam`` [4, 4] (odometry composed with the rig
            extrinsic), or None when either is missing.
        output_stamp: stamp of the timestep whose outputs the step returns.
    """

    window: 'WindowBuffer'
    views: Tuple[View, ...]
    metas: Tuple[ViewMeta, ...]
    known: Tuple[Optional[np.ndarray], ...]
    output_stamp: float

    @property
    def stamps(self) -> Tuple[float, ...]:
        """The window's timestep stamps, oldest first."""
        return tuple(sorted({v.stamp for v in self.views}))

    @property
    def keys(self) -> List[Tuple[float, str]]:
        """(stamp, camera name) of each view."""
        return [(v.stamp, v.name) for v in self.views]

    @property
    def output_indices(self) -> List[int]:
        """Indices into ``views`` of the output timestep's views."""
        return [i for i, v in enumerate(self.views) if v.stamp == self.output_stamp]


class WindowBuffer:
    """Ring buffer of the last ``length`` admitted timesteps.

    Args:
        length: timesteps T kept.
        max_views: cap on views returned by :meth:`views`.
        names: camera names in rig order (fixes N).
        device: torch device of the image ring.
    """

    def __init__(self, length: int, max_views: int, names: Sequence[str],
                 device: torch.device) -> None:
        self.length, self.max_views = length, max_views
        self.names = tuple(names)
        self.device = torch.device(device)
        self.images: Optional[torch.Tensor] = None
        self.valid = np.zeros((length, len(self.names)), dtype=bool)
        self.meta: List[List[Optional[ViewMeta]]] = [[None] * len(self.names)
                                                     for _ in range(length)]
        self.stamps = np.zeros(length)
        self.odom: List[Optional[np.ndarray]] = [None] * length
        self.count, self.head = 0, 0

    def reset(self) -> None:
        """Forget every timestep (buffers are kept)."""
        self.valid[:] = False
        self.count, self.head = 0, 0

    def _ensure(self, hw: Tuple[int, int]) -> None:
        if self.images is None or tuple(self.images.shape[-2:]) != tuple(hw):
            self.images = torch.zeros((self.length, len(self.names), 3) + tuple(hw),
                                      device=self.device)
            self.reset()

    def push(self, stamp: float, views: dict, t_odom_base: Optional[np.ndarray]) -> int:
        """Store one timestep, overwriting the oldest; return its slot.

        Args:
            stamp: timestep stamp (s).
            views: camera name -> (image [3, h, w] tensor, ViewMeta).
            t_odom_base: odometry pose [4, 4] or None.

        Raises:
            SyncError: a camera name is not part of the rig.
        """
        unknown = sorted(set(views) - set(self.names))
        if unknown:
            raise SyncError(f'unknown cameras {unknown!r}; rig cameras are {self.names!r}')
        first = next(iter(views.values()))[0]
        self._ensure(first.shape[-2:])
        slot = self.head
        self.valid[slot] = False
        for name, (image, meta) in views.items():
            cam = self.names.index(name)
            self.images[slot, cam].copy_(image)
            self.valid[slot, cam] = True
            self.meta[slot][cam] = meta
        self.stamps[slot], self.odom[slot] = stamp, t_odom_base
        self.head = (self.head + 1) % self.length
        self.count = min(self.count + 1, self.length)
        return slot

    def slots(self) -> List[int]:
        """Ring slots of the buffered timesteps, oldest first."""
        return [(self.head - self.count + i) % self.length for i in range(self.count)]

    def views(self) -> List[View]:
        """Return views of the window, oldest timestep first, rig order within a timestep.

        Whole oldest timesteps are dropped until at most ``max_views`` remain; if the newest
        timestep alone has more, its last cameras are dropped.
        """
        slots = self.slots()
        per_slot = [[View(s, c, float(self.stamps[s]), self.names[c])
                     for c in np.flatnonzero(self.valid[s])] for s in slots]
        while len(per_slot) > 1 and sum(map(len, per_slot)) > self.max_views:
            per_slot.pop(0)
        flat = [v for group in per_slot for v in group]
        return flat[:self.max_views]

    def gather(self, views: Sequence[View]) -> torch.Tensor:
        """Images [S, 3, h, w] of ``views`` (one device gather)."""
        slots = to_device([v.slot for v in views], self.device, torch.int64)
        cams = to_device([v.cam for v in views], self.device, torch.int64)
        return self.images[slots, cams]

    def view_meta(self, view: View) -> ViewMeta:
        """Metadata of one buffered view."""
        return self.meta[view.slot][view.cam]

    def span(self, output_delay: int) -> Optional[WindowSpan]:
        """Return the views to predict, with the output timestep ``output_delay`` steps back.

        None while the window holds no more than ``output_delay`` timesteps.
        """
        views = self.views()
        stamps = sorted({v.stamp for v in views})
        if len(stamps) <= output_delay:
            return None
        metas = tuple(self.view_meta(v) for v in views)
        known = []
        for view, meta in zip(views, metas):
            odom, ext = self.odom[view.slot], meta.t_base_cam
            known.append(None if odom is None or ext is None else odom @ ext)
        return WindowSpan(self, tuple(views), metas, tuple(known), stamps[-1 - output_delay])
