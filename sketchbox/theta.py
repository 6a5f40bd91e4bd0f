"""Theta sketches: distinct counts with set operations, Apache DataSketches-compatible.

A Theta sketch keeps the hashes that fall below a threshold ``theta`` and estimates
the number of distinct items as ``num_retained / theta``. Sketches built with the same
seed combine: ``a | b`` (union), ``a & b`` (intersection), ``a - b`` (A not B), and
``a.jaccard(b)``.

Accuracy: with ``k = 2**lg_k`` the relative standard error is about ``1 / sqrt(k)``:
at the default ``lg_k=12``, 1.6% at one standard deviation (68% confidence), 3.1% at
two (95%). Until about ``k`` distinct items the sketch is exact. ``lower_bound(n)`` and
``upper_bound(n)`` bracket the true count at n = 1, 2, 3 standard deviations.
Intersections and differences keep the error relative to the union of their inputs, so
a small overlap of two large sets has a large relative error.

A new ``ThetaSketch`` is an *update* sketch: it accepts items. The results of ``|``,
``&``, ``-``, ``union`` and ``intersection`` are *compact*: they answer, serialize and
combine the same way, but updating one raises ``ReadOnlySketchError`` (a
``ValueError``); union it with an update sketch instead. ``copy()`` keeps the kind, and
so do pickling and images:

* ``to_bytes()`` is DataSketches' compact image (what Spark, Druid, Hive and
  datasketches-python exchange); ``from_bytes`` of it gives a compact sketch.
* ``to_bytes(compact=False)`` is the *updatable* image: datasketches-java's
  ``UpdateSketch`` image (family 2, serial version 3: a 24-byte preamble, then the whole
  hash table, 8 bytes a slot, up to ``2 * 2**lg_k`` slots). ``from_bytes`` of it, here or
  in Java (``UpdateSketch.heapify``), gives an update sketch that continues exactly as
  the original would have.
* A pickled update sketch travels as its updatable image, so it is still an update
  sketch after ``pickle.loads`` (or in a multiprocessing worker); a pickled compact
  sketch travels as its compact image.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional, Union

from . import _input
from ._base import BytesLike, check, image_buffer, int_param, take_bytes
from ._hashing import CompactableSketch
from ._native import ffi, lib

DEFAULT_SEED = 9001


def _seed(seed: Any) -> int:
    return int_param("seed", seed, 0, 2**64 - 1)


class ThetaSketch(CompactableSketch):
    """Estimates the number of distinct items, and of unions, intersections and
    differences of sets of items.

    >>> a, b = ThetaSketch(), ThetaSketch()
    >>> a.update(range(0, 300)); b.update(range(200, 500))
    >>> (a | b).estimate(), (a & b).estimate(), (a - b).estimate(), a.jaccard(b)[1]
    (500.0, 100.0, 200.0, 0.2)

    ``lg_k`` (from 5 to 26) sets the nominal size ``k = 2**lg_k`` and so the accuracy; ``p``
    in (0, 1] samples items up front (1: no sampling); ``seed`` is the hash seed, and
    only sketches of one seed combine. Items hash exactly as in Apache DataSketches, and
    ``to_bytes()`` is DataSketches' compact image, so sketches move between sketchbox,
    Spark, Druid, Hive, PostgreSQL and datasketches-python. One sketch may be used from
    several threads; each call is atomic. ``update`` accepts what
    ``HyperLogLog.update`` accepts; only an update sketch (not a compact one) takes
    items. ``a |= b`` rebinds ``a`` to the (compact) union.
    """

    __slots__ = ()
    _family = "theta"
    _handle_type = "SkTheta"

    def __init__(self, lg_k: int = 12, p: float = 1.0, seed: int = DEFAULT_SEED) -> None:
        int_param("lg_k", lg_k, 5, 26)
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"p must be a float, not {type(p).__name__}")
        if not 0.0 < p <= 1.0:
            raise ValueError(f"p must be in (0, 1], got {p}")
        out = self._out()
        check(lib.sk_theta_new(lg_k, p, _seed(seed), out))
        super().__init__(out[0])
        self._updatable = True

    # ---- queries ----

    def is_empty(self) -> bool:
        """True if no item was ever presented (a sketch can also be non-empty with
        nothing retained: after sampling with ``p < 1``, an intersection, a difference)."""
        return super().is_empty()

    @property
    def theta(self) -> float:
        """The sampled fraction of the hash space, in (0, 1]; 1 while exact."""
        return float(self._get("theta", "double"))

    @property
    def num_retained(self) -> int:
        """Hashes the sketch keeps (below theta)."""
        return int(self._get("num_retained", "uint32_t"))

    @property
    def seed(self) -> int:
        """The hash seed; only sketches of one seed combine."""
        return int(self._get("seed", "uint64_t"))

    # ---- set operations ----

    @classmethod
    def union(
        cls,
        sketches: Iterable[Union[ThetaSketch, BytesLike]],
        lg_k: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> ThetaSketch:
        """The union of many sketches or serialized sketches, as one DataSketches
        ``theta_union`` fed them in order computes it.

        A list of images (bytes) crosses to the native side in one call and each image
        is read only as far as the union needs. ``lg_k`` is the union's nominal size:
        by default, for sketches, the size that keeps each one's precision (the largest
        ``lg_k`` of the update sketches and of those compact sketches' entries imply,
        log2 of their count rounded down; at least 12 without update sketches), so
        ``acc |= s`` of lg_k 16 sketches stays at 16; for a list of images, 12. ``seed``
        defaults to the first sketch's, else 9001; every input must have that seed.
        """
        lg = 0 if lg_k is None else int_param("lg_k", lg_k, 5, 26)
        out = cls._out()
        images, seq = _input.union_inputs(sketches)
        if images is not None and images[2]:
            ptrs, lens, n, _keep = images
            seed = DEFAULT_SEED if seed is None else _seed(seed)
            check(lib.sk_theta_union_images(ptrs, lens, n, lg, seed, out))
        else:
            items = cls._items(list(seq))
            seed = cls._seed_of(items, seed)
            handles = cls._handles(items, seed)
            array = ffi.new("SkTheta *[]", handles)
            check(lib.sk_theta_union_many(array, len(handles), lg, seed, out))
        return cls._compact(out)

    @classmethod
    def intersection(
        cls, sketches: Iterable[Union[ThetaSketch, BytesLike]], seed: Optional[int] = None
    ) -> ThetaSketch:
        """The intersection of one or more sketches (or serialized sketches), as one
        DataSketches ``theta_intersection`` fed them in order computes it."""
        items = cls._items(sketches)
        if not items:
            raise ValueError("the intersection of no sketches is undefined")
        seed = cls._seed_of(items, seed)
        handles = cls._handles(items, seed)
        out = cls._out()
        check(
            lib.sk_theta_intersection_many(ffi.new("SkTheta *[]", handles), len(handles), seed, out)
        )
        return cls._compact(out)

    @staticmethod
    def _seed_of(items: list[Union[ThetaSketch, BytesLike]], seed: Optional[int]) -> int:
        if seed is not None:
            return _seed(seed)
        first = next((s for s in items if isinstance(s, ThetaSketch)), None)
        return DEFAULT_SEED if first is None else first.seed

    @staticmethod
    def _items(sketches: Iterable[object]) -> list[Union[ThetaSketch, BytesLike]]:
        items = list(sketches)
        for s in items:
            if not isinstance(s, (ThetaSketch, bytes, bytearray, memoryview)):
                raise TypeError(f"expected ThetaSketch or bytes, not {type(s).__name__}")
        return items  # type: ignore[return-value]  # each item checked above

    @classmethod
    def _handles(cls, items: list[Union[ThetaSketch, BytesLike]], seed: int) -> list[Any]:
        """Native handles of sketches (images are read first); the list keeps them alive."""
        return [(s if isinstance(s, ThetaSketch) else cls.from_bytes(s, seed))._p() for s in items]

    def __or__(self, other: object) -> ThetaSketch:
        if not isinstance(other, ThetaSketch):
            return NotImplemented
        return ThetaSketch.union([self, other])

    def __and__(self, other: object) -> ThetaSketch:
        if not isinstance(other, ThetaSketch):
            return NotImplemented
        return ThetaSketch.intersection([self, other])

    def __sub__(self, other: object) -> ThetaSketch:
        """A not B: the items of this sketch that are not in ``other``."""
        if not isinstance(other, ThetaSketch):
            return NotImplemented
        out = self._out()
        check(lib.sk_theta_a_not_b(self._p(), other._p(), self.seed, out))
        return self._compact(out)

    def jaccard(self, other: ThetaSketch) -> tuple[float, float, float]:
        """Jaccard similarity ``|A & B| / |A | B|`` as ``(lower bound, estimate, upper
        bound)``, the bounds at about 95% confidence."""
        if not isinstance(other, ThetaSketch):
            raise TypeError(f"jaccard needs a ThetaSketch, not {type(other).__name__}")
        out = ffi.new("double[3]")
        check(lib.sk_theta_jaccard(self._p(), other._p(), self.seed, out, out + 1, out + 2))
        return out[0], out[1], out[2]

    # ---- images ----

    def to_bytes(self, compressed: bool = False, *, compact: bool = True) -> bytes:
        """DataSketches' compact ordered image (serial version 3), or the compressed one
        (serial version 4) if ``compressed`` and the sketch has entries to compress.

        ``compact=False`` writes the updatable image instead (datasketches-java's
        ``UpdateSketch`` image, see the module docstring), which ``from_bytes`` reads back
        as an update sketch; a compact sketch has none (``ReadOnlySketchError``), and it
        cannot be compressed (``ValueError``)."""
        out = ffi.new("SkBytes *")
        if not compact:
            if compressed:
                raise ValueError("the updatable image is not compressed: pass compact=True")
            check(lib.sk_theta_serialize_updatable(self._p(), out))
        else:
            check(lib.sk_theta_serialize(self._p(), bool(compressed), out))
        return take_bytes(out)

    @classmethod
    def from_bytes(cls, data: BytesLike, seed: int = DEFAULT_SEED) -> ThetaSketch:
        """Reads a Theta image written with ``seed``: a compact image (serial versions 1
        to 4, from sketchbox or any Apache DataSketches library) as a compact sketch, an
        updatable image (``to_bytes(compact=False)``, or datasketches-java's
        ``UpdateSketch.toByteArray()``) as an update sketch that accepts items. Raises
        SketchFormatError for bytes that are not one, IncompatibleSketchError for an
        image of another seed (both are ValueErrors)."""
        buf = image_buffer(data)
        if seed != DEFAULT_SEED:
            _seed(seed)
        out = cls._out()
        check(lib.sk_theta_deserialize(buf, len(buf), seed, out))
        updatable = ffi.new("bool *")
        status = lib.sk_theta_is_updatable(out[0], updatable)
        if status:  # not owned yet: release it before raising
            lib.sk_theta_free(out[0])
            check(status)
        if not updatable[0]:
            return cls._compact(out)
        obj = cls._wrap(out)
        obj._updatable = True
        return obj

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        # An update sketch travels as its updatable image, so that it stays one.
        image = self.to_bytes(compact=not self._updatable)
        return (type(self).from_bytes, (image, self.seed))

    def _describe(self, d: dict[str, Any]) -> str:
        size = f" lg_k={d['lg_k']}" if "lg_k" in d else ""
        return (
            f"{d['kind']}{size} estimate={d['estimate']:.1f} "
            f"theta={d['theta']:.6g} retained={d['num_retained']}"
        )
