"""Hypothesis properties: updates and set operations against datasketches-python."""

from __future__ import annotations

import numpy as np
from datasketches import (
    compact_theta_sketch,
    theta_a_not_b,
    theta_intersection,
    theta_jaccard_similarity,
    theta_union,
    update_theta_sketch,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchbox import ThetaSketch

items = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
lg_ks = st.integers(min_value=5, max_value=10)
ps = st.sampled_from([1.0, 1.0, 0.5, 0.05])
int_lists = st.lists(st.integers(min_value=0, max_value=6000), max_size=4000)


def ds(values, lg_k=12, p=1.0):
    d = update_theta_sketch(lg_k, p)
    for v in values:
        if v != "":
            d.update(v)
    return d


def ours(values, lg_k=12, p=1.0):
    s = ThetaSketch(lg_k, p)
    s.update(values)
    return s


def same(s: ThetaSketch, d) -> bool:
    return (
        s.to_bytes() == d.serialize()
        and s.to_bytes(compressed=True) == d.serialize(True)
        and s.estimate() == d.get_estimate()
        and all(s.lower_bound(n) == d.get_lower_bound(n) for n in (1, 2, 3))
        and all(s.upper_bound(n) == d.get_upper_bound(n) for n in (1, 2, 3))
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(items, max_size=300), lg_ks, ps)
def test_update_equals_datasketches_and_round_trips(values, lg_k, p):
    s = ours(values, lg_k, p)
    d = ds(values, lg_k, p).compact()
    assert same(s, d)
    for compressed in (False, True):
        back = ThetaSketch.from_bytes(s.to_bytes(compressed))
        assert same(back, compact_theta_sketch.deserialize(s.to_bytes(compressed)))


@settings(max_examples=100, deadline=None)
@given(int_lists, int_lists, int_lists, lg_ks, ps)
def test_set_operations_equal_datasketches(a_vals, b_vals, c_vals, lg_k, p):
    a, b, c = ours(a_vals, lg_k, p), ours(b_vals, lg_k, p), ours(c_vals, 7)
    da, db, dc = ds(a_vals, lg_k, p), ds(b_vals, lg_k, p), ds(c_vals, 7)
    for union_lg_k in (lg_k, 9):
        u = theta_union(union_lg_k)
        for d in (da, db, dc):
            u.update(d)
        assert same(ThetaSketch.union([a, b, c], lg_k=union_lg_k), u.get_result())
        images = [x.to_bytes() for x in (a, b, c)]
        assert same(ThetaSketch.union(images, lg_k=union_lg_k), u.get_result())
    # By default the union takes the largest lg_k of its update sketches.
    u = theta_union(max(lg_k, 7))
    for d in (da, db, dc):
        u.update(d)
    assert same(ThetaSketch.union([a, b, c]), u.get_result())
    i = theta_intersection()
    for d in (da, db, dc):
        i.update(d)
    assert same(ThetaSketch.intersection([a, b, c]), i.get_result())
    assert same(a - b, theta_a_not_b().compute(da, db))
    assert list(a.jaccard(b)) == theta_jaccard_similarity.jaccard(da, db)
    # Set algebra the sketches get exactly right while exact (theta 1, below k).
    if max(len(set(a_vals)), len(set(b_vals))) < 2**lg_k and p == 1.0:
        sa, sb = set(a_vals), set(b_vals)
        assert (a - b).estimate() == len(sa - sb)
        assert (a & b).estimate() == len(sa & sb)


def entries(s: ThetaSketch) -> tuple[int, list[int]]:
    """(theta64, retained hashes) from a compact ordered image."""
    image = s.to_bytes()
    theta = int.from_bytes(image[16:24], "little") if image[0] == 3 else 2**63 - 1
    hashes = np.frombuffer(image[8 * image[0] :], dtype="<u8") if image[0] > 1 else image[8:]
    return theta, [int(h) for h in np.frombuffer(bytes(hashes), dtype="<u8")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=3000))
def test_any_order_keeps_exactly_the_hashes_below_theta(values):
    """Theta depends on the order of updates; the retained set never does: it is every
    distinct hash below theta."""
    exact_theta, every = entries(ours(values, 20))
    assert exact_theta == 2**63 - 1 and len(every) == len(set(values))
    rng = np.random.default_rng(len(values))
    for order in (values, values[::-1], rng.permutation(np.array(values + values))):
        theta, kept = entries(ours(order, 5))
        assert kept == [h for h in every if h < theta]
