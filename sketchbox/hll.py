"""HyperLogLog: distinct counts with Apache DataSketches-compatible images.

Accuracy: with ``k = 2**lg_k`` registers the relative standard error is about
``0.8326 / sqrt(k)`` for a sketch updated in order (HIP estimator) and
``1.03896 / sqrt(k)`` after a merge (composite estimator): at the default
``lg_k=12``, 1.3% and 1.6%. ``lower_bound(n)``/``upper_bound(n)`` bracket the true
count at n standard deviations (n = 1, 2, 3 ~ 68%, 95%, 99.7%). Below about ``k/4``
distinct items the sketch keeps exact coupons and the estimate is all but exact.
"""

from __future__ import annotations

import json
from typing import Any, Union

from . import _input
from ._base import NativeSketch, Progress, check, ffi, int_param, lib, take_bytes

_TYPES = {"HLL_4": 0, "HLL_6": 1, "HLL_8": 2}
_TYPE_NAMES = {v: k for k, v in _TYPES.items()}


def _parse_type(hll_type: Union[str, int]) -> int:
    if isinstance(hll_type, str):
        code = _TYPES.get(hll_type.upper())
    elif isinstance(hll_type, int) and not isinstance(hll_type, bool):
        code = {4: 0, 6: 1, 8: 2}.get(hll_type)
    else:
        raise TypeError(
            f"hll_type must be 'HLL_4', 'HLL_6' or 'HLL_8', not {type(hll_type).__name__}"
        )
    if code is None:
        raise ValueError(f"hll_type must be 'HLL_4', 'HLL_6' or 'HLL_8', got {hll_type!r}")
    return code


def _num_std(num_std: int) -> int:
    return int_param("num_std", num_std, 1, 3)


class HyperLogLog(NativeSketch):
    """Estimates the number of distinct items of a stream or column.

    >>> h = HyperLogLog(lg_k=12)
    >>> h.update(["a", "b", "a"]); round(h.estimate())
    2

    ``lg_k`` (4..21) sets the size (``2**lg_k`` registers) and so the accuracy;
    ``hll_type`` ("HLL_4", "HLL_6", "HLL_8") only the register width of images.
    Items hash exactly as in Apache DataSketches, so sketches merge with those of
    Spark, Druid, Hive, PostgreSQL and datasketches-python. One sketch may be used
    from several threads; each call is atomic.
    """

    __slots__ = ()
    _free = lib.sk_hll_free
    _handle_type = "SkHll"

    def __init__(self, lg_k: int = 12, hll_type: Union[str, int] = "HLL_8") -> None:
        lg_k = int_param("lg_k", lg_k, 4, 21)
        code = _parse_type(hll_type)
        out = ffi.new("SkHll **")
        check(lib.sk_hll_new(lg_k, code, out))
        super().__init__(out[0])

    # ---- updates ----

    def update(self, values: Any, progress: Progress = None) -> None:
        """Adds one item or many.

        Accepts int, float, str, bytes; sequences and iterables of them (each item
        hashed by its type, None skipped); NumPy arrays (numeric ones zero-copy;
        NaN is an item, as in DataSketches); pandas Series (missing values skipped);
        pyarrow arrays (nulls skipped). Empty strings and bytes are not items.
        ``progress(done, total)`` is called every ~2 M items of a large input; an
        exception it raises (or Ctrl-C) stops the update and propagates, leaving
        the sketch updated with a prefix of the input: the completed blocks of
        the NumPy/Arrow buffer being processed.
        """
        t = type(values)
        if (
            (t is float or (t is int and -0x8000000000000000 <= values <= 0xFFFFFFFFFFFFFFFF))
            and progress is None
            and self._ptr is not None
        ):
            buf = self._buf
            buf.append(values)
            if len(buf) >= 2048:
                self._flush()
            return
        self._feed(self._p(), values, progress)

    def _feed(self, p, values, progress: Progress = None) -> None:
        _input.feed(_input.hash_sink(p, "hll"), values, progress)

    # ---- queries ----

    def estimate(self) -> float:
        out = ffi.new("double *")
        check(lib.sk_hll_estimate(self._p(), out))
        return out[0]

    def lower_bound(self, num_std: int = 2) -> float:
        out = ffi.new("double *")
        check(lib.sk_hll_lower_bound(self._p(), _num_std(num_std), out))
        return out[0]

    def upper_bound(self, num_std: int = 2) -> float:
        out = ffi.new("double *")
        check(lib.sk_hll_upper_bound(self._p(), _num_std(num_std), out))
        return out[0]

    def is_empty(self) -> bool:
        out = ffi.new("bool *")
        check(lib.sk_hll_is_empty(self._p(), out))
        return bool(out[0])

    def _params(self) -> tuple[int, int]:
        lg_k = ffi.new("uint8_t *")
        t = ffi.new("int32_t *")
        check(lib.sk_hll_params(self._p(), lg_k, t))
        return lg_k[0], t[0]

    @property
    def lg_k(self) -> int:
        return self._params()[0]

    @property
    def hll_type(self) -> str:
        return _TYPE_NAMES[self._params()[1]]

    # ---- combining ----

    def merge(self, other: HyperLogLog) -> None:
        """Merges ``other`` into this sketch, in place, as a DataSketches union would:
        this sketch keeps its type; an HLL-mode ``other`` with a smaller ``lg_k``
        downsamples it to that ``lg_k`` (a sparse LIST/SET-mode ``other`` never does)."""
        if not isinstance(other, HyperLogLog):
            raise TypeError(f"can only merge a HyperLogLog, not {type(other).__name__}")
        check(lib.sk_hll_merge(self._p(), other._p()))

    def __or__(self, other: HyperLogLog) -> HyperLogLog:
        if not isinstance(other, HyperLogLog):
            return NotImplemented
        out = self.copy()
        out.merge(other)
        return out

    def __ior__(self, other: HyperLogLog) -> HyperLogLog:
        if not isinstance(other, HyperLogLog):
            return NotImplemented
        self.merge(other)
        return self

    def copy(self, hll_type: Union[str, int, None] = None) -> HyperLogLog:
        """An independent copy, optionally with another register width."""
        out = ffi.new("SkHll **")
        if hll_type is None:
            check(lib.sk_hll_copy(self._p(), out))
        else:
            check(lib.sk_hll_convert(self._p(), _parse_type(hll_type), out))
        return self._wrap(out)

    # ---- images ----

    def to_bytes(self, compact: bool = True) -> bytes:
        """The Apache DataSketches HLL image: compact, or updatable if ``compact=False``."""
        out = ffi.new("SkBytes *")
        rc = lib.sk_hll_serialize(self._p(), bool(compact), out)
        if rc:
            check(rc)
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview]) -> HyperLogLog:
        """Reads an HLL image written by sketchbox or any Apache DataSketches library.
        Raises SketchFormatError (a ValueError) for bytes that are not one."""
        if type(data) is not bytes and not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes needs bytes, not {type(data).__name__}")
        out = ffi.new("SkHll **")
        buf = ffi.from_buffer(data)
        rc = lib.sk_hll_deserialize(buf, len(buf), out)
        if rc:
            check(rc)
        return cls._wrap(out)

    def to_dict(self) -> dict:
        out = ffi.new("SkBytes *")
        check(lib.sk_hll_to_json(self._p(), out))
        return json.loads(take_bytes(out))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<HyperLogLog closed>"
        d = self.to_dict()
        return (
            f"<HyperLogLog lg_k={d['lg_k']} type={d['hll_type']} mode={d['mode']} "
            f"estimate={d['estimate']:.1f}>"
        )
