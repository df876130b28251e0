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

"""The Ray side of a fleet: start or join a cluster, and the worker actor.

The only module of the package that imports ``ray`` (inside :func:`start_ray`). Each worker is
one actor with ``num_gpus`` (fractions allowed) and ``num_cpus``; it builds its predictor once
(the model is loaded once per worker) and runs whole bags or shards with :func:`work.run_task`,
or joins a bag's shards (:func:`join.join_shards`).
"""
import os
from pathlib import Path
import time
from typing import Any, Dict, List, Tuple

from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.fleet import plan as plan_lib
from da3_ros.tools.fleet.join import join_shards
from da3_ros.tools.fleet.manifest import FAILED
from da3_ros.tools.fleet.options import FleetError, FleetOptions
from da3_ros.tools.fleet.work import PredictorSpec, record, run_task, TaskOptions

PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds da3_ros/


class Worker:
    """A Ray actor's state: the config and the predictor, built once."""

    def __init__(self, config: BagConfig, predictor: PredictorSpec, threads: int) -> None:
        import torch
        torch.set_num_threads(max(int(threads), 1))
        self.config = config
        self.predictor = predictor.build(config)

    def ready(self) -> bool:
        """Answers once the predictor is built."""
        return True

    def run(self, task: plan_lib.Task, options: TaskOptions) -> Dict[str, Any]:
        """Process one bag or shard."""
        return run_task(task, self.config, self.predictor, options)

    def join(self, bag: plan_lib.BagPlan, shard_records: List[Dict[str, Any]]
             ) -> Dict[str, Any]:
        """Join a bag's shards; a failure comes back as a failed record."""
        started = time.monotonic()
        try:
            return join_shards(bag, self.config, shard_records)
        except Exception as err:  # noqa: B902 - one bad bag must not stop the fleet
            return record(bag.whole(), FAILED, f'join: {type(err).__name__}: {err}', None,
                          time.monotonic() - started)


def start_ray(options: FleetOptions) -> Any:
    """``ray`` after ``ray.init``: a new local cluster, or the one at ``options.address``."""
    try:
        import ray
    except ImportError as err:
        raise FleetError("Ray is not installed: pip install 'da3_ros[fleet]'") from err
    ship = options.ship_code if options.ship_code is not None else bool(options.address)
    runtime_env = {'py_modules': [str(PACKAGE_ROOT / 'da3_ros')]} if ship else None
    if not options.address:
        # Local workers are started by this process's raylet and inherit its environment.
        path = os.environ.get('PYTHONPATH', '')
        if str(PACKAGE_ROOT) not in path.split(os.pathsep):
            os.environ['PYTHONPATH'] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), path) if p)
    local = {} if options.address else {'num_cpus': options.num_cpus, 'include_dashboard': False}
    try:
        ray.init(address=options.address or 'local', logging_level='WARNING',
                 runtime_env=runtime_env, **local)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise FleetError(f'cannot start or join Ray at {options.address or "local"}: {err}'
                         ) from err
    return ray


def actor_class(ray: Any, options: FleetOptions) -> Tuple[Any, int]:
    """Return the worker actor class with its resource request, and how many to start.

    Raises:
        FleetError: on a local cluster, workers that could never all be placed.
    """
    resources = ray.cluster_resources()
    gpus = float(resources.get('GPU', 0.0))
    per_gpu = options.gpus_per_worker if options.gpus_per_worker is not None else (
        1.0 if gpus else 0.0)
    if options.workers:
        count = options.workers
    elif per_gpu > 0:
        count = max(int(gpus / per_gpu), 1)
    else:
        count = max(int(resources.get('CPU', 1.0) / max(options.cpus_per_worker, 1e-3)), 1)
    cpus = float(resources.get('CPU', 0.0))
    if not options.address and (count * per_gpu > gpus + 1e-9
                                or count * options.cpus_per_worker > cpus + 1e-9):
        raise FleetError(f'{count} workers x ({per_gpu} GPU, {options.cpus_per_worker} CPU) do'
                         f' not fit the local cluster ({gpus:g} GPU, {cpus:g} CPU)')
    actor = ray.remote(Worker).options(num_cpus=options.cpus_per_worker, num_gpus=per_gpu,
                                       max_concurrency=1)
    return actor, count
