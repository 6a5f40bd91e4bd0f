"""HyperLogLog: sketchbox against datasketches-python and ekzhu's datasketch, in one run.

    python benchmarks/bench_hll.py

datasketches-python has no bulk HLL update: its fastest way is a Python loop over
`update`, which is what a user would write; the loop is timed over 1 M items and
its rate compared with ours over the full input.
"""

from __future__ import annotations

import numpy as np
from _harness import Table, best_of
from datasketches import hll_sketch

from sketchbox import HyperLogLog


def ds_loop(values, lg_k=12):
    d = hll_sketch(lg_k)
    u = d.update
    for v in values:
        u(v)
    return d


def main() -> None:
    t = Table("HyperLogLog (lg_k 12, HLL_8)")
    rng = np.random.default_rng(42)
    ints = rng.integers(0, 2**62, 10_000_000)
    ints_list_1m = ints[:1_000_000].tolist()

    def ours_bulk():
        HyperLogLog(12).update(ints)

    ours = best_of(ours_bulk)
    peer = best_of(lambda: ds_loop(ints_list_1m), repeat=2)
    t.rate("update, 10 M int64 NumPy", ours, 10e6, "datasketches loop over a list", peer, 1e6, 30)
    # What a user with a NumPy column runs: convert to Python ints, then loop.
    peer_np = best_of(lambda: ds_loop(ints[:1_000_000].tolist()), repeat=2)
    t.rate("update, 10 M int64 NumPy", ours, 10e6, "datasketches tolist() + loop", peer_np, 1e6, 30)
    exact = best_of(lambda: np.count_nonzero(np.diff(np.sort(ints))) + 1)
    t.rate("update, 10 M int64 NumPy", ours, 10e6, "exact np.sort+diff", exact, 10e6, None)

    try:
        from datasketch import HyperLogLog as EkzhuHLL

        def ekzhu():
            h = EkzhuHLL(p=12)
            for v in ints_list_1m[:200_000]:
                h.update(str(v).encode())

        t.rate(
            "update, 10 M int64 NumPy",
            ours,
            10e6,
            "datasketch (ekzhu) loop",
            best_of(ekzhu, repeat=1),
            200_000,
            None,
        )
    except ImportError:
        pass

    strs = [f"user-{i}" for i in range(1_000_000)]
    ours = best_of(lambda: HyperLogLog(12).update(strs), repeat=9)
    peer = best_of(lambda: ds_loop(strs), repeat=2)
    t.rate("update, 1 M Python str (list)", ours, 1e6, "datasketches loop", peer, 1e6, 2)

    try:
        import pyarrow as pa

        arrow = pa.array(strs)
        ours = best_of(lambda: HyperLogLog(12).update(arrow), repeat=9)
        t.rate("update, 1 M pyarrow strings", ours, 1e6, "datasketches loop", peer, 1e6, 10)
    except ImportError:
        pass

    def ours_scalar():
        h = HyperLogLog(12)
        u = h.update
        for v in ints_list_1m:
            u(v)

    ours = best_of(ours_scalar)
    peer = best_of(lambda: ds_loop(ints_list_1m))
    t.rate("scalar update in a Python loop, 1 M int", ours, 1e6, "datasketches loop", peer, 1e6, 1)

    h = HyperLogLog(12)
    h.update(ints[:1_000_000])
    d = ds_loop(ints_list_1m[:100_000])
    ours_img, ds_img = h.to_bytes(), d.serialize_compact()
    n = 10_000
    ours = best_of(lambda: [h.to_bytes() for _ in range(n)])
    peer = best_of(lambda: [d.serialize_compact() for _ in range(n)])
    t.rate(
        "to_bytes (compact, HLL mode)",
        ours,
        n,
        "datasketches serialize_compact",
        peer,
        n,
        1,
        unit="images/s",
    )
    ours = best_of(lambda: [HyperLogLog.from_bytes(ours_img) for _ in range(n)])
    peer = best_of(lambda: [hll_sketch.deserialize(ds_img) for _ in range(n)])
    t.rate(
        "from_bytes (compact, HLL mode)",
        ours,
        n,
        "datasketches deserialize",
        peer,
        n,
        1,
        unit="images/s",
    )
    t.print()


if __name__ == "__main__":
    main()
