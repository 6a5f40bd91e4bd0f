"""Count-Min: approximate weights (frequencies) of items, with datasketches-python's images.

A Count-Min sketch keeps ``num_hashes`` rows of ``num_buckets`` counters; an item adds
its weight to one counter per row and its estimate is the smallest of them. For an item
of true weight ``f``:

* ``estimate >= f``, always (``lower_bound`` is the estimate);
* ``estimate <= f + relative_error * total_weight`` with probability ``confidence``,
  where ``relative_error = e / num_buckets`` and ``num_hashes = ceil(ln(1 / (1 -
  confidence)))``: ``CountMin.suggest(relative_error, confidence)`` gives the shape.
  ``upper_bound`` is that bound.

Images (``to_bytes``) are byte for byte those of datasketches-python's
``count_min_sketch`` (family 18) for the same updates, and each side reads the other's.
The rows' hash seeds are drawn from ``seed`` as datasketches-cpp draws them with GNU
libstdc++'s ``std::default_random_engine`` (the Linux wheels of datasketches-python);
a C++ build on another standard library (libc++, MSVC) draws other row seeds, and
DataSketches Java seeds its rows from ``java.util.Random``, reduces hashes with
``floorMod`` and stores integer counters, so images do not cross with Java (nor with
those builds), though the header layout is shared. Images do not store the seed, only
a 16-bit hash of it: ``from_bytes`` needs it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _input
from ._base import (
    INT64_MAX,
    INT64_MIN,
    UINT64_MAX,
    BytesLike,
    MergeableSketch,
    Progress,
    check,
    image_buffer,
    int_param,
    take_bytes,
    update_progress,
)
from ._native import ffi, lib

DEFAULT_SEED = 9001


def _scalar_weight(weight: Any) -> int:
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (numbers.Integral,)):
        raise TypeError(f"weights must be non-negative integers, not {type(weight).__name__}")
    w = int(weight)
    if not 0 <= w <= UINT64_MAX:
        raise ValueError(f"weights must be non-negative integers below 2**64, got {w}")
    return w


class CountMin(MergeableSketch):
    """Approximate weights of items (see the module docstring for the guarantee).

    >>> c = CountMin(num_hashes=3, num_buckets=2048)
    >>> c.update(["a", "b", "a"]); c.update("c", weights=5)
    >>> c.estimate("a"), c.estimate("c"), c.total_weight
    (2.0, 5.0, 8.0)

    ``update`` accepts what ``HyperLogLog.update`` accepts (ints as int64, floats as
    float64, str as UTF-8, bytes; NumPy, pandas, pyarrow; nulls and empty strings
    skipped) and optional ``weights``: one non-negative integer per item (a scalar for
    one item). ``merge``/``|`` need the same ``num_hashes``, ``num_buckets`` and
    ``seed``. One sketch may be used from several threads; each call is atomic.
    """

    __slots__ = ()
    _family = "countmin"
    _handle_type = "SkCountMin"

    def __init__(
        self, num_hashes: int = 3, num_buckets: int = 2048, seed: int = DEFAULT_SEED
    ) -> None:
        num_hashes = int_param("num_hashes", num_hashes, 1, 255)
        num_buckets = int_param("num_buckets", num_buckets, 3, 2**32 - 1)
        seed = int_param("seed", seed, 0, 2**64 - 1)
        out = self._out()
        check(lib.sk_countmin_new(num_hashes, num_buckets, seed, out))
        super().__init__(out[0], buffered=False)

    @staticmethod
    def suggest(relative_error: float = 0.001, confidence: float = 0.99) -> tuple[int, int]:
        """``(num_hashes, num_buckets)`` for an error of at most ``relative_error *
        total_weight`` with probability ``confidence``."""
        for name, v in (("relative_error", relative_error), ("confidence", confidence)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} must be a float, not {type(v).__name__}")
        h, b = ffi.new("uint8_t *"), ffi.new("uint32_t *")
        check(lib.sk_countmin_suggest_num_hashes(float(confidence), h))
        check(lib.sk_countmin_suggest_num_buckets(float(relative_error), b))
        return int(h[0]), int(b[0])

    # ---- updates ----

    def update(  # type: ignore[override]  # weights come before progress, as in FrequentItems
        self, values: Any, weights: Any = None, progress: Progress = None
    ) -> None:
        """Adds items (one or many), each with weight 1 or its ``weights`` entry: a
        non-negative integer per item (nulls and empty strings skip theirs)."""
        report, values = update_progress(progress, values)
        self._update(self._p(), values, weights, report)
        if report is not None:
            report.finish()

    def _update(self, p: Any, values: Any, weights: Any, progress: Progress) -> None:
        if weights is None:
            _input.feed(self._sink(p, ffi.NULL), values, progress)
            return
        if values is None:
            raise TypeError("cannot update a sketch with None")
        if _input.feed_scalar(_input._CHECK_ONLY, values):
            self._one(p, values, _scalar_weight(weights))
            return
        origin = _input._origin(values)
        if origin == "pandas":
            keep = values.notna().to_numpy()
            w = _input.weight_array(weights, len(values))[keep]
            values = values[keep].to_numpy()
        elif origin == "pyarrow":
            values, w = self._arrow(values, weights)
            if not isinstance(values, np.ndarray):
                width = 8 if "large" in str(values.type) else 4
                sink = self._sink(p, ffi.from_buffer("uint64_t[]", w))
                _input._feed_arrow_strings(sink, values, width, progress)
                return
        elif isinstance(values, np.ndarray):
            w = _input.weight_array(weights, values.size)
        else:
            if isinstance(values, dict) or not hasattr(values, "__iter__"):
                raise TypeError(f"cannot update a sketch with {type(values).__name__}")
            values = values if isinstance(values, (list, tuple)) else list(values)
            w = _input.weight_array(weights, len(values))
        if isinstance(values, np.ndarray) and values.dtype.kind in "iufbUS":
            _input._feed_ndarray(self._sink(p, ffi.from_buffer("uint64_t[]", w)), values, progress)
            return
        items = values.reshape(-1).tolist() if isinstance(values, np.ndarray) else values
        for v, wi in zip(items, w.tolist()):
            if v is not None:
                self._one(p, v, wi)

    def _arrow(self, values: Any, weights: Any) -> tuple[Any, np.ndarray]:
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        w = _input.weight_array(weights, len(values))
        t = values.type
        if (
            pa.types.is_string(t)
            or pa.types.is_binary(t)
            or pa.types.is_large_string(t)
            or pa.types.is_large_binary(t)
        ):
            return values, w  # nulls skipped in place through the validity bitmap
        if values.null_count:
            keep = values.is_valid().to_numpy(zero_copy_only=False)
            values, w = values.drop_null(), w[keep]
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            return values.to_numpy(zero_copy_only=False), w
        raise TypeError(
            f"cannot update a Count-Min sketch with weights and a pyarrow array of type {t}"
        )

    def _one(self, p: Any, v: Any, w: int) -> None:
        sink = _input.Sink(
            _input._ignore_bulk,
            _input._ignore_bulk,
            _input._ignore_bulk,
            one_i64=lambda x: check(lib.sk_countmin_update_one_i64(p, x, w)),
            one_u64=lambda x: check(lib.sk_countmin_update_one_u64(p, x, w)),
            one_f64=lambda x: check(lib.sk_countmin_update_one_f64(p, x, w)),
            one_bytes=lambda b: check(lib.sk_countmin_update_one_bytes(p, b, len(b), w)),
        )
        if not _input.feed_scalar(sink, v):
            raise TypeError(f"cannot update a Count-Min sketch with {type(v).__name__}")

    @staticmethod
    def _sink(p: Any, weights: Any) -> _input.Sink:
        return _input.Sink(
            numeric=lambda *a: lib.sk_countmin_update_numeric(p, *a[:3], weights, *a[3:]),
            strings=lambda *a: lib.sk_countmin_update_strings(p, *a[:7], weights, *a[7:]),
            fixed=lambda *a: lib.sk_countmin_update_fixed(p, *a[:4], weights, *a[4:]),
            one_i64=lambda x: check(lib.sk_countmin_update_one_i64(p, x, 1)),
            one_u64=lambda x: check(lib.sk_countmin_update_one_u64(p, x, 1)),
            one_f64=lambda x: check(lib.sk_countmin_update_one_f64(p, x, 1)),
            one_bytes=lambda b: check(lib.sk_countmin_update_one_bytes(p, b, len(b), 1)),
            delimited=lambda *a: lib.sk_countmin_update_delimited(p, *a[:3], weights, *a[3:]),
        )

    # ---- queries ----

    def _query(self, item: Any) -> tuple[float, float, float]:
        out = ffi.new("double[3]")
        p = self._p()
        t = type(item)
        if isinstance(item, (bool, np.bool_)):
            item = int(item)
            t = int
        if isinstance(item, numbers.Integral):
            v = int(item)
            if INT64_MIN <= v <= INT64_MAX:
                check(lib.sk_countmin_query_i64(p, v, out, out + 1, out + 2))
            elif v <= UINT64_MAX:
                check(lib.sk_countmin_query_i64(p, v - 2**64, out, out + 1, out + 2))
            else:
                raise OverflowError(f"integer {v} is outside [-2**63, 2**64)")
        elif isinstance(item, numbers.Real):
            check(lib.sk_countmin_query_f64(p, float(item), out, out + 1, out + 2))
        elif isinstance(item, (str, bytes, bytearray, memoryview)):
            b = _input._str_bytes(item) if isinstance(item, str) else bytes(item)
            check(lib.sk_countmin_query_bytes(p, b, len(b), out, out + 1, out + 2))
        else:
            raise TypeError(f"an item is an int, float, str or bytes, not {t.__name__}")
        return out[0], out[1], out[2]

    def estimate(self, item: Any) -> float:
        """The estimated weight of ``item``: never below its true weight."""
        return self._query(item)[0]

    def lower_bound(self, item: Any) -> float:
        """A lower bound of ``item``'s weight (the estimate, as in DataSketches)."""
        return self._query(item)[1]

    def upper_bound(self, item: Any) -> float:
        """``estimate + relative_error * total_weight``: above the true weight with the
        sketch's confidence."""
        return self._query(item)[2]

    @property
    def total_weight(self) -> float:
        """The sum of all weights applied (merges included)."""
        return float(self._get("total_weight", "double"))

    @property
    def relative_error(self) -> float:
        """The bound of an estimate's excess as a fraction of ``total_weight``: e / num_buckets."""
        return float(self._get("relative_error", "double"))

    def _params(self) -> tuple[int, int, int]:
        h, b, s = ffi.new("uint8_t *"), ffi.new("uint32_t *"), ffi.new("uint64_t *")
        check(lib.sk_countmin_params(self._p(), h, b, s))
        return int(h[0]), int(b[0]), int(s[0])

    @property
    def num_hashes(self) -> int:
        """Rows of counters, one hash function each: more rows, a higher confidence."""
        return self._params()[0]

    @property
    def num_buckets(self) -> int:
        """Counters per row (the width): more buckets, a smaller relative error."""
        return self._params()[1]

    @property
    def seed(self) -> int:
        """The seed the row hashes are drawn from; only sketches of one seed merge."""
        return self._params()[2]

    # ---- images ----

    def to_bytes(self) -> bytes:
        """The datasketches-python ``count_min_sketch`` image."""
        out = ffi.new("SkBytes *")
        check(lib.sk_countmin_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: BytesLike, seed: int = DEFAULT_SEED) -> CountMin:
        """Reads an image written (by sketchbox or datasketches-python) with ``seed``.
        SketchFormatError for bytes that are not one, IncompatibleSketchError for an
        image of another seed (both ValueErrors)."""
        buf = image_buffer(data)
        seed = int_param("seed", seed, 0, 2**64 - 1)
        out = cls._out()
        check(lib.sk_countmin_deserialize(buf, len(buf), seed, out))
        return cls._wrap(out, buffered=False)

    def _image_args(self) -> tuple[object, ...]:
        return (self.seed,)

    def _like(self, out: Any) -> CountMin:
        return self._wrap(out, buffered=False)

    def _describe(self, d: dict[str, Any]) -> str:
        return (
            f"num_hashes={d['num_hashes']} num_buckets={d['num_buckets']} "
            f"total_weight={d['total_weight']:g}"
        )


__all__ = ["CountMin"]
