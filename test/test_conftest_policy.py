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

"""The skip policy of test/conftest.py, checked in a throw-away test tree with a pytest subprocess.

ROS skips become failures (module-level importorskip under ros/, a reason naming rclpy, a test
marked ros); ordinary skips and the gpu/weights marker skips stay skips.
"""

import os
from pathlib import Path
import shutil
import subprocess
import sys

PLAIN_TESTS = """
import pytest


def test_reason_names_rclpy():
    pytest.skip('rclpy is not installed')


@pytest.mark.ros
def test_marked_ros():
    pytest.skip('graph not ready')


def test_unrelated_skip():
    pytest.skip('shared folder not beside the repository')


@pytest.mark.weights
def test_needs_weights():
    pass


def test_passes():
    pass
"""

ROS_MODULE = """
import pytest

pytest.importorskip('da3_nonexistent_module', reason='message wheels (make venv)')


def test_never_runs():
    pass
"""


def _outcomes(output: str) -> dict:
    """Map test id (or module path for collection errors) -> PASSED/FAILED/SKIPPED/ERROR."""
    outcomes = {}
    for line in output.splitlines():
        word, _, rest = line.partition(' ')
        if word in ('PASSED', 'FAILED', 'SKIPPED', 'ERROR') and rest:
            # SKIPPED lines read 'SKIPPED [1] path:line: reason'; the others 'WORD id - msg'.
            key = rest if word == 'SKIPPED' else rest.split(' - ')[0]
            outcomes[key.strip()] = word
    return outcomes


def test_ros_skips_fail_and_other_skips_stay(tmp_path: Path, repo_root: Path) -> None:
    tests = tmp_path / 'test'
    (tests / 'ros').mkdir(parents=True)
    shutil.copy(repo_root / 'test' / 'conftest.py', tests / 'conftest.py')
    shutil.copy(repo_root / 'pytest.ini', tmp_path / 'pytest.ini')
    (tests / 'test_plain.py').write_text(PLAIN_TESTS)
    (tests / 'ros' / 'test_ros_module.py').write_text(ROS_MODULE)
    env = {k: v for k, v in os.environ.items()
           if k not in ('DA3_WEIGHTS', 'DA3_ALLOW_ROS_SKIPS', 'PYTEST_ADDOPTS')}
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', '-rA', '-p', 'no:cacheprovider', '-q',
         '--continue-on-collection-errors'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    out = _outcomes(proc.stdout)
    status = proc.returncode
    assert status == 1, proc.stdout[-4000:]
    assert out.get('test/test_plain.py::test_reason_names_rclpy') == 'FAILED', out
    assert out.get('test/test_plain.py::test_marked_ros') == 'FAILED', out
    assert out.get('test/ros/test_ros_module.py') == 'ERROR', out
    assert out.get('test/test_plain.py::test_passes') == 'PASSED', out
    skipped = [key for key, word in out.items() if word == 'SKIPPED']
    assert len(skipped) == 2, out
    assert any('shared folder not beside' in key for key in skipped), skipped
    assert any('weights: DA3_WEIGHTS' in key for key in skipped), skipped
