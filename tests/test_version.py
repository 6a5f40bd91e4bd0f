"""One version everywhere: the Python package, the Rust crates and the C library."""

from __future__ import annotations

import re
from pathlib import Path

import sketchbox
from sketchbox._native import ffi, lib

ROOT = Path(__file__).resolve().parents[1]


def test_package_crates_and_library_agree():
    pyproject = (ROOT / "pyproject.toml").read_text()
    cargo = (ROOT / "rust" / "Cargo.toml").read_text()
    py_version = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    rust_version = re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    assert py_version == rust_version == sketchbox.__version__
    assert ffi.string(lib.sk_version()).decode() == sketchbox.__version__


def test_abi_version_matches_the_header_and_the_library_name():
    header = (ROOT / "include" / "sketchbox.h").read_text()
    abi = int(re.search(r"#define SK_ABI_VERSION (\d+)", header).group(1))
    assert lib.sk_abi_version() == abi
    assert sketchbox.get_library_path().endswith(f"libsketchbox.so.{abi}")
