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

"""A fleet run's result: which records count as failed bags, and the exit status it maps to."""
from da3_ros.tools.fleet.manifest import DONE, FAILED
from da3_ros.tools.fleet.options import FleetOptions, FleetResult


def test_a_failed_bag_fails_the_run_but_a_failed_shard_alone_does_not():
    bag = {'bag': 'a.mcap', 'status': FAILED, 'shard': None}
    shard = {'bag': 'b.mcap', 'status': FAILED, 'shard': 2}
    done = {'bag': 'c.mcap', 'status': DONE, 'shard': None}
    assert FleetResult([done]).exit_status() == 0
    assert FleetResult([done, shard]).failed == [] and FleetResult([shard]).exit_status() == 0
    assert FleetResult([done, bag, shard]).failed == [bag]
    assert FleetResult([done, bag]).exit_status() == 1


def test_an_interrupted_run_exits_130_whatever_else_happened():
    assert FleetResult([], interrupted=True).exit_status() == 130
    failed = {'bag': 'a.mcap', 'status': FAILED}
    assert FleetResult([failed], interrupted=True).exit_status() == 130


def test_default_layout_is_decided_from_the_cluster():
    """None means: decided from the GPUs/CPUs found, or from whether an address was given."""
    options = FleetOptions()
    assert (options.address, options.workers, options.gpus_per_worker, options.ship_code) == (
        None, None, None, None)
    assert options.retries == 1 and options.shard_s is None
