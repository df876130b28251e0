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

"""The fleet driver: ``run_fleet`` plans, takes the output folder's lock and runs the schedule.

Modules: :mod:`plan` (bags, outputs, time shards), :mod:`schedule` (the loop),
:mod:`cluster` (Ray: the cluster and the worker actor, the only module importing ``ray``),
:mod:`work` (one task), :mod:`join` (shards into one chain), :mod:`manifest` (``fleet.jsonl``).
One driver at a time per output folder (an ``flock`` on ``DIR/.fleet.lock``).
"""
import fcntl
import logging
from pathlib import Path
import time
from typing import Sequence

from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.fleet import plan as plan_lib
from da3_ros.tools.fleet.manifest import Manifest
from da3_ros.tools.fleet.options import FleetError, FleetOptions, FleetResult
from da3_ros.tools.fleet.schedule import Scheduler

__all__ = ['FleetError', 'FleetOptions', 'FleetResult', 'run_fleet']
LOG = logging.getLogger(__name__)
LOCK_FILE = '.fleet.lock'


class _Lock:
    """An exclusive ``flock`` on the output folder (released when the process dies)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = open(folder / LOCK_FILE, 'w')
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            self.handle.close()
            raise FleetError(f'{str(folder)!r} is in use by another fleet driver') from err

    def release(self) -> None:
        self.handle.close()


def run_fleet(inputs: Sequence[Path], out_dir: Path, config: BagConfig,
              options: FleetOptions = FleetOptions()) -> FleetResult:
    """Process every bag under ``inputs`` into ``out_dir`` (see the module docstring).

    Raises:
        FleetError: no input found, the folder is locked, Ray is missing or unreachable.
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    found = plan_lib.discover(inputs)
    if not found.bags and found.errors:
        raise FleetError('; '.join(f'{k}: {v}' for k, v in found.errors.items()))
    for path, reason in found.errors.items():
        LOG.warning('%s: %s', path, reason)
    lock = _Lock(out_dir)
    try:
        plans = plan_lib.plan(found.bags, out_dir, config, options.shard_s)
        manifest = Manifest(out_dir)
        run = Scheduler(plans, manifest, config, options)
        interrupted, workers = run.execute()
        busy_s = run.busy_s
        names = [n for p in plans for n in [t.name for t in p.shards] + [p.key]]
        manifest.compact(names)
        records = manifest.current(names)
    finally:
        lock.release()
    return FleetResult(records, interrupted, time.monotonic() - started, workers, busy_s)
