"""The fleet driver: plan, start or join a Ray cluster, keep every worker busy, record results.

Scheduling is Ray's (actors placed by their resource request: ``num_gpus`` may be fractional);
this module only keeps one task in flight per worker actor, largest first, so a worker that
finishes early takes the next task. Each actor builds its predictor once (the model is loaded
once per GPU) and runs whole bags or shards with :func:`work.run_task`; when every shard of a bag
is done, an actor joins them (:func:`join.join_shards`). A failed task is retried ``retries``
times (a worker that died is replaced), then recorded as failed; the others go on. One driver at
a time per output folder (an ``flock`` on ``DIR/.fleet.lock``).
"""
from dataclasses import dataclass, field
import fcntl
import logging
import os
from pathlib import Path
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

from da3_ros.errors import Da3Error
from da3_ros.tools.bag_config import BagConfig
from da3_ros.tools.fleet import plan as plan_lib
from da3_ros.tools.fleet.join import join_shards
from da3_ros.tools.fleet.manifest import DONE, FAILED, Manifest
from da3_ros.tools.fleet.work import PredictorSpec, record, run_task, TaskOptions

LOG = logging.getLogger(__name__)
LOCK_FILE = '.fleet.lock'
PACKAGE_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds da3_ros/


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
        run = _Run(plans, manifest, config, options)
        interrupted, workers = run.execute()
        busy_s = run.busy_s
        names = [n for p in plans for n in [t.name for t in p.shards] + [p.key]]
        manifest.compact(names)
        records = manifest.current(names)
    finally:
        lock.release()
    return FleetResult(records, interrupted, time.monotonic() - started, workers, busy_s)


class _Run:
    """One driver pass over the plans: queue, dispatch, retry, join, record."""

    def __init__(self, plans: List[plan_lib.BagPlan], manifest: Manifest, config: BagConfig,
                 options: FleetOptions) -> None:
        self.plans, self.manifest, self.config, self.options = plans, manifest, config, options
        self.queue: List[Tuple[str, Any]] = []
        self.attempts: Dict[str, int] = {}
        self.shards_left: Dict[str, int] = {}
        self.total = self.finished = self.frames = 0
        self.started = time.monotonic()
        self.busy_s = 0.0  # from every worker ready to the last result
        self.stream: Optional[TextIO] = sys.stderr if options.progress else None
        self._drawn = ('', 0.0)  # last progress text (without the clock) and when
        self._fill()

    def _fill(self) -> None:
        tasks = []
        for bag in self.plans:
            if self.manifest.done(bag.key):
                continue
            self.total += 1
            if bag.error:
                self._finish(record(bag.whole(), FAILED, bag.error, None, 0.0))
            elif not bag.shards:
                tasks.append(bag.whole())
            else:
                todo = [t for t in bag.shards if not self.manifest.done(t.name)]
                self.shards_left[bag.key] = len(todo)
                tasks.extend(todo)
                if not todo:
                    self.queue.append(('join', bag))
        tasks.sort(key=lambda t: (-t.size, t.name))
        self.queue.extend(('run', t) for t in tasks)

    def execute(self) -> Tuple[bool, int]:
        """Run until the queue is empty; return (interrupted, worker count)."""
        if not self.queue:
            return False, 0
        ray = _start_ray(self.options)
        try:
            actor_cls, count = _actor_class(ray, self.options)

            def make() -> Any:
                return actor_cls.remote(self.config, self.options.predictor,
                                        self.options.threads_per_worker)

            idle = [make() for _ in range(count)]
            try:
                ray.get([actor.ready.remote() for actor in idle])
            except ray.exceptions.RayError as err:
                raise FleetError(f'the workers could not start: {err}') from err
            busy = time.monotonic()
            self._loop(ray, idle, make)
            self.busy_s = time.monotonic() - busy
            return False, count
        except KeyboardInterrupt:
            return True, 0
        finally:
            self._draw(final=True)
            ray.shutdown()

    def _loop(self, ray: Any, idle: list, make: Any) -> None:
        inflight: Dict[Any, Tuple[Any, str, Any]] = {}
        while self.queue or inflight:
            while idle and self.queue:
                kind, item = self.queue.pop(0)
                actor = idle.pop()
                if kind == 'run':
                    ref = actor.run.remote(item, self.options.task)
                else:
                    shards = [self.manifest.records[t.name] for t in item.shards]
                    ref = actor.join.remote(item, shards)
                inflight[ref] = (actor, kind, item)
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            self._draw()
            for ref in ready:
                actor, kind, item = inflight.pop(ref)
                task = item if kind == 'run' else item.whole()
                try:
                    rec = ray.get(ref)
                    idle.append(actor)
                except ray.exceptions.RayError as err:
                    rec = record(task, FAILED, f'worker lost: {type(err).__name__}: {err}',
                                 None, 0.0)
                    ray.kill(actor)
                    idle.append(make())
                self._handle(kind, item, task, rec)

    def _handle(self, kind: str, item: Any, task: plan_lib.Task, rec: Dict[str, Any]) -> None:
        tries = self.attempts[task.name] = self.attempts.get(task.name, 0) + 1
        rec['attempts'] = tries
        if rec['status'] == FAILED and tries <= self.options.retries:
            self.queue.append((kind, item))
            return
        if kind == 'join' or task.shard is None:
            self._finish(rec)
            if kind == 'join' and rec['status'] == DONE and not self.options.task.keep_shards:
                _remove_shards(item)
            return
        self.manifest.add(rec)
        self.frames += rec.get('frames_out', 0)
        bag = next(p for p in self.plans if p.key == task.key)
        if rec['status'] == FAILED:
            if self.shards_left.pop(task.key, None) is not None:
                self._finish(record(bag.whole(), FAILED, f"shard {task.shard}: {rec['error']}",
                                    None, 0.0))
            return
        if task.key in self.shards_left:
            self.shards_left[task.key] -= 1
            if self.shards_left[task.key] == 0:
                del self.shards_left[task.key]
                self.queue.insert(0, ('join', bag))

    def _finish(self, rec: Dict[str, Any]) -> None:
        self.manifest.add(rec)
        self.finished += 1
        if rec.get('shard') is None and not rec.get('shards'):
            self.frames += rec.get('frames_out', 0)

    def _draw(self, final: bool = False) -> None:
        """Progress line: bags done of total, frames written, rate; redrawn on change or 10 s."""
        if self.stream is None:
            return
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        frac = self.finished / self.total if self.total else 1.0
        text = (f"[{'#' * int(frac * 30):<30}] {self.finished}/{self.total} bags"
                f'  {self.frames} frames')
        if not final and text == self._drawn[0] and now - self._drawn[1] < 10.0:
            return
        self._drawn = (text, now)
        self.stream.write(f'\r{text}  {self.frames / elapsed:6.2f} frames/s  {elapsed:7.1f} s'
                          + ('\n' if final else ''))
        self.stream.flush()


def _remove_shards(bag: plan_lib.BagPlan) -> None:
    """Remove a joined bag's shard outputs (the join is recorded; the fleet wrote them)."""
    for task in bag.shards:
        shutil.rmtree(task.output, ignore_errors=True)


def _start_ray(options: FleetOptions) -> Any:
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


def _actor_class(ray: Any, options: FleetOptions) -> Tuple[Any, int]:
    """The worker actor class with its resource request, and how many to start."""
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
    actor = ray.remote(Worker).options(num_cpus=options.cpus_per_worker, num_gpus=per_gpu,
                                       max_concurrency=1)
    return actor, count
