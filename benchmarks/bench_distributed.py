"""sketchbox.dask against Dask's own approximations, on a 2-process LocalCluster, in one run.

    pip install '.[bench,dask]' crick   # crick for Dask's quantile(method="tdigest")
    python benchmarks/bench_distributed.py

A 20 M-row int64 column in 8 partitions: `sketchbox.dask.nunique` (HyperLogLog, lg_k 16)
vs Dask's `nunique_approx` (its own 32-bit-hash HyperLogLog) vs exact `nunique`; and
`sketchbox.dask.quantiles` (KLL, k 200) vs `quantile(method="tdigest")` and exact
quantiles. Reports wall time (first run, after the data is persisted) and error
against the exact answer.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd


def best(fn, repeat: int = 1):
    """Wall time of the first run: Dask keeps the results of a graph it has computed
    while their keys live, so a repeated identical computation would time a cache hit."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    import dask.dataframe as dd
    import distributed

    import sketchbox.dask as sd

    rows, parts = 20_000_000, 8
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5_000_000, rows)
    latency = rng.lognormal(3, 1, rows)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        ddf = dd.from_pandas(pd.DataFrame({"v": values, "lat": latency}), npartitions=parts)
        ddf = client.persist(ddf)
        distributed.wait(ddf)
        exact_n = len(np.unique(values))
        ranks = [0.01, 0.25, 0.5, 0.75, 0.99]
        exact_q = np.quantile(latency, ranks)
        sorted_lat = np.sort(latency)

        def rank_err(qs):
            got = np.searchsorted(sorted_lat, np.asarray(qs, dtype=float)) / rows
            return float(np.max(np.abs(got - np.asarray(ranks))))

        # Warm-up on other data: every worker imports sketchbox and crick once.
        tiny = dd.from_pandas(pd.DataFrame({"v": np.arange(1000), "lat": np.ones(1000)}), 2)
        sd.nunique(tiny.v), sd.quantiles(tiny.lat, [0.5]), tiny.v.nunique_approx().compute()
        # (Dask reports a missing crick as a RuntimeError from inside the graph: ask first)
        has_crick = importlib.util.find_spec("crick") is not None
        if has_crick:
            tiny.lat.quantile([0.5], method="tdigest").compute()
        t_ours, ours = best(lambda: sd.nunique(ddf.v))
        t_dask, dask_approx = best(lambda: ddf.v.nunique_approx().compute())
        t_exact, exact = best(lambda: ddf.v.nunique().compute(), repeat=1)
        assert exact == exact_n
        print(f"\n### distinct count, {rows:,} int64 in {parts} partitions, 2 workers\n")
        print("| method | wall s | relative error | sketchbox faster by |")
        print("|---|---|---|---|")
        for name, t, est in (
            ("sketchbox.dask.nunique (HLL lg_k 16)", t_ours, ours),
            ("dask nunique_approx", t_dask, dask_approx),
            ("dask nunique (exact)", t_exact, exact),
        ):
            err = abs(est - exact_n) / exact_n
            print(f"| {name} | {t:.2f} | {100 * err:.2f} % | {t / t_ours:.1f}x |")

        t_oq, oq = best(lambda: sd.quantiles(ddf.lat, ranks))
        rows_q = [("sketchbox.dask.quantiles (KLL k 200)", t_oq, oq)]
        if has_crick:
            t_td, td = best(lambda: ddf.lat.quantile(ranks, method="tdigest").compute())
            rows_q.append(("dask quantile(method='tdigest') (crick)", t_td, td.to_numpy()))
        else:
            print("\n(crick is not installed here: no t-digest comparison)")
        t_dq, dq = best(lambda: ddf.lat.quantile(ranks).compute(), repeat=1)
        rows_q.append(("dask quantile (default, approximate)", t_dq, dq.to_numpy()))
        print(f"\n### quantiles {ranks}, {rows:,} float64\n")
        print("| method | wall s | max rank error | sketchbox faster by |")
        print("|---|---|---|---|")
        for name, t, q in rows_q:
            print(f"| {name} | {t:.2f} | {100 * rank_err(q):.3f} % | {t / t_oq:.1f}x |")
        print(f"\n(exact quantiles: {np.round(exact_q, 3).tolist()})")


if __name__ == "__main__":
    main()
