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

"""Worker count and resource request of the fleet's actors (a stand-in for the ``ray`` module)."""
import pytest

from da3_ros.tools.fleet import cluster
from da3_ros.tools.fleet.options import FleetError, FleetOptions


class _Ray:
    """What ``cluster.actor_class`` uses of ``ray``: the cluster's resources and ``remote``."""

    def __init__(self, **resources: float) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict:
        return dict(self.resources)

    def remote(self, cls):
        assert cls is cluster.Worker

        class _Options:
            @staticmethod
            def options(**request):
                return request
        return _Options


def test_one_worker_per_gpu_or_per_fraction():
    request, count = cluster.actor_class(_Ray(GPU=8.0, CPU=64.0), FleetOptions())
    assert count == 8 and request['num_gpus'] == 1.0 and request['num_cpus'] == 1.0
    request, count = cluster.actor_class(_Ray(GPU=2.0, CPU=8.0),
                                         FleetOptions(gpus_per_worker=0.5, cpus_per_worker=2))
    assert count == 4 and request['num_gpus'] == 0.5 and request['num_cpus'] == 2


def test_cpu_only_cluster_gets_one_worker_per_cpu():
    request, count = cluster.actor_class(_Ray(CPU=2.0), FleetOptions())
    assert count == 2 and request['num_gpus'] == 0.0


def test_workers_that_cannot_be_placed_locally_are_refused():
    with pytest.raises(FleetError, match='do not fit the local cluster'):
        cluster.actor_class(_Ray(GPU=1.0, CPU=16.0), FleetOptions(workers=4))
    with pytest.raises(FleetError, match='1 GPU, 2 CPU'):
        cluster.actor_class(_Ray(GPU=1.0, CPU=2.0), FleetOptions(gpus_per_worker=0.25))
    # a cluster joined by address may grow (autoscaling): its request is left to Ray
    _, count = cluster.actor_class(_Ray(GPU=1.0, CPU=16.0),
                                   FleetOptions(address='auto', workers=4))
    assert count == 4
