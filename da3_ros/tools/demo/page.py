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

"""The demo's ``index.html``: pictures, settings, numbers explained, and a 3D view of the cloud.

Every link is relative to the page, so the folder can be moved or opened from ``file://``
offline. The interactive 3D view is plotly.js, copied from the pinned ``plotly`` package
(``plotly.min.js`` beside the page, loaded as a classic script, which file:// allows).
"""
from dataclasses import dataclass, field
import html
import json
from pathlib import Path
import shutil
from typing import Dict, List, Optional

import numpy as np

from da3_ros.tools.demo import visualize

PLOTLY_JS = 'plotly.min.js'
MAX_3D_POINTS = 20000
STYLE = ('body{font-family:sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em}'
         'img{max-width:100%;border:1px solid #ccc}figure{margin:1em 0}'
         '.notice{background:#fee;border:2px solid #c00;padding:.6em;font-weight:bold}'
         'table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;'
         'text-align:left;vertical-align:top}#cloud3d{width:100%;height:600px;'
         'border:1px solid #ccc}.row{display:flex;gap:1em;flex-wrap:wrap}'
         '.row figure{flex:1;min-width:420px}')


@dataclass
class Page:
    """What ``index.html`` shows; file names are relative to the page."""

    title: str
    metric: bool = True
    notice: str = ''
    sheets: List[str] = field(default_factory=list)
    trajectory: Optional[str] = None
    cloud_top: Optional[str] = None
    cloud_points: int = 0
    cloud: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    cloud_frame: str = ''
    cameras: Dict[str, np.ndarray] = field(default_factory=dict)
    settings: Dict[str, object] = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)


def numbers(evaluation: dict) -> List[tuple]:
    """(name, value, one-sentence explanation) rows of the ``--eval`` report."""
    rows = []
    mean = evaluation.get('depth_mean')
    if mean:
        rows.append(('AbsRel (mean over cameras)', f"{mean['abs_rel']:.4f}",
                     'mean of |d - d*| / d* over the pixels with ground truth d* (d: estimated '
                     'depth); 0 is perfect.'))
        rows.append(('delta < 1.25', f"{mean['delta1']:.4f}",
                     'share of those pixels where max(d / d*, d* / d) < 1.25; 1 is perfect.'))
    traj = evaluation.get('trajectory') or {}
    if traj.get('ate_m') is not None:
        fit = 'similarity (scale too)' if traj.get('with_scale') else 'rigid'
        rows.append(('ATE [m]', f"{traj['ate_m']:.4f}",
                     'root-mean-square distance between estimated and true base positions '
                     f"after one {fit} fit over the {traj['poses']} poses; 0 is perfect."))
    if evaluation and not evaluation.get('depth_metric', True):
        rows.append(('depth is relative', 'yes', 'the output has no metric scale, so each '
                     'depth image is median-scaled to the ground truth before comparing.'))
    return rows


def _table(rows, header=None) -> str:
    esc = html.escape
    head = ''.join(f'<th>{esc(h)}</th>' for h in header) if header else ''
    body = ''.join('<tr>' + ''.join(f'<td>{esc(str(c))}</td>' for c in row) + '</tr>'
                   for row in rows)
    return f'<table>{"<tr>" + head + "</tr>" if head else ""}{body}</table>'


def _figure(src: str, caption: str) -> str:
    esc = html.escape
    return (f'<figure><img src="{esc(src)}" alt="{esc(caption)}">'
            f'<figcaption>{esc(caption)}</figcaption></figure>')


def _cameras_table(evaluation: dict) -> str:
    cams = evaluation.get('depth') or {}
    rows = [(name, f"{c['abs_rel']:.4f}", f"{c['delta1']:.4f}", c['images'])
            for name, c in sorted(cams.items())]
    return _table(rows, ('camera', 'AbsRel', 'delta < 1.25', 'images')) if rows else ''


def _plotly_source() -> Optional[Path]:
    try:
        import plotly  # the pinned package ships plotly.min.js
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / 'package_data' / PLOTLY_JS
    return path if path.is_file() else None


def _viewer(page: Page, out: Path) -> str:
    """Get 3D view's div and script (plotly.js copied beside the page), or why there is none."""
    source = _plotly_source()
    if source is None:
        return '<p>3D view: install the <code>plotly</code> package (pip) to get it.</p>'
    shutil.copyfile(source, out / PLOTLY_JS)
    pts = np.asarray(page.cloud, dtype=np.float64).reshape(-1, 3)
    if len(pts):  # the nearest 98 %, as the top view shows them
        reach = np.abs(pts[:, :2]).max(axis=1)
        pts = pts[reach <= np.percentile(reach, 98.0)]
    if len(pts) > MAX_3D_POINTS:
        pts = pts[np.random.default_rng(0).choice(len(pts), MAX_3D_POINTS, replace=False)]
    unit = 'm' if page.metric else 'units'
    height = visualize.fit_scale([pts[:, 2]], 'height')  # as the top view colours it
    cloud = {'type': 'scatter3d', 'mode': 'markers', 'name': 'fused cloud',
             'x': pts[:, 0].round(3).tolist(), 'y': pts[:, 1].round(3).tolist(),
             'z': pts[:, 2].round(3).tolist(),
             'marker': {'size': 1.5, 'color': pts[:, 2].round(3).tolist(),
                        'colorscale': visualize.colour_stops(), 'cmin': height.lo,
                        'cmax': height.hi, 'colorbar': {'title': {'text': f'z [{unit}]'}}}}
    centres = np.array([p[:3, 3] for p in page.cameras.values()]).reshape(-1, 3)
    cams = {'type': 'scatter3d', 'mode': 'markers+text', 'name': 'cameras',
            'x': centres[:, 0].tolist(), 'y': centres[:, 1].tolist(),
            'z': centres[:, 2].tolist(), 'text': list(page.cameras),
            'marker': {'size': 4, 'color': 'black'}}
    layout = {'margin': {'l': 0, 'r': 0, 't': 30, 'b': 0}, 'showlegend': True,
              'legend': {'x': 0.01, 'y': 0.99},
              'title': {'text': f'fused cloud in {page.cloud_frame or "base_link"}'
                        + (' - PLACEHOLDER WEIGHTS, MEANINGLESS' if page.notice else '')},
              'scene': {'aspectmode': 'data', 'xaxis': {'title': {'text': f'x [{unit}]'}},
                        'yaxis': {'title': {'text': f'y [{unit}]'}},
                        'zaxis': {'title': {'text': f'z [{unit}]'}}}}
    data = json.dumps([cloud, cams])
    return (f'<div id="cloud3d"></div><script src="{PLOTLY_JS}"></script><script>'
            f'Plotly.newPlot("cloud3d",{data},{json.dumps(layout)});</script>')


def write_page(out: Path, page: Page) -> Path:
    """Write ``out/index.html`` (and plotly.min.js beside it); returns the page's path."""
    esc = html.escape
    notice = f'<p class="notice">{esc(page.notice)}</p>' if page.notice else ''
    pictures = []
    if page.trajectory:
        pictures.append(_figure(page.trajectory, 'Trajectory seen from above: the estimated '
                                'base positions (red, aligned as for the ATE) and the true ones'))
    if page.cloud_top:
        pictures.append(_figure(page.cloud_top, 'The last fused cloud seen from above in '
                                'base_link, coloured by height, with the six cameras'))
    sheets = ''.join(_figure(s, f'step {i}: per camera the image, depth, confidence and, '
                             'where the recording has it, true depth and error')
                     for i, s in enumerate(page.sheets))
    explained = numbers(page.evaluation)
    body = [f'<h1>{esc(page.title)}</h1>', notice,
            '<p>Six cameras drive through a synthetic street; da3_ros processed the recording '
            'exactly as the running node would (same synchroniser, engine and messages) and '
            'this page shows its output topics.</p>',
            '<h2>Trajectory and fused cloud</h2>', f'<div class="row">{"".join(pictures)}</div>',
            f'<h2>Fused cloud in 3D ({page.cloud_points} points; drag to turn, scroll to '
            'zoom)</h2>', _viewer(page, out),
            '<h2>Numbers</h2>', _table(explained, ('metric', 'value', 'meaning')),
            '<h3>Per camera</h3>', _cameras_table(page.evaluation),
            '<h2>Settings</h2>', _table(page.settings.items()),
            '<h2>Per step</h2>', sheets, '<h2>Files</h2>',
            '<ul><li><a href="output_bag">output_bag/</a>: the node\'s topics (rosbag2, mcap)'
            '</li><li><a href="sample_recording">sample_recording/</a>: the input recording'
            '</li><li><a href="fused_cloud.ply">fused_cloud.ply</a>: the last fused cloud in '
            f'{esc(page.cloud_frame or "base_link")}</li><li><a href="eval.json">eval.json'
            '</a>: the evaluation</li></ul>']
    text = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<title>{esc(page.title)}</title><style>{STYLE}</style></head><body>'
            + ''.join(body) + '</body></html>\n')
    path = out / 'index.html'
    path.write_text(text, encoding='utf-8')
    return path
