"""FrequentItems: sketchbox against datasketches-python and exact counting, in one run.

    python benchmarks/bench_frequent.py

datasketches-python has no bulk update of its frequent sketches. Its fastest way on a
NumPy column is to count each 1 M chunk with `np.unique` and feed the uniques to a
weighted `update` loop; exact counting with `collections.Counter` fed the same
uniques is the other baseline. Strings: its loop over the Python strings.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
from _harness import Table, best_of, best_of_pair
from datasketches import frequent_items_sketch, frequent_strings_sketch

from sketchbox import FrequentItems

CHUNK = 1_000_000


def ds_unique_chunks(values: np.ndarray, lg: int = 10) -> frequent_items_sketch:
    d = frequent_items_sketch(lg)
    u = d.update
    for start in range(0, values.size, CHUNK):
        items, counts = np.unique(values[start : start + CHUNK], return_counts=True)
        for x, c in zip(items.tolist(), counts.tolist()):
            u(x, c)
    return d


def counter_unique_chunks(values: np.ndarray) -> Counter:
    c: Counter = Counter()
    for start in range(0, values.size, CHUNK):
        items, counts = np.unique(values[start : start + CHUNK], return_counts=True)
        c.update(dict(zip(items.tolist(), counts.tolist())))
    return c


def ds_loop_strings(values: list[str], lg: int = 10) -> frequent_strings_sketch:
    d = frequent_strings_sketch(lg)
    u = d.update
    for v in values:
        u(v)
    return d


def main() -> None:
    t = Table("FrequentItems (lg_max_map_size 10)")
    zipf = np.random.default_rng(42).zipf(1.1, 10_000_000).astype(np.int64)

    ours, peer = best_of_pair(
        lambda: FrequentItems(10).update(zipf), lambda: ds_unique_chunks(zipf)
    )
    t.rate(
        "update, 10 M zipf(1.1) int64", ours, 10e6, "datasketches np.unique+loop", peer, 10e6, 10
    )
    peer = best_of(lambda: counter_unique_chunks(zipf), repeat=2)
    t.rate("update, 10 M zipf(1.1) int64", ours, 10e6, "Counter fed np.unique", peer, 10e6, 2)

    low = np.random.default_rng(7).integers(0, 500, 10_000_000)
    ours = best_of(lambda: FrequentItems(10).update(low))
    peer = best_of(lambda: ds_unique_chunks(low), repeat=2)
    t.rate(
        "update, 10 M int64 of 500 values",
        ours,
        10e6,
        "datasketches np.unique+loop",
        peer,
        10e6,
        None,
    )

    strs = [f"user-{v}" for v in np.random.default_rng(9).zipf(1.1, 1_000_000).tolist()]
    arrow = pa.array(strs)
    ours, peer = best_of_pair(
        lambda: FrequentItems(10, dtype="str").update(arrow), lambda: ds_loop_strings(strs)
    )
    t.rate("update, 1 M pyarrow strings", ours, 1e6, "datasketches loop", peer, 1e6, 10)
    ours = best_of(lambda: FrequentItems(10, dtype="str").update(strs), repeat=5)
    t.rate("update, 1 M Python str (list)", ours, 1e6, "datasketches loop", peer, 1e6, None)
    t.print()


if __name__ == "__main__":
    main()
