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

"""The ROS-side benchmark on a tiny rig: every stage is timed and the report names the largest."""
import json

import pytest

from da3_ros.tools.bench import ros_side as bench_ros

pytestmark = pytest.mark.ros


def test_kind_of_topics():
    assert [bench_ros.kind_of(t) for t in ('a/depth', 'a/depth/camera_info', 'a/confidence',
                                           'a/points', 'points', 'rig_step', '/tf')] == [
        'depth', 'camera_info', 'confidence', 'camera_cloud', 'fused_cloud', 'rig_step', 'tf']


def test_bench_ros_writes_table_and_json(tmp_path, capsys, ros_env):
    out = tmp_path / 'ros.json'
    assert bench_ros.main(['--cameras', '2', '--height', '18', '--width', '32',
                           '--fused-points', '50', '--iters', '2', '--warmup', '0',
                           '--json', str(out)]) == 0
    report = json.loads(out.read_text())
    stages = set(report['ms'])
    assert {'input.raw', 'input.jpeg_cpu', 'input.jpeg_header', 'pipeline.raw',
            'pipeline.jpeg_header'} <= stages
    kinds = ('depth', 'camera_info', 'confidence', 'camera_cloud', 'fused_cloud', 'rig_step',
             'tf')
    assert {f'messages.{k}' for k in kinds} <= stages and {f'publish.{k}' for k in kinds} <= stages
    assert report['dominant'] in stages and set(report['total_p50_ms']) == {'messages',
                                                                            'publish'}
    assert 'dominant:' in capsys.readouterr().out
