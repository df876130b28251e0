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

"""The settings a ``--resume`` compares: the weights are identified by their content."""
from da3_ros.tools.bag import settings as bag_settings


def test_weights_identity_is_the_file_not_its_path(tmp_path):
    from da3_ros.config import ModelConfig
    for name, data in (('a', b'one'), ('b', b'one'), ('c', b'two')):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'model.safetensors').write_bytes(data)
    ident = {name: bag_settings.weights_identity(ModelConfig(
        variant='da3-small', weights=str(tmp_path / name))) for name in 'abc'}
    assert ident['a'] == ident['b'] != ident['c']
    assert bag_settings.weights_identity(ModelConfig(weights='parity')) == 'parity rule'
