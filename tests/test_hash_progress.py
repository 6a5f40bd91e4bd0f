"""Progress callbacks, cancellation and Ctrl-C during long updates of the hash sketches
(HyperLogLog, ThetaSketch: one bulk path and one trampoline, tested for both)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from _signals import interrupted_midway, needs_sigint

from sketchbox import HyperLogLog, ThetaSketch

families = pytest.mark.parametrize("family", [HyperLogLog, ThetaSketch], ids=lambda c: c.__name__)

BLOCK = 2_097_152  # SK_PROGRESS_BLOCK


@families
def test_progress_reports_blocks(family):
    seen = []
    h = family()
    data = np.arange(5_000_000)
    h.update(data, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, 5_000_000), (2 * BLOCK, 5_000_000), (5_000_000, 5_000_000)]
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


@needs_sigint
@families
def test_keyboard_interrupt_stops_a_long_update(family):
    h = family()
    data = np.arange(5 * BLOCK, dtype=np.int64)

    def progress(done, total):
        # Ctrl-C after the first block: the signal reaches Python inside this callback.
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        h.update(data, progress=progress)
    prefix = family()
    prefix.update(data[:BLOCK])
    assert h.to_bytes() == prefix.to_bytes()
    h.update([1, 2, 3])  # still usable


@families
def test_keyboard_interrupt_without_progress_callable(family):
    # No progress callable: the trampoline sketchbox always installs still lets Ctrl-C
    # stop the native loop between blocks, well before the end of the input.
    data = np.arange(40 * BLOCK, dtype=np.int64)
    h = interrupted_midway(
        lambda: family(lg_k=21) if family is HyperLogLog else family(lg_k=26),
        lambda s: s.update(data),
        # whole blocks applied (the estimate is within 0.1 % of the count at these sizes)
        lambda s: round(s.estimate() / BLOCK) / 40,
    )
    h.update([1, 2, 3])  # still usable


def _all_families():
    from sketchbox import CountMin, FrequentItems, KllSketch

    return [
        HyperLogLog,
        ThetaSketch,
        KllSketch,
        lambda: FrequentItems(8, dtype="float64"),
        CountMin,
    ]


def _inputs():
    import pandas as pd
    import pyarrow as pa

    return {
        "small array": (np.arange(10.0), 10),
        "empty array": (np.array([], dtype=np.float64), 0),
        "empty list": ([], 0),
        "scalar": (3.0, 1),
        "generator": ((float(i) for i in range(7)), 7),
        "pandas with nulls": (pd.Series([1.0, None, 3.0, None]), 4),
        "chunked arrow": (pa.chunked_array([[1.0, 2.0], [], [3.0, None, 5.0]]), 5),
    }


@pytest.mark.parametrize("input_name", list(_inputs()))
@pytest.mark.parametrize("index", range(5), ids=["hll", "theta", "kll", "frequent", "countmin"])
def test_progress_ends_with_done_equal_total_exactly_once(index, input_name):
    # A progress bar driven by the callback completes for every input, small, empty or
    # split into several native calls, and its count never goes backwards.
    values, total = _inputs()[input_name]
    seen = []
    _all_families()[index]().update(values, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (total, total)
    assert [d for d, t in seen].count(total) == 1
    assert all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_progress_over_chunks_counts_across_native_calls():
    import pyarrow as pa

    chunk = np.arange(BLOCK + 10, dtype=np.int64)
    seen = []
    HyperLogLog().update(
        pa.chunked_array([chunk, chunk]), progress=lambda d, t: seen.append((d, t))
    )
    n = 2 * chunk.size
    assert seen == [(BLOCK, n), (chunk.size, n), (chunk.size + BLOCK, n), (n, n)]
