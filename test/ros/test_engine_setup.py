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

"""The node's engine loading: placeholder weights are announced loudly, naming the model.

That the node and the bag tool build the same network for each placeholder word is tested in
test/tools/test_placeholder_weights.py.
"""
from da3_ros.config import EngineConfig, ModelConfig, placeholder_notice
from da3_ros.ros.engine_setup import build_engine


class Logger:
    """Collects warnings like an rclpy logger."""

    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


def test_placeholder_weights_are_announced_with_the_variant():
    logger = Logger()
    model = ModelConfig(variant='da3-small', weights='parity', device='cpu', dtype='fp32',
                        process_res=28)
    build_engine(EngineConfig(model=model), logger)
    assert logger.warnings == [f"{placeholder_notice('parity')} (model da3-small)"]
