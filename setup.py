"""Build: cargo builds the cdylib (setuptools-rust), installed as libsketchbox.so.0, its
SONAME (the 0 is SK_ABI_VERSION); then cffi compiles sketchbox._native from
include/sketchbox.h and links it to that library with an $ORIGIN rpath. setuptools-rust
would run build_rust after the other extensions, so build_ext below runs it first: the
cdylib must exist before the cffi extension links.

Beside the library goes libsketchbox.so, a one-line linker script (as glibc's libc.so)
naming libsketchbox.so.0: `-lsketchbox` works for the cffi extension and for C programs
built against an installed wheel, and wheels, which cannot hold symlinks, stay small.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_ext import build_ext as _build_ext
from setuptools_rust import Binding, RustExtension
from setuptools_rust.build import build_rust as _build_rust

HERE = os.path.dirname(os.path.abspath(__file__))
LIB_NAME = "libsketchbox.so.0"
LINKER_SCRIPT = "libsketchbox.so"


class build_rust(_build_rust):
    """Installs the cdylib under its SONAME, libsketchbox.so.0, not an extension-module name."""

    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIB_NAME)


class build_ext(_build_ext):
    def run(self):
        rust = self.get_finalized_command("build_rust")
        rust.inplace = self.inplace
        rust.plat_name = self.plat_name
        rust.run()
        lib_dir = os.path.dirname(self.get_ext_fullpath("sketchbox._native"))
        with open(os.path.join(lib_dir, LINKER_SCRIPT), "w", encoding="ascii") as f:
            f.write(f"/* GNU ld script: link with -lsketchbox */\nINPUT({LIB_NAME})\n")
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


setup(
    rust_extensions=[
        RustExtension(
            "sketchbox.libsketchbox",
            path="rust/capi/Cargo.toml",
            binding=Binding.NoBinding,
            py_limited_api=False,
        )
    ],
    cffi_modules=["build_ffi.py:ffibuilder"],
    cmdclass={"build_rust": build_rust, "build_ext": build_ext},
)
