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

"""Artifact cache of exported graphs and engines: one file per key, a sidecar JSON beside it.

A key is a flat dict of everything the artifact depends on (variant, shape, precision, weights
identity, library versions, GPU). The file name carries a hash of the key, and the sidecar
``<file>.json`` repeats the key; an artifact is used only when its sidecar equals the key, so a
stale or foreign file (other weights, other TensorRT, other GPU, a half-written build) is rebuilt
and never loaded blindly. Builds write into a temporary folder beside the cache entries and are
renamed into place (companion files such as ONNX external data first, the artifact last, then
the sidecar), so readers never see a partial file.
"""
import hashlib
import json
import os
import shutil
import tempfile
from typing import Callable, Mapping, Optional

CACHE_ENV = 'DA3_ROS_CACHE'
SIDECAR_SUFFIX = '.json'


def cache_root(configured: str = '') -> str:
    """Get the cache folder: ``configured``, else ``$DA3_ROS_CACHE``, else ``~/.cache/da3_ros``."""
    if configured:
        return os.path.expanduser(configured)
    if os.environ.get(CACHE_ENV):
        return os.path.expanduser(os.environ[CACHE_ENV])
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'da3_ros')


def key_digest(key: Mapping[str, object]) -> str:
    """12-hex digest of a key (sorted JSON)."""
    text = json.dumps(dict(key), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def read_sidecar(path: str) -> Optional[dict]:
    """Return the sidecar dict of ``path``, or None when absent or unreadable."""
    try:
        with open(path + SIDECAR_SUFFIX, encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_sidecar(path: str, key: Mapping[str, object]) -> None:
    """Write ``key`` as the sidecar of ``path`` (atomically)."""
    _atomic_write(path + SIDECAR_SUFFIX, lambda tmp: _dump(tmp, key))


def is_valid(path: str, key: Mapping[str, object]) -> bool:
    """Whether ``path`` exists and its sidecar equals ``key`` (JSON-normalised)."""
    sidecar = read_sidecar(path)
    return os.path.isfile(path) and sidecar == json.loads(json.dumps(dict(key)))


def get_or_build(folder: str, stem: str, suffix: str, key: Mapping[str, object],
                 build: Callable[[str], None]) -> str:
    """Path of the artifact for ``key``; ``build(tmp_path)`` writes it when missing or stale.

    Args:
        folder: cache folder (created).
        stem: readable start of the file name (e.g. ``da3-small_s6_56x98``).
        suffix: file extension with the dot.
        key: everything the artifact depends on (JSON-serialisable values).
        build: writes the artifact to the path it is given.
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f'{stem}-{key_digest(key)}{suffix}')
    if is_valid(path, key):
        return path
    _atomic_write(path, build)
    write_sidecar(path, key)
    return path


def _dump(path: str, key: Mapping[str, object]) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(dict(key), handle, indent=1, sort_keys=True)


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` in a fresh temporary folder, then move what it wrote next to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    tmp_dir = tempfile.mkdtemp(prefix='.partial-', dir=folder)
    try:
        write(os.path.join(tmp_dir, name))
        for written in sorted(os.listdir(tmp_dir), key=lambda n: n == name):  # artifact last
            os.replace(os.path.join(tmp_dir, written), os.path.join(folder, written))
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)  # our own temporary folder only
