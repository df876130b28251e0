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

"""``python -m da3_ros.tools.record_sample``: a small recording, and a refusal in one line.

The recording's contents (topics, truth) are tested in test/tools/bag/test_sample_recording.py.
"""
from da3_ros.tools.record_sample import main


def test_records_a_new_bag_folder(tmp_path, capsys):
    out = tmp_path / 'rec'
    assert main([str(out), '--steps', '2', '--size', '28', '42', '--cameras', 'front']) == 0
    assert out.is_dir() and any(out.iterdir())
    assert capsys.readouterr().out.startswith(f'wrote {out}')


def test_an_existing_output_is_refused_with_exit_2(tmp_path, capsys):
    out = tmp_path / 'rec'
    out.mkdir()
    (out / 'keep').write_text('mine')
    assert main([str(out), '--steps', '2']) == 2
    err = capsys.readouterr().err
    assert err.startswith('record_sample: error:') and str(out) in err
    assert (out / 'keep').read_text() == 'mine'
