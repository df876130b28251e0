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

"""Every citation in the repository resolves inside it: a clone must be able to follow them.

Scans the tracked text files for names of documents (``*.md``), which must exist as a path from
the repository root or from the citing file's folder, and for references to the reading material
that lies beside the checkout (``../shared``, ``shared/docs``, ``shared/parity`` and the names of
its documents). Model docstrings cite docs/model.md's sections as "spec N.M"; that file must
keep saying so. Only the files in ``READS_SHARED`` may name ../shared: they read the fixtures
there when present (and skip that part cleanly otherwise); they cite nothing.
"""
from pathlib import Path
import re
import subprocess

REPO = Path(__file__).resolve().parents[1]
READS_SHARED = {'test/tools/test_parity.py', 'test/test_citations.py'}
OUTSIDE = re.compile(r'\.\./shared|shared/(docs|parity)|ros2-on-pypi|da3-model-spec|anchors\.md'
                     r'|parity_check\.py')
DOC_NAME = re.compile(r'(?<![\w/.-])([\w./-]+\.md)\b')
BINARY = ('.npz', '.png', '.jpg', '.safetensors', '.mcap', '.db3')


def _tracked_text_files():
    names = subprocess.run(['git', 'ls-files'], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in names:
        path = REPO / name
        if name.endswith(BINARY) or not path.is_file():
            continue
        try:
            yield name, path.read_text(encoding='utf-8')
        except UnicodeDecodeError:
            continue


def test_no_citation_points_outside_the_repository():
    problems = []
    for name, text in _tracked_text_files():
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line) and name not in READS_SHARED:
                problems.append(f'{name}:{number}: {line.strip()}')
            for cited in DOC_NAME.findall(line):
                target = cited.rstrip('.')
                if not ((REPO / target).exists() or (REPO / name).parent.joinpath(
                        target).exists() or target.startswith(('http', 'www'))):
                    problems.append(f'{name}:{number}: {target} is not in the repository')
    assert not problems, '\n'.join(problems)


def test_spec_sections_resolve_to_the_model_notes():
    notes = (REPO / 'docs/model.md').read_text()
    assert '"spec N.M"' in notes
    headings = set(re.findall(r'^#+ (\d+(?:\.\d+)?)\.? ', notes, flags=re.M))
    headings |= set(re.findall(r'^- (\d+\.\d+) ', notes, flags=re.M))
    headings |= set(re.findall(r'^(\d+\.\d+) ', notes, flags=re.M))
    for name, text in _tracked_text_files():
        for cited in re.findall(r'\bspec (\d+(?:\.\d+)?(?:, \d+(?:\.\d+)?)*)', text):
            for section in cited.split(', '):
                assert section in headings or section.split('.')[0] in headings, (
                    f'{name}: spec {section} is not a section of docs/model.md')
