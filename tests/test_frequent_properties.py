"""The frequent-items guarantee on skewed, flat and merged streams (fixed seeds):
lower <= true <= upper, upper - lower == maximum_error <= epsilon * total_weight, and
top() with no false positives / no false negatives as named."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from _threads import run_threads

from sketchbox import FrequentItems


def check_guarantee(f: FrequentItems, truth: Counter) -> None:
    total = sum(truth.values())
    assert f.total_weight == total
    err = f.maximum_error
    assert err <= f.epsilon * total
    assert err <= 3.5 * total / 2**f.lg_max_map_size
    for item, count in truth.items():
        lo, hi = f.lower_bound(item), f.upper_bound(item)
        assert lo <= count <= hi and hi - lo == err
    nfp = f.top(error_type="no_false_positives")
    assert all(truth[item] > err for item, *_ in nfp)
    nfn = {item for item, *_ in f.top(error_type="no_false_negatives")}
    assert {item for item, c in truth.items() if c > err} <= nfn
    estimates = [e for _, e, _, _ in f.top(error_type="no_false_negatives")]
    assert estimates == sorted(estimates, reverse=True)


def test_zipf_stream():
    data = np.random.default_rng(11).zipf(1.1, 1_000_000) % 1_000_003
    f = FrequentItems(10)
    f.update(data)
    assert f.maximum_error > 0  # the map purged: the bound is exercised
    check_guarantee(f, Counter(data.tolist()))
    assert f.top(k=5)[0][0] == 1


def test_flat_weighted_stream():
    rng = np.random.default_rng(12)
    data = rng.integers(0, 20_000, 300_000)
    weights = rng.integers(0, 10, data.size)
    f = FrequentItems(8, dtype="float64")
    f.update(data.astype(np.float64), weights=weights)
    truth: Counter = Counter()
    for x, w in zip(data.tolist(), weights.tolist()):
        if w:
            truth[float(x)] += w
    assert f.maximum_error > 0
    check_guarantee(f, truth)


def test_one_hundred_merged_parts():
    rng = np.random.default_rng(13)
    truth: Counter = Counter()
    parts = []
    for _ in range(100):
        data = [f"k{v}" for v in (rng.zipf(1.3, 5000) % 7000).tolist()]
        truth.update(data)
        p = FrequentItems(7, dtype="str")
        p.update(data)
        parts.append(p)
    merged = FrequentItems(7, dtype="str")
    for p in parts:
        merged.merge(p)
    assert merged.maximum_error > 0
    check_guarantee(merged, truth)
    images = [p.to_bytes() for p in parts]
    union = FrequentItems.union(images, dtype="str")
    check_guarantee(union, truth)
    # The union reads each image as from_bytes does, then merges in order.
    from_images = FrequentItems(7, dtype="str")
    for image in images:
        from_images.merge(FrequentItems.from_bytes(image, "str"))
    assert union.to_bytes() == from_images.to_bytes()


@pytest.mark.parametrize("dtype", ["int64", "str"])
def test_eight_threads_on_one_sketch(dtype):
    f = FrequentItems(6, dtype=dtype)
    per_thread = 20_000

    def work(i: int) -> None:
        items = np.arange(per_thread) % 300 + i
        if dtype == "str":
            f.update([str(x) for x in items.tolist()], weights=np.full(per_thread, 2))
        else:
            for x in items[:2000].tolist():
                f.update(x)  # the buffered scalar path
            f.update(items[2000:], weights=np.full(per_thread - 2000, 2))
        f.top()
        f.estimate("1" if dtype == "str" else 1)
        f.to_bytes()

    run_threads(work, 8)
    expected = 8 * (2 * per_thread if dtype == "str" else 2000 + 2 * (per_thread - 2000))
    assert f.total_weight == expected
    assert f.maximum_error <= f.epsilon * expected
