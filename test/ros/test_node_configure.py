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

"""da3_node: every configure failure is logged with its reason (real process, autostart)."""
import pytest

pytestmark = pytest.mark.ros
CPU = ('-p', 'model.variant:=da3-small', '-p', 'model.weights:=parity', '-p',
       'model.device:=cpu', '-p', 'model.dtype:=fp32', '-p', 'model.process_res:=28')


@pytest.mark.parametrize('override, reason', [
    ('output.max_dpeth:=5.0',
     "unknown parameter 'output.max_dpeth' (did you mean 'output.max_depth'?)"),
    ('model.device:=cuda:99', "ConfigError: model.device: 'cuda:99' but this machine has"),
], ids=['misspelt-key', 'impossible-device'])
def test_configure_failure_logs_its_reason(ros_launcher, override, reason):
    # The override comes last, so it wins over CPU's model.device.
    node = ros_launcher.module('da3_ros.ros.node', '--ros-args', '--params-file',
                               'config/mono.yaml', *CPU, '-p', override, name='da3_node')
    assert node.wait(timeout=180) == 1, node.output()
    log = node.output()
    assert 'configure failed: ' in log and reason in log, log
