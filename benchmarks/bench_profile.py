"""`sketchbox profile` against the tools people use to summarise a file, in one run:
DuckDB's SUMMARIZE, pandas describe() + nunique(), and whylogs (if it installs).

    pip install '.[bench]'
    python benchmarks/bench_profile.py [--rows 10000000]

Generates (once, into benchmarks/.data/) a Parquet file of 8 columns (ints, floats, low-
and high-cardinality strings, timestamps; with nulls) and its CSV twin, then runs each
tool in its own process (best of 2) and reports wall time, peak RSS and ratios, and the
accuracy of the approximate answers: distinct counts (relative error against exact) and
quartiles (rank error against the exact sorted values).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, ".data")
CHECKED = ["user_id", "amount", "score", "city", "event_time"]


def make_data(rows: int) -> tuple[str, str]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    os.makedirs(DATA, exist_ok=True)
    parquet = os.path.join(DATA, f"profile_{rows}.parquet")
    csv = os.path.join(DATA, f"profile_{rows}.csv")
    if os.path.exists(parquet) and os.path.exists(csv):
        return parquet, csv
    rng = np.random.default_rng(7)
    cities = pa.array(["Zürich", "Genève", "Bern", "Basel", "Lausanne", "Luzern", "Lugano"])

    def nulls(p: float):
        return rng.random(rows) < p

    user = rng.integers(0, rows // 4, rows)
    table = pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "user_id": pa.array(user, mask=nulls(0.01)),
            "amount": pa.array(np.round(rng.lognormal(3, 1, rows), 2), mask=nulls(0.05)),
            "score": pa.array(rng.normal(0, 1, rows)),
            "city": pc.take(cities, pa.array(rng.zipf(1.5, rows) % 7)),
            "user_name": pc.binary_join_element_wise("user-", pa.array(user).cast(pa.string()), ""),
            "event_time": pa.array(
                np.datetime64("2026-01-01")
                + rng.integers(0, 365 * 86400, rows).astype("timedelta64[s]"),
                mask=nulls(0.02),
            ),
            "quantity": pa.array(rng.integers(1, 20, rows).astype(np.int32)),
        }
    )
    pq.write_table(table, parquet, row_group_size=1 << 20)
    pcsv.write_csv(table, csv)
    return parquet, csv


# Each tool runs in a fresh process that prints {"seconds", "rss_mb", "answers"}.
RUNNERS = {
    "sketchbox": """
        import sketchbox
        doc = sketchbox.profile(PATH).to_dict()["columns"]
        answers = {c: {"distinct": doc[c]["distinct"]["estimate"],
                       "q": [doc[c]["quantiles"][k] for k in ("0.25", "0.5", "0.75")]}
                   for c in CHECKED}
    """,
    "sketchbox, k 200": """
        import sketchbox
        doc = sketchbox.profile(PATH, k=200).to_dict()["columns"]
        answers = {c: {"distinct": doc[c]["distinct"]["estimate"],
                       "q": [doc[c]["quantiles"][k] for k in ("0.25", "0.5", "0.75")]}
                   for c in CHECKED}
    """,
    "duckdb SUMMARIZE": """
        import duckdb
        src = f"read_csv_auto('{PATH}')" if PATH.endswith(".csv") else f"'{PATH}'"
        rel = duckdb.sql(f"SUMMARIZE SELECT * FROM {src}")
        rows = {r[0]: r for r in rel.fetchall()}
        names = [d[0] for d in rel.description]
        answers = {}
        for c in CHECKED:
            r = dict(zip(names, rows[c]))
            answers[c] = {"distinct": float(r["approx_unique"]),
                          "q": [r["q25"], r["q50"], r["q75"]]}
    """,
    "pandas describe+nunique": """
        import pandas as pd
        df = pd.read_csv(PATH) if PATH.endswith(".csv") else pd.read_parquet(PATH)
        d = df.describe(include="all")
        u = df.nunique()
        answers = {c: {"distinct": float(u[c]), "q": None} for c in CHECKED}
    """,
    "whylogs why.log": """
        import pandas as pd
        import whylogs as why
        df = pd.read_csv(PATH) if PATH.endswith(".csv") else pd.read_parquet(PATH)
        view = why.log(df).view().to_pandas()
        answers = {c: {"distinct": float(view.loc[c, "cardinality/est"]), "q": None}
                   for c in CHECKED}
    """,
}

PRELUDE = """
import json, sys, time
PATH, CHECKED = sys.argv[1], json.loads(sys.argv[2])
t = time.perf_counter()
"""
EPILOGUE = """
seconds = time.perf_counter() - t
# VmHWM: this process's peak RSS (ru_maxrss would carry the parent's across exec).
rss = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM")) / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "answers": answers}, default=str))
"""


def run_tool(name: str, path: str) -> dict | None:
    code = PRELUDE + textwrap.dedent(RUNNERS[name]) + EPILOGUE
    best = None
    for _ in range(2):
        r = subprocess.run(
            [sys.executable, "-c", code, path, json.dumps(CHECKED)],
            capture_output=True,
            text=True,
            cwd=HERE,
        )
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["?"])[-1]
            print(f"  {name}: did not run ({last})")
            return None
        out = json.loads(r.stdout.strip().splitlines()[-1])
        if best is None or out["seconds"] < best["seconds"]:
            best = out
    return best


def exact_answers(path: str) -> dict:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=CHECKED)
    out = {}
    for c in CHECKED:
        col = t.column(c).drop_null()
        if str(col.type).startswith("timestamp"):
            col = col.cast("timestamp[s]").cast("int64")  # seconds, as ISO strings parse
        values = None if str(col.type) == "string" else np.sort(col.to_numpy())
        out[c] = {"distinct": len(pc.unique(t.column(c).drop_null())), "sorted": values}
    return out


def rank_error(sorted_values, v) -> float:
    import numpy as np

    if isinstance(v, str):  # DuckDB's quartiles are text; temporal ones ISO 8601
        try:
            v = float(v)
        except ValueError:
            v = np.datetime64(v.replace(" ", "T")[:19], "s").astype(np.int64)
    n = len(sorted_values)
    return float(np.searchsorted(sorted_values, float(v), side="right")) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    parquet, csv = make_data(args.rows)
    exact = exact_answers(parquet)
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    print(f"\n{args.rows:,} rows x 8 columns; {os.cpu_count()} cores; {cpu}")
    for label, path in (("Parquet", parquet), ("CSV", csv)):
        size = os.path.getsize(path) / 2**20
        print(f"\n### {label} ({size:,.0f} MiB)\n")
        results = {name: run_tool(name, path) for name in RUNNERS}
        ours = results["sketchbox"]
        print(
            "| tool | wall s | peak RSS MiB | sketchbox is faster by | distinct rel. error "
            "(mean, max) | quartile rank error (max) |"
        )
        print("|---|---|---|---|---|---|")
        for name, r in results.items():
            if r is None:
                print(f"| {name} | did not run | | | | |")
                continue
            errs = [
                abs(r["answers"][c]["distinct"] - exact[c]["distinct"]) / exact[c]["distinct"]
                for c in CHECKED
            ]
            qerr = []
            for c in CHECKED:
                q, s = r["answers"][c]["q"], exact[c]["sorted"]
                if q is not None and s is not None:
                    qerr += [abs(rank_error(s, v) - want) for v, want in zip(q, (0.25, 0.5, 0.75))]
            speed = ours["seconds"] / r["seconds"] if ours else float("nan")
            print(
                f"| {name} | {r['seconds']:.2f} | {r['rss_mb']:,.0f} | "
                f"{1 / speed:.1f}x | {100 * sum(errs) / len(errs):.2f} %, "
                f"{100 * max(errs):.2f} % | "
                + (f"{100 * max(qerr):.3f} %" if qerr else "n/a")
                + " |"
            )
        print(
            "\ntargets (Parquet): no slower than DuckDB SUMMARIZE, >= 10x pandas, peak RSS below "
            "DuckDB's; distinct and quartiles closer to exact than DuckDB's"
        )


if __name__ == "__main__":
    main()
