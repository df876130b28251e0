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

"""The bag tool's config: the sample recording's, model overrides, refusals naming the field.

Reading the node's params file into it is tested in test_params_file.py.
"""
from dataclasses import replace

import pytest

from da3_ros.errors import ConfigError
from da3_ros.tools.bag.config import sample_config, with_model


def test_sample_config_has_one_transport_per_camera_and_no_odometry():
    config = sample_config()
    assert len(config.transports) == len(config.engine.cameras) > 0
    assert config.odom_frame == ''  # the engine estimates the trajectory --eval compares
    assert config.engine.model.device == 'cpu'


def test_with_model_replaces_only_what_is_given():
    config = sample_config()
    changed = with_model(config, weights='random')
    assert changed.engine.model.weights == 'random'
    assert changed.engine.model.variant == config.engine.model.variant
    assert with_model(config).engine.model == config.engine.model
    with pytest.raises(ConfigError, match='da3-tiny'):
        with_model(config, variant='da3-tiny')


def test_cameras_are_required_and_need_a_topic():
    config = sample_config()
    with pytest.raises(ConfigError, match='at least one camera'):
        replace(config, engine=replace(config.engine, cameras=())).validate()
    first = replace(config.engine.cameras[0], image_topic='')
    cameras = (first,) + config.engine.cameras[1:]
    with pytest.raises(ConfigError, match=f'cameras.{first.name}.image_topic: empty'):
        replace(config, engine=replace(config.engine, cameras=cameras)).validate()
