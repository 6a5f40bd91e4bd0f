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
from typing import Any, Optional

import numpy as np

from . import _input
from ._base import (
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
from .errors import IncompatibleSketchError

DEFAULT_SEED = 9001


class CountMin(MergeableSketch):
    """Approximate weights of items (see the module docstring for the guarantee).

    >>> c = CountMin(num_hashes=3, num_buckets=2048)
    >>> c.update(["a", "b", "a"]); c.update("c", weights=5)
    >>> c.estimate("a"), c.estimate("c"), c.total_weight
    (2.0, 5.0, 8.0)

    ``update`` accepts what ``HyperLogLog.update`` accepts (ints as int64, floats as
    float64, str as UTF-8, bytes; NumPy, pandas, pyarrow; nulls and empty strings
    skipped) and optional ``weights``: one non-negative integer per item (a scalar for
    one item), at most 2**53: counters are doubles, as datasketches-python's, and hold
    every integer up to 2**53 exactly (a larger weight is an InvalidArgumentError and
    applies nothing). ``merge``/``|`` need the same ``num_hashes``, ``num_buckets`` and
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
            _input.feed(self._sink(p, _input.Weights(None)), values, progress)
        else:
            _input.feed_weighted(lambda w: self._sink(p, w), values, weights, progress)

    @staticmethod
    def _sink(p: Any, weights: _input.Weights) -> _input.Sink:
        return _input.weighted_sink(p, "countmin", weights)

    # ---- queries ----

    def _query(self, item: Any) -> tuple[float, float, float]:
        out = ffi.new("double[3]")
        p = self._p()

        # The item as updates take it (bools and datetimes as integers): one rule.
        def query(f: Any) -> Any:
            return lambda *item: check(f(p, *item, out, out + 1, out + 2))

        bulk = _input._ignore_bulk
        sink = _input.Sink(
            bulk,
            bulk,
            bulk,
            one_i64=query(lib.sk_countmin_query_i64),
            one_u64=lambda v: query(lib.sk_countmin_query_i64)(v - 2**64),
            one_f64=query(lib.sk_countmin_query_f64),
            one_bytes=lambda b: query(lib.sk_countmin_query_bytes)(b, len(b)),
        )
        if isinstance(item, (np.datetime64, np.timedelta64)) and np.isnat(item):
            raise ValueError("NaT is a missing value: it has no weight")
        if item is None or not _input.feed_scalar(sink, item):
            raise TypeError(f"an item is an int, float, str or bytes, not {type(item).__name__}")
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

    @classmethod
    def union(cls, items: Any, seed: Optional[int] = None) -> CountMin:
        """Merges many sketches or images (bytes, a pyarrow binary array, a NumPy object
        array or pandas Series of them; nulls skipped) into a new sketch, in one native
        call: the counters summed, as ``merge`` sums them. All need one shape and one
        seed; ``seed`` defaults to the sketches' (images store only a hash of it: 9001
        unless given). Another shape or seed raises IncompatibleSketchError, an invalid
        image SketchFormatError, each naming its index. No input at all gives an empty
        sketch of the default shape."""
        views, seq = _input.union_inputs(items)
        seeds = {s.seed for s in seq if isinstance(s, CountMin)}
        if seed is None:
            seed = min(seeds) if len(seeds) == 1 else DEFAULT_SEED
        seed = int_param("seed", seed, 0, 2**64 - 1)
        if seeds - {seed}:
            raise IncompatibleSketchError(
                f"cannot union Count-Min sketches of seeds {sorted(seeds | {seed})}"
            )
        ptrs, lens, n, keep = views or _input.image_views(seq, CountMin)
        if n == 0:
            return cls(seed=seed)
        out = cls._out()
        check(lib.sk_countmin_union_images(ptrs, lens, n, seed, out))
        del keep
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
