"""Exceptions of sketchbox: one class per C status code, under SketchError."""

from __future__ import annotations


class SketchError(Exception):
    """Base class of every error raised by the sketchbox native library."""


class InvalidArgumentError(SketchError, ValueError):
    """A parameter out of range or malformed input (SK_ERR_INVALID_ARGUMENT)."""


class SketchFormatError(SketchError, ValueError):
    """Bytes that are not a valid sketch image (SK_ERR_CORRUPT_DATA)."""


class IncompatibleSketchError(SketchError, ValueError):
    """Sketches that cannot be combined (SK_ERR_INCOMPATIBLE)."""


class EmptySketchError(InvalidArgumentError):
    """A query that has no answer on an empty sketch: a quantile, rank, min, ...
    (SK_ERR_EMPTY)."""


class SketchBusyError(InvalidArgumentError):
    """A sketch used from inside a progress callback while it is locked: the one being
    updated, or one another call holds (SK_ERR_BUSY)."""


class ReadOnlySketchError(InvalidArgumentError):
    """An update of a sketch that cannot change: a compact Theta sketch, the result of a
    set operation or of from_bytes (SK_ERR_READ_ONLY)."""


class SketchCancelledError(SketchError):
    """A long operation stopped by its progress callback (SK_ERR_CANCELLED)."""


class InternalError(SketchError):
    """An internal error of the native library, caught at the boundary (SK_ERR_PANIC)."""


# Indexed by the SkStatus values of include/sketchbox.h.
BY_STATUS: dict[int, type[SketchError]] = {
    1: InvalidArgumentError,
    2: SketchFormatError,
    3: IncompatibleSketchError,
    4: SketchCancelledError,
    5: InternalError,
    6: EmptySketchError,
    7: SketchBusyError,
    8: ReadOnlySketchError,
}
