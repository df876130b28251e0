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

"""The rclpy-free side of ``ros/`` (messages/, sync/) imports without rclpy or ROS packages.

The offline bag tool reuses these modules, so none of them may pull in rclpy, the ROS client
libraries or a message package (those come only through a ``MsgTypes`` bundle); the building
blocks that never touch engine types stay free of torch too. Every module of the two
subpackages is found with ``pkgutil``, so a new file is covered as soon as it exists.
"""
import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

PURE_PACKAGES = ('da3_ros.ros.messages', 'da3_ros.ros.sync')
# Outside the subpackages, but reused by the bag tool: the same promise holds.
PURE_MODULES = ('da3_ros.ros.diagnostics', 'da3_ros.ros.demand')
# These speak the engine's types (RigFrame, RigResult, OutputRequest), which import torch.
ENGINE_FACING = ('da3_ros.ros.messages.rig_input', 'da3_ros.ros.messages.rig_output',
                 'da3_ros.ros.demand')
ROS_PREFIXES = ('rclpy', 'rcl_', 'rmw', 'rosidl')
ROS_SUFFIXES = ('_msgs', '_interfaces')


def _modules(package: str) -> list[str]:
    path = importlib.import_module(package).__path__
    return [package] + [info.name for info in pkgutil.walk_packages(path, package + '.')]


def _imported_by(module: str) -> list[str]:
    """Top-level names in ``sys.modules`` after importing ``module`` in a fresh interpreter."""
    code = (f'import json, sys\nimport {module}\n'
            'print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))')
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def _is_ros(top: str) -> bool:
    return top.startswith(ROS_PREFIXES) or top.endswith(ROS_SUFFIXES)


def test_the_subpackages_are_walked():
    names = _modules('da3_ros.ros.messages') + _modules('da3_ros.ros.sync')
    assert 'da3_ros.ros.messages.rig_output' in names
    assert 'da3_ros.ros.sync.multi_camera' in names


def test_the_check_recognises_ros():
    assert _is_ros('rclpy') and _is_ros('sensor_msgs') and _is_ros('rcl_interfaces')
    assert not _is_ros('rosbags') and not _is_ros('numpy')


@pytest.mark.parametrize('module', [m for p in PURE_PACKAGES for m in _modules(p)]
                         + list(PURE_MODULES))
def test_module_imports_without_rclpy(module):
    loaded = _imported_by(module)
    assert [top for top in loaded if _is_ros(top)] == []
    if module not in ENGINE_FACING:
        assert 'torch' not in loaded
