"""Ctrl-C tests deliver SIGINT to the test process; a process that ignores SIGINT (one
started in the background by a non-interactive shell, for instance) never sees it."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

import pytest

needs_sigint = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
    reason="SIGINT is ignored in this process (started in the background?): Ctrl-C cannot reach it",
)


@contextlib.contextmanager
def ctrl_c_in_next_native_call() -> Iterator[None]:
    """Ctrl-C (a real SIGINT to this process) while the body's first native call runs.

    A helper thread sends the signal as soon as it gets the GIL. With thread switches
    deferred, the main thread gives the GIL up only when it blocks, which in the body is
    the native call (cffi releases the GIL around it)."""
    armed = threading.Event()
    sender = threading.Thread(target=lambda: (armed.wait(), os.kill(os.getpid(), signal.SIGINT)))
    sender.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        armed.set()
        yield
    finally:
        sys.setswitchinterval(interval)
        sender.join()
