"""Turns whatever a user passes to `update` into native calls, once, for every family.

A family supplies a `Sink` of its C functions; `feed` classifies the value and calls
exactly one bulk function (or one scalar function per item for mixed sequences):

* scalars: int, float, str, bytes (and NumPy scalars, bool as int);
* NumPy arrays of every integer width, float16/32/64, bool, `U`, `S`, datetime64 /
  timedelta64 (as their int64 ticks) and object arrays -- numeric buffers zero-copy;
* pandas Series/Index (missing values skipped);
* pyarrow Array and ChunkedArray of integers, floats, bool, strings and binaries
  (nulls skipped; string buffers zero-copy);
* any other iterable of the scalars above (None, pandas NA and NaT items skipped).

Integers hash as int64, those in [2^63, 2^64) as their uint64 bit pattern; others
raise OverflowError. pandas and pyarrow are never imported unless the value is theirs.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from ._base import (
    INT64_MAX,
    INT64_MIN,
    UINT64_MAX,
    Progress,
    check,
    item_count,
    run_cancellable,
)
from ._native import ffi, lib
from .errors import SketchError

# The SkDtype of each NumPy numeric dtype the native side reads in place.
_DTYPE_CODES = {
    np.dtype(np.int8): lib.SK_DTYPE_I8,
    np.dtype(np.int16): lib.SK_DTYPE_I16,
    np.dtype(np.int32): lib.SK_DTYPE_I32,
    np.dtype(np.int64): lib.SK_DTYPE_I64,
    np.dtype(np.uint8): lib.SK_DTYPE_U8,
    np.dtype(np.uint16): lib.SK_DTYPE_U16,
    np.dtype(np.uint32): lib.SK_DTYPE_U32,
    np.dtype(np.uint64): lib.SK_DTYPE_U64,
    np.dtype(np.float32): lib.SK_DTYPE_F32,
    np.dtype(np.float64): lib.SK_DTYPE_F64,
    np.dtype(np.bool_): lib.SK_DTYPE_BOOL,
}


class Sink(NamedTuple):
    """A family's native entry points, with the handle already bound."""

    numeric: Callable[..., int]  # (data, len, dtype_code, cb, user)
    strings: Callable[..., int]  # (data, data_len, offsets, width, n, validity, voff, cb, user)
    fixed: Callable[..., int]  # (data, itemsize, n, encoding, cb, user)
    one_i64: Callable[[int], None]
    one_u64: Callable[[int], None]
    one_f64: Callable[[float], None]
    one_bytes: Callable[[bytes], None]
    delimited: Optional[Callable[..., int]] = None  # (data, len, delimiter, cb, user)


def hash_sink(p: Any, family: str) -> Sink:
    """The Sink of a hash-sketch family whose C entry points are
    ``sk_<family>_update_{numeric,strings,fixed,delimited,one_*}``, bound to handle ``p``."""

    def fn(name: str) -> Any:
        return getattr(lib, f"sk_{family}_update_{name}")

    def one(name: str) -> Callable[[Any], None]:
        f = fn(name)
        return lambda v: check(f(p, v))

    numeric, strings, fixed, delimited = (
        fn(n) for n in ("numeric", "strings", "fixed", "delimited")
    )
    one_bytes = fn("one_bytes")
    return Sink(
        numeric=lambda *a: numeric(p, *a),
        strings=lambda *a: strings(p, *a),
        fixed=lambda *a: fixed(p, *a),
        one_i64=one("one_i64"),
        one_u64=one("one_u64"),
        one_f64=one("one_f64"),
        one_bytes=lambda b: check(one_bytes(p, b, len(b))),
        delimited=lambda *a: delimited(p, *a),
    )


class Weights:
    """The weights of a weighted update, handed to the native calls in order: a bulk call
    takes the next ``n``, a scalar call the next one (all 1 without weights)."""

    def __init__(self, w: Optional[np.ndarray[Any, Any]]) -> None:
        self.w = w
        self.base = ffi.NULL if w is None else ffi.cast("uint64_t *", ffi.from_buffer(w))
        self.pos = 0

    def take(self, n: int) -> Any:
        if self.w is None:
            return ffi.NULL
        at, self.pos = self.pos, self.pos + n
        return self.base + at

    def one(self) -> int:
        if self.w is None:
            return 1
        at, self.pos = self.pos, self.pos + 1
        return int(self.w[at])


def weighted_sink(p: Any, family: str, weights: Weights, one_bytes: str = "one_bytes") -> Sink:
    """The Sink of a weighted family (frequent items, Count-Min) whose C entry points are
    ``sk_<family>_update_{numeric,strings,fixed,delimited}`` with a weights pointer
    before the callback, and ``sk_<family>_update_one_*`` with a weight last; bound to
    handle ``p``, taking ``weights`` in order. ``one_u64`` is absent (None) where the
    family has no such function."""

    def fn(name: str) -> Any:
        return getattr(lib, f"sk_{family}_update_{name}", None)

    def one(name: str) -> Any:
        f = fn(name)
        return None if f is None else lambda v: check(f(p, v, weights.one()))

    numeric, strings, fixed, delimited, bytes_one = (
        fn(n) for n in ("numeric", "strings", "fixed", "delimited", one_bytes)
    )
    return Sink(
        numeric=lambda data, n, code, cb, user: numeric(
            p, data, n, code, weights.take(n), cb, user
        ),
        strings=lambda data, dlen, offs, width, n, valid, voff, cb, user: strings(
            p, data, dlen, offs, width, n, valid, voff, weights.take(n), cb, user
        ),
        fixed=lambda data, itemsize, n, enc, cb, user: fixed(
            p, data, itemsize, n, enc, weights.take(n), cb, user
        ),
        one_i64=one("one_i64"),
        one_u64=one("one_u64"),
        one_f64=one("one_f64"),
        one_bytes=lambda b: check(bytes_one(p, b, len(b), weights.one())),
        # Delimited items cross without their count: with weights, the Arrow layout.
        delimited=(
            (lambda data, n, delim, cb, user: delimited(p, data, n, delim, ffi.NULL, cb, user))
            if weights.w is None
            else None
        ),
    )


def feed_weighted(
    make_sink: Callable[[Weights], Sink],
    values: Any,
    weights: Any,
    progress: Progress = None,
    check_list: Optional[Callable[[Sequence[Any]], None]] = None,
) -> None:
    """A weighted update: ``values`` as `feed` takes them, ``weights`` one per item
    (nulls' included, see `weight_array`), applied through ``make_sink(Weights(...))``.
    ``check_list`` sees a sequence's items (nulls dropped) before any is applied."""
    if values is None:
        raise TypeError("cannot update a sketch with None")
    if getattr(values, "ndim", 1) != 1 and _origin(values) == "pandas":
        raise TypeError("cannot update a sketch with a 2-D pandas object; pass one column")
    n = count_items(values)
    w = weight_array(weights, n)
    if is_scalar(values):
        if not feed_scalar(make_sink(Weights(w)), values):
            raise TypeError(f"cannot update a sketch with {type(values).__name__}")
        return
    values, w = drop_nulls(values, w)
    if check_list is not None and isinstance(values, (list, tuple)):
        check_list(values)
    feed(make_sink(Weights(w)), values, progress)


_NONE_TYPE: frozenset[type] = frozenset({type(None)})
_null_types_with_pandas: Optional[frozenset[type]] = None


def null_types() -> frozenset[type]:
    """The types of the missing values a list may hold: None's, and pandas' NA's and
    NaT's (``Series.tolist()`` of a nullable column gives them) once pandas is imported,
    as it must be before a list can hold one. NaN is a value."""
    global _null_types_with_pandas
    if _null_types_with_pandas is not None:
        return _null_types_with_pandas
    pd = sys.modules.get("pandas")
    na, nat = getattr(pd, "NA", None), getattr(pd, "NaT", None)
    if na is None or nat is None:  # not imported (or still importing)
        return _NONE_TYPE
    _null_types_with_pandas = _NONE_TYPE | {type(na), type(nat)}
    return _null_types_with_pandas


def is_null(v: Any) -> bool:
    """None, pandas' NA or NaT (see `null_types`): skipped as nulls are in a Series."""
    return type(v) in null_types()


def _ignore_bulk(*_args: Any) -> int:
    return 0


def _ignore(_item: object) -> None:
    pass


# A Sink that applies nothing: feed_scalar through it only validates an item.
_CHECK_ONLY = Sink(_ignore_bulk, _ignore_bulk, _ignore_bulk, _ignore, _ignore, _ignore, _ignore)


def _int_scalar(sink: Sink, v: int) -> None:
    if INT64_MIN <= v <= INT64_MAX:
        sink.one_i64(v)
    elif INT64_MAX < v <= UINT64_MAX:
        sink.one_u64(v)
    else:
        raise OverflowError(f"integer {v} is outside [-2**63, 2**64) and cannot be hashed as int64")


def _str_bytes(v: str) -> bytes:
    try:
        return v.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"string is not valid Unicode (lone surrogate?): {e}") from None


def feed_scalar(sink: Sink, v: Any) -> bool:
    """Updates with one scalar; False if `v` is not a scalar we know."""
    t = type(v)
    if t is int or t is bool:
        _int_scalar(sink, int(v))
    elif t is float:
        sink.one_f64(v)
    elif t is str:
        sink.one_bytes(_str_bytes(v))
    elif t is bytes:
        sink.one_bytes(v)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        sink.one_bytes(bytes(v))
    elif isinstance(v, str):
        sink.one_bytes(_str_bytes(str(v)))
    elif isinstance(v, (int, np.integer, np.bool_)):
        _int_scalar(sink, int(v))
    elif isinstance(v, (float, np.floating)):
        if isinstance(v, np.floating) and v.dtype.itemsize > 8:
            raise TypeError(f"cannot hash {v.dtype} values without losing precision")
        sink.one_f64(float(v))
    elif isinstance(v, (np.datetime64, np.timedelta64)):
        if not np.isnat(v):  # NaT is a missing value, as in pandas and Arrow
            _int_scalar(sink, int(v.astype(np.int64)))
    else:
        return False
    return True


def feed(sink: Sink, values: Any, progress: Progress = None) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable, not {type(progress).__name__}")
    if feed_scalar(sink, values):
        return
    if values is None:
        raise TypeError("cannot update a sketch with None")
    if isinstance(values, np.ndarray):
        return _feed_ndarray(sink, values, progress)
    origin = _origin(values)
    if origin == "pandas":
        return _feed_pandas(sink, values, progress)
    if origin == "pyarrow":
        return _feed_arrow(sink, values, progress)
    if isinstance(values, (list, tuple)):
        return _feed_list(sink, values, progress)
    if isinstance(values, dict):
        raise TypeError("cannot update a sketch with a dict; pass its keys() or values()")
    try:
        it = iter(values)
    except TypeError:
        raise TypeError(
            f"cannot update a sketch with {type(values).__name__}: expected int, float, str, "
            "bytes, a sequence of them, a NumPy array, a pandas Series or a pyarrow array"
        ) from None
    return _feed_list(sink, list(it), progress)


def _origin(values: Any) -> str:
    """Which library the value comes from: "pandas", "pyarrow" or "" for neither (told
    by its type's module, so neither is imported)."""
    module = type(values).__module__ or ""
    if module.startswith("pandas"):
        return "pandas"
    if module.startswith("pyarrow"):
        return "pyarrow"
    return ""


def _feed_numeric(sink: Sink, arr: np.ndarray, progress: Progress) -> None:
    code = _DTYPE_CODES[arr.dtype]
    if arr.size == 0:
        return
    ptr = ffi.from_buffer(arr)
    run_cancellable(lambda cb, user: sink.numeric(ptr, arr.size, code, cb, user), progress)


def _feed_ndarray(sink: Sink, arr: np.ndarray, progress: Progress) -> None:
    kind = arr.dtype.kind
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if kind in "iufb":
        if kind == "f" and arr.dtype.itemsize not in (4, 8):
            if arr.dtype.itemsize > 8:
                raise TypeError(f"cannot hash {arr.dtype} values without losing precision")
            arr = arr.astype(np.float64)
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return _feed_numeric(sink, _aligned(arr), progress)
    if kind in "mM":
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arr = arr[~np.isnat(arr)]  # NaT is a missing value, as in pandas and Arrow
        return _feed_numeric(sink, _aligned(arr).view(np.int64), progress)
    if kind == "U" or kind == "S":
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arr = _aligned(arr)
        if arr.size == 0 or arr.dtype.itemsize == 0:
            return
        ptr = ffi.from_buffer(arr)
        enc = lib.SK_FIXED_UCS4 if kind == "U" else lib.SK_FIXED_BYTES
        n, width = arr.size, arr.dtype.itemsize
        run_cancellable(lambda cb, user: sink.fixed(ptr, width, n, enc, cb, user), progress)
        return
    if kind == "O" or kind == "T":  # object, or NumPy 2's variable-width StringDType
        return _feed_list(sink, arr.tolist(), progress)
    raise TypeError(f"cannot update a sketch with a NumPy array of dtype {arr.dtype}")


def _aligned(arr: np.ndarray) -> np.ndarray:
    """C-contiguous and aligned for its dtype (the native side reads it in place)."""
    return np.require(arr, requirements=["C", "A"])


def _feed_utf8(sink: Sink, data: bytes, lengths: np.ndarray, progress: Progress) -> None:
    n = len(lengths)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data_ptr = ffi.from_buffer(data)
    offs_ptr = ffi.from_buffer(offsets)
    run_cancellable(
        lambda cb, user: sink.strings(data_ptr, len(data), offs_ptr, 8, n, ffi.NULL, 0, cb, user),
        progress,
    )


def _feed_str_list(sink: Sink, values: Sequence[Any], progress: Progress) -> bool:
    """All-str fast path: one join, one encode. False if an item is not a str."""
    n = len(values)
    delimited = sink.delimited
    if delimited is not None:
        # Joined by NUL, the items cross as one buffer the native side splits, unless
        # an item contains NUL itself (then there would be more than n - 1 of them).
        try:
            joined = "\0".join(values)
        except TypeError:
            return False
        data = _str_bytes(joined)
        # (UTF-8 writes NUL, and only NUL, as a zero byte; NumPy counts them 10x faster
        # than str.count)
        if np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 0) == n - 1:
            run_cancellable(lambda cb, user: delimited(data, len(data), 0, cb, user), progress)
            return True
    try:
        joined = "".join(values)
    except TypeError:
        return False
    if joined.isascii():
        data = joined.encode("ascii")
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    else:
        encoded = [_str_bytes(v) for v in values]
        data = b"".join(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
    _feed_utf8(sink, data, lengths, progress)
    return True


def _feed_list(sink: Sink, values: Sequence[Any], progress: Progress) -> None:
    if not values:
        return
    first = values[0]
    if type(first) is str and _feed_str_list(sink, values, progress):
        return
    if type(first) in (int, float, bool):
        try:
            arr = np.asarray(values)
        except (OverflowError, ValueError, TypeError):
            arr = None
        if arr is not None and arr.ndim == 1:
            kind = arr.dtype.kind
            # NumPy would turn [1, 2.5] into floats; only homogeneous lists go in bulk.
            if kind in "iub" or (kind == "f" and all(type(v) is float for v in values)):
                return _feed_numeric(sink, _aligned(arr), progress)
    # Mixed types: each item hashed by its own type, in order, once every item is known
    # to be acceptable (a bad item leaves the sketch as it was).
    for v in values:
        if not is_null(v) and not feed_scalar(_CHECK_ONLY, v):
            raise TypeError(f"cannot update a sketch with an item of type {type(v).__name__}")
    for v in values:
        if not is_null(v):
            feed_scalar(sink, v)


def _is_arrow_dtype(values: Any) -> bool:
    """A pandas Series or Index of an ``ArrowDtype``: its Arrow array is read as such
    (pandas' own null handling fails on some of them, string views for one)."""
    return type(getattr(values, "dtype", None)).__name__ == "ArrowDtype" and hasattr(
        getattr(values, "array", None), "__arrow_array__"
    )


def _feed_pandas(sink: Sink, values: Any, progress: Progress) -> None:
    if not (hasattr(values, "dropna") and hasattr(values, "to_numpy")):
        raise TypeError(f"cannot update a sketch with a pandas {type(values).__name__}")
    if getattr(values, "ndim", 1) != 1:
        raise TypeError("cannot update a sketch with a 2-D pandas object; pass one column")
    if _is_arrow_dtype(values):
        return _feed_arrow(sink, values.array.__arrow_array__(), progress)
    values = values.dropna()
    if getattr(values.dtype, "tz", None) is not None:
        # tz-aware datetimes hash as their UTC ticks, as Arrow's timestamp[tz] does
        values = (values.dt if hasattr(values, "dt") else values).tz_convert("UTC")
        values = (values.dt if hasattr(values, "dt") else values).tz_localize(None)
    dtype = values.dtype
    kind = getattr(dtype, "kind", "O")
    if kind in "iufbmM":
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        arr = values.to_numpy(dtype=numpy_dtype) if numpy_dtype is not None else values.to_numpy()
        if arr.dtype.kind != "O":
            return _feed_ndarray(sink, arr, progress)
    return _feed_list(sink, values.to_numpy(dtype=object).tolist(), progress)


def arrow_numpy(values: Any) -> np.ndarray:
    """A null-free pyarrow array of numbers, booleans or temporal ticks (viewed as int32
    or int64) as a NumPy array read from its data buffer: zero-copy, but for booleans,
    which are unpacked from bits. pyarrow's own ``to_numpy`` imports pandas when it is
    installed, which alone added 60 MiB to a profile's peak memory."""
    import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

    if isinstance(values, pa.ChunkedArray):
        parts = [arrow_numpy(c) for c in values.chunks]
        return np.concatenate(parts) if parts else arrow_numpy(pa.array([], values.type))
    t, n = values.type, len(values)
    data = values.buffers()[1]
    if pa.types.is_boolean(t):
        if n == 0:
            return np.zeros(0, dtype=bool)
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[values.offset : values.offset + n].astype(bool)
    kind = "f" if pa.types.is_floating(t) else "u" if pa.types.is_unsigned_integer(t) else "i"
    dtype = np.dtype(f"{kind}{t.bit_width // 8}")
    if n == 0 or data is None:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=n, offset=values.offset * dtype.itemsize)


def _arrow_plain(values: Any) -> Any:
    """A pyarrow Array or ChunkedArray with dictionaries decoded and string or binary
    views cast to large_string / large_binary (what the native side reads, and what
    pyarrow's filter takes); TypeError for any other pyarrow object (a Table...)."""
    import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

    if isinstance(values, pa.ChunkedArray):
        if any(_arrow_plain(c) is not c for c in values.chunks):
            return pa.chunked_array([_arrow_plain(c) for c in values.chunks])
        return values
    if not isinstance(values, pa.Array):
        raise TypeError(
            f"cannot update a sketch with a pyarrow {type(values).__name__}; pass one column"
        )
    t = values.type
    if pa.types.is_dictionary(t):
        return _arrow_plain(values.dictionary_decode())
    if pa.types.is_string_view(t) if hasattr(pa.types, "is_string_view") else False:
        return values.cast(pa.large_string())
    if pa.types.is_binary_view(t) if hasattr(pa.types, "is_binary_view") else False:
        return values.cast(pa.large_binary())
    return values


def _feed_arrow(sink: Sink, values: Any, progress: Progress) -> None:
    import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

    values = _arrow_plain(values)
    if isinstance(values, pa.ChunkedArray):
        for chunk in values.chunks:
            _feed_arrow(sink, chunk, progress)
        return
    t = values.type
    if pa.types.is_string(t) or pa.types.is_binary(t):
        return _feed_arrow_strings(sink, values, 4, progress)
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        return _feed_arrow_strings(sink, values, 8, progress)
    if values.null_count:
        values = values.drop_null()
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return _feed_ndarray(sink, arrow_numpy(values), progress)
    if pa.types.is_temporal(t) and not pa.types.is_interval(t):
        # the ticks as stored: date32/time32 are 32-bit, the other temporal types 64-bit
        ticks = values.view(pa.int32() if t.bit_width == 32 else pa.int64())
        return _feed_ndarray(sink, arrow_numpy(ticks), progress)
    if pa.types.is_null(t):
        return
    raise TypeError(f"cannot update a sketch with a pyarrow array of type {t}")


def _feed_arrow_strings(sink: Sink, arr: Any, width: int, progress: Progress) -> None:
    n = len(arr)
    if n == 0 or arr.null_count == n:
        return
    validity, offsets, data = arr.buffers()[:3]
    offs_ptr = ffi.cast("void *", offsets.address + arr.offset * width)
    if offsets.address % width:
        # Arrow does not promise aligned buffers (Dask's workers receive strings whose
        # offsets are not): the offsets copied, the strings still read in place.
        offs_copy = np.frombuffer(
            offsets, dtype=f"<i{width}", count=n + 1, offset=arr.offset * width
        ).copy()
        offs_ptr = ffi.cast("void *", ffi.from_buffer(offs_copy))
    data_ptr = ffi.cast("uint8_t *", data.address) if data is not None else ffi.NULL
    data_len = data.size if data is not None else 0
    if arr.null_count and validity is not None:
        valid_ptr = ffi.cast("uint8_t *", validity.address)
        voff = arr.offset
    else:
        valid_ptr, voff = ffi.NULL, 0

    # `arr` (a local here) owns the buffers and outlives the call.
    run_cancellable(
        lambda cb, user: sink.strings(
            data_ptr, data_len, offs_ptr, width, n, valid_ptr, voff, cb, user
        ),
        progress,
    )


def _bytes_data_offset() -> Optional[int]:
    """Where CPython keeps a bytes object's data relative to its id(), if it does (checked
    against cffi's own view of a bytes object); None on other interpreters."""
    probe = b"sketchbox"
    offset = bytes.__basicsize__ - 1
    try:
        if int(ffi.cast("uintptr_t", ffi.from_buffer(probe))) == id(probe) + offset:
            return offset
    except (TypeError, ValueError):
        pass
    return None


_BYTES_DATA_OFFSET = _bytes_data_offset()


def _tuple_items_offset() -> Optional[int]:
    """Where CPython keeps a tuple's item pointers relative to its id(), if it does
    (checked against the ids of a probe tuple's items); None on other interpreters."""
    probe = (b"sketch", b"box", object())
    offset = tuple.__basicsize__
    try:
        items = ffi.cast("uintptr_t *", id(probe) + offset)
        if [int(items[i]) for i in range(3)] == [id(x) for x in probe]:
            return offset
    except (TypeError, ValueError, OverflowError):
        pass
    return None


_TUPLE_ITEMS_OFFSET = _tuple_items_offset() if _BYTES_DATA_OFFSET is not None else None


def _ids(items: tuple[object, ...], offset: int) -> np.ndarray:
    """The id() of each item of a non-empty tuple, as uintp, copied from its item array
    at ``offset`` (100,000 items: 0.1 ms, where map(id) took 9 ms)."""
    n = len(items)
    raw = ffi.buffer(ffi.cast("char *", id(items) + offset), n * ffi.sizeof("void *"))
    ids: np.ndarray = np.frombuffer(raw, dtype=np.uintp).copy()
    return ids


def byte_views(items: Any) -> Optional[tuple[Any, Any, int, tuple[object, ...]]]:
    """Pointers to and lengths of many bytes-like objects (serialized sketches), for one
    native call that reads them all: ``(pointers, lengths, n, keep)``, or None if an item
    is not bytes-like. ``keep`` holds everything the pointers point into and must stay
    alive for the call.

    The items are snapshotted into a tuple, so another thread changing the caller's
    list cannot free them during the call. A list of plain ``bytes`` (immutable) costs
    a few ns per item on CPython: their addresses and lengths are read from the
    interpreter's objects natively; anything else goes through the buffer protocol
    (which also pins a bytearray's size)."""
    items = tuple(items)
    n = len(items)
    if _TUPLE_ITEMS_OFFSET is not None and n:
        ids = _ids(items, _TUPLE_ITEMS_OFFSET)
        addrs = np.empty(n, np.uintp)
        lens = np.empty(n, np.uintp)
        not_bytes = lib._sk_py_bytes_views(
            ffi.cast("uintptr_t *", ffi.from_buffer(ids)),
            n,
            ffi.cast("uintptr_t *", ffi.from_buffer(addrs)),
            ffi.cast("size_t *", ffi.from_buffer(lens)),
        )
        if not not_bytes:
            return _views(addrs, lens, n, (items, addrs, lens))
    types = set(map(type, items))
    if all(issubclass(t, (bytes, bytearray, memoryview)) for t in types):
        views = [ffi.from_buffer(b) for b in items]
        lens = np.fromiter(map(len, views), dtype=np.uintp, count=n)
        addrs = np.fromiter((int(ffi.cast("uintptr_t", v)) for v in views), np.uintp, n)
        return _views(addrs, lens, n, (items, views, addrs, lens))
    return None


def _views(
    addrs: np.ndarray, lens: np.ndarray, n: int, keep: tuple[object, ...]
) -> tuple[Any, Any, int, tuple[object, ...]]:
    return (
        ffi.cast("uint8_t **", ffi.from_buffer(addrs)),
        ffi.cast("size_t *", ffi.from_buffer(lens)),
        n,
        keep,
    )


def _arrow_byte_views(values: Any) -> tuple[Any, Any, int, tuple[object, ...]]:
    """`byte_views` of a pyarrow binary (or large_binary) Array or ChunkedArray, read in
    place from its buffers (binary views and dictionaries converted first); null entries
    are skipped."""
    import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

    values = _arrow_plain(values)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    addrs, lens, keep = [], [], [values]
    for arr in chunks:
        t = arr.type
        if not (pa.types.is_binary(t) or pa.types.is_large_binary(t)):
            raise TypeError(f"images must be a pyarrow binary array, not one of type {t}")
        if arr.null_count:
            arr = arr.drop_null()
        keep.append(arr)
        if len(arr) == 0:
            continue
        _, offsets, data = arr.buffers()[:3]
        width = np.int32 if pa.types.is_binary(t) else np.int64
        offs = np.frombuffer(
            offsets, dtype=width, count=len(arr) + 1, offset=arr.offset * np.dtype(width).itemsize
        )
        base = data.address if data is not None else 0
        addrs.append(offs[:-1].astype(np.uintp) + np.uintp(base))
        lens.append(np.diff(offs).astype(np.uintp))
    addr = np.concatenate(addrs) if addrs else np.zeros(0, np.uintp)
    length = np.concatenate(lens) if lens else np.zeros(0, np.uintp)
    keep += [addr, length]
    return (
        ffi.cast("uint8_t **", ffi.from_buffer(addr)),
        ffi.cast("size_t *", ffi.from_buffer(length)),
        len(addr),
        tuple(keep),
    )


def check_union_items(items: Any) -> None:
    """TypeError for what a ``union`` cannot take as its collection of inputs."""
    if isinstance(items, (bytes, bytearray, memoryview, str)):
        raise TypeError(
            f"union needs a collection of sketches or images, not one {type(items).__name__}"
        )
    if isinstance(items, np.ndarray) and items.dtype.kind != "O":
        raise TypeError(
            f"images in a NumPy array must be in an object array (dtype=object), not "
            f"{items.dtype}: a fixed-width array drops the zero bytes that end an image"
        )


def union_inputs(
    items: Any,
) -> tuple[Optional[tuple[Any, Any, int, tuple[object, ...]]], tuple[Any, ...]]:
    """What a family's ``union`` was given: ``(byte_views, ())`` when every item is an
    image (bytes-like objects, a NumPy object array or pandas Series of them, a pyarrow
    binary array), else ``(None, items)`` with the items in a tuple, for the caller to
    check. Null items (None, pandas' missing values, Arrow nulls: a group without a
    sketch) are skipped."""
    origin = _origin(items)
    if origin == "pyarrow":
        return _arrow_byte_views(items), ()
    check_union_items(items)
    if origin == "pandas" and hasattr(items, "dropna"):
        items = items.dropna().tolist()
    seq = tuple(items.reshape(-1) if isinstance(items, np.ndarray) else items)
    views = byte_views(seq)
    if views is None:  # not all bytes: there may be nulls to skip
        nulls = null_types()
        if not nulls.isdisjoint(map(type, seq)):
            seq = tuple(v for v in seq if type(v) not in nulls)
            views = byte_views(seq)
    return views, (() if views is not None else seq)


def image_views(items: tuple[Any, ...], cls: Any) -> tuple[Any, Any, int, tuple[object, ...]]:
    """`byte_views` of ``items``, each a sketch of family ``cls`` (read as its image) or
    an image, for a ``sk_<family>_union_images`` call; TypeError for anything else."""
    images = [s.to_bytes() if isinstance(s, cls) else s for s in items]
    views = byte_views(images)
    if views is None:
        bad = next(x for x in images if not isinstance(x, (bytes, bytearray, memoryview)))
        raise TypeError(f"union takes {cls.__name__} sketches or images, not {type(bad).__name__}")
    return views


def sketch_handles(
    items: tuple[Any, ...], cls: Any, read: Callable[[Any], Any]
) -> tuple[Any, list[Any]]:
    """Native handles of ``items``, each a sketch of family ``cls`` or an image that
    ``read`` turns into one (a bad image raises its error naming its index): a cffi
    array for a ``sk_<family>_union_many`` call and the list keeping the sketches alive."""
    sketches = []
    for i, s in enumerate(items):
        if isinstance(s, cls):
            sketches.append(s)
        elif isinstance(s, (bytes, bytearray, memoryview)):
            try:
                sketches.append(read(s))
            except SketchError as e:
                raise type(e)(f"image {i}: {e}") from None
        else:
            raise TypeError(f"expected {cls.__name__} or bytes, not {type(s).__name__} (item {i})")
    return ffi.new(f"{cls._handle_type} *[]", [s._p() for s in sketches]), sketches


# ---- numbers only: the input of quantile sketches ----


def as_float_array(values: Any, dtype: Any = np.float64) -> np.ndarray:
    """``values`` as a contiguous 1-D NumPy array of ``dtype`` (float64 or float32), for
    sketches of numbers. Accepts a number; a sequence or iterable of numbers (None, pandas
    NA and NaT items skipped); a NumPy array of ints, floats or bools (any shape, flattened;
    zero-copy when it already is contiguous ``dtype``); a pandas Series/Index (missing
    values skipped); a pyarrow Array or ChunkedArray (nulls skipped). Ints and bools are
    numbers; everything is cast to ``dtype`` once (float64 to float32 rounds to the nearest
    float, ints beyond 2**53 to the nearest double). NaN is kept: the sketch decides what it
    means. Strings, bytes and other non-numbers raise TypeError naming their type."""
    dtype = np.dtype(dtype)
    t = type(values)
    if t is float or t is int or t is bool:
        return np.array([values], dtype=dtype)
    if isinstance(values, np.ndarray):
        return _float_ndarray(values, dtype)
    if isinstance(values, (np.generic, numbers.Real)) and not isinstance(
        values, (str, bytes, np.str_, np.bytes_)
    ):
        return _float_ndarray(np.asarray(values).reshape(1), dtype)
    if values is None:
        raise TypeError("cannot update a sketch with None")
    if isinstance(values, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"cannot update a sketch of numbers with {t.__name__}")
    origin = _origin(values)
    if origin == "pandas":
        return _float_pandas(values, dtype)
    if origin == "pyarrow":
        return _float_arrow(values, dtype)
    if isinstance(values, dict):
        raise TypeError("cannot update a sketch with a dict; pass its keys() or values()")
    if not isinstance(values, (list, tuple)):
        try:
            values = list(values)
        except TypeError:
            raise TypeError(
                f"cannot update a sketch of numbers with {t.__name__}: expected a number, "
                "a sequence of numbers, a NumPy array, a pandas Series or a pyarrow array"
            ) from None
    return _float_list(values, dtype)


def _float_ndarray(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    kind = arr.dtype.kind
    if kind in "iufb":
        return np.require(arr.reshape(-1), dtype=dtype, requirements=["C", "A"])
    if kind == "O":
        return _float_list(arr.reshape(-1).tolist(), dtype)
    raise TypeError(f"cannot update a sketch of numbers with a NumPy array of dtype {arr.dtype}")


def _float_list(values: Any, dtype: np.dtype) -> np.ndarray:
    if len(values) == 0:
        return np.empty(0, dtype=dtype)
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        arr = None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iufb":
        out = arr.astype(dtype, copy=False)
        if dtype == np.float32 and arr.dtype.kind == "f":
            _round_ints_once(values, out)
        return out
    # None items, strings, nested or mixed objects: one item at a time.
    kept = []
    for v in values:
        if is_null(v):
            continue
        if isinstance(v, (str, bytes, np.str_, np.bytes_)) or not isinstance(
            v, (numbers.Real, np.number, np.bool_)
        ):
            raise TypeError(
                f"cannot update a sketch of numbers with an item of type {type(v).__name__}"
            )
        kept.append(v)
    out = np.array(kept, dtype=dtype)
    if dtype == np.float32:
        _round_ints_once(kept, out)
    return out


def _round_ints_once(values: Sequence[Any], out: np.ndarray) -> None:
    """Ints beyond 2**24 of a list that also holds floats reach float32 through float64
    (NumPy converts Python ints to floats that way): two roundings, which can miss the
    nearest float32. Each is rounded once here, from int64 (or uint64), as the same int
    in an int-only list or array is."""
    for i, v in enumerate(values):
        if type(v) is int and not -(2**24) <= v <= 2**24 and INT64_MIN <= v <= UINT64_MAX:
            exact = np.array([v], dtype=np.int64 if v <= INT64_MAX else np.uint64)
            out[i] = exact.astype(np.float32)[0]


def _float_pandas(values: Any, dtype: np.dtype) -> np.ndarray:
    if not (hasattr(values, "dropna") and hasattr(values, "to_numpy")):
        raise TypeError(f"cannot update a sketch with a pandas {type(values).__name__}")
    if getattr(values, "ndim", 1) != 1:
        raise TypeError("cannot update a sketch with a 2-D pandas object; pass one column")
    values = values.dropna()
    if getattr(values.dtype, "kind", "O") in "iufb":
        # nullable extension dtypes (Int64, Float64, boolean) convert once NA is gone
        return _float_ndarray(values.to_numpy(dtype=dtype), dtype)
    return _float_list(values.to_numpy(dtype=object).tolist(), dtype)


def _float_arrow(values: Any, dtype: np.dtype) -> np.ndarray:
    import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

    if isinstance(values, pa.ChunkedArray):
        parts = [_float_arrow(c, dtype) for c in values.chunks]
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
    if not isinstance(values, pa.Array):
        raise TypeError(f"cannot update a sketch with a pyarrow {type(values).__name__}")
    t = values.type
    if pa.types.is_dictionary(t):
        return _float_arrow(values.dictionary_decode(), dtype)
    if pa.types.is_null(t):
        return np.empty(0, dtype=dtype)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        if values.null_count:
            values = values.drop_null()
        return _float_ndarray(arrow_numpy(values), dtype)
    raise TypeError(f"cannot update a sketch of numbers with a pyarrow array of type {t}")


# ---- items paired with per-item weights or values (FrequentItems, CountMin, TupleSketch) ----


def is_scalar(values: Any) -> bool:
    return values is None or isinstance(values, (int, float, str, bytes, np.generic))


def count_items(values: Any) -> int:
    """How many items (nulls included) ``values`` holds, for checking that weights or
    values line up with them; TypeError if it cannot tell."""
    n = item_count(values)
    if n is None:
        raise TypeError(
            f"with weights or values, items must be a scalar or a sized collection, "
            f"not {type(values).__name__}"
        )
    return n


def drop_nulls(values: Any, w: np.ndarray[Any, Any]) -> tuple[Any, np.ndarray[Any, Any]]:
    """The items that are not null (None, NaT, pandas NA, Arrow nulls) and their
    entries of ``w`` (weights, values), which so stay aligned with the items applied."""
    if isinstance(values, np.ndarray):
        values = values.reshape(-1)
        if values.dtype.kind in "mM":
            keep = ~np.isnat(values)
            return values[keep], w[keep]
        if values.dtype.kind in "OT":
            values = values.tolist()
        else:
            return values, w
    origin = _origin(values)
    if origin == "pandas" and _is_arrow_dtype(values):
        values, origin = values.array.__arrow_array__(), "pyarrow"
    if origin == "pandas":
        keep = np.asarray(values.notna(), dtype=bool)
        return values[keep], w[keep]
    if origin == "pyarrow":
        values = _arrow_plain(values)
        import pyarrow as pa  # the value is a pyarrow object, so pyarrow is installed

        t = values.type
        if pa.types.is_string(t) or pa.types.is_binary(t):
            return values, w  # nulls skipped natively, their weights with them
        if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
            return values, w
        if values.null_count:
            valid = values.is_valid()
            keep = arrow_numpy(valid)
            return values.filter(valid), w[keep]
        return values, w
    nulls = null_types()
    if nulls.isdisjoint(map(type, values)):
        return values, w
    keep_list = [type(v) not in nulls for v in values]
    return [v for v, keep in zip(values, keep_list) if keep], w[np.asarray(keep_list, dtype=bool)]


def weight_array(weights: Any, n: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """``weights`` as ``n`` non-negative integers (C-contiguous uint64), for the ``n``
    items of a weighted update: a NumPy, pandas or pyarrow array or a sequence of ints,
    or one int for one item. Anything else is a clear TypeError or ValueError (a null
    weight included: it would have no meaning) before any item is applied."""
    if weights is None or isinstance(weights, (str, bytes)):
        raise TypeError(f"weights must be non-negative integers, not {type(weights).__name__}")
    if hasattr(weights, "null_count") and hasattr(weights, "to_numpy"):  # pyarrow
        if weights.null_count:
            raise TypeError("weights must be non-negative integers, not null")
        weights = weights.to_numpy(zero_copy_only=False)
    elif hasattr(weights, "to_numpy"):  # pandas
        if hasattr(weights, "isna") and np.asarray(weights.isna()).any():
            raise TypeError("weights must be non-negative integers, not null")
        weights = weights.to_numpy()
    arr = np.asarray(weights)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.size == 0:  # NumPy makes [] a float array
        arr = arr.astype(np.uint64)
    if arr.dtype.kind == "O":
        if not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in arr):
            raise TypeError("weights must be non-negative integers")
        if any(w < 0 for w in arr):
            raise ValueError("weights must be non-negative")
        if any(w > INT64_MAX for w in arr):
            raise ValueError(f"a weight exceeds {INT64_MAX}, the largest total weight")
        arr = arr.astype(np.uint64)
    elif arr.dtype.kind == "i":
        if arr.size and arr.min() < 0:
            raise ValueError("weights must be non-negative")
    elif arr.dtype.kind != "u":
        raise TypeError(f"weights must be non-negative integers, not an array of {arr.dtype}")
    if len(arr) != n:
        raise ValueError(f"{n} items need {n} weights, got {len(arr)}")
    return np.ascontiguousarray(arr, dtype=np.uint64)
