"""Progress reports and cancellation of long Theta updates (Ctrl-C goes through the
same trampoline as for HyperLogLog, tested there)."""

from __future__ import annotations

import numpy as np
import pytest

from sketchbox import ThetaSketch

BLOCK = 2_097_152  # SK_PROGRESS_BLOCK


def test_progress_reports_blocks():
    seen = []
    s = ThetaSketch()
    data = np.arange(5_000_000)
    s.update(data, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, 5_000_000), (2 * BLOCK, 5_000_000)]
    one_call = ThetaSketch()
    one_call.update(data)
    assert s.to_bytes() == one_call.to_bytes()


class Stop(Exception):
    pass


@pytest.mark.parametrize("kind", ["int", "str"])
def test_exception_in_progress_propagates_and_leaves_a_prefix(kind):
    n = 7_000_000 if kind == "int" else 2_500_000
    data = np.arange(n) if kind == "int" else np.arange(n).astype("U8")
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == (1 if kind == "str" else 2):
            raise Stop("enough")

    s = ThetaSketch()
    with pytest.raises(Stop, match="enough"):
        s.update(data, progress=progress)
    prefix = ThetaSketch()
    prefix.update(data[: calls[-1]])
    assert s.to_bytes() == prefix.to_bytes()
    # The sketch stays usable, and the rest of the input completes it.
    s.update(data[calls[-1] :])
    whole = ThetaSketch()
    whole.update(data)
    assert s.to_bytes() == whole.to_bytes()
