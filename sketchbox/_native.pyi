# The cffi extension built from include/sketchbox.h (see build_ffi.py): `lib` holds the
# header's functions and enum constants (SK_OK, SK_ERR_*, SK_DTYPE_*, ...), `ffi` the
# cffi runtime. cffi objects carry no static types.
from typing import Any

ffi: Any
lib: Any
