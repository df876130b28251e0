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

"""The ``da3_node`` command line outside ROS arguments: ``--help`` prints usage and exits 0.

The node as a ROS process is tested in test_node_process.py (topics, outputs),
test_node_lifecycle.py, test_node_faults.py and test_node_configure.py.
"""
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.ros]


@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_prints_usage(flag):
    result = subprocess.run([sys.executable, '-m', 'da3_ros.ros.node', flag],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('usage: da3_node') and '--params-file' in result.stdout
    assert 'Error' not in result.stderr
