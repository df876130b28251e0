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

"""Render the sample recording: ``python -m da3_ros.tools.record_sample OUT [options]``.

The synthetic six-camera drive of :mod:`da3_ros.tools.bag.sample_recording` as a rosbag2
folder (mcap by default): images (jpeg CompressedImage, or rgb8 Image with ``--raw``),
CameraInfo, ground-truth depth, ``/tf`` and ``/tf_static``. Takes a few seconds at the default
160 x 90 pixels.
"""
import argparse
from pathlib import Path
import sys
import time
from typing import Optional, Sequence

from da3_ros.tools.bag.sample_recording import RecordingSpec, write_recording


def record(output: Path, *, steps: int = 20, raw: bool = False, storage: str = 'mcap',
           size_hw: Sequence[int] = (90, 160), cameras: Sequence[str] = ()) -> Path:
    """Render the sample recording to ``output`` (a new folder); return its path."""
    spec = RecordingSpec(steps=steps, size_hw=tuple(size_hw), cameras=tuple(cameras),
                         transport='raw' if raw else 'compressed', storage=storage)
    return write_recording(Path(output), spec)


def main(argv: Optional[list] = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('output', type=Path, help='new bag folder')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--raw', action='store_true', help='sensor_msgs/Image instead of jpeg')
    parser.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap')
    parser.add_argument('--size', type=int, nargs=2, default=(90, 160), metavar=('H', 'W'))
    parser.add_argument('--cameras', nargs='*', default=(), help='subset of the six cameras')
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        path = record(args.output, steps=args.steps, raw=args.raw, storage=args.storage,
                      size_hw=args.size, cameras=args.cameras)
    except (ValueError, FileExistsError) as err:
        print(f'record_sample: error: {err}', file=sys.stderr)
        return 2
    print(f'wrote {path} in {time.monotonic() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
