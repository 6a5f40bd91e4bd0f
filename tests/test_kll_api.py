"""The everyday Python surface of KllSketch."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np

import sketchbox
from sketchbox import KllSketch


def filled(n=10_000, dtype="float64", k=200, seed=None, start=0.0):
    s = KllSketch(k, dtype, seed=seed)
    s.update(np.arange(start, start + n))
    return s


def test_defaults_and_properties():
    s = KllSketch()
    assert (s.k, s.min_k, s.dtype, s.n, s.num_retained) == (200, 200, np.float64, 0, 0)
    assert s.is_empty() and not s.is_estimation_mode()
    s.update(np.arange(1.0, 101.0))
    assert (s.n, s.num_retained, s.min, s.max) == (100, 100, 1.0, 100.0)
    assert s.quantile(0.5) == 50.0 and s.rank(25.0) == 0.25
    assert isinstance(s.quantile(0.5), float) and isinstance(s.rank(1.0), float)
    assert KllSketch(50, "float32").dtype == np.float32
    assert "KllSketch" in sketchbox.__all__ and "EmptySketchError" in sketchbox.__all__


def test_scalar_and_array_queries():
    s = filled(1000)
    assert s.quantile([0.1, 0.5]).tolist() == s.quantiles([0.1, 0.5]).tolist()
    assert s.rank(np.array([10.0, 500.0])).tolist() == s.ranks([10.0, 500.0]).tolist()
    q = s.quantiles(np.array([[0.1, 0.2], [0.5, 0.9]]))
    assert q.shape == (2, 2) and q.dtype == np.float64
    assert s.ranks([[1.0], [2.0]]).shape == (2, 1)
    assert s.quantile(np.float32(0.5)) == s.quantile(0.5)
    assert s.quantiles(np.linspace(0, 1, 5), inclusive=False).shape == (5,)
    f = filled(1000, "float32")
    assert f.quantiles([0.5]).dtype == np.float32 and isinstance(f.quantile(0.5), float)
    cdf, pmf = s.cdf([100.0, 500.0]), s.pmf([100.0, 500.0])
    assert cdf.shape == pmf.shape == (3,) and cdf[-1] == 1.0
    np.testing.assert_allclose(np.cumsum(pmf), cdf, atol=1e-12)


def test_inclusive_and_exclusive_criteria():
    s = KllSketch()
    s.update([1.0, 2.0, 2.0, 3.0])
    assert s.rank(2.0) == 0.75 and s.rank(2.0, inclusive=False) == 0.25
    assert s.quantile(0.5) == 2.0 and s.quantile(0.5, inclusive=False) == 2.0
    assert s.quantile(0.25) == 1.0 and s.quantile(0.25, inclusive=False) == 2.0
    assert s.quantile(0.75) == 2.0 and s.quantile(0.75, inclusive=False) == 3.0
    np.testing.assert_array_equal(s.cdf([2.0]), [0.75, 1.0])
    np.testing.assert_array_equal(s.cdf([2.0], inclusive=False), [0.25, 1.0])
    np.testing.assert_array_equal(s.pmf([1.5, 2.5]), [0.25, 0.5, 0.25])


def test_pickle_copy_and_round_trip():
    for dtype in ("float64", "float32"):
        s = filled(50_000, dtype)
        for clone in (pickle.loads(pickle.dumps(s)), s.copy(), copy.copy(s), copy.deepcopy(s)):
            assert clone is not s and clone.dtype == s.dtype
            assert clone.to_bytes() == s.to_bytes()
        c = s.copy()
        c.update(np.arange(10.0**6, 10.0**6 + 5000))
        assert c.n == s.n + 5000 and s.n == 50_000  # copies are independent
        assert KllSketch.from_bytes(memoryview(s.to_bytes()), dtype).to_bytes() == s.to_bytes()
        assert KllSketch.from_bytes(bytearray(s.to_bytes()), dtype).to_bytes() == s.to_bytes()


def test_merge_and_operators():
    a, b = filled(5000, seed=1), filled(5000, start=5000.0, seed=2)
    u = a | b
    assert (u.n, u.min, u.max) == (10_000, 0.0, 9999.0)
    assert a.n == 5000  # | leaves its operands alone
    assert abs(u.quantile(0.5) - 5000) <= 10_000 * u.normalized_rank_error()
    a |= b
    assert (a.n, a.max) == (10_000, 9999.0)
    assert (KllSketch() | KllSketch()).is_empty()
    a.merge(a)
    assert a.n == 20_000
    small = filled(5000, k=50)
    big = filled(5000, k=400)
    big.merge(small)
    assert (big.k, big.min_k) == (400, 50)
    assert big.normalized_rank_error() == KllSketch(50).normalized_rank_error()


def test_to_dict_json_and_repr():
    s = filled(100_000)
    d = s.to_dict()
    assert d["family"] == "kll" and d["k"] == 200 and d["n"] == 100_000
    assert d["item_type"] == "f64" and d["estimation_mode"] is True
    assert d["min"] == 0.0 and d["max"] == 99_999.0 and d["num_retained"] == s.num_retained
    assert d["normalized_rank_error"] == s.normalized_rank_error()
    assert sum(lv["size"] << lv["level"] for lv in d["levels"]) == s.n
    assert json.loads(s.to_json()) == d
    assert repr(s) == (
        f"<KllSketch k=200 dtype=float64 n=100000 retained={s.num_retained} min=0.0 max=99999.0>"
    )
    assert repr(KllSketch(10, "float32")) == "<KllSketch k=10 dtype=float32 n=0>"
    inf = KllSketch()
    inf.update([-np.inf, 1.0, np.inf])
    assert inf.to_dict()["min"] == "-inf" and inf.min == -np.inf


def test_seeded_sketches_are_reproducible_and_unseeded_vary():
    x = np.random.default_rng(0).normal(size=100_000)
    images = set()
    for seed in (5, 5, 6):
        s = KllSketch(seed=seed)
        s.update(x)
        images.add(s.to_bytes())
    assert len(images) == 2
    unseeded = set()
    for _ in range(3):
        s = KllSketch()
        s.update(x)
        unseeded.add(s.to_bytes())
    assert len(unseeded) == 3
