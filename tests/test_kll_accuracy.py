"""Rank error stays within the documented bound at its documented confidence, over many
seeds and input shapes; up to k items the sketch is exact.

The bound (DataSketches' empirical fit, k = 200): the largest single-sided rank error
of one sketch over all queries exceeds eps = 2.296 / k**0.9723 = 1.33% in at most 1% of
sketches. Each test counts the sketches that exceed it among T trials and allows what
a Binomial(T, 0.01) count exceeds with probability below 1e-4 (derived below). Seeds of
data and sketches are fixed, so every run sees the same trials.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sketchbox import KllSketch

K = 200
EPS = 2.296 / K**0.9723
TRIALS = 200
N = 50_000


def allowance(trials: int, p: float = 0.01, tail: float = 1e-4) -> int:
    """The smallest c with P(Binomial(trials, p) > c) <= tail."""
    cdf = 0.0
    for c in range(trials + 1):
        cdf += math.comb(trials, c) * p**c * (1 - p) ** (trials - c)
        if 1.0 - cdf <= tail:
            return c
    return trials


def test_allowance_derivation():
    assert allowance(100) == 6
    assert allowance(200) == 9
    assert allowance(700) == 19
    assert KllSketch(K).normalized_rank_error() == pytest.approx(EPS, rel=1e-12)
    assert KllSketch(K).normalized_rank_error(pmf=True) == pytest.approx(
        2.446 / K**0.9433, rel=1e-12
    )


def max_rank_error(sketch: KllSketch, data: np.ndarray) -> float:
    """The exact maximum over all query points of |estimated - true| normalized rank,
    for both search criteria: ranks are step functions that change only at items, so
    the items themselves are every query point that matters."""
    s = np.sort(data)
    points = np.unique(s)
    worst = 0.0
    for inclusive, side in ((True, "right"), (False, "left")):
        true = np.searchsorted(s, points, side=side) / s.size
        est = sketch.ranks(points, inclusive)
        worst = max(worst, float(np.max(np.abs(est - true))))
    return worst


def make(dist: str, rng: np.random.Generator, n: int = N) -> np.ndarray:
    if dist == "uniform":
        return rng.random(n)
    if dist == "normal":
        return rng.normal(size=n)
    if dist == "lognormal":
        return rng.lognormal(0.0, 2.0, n)
    if dist == "duplicates":
        return rng.integers(0, 100, n).astype(np.float64)
    if dist == "sorted":
        return np.sort(rng.normal(size=n))
    if dist == "reverse sorted":
        return np.sort(rng.normal(size=n))[::-1].copy()
    raise AssertionError(dist)


DISTS = ["uniform", "normal", "lognormal", "duplicates", "sorted", "reverse sorted"]


def sketch_of(dist: str, trial: int) -> tuple[KllSketch, np.ndarray]:
    rng = np.random.default_rng([DISTS.index(dist), trial])
    data = make(dist, rng)
    sk = KllSketch(K, seed=trial * 7919 + 17)
    sk.update(data)
    return sk, data


@pytest.mark.parametrize("dist", DISTS)
def test_rank_error_failure_rate(dist):
    errors = [max_rank_error(*sketch_of(dist, t)) for t in range(TRIALS)]
    failures = sum(e > EPS for e in errors)
    assert failures <= allowance(TRIALS), (dist, failures, max(errors))
    # and typically far inside the bound
    assert np.median(errors) < 0.75 * EPS


def test_rank_error_of_a_stream_merged_from_100_partial_sketches():
    errors = []
    for t in range(TRIALS // 2):
        rng = np.random.default_rng([99, t])
        data = rng.normal(size=N * 2)
        merged = KllSketch(K, seed=t)
        for i, part in enumerate(np.array_split(data, 100)):
            s = KllSketch(K, seed=10_000 * t + i + 1)
            s.update(part)
            merged.merge(s)
        assert merged.n == data.size and merged.min == data.min() and merged.max == data.max()
        errors.append(max_rank_error(merged, data))
    failures = sum(e > EPS for e in errors)
    assert failures <= allowance(len(errors)), (failures, max(errors))


def test_quantiles_are_within_the_bound_of_their_true_rank():
    rng = np.random.default_rng(4)
    data = rng.lognormal(size=1_000_000)
    sk = KllSketch(K, seed=3)
    sk.update(data)
    s = np.sort(data)
    ranks = np.linspace(0, 1, 1001)
    q = sk.quantiles(ranks)
    lo = np.searchsorted(s, q, side="left") / s.size  # items < q
    hi = np.searchsorted(s, q, side="right") / s.size  # items <= q
    # r lies within the bound of the band of true ranks q stands for
    assert np.all(ranks >= lo - EPS) and np.all(ranks <= hi + EPS)
    assert np.all(np.diff(q) >= 0)


def test_pmf_buckets_within_the_double_sided_bound():
    eps_pmf = KllSketch(K).normalized_rank_error(pmf=True)
    failures = 0
    for t in range(TRIALS):
        sk, data = sketch_of("normal", t)
        splits = np.linspace(-3, 3, 25)
        true = np.diff(np.concatenate([[0], np.searchsorted(np.sort(data), splits, "right"), [N]]))
        failures += np.max(np.abs(sk.pmf(splits) - true / N)) > eps_pmf
    assert failures <= allowance(TRIALS)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 100, 199, 200])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exact_mode_equals_numpy_inverted_cdf(n, dtype):
    rng = np.random.default_rng(n)
    for data in (rng.normal(size=n), rng.integers(0, 5, n).astype(float)):
        data = data.astype(dtype)
        sk = KllSketch(200, dtype)
        sk.update(data)
        assert not sk.is_estimation_mode() and sk.num_retained == n
        ranks = np.concatenate([np.linspace(0, 1, 201), rng.random(100), np.arange(n + 1) / n])
        s = np.sort(data)
        # r * n as Java rounds it (to 7 decimals, ties up; kll module docs, difference 1)
        target = np.floor(ranks * n * 1e7 + 0.5) / 1e7
        # inclusive: the first item whose count of items <= it reaches r * n
        incl = s[np.maximum(np.ceil(target).astype(int) - 1, 0)]
        np.testing.assert_array_equal(sk.quantiles(ranks), incl)
        # where the rounding changes nothing, that is NumPy's inverted CDF; where it
        # does (0.14 * 100 = 14.000000000000002), NumPy takes the next item
        same = target == ranks * n
        np.testing.assert_array_equal(
            incl[same], np.quantile(data, ranks[same], method="inverted_cdf")
        )
        # exclusive: the first item whose count of items <= it exceeds floor(r * n)
        idx = np.minimum(np.floor(target).astype(int), n - 1)
        np.testing.assert_array_equal(sk.quantiles(ranks, inclusive=False), s[idx])
        np.testing.assert_array_equal(sk.ranks(s), np.searchsorted(s, s, "right") / n)
        np.testing.assert_array_equal(sk.ranks(s, False), np.searchsorted(s, s, "left") / n)
        assert sk.min == s[0] and sk.max == s[-1]
