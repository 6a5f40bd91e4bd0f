"""cffi builder: compiles sketchbox._native (API mode) from include/sketchbox.h."""

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "include", "sketchbox.h")


def cdef_source() -> str:
    text = open(HEADER, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # cffi's parser takes declarations only: drop #include/#ifdef/... and C++ guards.
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(lines).replace('extern "C" {', "").replace('}  // extern "C"', "")


ffibuilder = FFI()
ffibuilder.cdef(cdef_source())
ffibuilder.cdef('extern "Python" int32_t _sk_progress_trampoline(void *, uint64_t, uint64_t);')
ffibuilder.set_source(
    "sketchbox._native",
    '#include "sketchbox.h"',
    include_dirs=[os.path.join(HERE, "include")],
    libraries=["sketchbox"],
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
