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

"""``da3_bag fleet`` options reach the run; refusals are one line with exit status 2.

Real fleet runs (Ray workers, shards, manifest) are tested in test_driver.py.
"""
import pytest

from da3_ros.tools.fleet import cli, driver
from da3_ros.tools.fleet.options import FleetResult


@pytest.fixture
def runs(monkeypatch):
    """Replaces run_fleet; records (inputs, out, config, options) of each call."""
    calls = []

    def fake_run(inputs, out, config, options):
        calls.append((inputs, out, config, options))
        return FleetResult(records=[])

    monkeypatch.setattr(driver, 'run_fleet', fake_run)
    return calls


def test_model_and_layout_options_reach_the_run(runs, tmp_path):
    status = cli.main([str(tmp_path / 'bags'), '--out', str(tmp_path / 'out'), '--sample-config',
                       '--weights', 'random', '--variant', 'da3-base', '--workers', '3',
                       '--shard-s', '2.5', '--stand-in-ms', '40', '--eval', '--no-progress'])
    assert status == 0
    (inputs, out, config, options), = runs
    assert out == tmp_path / 'out'
    assert (config.engine.model.weights, config.engine.model.variant) == ('random', 'da3-base')
    assert (options.workers, options.shard_s, options.progress) == (3, 2.5, False)
    assert options.task.eval and options.predictor.stand_in_ms == 40.0


def test_an_invalid_variant_is_one_line_and_exit_2(runs, tmp_path, capsys):
    status = cli.main([str(tmp_path), '--out', str(tmp_path / 'out'), '--sample-config',
                       '--variant', 'da3-tiny'])
    assert status == 2 and not runs
    err = capsys.readouterr().err
    assert err.startswith('da3_bag fleet: error:') and "'da3-tiny'" in err
    assert err.count('\n') == 1
