"""Spark SQL as the oracle of KLL: the images of Spark's `kll_sketch_agg_bigint`,
`_float` and `_double` (Java DataSketches' KllLongsSketch, KllFloatsSketch and
KllDoublesSketch inside) read here answer exactly as Spark's `kll_sketch_get_quantile_*`,
`_get_rank_*` and `_get_n_*` do; sketchbox's images given to those functions answer as
sketchbox does; and `kll_merge_agg_*` over mixed Spark and sketchbox images writes
images that both sides read alike.

Spark's KLL functions have no search criterion: they are inclusive. They answer with
Java's query semantics, which sketchbox shares (see the kll module docs); rank 0.14 at
n = 200 and ranks 0 and 1 in estimation mode are among the checked points.

One Spark job builds every image (sizes x k x item type), one merges them and one query
asks every question (each rank and item array a literal of one expression), so the
module stays about a minute of Spark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from sketchbox import KllSketch

# empty, single item, few, exactly k (200), first compaction at k = 200, 10^5+
SIZES = [0, 1, 7, 200, 201, 1000, 120_000]
KS = [8, 200, 1000]
KINDS = {"bigint": "int64", "float": "float32", "double": "float64"}
COLUMN = {"bigint": "l", "float": "f", "double": "d"}
GRID = np.linspace(0, 1, 201)


def column_values(n: int) -> dict[str, np.ndarray]:
    """Deterministic columns of size n: bigints spread over +-2^59 whose low bits differ
    (so that a float round trip would lose them), doubles and floats with duplicates."""
    i = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(n)
    longs = ((i * 7919) % 1_000_003 - 500_000) * (1 << 40) + i
    doubles = np.round(rng.normal(size=n) * 1000, 1)
    return {"l": longs, "f": doubles.astype(np.float32), "d": doubles}


def ranks_for(n: int) -> np.ndarray:
    """201 evenly spaced ranks and i / n (every i up to n = 1000, else 601 of them)."""
    i = np.arange(n + 1) if n <= 1000 else np.unique(np.linspace(0, n, 601).astype(np.int64))
    extra = [0.14] if n == 200 else []  # 0.14 * 200 = 28.000000000000004
    return np.concatenate([GRID, i / max(n, 1), extra])


def probes_for(n: int, kind: str) -> np.ndarray:
    """Items to rank: a spread of the data, each with its neighbours, and beyond both ends."""
    v = np.sort(column_values(n)[COLUMN[kind]])
    picks = v[np.unique(np.linspace(0, n - 1, 101).astype(np.int64))]
    if kind == "bigint":
        return np.unique(np.concatenate([picks - 1, picks, picks + 1]))
    dtype = np.float32 if kind == "float" else np.float64
    step = np.array(0.05, dtype=dtype)
    return np.unique(np.concatenate([picks - step, picks, picks + step]).astype(dtype))


def literal(values: np.ndarray, kind: str) -> str:
    """A Spark SQL array literal holding exactly `values` (shortest round-trip reprs)."""
    if kind == "bigint":
        return "array(" + ", ".join(f"{int(v)}L" for v in values) + ")"
    if kind == "float":
        return "array(" + ", ".join(f"CAST({float(v)!r}D AS FLOAT)" for v in values) + ")"
    return "array(" + ", ".join(f"{float(v)!r}D" for v in values) + ")"


def ours_of(n: int, kind: str, k: int) -> KllSketch:
    s = KllSketch(k, KINDS[kind], seed=n * 1000 + k)
    s.update(column_values(n)[COLUMN[kind]])
    return s


@pytest.fixture(scope="module")
def images(spark):
    """[(n, kind, k, source, image)]: Spark's images ("spark", aggregated over 5
    partitions, so unions of partial sketches), sketchbox's ("ours") and Spark's merge of
    the two ("merged")."""
    parts = [pd.DataFrame({"n": np.full(n, n, dtype=np.int64), **column_values(n)}) for n in SIZES]
    df = spark.createDataFrame(pd.concat(parts, ignore_index=True)).repartition(5)
    aggs = [
        F.expr(f"kll_sketch_agg_{kind}({COLUMN[kind]}, {k})").alias(f"{kind}_{k}")
        for kind in KINDS
        for k in KS
    ]
    rows = [r.asDict() for r in df.where("n > 0").groupBy("n").agg(*aggs).collect()]
    rows += [{**r.asDict(), "n": 0} for r in df.where("n < 0").agg(*aggs).collect()]
    out = []
    for r in rows:
        for kind in KINDS:
            for k in KS:
                n = r["n"]
                out.append((n, kind, k, "spark", bytes(r[f"{kind}_{k}"])))
                out.append((n, kind, k, "ours", ours_of(n, kind, k).to_bytes()))
    pairs = spark.createDataFrame(out, "n long, kind string, k int, source string, img binary")
    merges = [
        F.expr(f"kll_merge_agg_{kind}(img) FILTER (WHERE kind = '{kind}')").alias(kind)
        for kind in KINDS
    ]
    for r in pairs.groupBy("n", "kind", "k").agg(*merges).collect():
        out.append((r["n"], r["kind"], r["k"], "merged", bytes(r[r["kind"]])))
    return out


@pytest.fixture(scope="module")
def answers(spark, images):
    """{(n, kind, k, source): (image, spark_n, quantiles, ranks)}: Spark's answers on
    every image, in one query (an expression per size and kind, each evaluated on its
    rows only)."""
    table = spark.createDataFrame(images, "n long, kind string, k int, source string, img binary")
    exprs = []
    for kind in KINDS:
        exprs.append(f"kll_sketch_get_n_{kind}(CASE WHEN kind = '{kind}' THEN img END) AS n_{kind}")
        for n in SIZES[1:]:  # Spark refuses quantiles and ranks of an empty sketch
            cond = f"CASE WHEN kind = '{kind}' AND n = {n} THEN"
            q = literal(ranks_for(n), "double")
            p = literal(probes_for(n, kind), kind)
            exprs.append(f"{cond} kll_sketch_get_quantile_{kind}(img, {q}) END AS q_{kind}_{n}")
            exprs.append(f"{cond} kll_sketch_get_rank_{kind}(img, {p}) END AS r_{kind}_{n}")
    result = {}
    for r in table.selectExpr("n", "kind", "k", "source", "img", *exprs).collect():
        n, kind = r["n"], r["kind"]
        result[(n, kind, r["k"], r["source"])] = (
            bytes(r["img"]),
            r[f"n_{kind}"],
            None if n == 0 else r[f"q_{kind}_{n}"],
            None if n == 0 else r[f"r_{kind}_{n}"],
        )
    return result


def test_every_image_answers_as_spark_does(answers):
    assert len(answers) == len(SIZES) * len(KINDS) * len(KS) * 3
    for (n, kind, k, source), (image, spark_n, spark_q, spark_r) in answers.items():
        where = (n, kind, k, source)
        s = KllSketch.from_bytes(image, KINDS[kind])
        assert s.n == spark_n == (2 * n if source == "merged" else n), where
        assert s.k == k, where
        if n == 0:
            assert s.is_empty(), where
            continue
        # identical quantiles at every rank (exact int64 items for bigint)
        q = s.quantiles(ranks_for(n))
        if kind == "bigint":
            assert q.dtype == np.int64 and q.tolist() == spark_q, where
        else:
            np.testing.assert_array_equal(q.astype(np.float64), np.array(spark_q), str(where))
        # identical ranks of items spread over the data, their neighbours and beyond
        np.testing.assert_array_equal(s.ranks(probes_for(n, kind)), spark_r, str(where))
        # Java's extremes: quantile(0) and quantile(1) are the exact min and max
        v = column_values(n)[COLUMN[kind]]
        assert (q[0], q[200]) == (v.min(), v.max()), where


def test_bigint_items_stay_exact_beyond_2_pow_53(answers):
    n = 120_000
    image, _, spark_q, _ = answers[(n, "bigint", 200, "spark")]
    s = KllSketch.from_bytes(image, "int64")
    data = set(column_values(n)["l"].tolist())
    assert max(abs(x) for x in spark_q) > 2**58
    # every answer is an item of the column, not a double's neighbour of one
    assert all(x in data for x in spark_q)
    assert all(int(x) in data for x in s.quantiles(GRID))
    assert s.min == min(data) and s.max == max(data)


def test_answers_are_within_the_rank_error(answers):
    # the merged images hold the column twice: the same true ranks
    for (n, kind, k, source), (image, *_rest) in answers.items():
        if n < 1000:
            continue
        s = KllSketch.from_bytes(image, KINDS[kind])
        v = np.sort(column_values(n)[COLUMN[kind]])
        true = np.searchsorted(v, s.quantiles(GRID), side="right") / n
        err = np.max(np.abs(true - GRID))
        assert err <= s.normalized_rank_error() + 1 / n, (n, kind, k, source)


def test_spark_and_sketchbox_images_of_small_inputs_hold_the_same_items(answers):
    # Without compaction neither side has a choice to make: the same items, n and
    # extremes, whatever order each writes level 0 in.
    for n in (1, 7, 200):
        for kind in KINDS:
            for k in KS:
                if n > k:
                    continue
                a = KllSketch.from_bytes(answers[(n, kind, k, "spark")][0], KINDS[kind])
                b = KllSketch.from_bytes(answers[(n, kind, k, "ours")][0], KINDS[kind])
                ranks = np.arange(n + 1) / n
                np.testing.assert_array_equal(a.quantiles(ranks), b.quantiles(ranks))
                assert a.to_dict() == b.to_dict()
