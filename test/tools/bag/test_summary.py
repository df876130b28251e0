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

"""Tests of the bag tool's progress bar (tqdm) and summary text."""
import io

from da3_ros.tools.bag.summary import Progress, Summary


def test_progress_draws_done_of_total_and_ends_the_line():
    stream = io.StringIO()
    bar = Progress(4, stream, min_interval_s=0.0)
    bar.update(3, note='camera front')
    bar.close()
    text = stream.getvalue()
    assert '3/4' in text and 'camera front' in text
    assert text.endswith('\n')


def test_progress_grows_total_and_draws_nothing_without_stream(capsys):
    stream = io.StringIO()
    bar = Progress(2, stream, min_interval_s=0.0)
    bar.update(5)
    bar.close()
    assert '5/5' in stream.getvalue()
    silent = Progress(3, None)
    silent.update(2)
    silent.close()
    assert silent.done == 2
    assert capsys.readouterr() == ('', '')


def test_summary_text_counts_skips():
    summary = Summary(output='out', sets_total=3)
    summary.skip('bad image')
    summary.skip('bad image')
    assert 'skipped: bad image (x2)' in summary.text()
