"""The everyday Python surface of HyperLogLog."""

from __future__ import annotations

import copy
import json
import os
import pickle

import numpy as np
import pytest

import sketchbox
from sketchbox import HyperLogLog


def filled(n=5000, lg_k=12, t="HLL_8", start=0):
    h = HyperLogLog(lg_k, t)
    h.update(np.arange(start, start + n))
    return h


def test_defaults_and_properties():
    h = HyperLogLog()
    assert (h.lg_k, h.hll_type) == (12, "HLL_8")
    assert h.is_empty() and h.estimate() == 0.0
    assert HyperLogLog(10, "hll_4").hll_type == "HLL_4"
    assert HyperLogLog(10, 6).hll_type == "HLL_6"


def test_pickle_copy_and_round_trip():
    for t in ("HLL_4", "HLL_6", "HLL_8"):
        h = filled(t=t)
        for clone in (pickle.loads(pickle.dumps(h)), h.copy(), copy.copy(h), copy.deepcopy(h)):
            assert clone.to_bytes(False) == h.to_bytes(False)
            assert clone is not h
        c = h.copy()
        c.update(np.arange(10**6, 10**6 + 5000))
        assert c.estimate() > h.estimate()  # copies are independent
        assert HyperLogLog.from_bytes(h.to_bytes()).to_bytes() == h.to_bytes()
        assert HyperLogLog.from_bytes(memoryview(h.to_bytes(False))).to_bytes(False) == h.to_bytes(
            False
        )


def test_copy_as_another_type_keeps_the_estimate():
    h = filled(100_000, t="HLL_8")
    for t in ("HLL_4", "HLL_6"):
        c = h.copy(t)
        assert c.hll_type == t
        assert c.estimate() == h.estimate()


def test_union_operators():
    a, b = filled(5000), filled(5000, start=2500)
    u = a | b
    assert u.estimate() == pytest.approx(7500, rel=0.05)
    assert a.estimate() == pytest.approx(5000, rel=0.05)  # | leaves operands alone
    a |= b
    assert a.to_bytes() == u.to_bytes()
    assert (HyperLogLog() | HyperLogLog()).is_empty()
    with pytest.raises(TypeError):
        a | 5  # noqa: B018
    a.merge(a)  # merging a sketch into itself changes nothing it counts
    assert a.estimate() == pytest.approx(u.estimate(), rel=1e-9)


def test_merge_with_smaller_lg_k_downsamples():
    big, small = filled(50_000, lg_k=14), filled(50_000, lg_k=10, start=25_000)
    big.merge(small)
    assert big.lg_k == 10
    assert big.estimate() == pytest.approx(75_000, rel=3 * 1.04 / 32)


def test_to_dict_json_and_repr():
    h = filled(100_000)
    d = h.to_dict()
    assert d["family"] == "hll" and d["lg_k"] == 12 and d["mode"] == "HLL"
    assert d["estimate"] == h.estimate()
    assert d["lower_bound_2std"] <= d["estimate"] <= d["upper_bound_2std"]
    assert json.loads(h.to_json()) == d
    r = repr(h)
    assert r.startswith("<HyperLogLog lg_k=12 type=HLL_8 mode=HLL estimate=")
    assert repr(HyperLogLog(5)).startswith("<HyperLogLog lg_k=5 type=HLL_8 mode=LIST")


def test_bounds_bracket_the_estimate():
    for n in (0, 1, 10, 1000, 100_000):
        h = filled(n)
        for s in (1, 2, 3):
            assert h.lower_bound(s) <= h.estimate() <= h.upper_bound(s)
        assert h.lower_bound(3) <= h.lower_bound(1) and h.upper_bound(1) <= h.upper_bound(3)


def test_context_manager_closes():
    with HyperLogLog() as h:
        h.update("x")
        assert h.estimate() == pytest.approx(1)
    assert h.closed


def test_package_ships_header_and_library_for_c_users():
    inc = sketchbox.get_include()
    assert os.path.isfile(os.path.join(inc, "sketchbox.h"))
    lib = sketchbox.get_library_path()
    assert os.path.basename(lib) == "libsketchbox.so.0" and os.path.isfile(lib)
    # -lsketchbox finds it through a linker script beside it (wheels hold no symlinks)
    with open(os.path.join(os.path.dirname(lib), "libsketchbox.so")) as f:
        assert "INPUT(libsketchbox.so.0)" in f.read()
    assert sketchbox.__version__.count(".") == 2
    with open(os.path.join(inc, "sketchbox.h")) as f:
        assert "sk_hll_update_numeric" in f.read()
