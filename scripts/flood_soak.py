#!/usr/bin/env python3
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

"""Bounded-memory flood soak of da3_node: N cameras flooding images, node RSS sampled over time.

The real node process (``da3_ros.ros.node``: subscriptions, CameraInfo pairing, clock policy,
synchroniser, latest-only worker, engine pre/post-processing, publishers) runs with a fast
stand-in predictor instead of the network (constant depth, identity poses), so the soak measures
the node's own memory, not the model's. A flood process publishes ``--cameras`` raw rgb8 images
of ``--size`` with their CameraInfo at ``--rate`` sets per second, stamped with the wall clock.
The node's resident set size (VmRSS) is sampled every ``--sample-s`` seconds; after
``--warmup-s`` the peak and the trough of the RSS must not grow from the first to the second half
of the remaining samples by more than ``--max-growth-mb`` (``summarise`` says why the envelope).

Every queue on the path is bounded: the DDS reader history (``qos: sensor_data``, depth 5), the
pairer and synchroniser queues (``sync.queue_size``), the one-slot worker, the time-bounded TF
cache and the error-log keys. The glibc thresholds of ``scripts/ros_env.sh`` apply (the script
runs the processes in the ROS environment of the caller; source ``scripts/ros_env.sh`` first).

Usage (from the repository root, in the venv):
    VENV=.venv . scripts/ros_env.sh
    python scripts/flood_soak.py --duration-s 600 --rate 30 --cameras 6 --size 1600x900
        (add --out FILE for the JSON report)
Prints one line per sample and a summary table; writes the JSON report to ``--out`` (default
``$OUT/flood_soak.json`` when ``$OUT`` is set). Exit status 0 when memory stayed bounded.
"""
import argparse
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('role', nargs='?', default='run', choices=('run', 'node', 'flood'))
    parser.add_argument('--duration-s', type=float, default=600.0)
    parser.add_argument('--warmup-s', type=float, default=120.0)
    parser.add_argument('--sample-s', type=float, default=5.0)
    parser.add_argument('--rate', type=float, default=30.0, help='sets per second')
    parser.add_argument('--cameras', type=int, default=6)
    parser.add_argument('--size', default='1600x900', help='WIDTHxHEIGHT')
    parser.add_argument('--process-res', type=int, default=504)
    parser.add_argument('--max-growth-mb', type=float, default=64.0)
    parser.add_argument('--params', default='', help='(internal) node parameters file')
    parser.add_argument('--out', default='')
    return parser.parse_args(argv)


def _size(text: str) -> tuple:
    width, height = (int(v) for v in text.lower().split('x'))
    return width, height


def names(count: int) -> list:
    return [f'cam{i}' for i in range(count)]


def params_yaml(args: argparse.Namespace) -> str:
    """Node parameters: the flood's topics, extrinsics from parameters, no TF, no odometry."""
    cams = names(args.cameras)
    lines = ['/**/da3_node:', '  ros__parameters:',
             '    model: {variant: da3-small, weights: random, device: cpu, dtype: fp32,'
             f' process_res: {args.process_res}}}',
             '    window: {length: 1}', '    use_odometry: false', '    tf_mode: none',
             '    qos: sensor_data', '    sync: {slop_s: 0.02, queue_size: 10, timeout_s: 0.25}',
             '    diagnostics_period_s: 1.0', f'    cameras: [{", ".join(cams)}]', '    camera:']
    for i, cam in enumerate(cams):
        lines += [f'      {cam}:', f'        image_topic: /flood/{cam}/image_raw',
                  f'        info_topic: /flood/{cam}/camera_info',
                  f'        extrinsics: [{0.1 * i}, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]']
    return '\n'.join(lines) + '\n'


class StandInPredictor:
    """Constant depth 5 m, confidence 2, the conditioning poses, the given intrinsics."""

    def predict(self, inputs):
        import torch
        from da3_ros.model.prediction import Prediction
        views, _, height, width = inputs.images.shape
        depth = torch.full((1, views, height, width), 5.0, device=inputs.images.device)
        if inputs.extrinsics is not None:  # pose-conditioned: give the rig back
            extrinsics = inputs.extrinsics[None, :, :3].float()
        else:
            extrinsics = torch.eye(4, device=depth.device)[:3].expand(1, views, 3, 4).clone()
            extrinsics[..., 0, 3] = torch.arange(views, device=depth.device) * 0.1
        if inputs.intrinsics is not None:
            intrinsics = inputs.intrinsics[None].float()
        else:
            k = torch.tensor([[width, 0.0, width / 2], [0.0, width, height / 2], [0, 0, 1.0]])
            intrinsics = k.expand(1, views, 3, 3).clone()
        return Prediction(depth=depth, depth_conf=torch.full_like(depth, 2.0),
                          extrinsics=extrinsics, intrinsics=intrinsics)


def run_node(args: argparse.Namespace) -> int:
    """Return the real da3_node with the stand-in predictor (no weights are loaded)."""
    from da3_ros.engine.engine import Engine
    from da3_ros.ros import node
    node.build_engine = lambda config, logger: Engine(config, StandInPredictor())
    return node.main(['da3_node', '--ros-args', '--params-file', args.params])


def run_flood(args: argparse.Namespace) -> int:
    """Publish ``--cameras`` images + CameraInfo at ``--rate`` sets/s until interrupted."""
    import numpy as np
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from da3_ros.ros.messages.image import array_to_image
    from da3_ros.ros.messages.msgtypes import rclpy_types
    from da3_ros.ros.messages.tf_msgs import ns_to_stamp
    width, height = _size(args.size)
    rclpy.init()
    node = rclpy.create_node('flood')
    types = rclpy_types()
    rng = np.random.default_rng(0)
    pubs, frames = {}, {}
    k = [width * 0.8, 0.0, width / 2, 0.0, width * 0.8, height / 2, 0.0, 0.0, 1.0]
    for cam in names(args.cameras):
        pubs[cam] = (node.create_publisher(types.Image, f'/flood/{cam}/image_raw',
                                           qos_profile_sensor_data),
                     node.create_publisher(types.CameraInfo, f'/flood/{cam}/camera_info',
                                           qos_profile_sensor_data))
        rgb = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        info = types.CameraInfo(height=height, width=width, distortion_model='plumb_bob',
                                d=[-0.1, 0.01, 0.0, 0.0, 0.0], k=k,
                                r=[1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0], p=k[:3] + [0.0] + k[3:6]
                                + [0.0] + k[6:] + [0.0])
        info.header.frame_id = f'{cam}_optical'
        frames[cam] = (array_to_image(types, rgb, 'rgb8', 0, f'{cam}_optical'), info)
    period, sent, start = 1.0 / args.rate, 0, time.monotonic()
    try:
        while rclpy.ok():
            stamp = ns_to_stamp(types, time.time_ns())
            for cam, (image, info) in frames.items():
                image.header.stamp = info.header.stamp = stamp
                pubs[cam][1].publish(info)
                pubs[cam][0].publish(image)
            sent += 1
            delay = start + sent * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    except KeyboardInterrupt:
        pass
    finally:
        elapsed = time.monotonic() - start
        print(f'FLOOD sets={sent} seconds={elapsed:.1f} rate={sent / max(elapsed, 1e-9):.2f}',
              flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (``VmRSS`` of /proc/<pid>/status)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f'no VmRSS for pid {pid}')


def _start(role: str, args: argparse.Namespace, extra: list, log: Path) -> subprocess.Popen:
    argv = [sys.executable, str(Path(__file__).resolve()), role, '--cameras', str(args.cameras),
            '--size', args.size, '--rate', str(args.rate), *extra]
    with open(log, 'wb') as out:
        return subprocess.Popen(argv, cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGINT, 15.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            continue


def summarise(samples: list, args: argparse.Namespace) -> dict:
    """Growth of the RSS envelope after warm-up (see ``envelope_growth``), plus the raw figures.

    Under a flood the RSS steps up and down by whole sets in flight (one 6 x 1600 x 900 set is
    ~26 MB raw and several times that once decoded and resized), so one sample minus another
    measures where the queues happened to be, not growth. Bounded means: the peak and the
    trough of the second half after warm-up exceed those of the first half by at most
    ``--max-growth-mb``. Last-minus-first and the least-squares slope are reported as well.
    """
    after = [(t, mb) for t, mb in samples if t >= args.warmup_s]
    report = {'args': {k: v for k, v in vars(args).items() if k not in ('role', 'params')},
              'samples': [{'t_s': round(t, 1), 'rss_mb': round(mb, 1)} for t, mb in samples]}
    if len(after) < 4:
        report.update(bounded=False, reason='too few samples after warm-up')
        return report
    n = len(after)
    mean_t = sum(t for t, _ in after) / n
    mean_mb = sum(mb for _, mb in after) / n
    slope = sum((t - mean_t) * (mb - mean_mb) for t, mb in after) / max(
        sum((t - mean_t) ** 2 for t, _ in after), 1e-9)
    peak_growth, trough_growth = envelope_growth([mb for _, mb in after])
    report.update(rss_start_mb=round(samples[0][1], 1), rss_warm_mb=round(after[0][1], 1),
                  rss_end_mb=round(after[-1][1], 1),
                  rss_max_after_warmup_mb=round(max(mb for _, mb in after), 1),
                  last_minus_first_after_warmup_mb=round(after[-1][1] - after[0][1], 1),
                  slope_mb_per_min=round(slope * 60.0, 2),
                  peak_growth_mb=round(peak_growth, 1), trough_growth_mb=round(trough_growth, 1),
                  bounded=max(peak_growth, trough_growth) <= args.max_growth_mb)
    return report


def envelope_growth(rss_mb: list) -> tuple:
    """(peak, trough) of the second half of ``rss_mb`` minus those of the first half, in MB."""
    half = len(rss_mb) // 2
    first, second = rss_mb[:half], rss_mb[half:]
    return max(second) - max(first), min(second) - min(first)


class DiagnosticsWatch:
    """The last ``da3_node: pipeline`` status of /diagnostics (results, sets, drops)."""

    def __init__(self) -> None:
        import rclpy
        from da3_ros.ros.messages.msgtypes import rclpy_types
        self.rclpy = rclpy
        rclpy.init()
        self.node = rclpy.create_node('flood_soak_watch')
        self.values: dict = {}
        self.node.create_subscription(rclpy_types().DiagnosticArray, '/diagnostics',
                                      self._diagnostics, 10)

    def _diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.name.endswith(': pipeline'):
                self.values = {kv.key: kv.value for kv in status.values}

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.rclpy.spin_once(self.node, timeout_sec=min(0.1, max(end - time.monotonic(), 0)))

    def close(self) -> None:
        self.node.destroy_node()
        self.rclpy.try_shutdown()


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix='flood_soak.'))
    watch = DiagnosticsWatch()
    params = work / 'params.yaml'
    params.write_text(params_yaml(args))
    node = _start('node', args, ['--params', str(params)], work / 'node.log')
    time.sleep(10.0)  # configure (no weights) before the flood starts
    flood = _start('flood', args, [], work / 'flood.log')
    samples, start = [], time.monotonic()
    try:
        while time.monotonic() - start < args.duration_s:
            if node.poll() is not None:
                raise RuntimeError(f'node exited: {(work / "node.log").read_text()[-2000:]}')
            t, mb = time.monotonic() - start, rss_mb(node.pid)
            samples.append((t, mb))
            print(f'SAMPLE t={t:7.1f}s rss={mb:8.1f} MiB results={watch.values.get("results")}'
                  f' sets={watch.values.get("synced_sets")}', flush=True)
            watch.spin(args.sample_s)
    finally:
        _stop(flood)
        _stop(node)
        watch.close()
    report = summarise(samples, args)
    report['pipeline'] = watch.values
    report['flood'] = next((line for line in (work / 'flood.log').read_text().splitlines()
                            if line.startswith('FLOOD')), '')
    report['node_log_tail'] = (work / 'node.log').read_text()[-1500:]
    print(f'\n{"cameras":>8} {"size":>10} {"rate":>6} {"seconds":>8} {"warm MiB":>9}'
          f' {"end MiB":>8} {"growth":>7} {"MiB/min":>8} bounded')
    print(f'{args.cameras:>8} {args.size:>10} {args.rate:>6g} {args.duration_s:>8g}'
          f' {report.get("rss_warm_mb", "-"):>9} {report.get("rss_end_mb", "-"):>8}'
          f' {report.get("peak_growth_mb", "-"):>7}'
          f' {report.get("slope_mb_per_min", "-"):>8} {report["bounded"]}')
    print(report['flood'])
    print('node results', watch.values.get('results'), 'synced sets',
          watch.values.get('synced_sets'), 'drops',
          {k: v for k, v in watch.values.items() if k.startswith('dropped.')})
    out = args.out or (os.path.join(os.environ['OUT'], 'flood_soak.json')
                       if os.environ.get('OUT') else '')
    if out:
        Path(out).write_text(json.dumps(report, indent=1))
    return 0 if report['bounded'] else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    return {'run': run, 'node': run_node, 'flood': run_flood}[args.role](args)


if __name__ == '__main__':
    sys.exit(main())
