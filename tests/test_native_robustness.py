"""The native library under hostile conditions: progress callbacks that re-enter the
sketch being updated, and large updates in a child forked after the thread pool ran."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

from sketchbox import HyperLogLog, KllSketch, SketchBusyError, ThetaSketch

BLOCK = 2_097_152  # SK_PROGRESS_BLOCK
HANG_TIMEOUT = 120  # seconds: a hang guard, not a performance limit

FAMILIES = {
    "hll": (HyperLogLog, lambda s: s.estimate()),
    "theta": (ThetaSketch, lambda s: s.estimate()),
    "kll": (lambda: KllSketch(seed=7), lambda s: s.n),
}


def _data(n: int, kind: str) -> np.ndarray:
    return np.arange(n, dtype=np.float64 if kind == "kll" else np.int64)


def _without_hanging(fn):
    """Runs `fn()` on a daemon thread; fails the test instead of hanging with it."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            result["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(HANG_TIMEOUT)
    if t.is_alive():
        pytest.fail(f"no answer after {HANG_TIMEOUT} s: deadlocked")
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.mark.parametrize("kind", sorted(FAMILIES))
def test_progress_callback_using_the_sketch_being_updated_raises(kind):
    make, query = FAMILIES[kind]
    data = _data(5_000_000, kind)
    sk = make()
    calls = []

    def progress(done, total):
        calls.append(done)
        query(sk)

    with pytest.raises(SketchBusyError, match="progress callback cannot use a sketch"):
        _without_hanging(lambda: sk.update(data, progress=progress))
    assert calls == [BLOCK]
    # The sketch holds the first block and stays usable.
    _without_hanging(lambda: query(sk))
    sk.update(data[BLOCK:])
    whole = make()
    whole.update(data)
    assert query(sk) == query(whole)
    if kind != "kll":  # KLL's compaction draws differ between the two histories
        assert sk.to_bytes() == whole.to_bytes()
    else:
        assert sk.n == len(data)


@pytest.mark.parametrize("kind", sorted(FAMILIES))
def test_progress_callback_may_use_another_idle_sketch(kind):
    make, query = FAMILIES[kind]
    other = make()
    other.update(_data(1000, kind))
    expected = query(other)
    seen = []
    sk = make()
    _without_hanging(
        lambda: sk.update(_data(5_000_000, kind), progress=lambda d, t: seen.append(query(other)))
    )
    assert seen == [expected, expected, expected]  # two blocks reported, then the end


def _update_and_send(conn, kind: str) -> None:
    try:
        sk = FAMILIES[kind][0]()
        sk.update(_data(3_000_000, kind))
        conn.send(sk.to_bytes())
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        conn.send(repr(e))
    finally:
        conn.close()


@pytest.mark.parametrize("kind", sorted(FAMILIES))
def test_large_update_in_a_forked_child_finishes(kind):
    parent = FAMILIES[kind][0]()
    parent.update(_data(3_000_000, kind))  # starts the native thread pool in this process
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_update_and_send, args=(send, kind))
    child.start()
    send.close()
    try:
        # Read before joining: a child blocked writing to a full pipe never exits.
        assert recv.poll(HANG_TIMEOUT), f"forked child gave no answer in {HANG_TIMEOUT} s"
        got = recv.recv()
        child.join(HANG_TIMEOUT)
        assert not child.is_alive(), "forked child did not exit"
    finally:
        if child.is_alive():
            child.kill()
            child.join()
        recv.close()
    assert child.exitcode == 0
    assert got == parent.to_bytes()
