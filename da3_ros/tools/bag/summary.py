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

"""Run summary and progress bar (tqdm's) of the bag tool."""
from dataclasses import dataclass, field
import sys
from typing import Any, Dict, Optional, TextIO

from tqdm import tqdm


def _bump(counter: Dict[str, int], key: str, by: int = 1) -> None:
    counter[key] = counter.get(key, 0) + by


@dataclass
class Summary:
    """What a run did (cumulative over ``--resume`` runs).

    Attributes:
        output: the output bag folder.
        sets_total: synchronised sets seen in the input.
        sets_processed: sets given to the engine.
        sets_output: sets whose result was written.
        sets_resumed: sets already in the output (skipped by ``--resume``).
        skipped: reason -> sets not given to the engine, or failed in it.
        no_output: reason -> sets the engine took without a result (window filling, stride).
        camera_errors: '<camera>: <reason>' -> count of cameras left out of a processed set.
        sync_drops: '<input>: <reason>' -> messages the synchroniser did not use.
        timings_ms: engine stage -> total milliseconds (plus 'decode' and 'write').
        messages_written: output messages (excluding passed-through input).
        wall_s: wall time of the runs.
        interrupted: the last run stopped early (Ctrl-C); ``--resume`` continues it.
        warnings: things a person must know (e.g. meaningless random weights).
        evaluation: the ``--eval`` report, or None.
    """

    output: str = ''
    sets_total: int = 0
    sets_processed: int = 0
    sets_output: int = 0
    sets_resumed: int = 0
    skipped: Dict[str, int] = field(default_factory=dict)
    no_output: Dict[str, int] = field(default_factory=dict)
    camera_errors: Dict[str, int] = field(default_factory=dict)
    sync_drops: Dict[str, int] = field(default_factory=dict)
    timings_ms: Dict[str, float] = field(default_factory=dict)
    messages_written: int = 0
    wall_s: float = 0.0
    interrupted: bool = False
    warnings: list = field(default_factory=list)
    evaluation: Optional[Dict[str, Any]] = None

    def skip(self, reason: str) -> None:
        """Count one set skipped for ``reason``."""
        _bump(self.skipped, reason)

    def add_timings(self, timings: Dict[str, float]) -> None:
        """Accumulate per-stage milliseconds."""
        for stage, ms in timings.items():
            self.timings_ms[stage] = self.timings_ms.get(stage, 0.0) + float(ms)

    def text(self) -> str:
        """Multi-line human-readable summary."""
        state = 'INTERRUPTED (continue with --resume)' if self.interrupted else 'done'
        lines = [f'da3_bag {state}: {self.output}',
                 f'  sets: {self.sets_total} synchronised, {self.sets_processed} processed,'
                 f' {self.sets_output} written, {self.sets_resumed} already in the output,'
                 f' {sum(self.skipped.values())} skipped',
                 f'  messages written: {self.messages_written}; wall time {self.wall_s:.1f} s']
        for title, counter in (('skipped', self.skipped), ('no result', self.no_output),
                               ('camera left out', self.camera_errors),
                               ('sync dropped', self.sync_drops)):
            for reason, count in sorted(counter.items()):
                lines.append(f'  {title}: {reason} (x{count})')
        runs = max(self.sets_processed, 1)
        for stage, total in sorted(self.timings_ms.items()):
            lines.append(f'  time {stage:<12} {total / runs:9.1f} ms/set  {total / 1e3:8.2f} s')
        lines.extend(f'  WARNING: {w}' for w in self.warnings)
        return '\n'.join(lines)


class Progress:
    """The bag tool's progress bar: a tqdm bar of sets done, with rate and ETA.

    Args:
        total: expected number of sets (0 when unknown: count and rate only).
        stream: where to draw (default stderr); None disables drawing.
        min_interval_s: redraw at most this often.
    """

    def __init__(self, total: int, stream: Optional[TextIO] = sys.stderr, *,
                 min_interval_s: float = 0.2) -> None:
        self.done = 0
        self._bar = tqdm(total=int(total) or None, file=stream, disable=stream is None,
                         unit='set', mininterval=min_interval_s, dynamic_ncols=True)

    def update(self, done: int, note: str = '') -> None:
        """Set the number of sets done (and an optional note after the bar)."""
        if self._bar.total is not None and done > self._bar.total:
            self._bar.total = done
        self._bar.update(done - self.done)
        self.done = done
        if note:
            self._bar.set_postfix_str(note, refresh=False)

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._bar.close()
