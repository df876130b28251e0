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

"""``--eval`` numbers on inputs whose errors are known: AbsRel, delta < 1.25, median scaling.

The whole ``--eval`` path against a recorded bag's truth is tested in test_process.py.
"""
import numpy as np
import pytest

from da3_ros.tools.bag.evaluation import depth_errors, format_report


def test_metric_depth_is_compared_as_it_is():
    gt = np.array([[2.0, 4.0], [5.0, 10.0]])
    errors = depth_errors(gt * 1.1, gt, metric=True)
    assert errors['abs_rel'] == pytest.approx(0.1) and errors['scale'] == 1.0
    assert errors['delta1'] == 1.0
    far = gt.copy()
    far[0, 0] = 4.0  # twice the truth: outside delta < 1.25
    assert depth_errors(far, gt, metric=True)['delta1'] == pytest.approx(0.75)


def test_relative_depth_is_median_scaled_first():
    gt = np.array([[2.0, 4.0, 6.0]])
    errors = depth_errors(gt / 3.0, gt, metric=False)
    assert errors['abs_rel'] == pytest.approx(0.0, abs=1e-12)
    assert errors['scale'] == pytest.approx(3.0)


def test_invalid_pixels_are_ignored_and_none_without_any_valid():
    gt = np.array([[2.0, 0.0, np.nan, 2000.0]])  # zero, NaN and beyond 1000 m are invalid
    depth = np.array([[2.2, 1.0, 1.0, 1.0]])
    assert depth_errors(depth, gt, metric=True)['abs_rel'] == pytest.approx(0.1)
    assert depth_errors(depth, np.zeros_like(gt), metric=True) is None


def test_report_names_the_fit_and_what_was_not_evaluated():
    report = {'depth': {'front': {'abs_rel': 0.1, 'delta1': 0.9, 'images': 3}},
              'trajectory': {'ate_m': 0.25, 'poses': 4, 'with_scale': True,
                             'path_length_m': 12.0},
              'skipped': {'no depth_gt': 2}}
    text = format_report(report)
    assert 'front' in text and '0.1000' in text
    assert 'trajectory ATE 0.2500 m over 4 poses (Sim(3) fit, path 12.0 m)' in text
    assert 'not evaluated: no depth_gt (x2)' in text
