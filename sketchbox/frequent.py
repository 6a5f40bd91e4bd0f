"""Frequent items ("heavy hitters"): which values dominate a stream, and how often,
with Apache DataSketches-compatible images (the frequent-items sketch, family 10).

Guarantee: for every item ``x`` of true total weight ``f(x)``,
``lower_bound(x) <= f(x) <= upper_bound(x)``, deterministically, and
``upper_bound(x) - lower_bound(x) == maximum_error <= epsilon * total_weight`` with
``epsilon = 3.5 / 2**lg_max_map_size`` (0.34% of the total weight at the default
``lg_max_map_size=10``). While the stream has fewer than ``0.75 * 2**lg_max_map_size``
distinct items nothing is purged and every count is exact. ``top()`` with
``error_type="no_false_positives"`` returns only items whose lower bound exceeds the
threshold (all truly frequent); ``"no_false_negatives"`` every item whose upper bound
exceeds it (none truly frequent is missed). The threshold is at least
``maximum_error``. A merge keeps each input's error: a sketch merged from sketches of a
smaller ``lg_max_map_size`` has their (larger) epsilon as its bound, not its own.
"""

from __future__ import annotations

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
    take_bytes,
    update_progress,
)
from ._native import ffi, lib
from .errors import IncompatibleSketchError, InvalidArgumentError, SketchFormatError

Item = Union[int, float, str]
Row = tuple[Item, int, int, int]

_CODES: dict[str, int] = {
    "int64": lib.SK_FREQ_I64,
    "float64": lib.SK_FREQ_F64,
    "str": lib.SK_FREQ_STR,
}


def _code(dtype: str, spark: bool) -> int:
    """The native item type: int64 items in Spark's order are a type of their own."""
    return int(lib.SK_FREQ_JAVA_I64) if spark and dtype == "int64" else _CODES[dtype]


_ALIASES: dict[Any, str] = {int: "int64", float: "float64", str: "str", "string": "str"}
_INT_CODES = {int(c) for d, c in _input._DTYPE_CODES.items() if getattr(d, "kind", "") in "iub"}
_ERROR_TYPES = {"no_false_positives": False, "no_false_negatives": True}


def _parse_dtype(dtype: Any) -> str:
    name = _ALIASES.get(dtype, dtype)
    if isinstance(name, str) and name in _CODES:
        return name
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is not None and d.kind == "i" and d.itemsize == 8:
        return "int64"
    if d is not None and d.kind == "f" and d.itemsize == 8:
        return "float64"
    raise ValueError(f"dtype must be 'int64', 'float64' or 'str', got {dtype!r}")


class FrequentItems(MergeableSketch):
    """The heaviest items of a stream or column, with guaranteed bounds on each count.

    >>> f = FrequentItems(lg_max_map_size=10, dtype="str")
    >>> f.update(["a", "b", "a", "c", "a"]); f.top()[0]
    ('a', 3, 3, 3)

    ``dtype`` is the item type: ``"int64"`` (DataSketches' frequent longs sketch),
    ``"float64"`` or ``"str"`` (``frequent_strings_sketch``; UTF-8 text, empty strings
    included). ``lg_max_map_size`` (from 3 to 26) sets the size: at most ``0.75 *
    2**lg_max_map_size`` counters, and the error bound (see the module docstring:
    ``upper - lower == maximum_error <= 3.5 * total_weight / 2**lg_max_map_size``).

    ``update(values, weights=None)`` accepts a scalar, a list or iterable, a NumPy array,
    a pandas Series or a pyarrow array (nulls skipped). An int64 sketch takes integers
    (floats raise TypeError), a float64 sketch integers and floats, a str sketch
    strings (and UTF-8 bytes). ``weights`` are non-negative integers, one per item
    (nulls' included); a negative or float weight, or another number of weights, raises
    TypeError/ValueError. ``progress(done, total)`` is called every ~2 M items and once
    with ``done == total`` at the end; an exception it raises (or Ctrl-C) stops the
    update, leaving the sketch with a prefix of the input.

    How an update applies its items: one by one, in input order, until one would make
    the sketch purge (so a stream with fewer distinct items than counters gives exactly
    the counts, and the bytes, of datasketches-java's sketch fed it). From there on, spans
    of the input are combined at once, on every core: the counts of the span's items
    are added, and one purge subtracts the ``r``-th largest count from all, ``r`` being
    half the counters (the merge of Misra-Gries summaries). The result is another
    sketch of the same stream, with the same guarantee and a smaller error bound
    (``maximum_error <= 2.67 * total_weight / 2**lg_max_map_size`` when every purge was
    a combining one), several times faster than one purge per new item; it is not the
    bytes Java's sketch would hold.
    ``in_order=True`` applies every item one by one in input order instead, as
    datasketches-java does (byte for byte its sketch fed the same stream).

    Images (``to_bytes``) are DataSketches images, with items in datasketches-java's
    order; ``from_bytes(b, dtype)`` reads those of Java, C++, datasketches-python and
    Spark. One sketch may be used from several threads; each call is atomic.

    Spark SQL's top-k functions (``approx_top_k_accumulate``, ``approx_top_k_combine``,
    ``approx_top_k_estimate``) keep a state struct whose ``sketch`` field is this image
    followed by the number of nulls (8 bytes big-endian). ``from_bytes`` reads that field
    too (bigint columns as ``"int64"``, double as ``"float64"``, string as ``"str"``) and
    keeps the count as ``null_count``; ``to_bytes(spark=True)`` writes it back, and
    ``spark_top_k(k)`` answers as ``approx_top_k_estimate(state, k)`` does.

    Spark keeps bigint columns in datasketches-java's generic ``ItemsSketch<Long>``,
    which places items by ``Long.hashCode()`` where the frequent longs sketch places
    them by value. The counts of a stream agree until a purge; the order differs, and
    with it which of several items of equal count are listed first (and cut at ``k``),
    and the sample each purge takes its median from. ``spark=True`` makes an int64
    sketch keep Spark's order, so that it answers, purges and writes images exactly as
    Spark's does; ``from_bytes`` of a Spark state field chooses it by itself. (str and
    float64 sketches are in Java's generic order already.)
    """

    __slots__ = ("_dtype", "_nulls", "_spark")
    # in_order lives in the native sketch (copies keep it); pickles carry it.
    _family = "frequent"
    _handle_type = "SkFrequent"
    _dtype: str
    _spark: bool

    def __init__(
        self,
        lg_max_map_size: int = 10,
        dtype: Any = "int64",
        spark: bool = False,
        in_order: bool = False,
    ) -> None:
        lg = int_param("lg_max_map_size", lg_max_map_size, 3, 26)
        d = _parse_dtype(dtype)
        out = self._out()
        check(lib.sk_frequent_new(lg, _code(d, bool(spark)), out))
        super().__init__(out[0], buffered=d != "str")
        self._dtype = d
        self._nulls = 0
        self._spark = bool(spark) and d == "int64"
        if in_order:
            self.in_order = True

    @classmethod
    def _wrap_as(cls, out: Any, dtype: str, nulls: int = 0, spark: bool = False) -> FrequentItems:
        obj = cls._wrap(out, buffered=dtype != "str")
        obj._dtype = dtype
        obj._nulls = nulls
        obj._spark = spark and dtype == "int64"
        return obj

    def _like(self, out: Any) -> FrequentItems:
        return self._wrap_as(out, self._dtype, self._nulls, self._spark)

    @property
    def dtype(self) -> str:
        """The items' type: "int64", "float64" or "str"."""
        return self._dtype

    @property
    def spark(self) -> bool:
        """Whether int64 items are kept in Spark's order (``ItemsSketch<Long>``, by
        ``Long.hashCode()``) rather than the frequent longs sketch's; see the class."""
        return self._spark

    @property
    def in_order(self) -> bool:
        """Whether updates apply every item one by one in input order, as
        datasketches-java does, rather than combine spans of the input (see the class).
        Settable; copies and pickles keep it, images do not record it."""
        flag = ffi.new("bool *")
        check(lib.sk_frequent_in_order(self._p(), flag))
        return bool(flag[0])

    @in_order.setter
    def in_order(self, value: bool) -> None:
        check(lib.sk_frequent_set_in_order(self._p(), bool(value)))

    # ---- updates ----

    def update(self, values: Any, weights: Any = None, progress: Progress = None) -> None:  # type: ignore[override]
        """Adds items, each of weight 1 or its entry of ``weights`` (see the class)."""
        if weights is None:
            t = type(values)
            if t is int or t is float:
                self._check_number(values)
            elif isinstance(values, (list, tuple)):
                self._check_list(values)
            super().update(values, progress)
            return
        report, values = update_progress(progress, values)
        p = self._p()
        _input.feed_weighted(
            lambda w: self._sink(p, w), values, weights, report, check_list=self._check_list
        )
        if report is not None:
            report.finish()

    def _check_number(self, v: Union[int, float]) -> None:
        if self._dtype == "str":
            raise TypeError(f"a str FrequentItems takes strings, not {type(v).__name__}")
        if self._dtype == "int64":
            if type(v) is float:
                raise TypeError(
                    "an int64 FrequentItems takes integers, not float: use dtype='float64'"
                )
            if not INT64_MIN <= v <= INT64_MAX:
                raise OverflowError(f"integer {v} is outside the int64 range of this sketch")

    def _check_list(self, values: Any) -> None:
        """Every item of a list is of the sketch's kind, and fits it (checked before any
        is applied, so that a bad item leaves the sketch as it was)."""
        types = set(map(type, values)) - _input.null_types()
        if self._dtype == "str":
            bad = [t for t in types if not issubclass(t, (str, bytes))]
        elif self._dtype == "int64":
            bad = [t for t in types if not issubclass(t, (int, np.integer))]
        else:
            bad = [t for t in types if not issubclass(t, (int, float, np.integer, np.floating))]
        if bad:
            raise TypeError(
                f"this {self._dtype} FrequentItems cannot take items of type {bad[0].__name__}"
            )
        if self._dtype == "int64" and int in types:
            ints = values if types == {int} else [v for v in values if type(v) is int]
            for v in (min(ints), max(ints)):
                self._check_number(v)
        if self._dtype == "str" and not types <= {str}:
            for i, v in enumerate(values):
                if isinstance(v, bytes):
                    try:
                        v.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise InvalidArgumentError(f"item {i} is not UTF-8: {e}") from None

    def _runs(self, items: list[Union[int, float]]) -> Any:
        # Buffered items were checked by update(): one array of the sketch's type.
        yield np.asarray(items, dtype=np.int64 if self._dtype == "int64" else np.float64)

    def _feed(self, p: Any, values: Any, progress: Progress = None) -> None:
        _input.feed(self._sink(p, None), values, progress)

    def _sink(self, p: Any, weights: Optional[_input.Weights]) -> _input.Sink:
        """The native update functions bound to handle ``p``, taking ``weights`` in order
        (all 1 without), each refusing items of another kind than the sketch's."""
        dtype = self._dtype
        base = _input.weighted_sink(p, "frequent", weights or _input.Weights(None), "one_str")

        def wrong(what: str) -> TypeError:
            hint = " (use dtype='float64')" if what == "floats" and dtype == "int64" else ""
            return TypeError(f"this {dtype} FrequentItems cannot take {what}{hint}")

        def numeric(data: Any, n: int, code: int, cb: Any, user: Any) -> int:
            if dtype == "str":
                raise wrong("numbers")
            if dtype == "int64" and code not in _INT_CODES:
                raise wrong("floats")
            return base.numeric(data, n, code, cb, user)

        def only_str(f: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                if dtype != "str":
                    raise wrong("strings")
                return f(*args)

            return call

        def one_i64(v: int) -> None:
            if dtype == "str":
                raise wrong("numbers")
            base.one_i64(v)

        def one_u64(v: int) -> None:
            if dtype == "int64":
                raise OverflowError(f"integer {v} is outside the int64 range of this sketch")
            if dtype == "str":
                raise wrong("numbers")
            base.one_f64(float(v))

        def one_f64(v: float) -> None:
            if dtype != "float64":
                raise wrong("floats")
            base.one_f64(v)

        return _input.Sink(
            numeric=numeric,
            strings=only_str(base.strings),
            fixed=only_str(base.fixed),
            one_i64=one_i64,
            one_u64=one_u64,
            one_f64=one_f64,
            one_bytes=only_str(base.one_bytes),
            delimited=None if base.delimited is None else only_str(base.delimited),
        )

    # ---- queries ----

    def _bounds(self, item: Any) -> tuple[int, int, int]:
        est, lo, hi = ffi.new("uint64_t *"), ffi.new("uint64_t *"), ffi.new("uint64_t *")
        p = self._p()
        if self._dtype == "str":
            if not isinstance(item, str):
                raise TypeError(f"a str FrequentItems is queried with a str, not {item!r}")
            b = _input._str_bytes(item)
            check(lib.sk_frequent_estimate_str(p, b, len(b), est, lo, hi))
        elif self._dtype == "int64":
            if isinstance(item, (np.datetime64, np.timedelta64)):  # their ticks, as in updates
                if np.isnat(item):
                    raise ValueError("NaT is a missing value: it has no weight")
                item = int(item.astype(np.int64))
            # bools are the integers 0 and 1 here, as in updates
            if not isinstance(item, (int, np.integer, np.bool_)):
                raise TypeError(f"an int64 FrequentItems is queried with an int, not {item!r}")
            v = int(item)
            if not INT64_MIN <= v <= INT64_MAX:
                raise OverflowError(f"integer {v} is outside the int64 range of this sketch")
            check(lib.sk_frequent_estimate_i64(p, v, est, lo, hi))
        else:
            if not isinstance(item, (int, float, np.integer, np.floating)):
                raise TypeError(f"a float64 FrequentItems is queried with a number, not {item!r}")
            check(lib.sk_frequent_estimate_f64(p, float(item), est, lo, hi))
        return int(est[0]), int(lo[0]), int(hi[0])

    def estimate(self, item: Item) -> int:
        """The estimated total weight of ``item`` (0 if it has no counter)."""
        return self._bounds(item)[0]

    def lower_bound(self, item: Item) -> int:
        """A guaranteed lower bound of ``item``'s total weight."""
        return self._bounds(item)[1]

    def upper_bound(self, item: Item) -> int:
        """A guaranteed upper bound of ``item``'s total weight."""
        return self._bounds(item)[2]

    def top(
        self,
        k: Optional[int] = None,
        error_type: str = "no_false_positives",
        threshold: Optional[int] = None,
    ) -> list[Row]:
        """The frequent items as ``(item, estimate, lower_bound, upper_bound)`` rows,
        heaviest estimate first, at most ``k`` of them: with ``"no_false_positives"`` the
        items whose lower bound exceeds ``max(threshold, maximum_error)``, with
        ``"no_false_negatives"`` those whose upper bound does."""
        if error_type not in _ERROR_TYPES:
            raise ValueError(
                f"error_type must be 'no_false_positives' or 'no_false_negatives', "
                f"got {error_type!r}"
            )
        if k is not None:
            k = int_param("k", k, 0, INT64_MAX)
        t = 0 if threshold is None else int_param("threshold", threshold, 0, INT64_MAX)
        out = ffi.new("SkBytes *")
        check(lib.sk_frequent_top(self._p(), _ERROR_TYPES[error_type], t, out))
        raw = take_bytes(out)
        n = int.from_bytes(raw[:8], "little")
        cols = np.frombuffer(raw, dtype="<u8", count=3 * n, offset=8).reshape(3, n).tolist()
        at = 8 + 24 * n
        items: list[Any]
        if self._dtype == "int64":
            items = np.frombuffer(raw, dtype="<i8", count=n, offset=at).tolist()
        elif self._dtype == "float64":
            items = np.frombuffer(raw, dtype="<f8", count=n, offset=at).tolist()
        else:
            ends = np.frombuffer(raw, dtype="<u8", count=n + 1, offset=at).tolist()
            text = raw[at + 8 * (n + 1) :]
            items = [text[a:b].decode("utf-8") for a, b in zip(ends, ends[1:])]
        rows = list(zip(items, *cols))
        return rows if k is None else rows[:k]

    def _stats(self) -> Any:
        out = ffi.new("SkFrequentStats *")
        check(lib.sk_frequent_stats(self._p(), out))
        return out

    @property
    def total_weight(self) -> int:
        """The sum of all weights."""
        return int(self._stats().total_weight)

    @property
    def num_active_items(self) -> int:
        """Items with a counter (at most ``0.75 * 2**lg_max_map_size``)."""
        return int(self._stats().num_active_items)

    def __len__(self) -> int:
        return self.num_active_items

    @property
    def maximum_error(self) -> int:
        """``upper_bound(x) - lower_bound(x)`` for every item x."""
        return int(self._stats().maximum_error)

    @property
    def epsilon(self) -> float:
        """``3.5 / 2**lg_max_map_size``: ``maximum_error <= epsilon * total_weight`` for a
        sketch built by updates and merges of sketches at least as large (a smaller
        input brings its larger error along)."""
        return float(self._stats().epsilon)

    @property
    def lg_max_map_size(self) -> int:
        """log2 of the largest hash map, which sets the accuracy:
        ``epsilon = 3.5 / 2**lg_max_map_size``."""
        return int(self._stats().lg_max_map_size)

    @property
    def lg_cur_map_size(self) -> int:
        """log2 of the current size of the hash map, which grows up to lg_max_map_size."""
        return int(self._stats().lg_cur_map_size)

    def is_empty(self) -> bool:
        """True before any weight was applied."""
        return self.total_weight == 0

    @property
    def null_count(self) -> int:
        """Nulls counted by Spark's top-k aggregates, read from their ``sketch`` field
        (0 for a DataSketches image or a sketch built here; ``update`` skips nulls).
        Merges add them up."""
        return self._nulls

    def merge(self, other: FrequentItems) -> None:
        """Merges ``other`` into this sketch, in place (null counts add up)."""
        super().merge(other)
        self._nulls += other._nulls

    def spark_top_k(self, k: int = 5) -> list[tuple[Optional[Item], int]]:
        """What Spark SQL's ``approx_top_k_estimate(state, k)`` returns for this sketch's
        state (``to_bytes(spark=True)``): ``(item, count)`` pairs, the
        ``"no_false_positives"`` items by estimate, with the nulls (``None``,
        ``null_count``) placed before the first item whose estimate is not below the
        null count, at most ``k`` pairs. Spark answers from the state as it reads it
        back, in its own order, and so does this (an int64 sketch in the longs order
        can list other items of a tied count than ``top()``)."""
        k = int_param("k", k, 1, INT64_MAX)
        state = FrequentItems.from_bytes(self.to_bytes(), self._dtype, spark=True)
        rows = [(item, est) for item, est, _, _ in state.top()]
        nulls = self._nulls
        out: list[tuple[Optional[Item], int]] = []
        placed = nulls == 0
        for item, est in rows:
            if len(out) == k:
                break
            if not placed and nulls > est:
                out.append((None, nulls))
                placed = True
                if len(out) == k:
                    break
            out.append((item, est))
        if not placed and len(out) < k:
            out.append((None, nulls))
        return out

    # ---- images ----

    def to_bytes(self, spark: bool = False) -> bytes:
        """The DataSketches frequent-items image (items in datasketches-java's order).
        It does not record the dtype: pass it to ``from_bytes``. With ``spark=True``, the
        ``sketch`` field of Spark SQL's top-k state instead: the image, then
        ``null_count`` as 8 bytes big-endian."""
        out = ffi.new("SkBytes *")
        if spark:
            check(lib.sk_frequent_serialize_spark_top_k(self._p(), self._nulls, out))
        else:
            check(lib.sk_frequent_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(
        cls, data: BytesLike, dtype: Any = "int64", spark: Optional[bool] = None
    ) -> FrequentItems:
        """Reads a frequent-items image of sketchbox or any DataSketches library:
        ``dtype="int64"`` for longs sketches, ``"str"`` for strings sketches,
        ``"float64"`` for doubles; or the ``sketch`` field of Spark SQL's top-k state
        (the image and a null count, see the class). SketchFormatError (a ValueError)
        for bytes that are neither. An int64 sketch read from a Spark state keeps
        Spark's order, one read from a plain image the longs sketch's, unless ``spark``
        says otherwise."""
        buf = image_buffer(data)
        d = _parse_dtype(dtype)
        out = cls._out()
        try:
            check(lib.sk_frequent_deserialize(buf, len(buf), _code(d, bool(spark)), out))
        except SketchFormatError:
            # A valid image never is one followed by 8 more bytes, so at most one reads.
            in_spark_order = spark is None or spark
            nulls = ffi.new("uint64_t *")
            field = lib.sk_frequent_deserialize_spark_top_k(
                buf, len(buf), _code(d, in_spark_order), out, nulls
            )
            if field != 0:
                raise
            return cls._wrap_as(out, d, int(nulls[0]), in_spark_order)
        return cls._wrap_as(out, d, 0, bool(spark))

    def _image_args(self) -> tuple[object, ...]:
        return (self._dtype, self._spark)

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # With nulls from Spark, the pickle carries Spark's field, which keeps them.
        return (
            _unpickle,
            (self.to_bytes(spark=self._nulls > 0), self._dtype, self._spark, self.in_order),
        )

    @classmethod
    def union(
        cls,
        items: Any,
        lg_max_map_size: Optional[int] = None,
        dtype: Any = None,
        spark: Optional[bool] = None,
    ) -> FrequentItems:
        """Merges many sketches or images (bytes, a pyarrow binary array, a NumPy object
        array of bytes) into a new sketch, in one native call. ``lg_max_map_size``
        defaults to the largest of the inputs'; ``dtype`` to the sketches' (images do not
        record it: ``"int64"`` unless given); ``spark`` (the order of int64 items, see
        the class) to True if any input sketch keeps Spark's order. Sketches of another
        dtype raise IncompatibleSketchError, invalid images SketchFormatError."""
        lg = 0 if lg_max_map_size is None else int_param("lg_max_map_size", lg_max_map_size, 3, 26)
        views, seq = _input.union_inputs(items)
        sketches = [s for s in seq if isinstance(s, FrequentItems)]
        kinds = {s._dtype for s in sketches}
        d = (
            _parse_dtype(dtype)
            if dtype is not None
            else (sketches[0]._dtype if sketches else "int64")
        )
        if kinds - {d}:
            raise IncompatibleSketchError(
                f"cannot union FrequentItems of dtypes {sorted(kinds | {d})}"
            )
        nulls = sum(s._nulls for s in sketches)
        if spark is None:
            spark = any(s._spark for s in sketches)
        ptrs, lens, n, keep = views or _input.image_views(seq, FrequentItems)
        out = cls._out()
        check(lib.sk_frequent_union_images(ptrs, lens, n, _code(d, spark), lg, out))
        del keep
        return cls._wrap_as(out, d, nulls, spark)

    def _describe(self, d: dict[str, Any]) -> str:
        return (
            f"dtype={self._dtype}{' (Spark order)' if self._spark else ''} "
            f"lg_max_map_size={d['lg_max_map_size']} "
            f"total_weight={d['total_weight']} active={d['num_active_items']} "
            f"maximum_error={d['maximum_error']}"
        )


def _unpickle(data: bytes, dtype: str, spark: bool, in_order: bool) -> FrequentItems:
    f = FrequentItems.from_bytes(data, dtype, spark)
    if in_order:
        f.in_order = True
    return f
