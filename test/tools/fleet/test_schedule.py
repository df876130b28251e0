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

"""The fleet's queue: largest task first, finished bags skipped, unreadable bags failed at once.

Dispatching the queue to Ray workers (retries, joins, Ctrl-C) runs in test_driver.py.
"""
from da3_ros.tools.bag.config import sample_config
from da3_ros.tools.fleet.manifest import DONE, FAILED, Manifest
from da3_ros.tools.fleet.options import FleetOptions
from da3_ros.tools.fleet.plan import BagPlan, Task
from da3_ros.tools.fleet.schedule import Scheduler


def plan(tmp_path, key, size, **kwargs):
    return BagPlan(bag=str(tmp_path / f'{key}.mcap'), key=key, output=str(tmp_path / 'out' / key),
                   size=size, **kwargs)


def scheduler(tmp_path, plans, manifest=None):
    return Scheduler(plans, manifest or Manifest(tmp_path / 'out'), sample_config(),
                     FleetOptions(progress=False))


def test_largest_tasks_first_and_finished_bags_skipped(tmp_path):
    manifest = Manifest(tmp_path / 'out')
    done = plan(tmp_path, 'done', 99)
    (tmp_path / 'out' / 'done').mkdir(parents=True)
    manifest.add({'name': 'done', 'status': DONE, 'output': done.output})
    small, big = plan(tmp_path, 'small', 5), plan(tmp_path, 'big', 50)
    shards = tuple(Task(str(tmp_path / 'c.mcap'), 'c', str(tmp_path / 'out' / f'c.{i}'), size,
                        shard=i) for i, size in enumerate((20, 30)))
    sharded = plan(tmp_path, 'c', 50, shards=shards)
    sched = scheduler(tmp_path, [small, done, big, sharded], manifest)
    assert [(kind, task.name) for kind, task in sched.queue] == [
        ('run', 'big'), ('run', shards[1].name), ('run', shards[0].name), ('run', 'small')]
    assert sched.total == 3 and sched.shards_left == {'c': 2}


def test_an_unreadable_bag_is_recorded_failed_without_running(tmp_path):
    broken = plan(tmp_path, 'broken', 10, error='not a rosbag2 folder')
    sched = scheduler(tmp_path, [broken])
    assert sched.queue == []
    record = Manifest(tmp_path / 'out').records['broken']
    assert (record['status'], record['error']) == (FAILED, 'not a rosbag2 folder')
    assert sched.execute() == (False, 0)  # nothing to run: no cluster is started
