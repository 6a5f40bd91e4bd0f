"""The layer every sketch family stands on: the native module, status checking, the
progress/cancel trampoline, and `NativeSketch`, which owns a native handle and holds
everything the families share (closing, copying, merging, images, pickling, JSON
summaries, repr and the scalar update path).

Native functions follow the header's naming rule ``sk_<family>_<operation>`` (for
example ``sk_hll_copy``); a family names its prefix in ``_family`` and its handle type
in ``_handle_type``, and `NativeSketch` finds the rest.
"""

from __future__ import annotations

import json
import operator
import threading
from collections.abc import Iterator
from itertools import groupby
from typing import Any, Callable, ClassVar, Optional, TypeVar, Union, cast

import numpy as np

from ._native import ffi, lib
from .errors import BY_STATUS, SketchError

Progress = Optional[Callable[[int, int], object]]
BytesLike = Union[bytes, bytearray, memoryview]
Sketch = TypeVar("Sketch", bound="NativeSketch")
Mergeable = TypeVar("Mergeable", bound="MergeableSketch")

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


def check(rc: int) -> None:
    """Raises the exception matching a non-zero status, with the library's message."""
    if rc:
        msg = ffi.string(lib.sk_last_error()).decode("utf-8", "replace")
        raise BY_STATUS.get(rc, SketchError)(msg)


def take_bytes(out: Any) -> bytes:
    """Copies an SkBytes the library filled into Python bytes and frees it."""
    try:
        return bytes(ffi.buffer(out.ptr, out.len))
    finally:
        lib.sk_bytes_free(out[0])


def int_param(name: str, value: Any, lo: int, hi: int) -> int:
    """An integer parameter (Python or NumPy int, not bool) within lo..hi."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be from {lo} to {hi}, got {v}")
    return v


def image_buffer(data: Any) -> Any:
    """Bytes-like ``data`` as a buffer the native side reads in place."""
    if type(data) is bytes:
        return data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"from_bytes needs bytes, not {type(data).__name__}")
    return ffi.from_buffer(data)


# ---- progress callbacks and Ctrl-C ----


class _ProgressContext:
    __slots__ = ("callback", "error")

    def __init__(self, callback: Progress) -> None:
        self.callback = callback
        self.error: Optional[BaseException] = None


_current = threading.local()


def _on_trampoline_error(exc_type: Any, exc_value: Any, tb: Any) -> None:
    # Reached only if an exception escapes the trampoline's own handler (e.g. a
    # KeyboardInterrupt delivered between two bytecodes); the returned 1 cancels.
    ctx = getattr(_current, "ctx", None)
    if ctx is not None and ctx.error is None:
        ctx.error = exc_value


# (cffi is untyped: its decorator is too)
@ffi.def_extern(onerror=_on_trampoline_error, error=1)  # type: ignore[untyped-decorator,misc,unused-ignore]
def _sk_progress_trampoline(user: Any, done: int, total: int) -> int:
    ctx = ffi.from_handle(user)
    try:
        if ctx.callback is not None:
            ctx.callback(int(done), int(total))
    except BaseException as e:  # noqa: BLE001 - re-raised by run_cancellable
        ctx.error = e
        return 1
    return 0


def run_cancellable(call: Callable[[Any, Any], int], progress: Progress) -> None:
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


class UpdateProgress:
    """The progress of one ``update``, which may take several native calls (one per
    Arrow chunk, per run of a mixed list): each reports ``(done, n)`` of its own ``n``
    items and ends with ``(n, n)``; the user's callback sees one count rising over the
    whole input and ``(total, total)`` exactly once, from :meth:`finish` at the end.
    ``total`` counts the input's entries, nulls included (they are skipped, not hidden)."""

    __slots__ = ("callback", "total", "base")

    def __init__(self, callback: Callable[[int, int], object], total: int) -> None:
        self.callback = callback
        self.total = total
        self.base = 0  # items of the native calls that have finished

    def __call__(self, done: int, n: int) -> None:
        reached = self.base + done
        if done == n:
            self.base += n
        if reached < self.total:
            self.callback(reached, self.total)

    def finish(self) -> None:
        self.callback(self.total, self.total)


def item_count(values: Any) -> Optional[int]:
    """Entries in an update's input (nulls included): 1 for a scalar, None when unsized."""
    if values is None or isinstance(values, (int, float, str, bytes, np.generic)):
        return 1
    if isinstance(values, np.ndarray):
        return int(values.size)
    try:
        return len(values)
    except TypeError:
        return None


def update_progress(progress: Progress, values: Any) -> tuple[Optional[UpdateProgress], Any]:
    """The progress reporter of an update of ``values`` (None without a callback), and
    the values, made a list if they were an unsized iterable (so that they have a total)."""
    if progress is None:
        return None, values
    if not callable(progress):
        raise TypeError(f"progress must be callable, not {type(progress).__name__}")
    total = item_count(values)
    if total is None and hasattr(values, "__iter__") and not isinstance(values, dict):
        values = list(values)
        total = len(values)
    return UpdateProgress(progress, total or 0), values


def in_progress_callback() -> bool:
    """True while this thread runs a progress callback of a native bulk call."""
    return getattr(_current, "ctx", None) is not None


def _busy(name: str) -> SketchError:
    # The error the native library gives a progress callback that touches a locked
    # sketch. SK_ERR_BUSY is the status of that case once the header defines it.
    status = getattr(lib, "SK_ERR_BUSY", lib.SK_ERR_INVALID_ARGUMENT)
    return BY_STATUS.get(status, SketchError)(
        f"a progress callback cannot use a {name} that another call is flushing"
    )


# ---- the scalar path ----


def _hash_kind(v: Union[int, float]) -> int:
    """Which native dtype hashes a buffered item as DataSketches does."""
    if type(v) is float:
        return int(lib.SK_DTYPE_F64)
    return int(lib.SK_DTYPE_I64 if v <= INT64_MAX else lib.SK_DTYPE_U64)


_RUN_DTYPES = {
    lib.SK_DTYPE_F64: np.float64,
    lib.SK_DTYPE_I64: np.int64,
    lib.SK_DTYPE_U64: np.uint64,
}


def hash_runs(items: list[Union[int, float]]) -> Iterator[np.ndarray]:
    """Buffered ints and floats as arrays of one dtype each, in order, for sketches that
    hash an item by its type: ints as int64 (those >= 2**63 as uint64), floats as double.
    A buffer of one kind (the usual case) is one array."""
    arr = np.asarray(items)
    if arr.dtype.kind == "i" or (arr.dtype.kind == "f" and all(type(v) is float for v in items)):
        yield arr
        return
    for kind, run in groupby(items, _hash_kind):
        yield np.array(list(run), dtype=_RUN_DTYPES[kind])


# Guards the lazy creation of each sketch's flush lock (rare; one for all sketches).
_LOCK_FOR_LOCKS = threading.Lock()


class NativeSketch:
    """Owns one native handle. `close()` (or leaving a `with` block) drops it; the
    memory is released once no call that is still running on another thread uses it.
    Any use after close raises ValueError.

    The scalar path: an int or float given to `update` alone waits in a small buffer
    (up to ``BUFFER_ITEMS``), which goes to the native side in one call before anything
    else reads, writes, copies, merges or serializes the sketch (every such call takes
    the handle through `_p`). A native call per item costs more than the Python around
    it, and several times the buffered path (see the README's benchmarks). The buffer
    is applied under the sketch's own lock, in the order the items were given, each
    run of one dtype in one native call, and an item leaves it only once that call has
    applied it: another thread's query waits for an applied run instead of missing it,
    and a failed call leaves its items buffered (the error propagates; the next access
    applies them) instead of dropping them. An `update` that raises has not taken its
    item.
    """

    __slots__ = ("_ptr", "_buf", "_lock", "__weakref__")

    _family: ClassVar[str]  # the prefix of the family's native functions: "hll", ...
    _handle_type: ClassVar[str]  # the C type of its handles: "SkHll", ...
    BUFFER_ITEMS: ClassVar[int] = 2048
    # Every family reads its images with its own parameters (a dtype, a seed).
    from_bytes: ClassVar[Callable[..., NativeSketch]]

    _ptr: Any  # the cffi handle (None once closed)
    _buf: Optional[list[Union[int, float]]]  # None: the sketch takes no buffered items
    _lock: Optional[threading.Lock]

    def __init__(self, ptr: Any, buffered: bool = True) -> None:
        self._ptr = ffi.gc(ptr, self._native("free"))
        self._buf = [] if buffered else None
        self._lock = None

    @classmethod
    def _native(cls, operation: str) -> Any:
        """The native function ``sk_<family>_<operation>``."""
        return getattr(lib, f"sk_{cls._family}_{operation}")

    @classmethod
    def _out(cls) -> Any:
        """An out-pointer for a native constructor of this family."""
        return ffi.new(f"{cls._handle_type} **")

    @classmethod
    def _wrap(cls: type[Sketch], out: Any, buffered: bool = True) -> Sketch:
        """A new object owning the handle a native constructor wrote to `out`."""
        obj = cls.__new__(cls)
        NativeSketch.__init__(obj, out[0], buffered)
        return obj

    def _like(self: Sketch, out: Any) -> Sketch:
        """A new sketch of this one's kind owning ``out[0]``; families that keep
        per-object state (a dtype, compactness) carry it over."""
        return self._wrap(out)

    def _get(self, operation: str, ctype: str, *args: Any) -> Any:
        """The value a query ``sk_<family>_<operation>(sketch, *args, out)`` writes."""
        out = ffi.new(ctype + " *")
        check(self._native(operation)(self._p(), *args, out))
        return out[0]

    # ---- the handle and its scalar buffer ----

    def _p(self) -> Any:
        """The native handle, with every buffered item applied; ValueError if closed."""
        p = self._ptr
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        if self._buf:
            self._flush(p)
        return p

    def update(self, values: Any, progress: Progress = None) -> None:
        """Adds one item or many (what a family accepts is in its own docstring)."""
        buf = self._buf
        t = type(values)
        if (
            buf is not None
            and progress is None
            and (t is float or (t is int and INT64_MIN <= values <= UINT64_MAX))
        ):
            if len(buf) >= self.BUFFER_ITEMS:
                self._flush(self._p_unflushed())
            buf.append(values)
            return
        report, values = update_progress(progress, values)
        self._feed(self._p(), values, report)
        if report is not None:
            report.finish()

    def _p_unflushed(self) -> Any:
        p = self._ptr
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return p

    def _feed(self, ptr: Any, values: Any, progress: Progress = None) -> None:
        """Applies ``values`` to the handle in one native bulk call (or, for a mixed
        list, one call per item), as the family's ``update`` documents."""
        raise NotImplementedError

    def _runs(self, items: list[Union[int, float]]) -> Iterator[Any]:
        """Buffered items split into inputs that `_feed` applies in one native call each,
        in order (the default: hashed by type, see `hash_runs`)."""
        return hash_runs(items)

    def _flush(self, p: Any) -> None:
        lock = self._lock
        if lock is None:
            with _LOCK_FOR_LOCKS:
                if self._lock is None:
                    self._lock = threading.Lock()
                lock = self._lock
        if in_progress_callback():
            # A thread holding the lock may be waiting for the sketch this callback's
            # update holds: as the native library does, fail rather than wait.
            if not lock.acquire(blocking=False):
                raise _busy(type(self).__name__)
        else:
            lock.acquire()
        try:
            buf = self._buf
            if buf is None:  # closed since the caller took the handle
                raise ValueError(f"{type(self).__name__} is closed")
            # Only this lock's holder removes items, from the front; other threads may
            # append meanwhile, after the snapshot.
            for run in self._runs(buf[:]):
                self._feed(p, run)
                del buf[: len(run)]
        finally:
            lock.release()

    # ---- lifetime ----

    def close(self) -> None:
        """Releases the native sketch (once no running call uses it); buffered items
        go with it. Further use raises ValueError."""
        self._ptr = None
        self._buf = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has released the native sketch."""
        return self._ptr is None

    def __enter__(self: Sketch) -> Sketch:
        self._p()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- copies, merges, images ----

    def copy(self: Sketch) -> Sketch:
        """An independent copy."""
        out = self._out()
        check(self._native("copy")(self._p(), out))
        return self._like(out)

    def __copy__(self: Sketch) -> Sketch:
        return self.copy()

    def __deepcopy__(self: Sketch, memo: object) -> Sketch:
        return self.copy()

    @classmethod
    def _family_class(cls) -> type[NativeSketch]:
        """The class that defines this family (a user's subclass shares its family)."""
        return next(c for c in cls.__mro__ if "_family" in vars(c))

    def to_bytes(self) -> bytes:
        """The family's Apache DataSketches image."""
        raise NotImplementedError

    def _image_args(self) -> tuple[object, ...]:
        """What ``from_bytes`` needs besides the image to rebuild this sketch."""
        return ()

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # Pickles carry the image (and plain parameters) only, never arbitrary objects.
        return (type(self).from_bytes, (self.to_bytes(), *self._image_args()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary of the sketch (not an image)."""
        out = ffi.new("SkBytes *")
        check(self._native("to_json")(self._p(), out))
        summary: dict[str, Any] = json.loads(take_bytes(out))
        return summary

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict())

    def _describe(self, summary: dict[str, Any]) -> str:
        """The body of ``repr``, from ``to_dict()``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._ptr is None:
            return f"<{name} closed>"
        return f"<{name} {self._describe(self.to_dict())}>"


class MergeableSketch(NativeSketch):
    """A family with an in-place merge (``sk_<family>_merge``): ``merge``, ``|`` (a
    merged copy) and ``|=``."""

    __slots__ = ()

    def merge(self: Mergeable, other: Mergeable) -> None:
        """Merges ``other`` into this sketch, in place (the family documents how)."""
        if not isinstance(other, self._family_class()):
            name = self._family_class().__name__
            raise TypeError(f"can only merge a {name}, not {type(other).__name__}")
        check(self._native("merge")(self._p(), other._p()))

    def __or__(self: Mergeable, other: object) -> Mergeable:
        if not isinstance(other, self._family_class()):
            return NotImplemented
        out = self.copy()
        out.merge(cast(Mergeable, other))
        return out

    def __ior__(self: Mergeable, other: object) -> Mergeable:
        if not isinstance(other, self._family_class()):
            return NotImplemented
        self.merge(cast(Mergeable, other))
        return self
