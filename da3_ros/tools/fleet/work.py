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

"""What a fleet worker does with one task: slice a shard's input, run the single-bag tool.

Everything here is plain Python (no ``ray``): the driver's actors call :func:`run_task` and
:func:`build_predictor`, and so can a test or another scheduler. Each task writes its own output
folder with the single-bag tool's crash-safe writer; a task whose output already holds committed
segments (``metadata.yaml`` is written at each commit) continues it with ``--resume``.
"""
from dataclasses import dataclass
import datetime
import os
from pathlib import Path
import shutil
import socket
import time
from typing import Any, Dict, Optional

from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.fleet.manifest import DONE, FAILED
from da3_ros.tools.fleet.plan import Task

METADATA_FILE = 'metadata.yaml'  # rosbag2's name; the writer rewrites it at every commit
SLICE_MARK = '.da3_fleet_slice'  # a folder holding it was written by the fleet (may be removed)
SLICE_DONE = 'complete'
TF_LEAD_NS = 2_000_000_000  # /tf read ahead of a shard's input, for interpolation
STATIC_TOPICS = ('/tf_static',)


@dataclass(frozen=True)
class TaskOptions:
    """Options of the single-bag tool that every task of a fleet shares."""

    eval: bool = False  # noqa: A003 - the CLI flag's name
    passthrough: bool = False
    split_sets: int = 10
    keep_slices: bool = False
    keep_shards: bool = False


@dataclass(frozen=True)
class PredictorSpec:
    """How a worker builds its predictor once: the config's model, or a stand-in (benchmark).

    Attributes:
        stand_in_ms: fixed latency (ms) of :class:`standin.StandInPredictor`; None: the model.
    """

    stand_in_ms: Optional[float] = None

    def build(self, config: BagConfig) -> Any:
        """Get the predictor every task of this worker shares (the model is loaded here, once)."""
        if self.stand_in_ms is not None:
            from da3_ros.tools.fleet.standin import StandInPredictor
            return StandInPredictor(self.stand_in_ms / 1e3)
        from da3_ros.tools.bag.process import build_engine
        return build_engine(config).predictor


def slice_folder(task: Task) -> Path:
    """Where the input of shard ``task`` is written."""
    return Path(task.output).with_name(Path(task.output).name + '.input')


def ensure_slice(task: Task) -> Path:
    """Return the input bag of shard ``task`` (written once; a partial one from a kill is redone).

    The slice holds every ``/tf_static`` message, ``/tf`` from ``TF_LEAD_NS`` ahead, and every
    other message with log time in ``[start_ns, stop_ns)``, as raw CDR (nothing is decoded).
    """
    folder = slice_folder(task)
    bag = folder / 'bag'
    if (folder / SLICE_DONE).is_file():
        return bag
    if folder.exists():
        if not (folder / SLICE_MARK).is_file():
            from da3_ros.tools.bag.io import BagError
            raise BagError(f'{str(folder)!r} exists and was not written by the fleet')
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / SLICE_MARK).write_text('shard input written by da3_bag fleet\n')
    _write_slice(task, bag)
    (folder / SLICE_DONE).write_text('')
    return bag


def _write_slice(task: Task, out: Path) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer

    from da3_ros.tools.bag.io import BagError, InputBag
    start = task.start_ns or 0
    lead = max(start - TF_LEAD_NS, 0)
    with InputBag(Path(task.bag)) as bag, Writer(out, version=9,
                                                 storage_plugin=StoragePlugin.MCAP) as writer:
        conns, out_conns = bag.reader.connections, {}
        for conn in conns:
            if conn.topic not in out_conns:
                qos = getattr(conn.ext, 'offered_qos_profiles', ())
                out_conns[conn.topic] = writer.add_connection(
                    conn.topic, conn.msgtype, typestore=bag.store, offered_qos_profiles=qos)
        static = [c for c in conns if c.topic in STATIC_TOPICS]
        try:
            for conn, time_ns, raw in bag.reader.messages(connections=static, stop=lead):
                writer.write(out_conns[conn.topic], time_ns, raw)
            for conn, time_ns, raw in bag.reader.messages(connections=conns, start=lead,
                                                          stop=task.stop_ns):
                if time_ns >= start or conn.topic in STATIC_TOPICS + ('/tf',):
                    writer.write(out_conns[conn.topic], time_ns, raw)
        except Exception as err:  # noqa: B902 - storage plugins raise many unrelated types
            raise BagError(f'bag {task.bag!r} is unreadable (truncated or corrupt):'
                           f' {type(err).__name__}: {err}') from err


def run_task(task: Task, config: BagConfig, predictor: Any, options: TaskOptions
             ) -> Dict[str, Any]:
    """Process one bag or shard into ``task.output``; return its manifest record.

    Failures are returned as a record with status ``failed`` and the error, never raised.
    """
    started = time.monotonic()
    try:
        summary = _process(task, config, predictor, options)
    except Exception as err:  # noqa: B902 - one bad bag must not stop the fleet
        return record(task, FAILED, f'{type(err).__name__}: {err}', None,
                      time.monotonic() - started)
    if summary.interrupted:
        return record(task, FAILED, 'interrupted', summary, time.monotonic() - started)
    if task.shard is not None and not options.keep_slices:
        shutil.rmtree(slice_folder(task))
    return record(task, DONE, '', summary, time.monotonic() - started)


def _process(task: Task, config: BagConfig, predictor: Any, options: TaskOptions) -> Any:
    from da3_ros.tools.bag.process import process_bag
    source = ensure_slice(task) if task.shard is not None else Path(task.bag)
    out = Path(task.output)
    resume = (out / METADATA_FILE).is_file()
    return process_bag(source, out, config, eval=options.eval, resume=resume,
                       overwrite=not resume, progress=False, passthrough=options.passthrough,
                       split_sets=options.split_sets, predictor=predictor)


def record(task: Task, status: str, error: str, summary: Any, wall_s: float) -> Dict[str, Any]:
    """Return the manifest record of one finished attempt (``manifest`` module docstring)."""
    rec: Dict[str, Any] = {
        'name': task.name, 'bag': task.bag, 'shard': task.shard, 'status': status,
        'error': error, 'output': task.output, 'frames_in': 0, 'frames_out': 0, 'drops': {},
        'messages_written': 0, 'wall_s': round(wall_s, 3), 'gpu_s': 0.0, 'eval': None,
        'worker': f'{socket.gethostname()}:{os.getpid()}',
        'finished': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
    if summary is not None:
        rec.update(frames_in=summary.sets_total, frames_out=summary.sets_output,
                   wall_s=round(summary.wall_s, 3),  # all runs of a resumed output
                   messages_written=summary.messages_written,
                   gpu_s=round(summary.timings_ms.get('forward', 0.0) / 1e3, 3),
                   timings_s={k: round(v / 1e3, 3) for k, v in summary.timings_ms.items()},
                   eval=summary.evaluation,
                   drops={'skipped': summary.skipped, 'sync': summary.sync_drops,
                          'camera': summary.camera_errors, 'no_output': summary.no_output})
    return rec
