"""Bad input gets a clear exception, never a crash."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from _fuzz import mutate
from datasketches import update_theta_sketch

from sketchbox import (
    HyperLogLog,
    IncompatibleSketchError,
    InvalidArgumentError,
    SketchError,
    SketchFormatError,
    ThetaSketch,
)
from sketchbox._native import ffi, lib


def sketch(values, lg_k=12, p=1.0, seed=9001) -> ThetaSketch:
    s = ThetaSketch(lg_k, p, seed)
    s.update(values)
    return s


def valid_images() -> list[bytes]:
    out = []
    for lg_k, p, n in [
        (12, 1.0, 0),
        (12, 1.0, 1),
        (12, 1.0, 9),
        (12, 1.0, 300),
        (5, 1.0, 2000),
        (12, 1.0, 20000),
        (6, 0.5, 40),
        (12, 0.01, 1),
    ]:
        s = sketch(np.arange(n), lg_k, p)
        out += [s.to_bytes(), s.to_bytes(compressed=True)]
        # DataSketches' unordered compact image of the same sketch.
        d = update_theta_sketch(lg_k, p)
        for v in range(n):
            d.update(v)
        out.append(d.compact(False).serialize())
    return out


def test_truncated_images_raise_format_error():
    for data in valid_images():
        for cut in range(len(data)):
            try:
                s = ThetaSketch.from_bytes(data[:cut])
            except SketchFormatError:
                continue
            # A prefix can itself be valid (an empty sketch's 8 bytes); it must answer.
            s.estimate()
            assert ThetaSketch.from_bytes(s.to_bytes()).to_bytes() == s.to_bytes()


def exercise(s: ThetaSketch, partner: ThetaSketch) -> None:
    est = s.estimate()
    assert math.isfinite(est) and est >= 0
    for n in (1, 2, 3):
        assert s.lower_bound(n) <= s.upper_bound(n)
    assert 0 < s.theta <= 1
    for compressed in (False, True):
        assert ThetaSketch.from_bytes(s.to_bytes(compressed)).to_bytes() == s.to_bytes()
    (s | partner).estimate()
    (s & partner).estimate()
    (s - partner).estimate()
    (partner - s).estimate()
    assert all(math.isfinite(x) for x in s.jaccard(partner))
    s.to_dict()


def test_ten_thousand_mutations_never_crash():
    rng = random.Random(20261125)
    images = valid_images()
    partner = sketch(np.arange(100, 400), lg_k=5)
    partner_image = partner.to_bytes()
    read = 0
    for _ in range(10_000):
        data = mutate(rng.choice(images), rng, count_field=slice(8, 12))
        # The union's image path never crashes either, whatever it is given.
        try:
            ThetaSketch.union([partner_image, data, partner_image]).estimate()
        except (SketchFormatError, IncompatibleSketchError) as e:
            assert "image 1" in str(e)
        try:
            s = ThetaSketch.from_bytes(data)
        except (SketchFormatError, IncompatibleSketchError) as e:
            assert str(e)
            continue
        read += 1
        exercise(s, partner)
    assert read > 500  # the mutations must also exercise the success path


def test_foreign_bytes_raise_format_error():
    hll = HyperLogLog()
    hll.update([1, 2, 3])
    for data in (b"", b"\x00", b"hello world, not a sketch", hll.to_bytes(), bytes(100)):
        with pytest.raises(SketchFormatError):
            ThetaSketch.from_bytes(data)
        with pytest.raises(SketchFormatError, match="image 0"):
            ThetaSketch.union([data])
    with pytest.raises(ValueError):  # SketchFormatError is a ValueError
        ThetaSketch.from_bytes(bytes([3, 9, 3, 0, 0, 0x1A, 0, 0]))  # serial version 9
    with pytest.raises(TypeError):
        ThetaSketch.from_bytes("not bytes")
    with pytest.raises(TypeError):
        ThetaSketch.union([b"", "not bytes"])


def test_images_of_another_seed_are_incompatible():
    s = sketch(np.arange(1000), seed=42)
    image = s.to_bytes()
    with pytest.raises(IncompatibleSketchError, match="seed"):
        ThetaSketch.from_bytes(image)
    assert ThetaSketch.from_bytes(image, seed=42).estimate() == 1000
    with pytest.raises(IncompatibleSketchError, match="image 1"):
        ThetaSketch.union([sketch([1]).to_bytes(), image])
    assert ThetaSketch.union([image], seed=42).estimate() == 1000
    # Empty images carry no checked seed (Java writes 0 there), as in DataSketches.
    assert ThetaSketch.from_bytes(ThetaSketch(seed=42).to_bytes()).is_empty()


def test_sketches_of_different_seeds_do_not_combine():
    a, b = sketch(np.arange(100)), sketch(np.arange(100), seed=1)
    for op in (
        lambda: a | b,
        lambda: b | a,
        lambda: a & b,
        lambda: a - b,
        lambda: b - a,
        lambda: a.jaccard(b),
        lambda: ThetaSketch.union([a, b]),
        lambda: ThetaSketch.intersection([b, a]),
        lambda: ThetaSketch.union([a], seed=1),
    ):
        with pytest.raises(IncompatibleSketchError):
            op()
    # Empty sketches of any seed are the empty set.
    assert (a | ThetaSketch(seed=5)).estimate() == 100
    assert (a & ThetaSketch(seed=5)).is_empty()


@pytest.mark.parametrize("lg_k", [4, 27, -1, 100])
def test_lg_k_out_of_range(lg_k):
    with pytest.raises(ValueError, match="lg_k"):
        ThetaSketch(lg_k)
    with pytest.raises(ValueError, match="lg_k"):
        ThetaSketch.union([], lg_k=lg_k)


def test_bad_parameters():
    for bad_p in (0, 0.0, -0.5, 1.5, float("nan"), 1e-30):
        with pytest.raises(ValueError, match="p"):
            ThetaSketch(12, bad_p)
    for bad, exc in [
        (dict(lg_k=12.0), TypeError),
        (dict(lg_k="12"), TypeError),
        (dict(lg_k=True), TypeError),
        (dict(p="1"), TypeError),
        (dict(seed=-1), ValueError),
        (dict(seed=2**64), ValueError),
        (dict(seed=1.0), TypeError),
    ]:
        with pytest.raises(exc):
            ThetaSketch(**bad)
    s = ThetaSketch()
    for bad in (0, 4, -1):
        with pytest.raises(ValueError):
            s.lower_bound(bad)
        with pytest.raises(ValueError):
            s.upper_bound(bad)
    with pytest.raises(TypeError):
        s.lower_bound(2.0)
    with pytest.raises(TypeError):
        s.update([1], progress=5)
    with pytest.raises(ValueError):
        ThetaSketch.from_bytes(s.to_bytes(), seed=-1)


def test_wrong_operand_types():
    s = sketch([1, 2, 3])
    hll = HyperLogLog()
    for op in (lambda: s | 5, lambda: s & "x", lambda: s - hll, lambda: hll | s):
        with pytest.raises(TypeError):
            op()
    with pytest.raises(TypeError):
        s.jaccard(hll)
    with pytest.raises(TypeError):
        ThetaSketch.union([s, hll])
    with pytest.raises(TypeError):
        ThetaSketch.intersection([s, 5])
    with pytest.raises(TypeError):
        ThetaSketch.union(5)
    with pytest.raises(ValueError, match="no sketches"):
        ThetaSketch.intersection([])


def test_empty_inputs():
    assert ThetaSketch.union([]).is_empty()
    assert ThetaSketch.union([ThetaSketch(), ThetaSketch().to_bytes()]).is_empty()
    assert ThetaSketch.intersection([ThetaSketch()]).is_empty()
    s = ThetaSketch()
    s.update([])
    s.update(np.array([], dtype=np.int64))
    s.update(["", b""])  # empty strings are not items
    assert s.is_empty() and s.estimate() == 0 and s.theta == 1.0


def test_native_status_codes_map_to_exceptions():
    out = ffi.new("SkTheta **")
    with pytest.raises(InvalidArgumentError, match="lg_k"):
        from sketchbox._base import check

        check(lib.sk_theta_new(30, 1.0, 9001, out))
    assert lib.sk_theta_update_one_i64(ffi.NULL, 1) == 1  # NULL handle
    assert lib.sk_theta_union_images(ffi.NULL, ffi.NULL, 3, 0, 9001, out) == 1
    assert lib.sk_theta_intersection_many(ffi.NULL, 0, 9001, out) == 1
    assert issubclass(IncompatibleSketchError, SketchError)
    assert issubclass(IncompatibleSketchError, ValueError)
    lib.sk_theta_free(ffi.NULL)  # accepted


def test_use_after_close_raises():
    s = sketch([1, 2, 3])
    other = sketch([3, 4])
    with s:
        pass
    assert s.closed
    for call in (
        lambda: s.update(1),
        lambda: s.update([1, 2]),
        s.estimate,
        s.to_bytes,
        s.copy,
        s.is_empty,
        lambda: s.theta,
        lambda: s.num_retained,
        lambda: s | other,
        lambda: other | s,
        lambda: other & s,
        lambda: other - s,
        lambda: other.jaccard(s),
        lambda: ThetaSketch.union([other, s]),
        s.to_dict,
    ):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(s)
    s.close()  # closing twice is fine


def test_a_seed_whose_seed_hash_is_0_is_refused() -> None:
    # DataSketches reserves seed hash 0 and reads no image that carries it.
    from sketchbox import CountMin, TupleSketch

    for make in (
        lambda: ThetaSketch(seed=50541),
        lambda: TupleSketch(seed=50541),
        lambda: CountMin(seed=50541),
        lambda: ThetaSketch.union([ThetaSketch()], seed=50541),
    ):
        with pytest.raises(InvalidArgumentError, match="seed hash of 0"):
            make()
