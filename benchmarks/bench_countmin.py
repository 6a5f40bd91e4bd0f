"""Count-Min: sketchbox's bulk update against datasketches-python, side by side.

    python benchmarks/bench_countmin.py

10 M int64 (zipf 1.1, NumPy) into CountMin(3, 2048) with one call, against the way
datasketches-python offers: a Python loop of `count_min_sketch.update` (it has no bulk
update), timed over 1 M items and compared per item. Both images are checked equal on
the 1 M prefix. Best of 3 runs (1 for the peer loop), time.perf_counter.
"""

from __future__ import annotations

import numpy as np
from _harness import Table, best_of
from datasketches import count_min_sketch

from sketchbox import CountMin

N = 10_000_000
N_PEER = 1_000_000


def ds_loop(values: list[int]) -> count_min_sketch:
    d = count_min_sketch(3, 2048, 9001)
    u = d.update
    for v in values:
        u(v)
    return d


def main() -> None:
    values = (np.random.default_rng(1).zipf(1.1, N) % (1 << 40)).astype(np.int64)
    prefix = values[:N_PEER].tolist()

    def ours() -> CountMin:
        c = CountMin(3, 2048)
        c.update(values)
        return c

    check = CountMin(3, 2048)
    check.update(values[:N_PEER])
    assert check.to_bytes() == ds_loop(prefix).serialize()
    t = Table("Count-Min bulk update, 10 M int64 (zipf 1.1)")
    t.rate(
        "CountMin(3, 2048).update(ndarray)",
        best_of(ours),
        N,
        "datasketches count_min_sketch loop",
        best_of(lambda: ds_loop(prefix), repeat=1),
        N_PEER,
        30,
    )
    t.print()


if __name__ == "__main__":
    main()
