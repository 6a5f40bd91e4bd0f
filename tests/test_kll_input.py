"""Every kind of input a KllSketch takes, and what it does with nulls, NaN, ints and
dtypes: each equals updating with the same numbers as a float64 NumPy array."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import KllSketch
from sketchbox._input import as_float_array

VALUES = [3.5, -1.0, 2.0, 2.0, 7.25, 0.0, 1e300, -1e-300]


def image_of(values, dtype="float64", k=8, seed=1) -> bytes:
    s = KllSketch(k, dtype, seed=seed)
    s.update(values)
    return s.to_bytes()


EXPECTED = image_of(np.array(VALUES))


@pytest.mark.parametrize(
    "values",
    [
        VALUES,
        tuple(VALUES),
        iter(VALUES),
        (v for v in VALUES),
        np.array(VALUES),
        np.array(VALUES).reshape(2, 4),
        np.array(VALUES)[::-1][::-1],
        np.repeat(np.array(VALUES), 2)[::2],
        np.array(VALUES, dtype=">f8"),
        np.array(VALUES, dtype=object),
        pd.Series(VALUES),
        pd.Index(VALUES),
        pd.Series(VALUES, dtype="Float64"),
        pa.array(VALUES),
        pa.chunked_array([VALUES[:3], VALUES[3:]]),
        [3.5, None, -1.0, 2.0, None, 2.0, 7.25, 0.0, 1e300, -1e-300],
        pd.Series([3.5, None, -1.0, 2.0, 2.0, None, 7.25, 0.0, 1e300, -1e-300]),
        pd.Series([3.5, -1.0, 2.0, 2.0, 7.25, 0.0, 1e300, -1e-300, None], dtype="Float64"),
        pa.array([None, 3.5, -1.0, 2.0, 2.0, 7.25, None, 0.0, 1e300, -1e-300]),
    ],
)
def test_every_container_gives_the_same_sketch(values):
    assert image_of(values) == EXPECTED


def test_strided_and_sliced_arrays():
    base = np.arange(100, dtype=np.float64)
    assert image_of(base[::3]) == image_of(np.ascontiguousarray(base[::3]))
    assert image_of(base[10:20]) == image_of(base[10:20].copy())


def test_ints_and_bools_are_numbers():
    ints = [5, -3, 0, 2**40, 7]
    for v in (
        ints,
        np.array(ints, dtype=np.int64),
        pd.Series(ints),
        pd.Series(ints + [None], dtype="Int64"),
        pa.array(ints),
    ):
        assert image_of(v) == image_of(np.array(ints, dtype=np.float64))
    for dt in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64):
        small = np.array([1, 5, 3, 100], dtype=dt)
        assert image_of(small) == image_of(small.astype(np.float64))
    assert image_of([True, False, True]) == image_of([1.0, 0.0, 1.0])
    assert image_of(np.array([True, False])) == image_of([1.0, 0.0])
    assert image_of(pa.array([True, None, False])) == image_of([1.0, 0.0])
    assert image_of([1, 2.5, True]) == image_of([1.0, 2.5, 1.0])
    # beyond int64 and beyond 2**53: the nearest double
    big = [2**64 - 1, 2**63, 2**100]
    assert image_of(big) == image_of([float(v) for v in big])


def test_scalars_one_at_a_time_equal_bulk():
    s = KllSketch(8, seed=1)
    for v in VALUES:
        s.update(v)
    assert s.to_bytes() == EXPECTED
    s = KllSketch(8, seed=1)
    for v in [np.float64(3.5), np.float32(-1.0), np.int64(2), 2, True]:
        s.update(v)
    assert s.to_bytes() == image_of([3.5, -1.0, 2.0, 2.0, 1.0])
    # many buffered scalars are flushed before any query
    s = KllSketch(200, seed=1)
    for v in range(10_000):
        s.update(float(v))
    assert s.n == 10_000 and s.max == 9999.0
    assert s.to_bytes() == image_of(np.arange(10_000.0), k=200)


def test_nan_and_null_are_skipped():
    with_nan = [1.0, float("nan"), 2.0, np.nan, 3.0]
    for v in (with_nan, np.array(with_nan), pd.Series(with_nan), pa.array(with_nan)):
        s = KllSketch(8, seed=1)
        s.update(v)
        assert s.n == 3
        assert s.to_bytes() == image_of([1.0, 2.0, 3.0])
    s = KllSketch()
    s.update(float("nan"))
    s.update([None, None])
    s.update(np.full(10_000, np.nan))
    assert s.is_empty()


def test_empty_inputs_change_nothing():
    s = KllSketch()
    for v in ([], (), np.array([]), np.empty((0, 3)), pd.Series([], dtype=float), pa.array([])):
        s.update(v)
    s.update(pa.chunked_array([], type=pa.float64()))
    s.update(pa.nulls(5))
    assert s.is_empty() and s.n == 0


def test_float32_sketch_rounds_float64_input_once():
    x = np.random.default_rng(3).normal(size=5000)
    a = KllSketch(200, "float32", seed=2)
    a.update(x)
    b = KllSketch(200, "float32", seed=2)
    b.update(x.astype(np.float32))
    assert a.to_bytes() == b.to_bytes()
    assert a.quantiles([0.5]).dtype == np.float32
    assert a.min == float(np.float32(x.min()))
    # float16 and float32 input to a float64 sketch widen exactly
    h = np.array([0.5, 1.25, -2.0], dtype=np.float16)
    assert image_of(h) == image_of(h.astype(np.float64))


def test_conversion_is_zero_copy_for_matching_arrays():
    x = np.arange(10.0)
    assert np.shares_memory(as_float_array(x, np.float64), x)
    y = np.arange(10, dtype=np.float32)
    assert np.shares_memory(as_float_array(y, np.float32), y)
    assert as_float_array(y, np.float64).dtype == np.float64


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        b"abc",
        ["a", "b"],
        [1.0, "x"],
        [1.0, b"x"],
        np.array(["a", "b"]),
        np.array([b"a"]),
        np.array([1 + 2j]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        pd.Series(["a", "b"]),
        pa.array(["a", "b"]),
        {"a": 1.0},
        [[1.0, 2.0]],
        object(),
        [object()],
    ],
)
def test_non_numbers_raise_type_error(bad):
    s = KllSketch()
    with pytest.raises(TypeError):
        s.update(bad)
    assert s.is_empty()


def test_type_error_names_the_type():
    with pytest.raises(TypeError, match="str"):
        KllSketch().update(["1.0", "2.0"])
    with pytest.raises(TypeError, match="None"):
        KllSketch().update(None)
    with pytest.raises(OverflowError):
        KllSketch().update([10**400])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numeric_arrays_convert_in_native_code_as_numpy_would(dtype):
    # Every NumPy numeric width crosses as it is and is converted in Rust; the result is
    # that of NumPy's astype to the sketch's dtype.
    rng = np.random.default_rng(7)
    ints = rng.integers(-(2**62), 2**62, size=5000)
    for arr in (
        ints,
        ints.astype(np.int32),
        ints.view(np.uint64),
        rng.normal(size=5000) * 1e40,  # beyond float32's range: +-inf in a float32 sketch
        ints % 2 == 0,
    ):
        raw = KllSketch(k=64, dtype=dtype, seed=5)
        raw.update(arr)
        converted = KllSketch(k=64, dtype=dtype, seed=5)
        with np.errstate(over="ignore"):
            converted.update(arr.astype(dtype))
        assert raw.to_bytes() == converted.to_bytes(), arr.dtype


def _unaligned(values: np.ndarray) -> np.ndarray:
    raw = np.zeros(values.nbytes + 1, np.uint8)[1:]
    out = raw.view(values.dtype)
    out[:] = values
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_queries_take_unaligned_arrays_as_updates_do(dtype: str) -> None:
    s = KllSketch(dtype=dtype)
    s.update(np.arange(100))
    ranks = _unaligned(np.array([0.25, 0.5, 0.75]))
    points = _unaligned(np.array([10, 50], dtype=np.float64 if dtype != "int64" else np.int64))
    arrow = pa.Array.from_buffers(
        pa.float64() if dtype != "int64" else pa.int64(),
        2,
        [None, pa.py_buffer(b"\0" + np.asarray(points).tobytes())[1:]],
    )
    assert list(s.quantiles(ranks)) == list(s.quantiles(ranks.copy()))
    expected = s.ranks(points.copy())
    assert list(s.ranks(points)) == list(expected) == list(s.ranks(arrow))
    assert list(s.cdf(points)) == list(s.cdf(points.copy()))
    assert list(s.pmf(arrow)) == list(s.pmf(points.copy()))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_empty_query_lists_answer_as_for_every_dtype(dtype: str) -> None:
    s = KllSketch(dtype=dtype)
    s.update(np.arange(100))
    assert s.ranks([]).size == 0 and s.quantiles([]).size == 0
    assert list(s.cdf([])) == [1.0] and list(s.pmf([])) == [1.0]


def test_int64_query_lists_beyond_int64_overflow() -> None:
    s = KllSketch(dtype="int64")
    s.update(np.arange(100))
    for query in (s.ranks, s.cdf, s.pmf):
        with pytest.raises(OverflowError, match="beyond the int64 range"):
            query([0, 2**63])


@pytest.mark.parametrize(
    "values", [[2**60 + 2**36 + 1], [2**60 + 2**36 + 1, 0.5], [2**60 + 2**36 + 1, None, 0.5]]
)
def test_float32_rounds_each_int_once_whatever_the_list_holds(values: list) -> None:
    # 2^60 + 2^36 + 1 is nearest to 2^60 + 2^37 in float32; through float64 first it
    # rounds to 2^60 + 2^36, a tie, and then down to 2^60.
    s = KllSketch(dtype="float32")
    s.update(values)
    assert s.max == float(2**60 + 2**37)
    buffered = KllSketch(dtype="float32")
    for v in values:
        if v is not None:
            buffered.update(v)
    assert buffered.max == float(2**60 + 2**37)
