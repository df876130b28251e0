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

"""ament_copyright's rule: every Python file carries a copyright line and the Apache-2.0 header.

ament_copyright (apt ``ros-jazzy-ament-copyright``) has no wheel on the package index, so this
test checks its rule directly: after an optional shebang, a file starts with
``# Copyright <year> <holder>`` and the Apache License 2.0 file header (the form ament's
``apache2`` license template writes), and the repository's LICENSE is that licence's text, as
``package.xml`` and ``setup.py`` declare.
"""
from pathlib import Path
import re
import subprocess

REPO = Path(__file__).resolve().parents[1]
COPYRIGHT = re.compile(r'^# Copyright (\d{4})(-\d{4})? \S.*$')
HEADER_LINES = (
    '# Copyright 2026 The da3_ros Authors',
    '#',
    '# Licensed under the Apache License, Version 2.0 (the "License");',
    '# you may not use this file except in compliance with the License.',
    '# You may obtain a copy of the License at',
    '#',
    '#     http://www.apache.org/licenses/LICENSE-2.0',
    '#',
    '# Unless required by applicable law or agreed to in writing, software',
    '# distributed under the License is distributed on an "AS IS" BASIS,',
    '# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.',
    '# See the License for the specific language governing permissions and',
    '# limitations under the License.',
)


def header_problem(text: str) -> str:
    """Why ``text`` lacks the header ('' when it has it)."""
    lines = text.split('\n')
    if lines and lines[0].startswith('#!'):
        lines = lines[1:]
    if not lines or not COPYRIGHT.match(lines[0]):
        return 'no "# Copyright <year> <holder>" first line'
    body = lines[1:len(HEADER_LINES)]
    if tuple(body) != HEADER_LINES[1:]:
        return 'no Apache-2.0 license header after the copyright line'
    return ''


def _python_files() -> list:
    out = subprocess.run(['git', 'ls-files', '*.py'], cwd=REPO, capture_output=True,
                         text=True, check=False).stdout.split()
    return out or [str(p.relative_to(REPO)) for p in REPO.rglob('*.py')
                   if '.venv' not in p.parts]


def test_every_python_file_has_the_copyright_and_license_header():
    problems = {path: header_problem((REPO / path).read_text()) for path in _python_files()}
    assert not {p: why for p, why in problems.items() if why}


def test_the_check_fails_on_a_file_without_it():
    assert header_problem('"""A module."""\n') != ''
    wrong = '\n'.join(HEADER_LINES).replace('Apache License', 'Other License')
    assert 'license' in header_problem(wrong)
    assert header_problem('#!/usr/bin/env python3\n' + '\n'.join(HEADER_LINES) + '\n') == ''


def test_license_file_is_apache_2_as_declared():
    license_text = (REPO / 'LICENSE').read_text()
    assert license_text.lstrip().startswith('Apache License')
    assert 'Version 2.0, January 2004' in license_text
    assert '<license>Apache-2.0</license>' in (REPO / 'package.xml').read_text()
    assert "license='Apache-2.0'" in (REPO / 'setup.py').read_text()
