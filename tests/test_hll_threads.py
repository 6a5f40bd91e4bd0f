"""One sketch shared by 8 threads: no crash, no lost update (the GIL is released
during native calls, so the native side must serialise them)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from _threads import run_threads

from sketchbox import HyperLogLog


def registers(h: HyperLogLog) -> bytes:
    image = h.copy("HLL_8").to_bytes(compact=False)
    assert image[7] & 3 == 2, "expected HLL mode"
    return image[40:]


def test_concurrent_updates_merges_and_reads_lose_nothing():
    shared = HyperLogLog(12)
    chunks = [np.arange(i * 300_000, (i + 1) * 300_000, dtype=np.int64) for i in range(8)]
    extras = []
    for i in range(8):
        e = HyperLogLog(12)
        e.update(np.arange(10_000_000 + i * 5000, 10_000_000 + (i + 1) * 5000))
        extras.append(e)

    def work(i):
        for part in np.array_split(chunks[i], 5):
            shared.update(part)
            shared.estimate()
            shared.to_bytes()
        for v in range(20_000_000 + i * 1000, 20_000_000 + i * 1000 + 1000):
            shared.update(v)
        shared.update([f"s{i}-{j}" for j in range(2000)])
        shared.merge(extras[i])
        shared.lower_bound(2)

    run_threads(work)

    expected = HyperLogLog(12)
    for i in range(8):
        expected.update(chunks[i])
        expected.update(list(range(20_000_000 + i * 1000, 20_000_000 + i * 1000 + 1000)))
        expected.update([f"s{i}-{j}" for j in range(2000)])
        expected.merge(extras[i])
    assert registers(shared) == registers(expected)


def test_concurrent_exact_mode_counts_every_item():
    # lg_k 21 stays in exact coupon mode for these 80,000 items: the estimate is a
    # function of the number of distinct coupons alone, whatever the order.
    shared = HyperLogLog(21)

    def work(i):
        for v in range(i * 10_000, (i + 1) * 10_000):
            shared.update(v)

    run_threads(work)
    sequential = HyperLogLog(21)
    sequential.update(np.arange(80_000))
    assert shared.to_dict()["mode"] == "SET"
    assert shared.estimate() == sequential.estimate()


def test_close_while_another_thread_updates_is_safe():
    # close() runs while the other thread is inside the native update (held in its
    # progress callback): the update finishes on the handle it holds, then it is freed.
    h = HyperLogLog()
    data = np.arange(3_000_000)
    inside, closed = threading.Event(), threading.Event()

    def progress(done, total):
        inside.set()
        closed.wait()

    errors = []

    def work():
        try:
            h.update(data, progress=progress)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    worker = threading.Thread(target=work)
    worker.start()
    inside.wait()
    h.close()
    closed.set()
    worker.join()
    assert not errors, errors
    assert h.closed
    with pytest.raises(ValueError, match="closed"):
        h.estimate()
