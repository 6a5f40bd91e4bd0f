"""The layer every sketch family stands on: the native module, status checking,
the owner of a native handle, and the progress/cancel trampoline."""

from __future__ import annotations

import operator
import threading
from typing import Any, Callable, Optional

import numpy as np

from ._native import ffi, lib
from .errors import BY_STATUS, SketchError

Progress = Optional[Callable[[int, int], Any]]


def check(rc: int) -> None:
    """Raises the exception matching a non-zero status, with the library's message."""
    if rc:
        msg = ffi.string(lib.sk_last_error()).decode("utf-8", "replace")
        raise BY_STATUS.get(rc, SketchError)(msg)


def take_bytes(out) -> bytes:
    """Copies an SkBytes the library filled into Python bytes and frees it."""
    try:
        return bytes(ffi.buffer(out.ptr, out.len))
    finally:
        lib.sk_bytes_free(out[0])


class _ProgressContext:
    __slots__ = ("callback", "error")

    def __init__(self, callback: Progress) -> None:
        self.callback = callback
        self.error: Optional[BaseException] = None


_current = threading.local()


def _on_trampoline_error(exc_type, exc_value, tb) -> None:
    # Reached only if an exception escapes the trampoline's own handler (e.g. a
    # KeyboardInterrupt delivered between two bytecodes); the returned 1 cancels.
    ctx = getattr(_current, "ctx", None)
    if ctx is not None and ctx.error is None:
        ctx.error = exc_value


@ffi.def_extern(onerror=_on_trampoline_error, error=1)
def _sk_progress_trampoline(user, done, total):
    ctx = ffi.from_handle(user)
    try:
        if ctx.callback is not None:
            ctx.callback(int(done), int(total))
    except BaseException as e:  # noqa: BLE001 - re-raised by run_cancellable
        ctx.error = e
        return 1
    return 0


def run_cancellable(call: Callable[..., int], progress: Progress) -> None:
    """Runs `call(cb, user)`, a native bulk operation taking a progress callback.

    The trampoline is always installed, so that Ctrl-C interrupts a long call even when
    the caller passed no `progress`: the KeyboardInterrupt raised inside the callback
    cancels the native work and is re-raised here, as is any exception from `progress`.
    """
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable, not {type(progress).__name__}")
    ctx = _ProgressContext(progress)
    handle = ffi.new_handle(ctx)
    prev = getattr(_current, "ctx", None)
    _current.ctx = ctx
    try:
        rc = call(lib._sk_progress_trampoline, handle)
    finally:
        _current.ctx = prev
    if ctx.error is not None:
        raise ctx.error
    check(rc)


def int_param(name: str, value: Any, lo: int, hi: int) -> int:
    """An integer parameter (Python or NumPy int, not bool) within lo..hi."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {v}")
    return v


def in_progress_callback() -> bool:
    """True while this thread runs a progress callback of a native bulk call."""
    return getattr(_current, "ctx", None) is not None


# Guards the lazy creation of each sketch's flush lock (rare; one for all sketches).
_LOCK_FOR_LOCKS = threading.Lock()


class NativeSketch:
    """Owns one native handle. `close()` (or leaving a `with` block) drops it; the
    memory is released once no call that is still running on another thread uses it.
    Any use after close raises ValueError.

    Scalar ints and floats given to `update` one at a time wait in a small buffer
    that goes to the native side in one call when it fills and before anything else
    touches the handle (every access goes through `_p`). A native call per item would
    cost more than the hashing. Items leave the buffer only after they were applied,
    under the sketch's own lock, so every other call (from any thread) sees them, in
    the order they were given; none is lost or applied twice.
    """

    __slots__ = ("_ptr", "_buf", "_lock", "__weakref__")
    _free: Callable[[Any], None]
    _handle_type: str
    BUFFER_ITEMS = 2048

    def __init__(self, ptr) -> None:
        self._ptr = ffi.gc(ptr, type(self)._free)
        self._buf: list = []
        self._lock: Optional[threading.Lock] = None

    @classmethod
    def _wrap(cls, out):
        """A new object owning the handle a native constructor wrote to `out`."""
        obj = cls.__new__(cls)
        obj._ptr = ffi.gc(out[0], cls._free)
        obj._buf = []
        obj._lock = None
        return obj

    def _p(self):
        p = self._ptr
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        # Inside a progress callback the sketch may be the one being updated: waiting
        # for its lock would never end, so the native call reports it busy instead.
        if self._buf and not in_progress_callback():
            self._flush()
        return p

    def _flush(self) -> None:
        lock = self._lock
        if lock is None:
            with _LOCK_FOR_LOCKS:
                if self._lock is None:
                    self._lock = threading.Lock()
                lock = self._lock
        with lock:
            buf = self._buf
            n = len(buf)
            if not n:
                return
            p = self._ptr
            try:
                if p is not None:
                    self._feed(p, buf[:n])
            finally:
                del buf[:n]

    def _feed(self, ptr, values, progress: Progress = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._ptr = None
        self._buf.clear()

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self):
        self._p()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        # Pickles carry the sketch's image only, never arbitrary objects.
        return (type(self).from_bytes, (self.to_bytes(),))
