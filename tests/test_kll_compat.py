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


def weighted_items(image: bytes, dtype: str) -> list[tuple[float, int]]:
    """The retained (item, weight) pairs of a DataSketches KLL image, read from its
    documented layout (datasketches-python's iterator gives merged sketches' items
    weight 1, so it cannot serve)."""
    item = np.dtype(NP[dtype])
    if image[3] & 1:  # empty
        return []
    if image[3] & 4:  # single item
        return [(float(np.frombuffer(image, item, 1, 8)[0]), 1)]
    num_levels = image[18]
    offsets = list(np.frombuffer(image, "<u4", num_levels, 20))
    data = 20 + 4 * num_levels + 2 * item.itemsize
    items = np.frombuffer(image, item, offset=data).astype(np.float64)
    offsets = [o - offsets[0] for o in offsets] + [items.size]
    return [
        (float(x), 1 << h) for h in range(num_levels) for x in items[offsets[h] : offsets[h + 1]]
    ]


class SortedView:
    """The queries of a DataSketches KLL image, computed from its retained items and
    weights: as C++ (datasketches-python) answers them, or with ``java=True`` as Java
    does (the two differences the kll module documents: ``r * n`` rounded to 7
    decimals up to n = 10**7, and the exact min and max added to the sorted view where
    no compaction kept them). The C++ form is checked against datasketches-python
    itself, so the Java form differs from it by those two rules only."""

    def __init__(self, theirs, dtype: str, java: bool) -> None:
        pairs = sorted(weighted_items(theirs.serialize(), dtype), key=lambda p: p[0])
        items = [p[0] for p in pairs]
        cum = list(np.cumsum([p[1] for p in pairs]))
        self.n = theirs.n
        assert cum[-1] == self.n
        self.java = java
        if java:
            lo, hi = theirs.get_min_value(), theirs.get_max_value()
            if items[-1] != hi:
                cum[-1] = self.n - 1
                items.append(hi)
                cum.append(self.n)
            if items[0] != lo:
                items.insert(0, lo)
                cum.insert(0, 1)
        self.items = np.array(items, dtype=np.float64)
        self.cum = np.array(cum, dtype=np.int64)

    def quantile(self, r: float, inclusive: bool) -> float:
        t = r * self.n
        if self.java and self.n <= 10**7:
            t = np.floor(t * 1e7 + 0.5) / 1e7
        if inclusive:
            i = np.searchsorted(self.cum, np.ceil(t), side="left")
        else:
            i = np.searchsorted(self.cum, np.floor(t), side="right")
        return float(self.items[min(i, len(self.items) - 1)])

    def rank(self, x: float, inclusive: bool) -> float:
        i = np.searchsorted(self.items, x, side="right" if inclusive else "left")
        return 0.0 if i == 0 else float(self.cum[i - 1] / self.n)


def same_answers(ours: KllSketch, theirs, dtype: str) -> None:
    """Every query of ours equals Java's answer on the state of the DataSketches
    sketch, which equals datasketches-python's except at the two documented
    differences (see SortedView)."""
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
    cpp, java = SortedView(theirs, dtype, java=False), SortedView(theirs, dtype, java=True)
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
    ranks = RANKS + list(np.arange(theirs.n + 1) / theirs.n if theirs.n <= 300 else [])
    for inclusive in (True, False):
        for r in ranks:
            assert cpp.quantile(r, inclusive) == theirs.get_quantile(r, inclusive), (r, inclusive)
            assert ours.quantile(r, inclusive) == java.quantile(r, inclusive), (r, inclusive)
        np.testing.assert_array_equal(
            ours.quantiles(ranks, inclusive), [java.quantile(r, inclusive) for r in ranks]
        )
        for x in probes:
            assert cpp.rank(float(x), inclusive) == theirs.get_rank(float(x), inclusive), x
            assert ours.rank(float(x), inclusive) == java.rank(float(x), inclusive), x
        if len(splits):
            java_ranks = [java.rank(float(x), inclusive) for x in splits]
            np.testing.assert_array_equal(ours.cdf(splits, inclusive), java_ranks + [1.0])
            np.testing.assert_allclose(
                ours.pmf(splits, inclusive),
                np.diff(np.concatenate([[0.0], java_ranks, [1.0]])),
                rtol=0,
                atol=1e-15,
            )
            if java.items.size == cpp.items.size:  # no extreme added: C++'s answers
                np.testing.assert_array_equal(
                    ours.cdf(splits, inclusive), theirs.get_cdf(splits.tolist(), inclusive)
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
        # ranks 0 and 1 are the exact extremes, as in Java
        assert (ours.quantile(0.0), ours.quantile(1.0)) == (1.0, float(n))
        if n <= 200:  # exact: the inverted CDF of 1..n (at i / n, item i)
            grid = np.linspace(0, 1, 101)
            same = np.floor(grid * n * 1e7 + 0.5) / 1e7 == grid * n
            np.testing.assert_array_equal(
                ours.quantiles(grid[same]),
                np.quantile(truth, grid[same], method="inverted_cdf"),
            )
            np.testing.assert_array_equal(ours.quantiles(np.arange(n + 1) / n), [1, *truth])


def test_double_fixtures_read_as_float_are_refused_or_consistent(fixtures_dir):
    # Images do not record the item type; reading a doubles image as floats must fail
    # cleanly (its length does not add up) rather than misread it.
    for n in FIXTURE_NS[1:]:
        image = (fixtures_dir / "cpp" / f"kll_double_n{n}_cpp.sk").read_bytes()
        with pytest.raises(ValueError):
            KllSketch.from_bytes(image, "float32")
