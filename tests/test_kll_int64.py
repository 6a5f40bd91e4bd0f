"""KllSketch(dtype="int64"): Java's KllLongsSketch (Spark's bigint KLL). Integers stay
exact over the whole int64 range, every integer, bool and temporal column enters without
a float round trip, and anything else is refused before any item is applied."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import IncompatibleSketchError, KllSketch

FIXTURE_NS = [0, 1, 10, 100, 1000, 10000, 100000, 1000000]


def sketch(values=None, k: int = 200, seed: int = 7) -> KllSketch:
    s = KllSketch(k, "int64", seed=seed)
    if values is not None:
        s.update(values)
    return s


@pytest.mark.parametrize("n", FIXTURE_NS)
def test_java_long_fixtures_read_and_answer_as_named(fixtures_dir, n):
    # kll_long_n{N}_java.sk: Java's KllLongsSketch, k 200, of the values 1..N
    image = (fixtures_dir / "java" / f"kll_long_n{n}_java.sk").read_bytes()
    s = KllSketch.from_bytes(image, "int64")
    assert (s.n, s.k, s.dtype) == (n, 200, np.dtype(np.int64))
    assert s.to_bytes() == image
    if n == 0:
        assert s.is_empty()
        return
    assert (s.min, s.max) == (1, n) and type(s.min) is int
    assert s.is_estimation_mode() == (n > 200)
    grid = np.linspace(0, 1, 101)
    q = s.quantiles(grid)
    assert q.dtype == np.int64
    assert (q[0], q[-1]) == (1, n)  # the exact extremes at ranks 0 and 1, as in Java
    # item v has true rank v / n
    assert np.max(np.abs(q / n - grid)) <= s.normalized_rank_error() + 1 / n
    if n <= 200:  # exact: rank i / n is item i, rank of item v is v / n
        assert s.quantiles(np.arange(n + 1) / n).tolist() == [1, *range(1, n + 1)]
        items = np.arange(n + 2)
        np.testing.assert_array_equal(s.ranks(items), np.minimum(items, n) / n)
    assert s.rank(0) == 0.0 and s.rank(n) == 1.0 and s.rank(n, inclusive=False) < 1.0


def test_integers_beyond_2_pow_53_stay_exact():
    base = 2**62
    data = base + np.arange(20_000, dtype=np.int64) * 3
    s = sketch(data)
    assert (s.min, s.max) == (base, base + 59_997)
    assert s.quantile(0.0) == base and s.quantile(1.0) == base + 59_997
    assert isinstance(s.quantile(0.5), int)
    # every answer is one of the items (doubles could not tell base + 3 from base)
    assert all((x - base) % 3 == 0 for x in s.quantiles(np.linspace(0, 1, 201)).tolist())
    assert s.rank(base) == 1 / 20_000 and s.rank(base, inclusive=False) == 0.0
    assert s.rank(base + 59_997) == 1.0
    assert s.to_dict()["max"] == base + 59_997
    # the extremes of the type are items too
    t = sketch([2**63 - 1, -(2**63), 0])
    assert (t.min, t.max, t.quantile(0.5)) == (-(2**63), 2**63 - 1, 0)
    assert t.ranks([-(2**63), 2**63 - 1]).tolist() == [1 / 3, 1.0]


def test_every_integer_and_temporal_input_gives_the_same_sketch():
    ints = np.array([5, -3, 0, 7, 7, 120, -128, 99], dtype=np.int64)
    want = sketch(ints).to_bytes()
    same = [
        ints.tolist(),
        tuple(ints.tolist()),
        iter(ints.tolist()),
        ints.astype(np.int8),
        ints.astype(np.int16),
        ints.astype(np.int32),
        ints[::-1][::-1],  # a view
        pd.Series(ints),
        pd.Series(list(ints) + [None], dtype="Int64"),  # NA skipped
        pa.array(ints.tolist() + [None], pa.int32()),  # null skipped
        pa.chunked_array([ints[:3].tolist(), ints[3:].tolist()], pa.int64()),
        ints.astype("datetime64[s]"),  # ticks
        ints.astype("timedelta64[ms]"),
        np.concatenate([ints.astype("datetime64[ns]"), [np.datetime64("NaT")]]),  # NaT skipped
        pa.array(ints.tolist(), pa.timestamp("us")),
        pa.array(ints.astype(np.int32).tolist(), pa.date32()),
        pd.Series(ints.astype("datetime64[ns]")).dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"),
    ]
    for values in same:
        assert sketch(values).to_bytes() == want, type(values)
    one_by_one = sketch()
    for v in ints.tolist():
        one_by_one.update(v)
    assert one_by_one.to_bytes() == want
    # unsigned and bool columns convert exactly
    u = sketch(np.array([1, 2**63 - 1], dtype=np.uint64))
    assert (u.min, u.max) == (1, 2**63 - 1)
    assert sketch(np.array([True, False, True])).to_bytes() == sketch([1, 0, 1]).to_bytes()


@pytest.mark.parametrize(
    "bad,error",
    [
        (1.5, TypeError),
        (np.float64(2.0), TypeError),
        ([1, 2.5], TypeError),
        (np.array([1.0, 2.0]), TypeError),
        (np.array([1, 2], dtype=np.float32), TypeError),
        (pd.Series([1.5, 2.5]), TypeError),
        (pa.array([1.5]), TypeError),
        ("12", TypeError),
        (["1", 2], TypeError),
        (2**63, OverflowError),
        ([1, None, 2**63], OverflowError),
        ([1, 2**64], OverflowError),
        (np.array([1, 2**63], dtype=np.uint64), ValueError),
    ],
)
def test_non_integers_and_out_of_range_are_refused_whole(bad, error):
    s = sketch([10, 20, 30])
    before = s.to_bytes()
    with pytest.raises(error):
        s.update(bad)
    assert s.to_bytes() == before


def test_queries_take_integers():
    s = sketch(np.arange(1, 1001), k=1000)  # exact
    assert s.rank(500) == 0.5 and s.rank(np.int32(500)) == 0.5
    np.testing.assert_array_equal(s.ranks([0, 500, 1000]), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(s.cdf([250, 750]), [0.25, 0.75, 1.0])
    np.testing.assert_array_equal(s.pmf([250, 750], inclusive=False), [0.249, 0.5, 0.251])
    assert s.quantiles([[0.0, 0.5], [0.75, 1.0]]).shape == (2, 2)
    for bad in (2.5, [1.5], np.array([1.0])):
        with pytest.raises(TypeError):
            s.rank(bad)
    with pytest.raises(TypeError):
        s.cdf([1.5, 2.5])
    with pytest.raises(OverflowError):
        s.rank(2**63)
    with pytest.raises(ValueError):
        s.cdf([5, 3])  # not increasing


def test_images_pickle_merge_and_union():
    a, b = sketch(np.arange(0, 5000), seed=1), sketch(np.arange(5000, 10_000) + 2**60, seed=2)
    image = a.to_bytes()
    assert KllSketch.from_bytes(image, "int64").to_bytes() == image
    for c in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert c.dtype == np.dtype(np.int64) and c.to_bytes() == image
    m = a | b
    assert (m.n, m.min, m.max) == (10_000, 0, 2**60 + 9999)
    u = KllSketch.union([a, b.to_bytes()], dtype="int64")
    assert (u.n, u.min, u.max, u.dtype) == (10_000, 0, 2**60 + 9999, np.dtype(np.int64))
    with pytest.raises(IncompatibleSketchError, match="double items into one of int64"):
        a.merge(KllSketch())
    with pytest.raises(IncompatibleSketchError):
        KllSketch().merge(a)
    with pytest.raises(IncompatibleSketchError):
        KllSketch.union([a], dtype="float64")
    assert "dtype=int64" in repr(a)
