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

"""Scale simulation: fleet throughput against worker count with a fixed-latency stand-in model.

``python -m da3_ros.tools.fleet.bench --workers 1,2,4 --json OUT.json`` renders one sample
recording, copies it ``--bags`` times and runs the fleet over the copies once per worker count,
on a fresh local Ray with one logical CPU per worker. The network is replaced by
:class:`standin.StandInPredictor` (``--latency-ms`` per window, GIL released, no CPU), so what
limits scaling is everything else: bag reading and CDR decoding, JPEG decoding and rig input
(``decode``), preprocessing, alignment, post-processing, message building and writing (``write``),
and Ray's scheduling. The report gives frames/s, speed-up and efficiency per worker count, the
host CPU time per frame, the ceiling that CPU time puts on this machine (cores / CPU time per
frame), and the first worker count whose efficiency falls below ``--efficiency``.
"""
import argparse
import json
import os
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

STAND_IN_STAGES = ('forward',)  # the stand-in's sleep: device time in a real fleet


def camera_names(count: int) -> tuple:
    """Return the first ``count`` cameras of the synthetic six-camera rig."""
    from da3_ros.synthetic.rig import driving_rig
    return tuple(cam.name for cam in driving_rig())[:count]


def _recordings(folder: Path, bags: int, steps: int, cameras: int, size_hw: tuple) -> Path:
    from da3_ros.tools.bag.sample_recording import RecordingSpec, write_recording
    spec = RecordingSpec(steps=steps, cameras=camera_names(cameras), size_hw=size_hw)
    first = write_recording(folder / 'drives' / 'drive_000', spec)
    for index in range(1, bags):
        shutil.copytree(first, folder / 'drives' / f'drive_{index:03d}')
    return folder / 'drives'


def _one_run(drives: Path, out: Path, config: Any, workers: int, latency_ms: float,
             shard_s: Optional[float]) -> Dict[str, Any]:
    from da3_ros.tools.fleet.driver import FleetOptions, run_fleet
    from da3_ros.tools.fleet.work import PredictorSpec
    options = FleetOptions(num_cpus=workers, workers=workers, cpus_per_worker=1.0,
                           threads_per_worker=1, shard_s=shard_s, retries=0, progress=False,
                           predictor=PredictorSpec(stand_in_ms=latency_ms))
    result = run_fleet([drives], out, config, options)
    tasks = [r for r in result.records if not r.get('shards')]
    failed = [r['error'] for r in result.records if r['status'] != 'done']
    if failed:
        raise RuntimeError(f'benchmark run failed: {failed[:3]}')
    frames = sum(r['frames_out'] for r in tasks)
    stages: Dict[str, float] = {}
    for rec in tasks:
        for stage, seconds in rec.get('timings_s', {}).items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    wall = sum(r['wall_s'] for r in tasks)
    host = wall - sum(stages.get(s, 0.0) for s in STAND_IN_STAGES)
    return {'workers': workers, 'frames': frames, 'busy_s': round(result.busy_s, 3),
            'frames_per_s': round(frames / result.busy_s, 3),
            'startup_s': round(result.wall_s - result.busy_s, 3),
            'host_ms_per_frame': round(host / frames * 1e3, 2),
            'stage_ms_per_frame': {k: round(v / frames * 1e3, 2) for k, v in
                                   sorted(stages.items()) if k != 'total'},
            'other_ms_per_frame': round((wall - stages.get('total', 0.0) - stages.get('decode', 0)
                                         - stages.get('write', 0)) / frames * 1e3, 2)}


def analyse(runs: List[Dict[str, Any]], cores: int, latency_ms: float,
            efficiency: float) -> Dict[str, Any]:
    """Speed-up, efficiency, the CPU ceiling and where scaling stops."""
    base = runs[0]['frames_per_s'] / runs[0]['workers']
    for run in runs:
        run['speedup'] = round(run['frames_per_s'] / runs[0]['frames_per_s'], 3)
        run['efficiency'] = round(run['frames_per_s'] / (base * run['workers']), 3)
    host_ms = runs[0]['host_ms_per_frame']
    stops = next((r['workers'] for r in runs if r['efficiency'] < efficiency), None)
    return {'cpu_ceiling_frames_per_s': round(cores * 1e3 / host_ms, 2),
            'stand_in_ceiling_per_worker': round(1e3 / (latency_ms + host_ms), 2),
            'stops_scaling_at_workers': stops,
            'explanation': (
                f'each frame costs {host_ms:.0f} ms of host time (bag read, decode, preprocess,'
                f' align, post-process, write) next to the {latency_ms:.0f} ms stand-in; one'
                f' worker does at most 1000 / ({latency_ms:.0f} + {host_ms:.0f}) frames/s, and'
                f' {cores} cores cap the machine at {cores} x 1000 / {host_ms:.0f} frames/s:'
                ' beyond that, more workers only share the same cores')}


def main(argv: Optional[list] = None) -> int:
    """Run the simulation; print a table; write the JSON."""
    parser = argparse.ArgumentParser(prog='da3_ros.tools.fleet.bench', description=__doc__.split(
        '\n')[0])
    parser.add_argument('--workers', default='1,2,3,4', help='worker counts, comma separated')
    parser.add_argument('--bags', type=int, default=6)
    parser.add_argument('--steps', type=int, default=12, help='timesteps per bag (10 Hz)')
    parser.add_argument('--cameras', type=int, default=6)
    parser.add_argument('--size', default='90x160', help='image height x width')
    parser.add_argument('--latency-ms', type=float, default=89.0,
                        help='stand-in step time (H200 da3-large 6 cams x T=2: 57-89 ms)')
    parser.add_argument('--shard-s', type=float, default=None)
    parser.add_argument('--efficiency', type=float, default=0.75,
                        help='efficiency below which scaling has stopped')
    parser.add_argument('--json', type=Path, default=None)
    args = parser.parse_args(argv)
    from da3_ros.config import WindowConfig
    from da3_ros.tools.bag.sample_recording import RecordingSpec
    from da3_ros.tools.bag.config import cpu_model, sample_config
    size_hw = tuple(int(v) for v in args.size.split('x'))
    spec = RecordingSpec(cameras=camera_names(args.cameras), size_hw=size_hw)
    config = sample_config(spec, model=cpu_model(), window=WindowConfig(length=2))
    counts = [int(v) for v in args.workers.split(',')]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix='da3_fleet_bench_') as tmp:
        started = time.monotonic()
        drives = _recordings(Path(tmp), args.bags, args.steps, args.cameras, size_hw)
        print(f'recordings: {args.bags} x {args.steps} steps x {args.cameras} cameras'
              f' {args.size} ({time.monotonic() - started:.0f} s)', file=sys.stderr)
        runs = [_one_run(drives, Path(tmp) / f'out_{n}', config, n, args.latency_ms,
                         args.shard_s) for n in counts]
    cores = len(os.sched_getaffinity(0))
    report = {'cores': cores, 'load_avg_1min': [round(load_before[0], 2),
                                                round(os.getloadavg()[0], 2)],
              'latency_ms': args.latency_ms, 'bags': args.bags,
              'steps': args.steps, 'cameras': args.cameras, 'size_hw': list(size_hw),
              'shard_s': args.shard_s, 'runs': runs,
              **analyse(runs, cores, args.latency_ms, args.efficiency)}
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + '\n')
    return 0


def format_report(report: Dict[str, Any]) -> str:
    """Return the table of :func:`main`."""
    lines = ['workers  frames/s  speed-up  efficiency  host ms/frame  startup s']
    for run in report['runs']:
        lines.append(f"{run['workers']:>7} {run['frames_per_s']:>9.2f} {run['speedup']:>9.2f}"
                     f" {run['efficiency']:>11.2f} {run['host_ms_per_frame']:>14.1f}"
                     f" {run['startup_s']:>10.1f}")
    stops = report['stops_scaling_at_workers']
    lines.append(f"CPU ceiling {report['cpu_ceiling_frames_per_s']} frames/s on"
                 f" {report['cores']} cores (1-min load average before/after:"
                 f" {report['load_avg_1min']}); scaling stops at"
                 f" {stops if stops else 'no tested'} workers")
    lines.append(report['explanation'])
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
