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

"""Offline bag processing: :func:`process_bag` behind ``da3_bag process IN OUT`` (``cli``).

Reads a rosbag2 (sqlite3 or mcap folder, or a bare ``.mcap``/``.db3``) with ``rosbags``, runs the
node's synchronisation, conversion and engine on every synchronised set, and writes OUT, a
rosbag2 folder of mcap segments (see ``writer``), with the node's output topics, optionally
the input topics, and ``/diagnostics``. Deterministic for the same input, weights and config
on the same device and torch thread count (up to the wall-clock timings in ``/diagnostics``
and ``RigStep.inference_ms``). Ctrl-C stops after the current set and leaves a readable OUT;
``--resume`` continues without duplicates, at the thread count of the run it continues.
"""
from contextlib import contextmanager
from dataclasses import replace
import logging
import os
from pathlib import Path
import signal
import sys
import threading
import time
from typing import Any, Iterator, Optional, Union

from da3_ros.config import placeholder_notice
from da3_ros.errors import ConfigError, Da3Error
from da3_ros.tools.bag import config as bag_config, output as bag_output, settings as bag_settings
from da3_ros.tools.bag.config import BagConfig
from da3_ros.tools.bag.evaluation import write_report
from da3_ros.tools.bag.io import BagError, InputBag
from da3_ros.tools.bag.pipeline import Pipeline
from da3_ros.tools.bag.summary import Progress, Summary
from da3_ros.tools.bag.writer import SegmentedWriter

LOG = logging.getLogger(__name__)
EVAL_FILE = 'eval.json'
TRANSPORT_TYPES = {'raw': 'sensor_msgs/msg/Image',
                   'compressed': 'sensor_msgs/msg/CompressedImage'}


def build_engine(config: BagConfig, predictor: Optional[Any] = None) -> Any:
    """Get the engine of ``config`` (placeholder weights words as ``build_predictor`` reads them).

    Raises:
        ConfigError: torch cannot build the model (out of memory, a missing backend).
        WeightsError: the checkpoint cannot be loaded.
    """
    from da3_ros.engine.engine import Engine
    from da3_ros.engine.predictor import build_predictor
    try:
        if predictor is None:
            predictor = build_predictor(config.engine.model)
        return Engine(config.engine, predictor)
    except (RuntimeError, AssertionError, MemoryError) as err:  # torch: no memory, no backend
        model = config.engine.model
        raise ConfigError(f'model: cannot build {model.variant} on {model.device}:'
                          f' {type(err).__name__}: {err}') from err


def check_transports(bag: InputBag, config: BagConfig) -> None:
    """Raise BagError when a camera topic's type does not match its configured transport."""
    for index, cam in enumerate(config.engine.cameras):
        transport = config.transport(index)
        expected = TRANSPORT_TYPES[transport]
        found = bag.topics[cam.image_topic]
        if found != expected:
            raise BagError(f'camera {cam.name!r}: {cam.image_topic} is {found}, but transport'
                           f' {transport!r} reads {expected}')


def resolve_config(config: Union[BagConfig, str, Path, None]) -> BagConfig:
    if isinstance(config, BagConfig):
        return config.validate()
    return bag_config.load_config(Path(config or 'config/multi_cam.yaml'))


class _StopFlag:
    """Turns SIGINT into a flag checked between sets (main thread only)."""

    def __init__(self) -> None:
        self.stop = False
        self._old = None

    def __enter__(self) -> '_StopFlag':
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_: object) -> None:
        self.stop = True

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


class _TorchThreads:
    """Runs a resumed output at the torch CPU thread count of the run it continues.

    Float reductions split across threads round differently, so the same input gives bit-identical
    output only at the same thread count; a resume at another count would join two different
    numerical runs in one bag.
    """

    def __init__(self) -> None:
        self._saved: Optional[int] = None

    def match(self, threads: Optional[int]) -> None:
        import torch
        current = torch.get_num_threads()
        if threads and threads != current:
            LOG.info('--resume: torch threads %d -> %d (as in the interrupted run)', current,
                     threads)
            self._saved = current
            torch.set_num_threads(threads)

    def restore(self) -> None:
        if self._saved is not None:
            import torch
            torch.set_num_threads(self._saved)
            self._saved = None


def process_bag(in_path: Union[str, Path], out_path: Union[str, Path],
                config: Union[BagConfig, str, Path, None] = None, *,
                eval: bool = False,  # noqa: A002 - the CLI flag's name
                resume: bool = False, progress: bool = True, passthrough: bool = False,
                overwrite: bool = False, split_sets: int = 10,
                predictor: Optional[Any] = None, render_offset: Optional[str] = None,
                export_gs: Optional[Path] = None) -> Summary:
    """Process a bag offline; see the module docstring.

    Args:
        in_path: input bag.
        out_path: output bag folder (never the input, inside it or containing it).
        config: a BagConfig, or the node's params file (default ``config/multi_cam.yaml``).
        eval: compare with ground truth in the bag; report in ``Summary.evaluation`` and
            ``OUT/eval.json``.
        resume: continue an interrupted output (the same settings, checked).
        progress: draw a progress bar on stderr.
        passthrough: copy the input topics into the output.
        overwrite: replace an earlier da3_bag output (``output``: written beside, swapped).
        split_sets: sets per committed segment (the most a SIGKILL can lose).
        predictor: replace the network (tests).
        render_offset: ``x,y,z,yaw`` or a path file: what-if camera images (``novel``).
        export_gs: folder for one 3DGS PLY per output set (``novel``).

    Raises:
        BagError: unreadable input, missing topics, an output that may not be written, a resume
            state that is corrupt or from other settings, an I/O error (disk full).
        ConfigError: invalid configuration.
        WeightsError: a checkpoint that cannot be loaded.
    """
    from da3_ros.engine.predictor import with_device
    started = time.monotonic()
    cfg = resolve_config(config)
    novel = _novel_views(render_offset, export_gs, resume)
    if novel is not None:
        cfg = _with_gaussians(cfg)
    cfg = replace(cfg, engine=replace(cfg.engine, model=with_device(cfg.engine.model)))
    out = Path(out_path)
    bag_output.recover(out)
    bag_output.check_separate(Path(in_path), out)
    threads = _TorchThreads()
    with InputBag(Path(in_path)) as bag:
        cams = cfg.engine.cameras
        bag.require([c.image_topic for c in cams], 'camera image')
        bag.require([cfg.info_topic(c) for c in cams], 'CameraInfo')
        check_transports(bag, cfg)
        target = out
        if overwrite and not resume and not bag_output.is_empty(out):
            target = bag_output.prepare_overwrite(out)
        settings = bag_settings.run_settings(cfg, predictor)
        with _io_errors(target):
            writer = SegmentedWriter(target, bag.store, resume=resume, name=out.name)
        pipe = Pipeline(cfg, bag, writer, build_engine(cfg, predictor), evaluate=eval)
        pipe.novel = novel
        pipe.settings = settings
        if resume:
            state = writer.load_state()
            bag_settings.check(out, state.get('settings', {}), settings)
            pipe.restore(state)
            threads.match(state.get('torch_threads'))
        notice = placeholder_notice(cfg.engine.model.weights)
        if notice and notice not in pipe.summary.warnings:
            pipe.summary.warnings.append(notice)
            LOG.warning(notice)
        total = bag.reader.topics[cams[0].image_topic].msgcount
        bar = Progress(total, sys.stderr if progress else None)
        try:
            with _StopFlag() as flag, _io_errors(target):
                try:
                    _run(pipe, bag, writer, bar, flag, passthrough, split_sets)
                except Da3Error:  # raised between sets (bad input): what is done is complete
                    writer.commit(pipe.snapshot())
                    raise
                except BaseException:  # noqa: B902 - maybe mid-set (disk full): keep last commit
                    writer.abandon()
                    raise
                writer.commit(pipe.snapshot())
                bar.update(pipe.summary.sets_total)
                pipe.summary.interrupted = flag.stop
        finally:
            threads.restore()
            bar.close()
            pipe.summary.wall_s += time.monotonic() - started
            pipe.summary.output = str(out_path)
            pipe.summary.sync_drops = {f'{k[0]}: {k[1]}': v for k, v in pipe.sync.drops.items()}
            pipe.summary.sync_drops.update(pipe.tf_rejected)
    with _io_errors(target):
        if pipe.evaluator is not None:
            pipe.summary.evaluation = pipe.evaluator.report()
            write_report(pipe.summary.evaluation, target / EVAL_FILE)
        if target != out:
            bag_output.swap(target, out)
    return pipe.summary


def _novel_views(render_offset: Optional[str], export_gs: Optional[Path], resume: bool):
    """Return the NovelViews of the options, or None when neither is given."""
    if render_offset is None and export_gs is None:
        return None
    from da3_ros.tools.bag.novel import NovelViews, parse_offset
    novel = NovelViews(offset=None if render_offset is None else parse_offset(render_offset),
                       export_dir=None if export_gs is None else Path(export_gs))
    if not resume:
        novel.prepare()
    elif novel.export_dir is not None:
        novel.export_dir.mkdir(parents=True, exist_ok=True)
    return novel


def _with_gaussians(cfg: BagConfig) -> BagConfig:
    """``cfg`` with ``output.gaussians`` on (what-if views and the export need them)."""
    import dataclasses
    output = dataclasses.replace(cfg.engine.output, gaussians=True)
    return dataclasses.replace(cfg, engine=dataclasses.replace(cfg.engine, output=output))


@contextmanager
def _io_errors(folder: Path) -> Iterator[None]:
    """Turn an OSError while writing ``folder`` (disk full, permissions) into a BagError."""
    try:
        yield
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise BagError(f'cannot write {str(folder)!r}: {reason} ({type(err).__name__}:'
                       f' {err}); what was committed is kept: free space, then --resume'
                       ) from err


def _run(pipe: Pipeline, bag: InputBag, writer: SegmentedWriter, bar: Progress,
         flag: _StopFlag, passthrough: bool, split_sets: int) -> None:
    pending = 0
    for message in bag.messages():
        if flag.stop:
            return
        sets = pipe.feed(message)
        if passthrough and message.index > pipe.resume_index:
            writer.write(message.topic, message.msgtype, message.time_ns, message.raw)
        pipe.input_written(message.index)
        pending += _write_sets(pipe, writer, sets)
        bar.update(pipe.summary.sets_total)
        if pending >= split_sets:
            writer.commit(pipe.snapshot())
            pending = 0
    _write_sets(pipe, writer, pipe.flush())


def _write_sets(pipe: Pipeline, writer: SegmentedWriter, sets: list) -> int:
    done = 0
    for synced in sets:
        out = pipe.handle(synced)
        if out is None:
            continue
        started = time.perf_counter()
        serialised = [(topic, msg.__msgtype__, writer.store.serialize_cdr(msg, msg.__msgtype__),
                       msg) for topic, msg in out]
        for topic, msgtype, data, msg in serialised:
            writer.write(topic, msgtype, log_time(msg), data)
        pipe.summary.messages_written += len(serialised)
        pipe.summary.add_timings({'write': (time.perf_counter() - started) * 1e3})
        pipe.set_written()
        done += 1
    return done


def log_time(msg: Any) -> int:
    """Log time (ns) of an output message: its header stamp, a TF message's first, else 0."""
    from da3_ros.ros.messages.tf_msgs import stamp_to_ns
    header = getattr(msg, 'header', None)
    if header is None and getattr(msg, 'transforms', None):
        header = msg.transforms[0].header
    return stamp_to_ns(header.stamp) if header is not None else 0
