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

"""Options and results of a fleet run (plain dataclasses; no ``ray``)."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from da3_ros.errors import Da3Error
from da3_ros.tools.fleet.manifest import FAILED
from da3_ros.tools.fleet.work import PredictorSpec, TaskOptions


class FleetError(Da3Error):
    """The fleet cannot start (output folder locked, no input, Ray missing or unreachable)."""


@dataclass(frozen=True)
class FleetOptions:
    """How a fleet run is laid out.

    Attributes:
        address: Ray cluster to join (``auto``, ``ray://host:10001``); None starts a local one.
        num_cpus: CPUs of the local cluster (None: all).
        workers: worker actors (None: one per GPU, or one per CPU without GPUs).
        gpus_per_worker: GPUs per worker, fractions allowed (None: 1 with GPUs, else 0).
        cpus_per_worker: CPUs reserved per worker.
        threads_per_worker: torch CPU threads per worker.
        shard_s: split each bag into shards of this many seconds (None: whole bags).
        retries: attempts after the first before a task is recorded as failed.
        ship_code: send the ``da3_ros`` package to the cluster (``runtime_env py_modules``);
            None: only when joining a cluster by address.
        progress: draw a progress line on stderr.
        task: options of every task (``--eval``, ``--passthrough`` ...).
        predictor: what the workers run (the model, or a stand-in for the benchmark).
    """

    address: Optional[str] = None
    num_cpus: Optional[int] = None
    workers: Optional[int] = None
    gpus_per_worker: Optional[float] = None
    cpus_per_worker: float = 1.0
    threads_per_worker: int = 1
    shard_s: Optional[float] = None
    retries: int = 1
    ship_code: Optional[bool] = None
    progress: bool = True
    task: TaskOptions = field(default_factory=TaskOptions)
    predictor: PredictorSpec = field(default_factory=PredictorSpec)


@dataclass
class FleetResult:
    """Records of every bag (and shard) of the run, and how it ended."""

    records: List[Dict[str, Any]]
    interrupted: bool = False
    wall_s: float = 0.0
    workers: int = 0
    busy_s: float = 0.0

    @property
    def failed(self) -> List[Dict[str, Any]]:
        """Records of bags (not shards) that failed."""
        return [r for r in self.records if r['status'] == FAILED and r.get('shard') is None]

    def exit_status(self) -> int:
        """0 all done, 1 some bag failed, 130 interrupted."""
        return 130 if self.interrupted else (1 if self.failed else 0)
