"""Every input kind the hash sketches (HyperLogLog, ThetaSketch) accept gives the same
sketch as the plain Python values it stands for: one conversion layer, tested once
for each family that uses it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import HyperLogLog, ThetaSketch


@pytest.fixture(params=[HyperLogLog, ThetaSketch], ids=lambda c: c.__name__)
def family(request):
    return request.param


def image(family, values) -> bytes:
    h = family(12)
    h.update(values)
    return h.to_bytes()


def image_loop(family, values) -> bytes:
    h = family(12)
    for v in values:
        h.update(v)
    return h.to_bytes()


INTS = [0, 1, -1, 5, 127, -128, 42, 99, 3, 17] * 3 + list(range(200, 1500, 7))


@pytest.mark.parametrize(
    "dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
)
def test_every_integer_width_hashes_by_value(family, dtype):
    info = np.iinfo(dtype)
    vals = [v for v in INTS if info.min <= v <= info.max]
    assert image(family, np.array(vals, dtype=dtype)) == image_loop(family, vals)


def test_floats_and_float32_hash_as_double(family):
    vals = [0.5, -0.0, 0.0, 65000.0, float("inf"), float("-inf"), float("nan"), 3.25]
    expected = image_loop(family, vals)
    assert image(family, np.array(vals)) == expected
    assert image(family, np.array(vals, dtype=np.float32)) == image_loop(
        family, [float(np.float32(v)) for v in vals]
    )
    assert image(family, np.array(vals, dtype=np.float16)) == image_loop(
        family, [float(np.float16(v)) for v in vals]
    )
    # -0.0 is 0.0 and every NaN is one item, as in DataSketches.
    h = family(12)
    h.update([0.0, -0.0, float("nan"), -float("nan"), np.float64("nan")])
    assert h.estimate() == pytest.approx(2, abs=0.01)


def test_bool_arrays_hash_as_integers(family):
    assert image(family, np.array([True, False, True])) == image_loop(family, [1, 0, 1])
    assert image(family, [True, False]) == image_loop(family, [1, 0])


def test_numpy_strings_fixed_width_and_object(family):
    words = ["apple", "b", "", "über", "日本語", "apple", "x" * 70]
    expected = image_loop(family, words)
    assert image(family, np.array(words)) == expected  # dtype <U..
    assert image(family, np.array(words, dtype=object)) == expected
    assert image(family, words) == expected
    assert image(family, tuple(words)) == expected
    assert image(family, iter(words)) == expected
    raw = [w.encode() for w in words]
    assert image(family, np.array(raw, dtype="S")) == image_loop(family, raw) == expected
    assert image(family, np.array(words).astype(">U70")) == expected


def test_str_and_bytes_of_same_text_are_the_same_item(family):
    assert (
        image(family, ["abc"])
        == image(family, [b"abc"])
        == image(family, bytearray(b"abc"))
        == image(family, "abc")
    )


def test_non_contiguous_and_2d_arrays(family):
    base = np.arange(1000, dtype=np.int64)
    assert image(family, base[::3]) == image_loop(family, base[::3].tolist())
    assert image(family, base.reshape(10, 100)) == image_loop(family, base.tolist())
    assert image(family, base.astype(">i8")) == image_loop(family, base.tolist())
    assert image(family, np.arange(10.0)[::-1]) == image_loop(
        family, np.arange(10.0)[::-1].tolist()
    )


def test_datetimes_hash_as_their_int64_ticks(family):
    d = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[s]")
    assert image(family, d) == image_loop(family, d.view(np.int64).tolist())


def test_pandas_series_skip_missing_values(family):
    s = pd.Series([1.5, None, 2.5, np.nan, 1.5])
    assert image(family, s) == image_loop(family, [1.5, 2.5, 1.5])
    assert image(family, pd.Series([1, 2, None], dtype="Int64")) == image_loop(family, [1, 2])
    assert image(family, pd.Series(["a", None, "b"])) == image_loop(family, ["a", "b"])
    assert image(family, pd.Series(["a", None, "b"], dtype="string")) == image_loop(
        family, ["a", "b"]
    )
    assert image(family, pd.Series(["x", "y", "x"], dtype="category")) == image_loop(
        family, ["x", "y", "x"]
    )
    assert image(family, pd.Index([3, 4, 5])) == image_loop(family, [3, 4, 5])
    with pytest.raises(TypeError):
        family().update(pd.DataFrame({"a": [1]}))


def test_pyarrow_arrays_skip_nulls(family):
    words = ["a", None, "bb", "", "ccc", None, "é"]
    present = [w for w in words if w is not None]
    expected = image_loop(family, present)
    for t in (pa.string(), pa.large_string()):
        arr = pa.array(words, type=t)
        assert image(family, arr) == expected
        assert image(family, arr.slice(2, 4)) == image_loop(
            family, [w for w in words[2:6] if w is not None]
        )
    bins = pa.array([w.encode() if w is not None else None for w in words], type=pa.binary())
    assert image(family, bins) == expected
    assert image(family, pa.array(words).dictionary_encode()) == expected
    assert image(family, pa.chunked_array([pa.array(words[:3]), pa.array(words[3:])])) == expected
    ints = pa.array([1, None, 3, 2**40])
    assert image(family, ints) == image_loop(family, [1, 3, 2**40])
    assert image(family, ints.slice(1)) == image_loop(family, [3, 2**40])
    assert image(family, pa.array([1.5, None], type=pa.float32())) == image_loop(family, [1.5])
    assert image(family, pa.array([True, None, False])) == image_loop(family, [1, 0])
    assert image(family, pa.array([None, None], type=pa.string())) == image(family, [])


def test_empty_inputs_leave_the_sketch_empty(family):
    for empty in (
        [],
        (),
        np.array([], dtype=np.int64),
        np.array([], dtype="U3"),
        pa.array([], type=pa.string()),
        pd.Series([], dtype=float),
        "",
        b"",
    ):
        h = family()
        h.update(empty)
        assert h.is_empty()
        assert h.estimate() == 0.0


@pytest.mark.parametrize(
    "bad", [None, {"a": 1}, object(), 1 + 2j, np.array([1 + 2j]), [1, object()], [[1, 2]]]
)
def test_unsupported_values_raise_type_error(family, bad):
    h = family()
    with pytest.raises(TypeError):
        h.update(bad)


def test_lone_surrogates_are_a_value_error(family):
    with pytest.raises(ValueError):
        family().update("\ud800")
    with pytest.raises(ValueError):
        family().update(["ok", "\ud800x"])


def test_big_endian_and_nat_datetimes(family):
    d = np.array(["2024-01-01", "NaT", "2024-01-02"], dtype="datetime64[s]")
    expected = image_loop(family, d[~np.isnat(d)].view(np.int64).tolist())
    assert image(family, d) == expected
    assert image(family, d.astype(">M8[s]")) == expected
    assert image(family, np.datetime64("2024-01-01", "s")) == image(
        family, int(np.datetime64("2024-01-01", "s").astype(np.int64))
    )


def test_misaligned_and_unusual_numpy_arrays(family):
    raw = np.arange(100, dtype=np.int64).tobytes()
    misaligned = np.frombuffer(b"\x00" + raw, dtype=np.int64, offset=1)
    assert image(family, misaligned) == image_loop(family, list(range(100)))
    if hasattr(np.dtypes, "StringDType"):
        words = ["a", "bb", "é"]
        assert image(family, np.array(words, dtype=np.dtypes.StringDType())) == image(family, words)
    with pytest.raises(TypeError):
        family().update(np.longdouble(1.5))


def test_arrow_strings_whose_offsets_are_not_aligned(family):
    # Arrow does not promise aligned buffers; Dask's workers receive such strings.
    words = ["a", "bb", "ccc", "東京", ""]
    for t, width in (
        (pa.string(), np.int32),
        (pa.large_string(), np.int64),
        (pa.binary(), np.int32),
    ):
        data = "".join(words).encode()
        ends = np.cumsum([0] + [len(w.encode()) for w in words]).astype(width)
        offsets = pa.py_buffer(b"\x00" + ends.tobytes())[1:]
        assert offsets.address % np.dtype(width).itemsize
        arr = pa.Array.from_buffers(t, len(words), [None, offsets, pa.py_buffer(data)])
        assert image(family, arr) == image_loop(family, words)
        assert image(family, arr.slice(2)) == image_loop(family, words[2:])


def test_temporal_arrow_and_tz_aware_pandas(family):
    dates = pa.array([0, 1, None, 19000], type=pa.date32())
    assert image(family, dates) == image_loop(family, [0, 1, 19000])
    times = pa.array([5, 7], type=pa.time32("s"))
    assert image(family, times) == image_loop(family, [5, 7])
    naive = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00"]))
    aware = naive.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    assert image(family, aware) == image(family, naive)


def test_a_bad_item_leaves_the_sketch_unchanged(family):
    for bad in ([1, 2, 2**70], ["a", 3.5, object()], [1.5, "ok", "\ud800"]):
        s = family()
        with pytest.raises((TypeError, OverflowError, ValueError)):
            s.update(bad)
        assert s.is_empty()


def test_parameters_accept_numpy_ints_and_check_progress(family):
    s = family(np.int64(10))
    assert s.estimate() == 0.0
    with pytest.raises(TypeError):
        s.update(1, progress=5)
    with pytest.raises(TypeError):
        family(True)


def test_arrow_numpy_reads_sliced_chunked_and_bit_packed_arrays_as_to_numpy_does() -> None:
    import datetime as dt

    import pyarrow as pa

    from sketchbox._input import arrow_numpy

    rng = np.random.default_rng(5)
    arrays = [
        pa.array(rng.integers(-(2**40), 2**40, 1000)),
        pa.array(rng.integers(0, 200, 1000).astype(np.uint8)),
        pa.array(rng.normal(size=1000).astype(np.float32)),
        pa.array(rng.normal(size=1000).astype(np.float16)),
        pa.array(rng.random(1000) < 0.3),
        pa.array([dt.datetime(2026, 1, 1) + dt.timedelta(seconds=int(s)) for s in range(1000)]),
    ]
    for a in arrays:
        for part in (
            a,
            a.slice(3),
            a.slice(7, 50),
            a.slice(1000),
            pa.chunked_array([a[:5], a[13:]]),
        ):
            if pa.types.is_temporal(part.type):
                part = part.cast(pa.int64())
            got = arrow_numpy(part)
            want = (
                part.to_numpy(zero_copy_only=False)
                if isinstance(part, pa.Array)
                else part.to_numpy()
            )
            assert got.dtype == want.dtype and np.array_equal(got, want), (a.type, len(part))
    assert arrow_numpy(pa.chunked_array([], pa.float64())).dtype == np.float64


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch])
def test_interval_arrays_are_a_type_error(cls: type) -> None:
    # Arrow counts intervals as temporal, but they have no single tick to hash.
    intervals = pa.array([pa.scalar((1, 2, 3), pa.month_day_nano_interval())])
    with pytest.raises(TypeError, match="month_day_nano_interval"):
        cls().update(intervals)


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch])
def test_pandas_missing_values_in_lists_are_skipped_as_in_series(cls: type) -> None:
    # Series.tolist() of a nullable column holds pd.NA (and NaT for datetimes).
    for series in (
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series(["a", None, "c"], dtype="string"),
        pd.Series([1.5, None, 2.5], dtype="Float64"),
    ):
        from_list, from_series = cls(), cls()
        from_list.update(series.tolist())
        from_series.update(series)
        assert from_list.to_bytes() == from_series.to_bytes()
        assert round(from_list.estimate()) == 2
    assert pd.NaT in pd.Series(pd.to_datetime(["2024-01-01", None])).tolist()
    s = cls()
    s.update([pd.NaT, pd.NA, None])
    assert s.is_empty()
