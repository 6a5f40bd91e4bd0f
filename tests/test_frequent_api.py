"""FrequentItems: inputs, weights, queries, copies, images, unions and clear errors."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import (
    FrequentItems,
    IncompatibleSketchError,
    InvalidArgumentError,
    SketchCancelledError,
)


def rows_of(counts: Counter) -> dict:
    return {item: (c, c, c) for item, c in counts.items()}


def as_dict(f: FrequentItems) -> dict:
    return {item: (e, lo, hi) for item, e, lo, hi in f.top()}


def test_exact_counts_below_capacity_and_properties():
    f = FrequentItems(lg_max_map_size=6)
    data = [1, 2, 2, 3, 3, 3, -(2**63), 2**63 - 1]
    f.update(data)
    assert as_dict(f) == rows_of(Counter(data))
    assert f.top(k=1) == [(3, 3, 3, 3)]
    assert f.total_weight == 8 and f.num_active_items == 5 and len(f) == 5
    assert f.maximum_error == 0 and f.epsilon == 3.5 / 64
    assert (f.estimate(2), f.lower_bound(2), f.upper_bound(2)) == (2, 2, 2)
    assert f.estimate(99) == 0 and f.upper_bound(99) == 0
    assert f.lg_max_map_size == 6 and f.dtype == "int64"
    assert "total_weight=8" in repr(f)
    assert f.to_dict()["num_active_items"] == 5


def test_every_input_kind_with_and_without_weights():
    ints = FrequentItems(8)
    ints.update(np.array([5, 5, 6], dtype=np.int16))
    ints.update(pd.Series([5, None, 6], dtype="Int64"), weights=[1, 1000, 2])
    ints.update(pa.chunked_array([[5, None], [7]]), weights=np.array([3, 1000, 4]))
    ints.update(7, weights=10)
    ints.update(x for x in [8, 8])
    ints.update([None, 9], weights=[1000, 1])
    assert as_dict(ints) == rows_of(Counter({5: 6, 6: 3, 7: 14, 8: 2, 9: 1}))
    assert ints.total_weight == 26

    floats = FrequentItems(8, dtype="float64")
    floats.update([1, 2.5, 2.5])
    floats.update(np.array([2.5, np.nan], dtype=np.float32), weights=[2, 1])
    floats.update(pd.Series([1.0, None]), weights=[4, 1000])
    assert as_dict(floats)[2.5] == (4, 4, 4) and as_dict(floats)[1.0] == (5, 5, 5)
    assert floats.estimate(2.5) == 4 and floats.estimate(1) == 5

    words = FrequentItems(8, dtype="str")
    words.update(["a", "b", "a", "", None])
    words.update(np.array(["a", "café"]), weights=[1, 2])
    words.update(np.array([b"b", b"b"], dtype="S3"))
    words.update(pa.array(["b", None, "東京"], pa.large_string()), weights=[1, 1000, 3])
    words.update(pa.array(["x", "x"]).dictionary_encode())
    words.update("café", weights=5)
    words.update(pd.Series(["x", None]))
    want = Counter({"a": 3, "b": 4, "": 1, "café": 7, "東京": 3, "x": 3})
    assert as_dict(words) == rows_of(want)
    assert words.estimate("東京") == 3


def test_in_order_bulk_equals_item_by_item_byte_for_byte():
    rng = np.random.default_rng(3)
    data = rng.zipf(1.3, 50_000) % 5000
    weights = rng.integers(0, 5, data.size)
    bulk, one = FrequentItems(7, in_order=True), FrequentItems(7)
    bulk.update(data, weights=weights)
    for x, w in zip(data.tolist(), weights.tolist()):
        one.update(x, weights=w)
    assert bulk.maximum_error > 0
    assert bulk.to_bytes() == one.to_bytes()
    scalar = FrequentItems(7, in_order=True)
    for x in data.tolist():
        scalar.update(x)  # the buffered scalar path
    plain = FrequentItems(7, in_order=True)
    plain.update(data)
    assert scalar.to_bytes() == plain.to_bytes()


def test_combining_bulk_keeps_the_bounds_with_a_smaller_error():
    rng = np.random.default_rng(3)
    data = rng.zipf(1.3, 300_000) % 5000
    weights = rng.integers(0, 5, data.size)
    truth = Counter()
    for x, w in zip(data.tolist(), weights.tolist()):
        truth[x] += w
    combined, in_order = FrequentItems(7), FrequentItems(7, in_order=True)
    assert not combined.in_order and in_order.in_order
    for f in (combined, in_order):
        f.update(data, weights=weights)
        assert f.total_weight == sum(truth.values())
        for x in range(5000):
            assert f.lower_bound(x) <= truth[x] <= f.upper_bound(x)
    # Half the counters (48) bound each combining purge: error <= total / 48.
    assert 0 < combined.maximum_error <= combined.total_weight // 48
    assert combined.maximum_error < in_order.maximum_error
    assert combined.to_bytes() != in_order.to_bytes()
    # Copies and pickles keep the choice; it can change between updates.
    assert pickle.loads(pickle.dumps(in_order)).in_order and in_order.copy().in_order
    assert not pickle.loads(pickle.dumps(combined)).in_order
    combined.in_order = True
    assert combined.in_order and not FrequentItems.from_bytes(combined.to_bytes()).in_order
    # Below the capacity nothing purges: both ways give Java's item-by-item bytes.
    few = data % 90
    a, b = FrequentItems(7), FrequentItems(7, in_order=True)
    a.update(few, weights=weights)
    b.update(few, weights=weights)
    assert a.maximum_error == 0 and a.to_bytes() == b.to_bytes()


def test_weight_errors_change_nothing():
    f = FrequentItems(6)
    f.update([1, 2])
    before = f.to_bytes()
    with pytest.raises(ValueError, match="non-negative"):
        f.update([1, 2], weights=[1, -1])
    with pytest.raises(ValueError, match="3 items need 3 weights"):
        f.update([1, 2, 3], weights=[1, 2])
    with pytest.raises(TypeError, match="integers"):
        f.update([1, 2], weights=[1.0, 2.0])
    with pytest.raises(TypeError, match="integers"):
        f.update([1, 2], weights=np.array([True, False]))
    with pytest.raises(TypeError):
        f.update([1, 2], weights="12")
    with pytest.raises(ValueError, match="need"):
        f.update([1, 2], weights=3)
    with pytest.raises(InvalidArgumentError, match="total weight"):
        f.update([3, 4], weights=[2**62, 2**62])
    for nulls in (pa.array([1, None]), pa.chunked_array([[1], [None]]), pd.Series([1, None])):
        with pytest.raises(TypeError, match="integers"):
            f.update(pa.array([1, 2]), weights=nulls)
    assert f.to_bytes() == before


def test_wrong_dtypes_raise_type_errors_and_change_nothing():
    i, s = FrequentItems(6), FrequentItems(6, dtype="str")
    i.update([1])
    s.update(["a"])
    before = (i.to_bytes(), s.to_bytes())
    for bad in (1.5, [1, 2.5], np.array([1.5]), [1, "a"], "a", ["a"], np.array(["a"])):
        with pytest.raises(TypeError):
            i.update(bad)
    for bad in (1, 1.5, [1], np.arange(3), pd.Series([1, 2]), ["a", 1]):
        with pytest.raises(TypeError):
            s.update(bad)
    with pytest.raises(OverflowError):
        i.update(2**63)
    with pytest.raises(TypeError):
        i.estimate("a")
    with pytest.raises(TypeError):
        s.estimate(1)
    with pytest.raises(InvalidArgumentError, match="UTF-8"):
        s.update(pa.array([b"ok", b"\xff"]))
    # Long columns are checked on every core; the bad item is named wherever it is.
    long = [b"caf\xc3\xa9"] * 300_000
    long[200_001] = b"\xc3"
    with pytest.raises(InvalidArgumentError, match="item 200001 is not valid UTF-8"):
        s.update(pa.array(long))
    with pytest.raises(IncompatibleSketchError):
        i.merge(s)
    with pytest.raises(ValueError, match="dtype"):
        FrequentItems(6, dtype="int32")
    with pytest.raises(ValueError, match="lg_max_map_size"):
        FrequentItems(27)
    with pytest.raises(ValueError, match="error_type"):
        i.top(error_type="both")
    assert (i.to_bytes(), s.to_bytes()) == before


def test_copy_pickle_merge_or_and_close():
    f = FrequentItems(6, dtype="str")
    f.update(["café", "東京", "東京"])
    for g in (f.copy(), copy.deepcopy(f), pickle.loads(pickle.dumps(f))):
        assert g.top() == f.top() and g.to_bytes() == f.to_bytes() and g.dtype == "str"
    h = f | f
    assert h.estimate("東京") == 4 and f.estimate("東京") == 2
    f.merge(f)
    assert f.to_bytes() == h.to_bytes()
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f.update("a")
    with pytest.raises(ValueError, match="closed"):
        f.top()
    with pytest.raises(ValueError, match="closed"):
        assert f.in_order is None  # never reached: the property raises
    with pytest.raises(ValueError, match="closed"):
        f.in_order = True
    with pytest.raises(ValueError, match="closed"):
        f.spark_top_k()
    assert "closed" in repr(f)


def test_from_bytes_round_trips_every_dtype():
    for dtype, items in [("int64", [1, 2, 2]), ("float64", [0.5, -0.0, 0.0]), ("str", ["é", "é"])]:
        f = FrequentItems(5, dtype)
        f.update(items)
        g = FrequentItems.from_bytes(f.to_bytes(), dtype=dtype)
        assert g.top() == f.top() and g.to_bytes() == f.to_bytes()
        assert FrequentItems.from_bytes(FrequentItems(5, dtype).to_bytes(), dtype).is_empty()


def test_union_of_sketches_and_images_in_one_call():
    parts = []
    for i in range(10):
        p = FrequentItems(5)
        p.update(np.arange(i, i + 20))
        parts.append(p)
    merged = FrequentItems(8)
    for p in parts:
        merged.merge(p)
    images = [p.to_bytes() for p in parts]
    for u in (
        FrequentItems.union(parts, lg_max_map_size=8),
        FrequentItems.union(images, lg_max_map_size=8),
        FrequentItems.union(pa.array(images, pa.binary()), lg_max_map_size=8),
        FrequentItems.union(np.array(images, dtype=object), lg_max_map_size=8),
    ):
        assert u.to_bytes() == merged.to_bytes()
    assert FrequentItems.union(images).lg_max_map_size == 5
    assert FrequentItems.union([]).is_empty()
    s = FrequentItems(5, "str")
    with pytest.raises(IncompatibleSketchError):
        FrequentItems.union([parts[0], s])
    with pytest.raises(ValueError, match="image 1"):
        FrequentItems.union([images[0], b"garbage!"])
    words = FrequentItems.union([s, s.to_bytes()])
    assert words.dtype == "str"


def test_progress_and_cancel():
    data = np.arange(5_000_000) % 1000
    calls = []
    f = FrequentItems(12)
    f.update(data, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][1] == data.size
    assert f.total_weight == data.size

    def stop(done, total):
        raise KeyboardInterrupt

    g = FrequentItems(12)
    with pytest.raises(KeyboardInterrupt):
        g.update(data, weights=np.ones(data.size, dtype=np.uint64), progress=stop)
    assert 0 < g.total_weight < data.size  # a prefix: the finished blocks

    def cancel(done, total):
        raise SketchCancelledError("stop")

    with pytest.raises(SketchCancelledError):
        FrequentItems(12).update(data, progress=cancel)
