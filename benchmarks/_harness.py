"""Side-by-side timing: best of N runs with perf_counter, results as a markdown table."""

from __future__ import annotations

import time
from typing import Callable


def best_of(
    fn: Callable[[], object], repeat: int = 3, clock: Callable[[], float] = time.perf_counter
) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def best_of_pair(
    ours: Callable[[], object],
    peer: Callable[[], object],
    rounds: int = 4,
    ours_per_round: int = 3,
) -> tuple[float, float]:
    """The best times of `ours` and of `peer`, run in alternation (`ours_per_round` runs
    of ours, then one of the peer, `rounds` times), so that both sample the same spells
    of a noisy machine: two best-of-N taken one after the other can straddle a slow
    spell and a quiet one, which moved ratios by 1.5x between runs here."""
    best_ours = best_peer = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, best_of(ours, ours_per_round))
        best_peer = min(best_peer, best_of(peer, 1))
    return best_ours, best_peer


class Table:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def rate(
        self,
        work: str,
        ours_s: float,
        ours_n: float,
        peer: str,
        peer_s: float,
        peer_n: float,
        target: float | None,
        unit: str = "items/s",
    ) -> float:
        """Adds a row comparing throughputs (n items in s seconds); returns the ratio."""
        ours, theirs = ours_n / ours_s, peer_n / peer_s
        ratio = ours / theirs
        self.rows.append(
            (
                work,
                f"{ours / 1e6:,.2f} M {unit}",
                f"{theirs / 1e6:,.2f} M {unit}",
                peer,
                f"{ratio:,.1f}x",
                "" if target is None else f">= {target:g}x {'ok' if ratio >= target else 'MISSED'}",
            )
        )
        return ratio

    def measure(self, work: str, ours: float, peer: str, theirs: float, fmt: str) -> None:
        """Adds a row comparing a measure other than speed (an error, a size), where
        lower is better: the ratio is ours / theirs, and no target."""
        self.rows.append(
            (work, fmt.format(ours), fmt.format(theirs), peer, f"{ours / theirs:,.2f}x", "")
        )

    def print(self) -> None:
        print(f"\n### {self.title}\n")
        print("| work | sketchbox | peer | peer is | ratio | target |")
        print("|---|---|---|---|---|---|")
        for r in self.rows:
            print("| " + " | ".join(r) + " |")
