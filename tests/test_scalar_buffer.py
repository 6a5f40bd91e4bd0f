"""Scalar updates wait in a per-sketch buffer (see NativeSketch in sketchbox/_base.py):
whatever the threads do, every query sees the items given before it, in order, each
applied once, and a flush that fails keeps its items and raises.

Races are staged with events: a subclass's `_feed` (the native call of a flush) can be
held open, and a lock that announces waiters stands for the sketch's flush lock."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from _threads import run_threads

from sketchbox import HyperLogLog, KllSketch, ThetaSketch


class Boom(Exception):
    pass


def held_open(cls):
    """A subclass that records the items of each flush call (`calls`), whose first call
    stops until `release` is set after setting `inside`, and whose calls fail with Boom
    while `failures` holds True at their turn."""

    class Held(cls):
        __slots__ = ("inside", "release", "failures", "calls")

        def _feed(self, p, values, progress=None):
            self.calls.append([v.item() if hasattr(v, "item") else v for v in values])
            if self.failures and self.failures.pop(0):
                raise Boom("injected flush failure")
            if not self.inside.is_set():
                self.inside.set()
                self.release.wait()
            super()._feed(p, values, progress)

    def make(*args, **kwargs):
        s = Held(*args, **kwargs)
        s.inside, s.release, s.failures, s.calls = threading.Event(), threading.Event(), [], []
        s.release.set()  # open unless a test closes it
        return s

    return make


class AnnouncingLock:
    """A lock that sets `waiting` when a thread starts to acquire it; with `gate`
    cleared, the acquirer then waits for the gate first."""

    def __init__(self):
        self._lock = threading.Lock()
        self.waiting = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def acquire(self, blocking=True):
        self.waiting.set()
        self.gate.wait()
        return self._lock.acquire(blocking)

    def release(self):
        self._lock.release()


def test_a_query_waits_for_items_another_thread_is_applying():
    q = held_open(KllSketch)()
    q.update(1.0)
    q.release.clear()
    flusher = threading.Thread(target=lambda: q.n)
    flusher.start()
    q.inside.wait()  # the other thread took the item and is applying it
    lock = AnnouncingLock()
    lock._lock = q._lock  # the flush lock the other thread holds
    q._lock = lock
    seen = []
    # (the reader also sets `waiting` when done, so that a reader answering at once
    # fails the test below instead of hanging it)
    reader = threading.Thread(target=lambda: (seen.append(q.n), lock.waiting.set()))
    reader.start()
    lock.waiting.wait()  # the reader waits for the lock rather than answering 0
    q.release.set()
    reader.join()
    flusher.join()
    assert seen == [1]
    assert q.n == 1  # applied once


def test_buffered_scalars_apply_before_a_later_bulk_update():
    # KLL images keep level 0 in arrival order, so they tell the orders apart.
    q = held_open(KllSketch)(seed=1)
    q.update(5.0)
    q.release.clear()
    flusher = threading.Thread(target=lambda: q.n)
    flusher.start()
    q.inside.wait()
    lock = AnnouncingLock()
    lock._lock = q._lock
    q._lock = lock
    opener = threading.Thread(target=lambda: (lock.waiting.wait(), q.release.set()))
    opener.start()
    q.update([7.0])  # must land after 5.0, which the flusher is applying
    lock.waiting.set()  # (if the update did not wait, the opener must not hang)
    flusher.join()
    opener.join()
    reference = KllSketch(seed=1)
    reference.update(5.0)
    reference.update([7.0])
    assert q.to_bytes() == reference.to_bytes()
    swapped = KllSketch(seed=1)
    swapped.update([7.0, 5.0])
    assert q.to_bytes() != swapped.to_bytes()


def test_a_failed_flush_raises_and_keeps_its_items():
    q = held_open(KllSketch)(seed=3)
    for v in (1.0, 2.0, 3):
        q.update(v)
    q.failures = [True]
    with pytest.raises(Boom):
        q.n  # noqa: B018 - the query flushes
    assert q.n == 3  # applied by the next access, once
    reference = KllSketch(seed=3)
    reference.update([1.0, 2.0, 3.0])
    assert q.to_bytes() == reference.to_bytes()


def test_a_failed_flush_keeps_the_runs_it_did_not_apply():
    # ints, a float, a uint64, an int: four runs, one native call each; the second fails.
    items = [1, 2, 2.5, 2**63 + 7, 4]
    h = held_open(HyperLogLog)(12)
    for v in items:
        h.update(v)
    h.failures = [False, True]
    with pytest.raises(Boom):
        h.estimate()
    h.estimate()
    # the applied run left the buffer; the failed one and those after it stayed, in order
    assert h.calls == [[1, 2], [2.5], [2.5], [2**63 + 7], [4]]
    reference = HyperLogLog(12)
    reference.update(items)  # a mixed list: each item hashed by its type
    assert h.to_bytes() == reference.to_bytes()


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, KllSketch])
def test_an_update_whose_flush_fails_does_not_take_its_item(cls):
    kwargs = {"seed": 5} if cls is KllSketch else {}  # KLL: the same coin flips
    s = held_open(cls)(**kwargs)
    n = s.BUFFER_ITEMS
    for v in range(n):
        s.update(float(v))
    s.failures = [True]
    with pytest.raises(Boom):
        s.update(float(n))  # the buffer is full: this update flushes first, and fails
    expected = cls(**kwargs)
    expected.update(np.arange(n, dtype=np.float64))
    assert s.to_bytes() == expected.to_bytes()


def test_a_flush_that_loses_its_sketch_to_close_raises():
    q = KllSketch()
    q.update(1.0)
    lock = AnnouncingLock()
    lock.gate.clear()
    q._lock = lock
    closer = threading.Thread(target=lambda: (lock.waiting.wait(), q.close(), lock.gate.set()))
    closer.start()
    # The query took the open handle, then close() ran while it waited for the lock:
    # it cannot answer without its item, so it says the sketch is closed.
    try:
        with pytest.raises(ValueError, match="closed"):
            q.n  # noqa: B018
    finally:
        lock.waiting.set()  # (a query that did not wait must not hang the closer)
        closer.join()
    with pytest.raises(ValueError, match="closed"):
        q.update(2.0)


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, KllSketch])
def test_many_threads_of_scalars_lose_and_double_nothing(cls):
    # Exact modes (HLL lg_k 21, Theta lg_k 16): the estimate is the number of distinct
    # items, so a lost item shows; KLL's n also shows a doubled one.
    s = {HyperLogLog: lambda: HyperLogLog(21), ThetaSketch: lambda: ThetaSketch(16)}.get(cls, cls)()
    per_thread = 5000

    def work(i):
        for v in range(i * per_thread, (i + 1) * per_thread):
            s.update(float(v) if cls is KllSketch else v)
            if v % 997 == 0:
                s.is_empty()  # forces flushes from every thread

    run_threads(work)
    if cls is KllSketch:
        assert s.n == 8 * per_thread
        assert s.min == 0.0 and s.max == 8 * per_thread - 1
    else:
        sequential = {HyperLogLog: lambda: HyperLogLog(21), ThetaSketch: lambda: ThetaSketch(16)}[
            cls
        ]()
        sequential.update(np.arange(8 * per_thread))
        assert s.estimate() == sequential.estimate()
