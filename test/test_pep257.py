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

"""ament_pep257's check: pydocstyle, PEP 257 convention, with ament's default ignores.

ament_pep257 (apt ``ros-jazzy-ament-pep257``) has no wheel on the package index; it is a thin
wrapper that runs pydocstyle (installed with the ``test`` extra) on the package's Python files
with the PEP 257 convention and the ignores below, which this test does directly. test_flake8
runs the google-convention docstring checks on top.
"""
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[1]
TARGETS = ('da3_ros', 'test', 'launch', 'scripts', 'setup.py')
# ament_pep257's defaults: missing docstrings (D100-D107) and the rules PEP 257 leaves open.
AMENT_IGNORES = ('D100', 'D101', 'D102', 'D103', 'D104', 'D105', 'D106', 'D107', 'D203', 'D212',
                 'D404')


def pep257(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'pydocstyle', '--convention=pep257',
                           '--add-ignore=' + ','.join(AMENT_IGNORES), *paths], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


def test_docstrings_follow_pep257_as_ament_checks_them():
    done = pep257(*TARGETS)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_the_check_flags_a_non_imperative_summary(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('"""A module."""\n\n\ndef f():\n    """Returns nothing"""\n')
    done = pep257(str(bad))
    assert done.returncode != 0 and 'D401' in done.stdout and 'D400' in done.stdout, done.stdout
