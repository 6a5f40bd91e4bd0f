"""sketchbox: mergeable data sketches with a Rust core, a C ABI and a Python API.

Sketch images are Apache DataSketches images, so they move between sketchbox, Spark,
Druid, Hive, PostgreSQL and datasketches-python.
"""

from __future__ import annotations

import os
import sys

from ._native import ffi as _ffi
from ._native import lib as _lib
from .countmin import CountMin
from .errors import (
    EmptySketchError,
    IncompatibleSketchError,
    InternalError,
    InvalidArgumentError,
    ReadOnlySketchError,
    SketchBusyError,
    SketchCancelledError,
    SketchError,
    SketchFormatError,
)
from .frequent import FrequentItems
from .hll import HyperLogLog
from .kll import KllSketch
from .profile import Profile, ProfileError, profile
from .theta import ThetaSketch
from .tuple import TupleSketch

__version__ = _ffi.string(_lib.sk_version()).decode()

_HERE = os.path.dirname(os.path.abspath(__file__))


def get_include() -> str:
    """The folder holding sketchbox.h, for C/C++ code built against this package."""
    return os.path.join(_HERE, "include")


def get_library_path() -> str:
    """The path of the shared library shipped with this package: on Linux
    libsketchbox.so.0 (its SONAME; ``-lsketchbox`` finds it through the libsketchbox.so
    linker script beside it), libsketchbox.dylib on macOS, sketchbox.dll on Windows."""
    if sys.platform == "darwin":
        name = "libsketchbox.dylib"
    elif sys.platform == "win32":
        name = "sketchbox.dll"
    else:
        name = "libsketchbox.so.0"
    return os.path.join(_HERE, name)


__all__ = [
    "CountMin",
    "FrequentItems",
    "HyperLogLog",
    "KllSketch",
    "ThetaSketch",
    "TupleSketch",
    "Profile",
    "ProfileError",
    "profile",
    "SketchError",
    "SketchFormatError",
    "IncompatibleSketchError",
    "InvalidArgumentError",
    "SketchCancelledError",
    "InternalError",
    "EmptySketchError",
    "SketchBusyError",
    "ReadOnlySketchError",
    "get_include",
    "get_library_path",
    "__version__",
]
