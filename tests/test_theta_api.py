"""The everyday Python surface of ThetaSketch."""

from __future__ import annotations

import copy
import json
import os
import pickle

import numpy as np
import pytest

import sketchbox
from sketchbox import ThetaSketch


def filled(n=5000, lg_k=12, start=0, **kw) -> ThetaSketch:
    s = ThetaSketch(lg_k, **kw)
    s.update(np.arange(start, start + n))
    return s


def test_defaults_and_properties():
    s = ThetaSketch()
    assert s.is_empty() and s.estimate() == 0.0 and s.theta == 1.0 and s.num_retained == 0
    assert s.seed == 9001 and not s.is_compact
    d = s.to_dict()
    assert (d["family"], d["kind"], d["lg_k"], d["p"], d["seed"]) == (
        "theta",
        "update",
        12,
        1.0,
        9001,
    )
    big = filled(100_000)
    assert big.theta < 1 and 4096 <= big.num_retained < 8192
    assert big.estimate() == pytest.approx(big.num_retained / big.theta)
    assert ThetaSketch(5, p=0.5, seed=3).to_dict()["lg_k"] == 5


def test_compact_results_and_their_kind():
    a, b = filled(1500), filled(1500, start=1000)
    for r in (a | b, a & b, a - b, ThetaSketch.from_bytes(a.to_bytes())):
        assert r.is_compact and r.to_dict()["kind"] == "compact"
        assert r.copy().is_compact
    assert not a.copy().is_compact
    assert (a | b).estimate() == 2500  # exact below k = 4096
    assert (a & b).estimate() == 500
    assert (a - b).estimate() == 1000 and (b - a).estimate() == 1000
    assert a.jaccard(b) == (0.2, 0.2, 0.2)
    assert a.jaccard(a) == (1.0, 1.0, 1.0)
    assert ThetaSketch().jaccard(ThetaSketch()) == (1.0, 1.0, 1.0)
    assert a.jaccard(ThetaSketch()) == (0.0, 0.0, 0.0)
    u = a
    u |= b  # rebinding to the (compact) union; a itself is unchanged
    assert u.is_compact and not a.is_compact and a.estimate() == 1500


def test_pickle_copy_and_round_trip():
    for s in (filled(), filled(100_000), filled(10, p=0.5), ThetaSketch(), filled(seed=77)):
        image = s.to_bytes()
        for clone in (pickle.loads(pickle.dumps(s)), s.copy(), copy.copy(s), copy.deepcopy(s)):
            assert clone is not s
            assert clone.to_bytes() == image and clone.seed == s.seed
        assert not pickle.loads(pickle.dumps(s)).is_compact  # pickles keep the kind
        c = s.copy()
        c.update(np.arange(10**7, 10**7 + 5000))
        assert c.estimate() > s.estimate()  # copies are independent
        assert ThetaSketch.from_bytes(image, seed=s.seed).to_bytes() == image
        assert ThetaSketch.from_bytes(memoryview(image), seed=s.seed).to_bytes() == image
        assert ThetaSketch.from_bytes(bytearray(image), seed=s.seed).to_bytes() == image
        packed = s.to_bytes(compressed=True)
        assert len(packed) <= len(image)
        assert ThetaSketch.from_bytes(packed, seed=s.seed).to_bytes() == image


def test_union_and_intersection_of_many():
    parts = [filled(300, start=150 * i) for i in range(10)]
    images = [p.to_bytes() for p in parts]
    whole = filled(1650)
    for inputs in (parts, images, tuple(images), iter(parts), images[:5] + parts[5:]):
        assert ThetaSketch.union(inputs).to_bytes() == whole.to_bytes()
    assert ThetaSketch.union(bytearray(i) for i in images).to_bytes() == whole.to_bytes()
    assert ThetaSketch.union([memoryview(i) for i in images]).to_bytes() == whole.to_bytes()
    assert ThetaSketch.intersection(parts[:2]).estimate() == 150
    assert ThetaSketch.intersection(parts[:3]).is_empty()  # no entries, theta 1
    assert ThetaSketch.intersection(parts[:3]).estimate() == 0
    assert ThetaSketch.intersection([parts[0]]).to_bytes() == parts[0].to_bytes()
    # lg_k of the union: given, or the largest lg_k among update sketches.
    big = [filled(50_000, lg_k=14, start=50_000 * i) for i in range(3)]
    assert ThetaSketch.union(big).num_retained > 8192
    assert ThetaSketch.union(big, lg_k=10).num_retained == 1024
    assert ThetaSketch.union([b.to_bytes() for b in big]).num_retained == 4096


def test_to_dict_json_and_repr():
    s = filled(100_000)
    d = s.to_dict()
    assert d["estimate"] == s.estimate() and d["num_retained"] == s.num_retained
    assert d["lower_bound_2sd"] <= d["estimate"] <= d["upper_bound_2sd"]
    assert d["estimation_mode"] and not d["empty"]
    assert json.loads(s.to_json()) == d
    assert repr(s).startswith("<ThetaSketch update lg_k=12 estimate=")
    r = repr(ThetaSketch.from_bytes(s.to_bytes()))
    assert r.startswith("<ThetaSketch compact estimate=") and "retained=" in r


def test_bounds_bracket_the_estimate():
    for n in (0, 1, 10, 1000, 100_000):
        s = filled(n)
        for k in (1, 2, 3):
            assert s.lower_bound(k) <= s.estimate() <= s.upper_bound(k)
        assert s.lower_bound(3) <= s.lower_bound(1) and s.upper_bound(1) <= s.upper_bound(3)
    assert filled(1000).lower_bound() == filled(1000).upper_bound() == 1000  # exact


def test_sampling_keeps_non_empty_without_entries():
    s = ThetaSketch(12, p=0.01)
    s.update(1)
    assert not s.is_empty() and s.num_retained == 0 and s.estimate() == 0
    assert s.theta == pytest.approx(0.01) and s.upper_bound(1) > 0
    assert (filled(100) & s).is_empty() is False


def test_context_manager_closes():
    with ThetaSketch() as s:
        s.update("x")
        assert s.estimate() == 1
    assert s.closed


def test_package_exports_and_header():
    assert "ThetaSketch" in sketchbox.__all__
    with open(os.path.join(sketchbox.get_include(), "sketchbox.h")) as f:
        header = f.read()
    for name in ("sk_theta_new", "sk_theta_union_images", "sk_theta_jaccard", "SkTheta"):
        assert name in header


def test_or_of_compact_sketches_keeps_their_precision() -> None:
    # Compact sketches do not record their lg_k; a union that names no size takes one
    # that holds their entries, so an accumulator of lg_k 16 images stays at lg_k 16.
    images = []
    for j in range(3):
        a = ThetaSketch(lg_k=16)
        a.update(np.arange(j * 100_000, j * 100_000 + 300_000))
        images.append(a.to_bytes())
    acc = ThetaSketch(lg_k=16)
    for image in images:
        acc |= ThetaSketch.from_bytes(image)
        assert acc.num_retained >= 2**16
    whole = ThetaSketch(lg_k=16)
    whole.update(np.arange(500_000))
    assert abs(acc.estimate() - 500_000) <= 3 * (whole.upper_bound(1) - whole.estimate())
    assert ThetaSketch.union([ThetaSketch.from_bytes(images[0])]).num_retained >= 2**16


def test_a_not_b_of_an_empty_sketch_is_empty_whatever_the_seeds() -> None:
    # DataSketches returns A when it is empty, before checking seeds; a non-empty A
    # still refuses a B of another seed.
    b = ThetaSketch()
    b.update(range(10))
    assert (ThetaSketch(seed=1) - b).is_empty()
    a = ThetaSketch(seed=1)
    a.update(range(10))
    with pytest.raises(sketchbox.IncompatibleSketchError):
        a - b
