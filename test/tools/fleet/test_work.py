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

"""A fleet task's pieces: where a shard's input goes, refusing foreign folders, its record.

Whole tasks (slices written, bags processed, failures recorded) run in test_driver.py.
"""
from pathlib import Path

import pytest

from da3_ros.tools.bag.io import BagError
from da3_ros.tools.fleet.manifest import FAILED
from da3_ros.tools.fleet.plan import Task
from da3_ros.tools.fleet.standin import StandInPredictor
from da3_ros.tools.fleet.work import ensure_slice, PredictorSpec, record, slice_folder


def shard(tmp_path: Path) -> Task:
    return Task(bag=str(tmp_path / 'a.mcap'), key='a', output=str(tmp_path / 'out' / 'a.s1'),
                size=10, shard=1, start_ns=0, stop_ns=10)


def test_a_shard_input_lies_beside_its_output(tmp_path):
    assert slice_folder(shard(tmp_path)) == tmp_path / 'out' / 'a.s1.input'


def test_a_folder_the_fleet_did_not_write_is_refused_and_kept(tmp_path):
    task = shard(tmp_path)
    folder = slice_folder(task)
    folder.mkdir(parents=True)
    (folder / 'mine').write_text('keep')
    with pytest.raises(BagError, match='exists and was not written by the fleet'):
        ensure_slice(task)
    assert (folder / 'mine').read_text() == 'keep'


def test_a_failed_attempt_records_its_error_and_zero_counts(tmp_path):
    task = shard(tmp_path)
    rec = record(task, FAILED, 'BagError: boom', None, 1.23456)
    assert (rec['name'], rec['shard'], rec['status']) == (task.name, 1, FAILED)
    assert rec['error'] == 'BagError: boom' and rec['output'] == task.output
    assert rec['frames_out'] == 0 and rec['wall_s'] == 1.235 and rec['eval'] is None


def test_a_stand_in_spec_builds_the_stand_in_with_its_latency():
    predictor = PredictorSpec(stand_in_ms=250.0).build(config=None)
    assert isinstance(predictor, StandInPredictor) and predictor.latency_s == 0.25
