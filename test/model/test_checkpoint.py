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

"""Checkpoint files: official layout round trip, strict errors, hub ids from a local cache."""
import json
import os
import re
import subprocess
import sys

import pytest
from safetensors.torch import load_file, save_file
import torch

from da3_ros.errors import ConfigError, WeightsError
from da3_ros.model.checkpoint import load_model, read_tensors, resolve
from da3_ros.model.variants import check_variant
from da3_ros.model.weights import CONFIG_NAME, SAFETENSORS_NAME

VARIANT = 'da3-small'  # the variant of conftest.small_model


def save_checkpoint(model, directory: str, variant: str) -> str:
    """Write config.json + model.safetensors in the official layout; returns the file path.

    Shared tensors (the aux LayerNorm) are stored once, as safetensors requires.
    """
    os.makedirs(directory, exist_ok=True)
    tensors, seen = {}, set()
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        tensors['model.' + name] = tensor.detach().contiguous().cpu()
    path = os.path.join(directory, SAFETENSORS_NAME)
    save_file(tensors, path)
    with open(os.path.join(directory, CONFIG_NAME), 'w', encoding='utf-8') as handle:
        json.dump({'model_name': check_variant(variant)}, handle)
    return path


@pytest.fixture(scope='module')
def checkpoint_dir(tmp_path_factory, small_model):
    directory = tmp_path_factory.mktemp('ckpt')
    save_checkpoint(small_model, str(directory), VARIANT)
    return directory


def _images():
    generator = torch.Generator().manual_seed(3)
    return torch.randn(1, 2, 3, 56, 70, generator=generator)


def test_official_layout_round_trip(checkpoint_dir, small_model):
    assert json.loads((checkpoint_dir / 'config.json').read_text()) == {'model_name': VARIANT}
    keys = load_file(str(checkpoint_dir / 'model.safetensors')).keys()
    assert all(k.startswith('model.') for k in keys)
    # The shared aux LayerNorm is stored once, as safetensors stores shared tensors.
    assert sum('output_conv2_aux' in k and '.2.weight' in k for k in keys) == 1
    loaded, report = load_model(str(checkpoint_dir))
    assert report.size_bytes > 0
    tied = {k: v for k, v in loaded.state_dict().items()
            if 'output_conv2_aux' in k and k.endswith(('.2.weight', '.2.bias'))}
    assert len(tied) == 8  # four levels, weight and bias: six filled in from the stored two
    for key, value in tied.items():
        assert torch.equal(value, tied[re.sub(r'aux\.\d', 'aux.0', key)]), key
    with torch.inference_mode():
        want, got = small_model(_images()), loaded(_images())
    assert torch.equal(want.depth, got.depth)
    assert torch.equal(want.extrinsics, got.extrinsics)


def test_single_file_and_explicit_variant(checkpoint_dir):
    path = str(checkpoint_dir / 'model.safetensors')
    assert resolve(path) == (path, VARIANT)  # variant from config.json beside it
    model, _ = load_model(path, variant=VARIANT)
    assert model.spec.name == VARIANT


def test_renamed_key_fails_naming_file_and_key(checkpoint_dir, tmp_path):
    tensors = load_file(str(checkpoint_dir / 'model.safetensors'))
    tensors['model.cam_dec.fc_tt.weight'] = tensors.pop('model.cam_dec.fc_t.weight')
    bad = tmp_path / 'model.safetensors'
    save_file(tensors, str(bad))
    (tmp_path / 'config.json').write_text(json.dumps({'model_name': VARIANT}))
    with pytest.raises(WeightsError) as info:
        load_model(str(tmp_path))
    message = str(info.value)
    assert str(bad) in message
    assert 'missing keys: cam_dec.fc_t.weight' in message
    assert 'unexpected keys: cam_dec.fc_tt.weight' in message


def test_wrong_shape_and_wrong_variant_fail(checkpoint_dir):
    with pytest.raises(WeightsError, match='wrong shapes|missing keys'):
        load_model(str(checkpoint_dir / 'model.safetensors'), variant='da3-base')


def test_variant_disagreeing_with_config_json_names_the_right_one(checkpoint_dir):
    with pytest.raises(WeightsError, match='checkpoint is da3-small .*variant:=da3-small'):
        load_model(str(checkpoint_dir), variant='da3-large')
    path = str(checkpoint_dir / 'model.safetensors')
    assert resolve(str(checkpoint_dir), default='da3-large') == (path, VARIANT)  # config wins
    assert resolve(path, default='da3-large') == (path, VARIANT)


def test_truncated_and_missing_files(checkpoint_dir, tmp_path):
    data = (checkpoint_dir / 'model.safetensors').read_bytes()
    truncated = tmp_path / 'model.safetensors'
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(WeightsError, match='cannot read checkpoint'):
        read_tensors(str(truncated))
    with pytest.raises(WeightsError, match='no such checkpoint'):
        resolve(str(tmp_path / 'nope.safetensors'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(WeightsError, match='config.json'):
        resolve(str(empty))


def test_unknown_variant_in_config(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps({'model_name': 'da3-tiny'}))
    (tmp_path / 'model.safetensors').write_bytes(b'')
    with pytest.raises(ConfigError, match='da3-tiny'):
        resolve(str(tmp_path))


def test_legacy_pickle_loads_weights_only(tmp_path, small_model):
    path = tmp_path / 'pytorch_model.bin'
    torch.save({'module.' + k: v for k, v in small_model.state_dict().items()}, str(path))
    (tmp_path / 'config.json').write_text(json.dumps({'model_name': VARIANT}))
    model, _ = load_model(str(tmp_path))
    assert torch.equal(model.backbone.pretrained.cls_token,
                       small_model.backbone.pretrained.cls_token)


def test_hub_id_resolves_from_local_cache(checkpoint_dir, tmp_path):
    snapshot = tmp_path / 'hub' / 'models--depth-anything--DA3-SMALL' / 'snapshots' / 'abc123'
    snapshot.mkdir(parents=True)
    for name in ('config.json', 'model.safetensors'):
        (snapshot / name).write_bytes((checkpoint_dir / name).read_bytes())
    refs = tmp_path / 'hub' / 'models--depth-anything--DA3-SMALL' / 'refs'
    refs.mkdir()
    (refs / 'main').write_text('abc123')
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_HUB_CACHE=str(tmp_path / 'hub'))
    code = ('from da3_ros.model.checkpoint import load_model;'
            'm, r = load_model("depth-anything/DA3-SMALL"); print(m.spec.name, r.source)')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith('da3-small ') and 'abc123' in out.stdout
    missing = subprocess.run([sys.executable, '-c', code.replace('SMALL', 'BASE')], env=env,
                             capture_output=True, text=True, check=False)
    assert missing.returncode != 0 and 'WeightsError' in missing.stderr


class _Payload:
    """Unpickling this runs ``touch <path>``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f'touch {self.path}',)


def test_refused_pickle_names_the_global_without_torch_advice(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'pytorch_model.bin'
    torch.save({'model.x': _Payload(marker)}, str(path))
    with pytest.raises(WeightsError) as caught:
        read_tensors(str(path))
    text = str(caught.value)
    assert 'refused' in text and 'system' in text and str(path) in text
    assert 'weights_only' not in text and 'False' not in text
    assert not marker.exists()
