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

"""``DIR/fleet.jsonl``: one JSON object per bag or shard, the fleet's record of what is done.

Records are appended (one ``write`` + ``fsync`` per line), so a killed driver leaves at most a
torn last line, which reading skips. The newest record of a name wins; :meth:`Manifest.compact`
rewrites the file atomically with one record per name at the end of a run.

Record fields: ``name`` (bag key, ``<key>#<shard>`` for shards), ``bag`` (input path), ``shard``
(index or null), ``status`` (``done`` or ``failed``), ``error``, ``attempts``, ``output``,
``frames_in`` / ``frames_out`` (synchronised sets read / written), ``drops`` (reason -> count,
by kind), ``messages_written``, ``wall_s``, ``gpu_s`` (model forward time), ``eval`` (the
``--eval`` report or null), ``timings_s`` (seconds per pipeline stage), ``worker`` and
``finished`` (UTC time). A joined bag adds ``shards`` and ``alignment`` (per shard: poses shared
with the chain, fitted scale, RMS of the fit).
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List

MANIFEST_FILE = 'fleet.jsonl'
DONE, FAILED = 'done', 'failed'


class Manifest:
    """The manifest of one fleet output folder.

    Args:
        folder: the fleet output folder (``DIR``).
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / MANIFEST_FILE
        self.records: Dict[str, Dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line torn by a kill
                if isinstance(record, dict) and 'name' in record:
                    self.records[record['name']] = record

    def done(self, name: str) -> bool:
        """Whether ``name`` finished (and its output folder is still there).

        A shard's output is removed once its bag is joined; the bag's record then counts.
        """
        record = self.records.get(name)
        return bool(record and record.get('status') == DONE
                    and Path(record.get('output', '')).is_dir())

    def add(self, record: Dict[str, Any]) -> None:
        """Append one record (durably) and make it the current one of its name."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True, default=str) + '\n'
        with open(self.path, 'a') as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self.records[record['name']] = record

    def compact(self, names: Iterable[str]) -> None:
        """Rewrite the file with the current record of each of ``names`` (in that order)."""
        lines = [json.dumps(self.records[n], sort_keys=True, default=str)
                 for n in names if n in self.records]
        tmp = self.path.with_name(self.path.name + '.tmp')
        with open(tmp, 'w') as handle:
            handle.write(''.join(line + '\n' for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def current(self, names: Iterable[str]) -> List[Dict[str, Any]]:
        """Return current records of ``names`` that have one."""
        return [self.records[n] for n in names if n in self.records]


def table(records: List[Dict[str, Any]]) -> str:
    """Return the final summary table: one row per bag or shard, then totals."""
    lines = [f"{'bag':<32} {'status':<7} {'frames in':>9} {'out':>6} {'wall s':>8}"
             f" {'gpu s':>7}  error"]
    for rec in records:
        error = (rec.get('error') or '').replace('\n', ' ')
        lines.append(f"{rec['name'][:32]:<32} {rec['status']:<7} {rec.get('frames_in', 0):>9}"
                     f" {rec.get('frames_out', 0):>6} {rec.get('wall_s', 0.0):>8.1f}"
                     f" {rec.get('gpu_s', 0.0):>7.1f}  {error[:120]}")
    done = sum(r['status'] == DONE for r in records)
    lines.append(f'{done} done, {len(records) - done} failed;'
                 f" {sum(r.get('frames_out', 0) for r in records)} frames written")
    return '\n'.join(lines)
