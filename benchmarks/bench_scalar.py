"""The scalar path: 1 M ``update(i)`` calls, one item each, per family.

    python benchmarks/bench_scalar.py

Compares what sketchbox ships (scalars buffered, 2,048 per native call) with one native
call per item (what an unbuffered ``update`` would cost at least: a type test and the
call) and with a caller that batches explicitly (2,048-item lists), against
datasketches-python's loop. Times are CPU ns per item (process time: the work is one
Python thread, and CPU time holds steadier than wall time on a shared machine), best of 5.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from datasketches import hll_sketch, kll_doubles_sketch, update_theta_sketch

from sketchbox import HyperLogLog, KllSketch, ThetaSketch
from sketchbox._base import check
from sketchbox._native import lib

N = 1_000_000
BATCH = 2048


def best_of(fn: Callable[[], None], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def buffered(make: Callable[[], Any], conv: Callable[[int], Any]) -> Callable[[], None]:
    def run() -> None:
        s = make()
        update = s.update
        for i in range(N):
            update(conv(i))
        s.is_empty()  # a query: the last buffered items are applied

    return run


def unbuffered(make: Callable[[], Any], one: Any, conv: Callable[[int], Any]) -> Callable[[], None]:
    def run() -> None:
        s = make()
        p = s._p()

        def update(v: Any) -> None:
            t = type(v)
            if t is int or t is float:
                rc = one(p, v)
                if rc:
                    check(rc)

        for i in range(N):
            update(conv(i))

    return run


def batched(make: Callable[[], Any], conv: Callable[[int], Any]) -> Callable[[], None]:
    def run() -> None:
        s = make()
        batch = []
        for i in range(N):
            batch.append(conv(i))
            if len(batch) == BATCH:
                s.update(batch)
                batch = []
        s.update(batch)

    return run


def peer(make: Callable[[], Any], conv: Callable[[int], Any]) -> Callable[[], None]:
    def run() -> None:
        d = make()
        update = d.update
        for i in range(N):
            update(conv(i))

    return run


def main() -> None:
    families = [
        ("HyperLogLog", HyperLogLog, lib.sk_hll_update_one_i64, int, lambda: hll_sketch(12)),
        ("ThetaSketch", ThetaSketch, lib.sk_theta_update_one_i64, int, update_theta_sketch),
        ("KllSketch", KllSketch, lib.sk_kll_update_one, float, lambda: kll_doubles_sketch(200)),
    ]
    print("\n### 1 M scalar updates, CPU ns per item (best of 5)\n")
    print(
        "| family | buffered (shipped) | one native call per item | batches of 2,048 "
        "| datasketches loop |"
    )
    print("|---|---|---|---|---|")
    for name, cls, one, conv, make_peer in families:
        times = [
            best_of(buffered(cls, conv)),
            best_of(unbuffered(cls, one, conv)),
            best_of(batched(cls, conv)),
            best_of(peer(make_peer, conv)),
        ]
        print(f"| {name} | " + " | ".join(f"{t / N * 1e9:,.0f}" for t in times) + " |")


if __name__ == "__main__":
    main()
