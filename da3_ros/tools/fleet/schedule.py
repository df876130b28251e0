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

"""The fleet's scheduling loop: one task in flight per worker, largest first, retries, joins.

Placement is Ray's (actors are placed by their resource request); this loop only hands each
idle worker the next task, so a worker that finishes early takes the next one, and it records
every result in the manifest. A failed task is retried ``retries`` times (a worker that died is
replaced), then recorded as failed; the others go on. When every shard of a bag is done, the
join of that bag goes to the front of the queue.
"""
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, TextIO, Tuple

from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.fleet import cluster
from da3_ros.tools.fleet import plan as plan_lib
from da3_ros.tools.fleet.manifest import DONE, FAILED, Manifest
from da3_ros.tools.fleet.options import FleetError, FleetOptions
from da3_ros.tools.fleet.work import record


class Scheduler:
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
        ray = cluster.start_ray(self.options)
        try:
            actor_cls, count = cluster.actor_class(ray, self.options)

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
