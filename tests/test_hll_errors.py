"""Bad input gets a clear exception, never a crash."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from _fuzz import mutate
from datasketches import hll_sketch
from datasketches import tgt_hll_type as T

import sketchbox
from sketchbox import (
    HyperLogLog,
    InternalError,
    InvalidArgumentError,
    SketchError,
    SketchFormatError,
)
from sketchbox._native import lib


def valid_images() -> list[bytes]:
    out = []
    for lg_k, t, n in [
        (12, "HLL_8", 0),
        (12, "HLL_8", 5),
        (12, "HLL_4", 300),
        (8, "HLL_6", 30),
        (12, "HLL_4", 20000),
        (10, "HLL_6", 20000),
        (12, "HLL_8", 20000),
        (4, "HLL_4", 1000),
    ]:
        h = HyperLogLog(lg_k, t)
        h.update(np.arange(n))
        out += [h.to_bytes(compact=True), h.to_bytes(compact=False)]
    # an HLL_4 with exceptions (aux table)
    h = HyperLogLog(12, "HLL_4")
    h.update(np.arange(1_000_000))
    out += [h.to_bytes(True), h.to_bytes(False)]
    return out


def test_truncated_images_raise_format_error():
    for data in valid_images():
        for cut in range(len(data)):
            try:
                h = HyperLogLog.from_bytes(data[:cut])
            except SketchFormatError:
                continue
            # Some prefixes are themselves valid (e.g. a compact LIST's header);
            # whatever reads must answer and round-trip.
            h.estimate()
            HyperLogLog.from_bytes(h.to_bytes())


def test_ten_thousand_mutations_never_crash():
    rng = random.Random(20261125)
    images = valid_images()
    read = 0
    for _ in range(10_000):
        data = mutate(rng.choice(images), rng)
        try:
            h = HyperLogLog.from_bytes(data)
        except SketchFormatError as e:
            assert str(e)
            continue
        read += 1
        h.estimate(), h.lower_bound(1), h.upper_bound(3)
        h.update(np.arange(100))
        h2 = HyperLogLog.from_bytes(h.to_bytes(compact=False))
        h2.merge(h)
    assert read > 100  # the mutations must also exercise the success path


def test_foreign_bytes_raise_format_error():
    theta_like = bytes([3, 3, 3, 12, 0, 0x1E, 0, 0])
    for data in (b"", b"\x00", b"hello world, not a sketch", theta_like, bytes(100)):
        with pytest.raises(SketchFormatError):
            HyperLogLog.from_bytes(data)
    with pytest.raises(ValueError):  # SketchFormatError is a ValueError
        HyperLogLog.from_bytes(b"\x02\x01\x07\x03\x03\x08\x00\x08")  # lg_k 3
    with pytest.raises(TypeError):
        HyperLogLog.from_bytes("not bytes")


# Updatable SET images (300 items, lg_k 12) with stray coupons written into their
# tables: datasketches-python 5.2.0 aborts the whole process on each of them.
CRASHING_MUTATIONS = [
    (T.HLL_8, [(226, 184), (501, 136), (1877, 100)]),
    (T.HLL_8, [(393, 181), (432, 100), (1512, 53)]),
    (T.HLL_4, [(41, 245), (1076, 248), (1464, 41)]),
]


def crashing_image(tgt, mutations) -> bytes:
    d = hll_sketch(12, tgt)
    for i in range(300):
        d.update(i)
    data = bytearray(d.serialize_updatable())
    for at, value in mutations:
        data[at] = value
    return bytes(data)


@pytest.mark.parametrize("tgt,mutations", CRASHING_MUTATIONS)
def test_images_that_abort_datasketches_raise_format_error(tgt, mutations):
    data = crashing_image(tgt, mutations)
    with pytest.raises(SketchFormatError):
        HyperLogLog.from_bytes(data)
    # The peer's behaviour, for the record: the process dies.
    probe = (
        "import sys; from datasketches import hll_sketch; "
        "s = hll_sketch.deserialize(bytes.fromhex(sys.argv[1])); "
        "s.get_estimate(); s.update(12345); s.serialize_compact()"
    )
    rc = subprocess.run([sys.executable, "-c", probe, data.hex()], capture_output=True).returncode
    assert rc < 0 or rc > 1, f"datasketches-python handled it (rc {rc}); keep our test anyway"


def test_inconsistent_images_are_refused_cleanly():
    # An HLL_4 image with an aux count but no table; a SET count past its array.
    h = HyperLogLog(12, "HLL_4")
    h.update(np.arange(20000))
    data = bytearray(h.to_bytes())
    data[36:40] = (1000).to_bytes(4, "little")  # aux count with no aux entries
    with pytest.raises(SketchFormatError):
        HyperLogLog.from_bytes(bytes(data))
    s = HyperLogLog(12)
    s.update(np.arange(100))  # SET mode
    data = bytearray(s.to_bytes())
    data[8:12] = (10**6).to_bytes(4, "little")
    with pytest.raises(SketchFormatError):
        HyperLogLog.from_bytes(bytes(data))


@pytest.mark.parametrize("lg_k", [3, 22, -1, 100])
def test_lg_k_out_of_range(lg_k):
    with pytest.raises(ValueError):
        HyperLogLog(lg_k)


def test_bad_parameters():
    with pytest.raises(TypeError):
        HyperLogLog(12.0)
    with pytest.raises(TypeError):
        HyperLogLog("12")
    with pytest.raises(ValueError):
        HyperLogLog(12, "HLL_5")
    with pytest.raises(TypeError):
        HyperLogLog(12, None)
    h = HyperLogLog()
    for bad in (0, 4, -1):
        with pytest.raises(ValueError):
            h.lower_bound(bad)
        with pytest.raises(ValueError):
            h.upper_bound(bad)
    with pytest.raises(TypeError):
        h.lower_bound(2.0)
    with pytest.raises(TypeError):
        h.merge(hll_sketch(12))
    with pytest.raises(TypeError):
        h.update([1], progress=5)


def test_native_status_codes_map_to_exceptions():
    from sketchbox._base import check
    from sketchbox.errors import BY_STATUS

    # One exception class per status code of the header (a panic inside the library
    # becoming SK_ERR_PANIC is tested in Rust: the released library has no entry point
    # that panics on purpose).
    assert BY_STATUS[lib.SK_ERR_PANIC] is InternalError
    assert BY_STATUS[lib.SK_ERR_EMPTY] is sketchbox.EmptySketchError
    assert BY_STATUS[lib.SK_ERR_BUSY] is sketchbox.SketchBusyError
    assert BY_STATUS[lib.SK_ERR_READ_ONLY] is sketchbox.ReadOnlySketchError
    assert lib.sk_abi_version() == 0  # SK_ABI_VERSION, the N of libsketchbox.so.N
    with pytest.raises(InvalidArgumentError):
        check(lib.sk_hll_new(30, 2, sketchbox._ffi.new("SkHll **")))
    # A parameter is checked, not truncated: 260 is not 260 mod 256 = 4.
    with pytest.raises(InvalidArgumentError, match="260"):
        check(lib.sk_hll_new(260, 2, sketchbox._ffi.new("SkHll **")))
    with pytest.raises(ValueError, match="lg_k"):
        HyperLogLog(lg_k=260)
    assert issubclass(SketchFormatError, SketchError) and issubclass(SketchFormatError, ValueError)


def test_use_after_close_raises():
    h = HyperLogLog()
    h.update([1, 2, 3])
    other = HyperLogLog()
    with h:
        pass
    assert h.closed
    for call in (
        lambda: h.update(1),
        h.estimate,
        h.to_bytes,
        h.copy,
        h.is_empty,
        lambda: h.merge(other),
        lambda: other.merge(h),
        lambda: h | other,
        h.to_dict,
        lambda: h.lg_k,
    ):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert "closed" in repr(h)
    h.close()  # closing twice is fine
