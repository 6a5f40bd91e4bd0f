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

import json
import numbers
from typing import Any, Optional, Union

import numpy as np

from . import _input
from ._base import NativeSketch, Progress, check, ffi, lib, run_cancellable, take_bytes

_TYPE_CODES = {np.dtype(np.float64): 0, np.dtype(np.float32): 1}


_BY_NAME = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}


def _parse_dtype(dtype: Any) -> np.dtype:
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
    if d not in _TYPE_CODES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return d


def _points(values: Any, what: str) -> np.ndarray:
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


class KllSketch(NativeSketch):
    """Approximate quantiles and ranks of a stream or column of numbers.

    >>> q = KllSketch()
    >>> q.update(np.arange(1, 101))
    >>> q.quantile(0.5), q.rank(25.0)
    (50.0, 0.25)

    ``k`` (8..65535, default 200) sets the size (about ``3 * k`` items retained once
    the stream is long) and so the accuracy; ``dtype`` ("float64" or "float32") the
    item type, as DataSketches' ``kll_doubles_sketch`` / ``kll_floats_sketch``. Images
    (``to_bytes``) are DataSketches KLL images, read back with ``from_bytes(b, dtype)``.
    ``seed`` fixes the compaction coin flips, making the sketch a function of its
    input (for reproducible tests; copies and merge partners draw their own).
    One sketch may be used from several threads; each call is atomic.
    """

    __slots__ = ("_dtype",)
    _free = lib.sk_kll_free
    _handle_type = "SkKll"

    def __init__(self, k: int = 200, dtype: Any = "float64", *, seed: Optional[int] = None) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an int, not {type(k).__name__}")
        if not 8 <= k <= 65535:
            raise ValueError(f"k must be in 8..65535, got {k}")
        d = _parse_dtype(dtype)
        out = ffi.new("SkKll **")
        if seed is None:
            check(lib.sk_kll_new(int(k), _TYPE_CODES[d], out))
        else:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise TypeError(f"seed must be an int, not {type(seed).__name__}")
            if not 0 <= seed < 2**64:
                raise ValueError(f"seed must be in [0, 2**64), got {seed}")
            check(lib.sk_kll_new_seeded(int(k), _TYPE_CODES[d], int(seed), out))
        super().__init__(out[0])
        self._dtype = d

    @classmethod
    def _wrap_as(cls, out, dtype: np.dtype) -> KllSketch:
        obj = cls._wrap(out)
        obj._dtype = dtype
        return obj

    # ---- updates ----

    def update(self, values: Any, progress: Progress = None) -> None:
        """Adds one number or many.

        Accepts int, float and bool; sequences and iterables of them (None skipped);
        NumPy arrays of ints, floats or bools (float64 into a float64 sketch crosses
        zero-copy); pandas Series (missing values skipped); pyarrow arrays (nulls
        skipped). Values are converted once to the sketch's dtype, in native code for
        NumPy arrays: float64 input to a float32 sketch is rounded to the nearest float32
        (beyond its range, to +-inf). NaN is ignored and not
        counted, as in DataSketches. Strings, bytes and other types raise TypeError.
        ``progress(done, total)`` is called every ~2 M items of a large input; an
        exception it raises (or Ctrl-C) stops the update and propagates, leaving the
        sketch updated with a prefix of the input (its completed blocks).
        """
        t = type(values)
        if (
            (t is float or (t is int and -(2**63) <= values < 2**64))
            and progress is None
            and self._ptr is not None
        ):
            buf = self._buf
            buf.append(values)
            if len(buf) >= self.BUFFER_ITEMS:
                self._flush()
            return
        self._feed(self._p(), values, progress)

    def _feed(self, p, values, progress: Progress = None) -> None:
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

    def _many(self, fn, points: np.ndarray, out_len: int, inclusive: bool, what: str):
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

    def quantile(self, rank: Any, inclusive: bool = True) -> Any:
        """The item at normalized ``rank`` (in [0, 1]): a float for a number, a NumPy
        array (of the sketch's dtype, the shape of ``rank``) for an array or list."""
        r = _scalar(rank, "rank")
        if r is None:
            return self.quantiles(rank, inclusive)
        out = ffi.new("double *")
        rc = lib.sk_kll_quantile(self._p(), r, bool(inclusive), out)
        if rc:
            self._check(rc, "quantile()")
        return out[0]

    def quantiles(self, ranks: Any, inclusive: bool = True) -> np.ndarray:
        """The items at many normalized ranks, in one native call."""
        pts = _points(ranks, "ranks")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        out = self._many(lib.sk_kll_quantiles, flat, pts.size, inclusive, "quantiles()")
        if self._dtype != np.float64:
            out = out.astype(self._dtype)
        return out if pts.ndim == 1 else out.reshape(pts.shape)

    def rank(self, item: Any, inclusive: bool = True) -> Any:
        """The normalized rank of ``item``: the fraction of items ``<= item`` (``< item``
        if not inclusive); a NumPy array for an array or list of items."""
        x = _scalar(item, "item")
        if x is None:
            return self.ranks(item, inclusive)
        out = ffi.new("double *")
        rc = lib.sk_kll_rank(self._p(), x, bool(inclusive), out)
        if rc:
            self._check(rc, "rank()")
        return out[0]

    def ranks(self, items: Any, inclusive: bool = True) -> np.ndarray:
        """The normalized ranks of many items, in one native call."""
        pts = _points(items, "items")
        flat = pts if pts.ndim == 1 else pts.reshape(-1)
        out = self._many(lib.sk_kll_ranks, flat, pts.size, inclusive, "ranks()")
        return out if pts.ndim == 1 else out.reshape(pts.shape)

    def cdf(self, split_points: Any, inclusive: bool = True) -> np.ndarray:
        """The cumulative distribution at unique, increasing ``split_points``: their
        ranks followed by 1 (``len(split_points) + 1`` values)."""
        pts = _points(split_points, "split_points").reshape(-1)
        return self._many(lib.sk_kll_cdf, pts, pts.size + 1, inclusive, "cdf()")

    def pmf(self, split_points: Any, inclusive: bool = True) -> np.ndarray:
        """The fraction of items in each of the ``len(split_points) + 1`` intervals the
        split points delimit: ``(-inf, s0], (s0, s1], ..., (s_last, inf)`` if
        inclusive, ``[s_i, s_i+1)`` otherwise."""
        pts = _points(split_points, "split_points").reshape(-1)
        return self._many(lib.sk_kll_pmf, pts, pts.size + 1, inclusive, "pmf()")

    def _extreme(self, fn, what: str) -> float:
        out = ffi.new("double *")
        rc = fn(self._p(), out)
        if rc:
            self._check(rc, what)
        return out[0]

    @property
    def min(self) -> float:
        """The smallest item seen (exact). EmptySketchError if empty."""
        return self._extreme(lib.sk_kll_min, "min")

    @property
    def max(self) -> float:
        """The largest item seen (exact). EmptySketchError if empty."""
        return self._extreme(lib.sk_kll_max, "max")

    @property
    def n(self) -> int:
        """The number of items seen (NaN excluded)."""
        out = ffi.new("uint64_t *")
        check(lib.sk_kll_n(self._p(), out))
        return int(out[0])

    @property
    def num_retained(self) -> int:
        out = ffi.new("uint32_t *")
        check(lib.sk_kll_num_retained(self._p(), out))
        return int(out[0])

    def is_empty(self) -> bool:
        return self.n == 0

    def is_estimation_mode(self) -> bool:
        """True once the sketch has compacted, i.e. answers are approximate."""
        out = ffi.new("bool *")
        check(lib.sk_kll_is_estimation_mode(self._p(), out))
        return bool(out[0])

    def normalized_rank_error(self, pmf: bool = False) -> float:
        """The rank error bound at 99% confidence: single-sided (ranks, quantiles, CDF),
        or double-sided for PMF buckets if ``pmf``."""
        out = ffi.new("double *")
        check(lib.sk_kll_normalized_rank_error(self._p(), bool(pmf), out))
        return out[0]

    def _params(self) -> tuple[int, int]:
        k, min_k = ffi.new("uint32_t *"), ffi.new("uint32_t *")
        check(lib.sk_kll_params(self._p(), k, min_k, ffi.NULL))
        return k[0], min_k[0]

    @property
    def k(self) -> int:
        return self._params()[0]

    @property
    def min_k(self) -> int:
        """The smallest k among the sketches merged into this one; sets the error."""
        return self._params()[1]

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    # ---- combining ----

    def merge(self, other: KllSketch) -> None:
        """Merges ``other`` into this sketch, in place, as DataSketches does: this
        sketch keeps its k. Sketches of different dtypes raise IncompatibleSketchError."""
        if not isinstance(other, KllSketch):
            raise TypeError(f"can only merge a KllSketch, not {type(other).__name__}")
        check(lib.sk_kll_merge(self._p(), other._p()))

    def __or__(self, other: KllSketch) -> KllSketch:
        if not isinstance(other, KllSketch):
            return NotImplemented
        out = self.copy()
        out.merge(other)
        return out

    def __ior__(self, other: KllSketch) -> KllSketch:
        if not isinstance(other, KllSketch):
            return NotImplemented
        self.merge(other)
        return self

    def copy(self) -> KllSketch:
        """An independent copy (with its own compaction coin flips)."""
        out = ffi.new("SkKll **")
        check(lib.sk_kll_copy(self._p(), out))
        return self._wrap_as(out, self._dtype)

    # ---- images ----

    def to_bytes(self) -> bytes:
        """The Apache DataSketches KLL image (as kll_doubles_sketch / kll_floats_sketch
        serialize). It does not record the dtype: pass it to ``from_bytes``."""
        out = ffi.new("SkBytes *")
        check(lib.sk_kll_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(
        cls, data: Union[bytes, bytearray, memoryview], dtype: Any = "float64"
    ) -> KllSketch:
        """Reads a KLL image written by sketchbox or any Apache DataSketches library:
        ``dtype="float64"`` for doubles sketches, ``"float32"`` for floats sketches
        (images do not record it). SketchFormatError (a ValueError) for bytes that are
        not a valid image."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes needs bytes, not {type(data).__name__}")
        d = _parse_dtype(dtype)
        out = ffi.new("SkKll **")
        buf = ffi.from_buffer(data)
        check(lib.sk_kll_deserialize(buf, len(buf), _TYPE_CODES[d], out))
        return cls._wrap_as(out, d)

    def __reduce__(self):
        # Pickles carry the image and the dtype only, never arbitrary objects.
        return (type(self).from_bytes, (self.to_bytes(), self._dtype.name))

    def to_dict(self) -> dict:
        """A JSON-able summary: k, min_k, n, item type, retained items, min, max,
        levels and error bounds (not an image)."""
        out = ffi.new("SkBytes *")
        check(lib.sk_kll_to_json(self._p(), out))
        return json.loads(take_bytes(out))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<KllSketch closed>"
        d = self.to_dict()
        head = f"<KllSketch k={d['k']} dtype={self._dtype.name} n={d['n']}"
        if d["n"] == 0:
            return head + ">"
        return f"{head} retained={d['num_retained']} min={d['min']!r} max={d['max']!r}>"
