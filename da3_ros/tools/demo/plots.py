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

"""Top-view plots of the demo page: estimated vs true trajectory, fused cloud with cameras.

Drawn with Pillow on an equal-aspect metric grid (see ``visualize`` for why no plotting
library). Plots return RGB uint8 ``[H, W, 3]``.
"""
import math
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from da3_ros.tools.demo.visualize import ColourScale, font

EST_RGB = (214, 39, 40)
TRUE_RGB = (31, 119, 180)
CAMERA_RGB = (0, 0, 0)


def nice_step(span: float, count: int = 6) -> float:
    """Return a 1/2/5 x 10^k grid step giving about ``count`` lines over ``span``."""
    raw = max(span, 1e-9) / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class Canvas:
    """An equal-aspect plot area: data (u, v) in metres -> pixels, with a labelled grid.

    ``u`` grows to the right and ``v`` upwards; ``u_sign=-1`` lets ``u`` grow to the left
    (a top view of the ROS body frame draws y, positive left, horizontally).
    """

    def __init__(self, u: np.ndarray, v: np.ndarray, size: Tuple[int, int] = (640, 480),
                 margin: int = 56, u_sign: int = 1) -> None:
        self.image = Image.new('RGB', size, 'white')
        self.draw = ImageDraw.Draw(self.image)
        self.margin, self.u_sign = margin, u_sign
        u = np.asarray(u, dtype=np.float64) * u_sign
        v = np.asarray(v, dtype=np.float64)
        self.scale = min((size[0] - 2 * margin) / max(np.ptp(u) * 1.1, 1.0),
                         (size[1] - 2 * margin) / max(np.ptp(v) * 1.1, 1.0))
        self.centre = ((u.max() + u.min()) / 2, (v.max() + v.min()) / 2)

    def px(self, u: float, v: float) -> Tuple[float, float]:
        """Pixel of the data point (u, v)."""
        width, height = self.image.size
        return (width / 2 + (u * self.u_sign - self.centre[0]) * self.scale,
                height / 2 - (v - self.centre[1]) * self.scale)

    def grid(self, u_label: str, v_label: str, title: str) -> None:
        """Grid lines every nice step, tick values in metres, axis labels and a title."""
        width, height = self.image.size
        m = self.margin
        step = nice_step(max(width, height) / self.scale)
        small = font(11)
        for axis in (0, 1):
            lo_px, hi_px = (m, width - m) if axis == 0 else (m, height - m)
            ends = sorted(self._data(axis, p) for p in (lo_px, hi_px))
            for k in range(math.ceil(ends[0] / step), math.floor(ends[1] / step) + 1):
                value = k * step
                if axis == 0:
                    x = self.px(value, 0)[0]
                    self.draw.line([(x, m), (x, height - m)], fill=(225, 225, 225))
                    self.draw.text((x, height - m + 3), f'{value:g}', fill='black', font=small,
                                   anchor='ma')
                else:
                    y = self.px(0, value)[1]
                    self.draw.line([(m, y), (width - m, y)], fill=(225, 225, 225))
                    self.draw.text((m - 4, y), f'{value:g}', fill='black', font=small,
                                   anchor='rm')
        self.draw.rectangle([m, m, width - m, height - m], outline='black')
        self.draw.text((width / 2, height - m + 18), u_label, fill='black', font=font(12),
                       anchor='ma')
        self.draw.text((4, m - 18), v_label, fill='black', font=font(12))
        self.draw.text((width / 2, 6), title, fill='black', font=font(15), anchor='ma')

    def _data(self, axis: int, pixel: float) -> float:
        width, height = self.image.size
        if axis == 0:
            return ((pixel - width / 2) / self.scale + self.centre[0]) * self.u_sign
        return (height / 2 - pixel) / self.scale + self.centre[1]

    def legend(self, entries: Sequence[Tuple[str, Tuple[int, int, int]]]) -> None:
        """Coloured swatches with names in the top-left corner of the plot area."""
        for index, (name, rgb) in enumerate(entries):
            y = self.margin + 6 + 16 * index
            self.draw.rectangle([self.margin + 6, y + 3, self.margin + 20, y + 10], fill=rgb)
            self.draw.text((self.margin + 26, y), name, fill='black', font=font(12))

    def array(self) -> np.ndarray:
        """Return the plot as RGB uint8 [H, W, 3]."""
        return np.asarray(self.image)


def trajectory_plot(estimated: np.ndarray, truth: np.ndarray, title: str) -> np.ndarray:
    """Top view (x right, y up, metres) of estimated and true positions [N, 3] in odom."""
    both = np.concatenate([estimated, truth])
    canvas = Canvas(both[:, 0], both[:, 1])
    canvas.grid('x [m] (odom)', 'y [m] (odom)', title)
    for path, rgb in ((truth, TRUE_RGB), (estimated, EST_RGB)):
        points = [canvas.px(p[0], p[1]) for p in path]
        if len(points) > 1:
            canvas.draw.line(points, fill=rgb, width=2)
        for x, y in points:
            canvas.draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=rgb)
    start = canvas.px(truth[0, 0], truth[0, 1])
    canvas.draw.text((start[0] + 6, start[1] + 4), 'start', fill='black', font=font(11))
    canvas.legend([('estimated (DA3, aligned)', EST_RGB), ('true (odometry)', TRUE_RGB)])
    return canvas.array()


def cloud_top_view(points: np.ndarray, scale: ColourScale,
                   cameras: Dict[str, np.ndarray], title: str,
                   keep: float = 98.0) -> np.ndarray:
    """Fused cloud [N, 3] in base_link seen from above (x forward = up, y left = left).

    Points are coloured by height z with ``scale``; each camera ``T_base_cam`` [4, 4] is drawn
    as a wedge pointing along its optical axis, with its name. The view spans the nearest
    ``keep`` percent of the points (a few far outliers would shrink everything else).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts):
        reach = np.abs(pts[:, :2]).max(axis=1)
        pts = pts[reach <= np.percentile(reach, keep)]
    centres = np.array([pose[:3, 3] for pose in cameras.values()]).reshape(-1, 3)
    extent = np.concatenate([pts, centres]) if len(pts) else centres
    canvas = Canvas(extent[:, 1], extent[:, 0], size=(640, 640), u_sign=-1)
    canvas.grid('y [m] (base_link, left is +y)', 'x [m] (base_link, forward)', title)
    order = np.argsort(pts[:, 2])  # low points first, so higher ones stay visible
    colours = scale.apply(pts[order, 2][None, :])[0]
    for (x, y, _), rgb in zip(pts[order], colours):
        u, v = canvas.px(y, x)
        canvas.draw.point((u, v), fill=tuple(int(c) for c in rgb))
    for name, pose in cameras.items():
        _draw_camera(canvas, name, pose)
    return canvas.array()


def _draw_camera(canvas: Canvas, name: str, t_base_cam: np.ndarray) -> None:
    """Return a wedge from the camera centre along its optical axis (z), labelled with its name."""
    centre = t_base_cam[:3, 3]
    forward = t_base_cam[:3, 2][:2]
    forward = forward / max(np.linalg.norm(forward), 1e-9)
    side = np.array([-forward[1], forward[0]])
    length = 14 / canvas.scale
    tip_l = centre[:2] + length * (forward + 0.5 * side)
    tip_r = centre[:2] + length * (forward - 0.5 * side)
    corners = [canvas.px(p[1], p[0]) for p in (centre[:2], tip_l, tip_r)]
    canvas.draw.polygon(corners, outline=CAMERA_RGB, fill=(255, 255, 255))
    label = centre[:2] + 1.9 * length * forward
    canvas.draw.text(canvas.px(label[1], label[0]), name, fill=CAMERA_RGB, font=font(11),
                     anchor='mm')
