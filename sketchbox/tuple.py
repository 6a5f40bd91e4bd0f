"""Tuple sketches: distinct counts of keys with a value summary per key, Spark SQL's
``tuple_sketch_*`` images (Apache DataSketches Java's ``DoubleSummary`` and
``IntegerSummary`` tuple sketches).

A tuple sketch is a Theta sketch whose retained keys each carry a summary of their
values: their sum, minimum, maximum, or always 1 (``mode``). Keys hash exactly as
``ThetaSketch`` items, so the distinct-count answers (``estimate``, ``lower_bound``,
``upper_bound``, ``theta``) and their accuracy are Theta's: with ``k = 2**lg_k`` the
relative standard error is about ``1 / sqrt(k)`` (1.6% at the default ``lg_k=12`` at one
standard deviation, 3.1% at two), and the sketch is exact until about ``k`` distinct
keys. ``summary()`` is Spark's ``tuple_sketch_summary_*``: an aggregate of the *retained*
keys' summaries, not scaled by theta, so in estimation mode it covers a sample of the
keys (divide a sum by ``theta`` to estimate the total).

``to_bytes()`` writes the bytes Spark's ``tuple_sketch_agg_double`` / ``_integer`` write
for the same rows in one partition, and ``from_bytes`` reads Spark's images; ``|``,
``&`` and ``-`` are Spark's ``tuple_union_*``, ``tuple_intersection_*`` and
``tuple_difference_*``, also with a ``ThetaSketch`` on the right (the ``_theta_`` forms).
A new sketch is an *update* sketch; set-operation results and sketches read from bytes
are *compact* (updating one raises ``ReadOnlySketchError``). Tuple images are compact
only (Java and Spark have no updatable form): a pickled update sketch travels as its
image and ``lg_k`` and comes back an update sketch holding the same entries, which
answers alike and takes further updates (its image may list entries in another order).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional, Union

import numpy as np

from . import _input
from ._base import (
    BytesLike,
    Progress,
    check,
    image_buffer,
    int_param,
    take_bytes,
    update_progress,
)
from ._hashing import CompactableSketch
from ._native import ffi, lib
from .theta import ThetaSketch

DEFAULT_SEED = 9001
SUMMARIES = {"double": lib.SK_TUPLE_DOUBLE, "integer": lib.SK_TUPLE_INTEGER}
MODES = {
    "sum": lib.SK_TUPLE_SUM,
    "min": lib.SK_TUPLE_MIN,
    "max": lib.SK_TUPLE_MAX,
    "alwaysone": lib.SK_TUPLE_ALWAYSONE,
}
_MODE_NAMES = {code: name for name, code in MODES.items()}
_SUMMARY_NAMES = {code: name for name, code in SUMMARIES.items()}
Operand = Union["TupleSketch", ThetaSketch, BytesLike]


def _choice(name: str, value: object, choices: dict[str, int]) -> int:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    code = choices.get(value.lower())
    if code is None:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return code


def _seed(seed: object) -> int:
    return int_param("seed", seed, 0, 2**64 - 1)


def _values(values: Any, n: int, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (one per key) as ``n`` int32 or float64, and the mask of the non-null
    ones (None, pandas NA or NaN, Arrow nulls are null; a null value's slot holds 0)."""
    what = "an integer tuple sketch takes integer values" if integer else "values must be numbers"
    origin = _input._origin(values)
    if origin == "pandas":
        valid = np.asarray(values.notna(), dtype=bool)
        present = np.asarray(values[valid].to_numpy())
    elif origin == "pyarrow":
        valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        present = np.asarray(values.drop_null().to_numpy(zero_copy_only=False))
    elif values is None or isinstance(values, (str, bytes, bytearray, dict)):
        raise TypeError(f"{what}, not {type(values).__name__}")
    else:
        arr = np.asarray(
            values if _input.is_scalar(values) or isinstance(values, np.ndarray) else [*values]
        ).reshape(-1)
        valid = np.ones(arr.size, dtype=bool)
        if arr.dtype.kind == "O":
            valid = np.fromiter((not _input.is_null(v) for v in arr), bool, count=arr.size)
        present = arr[valid]
    if len(valid) != n:
        raise ValueError(f"{n} keys need {n} values (one per key), got {len(valid)}")
    if present.dtype.kind == "O":
        items = present.tolist()
        bad = [v for v in items if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise TypeError(f"{what}, not {type(bad[0]).__name__}")
        present = np.asarray(items)
    out = np.zeros(n, dtype=np.int32 if integer else np.float64)
    if present.size == 0:
        return out, valid
    kind = present.dtype.kind
    if integer and kind not in "iu":
        raise TypeError(f"{what}, not {present.dtype}")
    if kind not in "iuf" or present.dtype.itemsize > 8:
        raise TypeError(f"{what}, not {present.dtype}")
    if integer and (present.min() < -(2**31) or present.max() > 2**31 - 1):
        raise ValueError("integer tuple sketch values must fit in int32")
    if kind == "f" and np.isnan(present).any():
        raise ValueError(
            "a value is NaN: a NaN makes a sum NaN and is ignored by min and max "
            "(drop the pair or fill the value)"
        )
    out[valid] = present
    return out, valid


def _select(keys: Any, mask: np.ndarray) -> Any:
    """The keys where ``mask`` is true, in the keys' own container."""
    if _input._origin(keys) == "pyarrow":
        import pyarrow as pa  # the keys are pyarrow's, so pyarrow is installed

        return keys.filter(pa.array(mask))
    if isinstance(keys, np.ndarray):
        return keys.reshape(-1)[mask]
    if _input._origin(keys) == "pandas":
        return keys[mask]
    return [k for k, m in zip(keys, mask.tolist()) if m]


def _is_nat(k: object) -> bool:
    return isinstance(k, (np.datetime64, np.timedelta64)) and bool(np.isnat(k))


class TupleSketch(CompactableSketch):
    """Estimates the number of distinct keys, and summarises the values of the keys it
    retains (see the module docstring for the accuracy).

    >>> t = TupleSketch(lg_k=12, summary="double", mode="sum")
    >>> t.update(["a", "b", "a"], [1.0, 2.0, 3.5])
    >>> t.estimate(), t.summary(), t.summary("max")
    (2.0, 6.5, 4.5)

    ``summary`` is ``"double"`` (float64 values) or ``"integer"`` (int32 values, a sum
    wrapping as Java's int); ``mode`` (``"sum"``, ``"min"``, ``"max"``, ``"alwaysone"``)
    is how a key's values combine; ``lg_k`` (4..26) is Spark's ``lgNomEntries``; ``seed``
    the hash seed (Java and Spark use 9001 only). ``update(keys, values)`` takes keys as
    ``ThetaSketch.update`` takes items (scalars, sequences, NumPy, pandas, pyarrow;
    strings as UTF-8) and one value per key. A pair whose key or value is null is
    skipped, as Spark skips it. One sketch may be used from several threads; each call
    is atomic.
    """

    __slots__ = ()
    _family = "tuple"
    _handle_type = "SkTuple"
    _buffers_scalars = False  # every update carries values

    def __init__(
        self, lg_k: int = 12, summary: str = "double", mode: str = "sum", seed: int = DEFAULT_SEED
    ) -> None:
        lg = int_param("lg_k", lg_k, 4, 26)
        kind, m = _choice("summary", summary, SUMMARIES), _choice("mode", mode, MODES)
        out = self._out()
        check(lib.sk_tuple_new(kind, lg, m, _seed(seed), out))
        super().__init__(out[0], buffered=False)
        self._updatable = True

    # ---- updates ----

    def update(  # type: ignore[override]  # values come before progress
        self, keys: Any, values: Any, progress: Progress = None
    ) -> None:
        """Adds ``values[i]`` under key ``keys[i]`` (a scalar key takes a scalar value).

        Raises ValueError for another number of values than keys, or a NaN value of a
        double sketch (from NumPy or a list; a pandas NaN is a missing value); TypeError
        for a value that is not a number (an integer sketch takes integers in int32);
        ReadOnlySketchError for a compact sketch. A progress callback (every ~2 M keys)
        that raises stops the update after a prefix of the keys; it is called once with
        ``done == total`` at the end."""
        report, keys = update_progress(progress, keys)
        self._update(self._p(), keys, values, report)
        if report is not None:
            report.finish()

    def _update(self, p: Any, keys: Any, values: Any, progress: Progress) -> None:
        if keys is None:
            raise TypeError("cannot update a sketch with None keys")
        integer = self.summary_type == "integer"
        if _input.is_scalar(keys):
            if values is None:
                return
            vals, _ = _values(values, 1, integer)
            sink = self._sink(p, vals)
            if not _input.feed_scalar(sink, keys):
                raise TypeError(f"cannot update a sketch with a key of type {type(keys).__name__}")
            return
        if not isinstance(keys, np.ndarray) and not hasattr(keys, "__len__"):
            keys = list(keys)
        vals, valid = _values(values, _input.count_items(keys), integer)
        if not valid.all():
            keys, vals = _select(keys, valid), vals[valid]
        keys, vals = _input.drop_nulls(keys, vals)
        if isinstance(keys, list) and any(
            issubclass(t, (np.datetime64, np.timedelta64)) for t in set(map(type, keys))
        ):
            # a NaT is a missing key: dropped here, with its value
            kept = np.array([not _is_nat(k) for k in keys], dtype=bool)
            keys, vals = _select(keys, kept), vals[kept]
        _input.feed(self._sink(p, np.ascontiguousarray(vals)), keys, progress)

    def _sink(self, p: Any, vals: np.ndarray) -> _input.Sink:
        """The native update functions bound to handle ``p``, each call taking the next
        values of ``vals`` in order, one per key."""
        code = lib.SK_DTYPE_I32 if vals.dtype == np.int32 else lib.SK_DTYPE_F64
        base = ffi.cast("char *", ffi.from_buffer(vals)) if vals.size else ffi.NULL
        pos = [0]

        def take(n: int) -> Any:
            i = pos[0]
            pos[0] += n
            return ffi.NULL if base == ffi.NULL else base + i * vals.itemsize

        def one() -> float:
            i = pos[0]
            pos[0] += 1
            return float(vals[i])

        def count_items(data: bytes, delimiter: int) -> int:
            return bytes(data).count(bytes([delimiter])) + 1

        return _input.Sink(
            numeric=lambda data, n, dt, cb, u: lib.sk_tuple_update_numeric(
                p, data, n, dt, take(n), code, cb, u
            ),
            strings=lambda data, dl, offs, w, n, vd, vo, cb, u: lib.sk_tuple_update_strings(
                p, data, dl, offs, w, n, vd, vo, take(n), code, cb, u
            ),
            fixed=lambda data, size, n, enc, cb, u: lib.sk_tuple_update_fixed(
                p, data, size, n, enc, take(n), code, cb, u
            ),
            one_i64=lambda k: check(lib.sk_tuple_update_one_i64(p, k, one())),
            one_u64=lambda k: check(lib.sk_tuple_update_one_u64(p, k, one())),
            one_f64=lambda k: check(lib.sk_tuple_update_one_f64(p, k, one())),
            one_bytes=lambda b: check(lib.sk_tuple_update_one_bytes(p, b, len(b), one())),
            delimited=lambda data, ln, d, cb, u: lib.sk_tuple_update_delimited(
                p, data, ln, d, take(count_items(data, d)), code, cb, u
            ),
        )

    # ---- queries ----

    @property
    def theta(self) -> float:
        """The sampled fraction of the hash space, in (0, 1]; 1 while exact (Spark's
        ``tuple_sketch_theta_*``)."""
        return float(self._get("theta", "double"))

    @property
    def num_retained(self) -> int:
        """Retained keys (an update sketch keeps up to 15/16 of ``2k`` before it rebuilds
        to ``k``, as Java's does)."""
        return int(self._get("num_retained", "uint32_t"))

    @property
    def seed(self) -> int:
        """The hash seed; only sketches (and Theta operands) of one seed combine."""
        return int(self._get("seed", "uint64_t"))

    @property
    def summary_type(self) -> str:
        """``"double"`` or ``"integer"``."""
        return _SUMMARY_NAMES[int(self._get("summary_type", "int32_t"))]

    @property
    def mode(self) -> str:
        """How values combine: the sketch's, the set operation's that made it, or the one
        its image was read with."""
        return _MODE_NAMES[int(self._get("mode", "int32_t"))]

    @property
    def lg_k(self) -> Optional[int]:
        """The nominal size's log2 of an update sketch (None for a compact one: images do
        not record it)."""
        lg = int(self._get("lg_k", "uint8_t"))
        return lg or None

    def summary(self, mode: Optional[str] = None) -> Union[float, int]:
        """Spark's ``tuple_sketch_summary_double`` / ``_integer(sketch, mode)``: the
        retained keys' summaries aggregated by ``mode`` (default: this sketch's mode;
        Spark's default is ``"sum"``): their sum, minimum or maximum (0 with no keys), or
        their number for ``"alwaysone"``. Not scaled by theta. A float for a double
        sketch (a NaN summary wins a min or max), an int for an integer one (each value
        widened to int64 first)."""
        m = _choice("mode", self.mode if mode is None else mode, MODES)
        if self.summary_type == "integer":
            return int(self._get("summary_integer", "int64_t", m))
        return float(self._get("summary_double", "double", m))

    # ---- set operations ----

    @classmethod
    def union(
        cls,
        sketches: Iterable[Operand],
        lg_k: Optional[int] = None,
        mode: Optional[str] = None,
        summary: Optional[str] = None,
        seed: Optional[int] = None,
    ) -> TupleSketch:
        """The union of tuple sketches, their images (bytes) and Theta sketches, as Java's
        tuple ``Union(2**lg_k, mode)`` fed them in order computes it (Spark's
        ``tuple_union_*``): a key in several inputs combines its summaries by ``mode``, a
        Theta input's keys enter with a fresh summary of ``mode`` (0, +inf, -inf, 1).
        Defaults: ``lg_k`` the size that keeps each sketch's precision, as
        ``ThetaSketch.union`` chooses it (12 for a list of images); ``mode``,
        ``summary`` (how images are read) and ``seed`` those of the first tuple sketch
        (else sum, double, 9001)."""
        lg = 0 if lg_k is None else int_param("lg_k", lg_k, 4, 26)
        views, seq = _input.union_inputs(sketches)
        items = list(seq)
        kind, m, s = cls._defaults(items, mode, summary, seed)
        out = cls._out()
        if views is not None and views[2]:
            ptrs, lens, n, _keep = views
            check(lib.sk_tuple_union_images(ptrs, lens, n, kind, lg, m, s, out))
        else:
            tuples, thetas, _alive = cls._operands(items, kind, s)
            check(lib.sk_tuple_union_many(tuples, thetas, len(items), lg, m, s, out))
        return cls._compact(out)

    @classmethod
    def intersection(
        cls,
        sketches: Iterable[Operand],
        mode: Optional[str] = None,
        summary: Optional[str] = None,
        seed: Optional[int] = None,
    ) -> TupleSketch:
        """The intersection of one or more inputs (as ``union`` takes them), as Java's
        tuple ``Intersection(mode)`` computes it (Spark's ``tuple_intersection_*``): the
        keys in every input, their summaries combined by ``mode``."""
        items = list(sketches)
        if not items:
            raise ValueError("the intersection of no sketches is undefined")
        kind, m, s = cls._defaults(items, mode, summary, seed)
        tuples, thetas, _keep = cls._operands(items, kind, s)
        out = cls._out()
        check(lib.sk_tuple_intersection_many(tuples, thetas, len(items), m, s, out))
        return cls._compact(out)

    @staticmethod
    def _defaults(
        items: list[Any], mode: Optional[str], summary: Optional[str], seed: Optional[int]
    ) -> tuple[int, int, int]:
        first = next((t for t in items if isinstance(t, TupleSketch)), None)
        kind = _choice("summary", summary or (first.summary_type if first else "double"), SUMMARIES)
        m = _choice("mode", mode or (first.mode if first else "sum"), MODES)
        s = _seed(seed) if seed is not None else (first.seed if first else DEFAULT_SEED)
        return kind, m, s

    @classmethod
    def _operands(cls, items: list[Any], kind: int, seed: int) -> tuple[Any, Any, list[Any]]:
        """Parallel handle arrays (tuple, Theta; NULL where the other is) of ``items``,
        images read first, and the list keeping them alive."""
        name = _SUMMARY_NAMES[kind]
        keep: list[Any] = []
        for i, s in enumerate(items):
            if isinstance(s, (bytes, bytearray, memoryview)):
                s = cls.from_bytes(s, summary=name, seed=seed)
            elif not isinstance(s, (TupleSketch, ThetaSketch)):
                raise TypeError(
                    f"expected TupleSketch, ThetaSketch or bytes, not {type(s).__name__} (item {i})"
                )
            keep.append(s)
        tuples = [s._p() if isinstance(s, TupleSketch) else ffi.NULL for s in keep]
        thetas = [s._p() if isinstance(s, ThetaSketch) else ffi.NULL for s in keep]
        return ffi.new("SkTuple *[]", tuples), ffi.new("SkTheta *[]", thetas), keep

    def __or__(self, other: object) -> TupleSketch:
        if not isinstance(other, (TupleSketch, ThetaSketch)):
            return NotImplemented
        return TupleSketch.union([self, other])

    def __and__(self, other: object) -> TupleSketch:
        if not isinstance(other, (TupleSketch, ThetaSketch)):
            return NotImplemented
        return TupleSketch.intersection([self, other])

    def __sub__(self, other: object) -> TupleSketch:
        """A not B: this sketch's keys (with their summaries) that are not in ``other``."""
        if isinstance(other, TupleSketch):
            b, b_theta = other._p(), ffi.NULL
        elif isinstance(other, ThetaSketch):
            b, b_theta = ffi.NULL, other._p()
        else:
            return NotImplemented
        out = self._out()
        check(lib.sk_tuple_a_not_b(self._p(), b, b_theta, self.seed, out))
        return self._compact(out)

    # ---- images ----

    def to_bytes(self) -> bytes:
        """The compact image (family 9, serial version 3), entries in hash-table order:
        the bytes Spark's ``tuple_sketch_agg_*`` writes for the same rows in one
        partition."""
        out = ffi.new("SkBytes *")
        check(lib.sk_tuple_serialize(self._p(), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(
        cls,
        data: BytesLike,
        summary: str = "double",
        mode: Optional[str] = None,
        seed: int = DEFAULT_SEED,
    ) -> TupleSketch:
        """Reads a compact tuple image of ``summary`` type (Spark's, Java's, C++'s or
        sketchbox's) as a compact sketch whose ``mode`` is ``mode`` (default: the mode
        its summaries share, else sum). SketchFormatError for bytes that are not one
        (an integer image read as double included), IncompatibleSketchError for an
        image of another seed (both are ValueErrors)."""
        buf = image_buffer(data)
        kind = _choice("summary", summary, SUMMARIES)
        m = -1 if mode is None else _choice("mode", mode, MODES)
        out = cls._out()
        check(lib.sk_tuple_deserialize(buf, len(buf), kind, m, _seed(seed), out))
        return cls._compact(out)

    def _image_args(self) -> tuple[object, ...]:
        return (self.summary_type, self.mode, self.seed)

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # Tuple images are compact only: an update sketch travels as its image and lg_k,
        # and is restored as an update sketch holding the image's entries.
        if not self._updatable:
            return super().__reduce__()
        return (_unpickle_update, (self.to_bytes(), *self._image_args(), self.lg_k))

    @classmethod
    def _restore_update(cls, compact: TupleSketch, lg_k: int) -> TupleSketch:
        out = cls._out()
        check(lib.sk_tuple_restore_update(compact._p(), lg_k, out))
        obj = cls._wrap(out, buffered=cls._buffers_scalars)
        obj._updatable = True
        return obj

    def _describe(self, d: dict[str, Any]) -> str:
        size = f" lg_k={d['lg_k']}" if "lg_k" in d else ""
        return (
            f"{d['kind']} {d['summary_type']} {d['summary_mode']}{size} "
            f"estimate={d['estimate']:.1f} theta={d['theta']:.6g} retained={d['num_retained']}"
        )


def _unpickle_update(data: bytes, summary: str, mode: str, seed: int, lg_k: int) -> TupleSketch:
    return TupleSketch._restore_update(TupleSketch.from_bytes(data, summary, mode, seed), lg_k)
