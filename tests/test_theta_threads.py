"""One sketch shared by 8 threads: no crash, no lost update, no deadlock (the GIL is
released during native calls, so the native side must serialise them)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from _threads import run_threads

from sketchbox import ThetaSketch

MAX_THETA = 2**63 - 1


def entries(s: ThetaSketch) -> tuple[int, np.ndarray]:
    """(theta64, retained hashes) of a sketch, from its compact image."""
    image = s.to_bytes()
    if image[0] == 1:
        return MAX_THETA, np.frombuffer(image[8:], dtype="<u8")
    theta = int.from_bytes(image[16:24], "little") if image[0] == 3 else MAX_THETA
    return theta, np.frombuffer(image[8 * image[0] :], dtype="<u8")


def test_concurrent_updates_lose_nothing():
    """A Theta sketch's state depends on the order of its updates, but always holds
    every hash it was given below its theta: so nothing was lost if its entries are
    exactly those of an exact sketch of all the items, cut at its theta."""
    shared = ThetaSketch(10)
    chunks = [np.arange(i * 300_000, (i + 1) * 300_000, dtype=np.int64) for i in range(8)]

    def work(i):
        for part in np.array_split(chunks[i], 5):
            shared.update(part)
            shared.estimate()
            shared.to_bytes()
        for v in range(20_000_000 + i * 3000, 20_000_000 + (i + 1) * 3000):
            shared.update(v)  # buffered scalars
        shared.update([f"s{i}-{j}" for j in range(2000)])
        shared.lower_bound(2)

    run_threads(work)

    exact = ThetaSketch(26)
    for i in range(8):
        exact.update(chunks[i])
        exact.update(np.arange(20_000_000 + i * 3000, 20_000_000 + (i + 1) * 3000))
        exact.update([f"s{i}-{j}" for j in range(2000)])
    all_theta, all_hashes = entries(exact)
    assert all_theta == MAX_THETA and len(all_hashes) == 8 * 305_000
    theta, kept = entries(shared)
    assert theta < MAX_THETA
    assert np.array_equal(kept, all_hashes[all_hashes < theta])


def test_concurrent_exact_mode_counts_every_item():
    shared = ThetaSketch(16)  # exact up to ~120,000 distinct items

    def work(i):
        for v in range(i * 10_000, (i + 1) * 10_000):
            shared.update(v)

    run_threads(work)
    assert shared.theta == 1.0
    assert shared.estimate() == 80_000
    sequential = ThetaSketch(16)
    sequential.update(np.arange(80_000))
    assert shared.to_bytes() == sequential.to_bytes()


def test_concurrent_set_operations_do_not_deadlock():
    a, b = ThetaSketch(), ThetaSketch()
    a.update(np.arange(50_000))
    b.update(np.arange(25_000, 75_000))
    expected = {
        "or": (a | b).to_bytes(),
        "and": (a & b).to_bytes(),
        "a-b": (a - b).to_bytes(),
        "b-a": (b - a).to_bytes(),
        "j": a.jaccard(b),
    }

    def work(i):
        for _ in range(30):
            if i % 2:
                assert (a | b).to_bytes() == expected["or"]
                assert (b - a).to_bytes() == expected["b-a"]
                assert (a & a).to_bytes() == a.to_bytes()
            else:
                assert (b & a).to_bytes() == expected["and"]
                assert (a - b).to_bytes() == expected["a-b"]
                assert b.jaccard(a) == expected["j"]
            assert ThetaSketch.union([a, b, a, b]).estimate() > 0

    run_threads(work)


def test_close_while_another_thread_updates_is_safe():
    # close() runs while the other thread is inside the native update (held in its
    # progress callback): the update finishes on the handle it holds, then it is freed.
    s = ThetaSketch()
    data = np.arange(3_000_000)
    inside, closed = threading.Event(), threading.Event()

    def progress(done, total):
        inside.set()
        closed.wait()

    errors = []

    def work():
        try:
            s.update(data, progress=progress)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    worker = threading.Thread(target=work)
    worker.start()
    inside.wait()
    s.close()
    closed.set()
    worker.join()
    assert not errors, errors
    assert s.closed
    with pytest.raises(ValueError, match="closed"):
        s.estimate()
