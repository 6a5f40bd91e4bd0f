"""Unions of many sketches or images in one native call (HyperLogLog.union,
KllSketch.union): equal to merging one by one and to datasketches-python's unions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sketchbox import HyperLogLog, KllSketch
from sketchbox.errors import IncompatibleSketchError, SketchFormatError

ds = pytest.importorskip("datasketches")


def _hll_parts(n: int = 40, lg_k: int = 12, hll_type: str = "HLL_4") -> list[HyperLogLog]:
    parts = []
    for i in range(n):
        h = HyperLogLog(lg_k, hll_type)
        # sizes from LIST mode (a few items) to HLL mode (thousands), overlapping
        h.update(np.arange(i * 700, i * 700 + (3 if i % 7 == 0 else 5000), dtype=np.int64))
        parts.append(h)
    return parts


def _ds_hll_union(images: list[bytes], lg_max_k: int, tgt: str = "HLL_8") -> bytes:
    u = ds.hll_union(lg_max_k)
    for b in images:
        u.update(ds.hll_sketch.deserialize(b))
    return u.get_result(getattr(ds.tgt_hll_type, tgt)).serialize_compact()


@pytest.mark.parametrize("hll_type", ["HLL_4", "HLL_6", "HLL_8"])
def test_hll_union_of_images_is_datasketches_hll_union(hll_type: str) -> None:
    images = [h.to_bytes() for h in _hll_parts(hll_type=hll_type)]
    u = HyperLogLog.union(images)
    assert u.hll_type == "HLL_8" and u.lg_k == 12
    assert u.to_bytes() == _ds_hll_union(images, 12)
    u4 = HyperLogLog.union(images, lg_k=13, hll_type="HLL_4")
    assert u4.to_bytes() == _ds_hll_union(images, 13, "HLL_4")


def test_hll_union_below_the_inputs_lg_k_downsamples_within_bounds() -> None:
    # datasketches-python 5.2.0's hll_union(10) of these lg_k 12 sketches estimates
    # about 5,000 of 32,300 distinct items; the union here keeps the bound.
    parts = _hll_parts(hll_type="HLL_8")
    u = HyperLogLog.union([p.to_bytes() for p in parts], lg_k=10)
    assert u.lg_k == 10
    assert u.lower_bound(3) <= 39 * 700 + 5000 <= u.upper_bound(3)


def test_hll_union_default_lg_k_is_the_largest_input_and_mixed_sizes_downsample() -> None:
    small, big = HyperLogLog(10), HyperLogLog(14)
    small.update(np.arange(20_000))
    big.update(np.arange(10_000, 40_000))
    images = [big.to_bytes(), small.to_bytes()]
    u = HyperLogLog.union(images)
    assert u.to_bytes() == _ds_hll_union(images, 14)
    assert u.lg_k == 10  # an HLL-mode input of lg_k 10 downsamples the union, as in DataSketches
    assert HyperLogLog.union([]).lg_k == 12
    assert HyperLogLog.union([]).is_empty()


def test_hll_union_equals_merging_one_by_one_sketches_and_images_mixed() -> None:
    parts = _hll_parts()
    by_merge = HyperLogLog(12)
    for h in parts:
        by_merge.merge(h)
    mixed = [h if i % 2 else h.to_bytes() for i, h in enumerate(parts)]
    assert HyperLogLog.union(parts).to_bytes() == by_merge.to_bytes()
    assert HyperLogLog.union(mixed).to_bytes() == by_merge.to_bytes()
    assert HyperLogLog.union(iter(mixed)).to_bytes() == by_merge.to_bytes()
    true = len(
        set().union(*(range(i * 700, i * 700 + (3 if i % 7 == 0 else 5000)) for i in range(40)))
    )
    u = HyperLogLog.union(parts)
    assert u.lower_bound(3) <= true <= u.upper_bound(3)


def test_hll_union_reads_pyarrow_and_numpy_images() -> None:
    images = [h.to_bytes() for h in _hll_parts()]
    want = HyperLogLog.union(images).to_bytes()
    assert HyperLogLog.union(np.array(images, dtype=object)).to_bytes() == want
    assert HyperLogLog.union(pa.array(images, pa.binary())).to_bytes() == want
    assert HyperLogLog.union(pa.array(images, pa.large_binary())).to_bytes() == want
    chunked = pa.chunked_array([images[:10], [None], images[10:]], pa.binary())
    assert HyperLogLog.union(chunked).to_bytes() == want  # nulls skipped
    assert HyperLogLog.union(pa.array(images, pa.binary()).slice(5)).to_bytes() == (
        HyperLogLog.union(images[5:]).to_bytes()
    )
    with pytest.raises(TypeError, match="binary"):
        HyperLogLog.union(pa.array([1, 2]))


class _Image(bytes):
    """A bytes subclass: not the plain bytes whose headers the fast path reads."""


@pytest.mark.parametrize("at", [0, 17, 39])
def test_images_of_every_bytes_like_kind_give_the_same_union(at: int) -> None:
    images = [h.to_bytes() for h in _hll_parts()]
    want = HyperLogLog.union(images).to_bytes()
    for odd in (_Image(images[at]), bytearray(images[at]), memoryview(images[at])):
        mixed = images[:at] + [odd] + images[at + 1 :]
        assert HyperLogLog.union(mixed).to_bytes() == want
    # a generator, a tuple, and a list holding one object twice
    assert HyperLogLog.union(b for b in images).to_bytes() == want
    assert HyperLogLog.union(tuple(images)).to_bytes() == want
    assert HyperLogLog.union(images + [images[at]]).to_bytes() == want
    assert HyperLogLog.union([]).estimate() == 0.0
    with pytest.raises(TypeError, match=f"item {at}"):
        HyperLogLog.union(images[:at] + ["not an image"] + images[at + 1 :])


@pytest.mark.parametrize("where", ["images", "mixed"])
def test_a_corrupt_image_names_its_index(where: str) -> None:
    parts = _hll_parts(5)
    items: list = [h.to_bytes() for h in parts]
    if where == "mixed":
        items[0] = parts[0]
    items[3] = items[3][:30]
    with pytest.raises(SketchFormatError, match="image 3"):
        HyperLogLog.union(items)
    kll = [KllSketch(seed=i) for i in range(4)]
    for k in kll:
        k.update(np.arange(1000.0))
    kitems: list = [k.to_bytes() for k in kll]
    kitems[2] = b"\x05\x02\x0f\x00" + kitems[2][4:9]
    with pytest.raises(SketchFormatError, match="image 2"):
        KllSketch.union(kitems)
    with pytest.raises(TypeError, match="HyperLogLog or bytes"):
        HyperLogLog.union([parts[0], 3])
    with pytest.raises(TypeError, match="collection"):
        HyperLogLog.union(b"\x02\x01\x07")


def _kll_parts(n: int = 30, dtype: str = "float64") -> list[KllSketch]:
    parts = []
    for i in range(n):
        k = KllSketch(200, dtype, seed=1000 + i)
        k.update(np.random.default_rng(i).normal(i, 1.0, 3000 if i % 5 else 50))
        parts.append(k)
    return parts


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kll_union_equals_merging_one_by_one(dtype: str) -> None:
    parts = _kll_parts(dtype=dtype)
    images = [p.to_bytes() for p in parts]
    by_merge = KllSketch(200, dtype, seed=7)
    for p in parts:
        by_merge.merge(p)
    want = by_merge.to_bytes()
    assert KllSketch.union(images, dtype, seed=7).to_bytes() == want
    assert KllSketch.union(parts, dtype, seed=7).to_bytes() == want
    mixed = [p if i % 3 else p.to_bytes() for i, p in enumerate(parts)]
    assert KllSketch.union(mixed, dtype, seed=7).to_bytes() == want
    assert KllSketch.union(pa.array(images, pa.binary()), dtype, seed=7).to_bytes() == want
    assert KllSketch.union(np.array(images, dtype=object), dtype, seed=7).to_bytes() == want
    u = KllSketch.union(images, dtype)
    assert u.dtype == np.dtype(dtype) and u.k == 200 and u.n == sum(p.n for p in parts)


def test_kll_union_matches_datasketches_merges() -> None:
    parts = _kll_parts()
    images = [p.to_bytes() for p in parts]
    ref = ds.kll_doubles_sketch(200)
    for b in images:
        ref.merge(ds.kll_doubles_sketch.deserialize(b))
    u = KllSketch.union(images)
    assert u.n == ref.n and u.min == ref.get_min_value() and u.max == ref.get_max_value()
    eps = u.normalized_rank_error()
    for x in np.linspace(-2, 32, 35):
        # both within the error bound of the true rank, so within twice it of each other
        assert abs(u.rank(x) - ref.get_rank(x, inclusive=True)) <= 2 * eps
    # datasketches reads the union's image
    back = ds.kll_doubles_sketch.deserialize(u.to_bytes())
    assert back.n == u.n and back.get_quantile(0.5, inclusive=True) == u.quantile(0.5)


def test_kll_union_k_and_errors() -> None:
    a, b = KllSketch(100, seed=1), KllSketch(400, seed=2)
    a.update(np.arange(5000.0))
    b.update(np.arange(5000.0))
    assert KllSketch.union([a.to_bytes(), b.to_bytes()]).k == 400
    assert KllSketch.union([a, b], k=64).k == 64
    assert KllSketch.union([a, b]).min_k == 100
    empty = KllSketch.union([])
    assert empty.k == 200 and empty.n == 0
    with pytest.raises(IncompatibleSketchError):
        KllSketch.union([a, KllSketch(dtype="float32")])
    with pytest.raises(ValueError, match="k must be from 8 to 65535"):
        KllSketch.union([a], k=3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kll_union_of_many_images_keeps_the_bound(dtype: str) -> None:
    # From 64 images the union is one batch (levels pooled across images): every rank
    # within the sketch's documented bound of the exact rank, exact n / min / max, the
    # same bytes for the same seed, and an image datasketches reads and answers alike.
    rng = np.random.default_rng(4)
    data = [rng.normal(i % 7, 1.0 + i % 3, 2000).astype(dtype) for i in range(300)]
    images = []
    for i, d in enumerate(data):
        k = KllSketch(200, dtype, seed=i)
        k.update(d)
        images.append(k.to_bytes())
    every = np.sort(np.concatenate(data))
    u = KllSketch.union(images, dtype, seed=5)
    assert u.n == every.size and u.min == every[0] and u.max == every[-1]
    eps = u.normalized_rank_error()
    xs = every[:: every.size // 997]
    exact = np.searchsorted(every, xs, side="right") / every.size
    assert np.max(np.abs(u.ranks(xs) - exact)) <= eps
    assert KllSketch.union(images, dtype, seed=5).to_bytes() == u.to_bytes()
    reader = ds.kll_doubles_sketch if dtype == "float64" else ds.kll_floats_sketch
    back = reader.deserialize(u.to_bytes())
    assert back.n == u.n
    for x in xs[::50]:
        # the same retained items: C++ and Java semantics differ by one item at most
        assert back.get_rank(float(x), inclusive=True) == pytest.approx(u.rank(x), abs=2 / u.n)


def test_kll_union_of_many_images_names_a_bad_image_in_either_half() -> None:
    # From 64 images the union is one batch on two cores: its errors still name the
    # index in the whole list, and the first of two bad images is the one named.
    images = [k.to_bytes() for k in _kll_parts(100)]
    for at in (10, 80):
        bad = list(images)
        bad[at] = bad[at][:9]
        with pytest.raises(SketchFormatError, match=f"image {at}:"):
            KllSketch.union(bad)
    both = list(images)
    both[30] = both[30][:9]
    both[90] = both[90][:9]
    with pytest.raises(SketchFormatError, match="image 30:"):
        KllSketch.union(both)
    u = KllSketch.union(images, seed=3)
    assert u.n == sum(KllSketch.from_bytes(b).n for b in images)
    assert KllSketch.union(images, seed=3).to_bytes() == u.to_bytes()  # deterministic


def test_kll_union_whose_images_state_no_valid_k_names_the_bad_image() -> None:
    # k 0 read from a damaged header once chose the union's k, and failed as a bad
    # argument ("k must be from 8") instead of naming the image.
    good = _kll_parts(3)[0].to_bytes()
    for images in ([b"\x00" * 100], [b"\x00" * 100, good], [good, b"\xff" * 40] + [good] * 70):
        at = next(i for i, b in enumerate(images) if b != good)
        with pytest.raises(SketchFormatError, match=f"image {at}:"):
            KllSketch.union(images)
