"""Progress callbacks, cancellation and Ctrl-C during long KLL updates."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from _signals import interrupted_midway, needs_sigint

from sketchbox import KllSketch

BLOCK = 2_097_152  # SK_PROGRESS_BLOCK


def test_progress_reports_blocks_and_changes_nothing():
    seen = []
    data = np.random.default_rng(1).normal(size=5_000_000)
    s = KllSketch(seed=4)
    s.update(data, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, 5_000_000), (2 * BLOCK, 5_000_000), (5_000_000, 5_000_000)]
    full = KllSketch(seed=4)
    full.update(data)
    assert s.to_bytes() == full.to_bytes()


class Stop(Exception):
    pass


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exception_in_progress_propagates_and_leaves_a_prefix(dtype):
    data = np.random.default_rng(2).random(7_000_000).astype(dtype)
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise Stop("enough")

    s = KllSketch(dtype=dtype, seed=9)
    with pytest.raises(Stop, match="enough"):
        s.update(data, progress=progress)
    assert calls == [BLOCK, 2 * BLOCK]
    prefix = KllSketch(dtype=dtype, seed=9)
    prefix.update(data[: 2 * BLOCK])
    assert s.n == 2 * BLOCK
    assert s.to_bytes() == prefix.to_bytes()
    # the sketch stays usable, and the rest completes the stream (a long column is
    # shared with a helper sketch and merged, so the bytes are not those of one update
    # of the whole: the count, the extremes and the ranks are)
    s.update(data[2 * BLOCK :])
    assert s.n == len(data) and s.min == data.min() and s.max == data.max()
    exact = np.sort(data)
    probes = exact[:: len(data) // 50]
    want = np.searchsorted(exact, probes, side="right") / len(data)
    got = np.array([s.rank(x) for x in probes])
    assert np.abs(got - want).max() <= s.normalized_rank_error()


def test_bad_progress_argument():
    with pytest.raises(TypeError):
        KllSketch().update(np.arange(10.0), progress=5)


@needs_sigint
def test_keyboard_interrupt_stops_a_long_update():
    s = KllSketch()
    data = np.zeros(5 * BLOCK)

    def progress(done, total):
        # Ctrl-C after the first block: the signal reaches Python inside this callback.
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        s.update(data, progress=progress)
    assert s.n == BLOCK  # stopped after the first block
    s.update([1.0, 2.0])  # still usable
    assert s.max == 2.0


def test_keyboard_interrupt_without_progress_callable():
    data = np.zeros(30 * BLOCK)
    s = interrupted_midway(KllSketch, lambda s: s.update(data), lambda s: s.n / data.size)
    assert s.n % BLOCK == 0  # a prefix of whole blocks
    s.update([1.0, 2.0])  # still usable
    assert s.max == 2.0
