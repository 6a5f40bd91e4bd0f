"""KLL quantiles: sketchbox against datasketches-python and NumPy, in one run.

    python benchmarks/bench_kll.py

datasketches-python's kll_doubles_sketch has a vectorized update(ndarray) (it holds
the GIL); its per-rank queries are timed as the Python loop a user would write, and
its get_quantiles(list) as an extra row. The parallel row runs two threads updating
two sketches against the same two updates one after the other: its ratio is
sequential / parallel wall time (target >= 1/0.6 = 1.67x, i.e. parallel <= 0.6x).
"""

from __future__ import annotations

import threading
import time

import numpy as np
from _harness import Table, best_of
from datasketches import kll_doubles_sketch

from sketchbox import KllSketch

N = 10_000_000


def ours_update(x):
    s = KllSketch(200)
    s.update(x)
    return s


def ds_update(x):
    d = kll_doubles_sketch(200)
    d.update(x)
    return d


def per_call(fn, reps: int) -> float:
    """Seconds per call of fn, best of 3 runs of `reps` calls (results dropped)."""

    def run():
        for _ in range(reps):
            fn()

    return best_of(run) / reps


def parallel_seconds(fn, a, b) -> float:
    threads = [threading.Thread(target=fn, args=(x,)) for x in (a, b)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t


def main() -> None:
    t = Table("KLL (k 200, float64)")
    rng = np.random.default_rng(42)
    x = rng.normal(size=N)
    y = rng.normal(size=N)

    ours = best_of(lambda: ours_update(x))
    peer = best_of(lambda: ds_update(x))
    t.rate("update, 10 M normal float64 NumPy", ours, N, "datasketches update(ndarray)", peer, N, 3)
    exact = best_of(lambda: np.quantile(x, [0.5, 0.9, 0.99]))
    t.rate("update, 10 M normal float64 NumPy", ours, N, "exact np.quantile", exact, N, None)
    f32 = x.astype(np.float32)
    ours32 = best_of(lambda: KllSketch(200, "float32").update(f32))
    t.rate(
        "update, 10 M float32 (float32 sketch)", ours32, N, "datasketches (doubles)", peer, N, None
    )

    x_list = x[:1_000_000].tolist()

    def ours_scalar():
        s = KllSketch(200)
        u = s.update
        for v in x_list:
            u(v)
        s.n  # noqa: B018 - flushes the buffered scalars

    def ds_scalar():
        d = kll_doubles_sketch(200)
        u = d.update
        for v in x_list:
            u(v)

    t.rate(
        "scalar update in a Python loop, 1 M float",
        best_of(ours_scalar),
        1e6,
        "datasketches loop",
        best_of(ds_scalar),
        1e6,
        None,
    )

    s, d = ours_update(x), ds_update(x)
    ranks = np.linspace(0, 1, 1000)
    ranks_list = ranks.tolist()
    s.quantile(0.5), d.get_quantile(0.5)  # both sides cache their sorted view

    def ds_loop():
        g = d.get_quantile
        return [g(r, True) for r in ranks_list]

    reps = 200
    ours_q = per_call(lambda: s.quantiles(ranks), reps)
    peer_q = per_call(ds_loop, 20)
    t.rate(
        "quantiles of 1,000 sorted ranks",
        ours_q,
        1000,
        "datasketches get_quantile loop",
        peer_q,
        1000,
        10,
        "ranks/s",
    )
    peer_bulk = per_call(lambda: d.get_quantiles(ranks_list, True), 20)
    t.rate(
        "quantiles of 1,000 sorted ranks",
        ours_q,
        1000,
        "datasketches get_quantiles(list)",
        peer_bulk,
        1000,
        None,
        "ranks/s",
    )
    shuffled = rng.permutation(ranks)
    ours_u = per_call(lambda: s.quantiles(shuffled), reps)
    t.rate(
        "quantiles of 1,000 unsorted ranks",
        ours_u,
        1000,
        "datasketches get_quantile loop",
        peer_q,
        1000,
        None,
        "ranks/s",
    )
    items = np.quantile(x, ranks)
    items_list = items.tolist()
    ours_r = per_call(lambda: s.ranks(items), reps)
    peer_r = per_call(lambda: [d.get_rank(v, True) for v in items_list], 20)
    t.rate(
        "ranks of 1,000 items",
        ours_r,
        1000,
        "datasketches get_rank loop",
        peer_r,
        1000,
        None,
        "items/s",
    )

    seq = best_of(lambda: (ours_update(x), ours_update(y)))
    par = best_of(lambda: parallel_seconds(ours_update, x, y))
    t.rate(
        "2 threads x 10 M, 2 sketches (GIL released)",
        par,
        2 * N,
        "same, one after the other",
        seq,
        2 * N,
        1 / 0.6,
    )
    ds_seq = best_of(lambda: (ds_update(x), ds_update(y)))
    ds_par = best_of(lambda: parallel_seconds(ds_update, x, y))
    t.rate(
        "2 threads x 10 M, 2 sketches (GIL released)",
        par,
        2 * N,
        "datasketches, 2 threads",
        ds_par,
        2 * N,
        None,
    )
    # What this machine gives two threads at all: np.sort releases the GIL too.
    small = x[: N // 4]
    sort_seq = best_of(lambda: (np.sort(small), np.sort(small)))
    sort_par = best_of(lambda: parallel_seconds(np.sort, small, small))
    print(
        f"\nparallel / sequential wall time: sketchbox {par / seq:.2f}, "
        f"datasketches {ds_par / ds_seq:.2f}, np.sort (this machine's 2-thread scaling) "
        f"{sort_par / sort_seq:.2f}"
    )

    image, ds_image = s.to_bytes(), d.serialize()
    n = 10_000
    t.rate(
        "to_bytes (10 M items summarised)",
        per_call(s.to_bytes, n) * n,
        n,
        "datasketches serialize",
        per_call(d.serialize, n) * n,
        n,
        None,
        unit="images/s",
    )
    t.rate(
        "from_bytes",
        per_call(lambda: KllSketch.from_bytes(image), n) * n,
        n,
        "datasketches deserialize",
        per_call(lambda: kll_doubles_sketch.deserialize(ds_image), n) * n,
        n,
        None,
        unit="images/s",
    )
    parts = [KllSketch.from_bytes(image) for _ in range(100)]
    ds_parts = [kll_doubles_sketch.deserialize(ds_image) for _ in range(100)]

    def ours_merge():
        m = KllSketch(200)
        for p in parts:
            m.merge(p)

    def ds_merge():
        m = kll_doubles_sketch(200)
        for p in ds_parts:
            m.merge(p)

    t.rate(
        "merge 100 sketches",
        best_of(ours_merge),
        100,
        "datasketches merge",
        best_of(ds_merge),
        100,
        None,
        "sketches/s",
    )
    t.print()


if __name__ == "__main__":
    main()
