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

"""``python -m da3_ros.tools.bag fleet --out DIR [options] BAG_OR_DIR...`` (``da3_bag fleet``).

Processes every bag under the inputs on a Ray cluster (a local one unless ``--address``), with
the same config and options as ``da3_bag process``. Re-running the same command skips bags that
are done and resumes interrupted ones. Exit status: 0 every bag done, 1 some bag failed (see
``DIR/fleet.jsonl``), 2 the fleet could not start, 130 interrupted.
"""
import argparse
import logging
from pathlib import Path
import sys
from typing import Optional

from da3_ros.errors import Da3Error
from da3_ros.tools.bag import config as bag_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Return the ``fleet`` options (the ``process`` ones it shares come first)."""
    parser.add_argument('inputs', type=Path, nargs='+', metavar='BAG_OR_DIR')
    parser.add_argument('--out', type=Path, required=True, help='fleet output folder')
    parser.add_argument('--config', type=Path, default=None,
                        help='node params file (default config/multi_cam.yaml)')
    parser.add_argument('--sample-config', action='store_true',
                        help="use the sample recording's topics and CPU model settings")
    parser.add_argument('--weights', help="checkpoint, hub id or 'random' (overrides config)")
    parser.add_argument('--variant', help='model variant of --weights (overrides config)')
    parser.add_argument('--eval', action='store_true', help='AbsRel, delta<1.25, ATE vs GT')
    parser.add_argument('--passthrough', action='store_true', help='copy input topics too')
    parser.add_argument('--split-sets', type=int, default=10, help='sets per committed segment')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--address', default=None,
                        help="Ray cluster to join ('auto', 'ray://head:10001'); default: start"
                        ' a local one')
    parser.add_argument('--num-cpus', type=int, default=None, help='CPUs of the local cluster')
    parser.add_argument('--workers', type=int, default=None,
                        help='worker actors (default: one per GPU, else one per CPU)')
    parser.add_argument('--gpus-per-worker', type=float, default=None,
                        help='GPUs per worker, fractions allowed (default 1 with GPUs)')
    parser.add_argument('--cpus-per-worker', type=float, default=1.0)
    parser.add_argument('--threads-per-worker', type=int, default=1,
                        help='torch CPU threads per worker')
    parser.add_argument('--shard-s', type=float, default=None,
                        help='split each bag into time shards of this many seconds, processed'
                        ' in parallel and joined into one output')
    parser.add_argument('--retries', type=int, default=1,
                        help='attempts after the first before a bag is recorded as failed')
    parser.add_argument('--keep-slices', action='store_true',
                        help="keep the shards' input slices")
    parser.add_argument('--keep-shards', action='store_true',
                        help="keep the shards' outputs after they are joined")
    parser.add_argument('--stand-in-ms', type=float, default=None,
                        help='replace the network by a fixed-latency stand-in (scale tests)')


def main(argv: Optional[list] = None) -> int:
    """Entry point of ``da3_bag fleet``; returns the exit status."""
    parser = argparse.ArgumentParser(prog='da3_bag fleet', description=__doc__.split('\n')[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')
    from da3_ros.tools.bag.process import resolve_config
    from da3_ros.tools.fleet.driver import FleetOptions, run_fleet
    from da3_ros.tools.fleet.manifest import table
    from da3_ros.tools.fleet.work import PredictorSpec, TaskOptions
    try:
        config = bag_config.sample_config() if args.sample_config else args.config
        config = resolve_config(config)
        if args.weights or args.variant:
            config = bag_config.with_model(config, args.weights, args.variant)
        options = FleetOptions(
            address=args.address, num_cpus=args.num_cpus, workers=args.workers,
            gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker,
            threads_per_worker=args.threads_per_worker, shard_s=args.shard_s,
            retries=args.retries, progress=not args.no_progress,
            task=TaskOptions(eval=args.eval, passthrough=args.passthrough,
                             split_sets=args.split_sets, keep_slices=args.keep_slices,
                             keep_shards=args.keep_shards),
            predictor=PredictorSpec(stand_in_ms=args.stand_in_ms))
        result = run_fleet(args.inputs, args.out, config, options)
    except Da3Error as err:
        print(f'da3_bag fleet: error: {err}', file=sys.stderr)
        return 2
    print(table(result.records))
    for rec in result.failed:
        print(f"FAILED {rec['bag']}: {rec['error']}", file=sys.stderr)
    return result.exit_status()


if __name__ == '__main__':
    sys.exit(main())
