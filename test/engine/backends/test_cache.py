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

"""The export/engine cache: keyed files with sidecars; stale, foreign or partial files rebuilt."""
import json
import os

import pytest
import torch

from da3_ros.engine.backends import cache
from da3_ros.engine.backends.graph import tensors_fingerprint

KEY = {'variant': 'da3-small', 'views': 2, 'gpu': 'none', 'tensorrt': '10.14.1'}


class Builder:
    """Writes an artifact (and a companion file) and counts its calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self, path: str) -> None:
        self.calls += 1
        with open(path + '.data', 'w') as handle:
            handle.write('weights')
        if self.fail:
            raise RuntimeError('build failed')
        with open(path, 'w') as handle:
            handle.write(f'artifact {self.calls}')


def test_built_once_then_reused(tmp_path):
    build = Builder()
    path = cache.get_or_build(str(tmp_path), 'small', '.onnx', KEY, build)
    again = cache.get_or_build(str(tmp_path), 'small', '.onnx', dict(KEY), build)
    assert path == again and build.calls == 1
    assert os.path.isfile(path + '.data')  # companion files move with the artifact
    assert cache.read_sidecar(path) == KEY
    assert sorted(os.listdir(tmp_path)) == sorted(
        os.path.basename(p) for p in (path, path + '.data', path + '.json'))


def test_other_key_gets_its_own_file(tmp_path):
    build = Builder()
    first = cache.get_or_build(str(tmp_path), 'small', '.engine', KEY, build)
    other = cache.get_or_build(str(tmp_path), 'small', '.engine', dict(KEY, gpu='Orin'), build)
    assert first != other and build.calls == 2
    assert open(first).read() == 'artifact 1'  # the other GPU's engine is left alone


@pytest.mark.parametrize('damage', ['sidecar', 'no_sidecar', 'no_artifact'])
def test_stale_or_foreign_file_is_rebuilt(tmp_path, damage):
    build = Builder()
    path = cache.get_or_build(str(tmp_path), 'small', '.engine', KEY, build)
    if damage == 'sidecar':
        with open(path + '.json', 'w') as handle:
            json.dump(dict(KEY, tensorrt='10.3.0'), handle)
    elif damage == 'no_sidecar':
        os.remove(path + '.json')
    else:
        os.remove(path)
    assert not cache.is_valid(path, KEY)
    assert cache.get_or_build(str(tmp_path), 'small', '.engine', KEY, build) == path
    assert build.calls == 2 and open(path).read() == 'artifact 2'
    assert cache.is_valid(path, KEY)


def test_failed_build_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match='build failed'):
        cache.get_or_build(str(tmp_path), 'small', '.onnx', KEY, Builder(fail=True))
    assert os.listdir(tmp_path) == []


def test_cache_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / 'env'))
    assert cache.cache_root(str(tmp_path / 'cfg')) == str(tmp_path / 'cfg')
    assert cache.cache_root('') == str(tmp_path / 'env')
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert cache.cache_root('') == str(tmp_path / 'xdg' / 'da3_ros')


def test_fingerprint_sees_every_value_and_name():
    weights = {'a': torch.zeros(3), 'b': torch.ones(2, 2)}
    base = tensors_fingerprint(weights.items())
    assert tensors_fingerprint(reversed(list(weights.items()))) == base
    changed = dict(weights, b=torch.ones(2, 2).index_put_((torch.tensor(1),), torch.tensor(2.)))
    assert tensors_fingerprint(changed.items()) != base
    assert tensors_fingerprint({'c': torch.zeros(3), 'b': torch.ones(2, 2)}.items()) != base
