"""TupleSketch: bad input gets a clear exception, never a crash; concurrent use is safe."""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _fuzz import mutate
from _threads import run_threads

from sketchbox import (
    HyperLogLog,
    IncompatibleSketchError,
    InvalidArgumentError,
    ReadOnlySketchError,
    SketchFormatError,
    ThetaSketch,
    TupleSketch,
)
from sketchbox._base import check
from sketchbox._native import ffi, lib


def sketch(n, summary="double", mode="sum", lg_k=12, seed=9001) -> TupleSketch:
    t = TupleSketch(lg_k, summary, mode, seed)
    t.update(np.arange(n), np.arange(n) % 17)
    return t


def test_values_must_match_the_keys():
    t = TupleSketch()
    with pytest.raises(ValueError, match="3 keys need 3 values"):
        t.update([1, 2, 3], [1.0, 2.0])
    with pytest.raises(ValueError, match="2 keys need 2 values"):
        t.update(np.array([1, 2]), 5.0)  # no broadcasting: one value per key
    with pytest.raises(ValueError, match="keys need"):
        t.update(pa.array(["a", "b"]), pd.Series([1.0]))
    with pytest.raises(ValueError, match="NaN"):
        t.update([1, 2], [1.0, float("nan")])
    with pytest.raises(ValueError, match="NaN"):
        t.update(1, np.nan)
    with pytest.raises(ValueError, match="NaN"):
        t.update([1], pa.array([np.nan]))
    for bad, exc in [
        (["x"], TypeError),
        ([True], TypeError),
        (np.array(["1.0"]), TypeError),
        ("1.0", TypeError),
        (None, TypeError),
        ({1: 2}, TypeError),
        (np.array([1 + 2j]), TypeError),
    ]:
        with pytest.raises(exc):
            t.update([1], bad)
    with pytest.raises(TypeError):
        t.update(None, [1.0])
    with pytest.raises(TypeError):
        t.update([object()], [1.0])
    with pytest.raises(TypeError):
        t.update([1], [1.0], progress=5)
    assert t.is_empty()  # nothing above was applied


def test_integer_sketches_take_int32_values_only():
    t = TupleSketch(summary="integer")
    with pytest.raises(TypeError, match="integer"):
        t.update([1], [1.5])
    with pytest.raises(TypeError, match="integer"):
        t.update([1], np.array([1.0]))
    with pytest.raises(TypeError, match="integer"):
        t.update(1, 2.0)
    with pytest.raises(ValueError, match="int32"):
        t.update([1, 2], [1, 2**31])
    with pytest.raises(ValueError, match="int32"):
        t.update([1], np.array([-(2**31) - 1]))
    assert t.is_empty()
    t.update([1, 2], [2**31 - 1, -(2**31)])
    assert t.summary("max") == 2**31 - 1 and t.summary("min") == -(2**31)
    # The C one-item path checks a double value itself.
    assert lib.sk_tuple_update_one_i64(t._p(), 5, 0.5) == lib.SK_ERR_INVALID_ARGUMENT
    assert lib.sk_tuple_update_one_i64(t._p(), 5, 2.0**31) == lib.SK_ERR_INVALID_ARGUMENT


def test_compact_sketches_are_read_only():
    t = sketch(100)
    for frozen in (t | t, TupleSketch.from_bytes(t.to_bytes()), t - t, t & t):
        with pytest.raises(ReadOnlySketchError):
            frozen.update([1], [1.0])
        with pytest.raises(ReadOnlySketchError):
            frozen.update("a", 1.0)


@pytest.mark.parametrize("lg_k", [3, 27, -1, 260])
def test_lg_k_out_of_range(lg_k):
    with pytest.raises(ValueError, match="lg_k"):
        TupleSketch(lg_k)
    with pytest.raises(ValueError, match="lg_k"):
        TupleSketch.union([], lg_k=lg_k)


def test_bad_parameters():
    for kwargs, exc in [
        (dict(summary="float"), ValueError),
        (dict(summary=1), TypeError),
        (dict(mode="avg"), ValueError),
        (dict(mode=None), TypeError),
        (dict(lg_k=12.0), TypeError),
        (dict(seed=-1), ValueError),
        (dict(seed=2**64), ValueError),
    ]:
        with pytest.raises(exc):
            TupleSketch(**kwargs)
    assert TupleSketch(mode="AlwaysOne").mode == "alwaysone"  # Spark parses any case
    t = sketch(10)
    for sd in (0, 4, -1):
        with pytest.raises(ValueError):
            t.lower_bound(sd)
    with pytest.raises(ValueError, match="mode"):
        t.summary("avg")
    with pytest.raises(ValueError, match="summary"):
        TupleSketch.from_bytes(t.to_bytes(), summary="long")
    with pytest.raises(TypeError):
        TupleSketch.from_bytes("not bytes")


def test_summary_types_do_not_mix():
    d, i = sketch(50), sketch(50, summary="integer")
    for op in (lambda: d | i, lambda: i & d, lambda: d - i, lambda: TupleSketch.union([i, d])):
        with pytest.raises(IncompatibleSketchError, match="integer|double"):
            op()
    # An integer image read as double: its entries have another size.
    with pytest.raises(SketchFormatError):
        TupleSketch.from_bytes(sketch(3, summary="integer").to_bytes(), summary="double")
    with pytest.raises(IncompatibleSketchError):
        check(lib.sk_tuple_summary_double(i._p(), lib.SK_TUPLE_SUM, ffi.new("double *")))


def test_seeds_must_match():
    a, b = sketch(100), sketch(100, seed=7)
    for op in (lambda: a | b, lambda: a & b, lambda: a - b, lambda: TupleSketch.union([a, b])):
        with pytest.raises(IncompatibleSketchError):
            op()
    with pytest.raises(IncompatibleSketchError, match="seed"):
        TupleSketch.from_bytes(b.to_bytes())
    assert TupleSketch.from_bytes(b.to_bytes(), seed=7).estimate() == 100
    with pytest.raises(IncompatibleSketchError, match="image 1"):
        TupleSketch.union([a.to_bytes(), b.to_bytes()])
    th = ThetaSketch(seed=7)
    th.update([1, 2])
    with pytest.raises(IncompatibleSketchError):
        a | th


def test_wrong_operand_types():
    t = sketch(10)
    hll = HyperLogLog()
    for op in (lambda: t | 5, lambda: t & "x", lambda: t - hll, lambda: hll | t):
        with pytest.raises(TypeError):
            op()
    with pytest.raises(TypeError, match="item 1"):
        TupleSketch.union([t, hll])
    with pytest.raises(ValueError, match="no sketches"):
        TupleSketch.intersection([])
    # The C surface: exactly one of the two handles of an input.
    out = ffi.new("SkTuple **")
    both = ffi.new("SkTuple *[]", [t._p()])
    th = ThetaSketch()
    thetas = ffi.new("SkTheta *[]", [th._p()])
    assert lib.sk_tuple_union_many(both, thetas, 1, 0, 0, 9001, out) == 1
    assert "exactly one" in ffi.string(lib.sk_last_error()).decode()
    assert lib.sk_tuple_a_not_b(t._p(), ffi.NULL, ffi.NULL, 9001, out) == 1
    assert lib.sk_tuple_new(3, 12, 0, 9001, out) == 1  # no such summary type
    assert lib.sk_tuple_new(1, 12, 4, 9001, out) == 1  # no such mode
    values = np.ones(2, dtype=np.float32)
    keys = np.arange(2, dtype=np.int64)
    rc = lib.sk_tuple_update_numeric(
        t._p(),
        ffi.from_buffer(keys),
        2,
        lib.SK_DTYPE_I64,
        ffi.from_buffer(values),
        lib.SK_DTYPE_F32,
        ffi.NULL,
        ffi.NULL,
    )
    assert rc == lib.SK_ERR_INVALID_ARGUMENT
    assert "SK_DTYPE_F64" in ffi.string(lib.sk_last_error()).decode()
    lib.sk_tuple_free(ffi.NULL)
    with pytest.raises(InvalidArgumentError):
        check(lib.sk_tuple_estimate(ffi.NULL, ffi.new("double *")))


def valid_images() -> list[tuple[bytes, str]]:
    out = []
    for summary in ("double", "integer"):
        for n, lg_k in [(0, 12), (1, 12), (9, 12), (300, 12), (2000, 5), (20000, 8)]:
            out.append((sketch(n, summary, "max", lg_k).to_bytes(), summary))
    return out


def exercise(t: TupleSketch, partner: TupleSketch) -> None:
    assert math.isfinite(t.estimate()) and t.estimate() >= 0
    for sd in (1, 2, 3):
        assert t.lower_bound(sd) <= t.upper_bound(sd)
    assert 0 < t.theta <= 1
    for m in ("sum", "min", "max", "alwaysone"):
        t.summary(m)
    assert TupleSketch.from_bytes(t.to_bytes(), t.summary_type).to_bytes() == t.to_bytes()
    (t | partner).estimate()
    (t & partner).estimate()
    (t - partner).estimate()
    (partner - t).estimate()
    t.to_dict()


def test_truncated_images_raise_format_error():
    for data, summary in valid_images():
        for cut in range(len(data)):
            try:
                t = TupleSketch.from_bytes(data[:cut], summary)
            except SketchFormatError:
                continue
            t.estimate()  # a valid prefix (an empty sketch's 8 bytes) answers


def test_ten_thousand_mutations_never_crash():
    rng = random.Random(20261202)
    images = valid_images()
    partners = {s: sketch(300, s, lg_k=5) for s in ("double", "integer")}
    read = 0
    for _ in range(10_000):
        image, summary = rng.choice(images)
        data = mutate(image, rng, count_field=slice(8, 12))
        partner = partners[summary]
        try:
            TupleSketch.union([partner.to_bytes(), data], summary=summary).estimate()
        except (SketchFormatError, IncompatibleSketchError) as e:
            assert "image 1" in str(e)
        try:
            t = TupleSketch.from_bytes(data, summary)
        except (SketchFormatError, IncompatibleSketchError) as e:
            assert str(e)
            continue
        read += 1
        exercise(t, partner)
    assert read > 500


def test_threads_share_one_sketch():
    t = TupleSketch(lg_k=10, summary="integer", mode="sum")
    images = []

    def work(i: int) -> None:
        for j in range(20):
            keys = np.arange(j * 1000, j * 1000 + 1000) + i * 10**6
            t.update(keys, np.ones(1000, dtype=np.int32))
            t.update(int(keys[0]), 1)
            images.append(t.to_bytes())
            (t | t).estimate()
            t.summary()

    run_threads(work, 8)
    n = 8 * 20 * 1000
    assert abs(t.estimate() - n) / n < 3 / math.sqrt(1024)
    for img in images:
        TupleSketch.from_bytes(img, "integer")


def test_use_after_close_raises():
    t, other = sketch(10), sketch(20)
    with t:
        pass
    for call in (
        lambda: t.update([1], [1.0]),
        t.estimate,
        t.to_bytes,
        t.copy,
        t.summary,
        lambda: t.theta,
        lambda: t | other,
        lambda: other | t,
        lambda: other - t,
        lambda: TupleSketch.union([other, t]),
        lambda: pickle.dumps(t),
    ):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(t)
