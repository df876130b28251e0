"""Offline bag processing: ``python -m da3_ros.tools.bag process IN OUT [options]`` (``da3_bag``).

Reads a rosbag2 (sqlite3 or mcap folder, or a bare ``.mcap``/``.db3``) with ``rosbags``, runs the
node's synchronisation, conversion and engine on every synchronised set, and writes OUT, a
rosbag2 folder of mcap segments (see ``bag_writer``), with the node's output topics, optionally
the input topics, and ``/diagnostics``. Deterministic for the same input, weights and config
on the same device and torch thread count (up to the wall-clock timings in ``/diagnostics``
and ``RigStep.inference_ms``). Ctrl-C stops after the current set and leaves a readable OUT;
``--resume`` continues without duplicates, at the thread count of the run it continues.

Also: ``python -m da3_ros.tools.bag record OUT`` renders the sample recording, and
``python -m da3_ros.tools.bag fleet --out DIR BAG_OR_DIR...`` processes many bags on Ray
(``da3_ros.tools.fleet``, docs/fleet.md).
"""
import argparse
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
from da3_ros.tools import bag_config, bag_output, bag_settings
from da3_ros.tools.bag_config import BagConfig
from da3_ros.tools.bag_eval import format_report, write_report
from da3_ros.tools.bag_io import BagError, InputBag
from da3_ros.tools.bag_process import Pipeline
from da3_ros.tools.bag_summary import Progress, Summary
from da3_ros.tools.bag_writer import SegmentedWriter

LOG = logging.getLogger(__name__)
EVAL_FILE = 'eval.json'
TRANSPORT_TYPES = {'raw': 'sensor_msgs/msg/Image',
                   'compressed': 'sensor_msgs/msg/CompressedImage'}


def build_engine(config: BagConfig, predictor: Optional[Any] = None) -> Any:
    """The engine of ``config`` (placeholder weights words as ``build_predictor`` reads them).

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


def _resolve_config(config: Union[BagConfig, str, Path, None]) -> BagConfig:
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
        overwrite: replace an earlier da3_bag output (``bag_output``: written beside, swapped).
        split_sets: sets per committed segment (the most a SIGKILL can lose).
        predictor: replace the network (tests).
        render_offset: ``x,y,z,yaw`` or a path file: what-if camera images (``bag_novel``).
        export_gs: folder for one 3DGS PLY per output set (``bag_novel``).

    Raises:
        BagError: unreadable input, missing topics, an output that may not be written, a resume
            state that is corrupt or from other settings, an I/O error (disk full).
        ConfigError: invalid configuration.
        WeightsError: a checkpoint that cannot be loaded.
    """
    from da3_ros.engine.predictor import with_device
    started = time.monotonic()
    cfg = _resolve_config(config)
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
    """The NovelViews of the options, or None when neither is given."""
    if render_offset is None and export_gs is None:
        return None
    from da3_ros.tools.bag_novel import NovelViews, parse_offset
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
            writer.write(topic, msgtype, _log_time(msg), data)
        pipe.summary.messages_written += len(serialised)
        pipe.summary.add_timings({'write': (time.perf_counter() - started) * 1e3})
        pipe.set_written()
        done += 1
    return done


def _log_time(msg: Any) -> int:
    from da3_ros.ros.messages.tf_msgs import stamp_to_ns
    header = getattr(msg, 'header', None)
    if header is None and getattr(msg, 'transforms', None):
        header = msg.transforms[0].header
    return stamp_to_ns(header.stamp) if header is not None else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='da3_bag', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
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
            config = bag_config.with_model(_resolve_config(config), args.weights, args.variant,
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


if __name__ == '__main__':
    sys.exit(main())
