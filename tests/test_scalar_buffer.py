"""Scalar updates wait in a per-sketch buffer (see sketchbox/_base.py): whatever the
threads do, a caller sees its own updates, in order, each applied once."""

from __future__ import annotations

import threading
import time

import pytest

from sketchbox import HyperLogLog, KllSketch, ThetaSketch


def slow_subclass(cls):
    class Slow(cls):
        __slots__ = ()

        def _feed(self, p, values, progress=None):
            time.sleep(0.2)  # stands for a thread switch while the flush is applied
            super()._feed(p, values, progress)

    return Slow


def test_own_scalar_updates_are_visible_while_another_thread_flushes():
    q = slow_subclass(KllSketch)()
    q.update(1.0)
    flusher = threading.Thread(target=lambda: q.n)
    flusher.start()
    time.sleep(0.05)  # the other thread has taken the item and is applying it
    assert q.n == 1
    flusher.join()
    assert q.n == 1  # applied once


def test_buffered_scalars_apply_before_a_later_bulk_update():
    h = slow_subclass(HyperLogLog)(12)
    h.update(5)
    flusher = threading.Thread(target=lambda: h.estimate())
    flusher.start()
    time.sleep(0.05)
    h.update(["x"])  # must land after 5
    flusher.join()
    reference = HyperLogLog(12)
    reference.update(5)
    reference.update(["x"])
    assert h.to_bytes() == reference.to_bytes()


@pytest.mark.parametrize("cls", [HyperLogLog, ThetaSketch, KllSketch])
def test_many_threads_of_scalars_lose_and_double_nothing(cls):
    s = cls()
    per_thread = 5000

    def work(i):
        for v in range(i * per_thread, (i + 1) * per_thread):
            s.update(float(v) if cls is KllSketch else v)
            if v % 997 == 0:
                s.is_empty()  # forces flushes from every thread

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if cls is KllSketch:
        assert s.n == 8 * per_thread
    else:
        exact = cls()
        exact.update(list(range(8 * per_thread)))
        assert s.estimate() == pytest.approx(exact.estimate(), rel=0.05)
