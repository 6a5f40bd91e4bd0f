"""Unions of many images in one call (HyperLogLog.union, KllSketch.union,
ThetaSketch.union) against datasketches-python's loop of deserialize + union update.

    python benchmarks/bench_union.py

Images are built once (with datasketches-python, so both sides start from the same
bytes: HLL lg_k 12 HLL_4 in HLL mode, KLL doubles k 200, compact Theta lg_k 12) and
both libraries merge all of them; results are checked equal (HLL, Theta: images; KLL:
n). Best of 3 runs (2 for the peer loops), time.perf_counter. For KLL, whose unions are
approximate, also the accuracy: the mean over 20 unions of the largest rank error at 999
evenly spaced ranks, against the exact ranks of the 4 M merged values.
"""

from __future__ import annotations

import numpy as np
from _harness import Table, best_of_pair
from datasketches import (
    compact_theta_sketch,
    hll_sketch,
    hll_union,
    kll_doubles_sketch,
    tgt_hll_type,
    theta_union,
)

from sketchbox import HyperLogLog, KllSketch, ThetaSketch

N_HLL = 100_000
N_KLL = 10_000
N_THETA = 10_000


def hll_images() -> list[bytes]:
    base = []
    for i in range(1000):  # 1,000 distinct images, each 100 times
        h = HyperLogLog(12, "HLL_4")
        h.update(np.arange(i * 500, i * 500 + 20_000, dtype=np.int64))
        base.append(h.to_bytes())
    return base * (N_HLL // len(base))


def kll_images() -> list[bytes]:
    rng = np.random.default_rng(3)
    out = []
    for _ in range(N_KLL):
        k = KllSketch(200)
        k.update(rng.normal(size=2000))
        out.append(k.to_bytes())
    return out


def theta_images() -> list[bytes]:
    out = []
    for i in range(N_THETA):
        t = ThetaSketch(12)
        t.update(np.arange(i * 5000, (i + 1) * 5000, dtype=np.int64))
        out.append(t.to_bytes())
    return out


def ds_hll(images: list[bytes]) -> bytes:
    u = hll_union(12)
    for b in images:
        u.update(hll_sketch.deserialize(b))
    return u.get_result(tgt_hll_type.HLL_8).serialize_compact()


def kll_rank_errors(unions: int = 20, parts: int = 2000) -> tuple[float, str, float]:
    """Mean largest rank error of sketchbox's union and of datasketches' merge loop."""
    rng = np.random.default_rng(3)
    data = [rng.normal(size=2000) for _ in range(parts)]
    images = []
    for i, d in enumerate(data):
        k = KllSketch(200, seed=i)
        k.update(d)
        images.append(k.to_bytes())
    every = np.sort(np.concatenate(data))
    xs = every[(np.linspace(0.001, 0.999, 999) * every.size).astype(int)]
    exact = np.searchsorted(every, xs, side="right") / every.size
    ours = [np.abs(KllSketch.union(images, seed=s).ranks(xs) - exact).max() for s in range(unions)]
    theirs = []
    for _ in range(unions):
        u = ds_kll(images)
        theirs.append(np.abs(np.array([u.get_rank(x) for x in xs]) - exact).max())
    return float(np.mean(ours)), "kll merge loop", float(np.mean(theirs))


def ds_kll(images: list[bytes]) -> kll_doubles_sketch:
    u = kll_doubles_sketch(200)
    for b in images:
        u.merge(kll_doubles_sketch.deserialize(b))
    return u


def ds_theta(images: list[bytes]) -> bytes:
    u = theta_union(12)
    for b in images:
        u.update(compact_theta_sketch.deserialize(b))
    return u.get_result().serialize()


def main() -> None:
    t = Table("Unions of many images in one call")
    hll = hll_images()
    assert HyperLogLog.union(hll).to_bytes() == ds_hll(hll)
    ours, peer = best_of_pair(lambda: HyperLogLog.union(hll), lambda: ds_hll(hll))
    t.rate(
        f"HyperLogLog.union({N_HLL:,} lg_k 12 HLL_4 images)",
        ours,
        len(hll),
        "hll_union loop",
        peer,
        len(hll),
        10,
        "images/s",
    )
    kll = kll_images()
    assert KllSketch.union(kll).n == ds_kll(kll).n
    ours, peer = best_of_pair(lambda: KllSketch.union(kll), lambda: ds_kll(kll))
    t.rate(
        f"KllSketch.union({N_KLL:,} k 200 images)",
        ours,
        len(kll),
        "kll merge loop",
        peer,
        len(kll),
        5,
        "images/s",
    )
    t.measure(
        "KllSketch.union rank error (mean of the largest, 20 unions of 2,000 images)",
        *kll_rank_errors(),
        "{:.3%}",
    )
    theta = theta_images()
    assert ThetaSketch.union(theta).to_bytes() == ds_theta(theta)
    ours, peer = best_of_pair(lambda: ThetaSketch.union(theta), lambda: ds_theta(theta))
    t.rate(
        f"ThetaSketch.union({N_THETA:,} lg_k 12 images)",
        ours,
        len(theta),
        "theta_union loop",
        peer,
        len(theta),
        10,
        "images/s",
    )
    t.print()


if __name__ == "__main__":
    main()
