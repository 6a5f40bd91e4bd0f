"""Theta sketches: sketchbox against datasketches-python, side by side in one run.

    python benchmarks/bench_theta.py

datasketches-python has no bulk Theta update: its fastest way is a Python loop over
`update_theta_sketch.update`, which is what a user would write; the loop is timed over
1 M items and its rate compared with ours over 10 M (rates are per item, so the sizes
scale). The union rows use 10,000 images of 5,000 distinct items each (distinct
ranges, built with sketchbox's bulk update and serialized once); both libraries start
from the same bytes. from_bytes checks every entry of an image (non-zero, below theta,
strictly increasing); datasketches' deserialize copies them unchecked. Best of 3 runs
(2 for the slow peer loop), time.perf_counter.
"""

from __future__ import annotations

import numpy as np
from _harness import Table, best_of
from datasketches import compact_theta_sketch, theta_union, update_theta_sketch

from sketchbox import ThetaSketch

N_SKETCHES = 10_000
PER_SKETCH = 5_000


def ds_loop(values, lg_k=12):
    d = update_theta_sketch(lg_k)
    u = d.update
    for v in values:
        u(v)
    return d


def ds_union_from_bytes(images):
    u = theta_union(12)
    for b in images:
        u.update(compact_theta_sketch.deserialize(b))
    return u.get_result()


def ds_union_of_sketches(sketches):
    u = theta_union(12)
    for s in sketches:
        u.update(s)
    return u.get_result()


def main() -> None:
    t = Table("Theta sketch (lg_k 12)")
    rng = np.random.default_rng(42)
    ints = rng.integers(0, 2**62, 10_000_000)
    ints_list_1m = ints[:1_000_000].tolist()

    ours = best_of(lambda: ThetaSketch(12).update(ints))
    peer = best_of(lambda: ds_loop(ints_list_1m), repeat=2)
    t.rate("update, 10 M int64 NumPy", ours, 10e6, "datasketches loop (1 M)", peer, 1e6, 30)

    def ours_scalar():
        s = ThetaSketch(12)
        u = s.update
        for v in ints_list_1m:
            u(v)
        s.estimate()

    t.rate(
        "scalar update in a Python loop, 1 M int",
        best_of(ours_scalar),
        1e6,
        "datasketches loop",
        peer,
        1e6,
        None,
    )

    images = []
    for i in range(N_SKETCHES):
        s = ThetaSketch(12)
        s.update(np.arange(i * PER_SKETCH, (i + 1) * PER_SKETCH, dtype=np.int64))
        images.append(s.to_bytes())
    assert ThetaSketch.union(images).to_bytes() == ds_union_from_bytes(images).serialize()

    ours = best_of(lambda: ThetaSketch.union(images))
    peer = best_of(lambda: ds_union_from_bytes(images))
    t.rate(
        f"union of {N_SKETCHES:,} images ({PER_SKETCH:,} entries)",
        ours,
        N_SKETCHES,
        "datasketches union of deserialize()",
        peer,
        N_SKETCHES,
        5,
        unit="sketches/s",
    )

    our_sketches = [ThetaSketch.from_bytes(b) for b in images]
    ds_sketches = [compact_theta_sketch.deserialize(b) for b in images]
    ours = best_of(lambda: ThetaSketch.union(our_sketches))
    peer = best_of(lambda: ds_union_of_sketches(ds_sketches))
    t.rate(
        f"union of {N_SKETCHES:,} sketch objects",
        ours,
        N_SKETCHES,
        "datasketches theta_union",
        peer,
        N_SKETCHES,
        None,
        unit="sketches/s",
    )

    ours = best_of(lambda: [s.to_bytes() for s in our_sketches])
    peer = best_of(lambda: [d.serialize() for d in ds_sketches])
    t.rate(
        f"to_bytes, {N_SKETCHES:,} sketches ({PER_SKETCH:,} entries)",
        ours,
        N_SKETCHES,
        "datasketches serialize",
        peer,
        N_SKETCHES,
        None,
        unit="sketches/s",
    )
    ours = best_of(lambda: [ThetaSketch.from_bytes(b) for b in images])
    peer = best_of(lambda: [compact_theta_sketch.deserialize(b) for b in images])
    t.rate(
        f"from_bytes, {N_SKETCHES:,} images ({PER_SKETCH:,} entries)",
        ours,
        N_SKETCHES,
        "datasketches deserialize",
        peer,
        N_SKETCHES,
        None,
        unit="sketches/s",
    )
    t.print()


if __name__ == "__main__":
    main()
