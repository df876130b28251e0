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

"""The demo's work: render the sample recording, process it as the node would, draw the pictures.

``cli`` is the command line (output folder, progress, Ctrl-C); this module does the heavy
lifting and returns a :class:`page.Page` that ``page`` writes as ``index.html``.
Pictures: per step a contact sheet (rows = cameras; image | depth | confidence | true depth |
error, one colour scale per column over the whole run, colour bars below), the trajectory (top
view, estimated vs true) and the last fused cloud seen from above with the cameras drawn; with
placeholder weights every picture carries a watermark.
"""
from pathlib import Path
from typing import Callable, Dict, Sequence

import numpy as np
import torch

from da3_ros.config import ModelConfig, OutputConfig, placeholder_notice, WindowConfig
from da3_ros.errors import Da3Error, WeightsError
from da3_ros.model.checkpoint import resolve
from da3_ros.tools.bag.config import sample_config
from da3_ros.tools.bag.process import process_bag
from da3_ros.tools.bag.sample_recording import image_topic, RecordingSpec, write_recording
from da3_ros.tools.demo import data as demo_data, novel as demo_novel, plots, visualize
from da3_ros.tools.demo.page import Page
from da3_ros.tools.demo.visualize import ColourScale

DEFAULT_VARIANT = 'da3-small'  # of the default hub id, and for a checkpoint without config.json
WATERMARK = 'PLACEHOLDER WEIGHTS - MEANINGLESS OUTPUT'
MAX_ERROR = 0.5  # top of the error colour scale (abs. rel. error)
# Placeholder weights put depth anywhere; a wide range keeps their cloud from being filtered away.
PLACEHOLDER_MAX_DEPTH_M = 1000.0


class Interrupted(Da3Error):
    """Ctrl-C stopped the run (the bag tool stops after the current set)."""


def check_weights(weights: str) -> str:
    """Return the variant to run; fails early and clearly when no checkpoint can be had.

    The variant is the one the checkpoint's ``config.json`` names, da3-small without one.
    """
    if placeholder_notice(weights):
        return DEFAULT_VARIANT
    try:
        return resolve(weights, default=DEFAULT_VARIANT)[1]
    except WeightsError as exc:
        raise WeightsError(f'no DA3 checkpoint available: {exc}. Get one as the README says '
                           '("Getting the weights": hf download, or copy a folder '
                           'from another machine) and give WEIGHTS=<checkpoint dir or '
                           'model.safetensors>, or run WEIGHTS=random for placeholder weights '
                           '(meaningless output).') from exc


def run_demo(weights: str, out: Path, *, steps: int = 8, process_res: int = 168,
             size_hw=(126, 224), say: Callable[[str], None] = print) -> Page:
    """Render, process and draw into ``out`` (which must exist); returns the page contents."""
    variant = check_weights(weights)
    spec = RecordingSpec(steps=steps, size_hw=tuple(size_hw))
    say(f'[2/5] rendering the sample recording ({steps} steps, six cameras)')
    recording = write_recording(out / 'sample_recording', spec)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = ModelConfig(variant=variant, weights=weights, device=device,
                        dtype='bf16' if device == 'cuda' else 'fp32', process_res=process_res)
    output = OutputConfig(max_depth=PLACEHOLDER_MAX_DEPTH_M) if placeholder_notice(weights) \
        else OutputConfig()
    config = sample_config(spec, model=model, window=WindowConfig(length=2), output=output)
    say(f'[3/5] running {variant} on {device} over every set, as the node would')
    offset = demo_novel.render_offset_for(variant, weights)
    summary = process_bag(recording, out / 'output_bag', config, eval=True, overwrite=True,
                          render_offset=offset)
    if summary.interrupted:
        raise Interrupted(f'interrupted after {summary.sets_processed} sets')
    say('[4/5] drawing the pictures')
    cameras = [c.name for c in config.engine.cameras]
    mark = WATERMARK if placeholder_notice(weights) else ''
    pictures = Pictures(out, spec, cameras, mark)
    page = pictures.draw(out / 'output_bag', recording)
    if offset is not None:  # a rendered novel view beside each real camera
        page.sheets += novel_sheets(out, recording, spec, cameras, bool(mark))
    page.notice = placeholder_notice(weights)
    page.evaluation = summary.evaluation or {}
    page.settings = {'weights': weights, 'variant': variant, 'device': device,
                     'precision': model.dtype, 'process_res': process_res,
                     'window length': config.engine.window.length,
                     'timesteps': steps, 'image size (h x w)': f'{size_hw[0]} x {size_hw[1]}',
                     'cameras': ', '.join(cameras), 'torch': torch.__version__,
                     'cloud depth range [m]': f'{output.min_depth:g} .. {output.max_depth:g}',
                     'sets processed': summary.sets_processed}
    return page


def novel_sheets(out: Path, recording: Path, spec: RecordingSpec, cameras: Sequence[str],
                 placeholder: bool) -> list:
    """Sheets of real image | view rendered from the displaced vehicle, per step (page paths)."""
    real = demo_novel.read_frames(recording, [image_topic(spec, c) for c in cameras])
    novel = demo_novel.read_frames(out / 'output_bag', demo_novel.novel_topics(cameras))
    paths = demo_novel.write_novel_sheets(
        out / 'sheets', cameras, {c: real[image_topic(spec, c)] for c in cameras},
        dict(zip(cameras, novel.values())), int(0.5e9 / spec.rate), placeholder)
    return [f'sheets/{Path(p).name}' for p in paths]


class Pictures:
    """Draws every picture of the page into ``out`` from the two bags."""

    def __init__(self, out: Path, spec: RecordingSpec, cameras: Sequence[str],
                 mark: str) -> None:
        self.out, self.spec, self.cameras, self.mark = out, spec, list(cameras), mark

    def _png(self, name: str, rgb: np.ndarray) -> str:
        if self.mark:
            rgb = visualize.watermark(rgb, self.mark)
        visualize.write_png(str(self.out / name), rgb)
        return name

    def draw(self, output: Path, recording: Path) -> Page:
        """Sheets, trajectory, top view and the fused cloud (PLY + 3D view data)."""
        steps = demo_data.read_steps(output)
        images, truth = demo_data.read_inputs(recording, self.spec, self.cameras)
        metric = bool(steps) and all(s.is_metric for s in steps)
        has_truth = any(truth.values())
        scales = self._scales(steps, truth, metric)
        (self.out / 'sheets').mkdir(exist_ok=True)
        page = Page(title='da3_ros demo: six-camera sample drive', metric=metric)
        page.sheets = [self._sheet(i, s, images, truth, scales, has_truth)
                       for i, s in enumerate(steps)]
        extrinsics = demo_data.rig_extrinsics(self.spec, self.cameras)
        est, true = demo_data.trajectories(steps, self.spec, extrinsics)
        if len(est):
            page.trajectory = self._png('trajectory.png', plots.trajectory_plot(
                est, true, 'trajectory, top view (odom)'))
        cloud, frame = demo_data.last_fused_cloud(output)
        height = visualize.fit_scale([cloud[:, 2]], 'height z', 'm' if metric else 'units')
        top = plots.cloud_top_view(cloud, height, extrinsics,
                                   f'last fused cloud from above ({frame or "base_link"})')
        page.cloud_top = self._png('cloud_top.png', visualize.stack(
            [top, visualize.colour_bar(height)]))
        page.cloud_points = visualize.write_ply(str(self.out / 'fused_cloud.ply'), cloud,
                                                height.apply(cloud[None, :, 2])[0])
        page.cloud, page.cloud_frame, page.cameras = cloud, frame, extrinsics
        return page

    def _scales(self, steps, truth, metric: bool) -> Dict[str, ColourScale]:
        unit = 'm' if metric else 'units'
        gt = [d for frames in truth.values() for d in frames.values()]
        # Metric output shares one scale with the truth, fitted to both.
        depth = visualize.fit_scale([d for s in steps for d in s.depth.values()]
                                    + (gt if metric else []), 'depth', unit, log=True)
        scales = {'depth': depth,
                  'confidence': visualize.fit_scale(
                      [c for s in steps for c in s.confidence.values()], 'confidence'),
                  'error': ColourScale(0.0, MAX_ERROR, 'abs. rel. error |d - d*| / d*'
                                       + ('' if metric else ' (median-scaled)'))}
        if gt:
            scales['truth'] = depth if metric else visualize.fit_scale(
                gt, 'true depth', 'm', log=True)
        return scales

    def _sheet(self, index: int, step: demo_data.StepOutput, images, truth,
               scales: Dict[str, ColourScale], has_truth: bool) -> str:
        tolerance = int(0.5e9 / self.spec.rate)
        rows, labels = [], []
        for cam in self.cameras:
            if cam not in step.depth:
                continue
            depth = step.depth[cam]
            row = [demo_data.nearest(images[cam], step.stamp_ns, tolerance),
                   scales['depth'].apply(depth),
                   scales['confidence'].apply(step.confidence.get(cam, np.full_like(depth,
                                                                                    np.nan)))]
            if has_truth:
                gt = demo_data.nearest(truth[cam], step.stamp_ns, tolerance)
                row += [None, None] if gt is None or gt.shape != depth.shape else [
                    scales['truth'].apply(gt),
                    scales['error'].apply(error_map(depth, gt, step.is_metric))]
            rows.append(row)
            labels.append(cam)
        columns = ['camera image', scales['depth'].title(), 'confidence']
        if has_truth:
            truth_title = scales['truth'].title()
            columns += [truth_title if truth_title.startswith('true') else 'true ' + truth_title,
                        'abs. rel. error']
        tile_hw = self.spec.size_hw
        sheet = visualize.contact_sheet(rows, labels, tile_hw=tile_hw, columns=columns)
        names = ['depth', 'confidence'] + (['error'] if has_truth else [])
        if has_truth and scales['truth'] is not scales['depth']:
            names.insert(2, 'truth')
        bars = visualize.stack([visualize.colour_bar(scales[n], width=240) for n in names],
                               vertical=False)
        return self._png(f'sheets/step_{index:03d}.png', visualize.stack([sheet, bars]))


def error_map(depth: np.ndarray, truth: np.ndarray, metric: bool) -> np.ndarray:
    """Per-pixel |d - d*| / d* [H, W] (NaN without truth), as ``--eval`` computes AbsRel.

    Depth that is not ``metric`` is median-scaled to the truth first.
    """
    ok = np.isfinite(depth) & np.isfinite(truth) & (truth > 0) & (depth > 0)
    out = np.full(depth.shape, np.nan, dtype=np.float32)
    if ok.any():
        scale = 1.0 if metric else np.median(truth[ok]) / np.median(depth[ok])
        out[ok] = np.abs(depth[ok] * scale - truth[ok]) / truth[ok]
    return out
