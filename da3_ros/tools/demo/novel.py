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

"""The demo's novel view: each camera next to the same camera rendered from a shifted vehicle.

The demo (``da3_ros.tools.demo``) asks ``da3_bag`` for what-if views (``--render-offset``,
``da3_ros.tools.bag.novel``) with :data:`NOVEL_OFFSET` when :func:`render_offset_for` says so,
then :func:`write_novel_sheets` puts the real images and the rendered ones side by side.
Rendered from the Gaussian head of da3-giant / da3nested-giant-large; with placeholder weights
(the parity rule) the path runs with per-pixel splats and the picture means nothing.
"""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from da3_ros.config import PLACEHOLDER_WEIGHTS
from da3_ros.model.variants import has_gaussian_head
from da3_ros.ros.messages.tf_msgs import stamp_to_ns
from da3_ros.tools.bag.io import read_decoded
from da3_ros.tools.demo import visualize
from da3_ros.tools.demo.data import image_rgb, nearest

NOVEL_OFFSET = '0.0,1.5,0.6,0.15'  # 1.5 m to the left, 0.6 m up, turned 0.15 rad left
NOVEL_TOPIC = '{camera}/offset/image'
PLACEHOLDER_NOTE = ' (placeholder weights: this picture is MEANINGLESS)'


def render_offset_for(variant: str, weights: str) -> Optional[str]:
    """Return the offset to render, or None: Gaussian-capable variants, and placeholder weights."""
    return NOVEL_OFFSET if has_gaussian_head(variant) or weights in PLACEHOLDER_WEIGHTS \
        else None


def novel_topics(cameras: Sequence[str]) -> List[str]:
    """Output-bag topics (relative) of the rendered views."""
    return [NOVEL_TOPIC.format(camera=c) for c in cameras]


def write_novel_sheets(folder: Path, cameras: Sequence[str],
                       real: Dict[str, Dict[int, np.ndarray]],
                       novel: Dict[str, Dict[int, np.ndarray]], tolerance_ns: int,
                       placeholder: bool) -> List[str]:
    """One PNG per rendered timestep: rows = cameras, columns = real image | novel view.

    Args:
        folder: where the PNGs go (``novel_XXX.png``).
        cameras: rig cameras, in row order.
        real: camera -> {stamp ns: RGB} of the input images.
        novel: camera -> {stamp ns: RGB} of the rendered views.
        tolerance_ns: how far apart a camera's image and its rendering may be stamped.
        placeholder: the weights are placeholders (the labels say the picture is meaningless).
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamps = sorted(novel.get(cameras[0], {}))
    note = PLACEHOLDER_NOTE if placeholder else ''
    paths = []
    for index, stamp in enumerate(stamps):
        rows, labels = [], []
        for cam in cameras:
            view = nearest(novel.get(cam, {}), stamp, tolerance_ns)
            image = nearest(real.get(cam, {}), stamp, tolerance_ns)
            if view is None or image is None:
                continue
            rows.append([image, view])
            labels.append(f'{cam}: image | vehicle moved {NOVEL_OFFSET} (x,y,z,yaw){note}')
        if rows:
            sheet = visualize.contact_sheet(rows, labels, tile_hw=rows[0][0].shape[:2])
            paths.append(visualize.write_png(str(folder / f'novel_{index:03d}.png'), sheet))
    return paths


def read_frames(path: Path, topics: Sequence[str]) -> Dict[str, Dict[int, np.ndarray]]:
    """{topic: {header stamp ns: RGB}} of the image topics of a bag (suffix match)."""
    out: Dict[str, Dict[int, np.ndarray]] = {t: {} for t in topics}
    for bag_topic, _, msg in read_decoded(path):
        topic = next((t for t in topics if bag_topic.endswith(t)), None)
        if topic is None:
            continue
        out[topic][stamp_to_ns(msg.header.stamp)] = image_rgb(msg)
    return out
