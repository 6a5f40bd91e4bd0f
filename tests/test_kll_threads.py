"""One KllSketch shared by 8 threads: no crash, no lost update (the GIL is released
during native calls, so the native side must serialise them)."""

from __future__ import annotations

import numpy as np
from _threads import run_threads

from sketchbox import KllSketch


def test_eight_threads_lose_no_update():
    shared = KllSketch(200)
    rng = np.random.default_rng(0)
    chunks = [rng.normal(i, 1.0, 400_000) for i in range(8)]
    extras = []
    for i in range(8):
        e = KllSketch(200)
        e.update(np.full(1000, 100.0 + i))
        extras.append(e)

    def work(i):
        for part in np.array_split(chunks[i], 10):
            shared.update(part)
            shared.quantiles([0.1, 0.5, 0.9])
            shared.rank(0.0)
            shared.to_bytes()
        for v in range(2000):
            shared.update(float(v))  # buffered scalars
        shared.update([1.0, None, 2.0])
        shared.merge(extras[i])
        shared.cdf([0.0, 1.0])
        _ = shared.n, shared.min, shared.max

    run_threads(work)
    total = sum(c.size for c in chunks) + 8 * (2000 + 2 + 1000)
    assert shared.n == total
    assert shared.max == 1999.0
    assert shared.min == min(c.min() for c in chunks)
    # the answers are those of a sketch of all the items, within the bound
    everything = np.sort(
        np.concatenate(
            chunks
            + [np.arange(2000.0)] * 8
            + [np.array([1.0, 2.0])] * 8
            + [np.full(1000, 100.0 + i) for i in range(8)]
        )
    )
    eps = shared.normalized_rank_error()
    for r in np.linspace(0.01, 0.99, 25):
        q = shared.quantile(r)
        lo = np.searchsorted(everything, q, "left") / everything.size
        hi = np.searchsorted(everything, q, "right") / everything.size
        assert lo - eps <= r <= hi + eps


def test_threads_merging_into_each_other_do_not_deadlock():
    a, b = KllSketch(), KllSketch()
    a.update(np.arange(1000.0))
    b.update(np.arange(1000.0, 2000.0))
    snapshot_a, snapshot_b = a.copy(), b.copy()

    def work(i):
        for _ in range(10):  # each self-merge doubles n
            if i % 2:
                a.merge(snapshot_b)
            else:
                b.merge(snapshot_a)
            (a if i % 2 else b).merge(b if i % 2 else a)

    run_threads(work, n=4)
    assert a.n > 0 and b.n > 0
