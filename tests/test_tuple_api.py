"""TupleSketch: keys as ThetaSketch takes items, one value per key, Spark's summaries, set
operations (also with a ThetaSketch), images, pickling, accuracy inside Theta's bounds."""

from __future__ import annotations

import copy
import json
import math
import pickle
from collections import defaultdict

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import ReadOnlySketchError, ThetaSketch, TupleSketch

MODES = ["sum", "min", "max", "alwaysone"]


def per_key(keys, values, mode):
    """What each key's summary holds after the pairs, as Java's summaries combine them."""
    out: dict = {}
    for k, v in zip(keys, values):
        if mode == "sum":
            out[k] = out.get(k, 0) + v
        elif mode == "min":
            out[k] = min(out.get(k, v), v)
        elif mode == "max":
            out[k] = max(out.get(k, v), v)
        else:
            out[k] = 1
    return out


def aggregate(summaries, mode):
    vals = list(summaries)
    if mode == "sum":
        return sum(vals)
    if mode == "alwaysone":
        return len(vals)
    if not vals:
        return 0
    return min(vals) if mode == "min" else max(vals)


def test_docstring_example():
    t = TupleSketch(lg_k=12, summary="double", mode="sum")
    t.update(["a", "b", "a"], [1.0, 2.0, 3.5])
    assert (t.estimate(), t.summary(), t.summary("max")) == (2.0, 6.5, 4.5)
    assert t.summary_type == "double" and t.mode == "sum" and t.lg_k == 12
    assert t.num_retained == 2 and t.theta == 1.0 and not t.is_empty()


@pytest.mark.parametrize("summary", ["double", "integer"])
@pytest.mark.parametrize("mode", MODES)
def test_exact_summaries_are_the_per_key_aggregates(summary, mode):
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 300, 2000)
    values = rng.integers(-1000, 1000, 2000)
    if summary == "double":
        values = values / 8.0
    t = TupleSketch(summary=summary, mode=mode)
    t.update(keys, values)
    expected = per_key(keys.tolist(), values.tolist(), mode)
    assert t.estimate() == len(expected) == t.num_retained
    for query in MODES:
        got = t.summary(query)
        want = aggregate(expected.values(), query)
        assert got == pytest.approx(want, rel=1e-12), (mode, query)
        assert type(got) is (int if summary == "integer" else float)
    assert t.summary() == t.summary(mode)


def test_integer_sums_wrap_as_java_int_and_aggregate_as_long():
    t = TupleSketch(summary="integer")
    t.update([1, 1, 2, 2], [2**31 - 1, 1, 2**31 - 1, 2**31 - 1])
    # key 1 wraps to -2**31; key 2 to -2; Spark widens each to long before adding.
    assert t.summary("sum") == -(2**31) - 2
    assert t.summary("min") == -(2**31) and t.summary("max") == -2


def test_keys_in_every_container_give_the_same_image():
    ints = list(range(-500, 1500))
    vals = [float(i % 7) for i in ints]
    strings = [f"user-{i}" for i in ints]
    ref_int = TupleSketch()
    for k, v in zip(ints, vals):
        ref_int.update(k, v)
    ref_str = TupleSketch()
    for k, v in zip(strings, vals):
        ref_str.update(k, v)
    int_inputs = [
        (ints, vals),
        (np.array(ints), np.array(vals)),
        (np.array(ints, dtype=np.int32), np.array(vals, dtype=np.float32)),
        (pd.Series(ints), pd.Series(vals)),
        (pa.array(ints), pa.array(vals)),
        (pa.chunked_array([ints[:700], ints[700:]]), vals),
        (iter(ints), np.array(vals)),
        (np.array(ints), [int(v) for v in vals]),
    ]
    for keys, values in int_inputs:
        t = TupleSketch()
        t.update(keys, values)
        assert t.to_bytes() == ref_int.to_bytes(), type(keys)
    str_inputs = [
        (strings, vals),
        (np.array(strings), vals),
        (pd.Series(strings), vals),
        (pa.array(strings), vals),
        (pa.array(strings, pa.large_string()), vals),
        (pa.chunked_array([strings[:3], strings[3:]]), vals),
        ([s.encode() for s in strings], vals),
    ]
    for keys, values in str_inputs:
        t = TupleSketch()
        t.update(keys, values)
        assert t.to_bytes() == ref_str.to_bytes(), type(keys)


def test_null_keys_and_values_skip_their_pair():
    clean = TupleSketch(mode="max")
    clean.update(["a", "c", "e"], [1.0, 3.0, 5.0])
    keys = ["a", None, "c", "d", "e", ""]
    values = [1.0, 2.0, 3.0, None, 5.0, 6.0]
    cases = [
        (keys, values),
        (pd.Series(keys), pd.Series(values)),
        (pa.array(keys), pa.array(values)),
        (np.array(keys, dtype=object), np.array(values, dtype=object)),
        (pd.Series(keys), pd.Series([1.0, 2.0, 3.0, np.nan, 5.0, 6.0])),  # pandas NaN: missing
    ]
    for k, v in cases:
        t = TupleSketch(mode="max")
        t.update(k, v)
        assert t.to_bytes() == clean.to_bytes(), (type(k), type(v))
    # Numeric keys with nulls: pandas nullable and Arrow.
    ref = TupleSketch(summary="integer")
    ref.update([1, 3], [10, 30])
    for k, v in [
        (pd.Series([1, None, 3], dtype="Int64"), [10, 20, 30]),
        (pa.array([1, None, 3]), np.array([10, 20, 30])),
        ([1, 2, 3], pd.Series([10, None, 30], dtype="Int64")),
        (np.array([1, 2, 3]), pa.array([10, None, 30])),
    ]:
        t = TupleSketch(summary="integer")
        t.update(k, v)
        assert t.to_bytes() == ref.to_bytes()
    t = TupleSketch()
    t.update("a", None)  # a scalar pair with a null value
    t.update(["", b""], [1.0, 2.0])  # empty keys are not keys
    assert t.is_empty() and t.estimate() == 0 and t.summary() == 0.0


def test_datetime_keys_hash_as_their_ticks_and_nat_is_missing():
    ticks = np.array([0, 86_400, 2 * 86_400], dtype=np.int64)
    ref = TupleSketch()
    ref.update(ticks, [1.0, 2.0, 3.0])
    stamps = ticks.astype("datetime64[s]")
    with_nat = np.concatenate([stamps[:1], np.array(["NaT"], dtype="datetime64[s]"), stamps[1:]])
    for keys in (with_nat, list(with_nat)):
        t = TupleSketch()
        t.update(keys, [1.0, 9.0, 2.0, 3.0])
        assert t.to_bytes() == ref.to_bytes()


def test_mixed_key_lists_take_values_in_order():
    t = TupleSketch()
    t.update([1, "x", 2.5, b"y", 2**64 - 1], [1.0, 2.0, 3.0, 4.0, 5.0])
    ref = TupleSketch()
    for k, v in [(1, 1.0), ("x", 2.0), (2.5, 3.0), (b"y", 4.0), (2**64 - 1, 5.0)]:
        ref.update(k, v)
    assert t.to_bytes() == ref.to_bytes()
    assert t.summary() == 15.0


def test_keys_hash_and_sample_as_theta_items():
    for n in (100, 5000, 200_000):
        keys = np.arange(n) * 31
        t = TupleSketch(lg_k=10, mode="alwaysone")
        t.update(keys, np.ones(keys.size))
        th = ThetaSketch(lg_k=10)
        th.update(keys)
        # The same hashes, the same QuickSelect table: the same sample, theta and estimate.
        assert (t.theta, t.num_retained, t.estimate()) == (th.theta, th.num_retained, th.estimate())
        both = t & th
        assert both.num_retained == t.num_retained and (t - th).num_retained == 0


@pytest.mark.parametrize("lg_k", [4, 8, 12, 16])
def test_estimates_inside_thetas_bounds(lg_k):
    n = 200_000
    keys = np.random.default_rng(lg_k).integers(0, 2**62, n)
    t = TupleSketch(lg_k=lg_k, mode="sum")
    t.update(keys, np.ones(n))
    est, k = t.estimate(), 2**lg_k
    assert t.theta < 1 and t.num_retained >= k
    assert abs(est - n) / n <= 3.5 / math.sqrt(k)  # 3.5 sd of 1/sqrt(k)
    assert t.lower_bound(3) <= n <= t.upper_bound(3)
    lows, highs = [t.lower_bound(sd) for sd in (3, 2, 1)], [t.upper_bound(sd) for sd in (1, 2, 3)]
    assert lows == sorted(lows) and highs == sorted(highs) and lows[-1] <= est <= highs[0]
    # A sum of ones over the retained keys, scaled by theta, estimates the key count too.
    assert t.summary("sum") / t.theta == pytest.approx(est)


def test_exact_set_operations():
    a, b = TupleSketch(mode="sum"), TupleSketch(mode="sum")
    a.update(range(0, 60), [float(k % 10) for k in range(0, 60)])
    b.update(range(40, 100), [float(k % 10) for k in range(40, 100)])
    v = {k: float(k % 10) for k in range(100)}
    u = a | b
    assert u.estimate() == 100 and u.is_compact and u.mode == "sum"
    assert u.summary() == sum(v.values()) + sum(v[k] for k in range(40, 60))
    i = a & b
    assert i.estimate() == 20 and i.summary() == 2 * sum(v[k] for k in range(40, 60))
    d = a - b
    assert d.estimate() == 40 and d.summary() == sum(v[k] for k in range(40))
    assert TupleSketch.intersection([a, b], mode="max").summary("sum") == i.summary() / 2
    # A Theta operand: its keys carry a fresh summary of the mode (0 for sum).
    th = ThetaSketch()
    th.update(range(50, 150))
    assert (a | th).estimate() == 150 and (a | th).summary() == a.summary()
    assert (a & th).estimate() == 10 and (a & th).summary() == sum(v[k] for k in range(50, 60))
    assert (a - th).estimate() == 50
    with pytest.raises(TypeError):
        th | a  # Spark's tuple functions take the Theta sketch second


def test_union_of_images_sketches_and_thetas():
    parts = []
    for p in range(4):
        t = TupleSketch(lg_k=10, summary="integer", mode="max")
        keys = np.arange(p * 3000, p * 3000 + 5000)
        t.update(keys, (keys % 97).astype(np.int32))
        parts.append(t)
    images = [p.to_bytes() for p in parts]
    by_images = TupleSketch.union(images, lg_k=10, summary="integer", mode="max")
    by_sketches = TupleSketch.union(parts, lg_k=10)
    assert by_images.to_bytes() == by_sketches.to_bytes()
    assert by_images.summary_type == "integer" and by_images.mode == "max"
    mixed = TupleSketch.union([parts[0], images[1], parts[2], images[3]])
    assert mixed.to_bytes() == by_sketches.to_bytes()
    assert abs(by_images.estimate() - 14_000) / 14_000 < 0.1
    assert TupleSketch.union([]).is_empty()
    assert TupleSketch.union([ThetaSketch()]).is_empty()


def test_images_round_trip_and_pickle():
    for summary in ("double", "integer"):
        for n in (0, 1, 2, 10, 5000, 40_000):
            t = TupleSketch(lg_k=11, summary=summary, mode="min")
            t.update(np.arange(n), np.arange(n) % 50 - 25)
            b = t.to_bytes()
            back = TupleSketch.from_bytes(b, summary=summary)
            assert back.to_bytes() == b and back.is_compact and back.lg_k is None
            assert back.mode == ("min" if n else "sum")  # an empty image has no summaries
            assert back.estimate() == t.estimate() and back.summary() == t.summary(
                "min" if n else "sum"
            )
            again = pickle.loads(pickle.dumps(back))
            assert again.to_bytes() == b and again.summary_type == summary
            # An update sketch comes back an update sketch of the same entries (which its
            # image may list in another order).
            again = pickle.loads(pickle.dumps(t))
            assert again.summary_type == summary and not again.is_compact
            assert len(again.to_bytes()) == len(b) and again.estimate() == t.estimate()
            assert TupleSketch.from_bytes(bytearray(b), summary, mode="max").mode == "max"


def test_copy_is_independent_and_keeps_the_kind():
    t = TupleSketch()
    t.update([1, 2], [1.0, 2.0])
    c = copy.copy(t)
    c.update(3, 3.0)
    assert t.estimate() == 2 and c.estimate() == 3 and not c.is_compact
    frozen = copy.deepcopy(t | t)
    assert frozen.is_compact
    with pytest.raises(ReadOnlySketchError):
        frozen.update(4, 4.0)


def test_to_dict_and_repr():
    t = TupleSketch(lg_k=9, summary="integer", mode="max")
    t.update(np.arange(2000), np.arange(2000, dtype=np.int32))
    d = t.to_dict()
    assert d["family"] == "tuple" and d["kind"] == "update" and d["lg_k"] == 9
    assert d["summary_type"] == "integer" and d["summary_mode"] == "max"
    assert d["summary"]["max"] == t.summary("max") and d["estimate"] == t.estimate()
    json.loads(t.to_json())
    assert "update integer max lg_k=9" in repr(t)
    assert "compact" in repr(TupleSketch.from_bytes(t.to_bytes(), "integer"))


def test_double_values_accept_integers_and_float32():
    a, b = TupleSketch(), TupleSketch()
    a.update([1, 2], np.array([3, 4], dtype=np.int16))
    b.update([1, 2], [3.0, 4.0])
    assert a.to_bytes() == b.to_bytes()
    c = TupleSketch()
    c.update(np.array([1, 2]), np.array([3, 4], dtype=np.float32))
    assert c.to_bytes() == b.to_bytes()


def test_progress_is_called_on_large_inputs():
    n = 2**21 + 10
    calls = []
    t = TupleSketch(lg_k=8)
    t.update(np.arange(n), np.ones(n), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2**21, n), (n, n)]

    def stop(done, total):
        raise KeyboardInterrupt

    s = TupleSketch(lg_k=8)
    with pytest.raises(KeyboardInterrupt):
        s.update(np.arange(n), np.ones(n), progress=stop)
    prefix = TupleSketch(lg_k=8)
    prefix.update(np.arange(2**21), np.ones(2**21))
    assert s.to_bytes() == prefix.to_bytes()


def test_summaries_by_key_group_like_a_groupby():
    rng = np.random.default_rng(3)
    keys = rng.choice([f"k{i}" for i in range(50)], 5000)
    vals = rng.normal(size=5000)
    t = TupleSketch(mode="sum")
    t.update(pd.Series(keys), pd.Series(vals))
    groups = defaultdict(float)
    for k, v in zip(keys.tolist(), vals.tolist()):
        groups[k] += v
    assert t.summary("sum") == pytest.approx(sum(groups.values()), rel=1e-9)
    assert t.summary("alwaysone") == 50


def test_infinite_summaries_keep_their_sign_in_to_dict() -> None:
    t = TupleSketch()
    t.update([1, 2], [math.inf, 5.0])
    assert t.summary("max") == math.inf
    assert t.to_dict()["summary"]["max"] == "inf" and t.to_dict()["summary"]["sum"] == "inf"
    u = TupleSketch()
    u.update([1], [-math.inf])
    assert u.to_dict()["summary"]["min"] == "-inf"


def test_or_of_unpickled_sketches_keeps_their_precision() -> None:
    t = TupleSketch(lg_k=16)
    t.update(np.arange(300_000), np.ones(300_000))
    back = pickle.loads(pickle.dumps(t))
    assert (back | back).num_retained == (t | t).num_retained == 2**16


@pytest.mark.parametrize("summary,mode", [("double", "sum"), ("integer", "max"), ("double", "min")])
def test_a_pickled_update_sketch_comes_back_an_update_sketch(summary: str, mode: str) -> None:
    rng = np.random.default_rng(5)
    keys, values = rng.integers(0, 20_000, 30_000), rng.integers(-50, 50, 30_000)
    t = TupleSketch(lg_k=10, summary=summary, mode=mode)
    t.update(keys[:15_000], values[:15_000])
    back = pickle.loads(pickle.dumps(t))
    assert not back.is_compact and back.lg_k == 10 and back.mode == mode
    assert back.estimate() == t.estimate() and back.summary() == t.summary()
    # Later updates continue as in the original: the same entries and theta.
    for s in (t, back):
        s.update(keys[15_000:], values[15_000:])
    assert back.theta == t.theta and back.num_retained == t.num_retained
    assert back.estimate() == t.estimate() and back.summary() == t.summary()
    assert (back | t).estimate() == (t | t).estimate()
    empty = pickle.loads(pickle.dumps(TupleSketch(lg_k=9, summary=summary)))
    assert not empty.is_compact and empty.is_empty() and empty.lg_k == 9
