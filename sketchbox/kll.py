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
smallest item whose inclusive rank is ``> r``. Ranks 0 and 1 give the smallest and
largest *retained* items, as in DataSketches (exact ``min``/``max`` are properties).

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

_TYPE_CODES: dict[np.dtype[Any], int] = {
    np.dtype(np.float64): lib.SK_KLL_F64,
    np.dtype(np.float32): lib.SK_KLL_F32,
}


_BY_NAME: dict[str, np.dtype[Any]] = {
    "float64": np.dtype(np.float64),
    "float32": np.dtype(np.float32),
}


def _parse_dtype(dtype: Any) -> np.dtype[Any]:
    if type(dtype) is str and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    try:
        d = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        if isinstance(dtype, str):
            d = None
        else:
            raise TypeError(
                f"dtype must be 'float64' or 'float32', not {type(dtype).__name__}"
            ) from None
    if d is None or d not in _TYPE_CODES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return _BY_NAME["float64" if d == np.float64 else "float32"]


def _points(values: Any, what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Query arguments (ranks, items, split points) as a contiguous float64 array."""
    if type(values) is np.ndarray and values.dtype == np.float64 and values.flags.c_contiguous:
        return values
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be numbers, not {type(values).__name__}")
    arr = np.asarray(values)
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{what} must be numbers, not an array of {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


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
    the stream is long) and so the accuracy; ``dtype`` ("float64" or "float32") the
    item type, as DataSketches' ``kll_doubles_sketch`` / ``kll_floats_sketch``. Images
    (``to_bytes``) are DataSketches KLL images, read back with ``from_bytes(b, dtype)``.
    ``seed`` fixes the compaction coin flips, making the sketch a function of its
    input (for reproducible tests; copies and merge partners draw their own).
    One sketch may be used from several threads; each call is atomic.

    ``update`` accepts int, float and bool; sequences and iterables of them (None
    skipped); NumPy arrays of ints, floats or bools (float64 into a float64 sketch
    crosses zero-copy); pandas Series (missing values skipped); pyarrow arrays (nulls
    skipped). Values are converted once to the sketch's dtype: float64 input to a
    float32 sketch is rounded to the nearest float32 (beyond its range, to +-inf, with
    NumPy's overflow warning). NaN is ignored and not counted, as in DataSketches.
    Strings, bytes and other types raise TypeError. ``progress(done, total)`` is called
    every ~2 M items of a large input and once with ``done == total`` at the end; an
    exception it raises (or Ctrl-C) stops the update and propagates, leaving the sketch
    updated with a prefix of the input (its completed blocks).

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

    def _runs(self, items: list[Union[int, float]]) -> Iterator[list[Union[int, float]]]:
        yield items  # every number converts to the sketch's dtype: one call

    def _feed(self, p: Any, values: Any, progress: Progress = None) -> None:
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
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        out = np.empty(out_len, dtype=np.float64)
        rc = fn(
            self._p(),
            ffi.from_buffer("double[]", points),
            points.size,
            bool(inclusive),
            ffi.from_buffer("double[]", out, require_writable=True),
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

    def quantile(
        self, rank: Any, inclusive: bool = True
    ) -> Union[float, np.ndarray[Any, np.dtype[np.floating[Any]]]]:
        """The item at normalized ``rank`` (in [0, 1]): a float for a number, a NumPy
        array (of the sketch's dtype, the shape of ``rank``) for an array or list."""
        r = _scalar(rank, "rank")
        if r is None:
            return self.quantiles(rank, inclusive)
        return self._one(lib.sk_kll_quantile, "quantile()", r, bool(inclusive))

    def quantiles(
        self, ranks: Any, inclusive: bool = True
    ) -> np.ndarray[Any, np.dtype[np.floating[Any]]]:
        """The items at many normalized ranks, in one native call."""
        pts = _points(ranks, "ranks")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        out = self._many(lib.sk_kll_quantiles, flat, pts.size, inclusive, "quantiles()")
        items = out if self._dtype == np.float64 else out.astype(self._dtype)
        return items if pts.ndim == 1 else items.reshape(pts.shape)

    def rank(
        self, item: Any, inclusive: bool = True
    ) -> Union[float, np.ndarray[Any, np.dtype[np.float64]]]:
        """The normalized rank of ``item``: the fraction of items ``<= item`` (``< item``
        if not inclusive); a NumPy array for an array or list of items."""
        x = _scalar(item, "item")
        if x is None:
            return self.ranks(item, inclusive)
        return self._one(lib.sk_kll_rank, "rank()", x, bool(inclusive))

    def ranks(self, items: Any, inclusive: bool = True) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The normalized ranks of many items, in one native call."""
        pts = _points(items, "items")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        out = self._many(lib.sk_kll_ranks, flat, pts.size, inclusive, "ranks()")
        return out if pts.ndim == 1 else out.reshape(pts.shape)

    def cdf(
        self, split_points: Any, inclusive: bool = True
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The cumulative distribution at unique, increasing ``split_points``: their
        ranks followed by 1 (``len(split_points) + 1`` values)."""
        pts = _points(split_points, "split_points").reshape(-1)
        return self._many(lib.sk_kll_cdf, pts, pts.size + 1, inclusive, "cdf()")

    def pmf(
        self, split_points: Any, inclusive: bool = True
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The fraction of items in each of the ``len(split_points) + 1`` intervals the
        split points delimit: ``(-inf, s0], (s0, s1], ..., (s_last, inf)`` if
        inclusive, ``[s_i, s_i+1)`` otherwise."""
        pts = _points(split_points, "split_points").reshape(-1)
        return self._many(lib.sk_kll_pmf, pts, pts.size + 1, inclusive, "pmf()")

    @property
    def min(self) -> float:
        """The smallest item seen (exact). EmptySketchError if empty."""
        return self._one(lib.sk_kll_min, "min")

    @property
    def max(self) -> float:
        """The largest item seen (exact). EmptySketchError if empty."""
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
        """The Apache DataSketches KLL image (as kll_doubles_sketch / kll_floats_sketch
        serialize). It does not record the dtype: pass it to ``from_bytes``."""
        out = ffi.new("SkBytes *")
        check(lib.sk_kll_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: BytesLike, dtype: Any = "float64") -> KllSketch:
        """Reads a KLL image written by sketchbox or any Apache DataSketches library:
        ``dtype="float64"`` for doubles sketches, ``"float32"`` for floats sketches
        (images do not record it). SketchFormatError (a ValueError) for bytes that are
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
        dtype: Any = "float64",
        k: Optional[int] = None,
        *,
        seed: Optional[int] = None,
    ) -> KllSketch:
        """A new sketch of ``dtype`` into which every sketch or image of ``items`` is
        merged in order (as ``merge`` does), in one native call.

        ``items``: KllSketch objects of that dtype and/or images (bytes-like, read as
        ``dtype``), a NumPy object array of images, or a pyarrow binary array of them
        (nulls skipped). Images are read one at a time and never all held at once.
        ``k`` defaults to the largest ``k`` of the inputs (200 if there are none);
        ``seed`` fixes the result's compaction coin flips, as in ``KllSketch(seed=)``.
        A bad image raises SketchFormatError naming its index; a sketch of another
        dtype, IncompatibleSketchError.
        """
        d = _parse_dtype(dtype)
        kk = 0 if k is None else int_param("k", k, 8, 65535)
        seed_ptr = (
            ffi.NULL
            if seed is None
            else ffi.new("uint64_t *", int_param("seed", seed, 0, 2**64 - 1))
        )
        out = cls._out()
        views, seq = _input.union_inputs(items)
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
