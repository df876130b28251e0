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

"""What a fleet run does: bags found under the inputs, their outputs, and time shards.

A *task* is one call of the single-bag tool: a whole bag, or one time shard of a bag
(``--shard-s``). Shard boundaries (*cuts*) are snapped to the middle of the gap between two
consecutive camera triggers, so no synchronised set straddles a cut and every output message
belongs to exactly one shard (by its stamp). A shard's input starts ``before_ns`` ahead of its
cut (to fill the window and to give the join an overlap to align on) and ends ``after_ns`` past
the next cut (``output_delay``); with ``scale_gain`` < 1 the overlap also covers the windows
over which the chained depth scale forgets where it started (:func:`scale_memory`).
"""
from dataclasses import dataclass, field, replace
import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from da3_ros.errors import Da3Error
from da3_ros.tools.bag.config import BagConfig

BAG_SUFFIXES = ('.mcap', '.db3')
PLAN_FILE = 'plan.json'  # shards/<key>/plan.json: the cuts of a sharded bag, fixed at first plan
ALIGN_SETS = 4  # sets of overlap beyond the window, for the join's alignment
SCALE_TOL = 1e-3  # relative depth-scale difference left at a cut when the scale carries history


class PlanError(Da3Error):
    """An input cannot be planned (no bags found, unreadable bag, too short to shard)."""


@dataclass(frozen=True)
class Task:
    """One run of the single-bag tool.

    Attributes:
        bag: input bag path.
        key: unique name of the bag in this fleet (output folder name).
        output: output folder of this task.
        size: input bytes (whole bag) or its share (shard), for largest-first scheduling.
        shard: shard index, or None for a whole bag.
        start_ns: first input log time of the shard (None: from the start).
        stop_ns: input log time the shard stops before (None: to the end).
        cut_ns: (own start, own end) of the shard's outputs by stamp.
    """

    bag: str
    key: str
    output: str
    size: int
    shard: Optional[int] = None
    start_ns: Optional[int] = None
    stop_ns: Optional[int] = None
    cut_ns: Tuple[int, int] = (0, 2 ** 63 - 1)

    @property
    def name(self) -> str:
        """Manifest key: the bag key, plus ``#<shard>`` for shards."""
        return self.key if self.shard is None else f'{self.key}#{self.shard:03d}'


@dataclass(frozen=True)
class BagPlan:
    """One input bag: its final output and, when sharded, its shard tasks."""

    bag: str
    key: str
    output: str
    size: int
    shards: Tuple[Task, ...] = ()
    error: str = ''

    def whole(self) -> Task:
        """Return the task that processes the bag in one piece."""
        return Task(self.bag, self.key, self.output, self.size)


@dataclass
class Discovery:
    """Bags found under the inputs and inputs that are not bags (with the reason)."""

    bags: List[Path] = field(default_factory=list)
    errors: Dict[str, str] = field(default_factory=dict)


def is_bag(path: Path) -> bool:
    """Return a rosbag2 folder (``metadata.yaml``) or a bare ``.mcap`` / ``.db3`` file."""
    return (path.is_dir() and (path / 'metadata.yaml').is_file()) or (
        path.is_file() and path.suffix in BAG_SUFFIXES)


def discover(inputs: Sequence[Path]) -> Discovery:
    """Bags named by ``inputs``: bags themselves, or folders searched recursively for bags."""
    found = Discovery()
    for raw in inputs:
        path = Path(raw)
        if is_bag(path) or not path.is_dir():
            found.bags.append(path)  # a missing path or a non-bag file: its task says why
            continue
        inner = [p for p in sorted(path.rglob('*')) if is_bag(p) and not any(
            (q / 'metadata.yaml').is_file()
            for q in p.parents[:len(p.relative_to(path).parts)])]
        if inner:
            found.bags.extend(inner)
        else:
            found.errors[str(path)] = 'no rosbag2 folder, .mcap or .db3 file found in it'
    return found


def bag_size(path: Path) -> int:
    """Bytes of a bag (a folder's files summed); 0 when missing."""
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob('*') if p.is_file())
    return 0


def keys(bags: Sequence[Path]) -> List[str]:
    """Output folder names: the bag's name, made unique with a hash of its path if needed."""
    names = [p.stem if p.suffix in BAG_SUFFIXES else p.name for p in bags]
    out = []
    for path, name in zip(bags, names):
        if names.count(name) > 1:
            name = f'{name}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}'
        out.append(name)
    return out


def plan(bags: Sequence[Path], out_dir: Path, config: BagConfig,
         shard_s: Optional[float] = None) -> List[BagPlan]:
    """One :class:`BagPlan` per bag (outputs under ``out_dir/bags``, shards under ``shards``)."""
    plans = []
    for path, key in zip(bags, keys(bags)):
        output = str(Path(out_dir) / 'bags' / key)
        bag = BagPlan(str(path), key, output, bag_size(path))
        if shard_s:
            try:
                shards = shard_tasks(bag, Path(out_dir), config, shard_s)
            except Da3Error:
                shards = ()  # runs whole: its task reports the error (and is retried)
            if len(shards) > 1:  # a bag shorter than two shards runs whole
                bag = BagPlan(bag.bag, key, output, bag.size, shards=shards)
        plans.append(settle(bag, Path(out_dir)))
    return plans


def settle(bag: BagPlan, out_dir: Path) -> BagPlan:
    """Fix a sharded bag's cuts on disk, or refuse a plan that an earlier run's outputs contradict.

    A resumed shard must read the same slice as before, and a bag is either sharded or whole
    across runs; otherwise its ``error`` says what differs (the task is recorded as failed).
    """
    home = out_dir / 'shards' / bag.key
    saved = home / PLAN_FILE
    mine = [[t.start_ns, t.stop_ns, t.cut_ns[0], t.cut_ns[1]] for t in bag.shards]
    if saved.is_file():
        if json.loads(saved.read_text()) != mine:
            return replace(bag, shards=(), error=(
                f'an earlier run cut {bag.key!r} into other shards (another --shard-s or'
                f' config); run with the same options, or remove {str(home)!r}'))
    elif bag.shards:
        if Path(bag.output).exists():
            return replace(bag, shards=(), error=(
                f'{bag.output!r} holds an unfinished whole-bag output of an earlier run; run'
                ' without --shard-s to resume it, or remove it'))
        home.mkdir(parents=True, exist_ok=True)
        tmp = saved.with_name(PLAN_FILE + '.tmp')
        tmp.write_text(json.dumps(mine) + '\n')
        os.replace(tmp, saved)
    return bag


def shard_tasks(bag: BagPlan, out_dir: Path, config: BagConfig,
                shard_s: float) -> Tuple[Task, ...]:
    """Time shards of ``bag`` (one when it is shorter than two shards; the last takes the rest).

    Raises:
        PlanError: the bag cannot be opened or has fewer than two camera triggers.
    """
    from da3_ros.tools.bag.io import InputBag
    with InputBag(Path(bag.bag)) as reader:
        topics = [cam.image_topic for cam in config.engine.cameras]
        reader.require(topics, 'camera image')
        start, end = int(reader.reader.start_time), int(reader.reader.end_time) + 1
        images = reader.reader.topics[topics[0]].msgcount
        if images < 2:
            raise PlanError(f'bag {bag.bag!r} has {images} image(s) on {topics[0]}: too short'
                            ' to shard')
        period = (end - start) / (images - 1)
        count = max(int((end - start) // int(shard_s * 1e9)), 1)
        cuts = [start] + [_snap(reader, topics, start + int(k * shard_s * 1e9), period)
                          for k in range(1, count)] + [end]
    window = config.engine.window
    sets = (window.length - 1) * window.stride + 1 + ALIGN_SETS + scale_memory(config)
    before = int(sets * period)
    after = int((window.output_delay * window.stride + 1) * period)
    share = bag.size // count
    cuts[0], cuts[-1] = 0, 2 ** 63 - 1  # the first and last shards own everything outside
    return tuple(Task(bag.bag, bag.key, str(out_dir / 'shards' / bag.key / f'shard_{k:03d}'),
                      share, k, None if k == 0 else cuts[k] - before,
                      None if k == count - 1 else cuts[k + 1] + after, (cuts[k], cuts[k + 1]))
                 for k in range(count))


def scale_memory(config: BagConfig) -> int:
    """Windows after which a shard's chained depth scale is within ``SCALE_TOL`` of the run's.

    With ``scale_gain`` g < 1 each window's scale is the geometric blend
    ``abs^g * chained^(1-g)``, so a different starting scale fades as ``(1 - g)^n``; with g = 1
    (re-anchored at every window) or no absolute source, nothing is carried over the cut (a
    relative chain's scale is fitted by the join instead).
    """
    import math
    window = config.engine.window
    if window.scale_source == 'none' or window.scale_gain >= 1.0:
        return 0
    return math.ceil(math.log(SCALE_TOL) / math.log(1.0 - window.scale_gain)) * window.stride


def _snap(reader, topics: Sequence[str], nominal: int, period: float) -> int:
    """Get the middle of the widest gap between camera images within one period of ``nominal``."""
    conns = [c for c in reader.reader.connections if c.topic in topics]
    lo, hi = nominal - int(period), nominal + int(period)
    found = reader.reader.messages(connections=conns, start=lo, stop=hi)
    times = sorted(int(t) for _, t, _ in found)
    if len(times) < 2:
        return nominal
    gaps = [(b - a, a, b) for a, b in zip(times, times[1:])]
    _, a, b = max(gaps)
    return (a + b) // 2 + 1
