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

"""``python -m da3_ros.tools.bag`` is the ``da3_bag`` command line (the package's ``__main__``)."""
import subprocess
import sys

import pytest


def test_module_run_is_da3_bag(repo_root):
    done = subprocess.run([sys.executable, '-m', 'da3_ros.tools.bag', '--help'], cwd=repo_root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: da3_bag ') and '{process,record,fleet}' in done.stdout


def test_module_run_without_a_command_is_a_usage_error(repo_root):
    done = subprocess.run([sys.executable, '-m', 'da3_ros.tools.bag'], cwd=repo_root,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2 and 'usage: da3_bag' in done.stderr, done.stderr


def test_a_misspelt_option_names_the_closest_valid_one(capsys):
    from da3_ros.tools.bag.cli import main
    with pytest.raises(SystemExit) as stop:
        main(['process', 'in', 'out', '--samle-config'])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count('\n') == 2, err  # usage line + one error line
    assert "--samle-config (did you mean '--sample-config'?)" in err
