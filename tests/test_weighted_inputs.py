"""Weighted updates of FrequentItems and CountMin (one shared path, `_input.feed_weighted`):
every input kind an unweighted update takes, with the same items applied and each weight
where its item is; bad inputs are clear errors that leave the sketch as it was."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import CountMin, FrequentItems, HyperLogLog, KllSketch, ThetaSketch, TupleSketch
from sketchbox.errors import InvalidArgumentError

Make = Callable[[str], Any]


def _frequent(kind: str) -> FrequentItems:
    return FrequentItems(10, dtype=kind)


def _countmin(_kind: str) -> CountMin:
    return CountMin(3, 1024)


FAMILIES = [pytest.param(_frequent, id="frequent"), pytest.param(_countmin, id="countmin")]


def _weights_of(sketch: Any, items: list[Any]) -> list[float]:
    return [sketch.estimate(x) for x in items]


@pytest.mark.parametrize("make", FAMILIES)
@pytest.mark.parametrize(
    "values",
    [
        pytest.param(pa.array(["a", None, "b", "a"], pa.string_view()), id="string_view"),
        pytest.param(pa.array([b"a", None, b"b", b"a"], pa.binary_view()), id="binary_view"),
        pytest.param(pa.array(["a", None, "b", "a"]).dictionary_encode(), id="dictionary"),
        pytest.param(pa.array(["z", "a", None, "b", "a"], pa.large_string())[1:], id="sliced"),
        pytest.param(pa.chunked_array([["a", None], ["b", "a"]]), id="chunked"),
        pytest.param(
            pd.Series(["a", None, "b", "a"], dtype=pd.ArrowDtype(pa.string_view())),
            id="pandas-string_view",
        ),
        pytest.param(pd.Series(["a", None, "b", "a"], dtype="string"), id="pandas-string"),
        pytest.param(pd.Index(["a", None, "b", "a"]), id="pandas-index"),
        pytest.param(["a", None, "b", "a"], id="list"),
        pytest.param(np.array(["a", None, "b", "a"], dtype=object), id="object-array"),
    ],
)
def test_strings_of_every_kind_take_their_weights(make: Make, values: Any) -> None:
    s = make("str")
    s.update(values, weights=[1, 20, 300, 4000])
    assert _weights_of(s, ["a", "b"]) == [4001, 300]
    assert s.total_weight == 4301  # the null's weight is not applied
    plain = make("str")
    plain.update(values)
    assert _weights_of(plain, ["a", "b"]) == [2, 1]


@pytest.mark.parametrize("make", FAMILIES)
@pytest.mark.parametrize(
    "values,ticks",
    [
        (np.array([5, 7, 5], "datetime64[s]"), [5, 7]),
        (np.array([5, 7, 5], "datetime64[ns]"), [5, 7]),
        (np.array([5, 7, 5], "timedelta64[ms]"), [5, 7]),
        (pd.Series(np.array([5, 7, 5], "datetime64[ns]")), [5, 7]),
        (pa.array([5, 7, 5], pa.timestamp("s")), [5, 7]),
        (pa.array([5, 7, 5], pa.date32()), [5, 7]),
        (pa.array([5, 7, 5]).dictionary_encode(), [5, 7]),
        (pd.Series([5, 7, 5], dtype="Int64"), [5, 7]),
        (pd.Series([5, 7, 5], dtype=pd.ArrowDtype(pa.int64())), [5, 7]),
        (pd.Series([True, False, True]), [1, 0]),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, list) else "",
)
def test_temporal_and_nullable_numbers_take_their_weights(
    make: Make, values: Any, ticks: list[int]
) -> None:
    s = make("int64")
    s.update(values, weights=[1, 20, 300])
    assert _weights_of(s, ticks) == [301, 20]
    plain = make("int64")
    plain.update(values)
    assert _weights_of(plain, ticks) == [2, 1]


@pytest.mark.parametrize("make", FAMILIES)
def test_missing_values_skip_their_weights(make: Make) -> None:
    cases: list[Any] = [
        np.array([5, "NaT", 5], "datetime64[s]"),
        pd.Series(np.array([5, "NaT", 5], "datetime64[s]")),
        pa.array([5, None, 5], pa.timestamp("s")),
        pd.Series([5, None, 5], dtype="Int64"),
        pd.Series([5, None, 5], dtype=pd.ArrowDtype(pa.int64())),
        [5, None, 5],
    ]
    for values in cases:
        s = make("int64")
        s.update(values, weights=[1, 20, 300])
        assert s.total_weight == 301, values
        assert s.estimate(5) == 301, values


@pytest.mark.parametrize("make", FAMILIES)
def test_one_item_with_a_weight(make: Make) -> None:
    s = make("int64")
    s.update(np.datetime64(5, "s"), weights=7)
    s.update(np.int32(5), weights=3)
    s.update(True, weights=2)
    assert s.estimate(5) == 10
    assert s.estimate(1) == 2
    assert s.estimate(np.datetime64(5, "s")) == 10
    assert s.total_weight == 12


@pytest.mark.parametrize("make", FAMILIES)
@pytest.mark.parametrize(
    "values,message",
    [
        (None, "None"),
        (pd.NA, "NAType"),
        (pd.DataFrame({"a": ["x"]}), "one column"),
        (pa.table({"a": ["x"]}), "one column"),
        (pa.record_batch({"a": ["x"]}), "one column"),
    ],
    ids=["None", "NA", "DataFrame", "Table", "RecordBatch"],
)
def test_what_is_not_a_column_is_a_type_error(make: Make, values: Any, message: str) -> None:
    s = make("str")
    with pytest.raises(TypeError, match=message):
        s.update(values, weights=[1])
    assert s.total_weight == 0


@pytest.mark.parametrize("make", FAMILIES)
@pytest.mark.parametrize(
    "weights",
    [
        pd.Series([1, None], dtype="Int64"),
        pd.Series([1, None], dtype=pd.ArrowDtype(pa.int64())),
        pa.array([1, None]),
    ],
    ids=["Int64", "ArrowDtype", "pyarrow"],
)
def test_a_null_weight_is_named(make: Make, weights: Any) -> None:
    s = make("int64")
    with pytest.raises(TypeError, match="not null"):
        s.update([1, 2], weights=weights)
    assert s.total_weight == 0


def test_an_int64_sketch_is_queried_with_the_bools_it_takes() -> None:
    f = FrequentItems()
    f.update([True, True, False])
    assert f.top() == [(1, 2, 2, 2), (0, 1, 1, 1)]
    assert f.estimate(True) == 2 and f.estimate(np.bool_(False)) == 1


@pytest.mark.parametrize(
    "values,weights",
    [
        (2**63 + 1, None),
        ([2**63 + 1, 1], None),
        ([1, -(2**63) - 1], None),
        (np.uint64(2**63 + 1), None),
        (2**63 + 1, 2),
        ([1, 2**63 + 1], [1, 1]),
        (np.uint64(2**63 + 1), 2),
    ],
)
def test_integers_outside_int64_are_named_overflows(values: Any, weights: Any) -> None:
    f = FrequentItems()
    f.update([7])
    with pytest.raises(OverflowError, match="outside the int64 range of this sketch"):
        f.update(values, weights=weights)
    assert f.top() == [(7, 1, 1, 1)]


def test_a_uint64_array_outside_int64_is_refused_whole() -> None:
    f = FrequentItems()
    with pytest.raises(InvalidArgumentError, match="outside the int64 range"):
        f.update(np.array([1, 2**63 + 1], np.uint64))
    assert f.total_weight == 0


@pytest.mark.parametrize("weights", [None, [1, 1, 1]])
def test_a_list_with_bytes_that_are_not_utf8_leaves_the_sketch_as_it_was(weights: Any) -> None:
    f = FrequentItems(dtype="str")
    f.update("z")
    with pytest.raises(InvalidArgumentError, match="item 2 is not UTF-8"):
        f.update([b"a", "b", b"\xff"], weights=weights)
    assert f.top() == [("z", 1, 1, 1)]


def _images(cls: Any) -> list[bytes]:
    sketch = cls()
    sketch.update(range(100)) if cls is not TupleSketch else sketch.update(range(100), [1.0] * 100)
    return [sketch.to_bytes(), sketch.to_bytes()]


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, TupleSketch, KllSketch, FrequentItems])
def test_every_union_takes_a_pyarrow_binary_array(cls: Any) -> None:
    images = _images(cls)
    expected = cls.union(images)
    for arr in (pa.array(images), pa.array(images, pa.large_binary()), pa.chunked_array([images])):
        assert cls.union(arr).to_bytes() == expected.to_bytes()


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, TupleSketch, KllSketch, FrequentItems])
def test_unions_refuse_one_image_and_fixed_width_arrays(cls: Any) -> None:
    images = _images(cls)
    with pytest.raises(TypeError, match="collection of sketches or images, not one bytes"):
        cls.union(images[0])
    with pytest.raises(TypeError, match="object array"):
        cls.union(np.array(images))  # NumPy's S dtype strips the zero bytes images end with
    assert cls.union(np.array(images, dtype=object)).to_bytes() == cls.union(images).to_bytes()


def test_kll_union_takes_the_dtype_of_its_sketches() -> None:
    a = KllSketch(dtype="float32")
    a.update([1.5, 2.5])
    u = KllSketch.union([a, a.to_bytes()])
    assert u.dtype == np.float32 and u.n == 4
    assert KllSketch.union([a.to_bytes()], dtype="float32").n == 2


def test_countmin_is_queried_with_the_items_its_updates_take() -> None:
    c = CountMin()
    c.update(np.array([5, 5, 7], "datetime64[s]"))
    c.update([True, 2**64 - 1])
    assert c.estimate(np.datetime64(5, "s")) == 2 and c.estimate(5) == 2
    assert c.estimate(True) == 1 and c.estimate(2**64 - 1) == 1
    with pytest.raises(ValueError, match="NaT"):
        c.estimate(np.datetime64("NaT"))
    with pytest.raises(TypeError, match="NoneType"):
        c.estimate(None)


def test_countmin_weighted_list_is_the_weighted_array() -> None:
    items = [f"k{i % 97}" for i in range(5000)]
    weights = [i % 5 for i in range(5000)]
    a, b = CountMin(), CountMin()
    a.update(items, weights=weights)
    b.update(np.array(items), weights=np.array(weights))
    assert a.to_bytes() == b.to_bytes()
    exact: Counter[str] = Counter()
    for x, w in zip(items, weights):
        exact[x] += w
    assert all(a.estimate(x) >= w for x, w in exact.items())


@pytest.mark.parametrize("make", FAMILIES)
def test_pandas_missing_values_in_weighted_lists_skip_their_weights(make: Make) -> None:
    s = make("int64")
    s.update(pd.Series([5, None, 5], dtype="Int64").tolist(), weights=[1, 20, 300])
    assert s.total_weight == 301 and s.estimate(5) == 301


def test_kll_and_tuple_lists_skip_pandas_missing_values() -> None:
    k = KllSketch()
    k.update([1.0, pd.NA, 3.0])
    i = KllSketch(dtype="int64")
    i.update(pd.Series([1, None, 3], dtype="Int64").tolist())
    assert k.n == i.n == 2
    t = TupleSketch()
    t.update([1, 2], [pd.NA, 4.0])
    assert t.estimate() == 1 and t.summary() == 4.0


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, TupleSketch, KllSketch, FrequentItems])
def test_unions_skip_null_images_in_every_container(cls: Any) -> None:
    images = _images(cls)
    expected = cls.union(images).to_bytes()
    with_nulls = [images[0], None, images[1]]
    for container in (
        with_nulls,
        np.array(with_nulls, dtype=object),
        pd.Series(with_nulls, dtype=object),
        pa.array(with_nulls),
        pa.array(with_nulls, pa.binary_view()),
        pa.array(with_nulls).dictionary_encode(),
    ):
        assert cls.union(container).to_bytes() == expected, type(container)
