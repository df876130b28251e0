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

"""Tests of da3_ros.config validation."""
import dataclasses

import pytest

from da3_ros import config
from da3_ros.errors import ConfigError


def test_defaults_validate():
    """The defaults pass every check, and ``validate`` returns the config itself (chains)."""
    cfg = config.EngineConfig()
    assert cfg.validate() is cfg


@pytest.mark.parametrize('section,field,value', [
    ('model', 'variant', 'da3-huge'),
    ('model', 'dtype', 'fp8'),
    ('model', 'process_res', 7),
    ('window', 'length', 0),
    ('window', 'output_delay', 5),
    ('window', 'scale_gain', 0.0),
    ('output', 'max_depth', 0.05),
])
def test_invalid_field_is_named(section, field, value):
    cfg = config.EngineConfig()
    sub = dataclasses.replace(getattr(cfg, section), **{field: value})
    with pytest.raises(ConfigError) as err:
        dataclasses.replace(cfg, **{section: sub}).validate()
    assert f'{section}.{field}' in str(err.value)
    assert repr(value) in str(err.value)


def test_duplicate_camera_names():
    cams = (config.CameraConfig(name='front'), config.CameraConfig(name='front'))
    with pytest.raises(ConfigError, match='front'):
        config.EngineConfig(cameras=cams).validate()
