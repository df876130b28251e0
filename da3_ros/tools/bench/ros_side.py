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

r"""Benchmark the ROS side of the node: conversion, message building and publishing on the CPU.

Usage::

    . scripts/ros_env.sh && python -m da3_ros.tools.bench.ros_side --cameras 6 --height 900 \\
        --width 1600 --iters 10 --json docs/benchmarks/ros_side.json

The engine is replaced by one that returns a fixed result (depth, confidence and organised
clouds at full resolution for every camera, a fused cloud of ``--fused-points`` points, poses),
so only what the node does around the engine is timed, per synchronised set:

- ``input``: ``rig_input.build_rig_input`` of rgb8 Images (``raw``), of JPEG CompressedImages
  decoded with Pillow (``jpeg_cpu``), and of the same JPEGs only inspected for the GPU decoder
  (``jpeg_header``);
- ``messages``: ``rig_output.result_messages`` per kind of topic (depth, camera_info,
  confidence, camera clouds, fused cloud, rig_step, /tf);
- ``publish``: real rclpy publishers in this process, per kind (no subscriber: what a node
  pays for the conversion to the middleware's buffer);
- ``pipeline``: the node's ``RigPipeline`` end to end (raw and jpeg_header input).

Stages are timed with ``time.perf_counter`` (p50 and p90 over ``--iters`` sets); the report
names the most expensive part.
"""
import argparse
import json
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from da3_ros.config import EngineConfig, WindowConfig
from da3_ros.engine.types import CameraResult, RigResult
from da3_ros.geometry import camera as cam_lib
from da3_ros.ros.diagnostics import NodeStats
from da3_ros.ros.messages.compressed import rgb_to_compressed
from da3_ros.ros.messages.image import array_to_image
from da3_ros.ros.messages.rig_input import build_rig_input, CameraSource
from da3_ros.ros.messages.rig_output import camera_info, OutputOptions, result_messages, TF_TOPIC
from da3_ros.ros.sync.approximate_time import SyncedSet
from da3_ros.ros.sync.multi_camera import ImagePair as SyncFrame

NS = 1_000_000_000
KINDS = {'depth': '/depth', 'camera_info': '/depth/camera_info', 'confidence': '/confidence',
         'camera_cloud': '/points'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.bench.ros_side',
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--cameras', type=int, default=6)
    parser.add_argument('--height', type=int, default=900)
    parser.add_argument('--width', type=int, default=1600)
    parser.add_argument('--fused-points', type=int, default=200_000)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--json', default='ros_side.json', help='output file ("" to skip)')
    return parser.parse_args(argv)


def kind_of(topic: str) -> str:
    """Kind of a ``rig_output`` topic (the keys of the ``messages``/``publish`` timings)."""
    if topic == TF_TOPIC:
        return 'tf'
    if topic in ('points', 'rig_step'):
        return 'fused_cloud' if topic == 'points' else 'rig_step'
    return next(kind for kind, tail in sorted(KINDS.items(), key=lambda kv: -len(kv[1]))
                if topic.endswith(tail))


class FixedEngine:
    """Stands in for ``Engine``: every admitted set gives the same result, nothing computed."""

    def __init__(self, result: RigResult) -> None:
        self.result, self.decode_errors, self.decodes_on_device = result, {}, False
        self.config = EngineConfig(window=WindowConfig(length=1))

    def submit(self, frame, outputs=None):
        """Return a pending step whose result is the fixed one at ``frame.stamp``."""
        fixed, stamp = self.result, frame.stamp

        class Pending:
            def __init__(self):
                self.stamp = stamp

            def result(self):
                return RigResult(**{**fixed.__dict__, 'stamp': stamp,
                                    'window_stamps': (stamp,)})
        return Pending()


def _image(rng: np.random.Generator, hw: tuple) -> np.ndarray:
    """Return a smooth image with mild noise (JPEG sizes like a camera's, not like white noise)."""
    rows, cols = np.mgrid[0:hw[0], 0:hw[1]]
    base = np.dstack([cols * 255 // hw[1], rows * 255 // hw[0], (rows + cols) % 256])
    return np.clip(base + rng.integers(-8, 9, base.shape), 0, 255).astype(np.uint8)


def fixed_result(names: Sequence[str], hw: tuple, fused_points: int) -> RigResult:
    """Full-resolution outputs of every camera and a fused cloud (what the GPU hands back)."""
    rng = np.random.default_rng(0)
    k = cam_lib.intrinsics_matrix(hw[1] * 0.6, hw[1] * 0.6, hw[1] / 2, hw[0] / 2)
    cameras = {}
    for name in names:
        depth = rng.uniform(1.0, 60.0, hw).astype(np.float32)
        rows, cols = np.mgrid[0:hw[0], 0:hw[1]].astype(np.float32)
        cloud = np.stack([(cols - k[0, 2]) / k[0, 0] * depth, (rows - k[1, 2]) / k[1, 1] * depth,
                          depth], -1).astype(np.float32)
        cameras[name] = CameraResult(name, f'{name}_optical', depth,
                                     rng.uniform(1.0, 5.0, hw).astype(np.float32),
                                     np.zeros(hw, bool), k, np.eye(4), cloud)
    fused = rng.normal(size=(fused_points, 3)).astype(np.float32)
    return RigResult(stamp=0.0, cameras=cameras, fused_points=fused, t_world_base=np.eye(4),
                     world_is_odom=False, is_metric=True, scale_source='rig', scale=1.0,
                     reset=False, window_stamps=(0.0,))


def input_set(types, names: Sequence[str], hw: tuple, step: int, transport: str) -> SyncedSet:
    """One synchronised set of ``names`` as Image (``raw``) or JPEG CompressedImage messages."""
    rng = np.random.default_rng(step)
    k = cam_lib.intrinsics_matrix(hw[1] * 0.6, hw[1] * 0.6, hw[1] / 2, hw[0] / 2)
    stamp_ns = (step + 1) * NS // 10
    frames = []
    for name in names:
        rgb, frame_id = _image(rng, hw), f'{name}_optical'
        image = rgb_to_compressed(types, rgb, stamp_ns, frame_id, quality=90) \
            if transport == 'compressed' else array_to_image(types, rgb, 'rgb8', stamp_ns,
                                                             frame_id)
        info = camera_info(types, k, hw, stamp_ns, frame_id)
        frames.append(SyncFrame(name, stamp_ns, image, info, stamp_ns))
    return SyncedSet(tuple(names), (stamp_ns,) * len(names), tuple(frames))


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _stats(samples: Dict[str, List[float]]) -> Dict[str, Dict[str, float]]:
    return {k: {'p50': float(np.percentile(v, 50)), 'p90': float(np.percentile(v, 90))}
            for k, v in samples.items() if v}


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the benchmark; return the JSON-ready report."""
    import rclpy
    from da3_ros.ros.messages.msgtypes import rclpy_types
    from da3_ros.ros.publishers import output_topics, OUTPUT_QOS, TF_QOS
    from da3_ros.ros.rig_pipeline import RigPipeline

    types, hw = rclpy_types(), (args.height, args.width)
    names = [f'cam{i}' for i in range(args.cameras)]
    options = OutputOptions(tf_mode='cameras')
    result = fixed_result(names, hw, args.fused_points)
    sources = {t: [CameraSource(n, t, t_base_cam=np.eye(4)) for n in names]
               for t in ('raw', 'compressed')}
    sets = {t: [input_set(types, names, hw, i, t) for i in range(args.warmup + args.iters)]
            for t in ('raw', 'compressed')}
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('da3_bench_ros', context=context)
    try:
        pubs = {topic: node.create_publisher(cls, topic,
                                             TF_QOS if topic == TF_TOPIC else OUTPUT_QOS)
                for topic, cls in output_topics(types, names, options).items()}

        def publish(messages):
            for topic, msg in messages:
                pubs[topic].publish(msg)

        samples: Dict[str, List[float]] = {}
        inputs = {'input.raw': ('raw', False), 'input.jpeg_cpu': ('compressed', False),
                  'input.jpeg_header': ('compressed', True)}
        pipelines = {f'pipeline.{label}': RigPipeline(
            FixedEngine(result), types=types, sources=sources[transport], tf=None,
            options=options, stats=NodeStats(names), publish=publish, use_odometry=False,
            log_error=print) for label, transport in (('raw', 'raw'),
                                                      ('jpeg_header', 'compressed'))}
        pipelines['pipeline.jpeg_header'].engine.decodes_on_device = True
        for i in range(args.warmup + args.iters):
            keep = i >= args.warmup
            rig_input = None
            for label, (transport, encoded) in inputs.items():
                synced = sets[transport][i]
                ms = _timed(lambda: build_rig_input(synced, sources[transport], None,
                                                    base_frame='', encoded=encoded))
                if keep:
                    samples.setdefault(label, []).append(ms)
            rig_input = build_rig_input(sets['raw'][i], sources['raw'], None, base_frame='')
            messages = []
            for kind in ('depth', 'camera_info', 'confidence', 'camera_cloud', 'fused_cloud',
                         'rig_step', 'tf'):
                topics = {t for t in pubs if kind_of(t) == kind}
                built = []
                ms = _timed(lambda: built.extend(result_messages(
                    types, result, rig_input, options, camera_names=names, topics=topics)))
                messages.extend((t, m) for t, m in built if kind_of(t) == kind)
                if keep:
                    samples.setdefault(f'messages.{kind}', []).append(ms)
            for kind in sorted({kind_of(t) for t, _ in messages}):
                batch = [(t, m) for t, m in messages if kind_of(t) == kind]
                ms = _timed(lambda: publish(batch))
                if keep:
                    samples.setdefault(f'publish.{kind}', []).append(ms)
            for label, pipeline in pipelines.items():
                synced = sets['raw' if label.endswith('raw') else 'compressed'][i]
                ms = _timed(lambda: pipeline(synced))
                if keep:
                    samples.setdefault(label, []).append(ms)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
    return report(args, samples)


def report(args: argparse.Namespace, samples: Dict[str, List[float]]) -> Dict[str, Any]:
    """Percentiles, per-group totals and the dominant part."""
    stats = _stats(samples)
    totals = {}
    for group in ('messages', 'publish'):
        parts = [np.array(v) for k, v in samples.items() if k.startswith(group + '.')]
        if parts:
            totals[group] = float(np.percentile(np.sum(parts, axis=0), 50))
    parts = {k: v['p50'] for k, v in stats.items() if k.split('.')[0] in ('messages', 'publish')}
    dominant = max(parts, key=parts.get) if parts else ''
    return {'cameras': args.cameras, 'height': args.height, 'width': args.width,
            'fused_points': args.fused_points, 'iters': args.iters, 'ms': stats,
            'total_p50_ms': totals, 'dominant': dominant,
            'dominant_share_of_output': parts.get(dominant, 0.0) / max(
                sum(totals.values()), 1e-9)}


def table(rep: Dict[str, Any]) -> str:
    """Human-readable summary."""
    lines = [f"ROS side, {rep['cameras']} cameras {rep['width']}x{rep['height']}, fused cloud "
             f"{rep['fused_points']} points, per set",
             f"{'stage':<26}{'p50 ms':>10}{'p90 ms':>10}"]
    for name, pct in rep['ms'].items():
        lines.append(f"{name:<26}{pct['p50']:>10.2f}{pct['p90']:>10.2f}")
    for group, total in rep['total_p50_ms'].items():
        lines.append(f'{group + " total":<26}{total:>10.2f}')
    lines.append(f"dominant: {rep['dominant']} "
                 f"({100 * rep['dominant_share_of_output']:.0f} % of messages + publish)")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    rep = run(args)
    sys.stdout.write(table(rep) + '\n')
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(rep, handle, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
