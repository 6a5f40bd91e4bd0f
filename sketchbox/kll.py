"""KLL: quantiles, ranks, CDF and PMF of a stream of numbers, with Apache
DataSketches-compatible images.

Accuracy: with parameter ``k`` every rank, quantile and CDF answer of one sketch is
within ``normalized_rank_error()`` (``2.296 / k**0.9723``; 1.33% at the default
``k=200``) of the true normalized rank with 99% confidence, and every PMF bucket
within ``normalized_rank_error(pmf=True)`` (``2.446 / k**0.9433``; 1.65%). Up to ``k``
items the sketch keeps them all and answers exactly. After a merge the bound is that
of the smallest ``k`` involved (``min_k``).

Queries follow DataSketches' search criteria. ``inclusive=True`` (the default):
``rank(x)`` is the fraction of items ``<= x`` and ``quantile(r)`` the smallest item
whose inclusive rank is ``>= r`` (NumPy's ``method="inverted_cdf"``).
``inclusive=False``: ``rank(x)`` counts items ``< x`` and ``quantile(r)`` is the
smallest item whose inclusive rank is ``> r``.

The answers are those of Java DataSketches (what Spark's ``kll_sketch_get_*``, Druid
and Hive answer), which differ from datasketches-python (C++) in two ways only:

1. While ``n <= 10**7``, ``r * n`` is rounded to 7 decimals before its ceiling or
   floor, so a product a rounding error away from an integer counts as that integer:
   at ``n = 200``, ``quantile(0.14)`` is the 28th item (C++: the 29th, as
   ``0.14 * 200 == 28.000000000000004``).
2. Once the sketch has compacted, the exact ``min`` and ``max`` are part of what
   queries search even when no compaction kept them: ``quantile(0)`` and
   ``quantile(1)`` are ``min`` and ``max`` (C++: the smallest and largest retained
   items), the largest retained item then has rank ``(n - 1) / n`` and an item
   between ``min`` and the smallest retained one rank ``1 / n``.

Unlike datasketches-python, whose queries default to ``inclusive=False``, every
query here defaults to ``inclusive=True``; pass it explicitly to compare the two.

An empty sketch has no quantiles: queries on it (and ``min``/``max``) raise
EmptySketchError (a ValueError), as DataSketches throws, rather than returning NaN.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional, Union

import numpy as np

from . import _input
from ._base import (
    INT64_MAX,
    INT64_MIN,
    BytesLike,
    MergeableSketch,
    Progress,
    check,
    image_buffer,
    int_param,
    run_cancellable,
    take_bytes,
)
from ._native import ffi, lib

_INT64 = np.dtype(np.int64)

_TYPE_CODES: dict[np.dtype[Any], int] = {
    np.dtype(np.float64): lib.SK_KLL_F64,
    np.dtype(np.float32): lib.SK_KLL_F32,
    _INT64: lib.SK_KLL_I64,
}


_BY_NAME: dict[str, np.dtype[Any]] = {d.name: d for d in _TYPE_CODES}

_DTYPES_TEXT = "'float64', 'float32' or 'int64'"


def _parse_dtype(dtype: Any) -> np.dtype[Any]:
    if type(dtype) is str and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        d = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        if isinstance(dtype, str):
            d = None
        else:
            raise TypeError(f"dtype must be {_DTYPES_TEXT}, not {type(dtype).__name__}") from None
    if d is None or d not in _TYPE_CODES:
        raise ValueError(f"dtype must be {_DTYPES_TEXT}, got {dtype!r}")
    return _BY_NAME[d.name]


_NOT_INT = (
    "an int64 KllSketch takes integers (bools as 0 and 1, datetimes and timedeltas as their "
    "int64 ticks), not {}: convert them first"
)


def _int_points(values: Any, what: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Query arguments (items, split points) of an int64 sketch as a contiguous int64
    array: integers exactly, datetimes and timedeltas as their ticks."""
    if type(values) is np.ndarray and values.dtype == _INT64 and values.flags.c_contiguous:
        return np.require(values, requirements=["A"])
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be integers, not {type(values).__name__}")
    if isinstance(values, (list, tuple)) and all(type(v) is int for v in values):
        # NumPy would make floats of a list with an int beyond int64 (and of [])
        for v in values:
            if not INT64_MIN <= v <= INT64_MAX:
                raise OverflowError(f"{what} hold {v}, beyond the int64 range")
        return np.array(values, dtype=np.int64)
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "mM":
        ticks = arr.astype(arr.dtype.newbyteorder("=")).view(np.int64)
        return np.require(ticks, requirements=["C", "A"])
    if kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
        raise OverflowError(f"{what} hold {int(arr.max())}, beyond the int64 range")
    if kind in "iub":
        # aligned too: the native side reads it in place (pyarrow buffers may not be)
        return np.require(arr, dtype=np.int64, requirements=["C", "A"])
    if kind == "O" and all(isinstance(v, (int, np.integer)) for v in arr.reshape(-1).tolist()):
        # Python ints beyond int64 make an object array: OverflowError here
        return np.array(arr.tolist(), dtype=np.int64)
    raise TypeError(f"{what} of an int64 sketch must be integers, not {arr.dtype}")


def _int_scalar(value: Any, what: str) -> Optional[int]:
    """A lone integer (or datetime64/timedelta64 tick) as an int; None if ``value`` is an
    array or sequence."""
    if isinstance(value, (int, np.integer, np.bool_)):
        v = int(value)
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError(f"{what} {v} is beyond the int64 range")
        return v
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return int(value.astype(np.int64))
    if isinstance(value, (numbers.Number, str, bytes)) or value is None:
        raise TypeError(f"{what} of an int64 sketch must be an integer, not {value!r}")
    return None


def _int_sink(p: Any) -> _input.Sink:
    """The Sink through which ``_input.feed`` updates an int64 sketch: integer, bool and
    temporal columns in bulk, exactly; anything else a TypeError before the native call."""

    def numeric(data: Any, n: int, code: int, cb: Any, user: Any) -> int:
        if code in (lib.SK_DTYPE_F32, lib.SK_DTYPE_F64):
            raise TypeError(_NOT_INT.format("floating-point numbers"))
        return int(lib.sk_kll_update_numeric(p, data, n, code, cb, user))

    def refuse(*_args: Any) -> int:
        raise TypeError(_NOT_INT.format("strings or bytes"))

    def refuse_one(_item: bytes) -> None:
        refuse()

    def one_u64(v: int) -> None:
        raise OverflowError(f"{v} is beyond the int64 range of the sketch")

    def one_f64(v: float) -> None:
        raise TypeError(_NOT_INT.format(f"the float {v!r}"))

    return _input.Sink(
        numeric=numeric,
        strings=refuse,
        fixed=refuse,
        one_i64=lambda v: check(lib.sk_kll_update_one_i64(p, v)),
        one_u64=one_u64,
        one_f64=one_f64,
        one_bytes=refuse_one,
        delimited=refuse,
    )


def _check_int_items(values: Any) -> None:
    """Every item of a list is an integer, bool, datetime or None, before any is applied."""
    for v in values:
        if _input.is_null(v) or isinstance(v, (np.bool_, np.datetime64, np.timedelta64)):
            continue
        if not isinstance(v, (int, np.integer)):
            raise TypeError(_NOT_INT.format(f"an item of type {type(v).__name__}"))
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError(f"{v} is beyond the int64 range of the sketch")


def _points(values: Any, what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Query arguments (ranks, items, split points) as a contiguous float64 array."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be numbers, not {type(values).__name__}")
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.float64)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{what} must be numbers, not an array of {arr.dtype}")
    # aligned too: the native side reads it in place (pyarrow buffers may not be)
    return np.require(arr, dtype=np.float64, requirements=["C", "A"])


def _scalar(value: Any, what: str) -> Optional[float]:
    """A lone number as a float; None if ``value`` is an array or sequence."""
    if isinstance(value, (numbers.Real, np.number, np.bool_)) and not isinstance(value, np.ndarray):
        return float(value)
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{what} must be a number or an array of numbers, not {value!r}")
    return None


class KllSketch(MergeableSketch):
    """Approximate quantiles and ranks of a stream or column of numbers.

    >>> q = KllSketch()
    >>> q.update(np.arange(1, 101))
    >>> q.quantile(0.5), q.rank(25.0)
    (50.0, 0.25)

    ``k`` (from 8 to 65535, default 200) sets the size (about ``3 * k`` items retained once
    the stream is long) and so the accuracy; ``dtype`` ("float64", "float32" or
    "int64") the item type, as DataSketches' ``kll_doubles_sketch`` /
    ``kll_floats_sketch`` / Java's ``KllLongsSketch`` (Spark's ``kll_sketch_agg_double``
    / ``_float`` / ``_bigint``). Images (``to_bytes``) are DataSketches KLL images, read
    back with ``from_bytes(b, dtype)``.
    ``seed`` fixes the compaction coin flips, making the sketch a function of its
    input (for reproducible tests; copies and merge partners draw their own).
    One sketch may be used from several threads; each call is atomic.

    ``update`` accepts int, float and bool; sequences and iterables of them (None
    skipped); NumPy arrays of ints, floats or bools (float64 into a float64 sketch
    crosses zero-copy); pandas Series (missing values skipped); pyarrow arrays (nulls
    skipped). Values are converted once to the sketch's dtype: float64 input to a
    float32 sketch is rounded to the nearest float32 (beyond its range, to +-inf, with
    NumPy's overflow warning). NaN is ignored and not counted, as in DataSketches.
    Strings, bytes and other types raise TypeError. An input of 2**20 items or more is
    sketched on two cores: each block is shared between the sketch and a helper sketch
    that is merged in at the end. That is another sketch of the same stream with the
    same guarantee, deterministic for a ``seed`` on any machine, but not the bytes that
    updating one item at a time would give; shorter inputs apply in order.

    An ``int64`` sketch keeps every integer exactly (beyond 2**53 too): it takes ints,
    bools and integer columns of any width without a float round trip, and datetime64 /
    timedelta64 arrays, pandas datetime Series (tz-aware ones in UTC) and pyarrow
    timestamp / date / time / duration arrays as their int64 ticks (NaT and nulls
    skipped); floats raise TypeError, integers beyond the int64 range OverflowError
    (ValueError from a uint64 array), before any item is applied. Its quantiles, ``min``
    and ``max`` are ints (int64 arrays), and ``rank``/``cdf``/``pmf`` take integers.

    ``progress(done, total)`` is called every ~2 M items of a large input and once with
    ``done == total`` at the end; an exception it raises (or Ctrl-C) stops the update
    and propagates, leaving the sketch updated with a prefix of the input (its completed
    blocks).

    ``merge(other)`` (and ``|=``) merges in place as DataSketches does: this sketch
    keeps its k; sketches of different dtypes raise IncompatibleSketchError. ``a | b``
    is a new sketch.
    """

    __slots__ = ("_dtype",)
    _family = "kll"
    _handle_type = "SkKll"

    def __init__(self, k: int = 200, dtype: Any = "float64", *, seed: Optional[int] = None) -> None:
        k = int_param("k", k, 8, 65535)
        d = _parse_dtype(dtype)
        out = self._out()
        if seed is None:
            check(lib.sk_kll_new(k, _TYPE_CODES[d], out))
        else:
            seed = int_param("seed", seed, 0, 2**64 - 1)
            check(lib.sk_kll_new_seeded(k, _TYPE_CODES[d], seed, out))
        super().__init__(out[0])
        self._dtype = d

    @classmethod
    def _wrap_as(cls, out: Any, dtype: np.dtype[Any]) -> KllSketch:
        obj = cls._wrap(out)
        obj._dtype = dtype
        return obj

    def _like(self, out: Any) -> KllSketch:
        # a copy has its own compaction coin flips
        return self._wrap_as(out, self._dtype)

    # ---- updates ----

    def update(self, values: Any, progress: Progress = None) -> None:
        """Adds one number or many (see the class: what each dtype accepts, progress)."""
        if self._dtype is _INT64:
            # refused now rather than when the buffer of scalars is flushed
            t = type(values)
            if t is float:
                raise TypeError(_NOT_INT.format(f"the float {values!r}"))
            if t is int and values > INT64_MAX:
                raise OverflowError(f"{values} is beyond the int64 range of the sketch")
        super().update(values, progress)

    def _runs(self, items: list[Union[int, float]]) -> Iterator[list[Union[int, float]]]:
        yield items  # every number converts to the sketch's dtype: one call

    def _feed(self, p: Any, values: Any, progress: Progress = None) -> None:
        if self._dtype is _INT64:
            if isinstance(values, (list, tuple)):
                arr = np.asarray(values) if values and type(values[0]) is int else None
                if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iu":
                    values = arr
                else:
                    _check_int_items(values)
            _input.feed(_int_sink(p), values, progress)
            return
        # NumPy arrays of every numeric width cross as they are and are converted to
        # the sketch's item type in Rust; other inputs become a float array first.
        codes = _input._DTYPE_CODES
        if type(values) is not np.ndarray or values.dtype not in codes:
            values = _input.as_float_array(values, self._dtype)
        arr = _input._aligned(values.reshape(-1))
        n = arr.size
        if n == 0:
            return
        code, ptr = codes[arr.dtype], ffi.from_buffer(arr)
        run_cancellable(
            lambda cb, user: lib.sk_kll_update_numeric(p, ptr, n, code, cb, user), progress
        )

    # ---- queries ----

    def _check(self, rc: int, what: str) -> None:
        # An empty sketch is SK_ERR_EMPTY, raised as EmptySketchError by check().
        check(rc)

    def _many(
        self,
        fn: Callable[..., int],
        points: np.ndarray[Any, Any],
        out_len: int,
        inclusive: bool,
        what: str,
        out_dtype: Any = np.float64,
    ) -> np.ndarray[Any, Any]:
        """One native call over ``points`` (double or int64, as ``fn`` takes them) into a
        new array of ``out_len`` items of ``out_dtype`` (double or int64)."""
        out = np.empty(out_len, dtype=out_dtype)
        c_type = {np.dtype(np.float64): "double[]", _INT64: "int64_t[]"}
        rc = fn(
            self._p(),
            ffi.from_buffer(c_type[points.dtype], points),
            points.size,
            bool(inclusive),
            ffi.from_buffer(c_type[out.dtype], out, require_writable=True),
        )
        if rc:
            self._check(rc, what)
        return out

    def _one(self, fn: Callable[..., int], what: str, *args: Any) -> float:
        out = ffi.new("double *")
        rc = fn(self._p(), *args, out)
        if rc:
            self._check(rc, what)
        return float(out[0])

    def _int_extreme(self, fn: Callable[..., int]) -> int:
        out = ffi.new("int64_t *")
        check(fn(self._p(), out))
        return int(out[0])

    def quantile(self, rank: Any, inclusive: bool = True) -> Any:
        """The item at normalized ``rank`` (in [0, 1]): a float (an int for an int64
        sketch) for a number, a NumPy array (of the sketch's dtype, the shape of
        ``rank``) for an array or list. ``quantile(0)`` and ``quantile(1)`` are ``min``
        and ``max``; see the module docs for how answers compare with DataSketches."""
        r = _scalar(rank, "rank")
        if r is None:
            return self.quantiles(rank, inclusive)
        if self._dtype is _INT64:
            return int(self.quantiles(np.array([r]), inclusive)[0])
        return self._one(lib.sk_kll_quantile, "quantile()", r, bool(inclusive))

    def quantiles(self, ranks: Any, inclusive: bool = True) -> np.ndarray[Any, Any]:
        """The items at many normalized ranks, in one native call."""
        pts = _points(ranks, "ranks")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        if self._dtype is _INT64:
            items = self._many(
                lib.sk_kll_quantiles_i64, flat, pts.size, inclusive, "quantiles()", _INT64
            )
        else:
            out = self._many(lib.sk_kll_quantiles, flat, pts.size, inclusive, "quantiles()")
            items = out if self._dtype == np.float64 else out.astype(self._dtype)
        return items if pts.ndim == 1 else items.reshape(pts.shape)

    def rank(
        self, item: Any, inclusive: bool = True
    ) -> Union[float, np.ndarray[Any, np.dtype[np.float64]]]:
        """The normalized rank of ``item``: the fraction of items ``<= item`` (``< item``
        if not inclusive); a NumPy array for an array or list of items."""
        if self._dtype is _INT64:
            i = _int_scalar(item, "item")
            if i is None:
                return self.ranks(item, inclusive)
            return float(self.ranks(np.array([i], dtype=np.int64), inclusive)[0])
        x = _scalar(item, "item")
        if x is None:
            return self.ranks(item, inclusive)
        return self._one(lib.sk_kll_rank, "rank()", x, bool(inclusive))

    def _query_points(self, values: Any, what: str) -> tuple[np.ndarray[Any, Any], str]:
        """Items or split points in the C type of the sketch's queries, and the suffix
        of the native functions that take them."""
        if self._dtype is _INT64:
            return _int_points(values, what), "_i64"
        return _points(values, what), ""

    def ranks(self, items: Any, inclusive: bool = True) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The normalized ranks of many items, in one native call."""
        pts, suffix = self._query_points(items, "items")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        fn = getattr(lib, "sk_kll_ranks" + suffix)
        out = self._many(fn, flat, pts.size, inclusive, "ranks()")
        return out if pts.ndim == 1 else out.reshape(pts.shape)

    def _distribution(self, name: str, split_points: Any, inclusive: bool) -> Any:
        pts, suffix = self._query_points(split_points, "split_points")
        pts = pts.reshape(-1)
        fn = getattr(lib, f"sk_kll_{name}{suffix}")
        return self._many(fn, pts, pts.size + 1, inclusive, f"{name}()")

    def cdf(
        self, split_points: Any, inclusive: bool = True
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The cumulative distribution at unique, increasing ``split_points``: their
        ranks followed by 1 (``len(split_points) + 1`` values)."""
        return self._distribution("cdf", split_points, inclusive)  # type: ignore[no-any-return]

    def pmf(
        self, split_points: Any, inclusive: bool = True
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The fraction of items in each of the ``len(split_points) + 1`` intervals the
        split points delimit: ``(-inf, s0], (s0, s1], ..., (s_last, inf)`` if
        inclusive, ``[s_i, s_i+1)`` otherwise."""
        return self._distribution("pmf", split_points, inclusive)  # type: ignore[no-any-return]

    @property
    def min(self) -> Any:
        """The smallest item seen (exact; a float, an int for an int64 sketch).
        EmptySketchError if empty."""
        if self._dtype is _INT64:
            return self._int_extreme(lib.sk_kll_min_i64)
        return self._one(lib.sk_kll_min, "min")

    @property
    def max(self) -> Any:
        """The largest item seen (exact; a float, an int for an int64 sketch).
        EmptySketchError if empty."""
        if self._dtype is _INT64:
            return self._int_extreme(lib.sk_kll_max_i64)
        return self._one(lib.sk_kll_max, "max")

    @property
    def n(self) -> int:
        """The number of items seen (NaN excluded)."""
        return int(self._get("n", "uint64_t"))

    @property
    def num_retained(self) -> int:
        """Items the sketch keeps (its memory, about 8 bytes each for float64)."""
        return int(self._get("num_retained", "uint32_t"))

    def is_empty(self) -> bool:
        """True before any item was added."""
        return self.n == 0

    def is_estimation_mode(self) -> bool:
        """True once the sketch has compacted, i.e. answers are approximate."""
        return bool(self._get("is_estimation_mode", "bool"))

    def normalized_rank_error(self, pmf: bool = False) -> float:
        """The rank error bound at 99% confidence: single-sided (ranks, quantiles, CDF),
        or double-sided for PMF buckets if ``pmf``."""
        return float(self._get("normalized_rank_error", "double", bool(pmf)))

    def _params(self) -> tuple[int, int]:
        k, min_k = ffi.new("uint32_t *"), ffi.new("uint32_t *")
        check(lib.sk_kll_params(self._p(), k, min_k, ffi.NULL))
        return k[0], min_k[0]

    @property
    def k(self) -> int:
        """The accuracy parameter: rank error ~ 1.33 % at k = 200 (99 % confidence)."""
        return self._params()[0]

    @property
    def min_k(self) -> int:
        """The smallest k among the sketches merged into this one; sets the error."""
        return self._params()[1]

    @property
    def dtype(self) -> np.dtype[Any]:
        """The items' NumPy dtype (float64 or float32)."""
        return self._dtype

    # ---- images ----

    def to_bytes(self) -> bytes:
        """The Apache DataSketches KLL image (as kll_doubles_sketch / kll_floats_sketch /
        KllLongsSketch serialize). It does not record the dtype: pass it to ``from_bytes``."""
        out = ffi.new("SkBytes *")
        check(lib.sk_kll_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: BytesLike, dtype: Any = "float64") -> KllSketch:
        """Reads a KLL image written by sketchbox or any Apache DataSketches library:
        ``dtype="float64"`` for doubles sketches, ``"float32"`` for floats sketches,
        ``"int64"`` for Java's longs sketches (Spark's bigint ones); images do not
        record it. SketchFormatError (a ValueError) for bytes that are
        not a valid image."""
        buf = image_buffer(data)
        d = _parse_dtype(dtype)
        out = cls._out()
        check(lib.sk_kll_deserialize(buf, len(buf), _TYPE_CODES[d], out))
        return cls._wrap_as(out, d)

    @classmethod
    def union(
        cls,
        items: Iterable[Union[KllSketch, BytesLike]],
        dtype: Any = None,
        k: Optional[int] = None,
        *,
        seed: Optional[int] = None,
    ) -> KllSketch:
        """A new sketch of ``dtype`` into which every sketch or image of ``items`` is
        merged, in one native call: in order (as ``merge`` does) for sketches and for
        fewer than 64 images; from 64 images on, as one batch on two cores (each level
        pooled across the images and compacted in groups of at least its capacity: the
        same error bound, deterministic for a ``seed``, not the bytes of merging in
        order, and several times faster).

        ``items``: KllSketch objects of that dtype and/or images (bytes-like, read as
        ``dtype``), a NumPy object array of images, or a pyarrow binary array of them
        (nulls skipped). ``dtype`` defaults to the first sketch's (images do not record
        it: ``"float64"`` if there is no sketch). Images are read one at a time and never
        all held at once.
        ``k`` defaults to the largest ``k`` of the inputs (200 if there are none);
        ``seed`` fixes the result's compaction coin flips, as in ``KllSketch(seed=)``.
        A bad image raises SketchFormatError naming its index; a sketch of another
        dtype, IncompatibleSketchError.
        """
        kk = 0 if k is None else int_param("k", k, 8, 65535)
        seed_ptr = (
            ffi.NULL
            if seed is None
            else ffi.new("uint64_t *", int_param("seed", seed, 0, 2**64 - 1))
        )
        out = cls._out()
        views, seq = _input.union_inputs(items)
        if dtype is None:
            dtype = next((s._dtype for s in seq if isinstance(s, KllSketch)), "float64")
        d = _parse_dtype(dtype)
        if views is not None:
            ptrs, lens, n, _keep = views
            check(lib.sk_kll_union_images(ptrs, lens, n, kk, _TYPE_CODES[d], seed_ptr, out))
        else:
            read = lambda b: KllSketch.from_bytes(b, d)  # noqa: E731
            handles, alive = _input.sketch_handles(seq, cls._family_class(), read)
            check(lib.sk_kll_union_many(handles, len(alive), kk, _TYPE_CODES[d], seed_ptr, out))
        return cls._wrap_as(out, d)

    def _image_args(self) -> tuple[object, ...]:
        return (self._dtype.name,)

    def _describe(self, d: dict[str, Any]) -> str:
        head = f"k={d['k']} dtype={self._dtype.name} n={d['n']}"
        if d["n"] == 0:
            return head
        return f"{head} retained={d['num_retained']} min={d['min']!r} max={d['max']!r}"
