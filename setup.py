"""Build: cargo builds the cdylib (setuptools-rust), installed beside the package under
its platform name (build_ffi.LIBRARY: libsketchbox.so.0 on Linux, its SONAME, the 0
being SK_ABI_VERSION; libsketchbox.dylib on macOS; sketchbox.dll on Windows); then cffi
compiles sketchbox._native from include/sketchbox.h against the limited API (one abi3
wheel for CPython >= 3.9) and links it to that library. setuptools-rust would run
build_rust after the other extensions, so build_ext below runs it first: the library
must exist before the cffi extension links.

On Linux, beside the library goes libsketchbox.so, a one-line linker script (as glibc's
libc.so) naming libsketchbox.so.0: `-lsketchbox` works for the cffi extension and for C
programs built against an installed wheel, and wheels, which cannot hold symlinks, stay
small. Only the Linux build is tested (CI); the macOS and Windows names follow the
platforms' conventions so that those builds can work.
"""

import glob
import os
import shutil
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext as _build_ext
from setuptools_rust import Binding, RustExtension
from setuptools_rust.build import build_rust as _build_rust

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from build_ffi import LIBRARY  # noqa: E402 - build_ffi.py sits beside this file

LINKER_SCRIPT = "libsketchbox.so"


class build_rust(_build_rust):
    """Installs the cdylib under its platform name, not an extension-module name."""

    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIBRARY)


def _copy_windows_import_library(lib_dir):
    # MSVC links against the DLL's import library, which cargo writes as
    # sketchbox.dll.lib next to the DLL; `libraries=["sketchbox"]` looks for sketchbox.lib.
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "rust", "target"))
    found = sorted(glob.glob(os.path.join(target, "**", "sketchbox.dll.lib"), recursive=True))
    if not found:
        raise RuntimeError(f"no sketchbox.dll.lib under {target}")
    shutil.copyfile(max(found, key=os.path.getmtime), os.path.join(lib_dir, "sketchbox.lib"))


class build_ext(_build_ext):
    def run(self):
        rust = self.get_finalized_command("build_rust")
        rust.inplace = self.inplace
        rust.plat_name = self.plat_name
        rust.run()
        lib_dir = os.path.dirname(self.get_ext_fullpath("sketchbox._native"))
        if sys.platform.startswith("linux"):
            with open(os.path.join(lib_dir, LINKER_SCRIPT), "w", encoding="ascii") as f:
                f.write(f"/* GNU ld script: link with -lsketchbox */\nINPUT({LIBRARY})\n")
        elif sys.platform == "win32":
            _copy_windows_import_library(lib_dir)
        for ext in self.extensions:
            if ext.name == "sketchbox._native":
                ext.library_dirs.append(lib_dir)
        # The header ships inside the package so that C users can build against a wheel.
        os.makedirs(os.path.join(lib_dir, "include"), exist_ok=True)
        shutil.copyfile(
            os.path.join(HERE, "include", "sketchbox.h"),
            os.path.join(lib_dir, "include", "sketchbox.h"),
        )
        super().run()


# The header ships inside the package, as the data package sketchbox.include
# (pyproject.toml), which must exist before setuptools looks for it: a fresh checkout
# has no sketchbox/include/ (it is not committed: include/sketchbox.h is the source).
os.makedirs(os.path.join(HERE, "sketchbox", "include"), exist_ok=True)
shutil.copyfile(
    os.path.join(HERE, "include", "sketchbox.h"),
    os.path.join(HERE, "sketchbox", "include", "sketchbox.h"),
)

setup(
    rust_extensions=[
        RustExtension(
            "sketchbox.libsketchbox",
            path="rust/capi/Cargo.toml",
            binding=Binding.NoBinding,
            py_limited_api=False,
            # Release even for editable installs (the quick start's): a debug build of
            # the core is ~35x slower.
            debug=False,
        )
    ],
    cffi_modules=["build_ffi.py:ffibuilder"],
    cmdclass={"build_rust": build_rust, "build_ext": build_ext},
    # The cffi extension uses the limited API only: one wheel serves CPython >= 3.9.
    options={"bdist_wheel": {"py_limited_api": "cp39"}},
)
