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

"""What a person looks at: colour maps with colour bars, watermarks, contact sheets, PNG, PLY.

Pure numpy + Pillow: the pictures are a few colour-mapped images, bars and labels, which Pillow
draws directly, so the demo needs no plotting library (matplotlib would add a large pinned
dependency for that alone). Images are RGB uint8 ``[H, W, 3]``.
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Anchor colours of a perceptually ordered map (dark blue -> cyan -> yellow -> dark red).
_ANCHORS = np.array([[48, 18, 59], [70, 134, 251], [27, 229, 181], [164, 252, 60],
                     [251, 185, 56], [228, 70, 11], [122, 4, 3]], dtype=np.float64)
BANNER_H = 22


def colorize(values: np.ndarray, lo: Optional[float] = None, hi: Optional[float] = None,
             log: bool = False) -> np.ndarray:
    """Map a float image [H, W] to RGB uint8 [H, W, 3]; NaN/inf/non-positive (log) -> black.

    Args:
        values: the image, e.g. depth in metres or confidence.
        lo: lower end of the range; the 2nd percentile of the valid values when None.
        hi: upper end of the range; the 98th percentile when None.
        log: map log(values), which suits depth spanning decades.
    """
    data = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(data) & ((data > 0) if log else True)
    data = np.where(valid, np.log(np.where(valid, data, 1.0)) if log else data, np.nan)
    out = np.zeros(data.shape + (3,), dtype=np.uint8)
    if not valid.any():
        return out
    finite = data[valid]
    lo = np.log(lo) if (lo is not None and log) else lo
    hi = np.log(hi) if (hi is not None and log) else hi
    lo = float(np.percentile(finite, 2)) if lo is None else lo
    hi = float(np.percentile(finite, 98)) if hi is None else hi
    scaled = np.clip((data[valid] - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    position = scaled * (len(_ANCHORS) - 1)
    index = np.minimum(position.astype(int), len(_ANCHORS) - 2)
    frac = (position - index)[:, None]
    out[valid] = np.round(_ANCHORS[index] * (1 - frac) + _ANCHORS[index + 1] * frac)
    return out


def contact_sheet(rows: Sequence[Sequence[Optional[np.ndarray]]], labels: Sequence[str] = (),
                  tile_hw: Optional[Sequence[int]] = None,
                  columns: Sequence[str] = ()) -> np.ndarray:
    """Tile RGB images [h, w, 3] into one sheet: one row per camera (e.g. image|depth|conf).

    Tiles are resized to ``tile_hw`` (the first tile's size when None); a missing tile (None)
    stays grey. ``labels`` are drawn in a strip above each row, ``columns`` in a header strip.
    """
    first = next(t for row in rows for t in row if t is not None)
    tile_h, tile_w = tile_hw or first.shape[:2]
    label_h = 16 if labels else 0
    head_h = 18 if columns else 0
    cols = max(len(r) for r in rows)
    sheet = Image.new('RGB', (cols * tile_w, head_h + len(rows) * (tile_h + label_h)),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw.text((c * tile_w + 3, 2), str(name), fill=(0, 0, 0), font=font(13))
    for r, row in enumerate(rows):
        top = head_h + r * (tile_h + label_h)
        if labels:
            draw.text((3, top + 1), str(labels[r]), fill=(0, 0, 0), font=font(12))
        for c, tile in enumerate(row):
            box = (c * tile_w, top + label_h)
            if tile is None:
                draw.rectangle([box, (box[0] + tile_w - 1, box[1] + tile_h - 1)],
                               fill=(200, 200, 200))
                continue
            image = Image.fromarray(np.asarray(tile, dtype=np.uint8)).resize((tile_w, tile_h))
            sheet.paste(image, box)
    return np.asarray(sheet)


def write_png(path: str, rgb: np.ndarray) -> str:
    """Write an RGB uint8 array as PNG; returns the path."""
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(path, format='PNG')
    return path


def write_ply(path: str, points: np.ndarray, colors: Optional[np.ndarray] = None) -> int:
    """Write finite points [N, 3] (and uint8 colours [N, 3]) as binary little-endian PLY.

    Returns:
        The number of vertices written (non-finite points are dropped).
    """
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    keep = np.isfinite(points).all(axis=1)
    fields = [('x', '<f4'), ('y', '<f4'), ('z', '<f4')]
    if colors is not None:
        fields += [('red', 'u1'), ('green', 'u1'), ('blue', 'u1')]
    vertices = np.zeros(int(keep.sum()), dtype=fields)
    for axis, name in enumerate('xyz'):
        vertices[name] = points[keep, axis]
    if colors is not None:
        rgb = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)[keep]
        for axis, name in enumerate(('red', 'green', 'blue')):
            vertices[name] = rgb[:, axis]
    header = ['ply', 'format binary_little_endian 1.0', f'element vertex {len(vertices)}']
    header += [f'property {"float" if t == "<f4" else "uchar"} {n}' for n, t in fields]
    header.append('end_header')
    with open(path, 'wb') as handle:
        handle.write(('\n'.join(header) + '\n').encode('ascii'))
        handle.write(vertices.tobytes())
    return len(vertices)


@dataclass(frozen=True)
class ColourScale:
    """One colour scale shared by every image it colours, with what its colour bar says.

    Attributes:
        lo: value at the bottom of the map (in ``unit``).
        hi: value at the top of the map.
        label: what the values are, e.g. ``'depth'``.
        unit: e.g. ``'m'``, ``'units'`` (relative depth) or ``''``.
        log: map log(value) (depth spanning decades).
    """

    lo: float
    hi: float
    label: str
    unit: str = ''
    log: bool = False

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Colour ``values`` [H, W] with this scale (invalid pixels black)."""
        return colorize(values, self.lo, self.hi, log=self.log)

    def title(self) -> str:
        """E.g. ``'depth [m], log scale'``."""
        unit = f' [{self.unit}]' if self.unit else ''
        return f'{self.label}{unit}' + (', log scale' if self.log else '')


def colour_stops() -> list:
    """Return the colour map as ``[[position 0..1, 'rgb(r,g,b)'], ...]`` (a plotly colorscale)."""
    last = len(_ANCHORS) - 1
    return [[i / last, 'rgb({},{},{})'.format(*(int(c) for c in rgb))]
            for i, rgb in enumerate(_ANCHORS)]


def fit_scale(samples: Sequence[np.ndarray], label: str, unit: str = '', log: bool = False,
              percentiles: Sequence[float] = (2, 98)) -> ColourScale:
    """Return a scale spanning the 2nd..98th percentile of the valid values of all ``samples``."""
    flat = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    values = np.concatenate(flat) if flat else np.zeros(0)
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if values.size == 0:
        return ColourScale(1.0, 2.0, label, unit, log)
    lo, hi = (float(v) for v in np.percentile(values, percentiles))
    return ColourScale(lo, hi if hi > lo else lo + 1.0, label, unit, log)


def font(size: int = 14) -> ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` pixels."""
    return ImageFont.load_default(size=size)


def colour_bar(scale: ColourScale, width: int = 360, height: int = 16, ticks: int = 5
               ) -> np.ndarray:
    """Return a horizontal colour bar with tick values and the scale's title, RGB [h, width, 3]."""
    ramp = np.linspace(0.0, 1.0, width)
    positions = np.exp(np.log(scale.lo) + ramp * np.log(scale.hi / scale.lo)) if scale.log \
        else scale.lo + ramp * (scale.hi - scale.lo)
    bar = scale.apply(np.repeat(positions[None, :], height, axis=0))
    canvas = Image.new('RGB', (width + 40, height + 40), (255, 255, 255))
    canvas.paste(Image.fromarray(bar), (20, 18))
    draw = ImageDraw.Draw(canvas)
    small = font(11)
    draw.text((20, 1), scale.title(), fill=(0, 0, 0), font=font(13))
    for index in range(ticks):
        x = 20 + round(index * (width - 1) / (ticks - 1))
        draw.line([(x, 18 + height), (x, 22 + height)], fill=(0, 0, 0))
        draw.text((x, 24 + height), tick_text(positions[x - 20], scale.hi - scale.lo),
                  fill=(0, 0, 0), font=small, anchor='ma')
    return np.asarray(canvas)


def tick_text(value: float, span: float) -> str:
    """``value`` with as many decimals as a fifth of ``span`` needs (1.953, 40.5, 120)."""
    decimals = max(0, -int(np.floor(np.log10(max(abs(span) / 4, 1e-12)))))
    return f'{value:.{min(decimals, 6)}f}'


def watermark(rgb: np.ndarray, text: str) -> np.ndarray:
    """``rgb`` with ``text`` repeated diagonally across it, faint, and in a banner on top.

    The banner adds ``BANNER_H`` rows, so the watermarked image is that much taller.
    """
    base = Image.fromarray(np.asarray(rgb, dtype=np.uint8)).convert('RGBA')
    size = max(base.size)
    layer = Image.new('RGBA', (2 * size, 2 * size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    face = font(max(14, size // 30))
    step = max(60, size // 8)
    for row, y in enumerate(range(0, 2 * size, step)):
        draw.text(((row % 2) * step, y), ('   ' + text) * 8, fill=(220, 0, 0, 70), font=face)
    layer = layer.rotate(30, center=(size, size)).crop(
        (size - base.size[0] // 2, size - base.size[1] // 2,
         size - base.size[0] // 2 + base.size[0], size - base.size[1] // 2 + base.size[1]))
    marked = Image.alpha_composite(base, layer).convert('RGB')
    out = Image.new('RGB', (marked.size[0], marked.size[1] + BANNER_H), (200, 0, 0))
    out.paste(marked, (0, BANNER_H))
    ImageDraw.Draw(out).text((4, 4), text, fill=(255, 255, 255), font=font(13))
    return np.asarray(out)


def stack(images: Sequence[np.ndarray], gap: int = 6, vertical: bool = True) -> np.ndarray:
    """Stack RGB images top to bottom (or left to right) on white, aligned to the start."""
    sizes = [(im.shape[1], im.shape[0]) for im in images]
    if vertical:
        canvas = Image.new('RGB', (max(w for w, _ in sizes),
                                   sum(h for _, h in sizes) + gap * (len(images) - 1)), 'white')
    else:
        canvas = Image.new('RGB', (sum(w for w, _ in sizes) + gap * (len(images) - 1),
                                   max(h for _, h in sizes)), 'white')
    offset = 0
    for image, (w, h) in zip(images, sizes):
        canvas.paste(Image.fromarray(np.asarray(image, dtype=np.uint8)),
                     (0, offset) if vertical else (offset, 0))
        offset += (h if vertical else w) + gap
    return np.asarray(canvas)
