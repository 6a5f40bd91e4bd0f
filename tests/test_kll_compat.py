"""KLL images move both ways between sketchbox and Apache DataSketches (Python, Java,
C++), and both sides answer every query alike on the same image."""

from __future__ import annotations

import numpy as np
import pytest
from datasketches import kll_doubles_sketch, kll_floats_sketch

from sketchbox import KllSketch

DS = {"float64": kll_doubles_sketch, "float32": kll_floats_sketch}
NP = {"float64": np.float64, "float32": np.float32}
RANKS = [0.0, 1e-9, 0.001, 0.01, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.99, 0.999, 1.0 - 1e-9, 1.0]


def same_answers(ours: KllSketch, theirs, dtype: str) -> None:
    """Every query of ours equals the DataSketches sketch's answer on the same state."""
    assert ours.n == theirs.n
    assert ours.is_empty() == theirs.is_empty()
    if theirs.is_empty():
        return
    assert ours.k == theirs.k
    assert ours.num_retained == theirs.num_retained
    assert ours.is_estimation_mode() == theirs.is_estimation_mode()
    assert ours.min == theirs.get_min_value() and ours.max == theirs.get_max_value()
    for pmf in (False, True):
        assert ours.normalized_rank_error(pmf) == theirs.normalized_rank_error(pmf)
    qs = ours.quantiles(np.linspace(0, 1, 41)).astype(np.float64)
    finite = qs[np.isfinite(qs)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    probes = np.unique(
        np.concatenate(
            [qs, np.linspace(lo - 0.1 * span, hi + 0.1 * span, 37), [-np.inf, np.inf]]
        ).astype(NP[dtype])
    )
    splits = probes[1:-1:3]
    for inclusive in (True, False):
        for r in RANKS:
            assert ours.quantile(r, inclusive) == theirs.get_quantile(r, inclusive), (r, inclusive)
        np.testing.assert_array_equal(
            ours.quantiles(RANKS, inclusive), theirs.get_quantiles(RANKS, inclusive)
        )
        for x in probes:
            assert ours.rank(float(x), inclusive) == theirs.get_rank(float(x), inclusive), x
        if len(splits):
            np.testing.assert_array_equal(
                ours.cdf(splits, inclusive), theirs.get_cdf(splits.tolist(), inclusive)
            )
            np.testing.assert_allclose(
                ours.pmf(splits, inclusive),
                theirs.get_pmf(splits.tolist(), inclusive),
                rtol=0,
                atol=1e-15,
            )


def datasets(dtype: str):
    rng = np.random.default_rng(1234)
    yield "one", np.array([3.5])
    yield "few", rng.normal(size=57)
    yield "exact k", rng.normal(size=200)
    yield "k + 1", rng.normal(size=201)
    yield "uniform 10k", rng.random(10_000)
    yield "duplicates 50k", rng.integers(0, 20, 50_000).astype(float)
    yield "lognormal 300k", rng.lognormal(size=300_000)
    yield "sorted 100k", np.arange(100_000, dtype=float)
    yield "with inf", np.concatenate([rng.normal(size=5000), [np.inf, -np.inf]])
    yield "negative zero", np.array([0.0, -0.0] * 300 + [1.0, -1.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("k", [8, 200, 1000])
def test_datasketches_reads_ours_and_we_read_theirs(dtype, k):
    for name, data in datasets(dtype):
        data = data.astype(NP[dtype])
        # ours -> theirs
        ours = KllSketch(k, dtype)
        ours.update(data)
        image = ours.to_bytes()
        theirs = DS[dtype].deserialize(image)
        # read back without loss (before any query: a DataSketches query sorts level 0
        # and flags it sorted in later images)
        assert theirs.serialize() == image, name
        same_answers(ours, theirs, dtype)
        # theirs -> ours
        ds = DS[dtype](k)
        ds.update(data)
        image = ds.serialize()
        back = KllSketch.from_bytes(image, dtype)
        same_answers(back, ds, dtype)
        assert back.to_bytes() == image, name
        assert back.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_images_without_compaction_are_byte_identical(dtype):
    # While the sketch keeps every item the image has no randomness in it.
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 50, 200):
        data = rng.normal(size=n).astype(NP[dtype])
        ours = KllSketch(200, dtype)
        ours.update(data)
        ds = DS[dtype](200)
        for x in data:
            ds.update(x)
        assert ours.to_bytes() == ds.serialize(), n


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_merges_interoperate(dtype):
    rng = np.random.default_rng(9)
    parts = [rng.normal(i, 1.0, 20_000).astype(NP[dtype]) for i in range(6)]
    ours = KllSketch(200, dtype)
    theirs = DS[dtype](200)
    for i, p in enumerate(parts):
        if i % 2:
            s = KllSketch(200, dtype)
            s.update(p)
            ours.merge(s)
            theirs.merge(DS[dtype].deserialize(s.to_bytes()))
        else:
            d = DS[dtype](200)
            d.update(p)
            ours.merge(KllSketch.from_bytes(d.serialize(), dtype))
            theirs.merge(d)
    assert ours.n == theirs.n == 120_000
    assert ours.min == theirs.get_min_value() and ours.max == theirs.get_max_value()
    everything = np.sort(np.concatenate(parts))
    eps = ours.normalized_rank_error()
    for r in np.linspace(0.01, 0.99, 50):
        for q in (ours.quantile(r), theirs.get_quantile(r)):
            true_rank = np.searchsorted(everything, q, side="right") / everything.size
            assert abs(true_rank - r) <= 2 * eps
    # the merged state crosses over and answers alike
    same_answers(KllSketch.from_bytes(theirs.serialize(), dtype), theirs, dtype)
    same_answers(ours, DS[dtype].deserialize(ours.to_bytes()), dtype)


FIXTURE_NS = [0, 1, 10, 100, 1000, 10000, 100000, 1000000]


@pytest.mark.parametrize("lang", ["java", "cpp"])
@pytest.mark.parametrize("kind,dtype", [("double", "float64"), ("float", "float32")])
def test_java_and_cpp_fixtures(fixtures_dir, lang, kind, dtype):
    for n in FIXTURE_NS:
        path = fixtures_dir / lang / f"kll_{kind}_n{n}_{lang}.sk"
        image = path.read_bytes()
        ours = KllSketch.from_bytes(image, dtype)
        assert ours.n == n and ours.k == 200
        assert ours.to_bytes() == image, path.name
        same_answers(ours, DS[dtype].deserialize(image), dtype)
        if n == 0:
            assert ours.is_empty()
            continue
        assert (ours.min, ours.max) == (1.0, float(n))
        assert ours.is_estimation_mode() == (n > 200)
        truth = np.arange(1, n + 1, dtype=np.float64)
        eps = ours.normalized_rank_error()
        for r in np.linspace(0, 1, 101):
            q = ours.quantile(r)
            true_rank = np.searchsorted(truth, q, side="right") / n
            assert abs(true_rank - r) <= eps + 1 / n, (path.name, r)
        if n <= 200:  # exact: the inverted CDF of 1..n
            np.testing.assert_array_equal(
                ours.quantiles(np.linspace(0, 1, 101)),
                np.quantile(truth, np.linspace(0, 1, 101), method="inverted_cdf"),
            )


def test_double_fixtures_read_as_float_are_refused_or_consistent(fixtures_dir):
    # Images do not record the item type; reading a doubles image as floats must fail
    # cleanly (its length does not add up) rather than misread it.
    for n in FIXTURE_NS[1:]:
        image = (fixtures_dir / "cpp" / f"kll_double_n{n}_cpp.sk").read_bytes()
        with pytest.raises(ValueError):
            KllSketch.from_bytes(image, "float32")
