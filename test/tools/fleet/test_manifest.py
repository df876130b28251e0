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

"""The fleet manifest: durable appends, torn last line, newest record wins, compaction."""
import json

from da3_ros.tools.fleet.manifest import Manifest, MANIFEST_FILE, table


def _rec(name, status, output, **extra):
    return dict(name=name, bag=f'/in/{name}', shard=None, status=status, error='',
                output=str(output), frames_in=3, frames_out=3, wall_s=1.0, gpu_s=0.5, **extra)


def test_newest_record_wins_and_torn_line_is_skipped(tmp_path):
    out = tmp_path / 'bags' / 'a'
    out.mkdir(parents=True)
    first = Manifest(tmp_path)
    first.add(_rec('a', 'failed', out, attempts=1))
    first.add(_rec('a', 'done', out, attempts=2))
    first.add(_rec('b', 'done', tmp_path / 'bags' / 'b'))  # output gone: not done
    with open(tmp_path / MANIFEST_FILE, 'a') as handle:
        handle.write('{"name": "c", "sta')  # a kill in the middle of a line
    again = Manifest(tmp_path)
    assert again.done('a') and not again.done('b') and not again.done('c')
    assert again.records['a']['attempts'] == 2
    again.compact(['b', 'a', 'c'])
    lines = (tmp_path / MANIFEST_FILE).read_text().splitlines()
    assert [json.loads(line)['name'] for line in lines] == ['b', 'a']
    text = table(again.current(['a', 'b']))
    assert text.splitlines()[-1].startswith('2 done, 0 failed')
