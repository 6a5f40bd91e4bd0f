"""Bad FrequentItems images get SketchFormatError, never a crash or a huge allocation."""

from __future__ import annotations

import random

import numpy as np
import pytest
from _fuzz import mutate

from sketchbox import FrequentItems, SketchFormatError


def valid_images() -> list[tuple[bytes, str]]:
    out = []
    rng = np.random.default_rng(5)
    for dtype, lg, n in [
        ("int64", 6, 0),
        ("int64", 6, 30),
        ("int64", 4, 2000),
        ("float64", 5, 300),
        ("str", 6, 1),
        ("str", 5, 500),
    ]:
        f = FrequentItems(lg, dtype)
        data = rng.zipf(1.4, n) % 400
        if dtype == "str":
            f.update([f"é{v}" for v in data.tolist()])
        elif dtype == "float64":
            f.update(data.astype(np.float64) / 4)
        else:
            f.update(data)
        out.append((f.to_bytes(), dtype))
    return out


def test_truncations_and_foreign_bytes():
    for image, dtype in valid_images():
        for cut in range(len(image)):
            with pytest.raises(SketchFormatError):
                FrequentItems.from_bytes(image[:cut], dtype)
        with pytest.raises(SketchFormatError):
            FrequentItems.from_bytes(image + b"\0", dtype)
    with pytest.raises(SketchFormatError, match="family"):
        FrequentItems.from_bytes(bytes([1, 1, 7, 6, 3, 5, 0, 0]))
    # A 32-byte preamble claiming a 2^26 table and a huge count is refused outright.
    huge = bytes([4, 1, 10, 26, 26, 0, 0, 0]) + (2**31).to_bytes(4, "little") + bytes(4)
    huge += (5).to_bytes(8, "little") + bytes(8)
    with pytest.raises(SketchFormatError):
        FrequentItems.from_bytes(huge)
    with pytest.raises(TypeError):
        FrequentItems.from_bytes("not bytes")  # type: ignore[arg-type]


def test_ten_thousand_mutations_never_crash():
    rng = random.Random(20260815)
    images = valid_images()
    read = 0
    for _ in range(10_000):
        image, dtype = rng.choice(images)
        data = mutate(image, rng, count_field=slice(8, 12))
        try:
            f = FrequentItems.from_bytes(data, dtype)
        except SketchFormatError as e:
            assert str(e)
            continue
        read += 1
        rows = f.top(error_type="no_false_negatives")
        assert f.maximum_error <= f.total_weight
        for item, est, lo, hi in rows[:3]:
            assert lo <= est <= hi and f.lower_bound(item) == lo
        g = FrequentItems.from_bytes(f.to_bytes(), dtype)
        if f.total_weight <= 2**62:  # else the merged weight would pass int64's range
            g.merge(f)
    assert read > 100  # the mutations also exercise the success path
