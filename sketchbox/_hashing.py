"""What the sketches of hashed items (HyperLogLog, Theta) share: their update surface
and their distinct-count answers."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from . import _input
from ._base import NativeSketch, Progress, int_param

Compactable = TypeVar("Compactable", bound="CompactableSketch")


class HashSketch(NativeSketch):
    """A sketch of hashed items, estimating a number of distinct items.

    ``update`` accepts int, float, str, bytes; sequences and iterables of them (each
    item hashed by its type, None skipped); NumPy arrays (numeric ones zero-copy; NaN
    is an item, as in DataSketches); pandas Series (missing values skipped); pyarrow
    arrays (nulls skipped). Empty strings and bytes are not items.
    ``progress(done, total)`` is called every ~2 M items of a large input and once with
    ``done == total`` at the end of the update (counting entries, nulls included); an
    exception it raises (or Ctrl-C) stops the update and propagates, leaving the sketch
    updated with a prefix of the input: the completed blocks of the buffer being
    processed.
    Items hash exactly as in Apache DataSketches (MurmurHash3, seed 9001 by default).
    """

    __slots__ = ()

    def _feed(self, ptr: Any, values: Any, progress: Progress = None) -> None:
        _input.feed(_input.hash_sink(ptr, self._family), values, progress)

    def estimate(self) -> float:
        """The estimated number of distinct items."""
        return float(self._get("estimate", "double"))

    def lower_bound(self, num_std: int = 2) -> float:
        """A lower bound of the number of distinct items at ``num_std`` (1, 2 or 3)
        standard deviations: about 68%, 95% or 99.7% confidence."""
        return float(self._get("lower_bound", "double", int_param("num_std", num_std, 1, 3)))

    def upper_bound(self, num_std: int = 2) -> float:
        """An upper bound of the number of distinct items at ``num_std`` (1, 2 or 3)
        standard deviations."""
        return float(self._get("upper_bound", "double", int_param("num_std", num_std, 1, 3)))

    def is_empty(self) -> bool:
        """True before any item was added."""
        return bool(self._get("is_empty", "bool"))


class CompactableSketch(HashSketch):
    """A sketch in one of two states (Theta, tuple): an *update* sketch takes items; a
    *compact* one (a set operation's result, or read from bytes) is immutable, and
    updating it raises ``ReadOnlySketchError``. ``copy()`` keeps the state."""

    __slots__ = ("_updatable",)
    _updatable: bool
    # Whether update sketches buffer scalar items (see NativeSketch).
    _buffers_scalars: ClassVar[bool] = True

    @classmethod
    def _compact(cls: type[Compactable], out: Any) -> Compactable:
        obj = cls._wrap(out, buffered=False)
        obj._updatable = False
        return obj

    def _like(self: Compactable, out: Any) -> Compactable:
        if not self._updatable:
            return self._compact(out)
        obj = self._wrap(out, buffered=self._buffers_scalars)
        obj._updatable = True
        return obj

    @property
    def is_compact(self) -> bool:
        """True for an immutable sketch (a set operation's result, or read from bytes)."""
        self._p()
        return not self._updatable
