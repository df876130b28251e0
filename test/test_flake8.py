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

"""flake8 with the ament_flake8 rules (config: the [flake8] section of setup.cfg).

99 columns, single quotes (flake8-quotes), google import order (flake8-import-order), no
shadowed builtins (flake8-builtins), no blind except (flake8-blind-except),
flake8-comprehensions, and docstring form (flake8-docstrings, google convention, D100-D107
ignored as in ament_pep257).
"""

import subprocess
import sys

import pytest

TARGETS = ('da3_ros', 'test', 'setup.py', 'launch')

# The plugins that carry the ament rules; without them flake8 would pass on style it cannot see.
REQUIRED_PLUGINS = (
    'flake8-blind-except', 'flake8-builtins', 'flake8-comprehensions', 'flake8-docstrings',
    'flake8-import-order', 'flake8-quotes',
)


def _normalise(name: str) -> str:
    return name.lower().replace('_', '-')


def test_flake8_plugins_are_installed(repo_root) -> None:
    proc = subprocess.run([sys.executable, '-m', 'flake8', '--version'], cwd=repo_root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    found = _normalise(proc.stdout)
    missing = [p for p in REQUIRED_PLUGINS if _normalise(p) not in found]
    assert not missing, f'flake8 plugins missing (pip install .[test]): {missing}\n{proc.stdout}'


@pytest.mark.slow
def test_flake8(repo_root) -> None:
    targets = [t for t in TARGETS if (repo_root / t).exists()]
    proc = subprocess.run([sys.executable, '-m', 'flake8', *targets], cwd=repo_root,
                          capture_output=True, text=True, timeout=600, check=False)
    status = proc.returncode
    assert status == 0, (
        f'flake8 found problems (exit {proc.returncode}):\n'
        f'{proc.stdout[-20000:]}{proc.stderr[-2000:]}')
