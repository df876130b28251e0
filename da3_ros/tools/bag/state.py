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

"""``--resume`` state without pickle: a versioned JSON document plus a ``.npz`` of its arrays.

``resume.json`` is self-describing: ``format``, ``version``, the tool version, the settings of
the run (variant, weights identity, every config field), the writer's committed segments and
the pipeline state as a tagged tree; ``resume-<n>.npz`` holds the tree's arrays (loaded with
``allow_pickle=False``) and is named, with its sha256, by the JSON. Why not pickle: an output
folder is user data, and unpickling it runs whatever it says.

The tree codec is written here (no library serialises numpy/torch inside arbitrary dataclasses
without pickle). Tags: ``$tuple``, ``$dict`` (non-string keys, as pairs), ``$array`` (an npz
entry; ``scalar`` for numpy scalars), ``$tensor`` (+ device, dtype), ``$device`` and ``$obj`` (a
class of :data:`CLASSES`, an explicit allow-list: decoding builds nothing else, and restores an
object's attributes without running its code, as pickle would).

Each commit is crash-safe in this order: the new npz is written and renamed into place, the
JSON that names it replaces the old JSON atomically, then the older npz is deleted; a crash
between any two steps leaves a JSON whose npz exists and matches its hash.
"""
import hashlib
import io
import json
import os
from pathlib import Path
import re
from typing import Any, Dict, Tuple

import numpy as np

from da3_ros.tools.bag.io import BagError

STATE_FILE = 'resume.json'
FORMAT = 'da3_bag resume state'
VERSION = 1
_ARRAYS = re.compile(r'^resume-(\d+)\.npz$')
_TENSOR_DTYPES = ('float32', 'float64', 'float16', 'bfloat16', 'uint8', 'int64', 'int32', 'bool')


def _classes() -> Dict[str, type]:
    """Return the allow-list: every class a resume state may hold, by class name."""
    from da3_ros.engine.decode import EncodedImage
    from da3_ros.engine.preprocess import ImageTransform
    from da3_ros.engine.stitch import Stitcher
    from da3_ros.engine.types import CameraFrame, RigFrame
    from da3_ros.engine.window import ViewMeta, WindowBuffer
    from da3_ros.geometry.align import Sim3
    from da3_ros.config import WindowConfig
    from da3_ros.ros.messages.rig_input import RigInput
    from da3_ros.tools.bag.evaluation import Evaluator
    from da3_ros.tools.bag.summary import Summary
    classes = (ImageTransform, Stitcher, CameraFrame, RigFrame, ViewMeta, WindowBuffer, Sim3,
               WindowConfig, RigInput, Evaluator, Summary, EncodedImage)
    # Keyed by class name, not module path: a state stays readable when a module moves.
    names = {cls.__qualname__: cls for cls in classes}
    assert len(names) == len(classes), 'two allowed classes share a name'
    return names


class StateError(BagError):
    """A resume state that cannot be written or read back (unknown type, corrupt file)."""


class _Encoder:
    def __init__(self) -> None:
        self.arrays: Dict[str, np.ndarray] = {}
        self.names = {cls: name for name, cls in _classes().items()}

    def _array(self, array: np.ndarray) -> str:
        key = f'a{len(self.arrays)}'
        self.arrays[key] = np.array(array, copy=True)
        return key

    def __call__(self, obj: Any) -> Any:  # noqa: C901 - one branch per tag
        import torch
        if obj is None or isinstance(obj, (bool, int, float, str)) and not isinstance(
                obj, np.generic):
            return obj
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise StateError(f'resume state: object array {obj.shape} cannot be saved')
            return {'$array': self._array(obj)}
        if isinstance(obj, np.generic):
            return {'$array': self._array(np.asarray(obj)), 'scalar': True}
        if isinstance(obj, torch.Tensor):
            dtype = str(obj.dtype).removeprefix('torch.')
            host = obj.detach().to('cpu')
            host = host.float() if dtype == 'bfloat16' else host
            return {'$tensor': self._array(host.numpy()), 'device': str(obj.device),
                    'dtype': dtype}
        if isinstance(obj, torch.device):
            return {'$device': str(obj)}
        if isinstance(obj, (bytes, bytearray)):  # encoded images kept for the GPU decoder
            return {'$bytes': self._array(np.frombuffer(bytes(obj), dtype=np.uint8))}
        if isinstance(obj, list):
            return [self(v) for v in obj]
        if isinstance(obj, tuple):
            return {'$tuple': [self(v) for v in obj]}
        if isinstance(obj, dict):
            if all(isinstance(k, str) and not k.startswith('$') for k in obj):
                return {k: self(v) for k, v in obj.items()}
            return {'$dict': [[self(k), self(v)] for k, v in obj.items()]}
        name = self.names.get(type(obj))
        if name is None:
            raise StateError(f'resume state: {type(obj).__qualname__} is not in the allow-list')
        return {'$obj': name, 'fields': self(dict(vars(obj)))}


class _Decoder:
    def __init__(self, arrays: Any) -> None:
        self.arrays, self.classes = arrays, _classes()

    def _array(self, key: Any) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f'array {key!r} is not in the npz')
        return self.arrays[key]

    def __call__(self, node: Any) -> Any:  # noqa: C901 - one branch per tag
        if isinstance(node, list):
            return [self(v) for v in node]
        if not isinstance(node, dict):
            return node
        if '$array' in node:
            array = self._array(node['$array'])
            return array[()] if node.get('scalar') else array
        if '$tensor' in node:
            import torch
            if node.get('dtype') not in _TENSOR_DTYPES:
                raise ValueError(f'tensor dtype {node.get("dtype")!r}')
            tensor = torch.from_numpy(np.array(self._array(node['$tensor'])))
            return tensor.to(device=torch.device(str(node['device'])),
                             dtype=getattr(torch, node['dtype']))
        if '$device' in node:
            import torch
            return torch.device(str(node['$device']))
        if '$bytes' in node:
            return np.asarray(self._array(node['$bytes']), dtype=np.uint8).tobytes()
        if '$tuple' in node:
            return tuple(self(v) for v in node['$tuple'])
        if '$dict' in node:
            return {_hashable(self(k)): self(v) for k, v in node['$dict']}
        if '$obj' in node:
            cls = self.classes.get(node['$obj'])
            if cls is None:
                raise ValueError(f'class {node["$obj"]!r} is not in the allow-list')
            obj = object.__new__(cls)
            obj.__dict__.update(self(node['fields']))
            return obj
        return {k: self(v) for k, v in node.items()}


def _hashable(key: Any) -> Any:
    return key.item() if isinstance(key, np.generic) else key


def encode(obj: Any) -> Tuple[Any, Dict[str, np.ndarray]]:
    """(JSON-ready tree, arrays) of ``obj``; StateError for a type outside the allow-list."""
    encoder = _Encoder()
    return encoder(obj), encoder.arrays


def decode(tree: Any, arrays: Any) -> Any:
    """Inverse of :func:`encode`; ValueError/KeyError/TypeError on a malformed tree."""
    return _Decoder(arrays)(tree)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (temp file, fsync, rename): old or new, never half."""
    tmp = path.with_name(path.name + '.tmp')
    with open(tmp, 'wb') as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save(folder: Path, document: Dict[str, Any]) -> None:
    """Write ``document`` (plain values, arrays and allow-listed objects) as the resume state."""
    tree, arrays = encode(document)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    numbers = [int(m.group(1)) for m in map(_ARRAYS.match, os.listdir(folder)) if m]
    name = f'resume-{max(numbers, default=-1) + 1}.npz'
    atomic_write(folder / name, data)
    head = {'format': FORMAT, 'version': VERSION,
            'arrays': {'file': name, 'sha256': hashlib.sha256(data).hexdigest()},
            'document': tree}
    atomic_write(folder / STATE_FILE, json.dumps(head, allow_nan=True).encode())
    for stale in numbers:
        os.unlink(folder / f'resume-{stale}.npz')


def load(folder: Path) -> Dict[str, Any]:
    """Return the document of :func:`save`; StateError (one line naming the file) when unusable."""
    path = folder / STATE_FILE
    if not path.is_file():
        legacy = ' (it holds a resume.pkl of an older da3_bag, which is never unpickled)' if (
            folder / 'resume.pkl').exists() else ''
        raise StateError(f'--resume: {str(path)!r} not found: nothing was committed{legacy}')
    try:
        head = json.loads(path.read_text())
        if head.get('format') != FORMAT or head.get('version') != VERSION:
            raise ValueError(f'format {head.get("format")!r} version {head.get("version")!r},'
                             f' expected {FORMAT!r} version {VERSION}')
        arrays_path = folder / str(head['arrays']['file'])
        if not _ARRAYS.match(arrays_path.name):
            raise ValueError(f'arrays file {arrays_path.name!r}')
        data = arrays_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != head['arrays']['sha256']:
            raise ValueError(f'{arrays_path.name} does not match its sha256')
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        document = decode(head['document'], arrays)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise StateError(f'--resume: {str(path)!r} is corrupt or not a da3_bag resume state'
                         f' ({type(err).__name__}: {err}); start a new output') from err
    if not isinstance(document, dict):
        raise StateError(f'--resume: {str(path)!r} does not hold a state document')
    return document
