"""HyperLogLog: distinct counts with Apache DataSketches-compatible images.

Accuracy: with ``k = 2**lg_k`` registers the relative standard error is about
``0.8326 / sqrt(k)`` for a sketch updated in order (HIP estimator) and
``1.03896 / sqrt(k)`` after a merge (composite estimator): at the default
``lg_k=12``, 1.3% and 1.6%. ``lower_bound(n)``/``upper_bound(n)`` bracket the true
count at n standard deviations (n = 1, 2, 3 ~ 68%, 95%, 99.7%). Below about ``k/4``
distinct items the sketch keeps exact coupons and the estimate is all but exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional, Union

from . import _input
from ._base import BytesLike, MergeableSketch, check, image_buffer, int_param, take_bytes
from ._hashing import HashSketch
from ._native import ffi, lib

_TYPES: dict[str, int] = {"HLL_4": lib.SK_HLL_4, "HLL_6": lib.SK_HLL_6, "HLL_8": lib.SK_HLL_8}
_TYPE_NAMES = {code: name for name, code in _TYPES.items()}


def _parse_type(hll_type: Union[str, int]) -> int:
    code: Optional[int]
    if isinstance(hll_type, str):
        code = _TYPES.get(hll_type.upper())
    elif isinstance(hll_type, int) and not isinstance(hll_type, bool):
        code = _TYPES.get(f"HLL_{hll_type}")
    else:
        raise TypeError(
            f"hll_type must be 'HLL_4', 'HLL_6' or 'HLL_8', not {type(hll_type).__name__}"
        )
    if code is None:
        raise ValueError(f"hll_type must be 'HLL_4', 'HLL_6' or 'HLL_8', got {hll_type!r}")
    return code


class HyperLogLog(HashSketch, MergeableSketch):
    """Estimates the number of distinct items of a stream or column.

    >>> h = HyperLogLog(lg_k=12)
    >>> h.update(["a", "b", "a"]); round(h.estimate())
    2

    ``lg_k`` (from 4 to 21) sets the size (``2**lg_k`` registers) and so the accuracy;
    ``hll_type`` ("HLL_4", "HLL_6", "HLL_8") only the register width of images.
    Items hash exactly as in Apache DataSketches, so sketches merge with those of
    Spark, Druid, Hive, PostgreSQL and datasketches-python. One sketch may be used
    from several threads; each call is atomic.

    ``merge(other)`` (and ``|=``) merges in place as a DataSketches union would: this
    sketch keeps its type; an HLL-mode ``other`` with a smaller ``lg_k`` downsamples it
    to that ``lg_k`` (a sparse LIST/SET-mode ``other`` never does). ``a | b`` is a new
    sketch.
    """

    __slots__ = ()
    _family = "hll"
    _handle_type = "SkHll"

    def __init__(self, lg_k: int = 12, hll_type: Union[str, int] = "HLL_8") -> None:
        lg_k = int_param("lg_k", lg_k, 4, 21)
        out = self._out()
        check(lib.sk_hll_new(lg_k, _parse_type(hll_type), out))
        super().__init__(out[0])

    def _params(self) -> tuple[int, int]:
        lg_k, code = ffi.new("uint8_t *"), ffi.new("int32_t *")
        check(lib.sk_hll_params(self._p(), lg_k, code))
        return lg_k[0], code[0]

    @property
    def lg_k(self) -> int:
        """log2 of the number of registers: relative standard error ~ 1.04 / sqrt(2**lg_k)."""
        return self._params()[0]

    @property
    def hll_type(self) -> str:
        """Register width of the image: "HLL_4", "HLL_6" or "HLL_8" (same estimates)."""
        return _TYPE_NAMES[self._params()[1]]

    def copy(self, hll_type: Optional[Union[str, int]] = None) -> HyperLogLog:
        """An independent copy, optionally with another register width."""
        if hll_type is None:
            return super().copy()
        out = self._out()
        check(lib.sk_hll_convert(self._p(), _parse_type(hll_type), out))
        return self._like(out)

    def to_bytes(self, compact: bool = True) -> bytes:
        """The Apache DataSketches HLL image: compact, or updatable if ``compact=False``."""
        out = ffi.new("SkBytes *")
        check(lib.sk_hll_serialize(self._p(), bool(compact), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> HyperLogLog:
        """Reads an HLL image written by sketchbox or any Apache DataSketches library.
        Raises SketchFormatError (a ValueError) for bytes that are not one."""
        buf = image_buffer(data)
        out = cls._out()
        check(lib.sk_hll_deserialize(buf, len(buf), out))
        return cls._wrap(out)

    @classmethod
    def union(
        cls,
        items: Iterable[Union[HyperLogLog, BytesLike]],
        lg_k: Optional[int] = None,
        hll_type: Union[str, int] = "HLL_8",
    ) -> HyperLogLog:
        """The union of many sketches or images, as one DataSketches
        ``hll_union(lg_max_k=lg_k)`` fed them in order computes it, in one native call.

        ``items``: HyperLogLog sketches and/or images (bytes-like), a NumPy object array
        of images, or a pyarrow binary array of them (nulls skipped). Images are read one
        at a time and never all held at once. ``lg_k`` defaults to the largest ``lg_k``
        of the inputs (12 if there are none); the result has type ``hll_type``. A bad
        image raises SketchFormatError naming its index.
        """
        lg = 0 if lg_k is None else int_param("lg_k", lg_k, 4, 21)
        code = _parse_type(hll_type)
        out = cls._out()
        views, seq = _input.union_inputs(items)
        if views is not None:
            ptrs, lens, n, _keep = views
            check(lib.sk_hll_union_images(ptrs, lens, n, lg, code, out))
        else:
            handles, _alive = _input.sketch_handles(
                seq, cls._family_class(), HyperLogLog.from_bytes
            )
            check(lib.sk_hll_union_many(handles, len(_alive), lg, code, out))
        return cls._wrap(out)

    def _describe(self, d: dict[str, Any]) -> str:
        return (
            f"lg_k={d['lg_k']} type={d['hll_type']} mode={d['mode']} estimate={d['estimate']:.1f}"
        )
