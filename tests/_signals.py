"""Ctrl-C tests deliver SIGINT to the test process; a process that ignores SIGINT (one
started in the background by a non-interactive shell, for instance) never sees it."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from typing import Callable, TypeVar

import pytest

needs_sigint = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
    reason="SIGINT is ignored in this process (started in the background?): Ctrl-C cannot reach it",
)

S = TypeVar("S")


def _nothing() -> None:
    pass


@contextlib.contextmanager
def _keyboard_interrupt_after(delay: float) -> Iterator[None]:
    """A signal in `delay` seconds whose Python handler is the one Ctrl-C runs
    (`signal.default_int_handler`, which raises KeyboardInterrupt).

    A timer, not a helper thread sending SIGINT: the kernel delivers it on time, where a
    thread must first win the GIL from the main thread, and on a loaded machine it can
    lose that race until the native loop has finished."""
    old = signal.signal(signal.SIGALRM, signal.default_int_handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, delay)
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _nothing()  # a signal that came after the body is handled here, not later
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGALRM, old)


def interrupted_midway(
    make: Callable[[], S], update: Callable[[S], None], done: Callable[[S], float]
) -> S:
    """A sketch from `make()` whose `update` a KeyboardInterrupt stopped while its native
    loop ran, with no progress callable given: `done(sketch)` (the fraction of the input
    applied) is strictly between 0 and 1.

    When the interrupt lands before the loop starts or after it ends (timing differs
    between machines), it tries again with the delay halved or doubled; an update that
    never stops fails after a dozen tries."""
    whole = make()
    start = time.perf_counter()
    update(whole)
    delay = max((time.perf_counter() - start) / 4, 1e-4)
    outcomes = []
    for _ in range(12):
        sketch = make()
        try:
            with _keyboard_interrupt_after(delay):
                update(sketch)
        except KeyboardInterrupt:
            fraction = done(sketch)
            if 0 < fraction < 1:
                return sketch
            outcomes.append(f"interrupted at {fraction:.2f} after {delay * 1e3:.1f} ms")
            delay = delay * 2 if fraction == 0 else delay / 2
        else:
            outcomes.append(f"ran to the end with an interrupt after {delay * 1e3:.1f} ms")
            delay /= 2
    pytest.fail("the update never stopped midway: " + "; ".join(outcomes))
