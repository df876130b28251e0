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

"""Whose folder is OUT: the output marker, the refusals, and the atomic ``--overwrite`` swap.

Every output folder the bag tool creates holds :data:`MARKER_FILE` from its first moment, and
only files whose names the tool writes (:data:`OWN_FILES`). ``--overwrite`` replaces a folder
only when it has the marker and nothing else than such files, and never the input bag, a folder
inside it or a folder that contains it. Anything else is refused with the folder named, before
a byte is touched: the tool never deletes what it did not write.

The replacement is written beside the old output, in ``.<OUT>.da3_bag-new``, and swapped in
only when its run has ended (finished, or stopped with Ctrl-C: a resumable output):

1. rename ``OUT`` to ``.<OUT>.da3_bag-old``;
2. rename ``.<OUT>.da3_bag-new`` to ``OUT``;
3. delete ``.<OUT>.da3_bag-old`` file by file (its files are checked to be the tool's own).

A crash before step 1 leaves OUT as it was (the next ``--overwrite`` clears the half-written
new folder); a crash after step 1 is completed by :func:`recover`, which every run calls first:
with the old folder present the new one is complete, so it is renamed into place. POSIX has no
portable exchange of two directories, hence the roll-forward.
"""
import json
import os
from pathlib import Path
import re
from typing import Optional

from da3_ros.tools.bag.io import BagError

MARKER_FILE = 'da3_bag.json'
MARKER = {'tool': 'da3_bag', 'format': 1}
OWN_FILES = re.compile(r'^(da3_bag\.json|metadata\.yaml|resume\.json|resume-\d+\.npz|eval\.json|'
                       r'.+_\d+\.mcap)(\.tmp)?$')
NEW_SUFFIX, OLD_SUFFIX = '.da3_bag-new', '.da3_bag-old'


def staging(out: Path) -> Path:
    """Return the folder a replacement of ``out`` is written into."""
    return out.parent / f'.{out.name}{NEW_SUFFIX}'


def retired(out: Path) -> Path:
    """Where ``out`` waits between the two renames of the swap."""
    return out.parent / f'.{out.name}{OLD_SUFFIX}'


def write_marker(folder: Path) -> None:
    """Create ``folder`` (parents too) with the marker as its first file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MARKER_FILE
    if not path.exists():
        path.write_text(json.dumps(MARKER) + '\n')


def is_empty(folder: Path) -> bool:
    """Return True when ``folder`` does not exist or holds nothing but the marker.

    A marker alone is a run that stopped before writing anything (e.g. its model did not load).
    """
    if not folder.exists():
        return True
    return folder.is_dir() and not folder.is_symlink() and all(
        entry.name == MARKER_FILE and entry.is_file() for entry in folder.iterdir())


def marker_problem(folder: Path) -> Optional[str]:
    """Why ``folder`` lacks a valid da3_bag marker (None when it has one)."""
    if folder.is_symlink() or not folder.is_dir():
        return 'it is not a folder'
    try:
        owned = json.loads((folder / MARKER_FILE).read_text()).get('tool') == MARKER['tool']
    except (OSError, ValueError, AttributeError):
        owned = False
    return None if owned else f'it has no da3_bag output marker ({MARKER_FILE})'


def foreign_entry(folder: Path) -> Optional[str]:
    """Why ``folder`` is not recognisably a da3_bag output (None when it is one)."""
    problem = marker_problem(folder)
    if problem is not None:
        return problem
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or not entry.is_file() or not OWN_FILES.match(entry.name):
            return f'it holds {entry.name!r}, which da3_bag does not write'
    return None


def check_owned(folder: Path, action: str) -> None:
    """Raise BagError naming ``folder`` unless it is an untouched da3_bag output."""
    reason = foreign_entry(folder)
    if reason is not None:
        raise BagError(f'will not {action} {str(folder)!r}: {reason}; da3_bag only replaces its'
                       ' own output folders (choose another output folder)')


def check_separate(in_path: Path, out: Path) -> None:
    """Raise BagError when ``out`` is the input, inside it, or contains it."""
    src, dst = Path(in_path).resolve(), Path(out).resolve()
    if src == dst or src in dst.parents or dst in src.parents:
        relation = ('is the input bag' if src == dst else 'is inside the input bag'
                    if src in dst.parents else 'contains the input bag')
        raise BagError(f'output {str(out)!r} {relation} {str(in_path)!r}; choose a separate'
                       ' output folder')


def remove_owned(folder: Path) -> None:
    """Delete a da3_bag output folder file by file (checked first; never a foreign file).

    An empty folder is removed as well: a crash between the marker's removal and ``rmdir``.
    """
    if not any(folder.iterdir()):
        os.rmdir(folder)
        return
    check_owned(folder, 'delete')
    for entry in folder.iterdir():
        if entry.name != MARKER_FILE:
            os.unlink(entry)
    os.unlink(folder / MARKER_FILE)  # last: a half-deleted folder is still recognisably ours
    os.rmdir(folder)


def prepare_overwrite(out: Path) -> Path:
    """Check that ``out`` may be replaced; return the (absent) staging folder beside it."""
    check_owned(out, 'overwrite')
    new = staging(out)
    if new.exists():  # the half-written replacement of a killed --overwrite run
        remove_owned(new)
    return new


def swap(new: Path, out: Path) -> None:
    """Put the finished ``new`` in place of ``out`` (steps 1-3 of the module docstring)."""
    old = retired(out)
    os.rename(out, old)
    os.rename(new, out)
    _sync_dir(out.parent)
    remove_owned(old)


def recover(out: Path) -> None:
    """Finish a swap that a crash interrupted (see the module docstring); else do nothing."""
    old = retired(out)
    if not old.exists():
        return
    if not out.exists():
        new = staging(out)
        os.rename(new if new.is_dir() else old, out)
        _sync_dir(out.parent)
    if old.exists():
        remove_owned(old)


def _sync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
