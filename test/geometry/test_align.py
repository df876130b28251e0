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

"""Tests of da3_ros.geometry.align: Sim(3) / SE(3) recovery."""
import numpy as np
import pytest

from da3_ros.geometry import align, pose


def _random_sim3(rng, with_scale=True):
    scale = float(rng.uniform(0.5, 2.0)) if with_scale else 1.0
    return align.Sim3(scale, pose.so3_exp(rng.normal(size=3)), rng.normal(size=3) * 5)


def test_exact_recovery():
    rng = np.random.default_rng(0)
    truth = _random_sim3(rng)
    src = rng.normal(size=(30, 3))
    fit = align.umeyama(src, truth.apply(src))
    assert np.isclose(fit.scale, truth.scale)
    np.testing.assert_allclose(fit.rotation, truth.rotation, atol=1e-10)
    np.testing.assert_allclose(fit.translation, truth.translation, atol=1e-10)


def test_se3_and_fixed_scale():
    rng = np.random.default_rng(1)
    truth = _random_sim3(rng)
    src = rng.normal(size=(30, 3))
    fit = align.umeyama(src, truth.apply(src), with_scale=False, fixed_scale=truth.scale)
    np.testing.assert_allclose(fit.matrix(), truth.matrix(), atol=1e-10)
    rigid = _random_sim3(rng, with_scale=False)
    fit = align.umeyama(src, rigid.apply(src), with_scale=False)
    assert fit.scale == 1.0
    np.testing.assert_allclose(fit.matrix(), rigid.matrix(), atol=1e-10)


def test_reflection_is_never_returned():
    rng = np.random.default_rng(2)
    src = rng.normal(size=(10, 3))
    fit = align.umeyama(src, src * [1, 1, -1])
    assert np.linalg.det(fit.rotation) > 0


def test_robust_recovery_with_noise_and_outliers():
    rng = np.random.default_rng(3)
    truth = _random_sim3(rng)
    src = rng.uniform(-10, 10, size=(400, 3))
    dst = truth.apply(src) + rng.normal(scale=0.01, size=src.shape)
    bad = rng.choice(400, size=120, replace=False)
    dst[bad] += rng.uniform(-30, 30, size=(120, 3))
    plain = align.umeyama(src, dst)
    fit, weights = align.robust_umeyama(src, dst, huber_delta=0.05, iterations=10,
                                        ransac_trials=50)
    assert abs(plain.scale / truth.scale - 1) > 0.01
    assert abs(fit.scale / truth.scale - 1) < 1e-3
    assert np.degrees(pose.rotation_angle(fit.rotation @ truth.rotation.T)) < 0.05
    assert np.linalg.norm(fit.translation - truth.translation) < 0.05
    assert weights[bad].max() < 0.05


def test_sim3_algebra():
    rng = np.random.default_rng(4)
    a, b = _random_sim3(rng), _random_sim3(rng)
    pts = rng.normal(size=(6, 3))
    np.testing.assert_allclose(a.compose(b).apply(pts), a.apply(b.apply(pts)), atol=1e-10)
    np.testing.assert_allclose(a.inverse().apply(a.apply(pts)), pts, atol=1e-10)
    np.testing.assert_allclose(a.matrix()[:3, :3], a.scale * a.rotation)


def test_stacked_minimal_fits_equal_one_fit_at_a_time():
    rng = np.random.default_rng(3)
    src, dst = rng.normal(size=(20, 3, 3)), rng.normal(size=(20, 3, 3))
    for kwargs in ({'with_scale': True}, {'with_scale': False, 'fixed_scale': 2.5}):
        scale, rot, trans = align._stacked_umeyama(src, dst, np.ones(src.shape[:2]), **kwargs)
        for i in range(len(src)):
            one = align.umeyama(src[i], dst[i], **kwargs)
            np.testing.assert_allclose(scale[i], one.scale, rtol=1e-10)
            np.testing.assert_allclose(rot[i], one.rotation, atol=1e-10)
            np.testing.assert_allclose(trans[i], one.translation, atol=1e-10)


def test_weighted_samples_are_distinct_skip_zero_weights_and_follow_the_weights():
    rng = np.random.default_rng(4)
    w = np.array([0.0, 1.0, 2.0, 3.0, 0.0, 4.0])
    idx = align._weighted_samples(w, 4000, 3, rng)
    assert idx.shape == (4000, 3)
    assert all(len(set(row)) == 3 for row in idx)
    assert not np.isin(idx, [0, 4]).any()
    first = align._weighted_samples(w, 20000, 1, rng)[:, 0]
    freq = np.bincount(first, minlength=len(w)) / len(first)
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.015)


def test_weighted_samples_stay_distinct_when_few_weights_dominate():
    rng = np.random.default_rng(5)
    w = np.array([1e6, 1e6, 1e-6, 1e-6, 1e-6, 0.0])
    idx = align._weighted_samples(w, 500, 3, rng)
    assert all(len(set(row)) == 3 for row in idx)  # the exponential-race fallback rows too
    assert not (idx == 5).any()


def test_weighted_samples_need_enough_positive_weights():
    with pytest.raises(ValueError, match='need 3 positive weights'):
        align._weighted_samples(np.array([1.0, 2.0, 0.0]), 4, 3, np.random.default_rng(0))


def test_squared_residuals_equal_a_direct_evaluation_per_hypothesis():
    rng = np.random.default_rng(6)
    src, dst = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    scale, rot, trans = align._stacked_umeyama(rng.normal(size=(7, 3, 3)),
                                               rng.normal(size=(7, 3, 3)), np.ones((7, 3)))
    got = align._squared_residuals(scale, rot, trans, src, dst)
    for t in range(7):
        moved = align.Sim3(scale[t], rot[t], trans[t]).apply(src)
        np.testing.assert_allclose(got[:, t], ((dst - moved) ** 2).sum(1), rtol=1e-12,
                                   atol=1e-12)
