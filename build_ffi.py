"""cffi builder: compiles sketchbox._native (API mode) from include/sketchbox.h."""

import os
import re
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "include", "sketchbox.h")

# The shared library's file name on each platform (setup.py installs it under this name
# beside the extension), and the link arguments that let the extension find it there.
# Linux: the SONAME, versioned by SK_ABI_VERSION, found through an $ORIGIN rpath.
# macOS: install name @rpath/libsketchbox.dylib (rust/capi/build.rs), @loader_path rpath.
# Windows: the DLL beside the extension module is found by the loader; linking uses its
# import library, copied as sketchbox.lib.
if sys.platform == "darwin":
    LIBRARY = "libsketchbox.dylib"
    RUNTIME_LINK_ARGS = ["-Wl,-rpath,@loader_path"]
elif sys.platform == "win32":
    LIBRARY = "sketchbox.dll"
    RUNTIME_LINK_ARGS = []
else:
    LIBRARY = "libsketchbox.so.0"
    RUNTIME_LINK_ARGS = ["-Wl,-rpath,$ORIGIN"]


def cdef_source() -> str:
    text = open(HEADER, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # cffi's parser takes declarations only: drop #include/#ifdef/... and C++ guards.
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return "\n".join(lines).replace('extern "C" {', "").replace('}  // extern "C"', "")


ffibuilder = FFI()
ffibuilder.cdef(cdef_source())
ffibuilder.cdef('extern "Python" int32_t _sk_progress_trampoline(void *, uint64_t, uint64_t);')
# Not part of the C ABI: a helper of the Python package only, which reads CPython
# objects. A union of 100,000 images spends 0.3 ms here, where len() and type() per item
# took 11 ms.
PY_HELPERS_CDEF = """
size_t _sk_py_bytes_views(const uintptr_t *ids, size_t n, uintptr_t *data, size_t *lens);
"""
PY_HELPERS = """
/* The data addresses and lengths of n objects given by id(), kept alive by the caller;
   0 if every one is exactly bytes, else 1 + the index of the first that is not. Runs
   without the GIL (cffi releases it): it only reads immutable objects' headers. */
static size_t _sk_py_bytes_views(const uintptr_t *ids, size_t n, uintptr_t *data,
                                 size_t *lens) {
    for (size_t i = 0; i < n; i++) {
        PyObject *o = (PyObject *)ids[i];
        if (Py_TYPE(o) != &PyBytes_Type) {
            return i + 1;
        }
        data[i] = (uintptr_t)PyBytes_AsString(o);
        lens[i] = (size_t)Py_SIZE(o);
    }
    return 0;
}
"""

ffibuilder.cdef(PY_HELPERS_CDEF)
ffibuilder.set_source(
    "sketchbox._native",
    '#include "sketchbox.h"\n' + PY_HELPERS,
    include_dirs=[os.path.join(HERE, "include")],
    libraries=["sketchbox"],
    extra_link_args=RUNTIME_LINK_ARGS,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
