"""What a person looks at: colour-mapped depth/confidence PNGs, contact sheets, PLY, HTML.

Pure numpy + Pillow (no matplotlib or OpenCV needed at run time).
"""
import html
import os
from typing import Dict, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

# Anchor colours of a perceptually ordered map (dark blue -> cyan -> yellow -> dark red).
_ANCHORS = np.array([[48, 18, 59], [70, 134, 251], [27, 229, 181], [164, 252, 60],
                     [251, 185, 56], [228, 70, 11], [122, 4, 3]], dtype=np.float64)
INVALID_RGB = (0, 0, 0)


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


def contact_sheet(rows: Sequence[Sequence[np.ndarray]], labels: Sequence[str] = (),
                  tile_hw: Optional[Sequence[int]] = None) -> np.ndarray:
    """Tile RGB images [h, w, 3] into one sheet: one row per camera (e.g. image|depth|conf).

    Tiles are resized to ``tile_hw`` (the first tile's size when None); labels are drawn as a
    strip above each row.
    """
    first = rows[0][0]
    tile_h, tile_w = tile_hw or first.shape[:2]
    label_h = 12 if labels else 0
    cols = max(len(r) for r in rows)
    sheet = Image.new('RGB', (cols * tile_w, len(rows) * (tile_h + label_h)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        top = r * (tile_h + label_h)
        if labels:
            draw.text((2, top), str(labels[r]), fill=(0, 0, 0))
        for c, tile in enumerate(row):
            image = Image.fromarray(np.asarray(tile, dtype=np.uint8)).resize((tile_w, tile_h))
            sheet.paste(image, (c * tile_w, top + label_h))
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


def read_ply_points(path: str) -> np.ndarray:
    """Read back the xyz of a PLY written by ``write_ply`` (used by tests and checks)."""
    with open(path, 'rb') as handle:
        data = handle.read()
    end = data.index(b'end_header\n') + len(b'end_header\n')
    header = data[:end].decode('ascii').splitlines()
    count = int(next(line.split()[-1] for line in header if line.startswith('element vertex')))
    names = [line.split()[-1] for line in header if line.startswith('property')]
    kinds = [line.split()[1] for line in header if line.startswith('property')]
    dtype = [(n, '<f4' if k == 'float' else 'u1') for n, k in zip(names, kinds)]
    vertices = np.frombuffer(data[end:], dtype=dtype, count=count)
    return np.stack([vertices['x'], vertices['y'], vertices['z']], axis=1)


def write_html(path: str, title: str, notice: str, images: Sequence[str],
               metrics: Dict[str, object], links: Dict[str, str]) -> str:
    """Write a small static page: notice, numbers table, file links and the PNGs beside it."""
    esc = html.escape
    rows = ''.join(f'<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>'
                   for k, v in metrics.items())
    anchors = ''.join(f'<li><a href="{esc(t)}">{esc(n)}</a></li>' for n, t in links.items())
    figures = ''.join(f'<figure><img src="{esc(os.path.basename(p))}" alt="{esc(p)}">'
                      f'<figcaption>{esc(os.path.basename(p))}</figcaption></figure>'
                      for p in images)
    banner = f'<p class="notice">{esc(notice)}</p>' if notice else ''
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<title>{esc(title)}</title><style>body{{font-family:sans-serif;margin:2em}}'
            'img{max-width:100%}.notice{background:#fee;border:1px solid #c00;padding:.5em}'
            f'td{{padding:0 1em}}</style></head><body><h1>{esc(title)}</h1>{banner}'
            f'<h2>Numbers</h2><table>{rows}</table><h2>Files</h2><ul>{anchors}</ul>'
            f'<h2>Contact sheets</h2>{figures}</body></html>\n')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(page)
    return path
