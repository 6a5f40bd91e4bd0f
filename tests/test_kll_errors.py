"""Bad input to KllSketch gets a clear exception, never a crash."""

from __future__ import annotations

import random

import numpy as np
import pytest
from _fuzz import mutate

from sketchbox import (
    EmptySketchError,
    IncompatibleSketchError,
    InvalidArgumentError,
    KllSketch,
    SketchError,
    SketchFormatError,
)


def valid_images() -> list[tuple[bytes, str]]:
    out = []
    rng = np.random.default_rng(8)
    for k, dtype, n in [
        (200, "float64", 0),
        (200, "float64", 1),
        (200, "float64", 150),
        (8, "float64", 1000),
        (200, "float64", 20_000),
        (50, "float32", 0),
        (200, "float32", 1),
        (200, "float32", 5000),
        (1000, "float32", 3000),
    ]:
        s = KllSketch(k, dtype, seed=n)
        s.update(rng.normal(size=n))
        out.append((s.to_bytes(), dtype))
    return out


def exercise(s: KllSketch) -> None:
    if not s.is_empty():
        s.quantiles([0.0, 0.5, 1.0])
        s.ranks([s.min, s.max])
        s.cdf([0.0])
        s.pmf([-1.0, 1.0])
        assert s.min <= s.quantile(0.5) <= s.max
    s.update(np.arange(300.0))
    s.to_dict()
    back = KllSketch.from_bytes(s.to_bytes(), s.dtype)
    back.merge(s)
    assert back.n == 2 * s.n


def test_ten_thousand_mutations_never_crash():
    rng = random.Random(20261126)
    images = valid_images()
    read = 0
    for _ in range(10_000):
        image, dtype = rng.choice(images)
        data = mutate(image, rng)
        try:
            s = KllSketch.from_bytes(data, rng.choice([dtype, "float64", "float32"]))
        except SketchFormatError as e:
            assert str(e)
            continue
        read += 1
        exercise(s)
    assert read > 100  # the mutations must also exercise the success path


def test_truncated_images_raise_format_error():
    for image, dtype in valid_images():
        for cut in range(len(image)):
            with pytest.raises(SketchFormatError):
                KllSketch.from_bytes(image[:cut], dtype)


def test_foreign_bytes_raise_format_error():
    hll_like = bytes([2, 1, 7, 12, 3, 8, 0, 8])
    for data in (b"", b"\x00", b"not a sketch at all", hll_like, bytes(100)):
        with pytest.raises(SketchFormatError):
            KllSketch.from_bytes(data)
    with pytest.raises(ValueError):  # a SketchFormatError is a ValueError
        KllSketch.from_bytes(b"\x02\x01\x0f\x01\x07\x00\x08\x00")  # k = 7
    with pytest.raises(TypeError):
        KllSketch.from_bytes("not bytes")


@pytest.mark.parametrize("k", [0, 7, 65536, -1, 10**6])
def test_k_out_of_range(k):
    with pytest.raises(ValueError):
        KllSketch(k)


@pytest.mark.parametrize("k", [200.0, "200", None, True])
def test_k_of_the_wrong_type(k):
    with pytest.raises(TypeError):
        KllSketch(k)


def test_bad_dtypes():
    for bad in ("int32", "uint64", "float16", "string", "f2", np.int32):
        with pytest.raises(ValueError):
            KllSketch(200, bad)
        with pytest.raises(ValueError):
            KllSketch.from_bytes(KllSketch().to_bytes(), bad)
    with pytest.raises(TypeError):
        KllSketch(200, 3.5)
    for ok in ("float64", "float32", "f8", "f4", "double", np.float32, np.dtype("float64"), float):
        KllSketch(200, ok)
    with pytest.raises(TypeError):
        KllSketch(seed="x")
    with pytest.raises(ValueError):
        KllSketch(seed=-1)


def test_merging_float32_with_float64_is_incompatible():
    a, b = KllSketch(dtype="float64"), KllSketch(dtype="float32")
    a.update([1.0, 2.0])
    b.update([3.0])
    with pytest.raises(IncompatibleSketchError):
        a.merge(b)
    with pytest.raises(IncompatibleSketchError):
        b | a  # noqa: B018
    assert a.n == 2 and b.n == 1  # unchanged
    with pytest.raises(TypeError):
        a.merge("sketch")
    with pytest.raises(TypeError):
        a | 5  # noqa: B018


def test_queries_on_an_empty_sketch_raise_empty_sketch_error():
    s = KllSketch()
    for query in (
        lambda: s.quantile(0.5),
        lambda: s.quantiles([0.5]),
        lambda: s.rank(1.0),
        lambda: s.ranks([1.0]),
        lambda: s.cdf([1.0]),
        lambda: s.pmf([1.0]),
        lambda: s.min,
        lambda: s.max,
    ):
        with pytest.raises(EmptySketchError, match="empty"):
            query()
    assert issubclass(EmptySketchError, SketchError) and issubclass(EmptySketchError, ValueError)
    # what does answer on an empty sketch
    assert s.n == 0 and s.num_retained == 0 and s.is_empty() and not s.is_estimation_mode()
    assert s.normalized_rank_error() > 0
    assert s.to_dict()["min"] is None


def test_bad_query_arguments():
    s = KllSketch()
    s.update(np.arange(100.0))
    for r in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgumentError):
            s.quantile(r)
        with pytest.raises(ValueError):
            s.quantiles([0.5, r])
    with pytest.raises(ValueError):
        s.rank(float("nan"))
    with pytest.raises(ValueError):
        s.cdf([3.0, 1.0])  # not increasing
    with pytest.raises(ValueError):
        s.pmf([1.0, 1.0])  # not unique
    with pytest.raises(ValueError):
        s.cdf([1.0, float("nan")])
    for bad in ("0.5", None, ["a"], b"x"):
        with pytest.raises(TypeError):
            s.quantile(bad)
        with pytest.raises(TypeError):
            s.rank(bad)
    with pytest.raises(TypeError):
        s.cdf(["a", "b"])
    # empty query arrays are fine
    assert s.quantiles([]).shape == (0,)
    assert s.ranks(np.array([])).shape == (0,)
    np.testing.assert_array_equal(s.cdf([]), [1.0])
    np.testing.assert_array_equal(s.pmf([]), [1.0])


def test_use_after_close():
    s = KllSketch()
    s.update([1.0, 2.0])
    s.close()
    assert s.closed
    for op in (
        lambda: s.update(1.0),
        lambda: s.update([1.0]),
        lambda: s.quantile(0.5),
        lambda: s.n,
        lambda: s.to_bytes(),
        lambda: s.copy(),
        lambda: KllSketch().merge(s),
    ):
        with pytest.raises(ValueError, match="closed"):
            op()
    assert repr(s) == "<KllSketch closed>"
    with KllSketch() as t:
        t.update(1.0)
    assert t.closed
