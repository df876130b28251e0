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

"""``make demo``: render the sample recording, process it offline, write what a person looks at.

Outputs under ``--out`` (``index.html`` shows them all): ``sample_recording/`` (the rendered
input bag), ``output_bag/`` (the node's topics, mcap), ``sheets/step_XXX.png`` (per step and
camera: image, depth, confidence, true depth, error; shared colour scales with colour bars),
``trajectory.png`` (top view, estimated vs true), ``cloud_top.png`` (the last fused cloud from
above, cameras drawn), ``fused_cloud.ply`` (that cloud, ``base_link``), ``eval.json`` and
``plotly.min.js`` (the page's 3D view).

Weights: a hub id (default DA3-SMALL), a checkpoint directory or file, or a placeholder word
(``config.PLACEHOLDER_WEIGHTS``): ``random`` (untrained initialisation) or ``parity`` (the
deterministic parity-rule weights); both run the whole pipeline, mean nothing and are
watermarked on every picture.

A re-run replaces the previous output: the folder holds a marker file, and only the entries the
demo writes are removed; a non-empty folder without the marker is refused. Ctrl-C stops with
"interrupted" and exit status 130. Only the standard library is imported before the first
progress line; torch and the rest load after it.
"""
import argparse
import json
from pathlib import Path
import shutil
import sys
from typing import Callable, Optional, Sequence

DEFAULT_WEIGHTS = 'depth-anything/DA3-SMALL'
MARKER = '.da3_ros_demo'
OUTPUTS = ('sample_recording', 'output_bag', 'sheets', 'trajectory.png', 'cloud_top.png',
           'fused_cloud.ply', 'eval.json', 'index.html', 'plotly.min.js')
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class OutputFolderError(Exception):
    """``--out`` holds files that the demo did not write."""


def prepare_output(out: Path) -> None:
    """Make ``out`` ready for a run: create it, or clear what an earlier demo run wrote there.

    Raises:
        OutputFolderError: ``out`` is a file, or a non-empty folder without the demo's marker.
    """
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f'--out {out}: exists and is not a folder')
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputFolderError(f'--out {out}: a non-empty folder that no demo run made '
                                f'(no {MARKER} in it); choose an empty or new folder')
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text('written by python -m da3_ros.tools.demo; a re-run replaces '
                              'the entries it writes here\n')
    for name in OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def run(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """Check the weights, prepare the folder, run, write the page; returns the exit status."""
    say('[1/5] loading torch and the pipeline')
    from da3_ros.config import placeholder_notice
    from da3_ros.errors import Da3Error
    from da3_ros.tools.demo import page as demo_page, run as demo_run
    notice = placeholder_notice(args.weights)
    if notice:
        say('!' * 78 + '\n' + notice + '\n' + '!' * 78)
    try:
        demo_run.check_weights(args.weights)
        prepare_output(args.out)
        page = demo_run.run_demo(args.weights, args.out, steps=args.steps,
                                 process_res=args.process_res, say=say)
    except demo_run.Interrupted as exc:
        print(f'demo: {exc}; the page was not written', file=sys.stderr)
        return EXIT_INTERRUPTED
    except (Da3Error, OutputFolderError) as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return EXIT_ERROR
    say('[5/5] writing the page')
    (args.out / 'eval.json').write_text(json.dumps(page.evaluation, indent=1, default=str))
    path = demo_page.write_page(args.out, page)
    for name, value, _ in demo_page.numbers(page.evaluation):
        say(f'{name}: {value}')
    say(f'fused cloud: {page.cloud_points} points; open {path}')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line of ``make demo``."""
    parser = argparse.ArgumentParser(prog='python -m da3_ros.tools.demo',
                                     description=__doc__.split('\n\n')[0])
    parser.add_argument('--weights', default=DEFAULT_WEIGHTS,
                        help='hub id, checkpoint dir/file, or a placeholder: "random" or '
                             '"parity" (meaningless output)')
    parser.add_argument('--out', default='demo_out', type=Path)
    parser.add_argument('--steps', type=int, default=8)
    parser.add_argument('--process-res', type=int, default=168)
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, flush=True)
    try:
        return run(args, say)
    except KeyboardInterrupt:
        print('demo: interrupted', file=sys.stderr)
        return EXIT_INTERRUPTED
