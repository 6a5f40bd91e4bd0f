"""Progress callbacks, cancellation and Ctrl-C during long updates of the hash sketches
(HyperLogLog, ThetaSketch: one bulk path and one trampoline, tested for both)."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from sketchbox import HyperLogLog, ThetaSketch

families = pytest.mark.parametrize("family", [HyperLogLog, ThetaSketch], ids=lambda c: c.__name__)

BLOCK = 2_097_152  # SK_PROGRESS_BLOCK


@families
def test_progress_reports_blocks(family):
    seen = []
    h = family()
    data = np.arange(5_000_000)
    h.update(data, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, 5_000_000), (2 * BLOCK, 5_000_000)]
    full = family()
    full.update(data)
    assert h.to_bytes() == full.to_bytes()


class Stop(Exception):
    pass


@families
@pytest.mark.parametrize("kind", ["int", "str"])
def test_exception_in_progress_propagates_and_leaves_a_prefix(family, kind):
    n = 7_000_000 if kind == "int" else 2_500_000
    data = np.arange(n) if kind == "int" else np.arange(n).astype("U8")
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 1 if kind == "str" else len(calls) == 2:
            raise Stop("enough")

    h = family()
    with pytest.raises(Stop, match="enough"):
        h.update(data, progress=progress)
    prefix = family()
    prefix.update(data[: calls[-1]])
    assert h.to_bytes() == prefix.to_bytes()
    # The sketch stays usable.
    h.update(data[calls[-1] :])
    whole = family()
    whole.update(data)
    assert h.to_bytes() == whole.to_bytes()


def test_keyboard_interrupt_stops_a_long_update():
    h = HyperLogLog()
    data = np.arange(60_000_000, dtype=np.int64)
    first_block = threading.Event()

    def progress(done, total):
        if not first_block.is_set():
            first_block.set()
            # Deliver Ctrl-C to ourselves from another thread, as a terminal would.
            threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt):
        h.update(data, progress=progress)
    est = h.estimate()
    assert 0 < est < 30_000_000  # stopped well before the end
    h.update([1, 2, 3])  # still usable


def test_keyboard_interrupt_without_progress_callable():
    # No progress callable: the trampoline sketchbox always installs still lets Ctrl-C
    # stop the native loop between blocks, well before the end of the input.
    h = HyperLogLog()
    data = np.arange(120_000_000, dtype=np.int64)
    timer = threading.Timer(0.02, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            h.update(data)
    finally:
        timer.cancel()
    assert 0 < h.estimate() < 100_000_000  # a prefix of whole blocks, not all of it
