"""``make demo``: render the sample recording, process it offline, write what a person looks at.

Outputs under ``--out``: ``sample_recording/`` (the rendered input bag), ``output_bag/`` (the
node's topics, mcap), ``sheets/step_XXX.png`` (per timestep: each camera's image, depth and
confidence), ``fused_cloud.ply`` (the rig clouds of every step in the odom frame when the
engine estimated it, else the last step in the base frame), ``eval.json`` and ``index.html``.

Weights: a hub id (default DA3-SMALL), a checkpoint directory or file, or ``random`` for the
deterministic parity-rule weights, which exercise the whole pipeline but mean nothing.
"""
import argparse
import json
import logging
from pathlib import Path
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from da3_ros.config import ModelConfig, WindowConfig
from da3_ros.errors import Da3Error, WeightsError
from da3_ros.model.checkpoint import resolve
from da3_ros.ros.cloud import cloud_to_arrays
from da3_ros.ros.compressed import compressed_to_rgb
from da3_ros.ros.convert import image_to_array, image_to_rgb
from da3_ros.synthetic.recording import image_topic, RecordingSpec, write_recording
from da3_ros.tools import demo_novel, visualize
from da3_ros.tools.bag import process_bag
from da3_ros.tools.bag_config import sample_config
from da3_ros.tools.bag_io import read_decoded

RANDOM_NOTICE = ('WEIGHTS=random: the network runs with deterministic placeholder weights '
                 '(parity weight rule), NOT a trained model. Depth, confidence, clouds and '
                 'the evaluation numbers below are MEANINGLESS; they only show the pipeline '
                 'works end to end.')
DEFAULT_WEIGHTS = 'depth-anything/DA3-SMALL'
DEFAULT_VARIANT = 'da3-small'  # of DEFAULT_WEIGHTS, and for a checkpoint without config.json


def check_weights(weights: str) -> str:
    """The variant to run; fails early and clearly when no checkpoint can be had.

    The variant is the one the checkpoint's ``config.json`` names, da3-small without one.
    """
    if weights == 'random':
        return DEFAULT_VARIANT
    try:
        return resolve(weights, default=DEFAULT_VARIANT)[1]
    except WeightsError as exc:
        raise WeightsError(f'no DA3 checkpoint available: {exc}. Give WEIGHTS=<checkpoint dir '
                           'or model.safetensors>, or WEIGHTS=random for placeholder weights '
                           '(meaningless output).') from exc


def _match(bag_topic: str, topics: Sequence[str]) -> Optional[str]:
    """The wanted topic that ``bag_topic`` is, whatever namespace the node wrote it under."""
    for topic in topics:
        if bag_topic == topic or bag_topic.endswith('/' + topic.lstrip('/')):
            return topic
    return None


def _frames(path: Path, topics: Sequence[str]) -> Dict[str, Dict[int, np.ndarray]]:
    """{topic: {header stamp ns: decoded array}} for image-like topics of a bag."""
    out: Dict[str, Dict[int, np.ndarray]] = {t: {} for t in topics}
    for bag_topic, _, msg in read_decoded(path):
        topic = _match(bag_topic, topics)
        if topic is None:
            continue
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        if msg.__msgtype__.endswith('CompressedImage'):
            out[topic][stamp] = compressed_to_rgb(msg)
        elif topic.endswith(('depth', 'confidence')):
            out[topic][stamp] = image_to_array(msg).astype(np.float32)
        else:
            out[topic][stamp] = image_to_rgb(msg)
    return out


def write_sheets(folder: Path, recording: Path, output: Path, spec: RecordingSpec,
                 cameras: Sequence[str]) -> List[str]:
    """One PNG per processed timestep: rows = cameras, columns = image | depth | confidence."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs = _frames(recording, [image_topic(spec, c) for c in cameras])
    outs = _frames(output, [f'{c}/{kind}' for c in cameras for kind in ('depth', 'confidence')])
    stamps = sorted(outs[f'{cameras[0]}/depth'])
    paths = []
    half_frame_ns = int(0.5e9 / spec.rate)
    for index, stamp in enumerate(stamps):
        rows, labels = [], []
        for cam in cameras:
            # Cameras fire a little apart; match each one's output within half a frame.
            depth = _nearest(outs[f'{cam}/depth'], stamp, half_frame_ns)
            if depth is None:
                continue
            image = _nearest(inputs[image_topic(spec, cam)], stamp, half_frame_ns)
            conf = _nearest(outs[f'{cam}/confidence'], stamp, half_frame_ns)
            rows.append([image, visualize.colorize(depth, log=True), visualize.colorize(conf)])
            labels.append(f'{cam}: image | depth (log) | confidence')
        sheet = visualize.contact_sheet(rows, labels, tile_hw=rows[0][0].shape[:2])
        paths.append(visualize.write_png(str(folder / f'step_{index:03d}.png'), sheet))
    return paths


def _nearest(frames: Dict[int, np.ndarray], stamp: int, tolerance_ns: int
             ) -> Optional[np.ndarray]:
    if not frames:
        return None
    key = min(frames, key=lambda s: abs(s - stamp))
    return frames[key] if abs(key - stamp) <= tolerance_ns else None


def write_cloud(path: Path, output: Path) -> int:
    """PLY of the last fused rig cloud (base frame), coloured by height."""
    last = None
    for topic, _, msg in read_decoded(output):
        if _match(topic, ['points']) and msg.__msgtype__.endswith('PointCloud2'):
            last = msg
    if last is None:
        return 0
    fields = cloud_to_arrays(last)
    points = np.stack([fields['x'], fields['y'], fields['z']], axis=-1).reshape(-1, 3)
    colors = visualize.colorize(points[None, :, 2])[0]
    return visualize.write_ply(str(path), points, colors)


def run_demo(weights: str, out: Path, *, steps: int = 8, process_res: int = 168,
             size_hw=(126, 224)) -> dict:
    """Render, process and visualise; returns the summary written to ``index.html``."""
    variant = check_weights(weights)
    out.mkdir(parents=True, exist_ok=True)
    spec = RecordingSpec(steps=steps, size_hw=tuple(size_hw))
    recording = write_recording(out / 'sample_recording', spec)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model = ModelConfig(variant=variant, weights=weights, device=device,
                        dtype='bf16' if device == 'cuda' else 'fp32', process_res=process_res)
    config = sample_config(spec, model=model, window=WindowConfig(length=2))
    offset = demo_novel.render_offset_for(variant, weights)
    summary = process_bag(recording, out / 'output_bag', config, eval=True, overwrite=True,
                          render_offset=offset)
    cameras = [c.name for c in config.engine.cameras]
    sheets = write_sheets(out / 'sheets', recording, out / 'output_bag', spec, cameras)
    if offset is not None:  # novel views next to the real cameras (demo_novel)
        real = _frames(recording, [image_topic(spec, c) for c in cameras])
        novel = _frames(out / 'output_bag', demo_novel.novel_topics(cameras))
        sheets += demo_novel.write_novel_sheets(
            out / 'sheets', cameras, {c: real[image_topic(spec, c)] for c in cameras},
            dict(zip(cameras, novel.values())), int(0.5e9 / spec.rate),
            weights == 'random')
    n_points = write_cloud(out / 'fused_cloud.ply', out / 'output_bag')
    numbers = {'weights': weights, 'sets processed': summary.sets_processed,
               'fused cloud points (last step)': n_points}
    numbers.update(_flatten(summary.evaluation or {}))
    notice = RANDOM_NOTICE if weights == 'random' else ''
    visualize.write_html(str(out / 'index.html'), 'da3_ros demo: six-camera sample drive',
                         notice, [f'sheets/{Path(p).name}' for p in sheets], numbers,
                         {'output bag (mcap)': 'output_bag', 'input recording': 'sample_recording',
                          'fused cloud (PLY)': 'fused_cloud.ply', 'evaluation': 'eval.json'})
    (out / 'eval.json').write_text(json.dumps(summary.evaluation or {}, indent=1, default=str))
    return numbers


def _flatten(data: dict, prefix: str = '') -> dict:
    flat = {}
    for key, value in data.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(_flatten(value, name + ' / '))
        elif isinstance(value, float):
            flat[name] = f'{value:.4g}'
        else:
            flat[name] = value
    return flat


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line of ``make demo``."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--weights', default=DEFAULT_WEIGHTS,
                        help='hub id, checkpoint dir/file, or "random" (meaningless output)')
    parser.add_argument('--out', default='demo_out', type=Path)
    parser.add_argument('--steps', type=int, default=8)
    parser.add_argument('--process-res', type=int, default=168)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(name)s: %(message)s')
    if args.weights == 'random':
        print('!' * 78 + '\n' + RANDOM_NOTICE + '\n' + '!' * 78, file=sys.stderr)
    try:
        numbers = run_demo(args.weights, args.out, steps=args.steps,
                           process_res=args.process_res)
    except Da3Error as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return 2
    for key, value in numbers.items():
        print(f'{key}: {value}')
    print(f'open {args.out / "index.html"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
