"""Every input kind ThetaSketch.update accepts (the conversions HyperLogLog uses, from
sketchbox._input) gives the same sketch as the plain Python values it stands for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sketchbox import InvalidArgumentError, ThetaSketch


def image(values) -> bytes:
    h = ThetaSketch(12)
    h.update(values)
    return h.to_bytes()


def image_loop(values) -> bytes:
    h = ThetaSketch(12)
    for v in values:
        h.update(v)
    return h.to_bytes()


INTS = [0, 1, -1, 5, 127, -128, 42, 99, 3, 17] * 3 + list(range(200, 1500, 7))


@pytest.mark.parametrize(
    "dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
)
def test_every_integer_width_hashes_by_value(dtype):
    info = np.iinfo(dtype)
    vals = [v for v in INTS if info.min <= v <= info.max]
    assert image(np.array(vals, dtype=dtype)) == image_loop(vals)


def test_floats_and_float32_hash_as_double():
    vals = [0.5, -0.0, 0.0, 65000.0, float("inf"), float("-inf"), float("nan"), 3.25]
    expected = image_loop(vals)
    assert image(np.array(vals)) == expected
    assert image(np.array(vals, dtype=np.float32)) == image_loop(
        [float(np.float32(v)) for v in vals]
    )
    assert image(np.array(vals, dtype=np.float16)) == image_loop(
        [float(np.float16(v)) for v in vals]
    )
    # -0.0 is 0.0 and every NaN is one item, as in DataSketches.
    h = ThetaSketch(12)
    h.update([0.0, -0.0, float("nan"), -float("nan"), np.float64("nan")])
    assert h.estimate() == 2


def test_bool_arrays_hash_as_integers():
    assert image(np.array([True, False, True])) == image_loop([1, 0, 1])
    assert image([True, False]) == image_loop([1, 0])


def test_numpy_strings_fixed_width_and_object():
    words = ["apple", "b", "", "über", "日本語", "apple", "x" * 70]
    expected = image_loop(words)
    assert image(np.array(words)) == expected  # dtype <U..
    assert image(np.array(words, dtype=object)) == expected
    assert image(words) == expected
    assert image(tuple(words)) == expected
    assert image(iter(words)) == expected
    raw = [w.encode() for w in words]
    assert image(np.array(raw, dtype="S")) == image_loop(raw) == expected
    assert image(np.array(words).astype(">U70")) == expected


def test_str_and_bytes_of_same_text_are_the_same_item():
    assert image(["abc"]) == image([b"abc"]) == image(bytearray(b"abc")) == image("abc")


def test_non_contiguous_and_2d_arrays():
    base = np.arange(1000, dtype=np.int64)
    assert image(base[::3]) == image_loop(base[::3].tolist())
    assert image(base.reshape(10, 100)) == image_loop(base.tolist())
    assert image(base.astype(">i8")) == image_loop(base.tolist())
    assert image(np.arange(10.0)[::-1]) == image_loop(np.arange(10.0)[::-1].tolist())


def test_datetimes_hash_as_their_int64_ticks():
    d = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[s]")
    assert image(d) == image_loop(d.view(np.int64).tolist())


def test_pandas_series_skip_missing_values():
    s = pd.Series([1.5, None, 2.5, np.nan, 1.5])
    assert image(s) == image_loop([1.5, 2.5, 1.5])
    assert image(pd.Series([1, 2, None], dtype="Int64")) == image_loop([1, 2])
    assert image(pd.Series(["a", None, "b"])) == image_loop(["a", "b"])
    assert image(pd.Series(["a", None, "b"], dtype="string")) == image_loop(["a", "b"])
    assert image(pd.Series(["x", "y", "x"], dtype="category")) == image_loop(["x", "y", "x"])
    assert image(pd.Index([3, 4, 5])) == image_loop([3, 4, 5])
    with pytest.raises(TypeError):
        ThetaSketch().update(pd.DataFrame({"a": [1]}))


def test_pyarrow_arrays_skip_nulls_and_cross_zero_copy():
    words = ["a", None, "bb", "", "ccc", None, "é"]
    present = [w for w in words if w is not None]
    expected = image_loop(present)
    for t in (pa.string(), pa.large_string()):
        arr = pa.array(words, type=t)
        assert image(arr) == expected
        assert image(arr.slice(2, 4)) == image_loop([w for w in words[2:6] if w is not None])
    bins = pa.array([w.encode() if w is not None else None for w in words], type=pa.binary())
    assert image(bins) == expected
    assert image(pa.array(words).dictionary_encode()) == expected
    assert image(pa.chunked_array([pa.array(words[:3]), pa.array(words[3:])])) == expected
    ints = pa.array([1, None, 3, 2**40])
    assert image(ints) == image_loop([1, 3, 2**40])
    assert image(ints.slice(1)) == image_loop([3, 2**40])
    assert image(pa.array([1.5, None], type=pa.float32())) == image_loop([1.5])
    assert image(pa.array([True, None, False])) == image_loop([1, 0])
    assert image(pa.array([None, None], type=pa.string())) == image([])


def test_empty_inputs_leave_the_sketch_empty():
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
        h = ThetaSketch()
        h.update(empty)
        assert h.is_empty()
        assert h.estimate() == 0.0


@pytest.mark.parametrize(
    "bad", [None, {"a": 1}, object(), 1 + 2j, np.array([1 + 2j]), [1, object()], [[1, 2]]]
)
def test_unsupported_values_raise_type_error(bad):
    h = ThetaSketch()
    with pytest.raises(TypeError):
        h.update(bad)


def test_lone_surrogates_are_a_value_error():
    with pytest.raises(ValueError):
        ThetaSketch().update("\ud800")
    with pytest.raises(ValueError):
        ThetaSketch().update(["ok", "\ud800x"])


def test_every_input_kind_hashes_with_the_sketch_seed():
    from datasketches import update_theta_sketch

    words = ["a", "bb", "", "é", "x" * 40]
    cases = [
        (np.arange(-50, 5000), list(range(-50, 5000))),
        (np.linspace(0, 1, 3000), np.linspace(0, 1, 3000).tolist()),
        (np.array(words), [w for w in words if w]),
        (np.array([w.encode() for w in words]), [w for w in words if w]),
        (pa.array(words + [None]), [w for w in words if w]),
        (words, [w for w in words if w]),
    ]
    for values, plain in cases:
        ours = ThetaSketch(12, seed=7)
        ours.update(values)
        theirs = update_theta_sketch(12, 1.0, 7)
        for v in plain:
            theirs.update(v)
        assert ours.to_bytes() == theirs.compact().serialize()
        one_by_one = ThetaSketch(12, seed=7)
        for v in plain:
            one_by_one.update(v)
        assert one_by_one.to_bytes() == ours.to_bytes()


def test_compact_sketches_refuse_every_kind_of_update():
    s = ThetaSketch()
    s.update([1, 2, 3])
    c = ThetaSketch.from_bytes(s.to_bytes())
    for values in (5, 2.5, "x", b"x", [1, 2], np.arange(10), np.array(["a"]), pa.array(["a"])):
        with pytest.raises(InvalidArgumentError, match="compact"):
            c.update(values)
    assert c.estimate() == 3
    # A copy of an update sketch accepts items; a copy of a compact one does not.
    s.copy().update(4)
    with pytest.raises(ValueError, match="compact"):
        c.copy().update(4)
