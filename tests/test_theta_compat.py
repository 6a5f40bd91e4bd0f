"""ThetaSketch against Apache DataSketches: same bytes, same estimates and bounds, same
set operations, and the Java/C++ images read as datasketches-python reads them."""

from __future__ import annotations

import re

import numpy as np
import pytest
from datasketches import (
    compact_theta_sketch,
    theta_a_not_b,
    theta_intersection,
    theta_jaccard_similarity,
    theta_union,
    update_theta_sketch,
)

from sketchbox import ThetaSketch

# Exact mode, the first resizes, the first rebuild (15/16 of 2k), deep estimation mode.
SIZES = [0, 1, 2, 10, 100, 1000, 4096, 5000, 7680, 7681, 20000, 100000]


def ds_of(values, lg_k=12, p=1.0, seed=9001):
    d = update_theta_sketch(lg_k, p, seed)
    for v in values:
        d.update(v)
    return d


def ours_of(values, lg_k=12, p=1.0, seed=9001):
    s = ThetaSketch(lg_k, p, seed)
    s.update(values)
    return s


def assert_same(s: ThetaSketch, d) -> None:
    """Same image (compact ordered, plain and compressed) and the same answers."""
    c = d.compact() if isinstance(d, update_theta_sketch) else d
    assert s.to_bytes() == c.serialize()
    assert s.to_bytes(compressed=True) == c.serialize(True)
    assert s.estimate() == d.get_estimate()
    assert s.theta == d.theta
    assert s.num_retained == d.num_retained
    assert s.is_empty() == d.is_empty()
    for n in (1, 2, 3):
        assert s.lower_bound(n) == d.get_lower_bound(n)
        assert s.upper_bound(n) == d.get_upper_bound(n)


@pytest.mark.parametrize("lg_k", [5, 6, 9, 12, 14])
def test_int_images_equal_datasketches(lg_k):
    for n in SIZES:
        values = np.arange(n, dtype=np.int64) * 7919 - 1000
        assert_same(ours_of(values, lg_k), ds_of(values.tolist(), lg_k))


@pytest.mark.parametrize("p", [0.5, 0.1, 0.01])
def test_sampling_equals_datasketches(p):
    for n in (0, 1, 30, 3000, 50000):
        values = np.arange(n, dtype=np.int64)
        assert_same(ours_of(values, 10, p), ds_of(values.tolist(), 10, p))


def test_million_random_items_equal_datasketches():
    values = np.random.default_rng(7).integers(-(2**62), 2**62, 1_000_000)
    assert_same(ours_of(values), ds_of(values.tolist()))


def test_strings_floats_and_mixed_equal_datasketches():
    rng = np.random.default_rng(3)
    floats = np.concatenate([rng.normal(size=9000), [0.0, -0.0, np.nan, np.inf, -np.inf]])
    strings = [f"user-{i}-é" if i % 3 else f"u{i}" for i in range(9000)]
    for values in (floats.tolist(), strings, strings[:5], floats[:20].tolist()):
        assert_same(ours_of(values, 11), ds_of(values, 11))
    mixed = [1, 1.0, "1", 2, "", 2.5, True, None, 3, "x" * 100]
    expected = ds_of([v for v in mixed if v is not None and v != ""])
    assert_same(ours_of(mixed), expected)
    # One-by-one updates (buffered scalars) equal the bulk path.
    s = ThetaSketch()
    for v in mixed:
        if v is not None:
            s.update(v)
    assert_same(s, expected)


def test_other_seeds_equal_datasketches():
    values = np.arange(30000, dtype=np.int64)
    for seed in (0, 1, 123456789, 2**63 + 5):
        ours = ours_of(values, 12, 1.0, seed)
        assert ours.seed == seed
        assert_same(ours, ds_of(values.tolist(), 12, 1.0, seed))
        back = ThetaSketch.from_bytes(ours.to_bytes(), seed=seed)
        assert_same(back, compact_theta_sketch.deserialize(ours.to_bytes(), seed))


def test_uint64_range_hashes_as_bit_pattern():
    big = np.arange(2**63, 2**63 + 1000, dtype=np.uint64)
    s = ThetaSketch()
    s.update([int(x) for x in big])
    assert s.to_bytes() == ds_of(big.view(np.int64).tolist()).compact().serialize()
    assert s.estimate() == 1000
    assert ours_of(big).to_bytes() == s.to_bytes()


# (lg_k, p, na, nb, overlap start of b): exact, estimation, sampled, empty cases.
SETOP_CASES = [
    (12, 1.0, 0, 0, 0),
    (12, 1.0, 0, 100, 0),
    (12, 1.0, 100, 0, 0),
    (12, 1.0, 100, 100, 50),
    (12, 1.0, 3000, 3000, 2000),
    (12, 1.0, 20000, 30000, 10000),
    (12, 1.0, 20000, 300, 100000),
    (10, 1.0, 50000, 50000, 0),
    (10, 1.0, 50000, 50000, 25000),
    (5, 1.0, 1000, 1000, 900),
    (12, 0.01, 1, 1, 0),
    (12, 0.01, 1, 5000, 0),
    (8, 0.3, 4000, 8000, 2000),
]


def pair(lg_k, p, na, nb, b_start):
    a_vals = np.arange(na, dtype=np.int64)
    b_vals = np.arange(b_start, b_start + nb, dtype=np.int64)
    return (
        ours_of(a_vals, lg_k, p),
        ours_of(b_vals, lg_k, p),
        ds_of(a_vals.tolist(), lg_k, p),
        ds_of(b_vals.tolist(), lg_k, p),
    )


@pytest.mark.parametrize("lg_k,p,na,nb,b_start", SETOP_CASES)
def test_set_operations_equal_datasketches(lg_k, p, na, nb, b_start):
    a, b, da, db = pair(lg_k, p, na, nb, b_start)
    u = theta_union(lg_k)
    u.update(da)
    u.update(db)
    assert_same(a | b, u.get_result())
    i = theta_intersection()
    i.update(da)
    i.update(db)
    assert_same(a & b, i.get_result())
    assert_same(a - b, theta_a_not_b().compute(da, db))
    assert_same(b - a, theta_a_not_b().compute(db, da))
    assert list(a.jaccard(b)) == theta_jaccard_similarity.jaccard(da, db)
    # From compact operands (the results of from_bytes) too.
    ca, cb = ThetaSketch.from_bytes(a.to_bytes()), ThetaSketch.from_bytes(b.to_bytes())
    assert_same(ThetaSketch.union([ca, cb], lg_k=lg_k), u.get_result())
    u12 = theta_union(12)  # compact operands carry no lg_k: | takes DataSketches' default
    u12.update(da)
    u12.update(db)
    assert_same(ca | cb, u12.get_result())
    assert_same(ca - cb, theta_a_not_b().compute(da.compact(), db.compact()))


def test_many_way_operations_equal_datasketches():
    rng = np.random.default_rng(11)
    ours, theirs, images = [], [], []
    for i in range(40):
        vals = rng.integers(0, 200_000, int(rng.integers(0, 20_000)))
        lg_k = int(rng.choice([8, 10, 12]))
        ours.append(ours_of(vals, lg_k))
        theirs.append(ds_of(vals.tolist(), lg_k))
        images.append(theirs[-1].compact().serialize(bool(i % 2)))
    for lg_k in (9, 12, 13):
        u = theta_union(lg_k)
        for d in theirs:
            u.update(d)
        expected = u.get_result()
        assert_same(ThetaSketch.union(ours, lg_k=lg_k), expected)
        assert_same(ThetaSketch.union(images, lg_k=lg_k), expected)
        assert_same(ThetaSketch.union(images[:20] + ours[20:], lg_k=lg_k), expected)
    # lg_k by default: the largest of the update sketches.
    u = theta_union(12)
    for d in theirs:
        u.update(d)
    assert_same(ThetaSketch.union(ours), u.get_result())
    inter = theta_intersection()
    for d in theirs[:3]:
        inter.update(d)
    assert_same(ThetaSketch.intersection(ours[:3]), inter.get_result())
    assert_same(ThetaSketch.intersection(images[:3]), inter.get_result())


def test_union_of_many_images_equals_datasketches_from_bytes():
    images = []
    for i in range(300):
        s = ThetaSketch()
        s.update(np.arange(i * 5000, (i + 1) * 5000))
        images.append(s.to_bytes())
    u = theta_union()
    for img in images:
        u.update(compact_theta_sketch.deserialize(img))
    assert_same(ThetaSketch.union(images), u.get_result())
    assert ThetaSketch.union(images).estimate() == pytest.approx(1_500_000, rel=0.05)


FIXTURE_RE = re.compile(r"theta_(compressed_)?n(\d+)_(java|cpp)\.sk")


def test_every_fixture_reads_as_datasketches_reads_it(fixtures_dir):
    files = sorted(fixtures_dir.glob("*/theta_*.sk"))
    assert len(files) == 30
    for path in files:
        data = path.read_bytes()
        s = ThetaSketch.from_bytes(data)
        d = compact_theta_sketch.deserialize(data)
        assert s.is_compact
        # Re-serialized as datasketches-python re-serializes it, byte for byte.
        assert_same(s, d)
        m = FIXTURE_RE.fullmatch(path.name)
        if m is None:  # non-empty, no entries
            assert not s.is_empty() and s.num_retained == 0 and s.estimate() == 0
            assert s.theta < 1 and s.upper_bound(1) > 0
            continue
        compressed, n = m.group(1) is not None, int(m.group(2))
        assert s.is_empty() == (n == 0)
        assert s.lower_bound(3) <= n <= s.upper_bound(3), path.name
        assert s.to_bytes(compressed=compressed) == d.serialize(compressed)
        # Every fixture enters set operations like a sketch of 0..n-1.
        ref = ours_of(np.arange(n))
        assert (s - ref).estimate() == 0
        assert (s & ref).estimate() == s.estimate()


def test_our_images_equal_the_cpp_fixtures(fixtures_dir):
    paths = [p for p in fixtures_dir.glob("cpp/theta_*.sk") if FIXTURE_RE.fullmatch(p.name)]
    assert len(paths) == 14
    for path in sorted(paths):
        compressed, n, _ = FIXTURE_RE.fullmatch(path.name).groups()
        s = ours_of(np.arange(int(n)))
        assert s.to_bytes(compressed=compressed is not None) == path.read_bytes(), path.name
    nene = ThetaSketch(12, p=0.01)
    nene.update(1)
    assert nene.to_bytes() == (fixtures_dir / "cpp/theta_non_empty_no_entries_cpp.sk").read_bytes()


@pytest.mark.parametrize("lg_k", [5, 9, 12])
def test_estimates_within_documented_error(lg_k):
    """RSE 1/sqrt(k): at 2 and 3 standard deviations over 60 fixed-seed trials, the
    misses stay within what a correct sketch gives with probability > 99.9%."""
    k = 1 << lg_k
    rse = 1 / np.sqrt(k)
    miss2 = miss3 = outside_bounds = 0
    trials = 60
    for seed in range(trials):
        rng = np.random.default_rng(1000 + seed)
        n = int(rng.integers(4 * k, 40 * k))
        vals = rng.integers(-(2**63), 2**63 - 1, n)
        s = ours_of(vals, lg_k)
        true = len(np.unique(vals))
        err = abs(s.estimate() - true)
        miss2 += err > 2 * rse * true
        miss3 += err > 3 * rse * true
        outside_bounds += not s.lower_bound(2) <= true <= s.upper_bound(2)
        assert s.lower_bound(3) <= s.lower_bound(1) <= s.estimate() <= s.upper_bound(1)
    # P(|Z| > 2) = 4.6%: 60 trials give 2.7 misses on average, P(more than 10) < 0.1%.
    assert miss2 <= 10
    # P(|Z| > 3) = 0.27%: P(more than 2 of 60) < 0.1%.
    assert miss3 <= 2
    assert outside_bounds <= 10


def test_set_operation_estimates_within_their_bounds():
    """Union, intersection and difference of large overlapping sets: the bounds at 3
    standard deviations hold the truth in every fixed-seed trial."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        n = 200_000
        overlap = int(rng.integers(n // 4, 3 * n // 4))
        start = n - overlap
        a, b = ours_of(np.arange(n)), ours_of(np.arange(start, start + n))
        truths = {"|": n + start, "&": overlap, "-": start}
        for op, r in (("|", a | b), ("&", a & b), ("-", a - b)):
            assert r.lower_bound(3) <= truths[op] <= r.upper_bound(3), (seed, op)
        lo, est, hi = a.jaccard(b)
        assert lo <= overlap / (n + start) <= hi
