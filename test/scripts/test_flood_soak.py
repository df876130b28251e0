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

"""scripts/flood_soak.py: the bounded-memory verdict judges the RSS envelope, not two samples."""
import argparse
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / 'scripts' / 'flood_soak.py'


def _soak():
    spec = importlib.util.spec_from_file_location('flood_soak', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**kw) -> argparse.Namespace:
    return _soak().parse_args(['--warmup-s', '100', '--max-growth-mb', '64'] + [
        f'--{k.replace("_", "-")}={v}' for k, v in kw.items()])


def _samples(rss):
    return [(10.0 * i, mb) for i, mb in enumerate(rss)]


def test_sets_in_flight_going_up_and_down_are_bounded():
    soak = _soak()
    # warm-up (t < 100 s) grows; afterwards the RSS steps between the same levels
    rss = [500, 900, 1200, 1500, 1800, 2000, 2100, 2200, 2300, 2250] + [2300, 2400, 2500] * 8
    report = soak.summarise(_samples(rss), _args())
    assert report['bounded'], report
    assert report['peak_growth_mb'] == 0 and report['trough_growth_mb'] == 0


def test_a_slow_leak_under_the_same_steps_is_not_bounded():
    soak = _soak()
    steady = [2300, 2400, 2500] * 8
    leaking = [mb + 8 * i for i, mb in enumerate(steady)]  # 8 MB per sample, 190 MB in all
    report = soak.summarise(_samples([500] * 10 + leaking), _args())
    assert not report['bounded'], report
    assert report['peak_growth_mb'] > 64 and report['trough_growth_mb'] > 64


def test_growth_is_the_envelope_difference_of_the_two_halves():
    peak, trough = _soak().envelope_growth([10, 30, 20, 40, 25, 70])
    assert (peak, trough) == (70 - 30, 25 - 10)


def test_too_few_samples_after_warm_up_is_no_verdict_of_bounded():
    report = _soak().summarise(_samples([100, 200, 300]), _args())
    assert report['bounded'] is False and 'too few' in report['reason']
