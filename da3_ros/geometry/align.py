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

"""Similarity (Sim(3)) and rigid (SE(3)) fits between corresponding 3D point sets (numpy).

All fits solve ``dst ~= s R src + t`` in the weighted least-squares sense (Umeyama 1991);
the robust variant adds a RANSAC start and Huber-weighted IRLS refinement.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from da3_ros.geometry import pose as pose_lib


@dataclass(frozen=True)
class Sim3:
    """Similarity ``x -> scale * rotation @ x + translation`` from frame src to frame dst."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    @staticmethod
    def identity() -> 'Sim3':
        return Sim3(1.0, np.eye(3), np.zeros(3))

    def matrix(self) -> np.ndarray:
        """4x4 matrix [sR | t]."""
        return pose_lib.sim3_matrix(self.scale, self.rotation, self.translation)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform points [..., 3]."""
        return self.scale * points @ self.rotation.T + self.translation

    def apply_pose(self, pose: np.ndarray) -> np.ndarray:
        """Map rigid poses ``T_src_cam`` [..., 4, 4] to ``T_dst_cam`` (pose.apply_sim3_to_pose)."""
        return pose_lib.apply_sim3_to_pose(self.scale, self.rotation, self.translation, pose)

    def compose(self, other: 'Sim3') -> 'Sim3':
        """``self o other``: apply ``other`` first."""
        return Sim3(self.scale * other.scale, self.rotation @ other.rotation,
                    self.scale * self.rotation @ other.translation + self.translation)

    def inverse(self) -> 'Sim3':
        rot_t = self.rotation.T
        return Sim3(1.0 / self.scale, rot_t, -rot_t @ self.translation / self.scale)


def umeyama(src: np.ndarray, dst: np.ndarray, weights: Optional[np.ndarray] = None, *,
            with_scale: bool = True, fixed_scale: Optional[float] = None) -> Sim3:
    """Weighted least-squares similarity from ``src`` [N, 3] to ``dst`` [N, 3].

    Args:
        src: source points [N, 3].
        dst: target points [N, 3].
        weights: non-negative weights [N]; uniform when None.
        with_scale: estimate the scale (Sim(3)); otherwise scale is ``fixed_scale`` or 1.
        fixed_scale: known scale applied to ``src`` when ``with_scale`` is False.

    Returns:
        The fitted transform. Fewer than three non-collinear points leave the rotation
        about their common axis undetermined (the SVD picks one).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    scale, rot, trans = _stacked_umeyama(src[None], dst[None], w[None], with_scale, fixed_scale)
    return Sim3(float(scale[0]), rot[0], trans[0])


def residuals(transform: Sim3, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Euclidean residuals [N] of ``dst - transform(src)``."""
    return np.linalg.norm(dst - transform.apply(src), axis=1)


def _ransac_start(src, dst, w, threshold, trials, rng, kwargs) -> np.ndarray:
    """Boolean inlier mask [N] of the best minimal-sample hypothesis (by inlier weight).

    The hypotheses are fitted and scored together (stacked 3x3 SVDs, one [N, T] residual
    array): a loop of ``trials`` small fits cost milliseconds of interpreter time per window.
    """
    idx = _weighted_samples(w, trials, 3, rng)
    scale, rot, trans = _stacked_umeyama(src[idx], dst[idx], np.ones(idx.shape), **kwargs)
    inside = _squared_residuals(scale, rot, trans, src, dst) < threshold * threshold
    return inside[:, int(np.argmax(w @ inside))]  # first best, as a running maximum would keep


def _squared_residuals(scale, rot, trans, src, dst) -> np.ndarray:
    """Squared residuals [N, T] of ``dst - (s_t R_t src + t_t)`` for T stacked transforms.

    ``[src | dst | 1]`` [N, 7] times a [7, 3T] mixing matrix gives every hypothesis's residual
    vector in one pass over long rows (coordinate fastest); the three coordinates of each are
    then summed as strided columns. The straightforward [N, T, 3] arrays, with their length-3
    inner rows, are several times slower in numpy. ``einsum`` rather than ``@``: a product this
    size would start BLAS threads, which contend with torch's busy-waiting OpenMP threads in
    the engine's process (20x slower on a 2-core host).
    """
    trials = len(scale)
    mix = np.empty((7, trials, 3))
    mix[:3] = -(rot * scale[:, None, None]).transpose(2, 0, 1)  # [j, t, i] = -s_t R_t[i, j]
    mix[3:6] = np.eye(3)[:, None, :]
    mix[6] = -trans
    points = np.concatenate([src, dst, np.ones((len(src), 1))], axis=1)
    diff = np.einsum('nk,km->nm', points, mix.reshape(7, 3 * trials))
    diff *= diff
    return diff[:, 0::3] + diff[:, 1::3] + diff[:, 2::3]


def _weighted_samples(w: np.ndarray, trials: int, size: int,
                      rng: np.random.Generator, rounds: int = 8) -> np.ndarray:
    """Draw indices [trials, size]: rows of ``size`` distinct indices, in proportion to ``w``.

    Each row is ``size`` independent draws from the weights' cumulative sum (O(N + trials) in
    all, where keys over every point cost O(N x trials)); rows that repeat an index are drawn
    again, for up to ``rounds`` rounds. Rows still repeating (a few dominant weights) are
    drawn by exponential races: the ``size`` smallest of ``E / w``, E standard exponential,
    which are distinct by construction. A zero weight is never drawn either way.

    Raises:
        ValueError: fewer than ``size`` positive weights.
    """
    positive = np.flatnonzero(w > 0)
    if len(positive) < size:
        raise ValueError(f'need {size} positive weights to draw distinct samples, got '
                         f'{len(positive)}')
    cdf = np.cumsum(w)
    last = int(positive[-1])  # where a draw of u * total rounding up lands
    idx = np.empty((trials, size), dtype=np.int64)
    todo = np.arange(trials)
    for _ in range(rounds):
        draws = np.searchsorted(cdf, rng.random((len(todo), size)) * cdf[-1], side='right')
        idx[todo] = np.minimum(draws, last)
        ordered = np.sort(idx[todo], axis=1)
        todo = todo[(ordered[:, 1:] == ordered[:, :-1]).any(axis=1)]
        if not len(todo):
            return idx
    with np.errstate(divide='ignore'):
        keys = rng.standard_exponential(size=(len(todo), len(w))) / w[None]
    idx[todo] = np.argpartition(keys, size - 1, axis=1)[:, :size]
    return idx


def _stacked_umeyama(src: np.ndarray, dst: np.ndarray, w: np.ndarray, with_scale: bool = True,
                     fixed_scale: Optional[float] = None):
    """:func:`umeyama` of T stacked problems src, dst [T, k, 3], weights w [T, k]: s [T], R, t."""
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-300)
    mu_s, mu_d = (w[:, None] @ src)[:, 0], (w[:, None] @ dst)[:, 0]
    src_c, dst_c = src - mu_s[:, None], dst - mu_d[:, None]
    u, sing, vt = np.linalg.svd((dst_c * w[..., None]).transpose(0, 2, 1) @ src_c)
    fix = np.ones((len(src), 3))
    fix[:, 2] = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    fix[fix[:, 2] == 0, 2] = 1.0
    rot = (u * fix[:, None, :]) @ vt
    if with_scale:
        var_s = (w * (src_c ** 2).sum(2)).sum(1)
        scale = (sing * fix).sum(1) / np.maximum(var_s, 1e-300)
    else:
        scale = np.full(len(src), 1.0 if fixed_scale is None else float(fixed_scale))
    trans = mu_d - scale[:, None] * (rot @ mu_s[..., None])[..., 0]
    return scale, rot, trans


def robust_umeyama(src: np.ndarray, dst: np.ndarray, weights: Optional[np.ndarray] = None, *,
                   with_scale: bool = True, fixed_scale: Optional[float] = None,
                   huber_delta: float = 0.1, iterations: int = 5, ransac_trials: int = 0,
                   ransac_threshold: Optional[float] = None,
                   seed: int = 0) -> Tuple[Sim3, np.ndarray]:
    """Outlier-robust weighted fit: optional RANSAC start, then Huber IRLS.

    Args:
        src: source points [N, 3].
        dst: target points [N, 3].
        weights: prior weights [N] (e.g. confidences); uniform when None.
        with_scale: estimate the scale; else use ``fixed_scale`` (or 1).
        fixed_scale: known scale when ``with_scale`` is False.
        huber_delta: residual (in dst units) beyond which weights fall off as delta / r.
        iterations: IRLS iterations after the initial fit.
        ransac_trials: minimal-sample hypotheses; 0 skips RANSAC.
        ransac_threshold: inlier residual of RANSAC; ``3 * huber_delta`` when None.
        seed: RANSAC random seed (results are deterministic).

    Returns:
        (transform, final weights [N]) where weights include the Huber factors.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    prior = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    kwargs = {'with_scale': with_scale, 'fixed_scale': fixed_scale}
    if ransac_trials > 0 and np.count_nonzero(prior > 0) >= 3:
        threshold = 3.0 * huber_delta if ransac_threshold is None else ransac_threshold
        rng = np.random.default_rng(seed)
        prior = prior * _ransac_start(src, dst, prior, threshold, ransac_trials, rng, kwargs)
    w = prior
    fit = umeyama(src, dst, w, **kwargs)
    for _ in range(iterations):
        res = residuals(fit, src, dst)
        w = prior * np.minimum(1.0, huber_delta / np.maximum(res, 1e-300))
        fit = umeyama(src, dst, w, **kwargs)
    return fit, w


def shared_scale(src_groups, dst_groups, weighted: bool = False) -> Tuple[float, float]:
    """Least-squares scale shared by several similarity fits, each with its own R and t.

    Each group k (e.g. the cameras of one timestep: predicted centres -> rig centres) is fitted
    as ``dst ~= s R_k src + t_k``; the optimal common ``s`` is
    ``sum_k w_k tr(D_k S_k) / sum_k w_k sum_i |src_i - mean_k|^2`` (Umeyama per group, pooled).
    With ``weighted``, ``w_k`` is the inverse residual variance of group k's own Sim(3) fit
    (groups of >= 3 points), so noisier groups count less.

    Args:
        src_groups: sequence of [N_k, 3] arrays (N_k >= 2).
        dst_groups: matching sequence of [N_k, 3] arrays.
        weighted: weight groups by their inverse residual variance.

    Returns:
        (scale, pooled source spread sum_k sum_i |src_i - mean_k|^2); (nan, 0) if no spread.
    """
    num, den = 0.0, 0.0
    for src, dst in zip(src_groups, dst_groups):
        src_c = src - src.mean(0)
        dst_c = dst - dst.mean(0)
        u, sing, vt = np.linalg.svd(dst_c.T @ src_c)
        fix = np.ones(3)
        fix[2] = np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0
        weight = 1.0
        if weighted and len(src) >= 3:
            fit = umeyama(src, dst)
            ss = float((residuals(fit, src, dst) ** 2).sum()) / fit.scale ** 2
            weight = 1.0 / max(ss / max(3 * len(src) - 7, 1), 1e-24)
        num += weight * float((sing * fix).sum())
        den += weight * float((src_c ** 2).sum())
    return (num / den, den) if den > 1e-300 else (float('nan'), 0.0)
