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

"""Offline bag processing: ``python -m da3_ros.tools.bag process IN OUT [options]`` (``da3_bag``).

The command line of :func:`da3_ros.tools.bag.process.process_bag` (the module docstring there
says what processing does). Also: ``python -m da3_ros.tools.bag record OUT`` renders the sample
recording, and ``python -m da3_ros.tools.bag fleet --out DIR BAG_OR_DIR...`` processes many bags
on Ray (``da3_ros.tools.fleet``, docs/fleet.md).
"""
import argparse
import logging
from pathlib import Path
import sys
from typing import Iterator, Optional

from da3_ros.errors import Da3Error, did_you_mean
from da3_ros.tools.bag import config as bag_config
from da3_ros.tools.bag.evaluation import format_report
from da3_ros.tools.bag.process import process_bag, resolve_config


class _Parser(argparse.ArgumentParser):
    """argparse that names the closest valid option of a misspelt one, as the node does."""

    def error(self, message: str) -> None:
        head, found, rest = message.partition('unrecognized arguments: ')
        if found:
            message = head + found + ' '.join(
                arg + did_you_mean(arg.split('=')[0], _options(self)) if arg.startswith('-')
                else arg for arg in rest.split())
        super().error(message)


def _options(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every option string of ``parser`` and of its sub-commands."""
    for action in parser._actions:
        yield from (o for o in action.option_strings if o.startswith('--'))
        if isinstance(action.choices, dict):  # the sub-commands
            for sub in action.choices.values():
                yield from _options(sub)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog='da3_bag', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True, parser_class=_Parser)
    proc = sub.add_parser('process', help='run DA3 over every synchronised set of a bag')
    proc.add_argument('input', type=Path)
    proc.add_argument('output', type=Path)
    proc.add_argument('--config', type=Path, default=None,
                      help='node params file (default config/multi_cam.yaml)')
    proc.add_argument('--sample-config', action='store_true',
                      help="use the sample recording's topics and CPU model settings")
    proc.add_argument('--weights', help="checkpoint, hub id, 'parity' or 'random' (placeholders;"
                      ' overrides config)')
    proc.add_argument('--variant', help='model variant of --weights, e.g. da3-small (overrides'
                      ' config)')
    proc.add_argument('--device', help="'auto' (CUDA when present, else CPU), 'cpu', 'cuda',"
                      " 'cuda:1' ... (overrides config)")
    proc.add_argument('--eval', action='store_true', help='AbsRel, delta<1.25, ATE vs GT')
    proc.add_argument('--resume', action='store_true', help='continue an interrupted output')
    proc.add_argument('--overwrite', action='store_true', help='replace an existing output')
    proc.add_argument('--passthrough', action='store_true', help='copy input topics too')
    proc.add_argument('--split-sets', type=int, default=10, help='sets per committed segment')
    proc.add_argument('--no-progress', action='store_true')
    proc.add_argument('--render-offset', metavar='X,Y,Z,YAW|FILE',
                      help='also write <cam>/offset/{image,depth,camera_info}: each camera as if'
                      ' the vehicle were displaced (base frame, m / rad), or along a file of'
                      ' "t x y z yaw" rows')
    proc.add_argument('--export-gs', type=Path, metavar='DIR',
                      help="write each output set's 3D Gaussians as a 3DGS PLY into DIR")
    rec = sub.add_parser('record', help='render the sample recording')
    rec.add_argument('output', type=Path)
    rec.add_argument('--steps', type=int, default=20)
    rec.add_argument('--raw', action='store_true', help='sensor_msgs/Image instead of jpeg')
    rec.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap')
    sub.add_parser('fleet', add_help=False, help='many bags on a Ray cluster (fleet --help)')
    return parser


def main(argv: Optional[list] = None) -> int:
    """Console entry point; returns the exit status (130 after Ctrl-C, 2 on errors)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['fleet']:
        from da3_ros.tools.fleet.cli import main as fleet_main
        return fleet_main(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')
    try:
        if args.command == 'record':
            from da3_ros.tools.record_sample import record
            record(args.output, steps=args.steps, raw=args.raw, storage=args.storage)
            return 0
        config = bag_config.sample_config() if args.sample_config else args.config
        if args.weights or args.variant or args.device:
            config = bag_config.with_model(resolve_config(config), args.weights, args.variant,
                                           args.device)
        summary = process_bag(args.input, args.output, config, eval=args.eval,
                              resume=args.resume, progress=not args.no_progress,
                              passthrough=args.passthrough, overwrite=args.overwrite,
                              split_sets=args.split_sets, render_offset=args.render_offset,
                              export_gs=args.export_gs)
    except Da3Error as err:
        print(f'da3_bag: error: {err}', file=sys.stderr)
        return 2
    print(summary.text())
    if summary.evaluation is not None:
        print(format_report(summary.evaluation))
    return 130 if summary.interrupted else 0
