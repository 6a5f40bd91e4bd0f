"""Spark SQL's top-k functions as the oracle of FrequentItems: the ``sketch`` field of
``approx_top_k_accumulate``'s state (a frequent-items image, then the null count) read
here answers as ``approx_top_k_estimate`` does, for bigint, double and string columns,
several sizes and several ``maxItemsTracked``; sketchbox's images put back into Spark's
state struct answer there as they do here; ``approx_top_k_combine`` of mixed Spark and
sketchbox states equals sketchbox's union.

One local SparkSession (the session ``spark`` fixture); each direction is one Spark job
over every case at once.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from sketchbox import FrequentItems

COLUMNS = {"l": "int64", "d": "float64", "s": "str"}  # bigint, double, string
MAX_ITEMS = [10, 64, 1000]
CASES = ["one", "small", "nulls", "zipf"]  # and "empty": an aggregate over no rows


def lg_map_size(max_items: int) -> int:
    """Spark's map size for ``maxItemsTracked``: the power of two at or above
    ``ceil(maxItemsTracked / 0.75)`` (ApproxTopK.calMaxMapSize)."""
    return math.ceil(math.log2(math.ceil(max_items / 0.75)))


def top_k_of(max_items: int) -> int:
    return min(max_items, 20)


def case_values(case: str) -> np.ndarray:
    rng = np.random.default_rng(2024)
    if case == "one":
        return np.array([42], dtype=np.int64)
    if case in ("small", "nulls"):
        return (np.arange(60, dtype=np.int64) * 7) % 13 - 4  # 13 items, counts 4 and 5
    return np.minimum(rng.zipf(1.3, 100_000), 10**12).astype(np.int64)


def typed(values: np.ndarray, column: str) -> list:
    if column == "l":
        return values.tolist()
    if column == "d":
        return (values * 0.5 - 3.25).tolist()
    return [f"item-{v}" for v in values.tolist()]


# The same cases generated inside Spark (no rows cross from Python): the items are
# Spark's, the answers compared are Spark's own.
SPARK_CASES = {
    "one": "SELECT 42L AS v FROM range(1)",
    "small": "SELECT (id * 7) % 13 - 4 AS v FROM range(60)",
    "nulls": "SELECT (id * 7) % 13 - 4 AS v FROM range(60) UNION ALL "
    "SELECT CAST(NULL AS BIGINT) AS v FROM range(7)",
    # Zipf-like: P(v >= x) ~ x^-0.3 (inverse transform of a seeded uniform), capped.
    "zipf": "SELECT CAST(least(floor(pow(rand(11), -1 / 0.3)), 1e12) AS BIGINT) AS v "
    "FROM range(100000)",
}


@pytest.fixture(scope="module")
def table(spark):
    """Every case as a group ``g`` of one DataFrame over 4 partitions (Spark's states are
    merges of partition states, as in real jobs), with bigint ``l``, double ``d`` and
    string ``s`` columns; and no rows, for the empty case."""
    sql = " UNION ALL ".join(
        f"SELECT '{case}' AS g, v AS l, CAST(v AS DOUBLE) * 0.5D - 3.25D AS d, "
        f"concat('item-', v) AS s "
        f"FROM ({query})"
        for case, query in SPARK_CASES.items()
    )
    df = spark.sql(sql).repartition(4).cache()
    return df, df.where("g = 'none'")


def name(column: str, m: int) -> str:
    return f"{column}_{m}"


@pytest.fixture(scope="module")
def spark_states(table):
    """{(case, column, maxItemsTracked): (state Row, approx_top_k_estimate(state, k) as
    (item, count) pairs)}: one job for the states, one for the estimates."""
    df, empty = table
    aggs = [
        F.expr(f"approx_top_k_accumulate({c}, {m})").alias(name(c, m))
        for c in COLUMNS
        for m in MAX_ITEMS
    ]
    states = (
        df.groupBy("g").agg(*aggs).unionByName(empty.agg(*aggs).selectExpr("'empty' AS g", "*"))
    )
    estimates = [
        F.expr(f"approx_top_k_estimate({name(c, m)}, {top_k_of(m)})").alias("e_" + name(c, m))
        for c in COLUMNS
        for m in MAX_ITEMS
    ]
    rows = states.select("*", *estimates).collect()
    return {
        (r["g"], c, m): (r[name(c, m)], [(e["item"], e["count"]) for e in r["e_" + name(c, m)]])
        for r in rows
        for c in COLUMNS
        for m in MAX_ITEMS
    }


@pytest.fixture(scope="module")
def java_sketch(spark):
    """Java's ItemsSketch read from a state's sketch field (datasketches-java in Spark's
    JVM, with the serde Spark uses for the column)."""
    jvm = spark._jvm
    common = jvm.org.apache.datasketches.common
    serdes = {
        "l": common.ArrayOfLongsSerDe(),
        "d": common.ArrayOfDoublesSerDe(),
        "s": common.ArrayOfStringsSerDe(),
    }

    def read(state, column: str):
        image = bytes(state.sketch)[:-8]  # the null count follows the image
        return jvm.org.apache.datasketches.frequencies.ItemsSketch.getInstance(
            jvm.org.apache.datasketches.memory.Memory.wrap(image), serdes[column]
        )

    return read


def test_spark_states_read_with_sparks_answers(spark_states, java_sketch):
    assert len(spark_states) == 5 * 3 * 3
    for (case, c, m), (state, expected) in spark_states.items():
        f = FrequentItems.from_bytes(bytes(state.sketch), dtype=COLUMNS[c])
        assert state.maxItemsTracked == m
        assert f.spark_top_k(top_k_of(m)) == expected, (case, c, m)
        assert f.null_count == (7 if case == "nulls" else 0)
        assert f.dtype == COLUMNS[c]
        assert f.spark == (c == "l")  # bigint states keep Spark's order
        if not f.is_empty():
            assert f.lg_max_map_size == lg_map_size(m), (case, c, m)
        # Java reads the same image to the same stream weight and error bound.
        java = java_sketch(state, c)
        assert (f.total_weight, f.maximum_error) == (
            java.getStreamLength(),
            java.getMaximumError(),
        ), (case, c, m)
        # The field round-trips, nulls included (reading rebuilds the map, as
        # DataSketches does, so the bytes may list the items in another order).
        back = FrequentItems.from_bytes(f.to_bytes(spark=True), dtype=COLUMNS[c])
        assert back.null_count == f.null_count
        assert back.top() == f.top() and back.total_weight == f.total_weight
    # Exact below the map's capacity: the small case lists its 13 items, heaviest first.
    small = FrequentItems.from_bytes(bytes(spark_states["small", "l", 1000][0].sketch))
    assert sorted(small.spark_top_k(20), key=lambda r: (-r[1], r[0]))[:2] == [(-4, 5), (-3, 5)]
    assert len(small.spark_top_k(20)) == 13
    nulls = spark_states["nulls", "s", 64][1]
    assert nulls[0] == (None, 7)  # the nulls lead: 7 beats every item's 4 or 5


def state_column(spark, fields: list[tuple[bytes, int, str]], ddl: dict[str, str]):
    """A DataFrame of Spark top-k states (column ``st``), one per (sketch field,
    maxItemsTracked, column), in the order given, in one partition."""
    pdf = pd.DataFrame(
        {
            "key": range(len(fields)),
            "sketch": [f for f, _, _ in fields],
            "m": [m for _, m, _ in fields],
            "c": [c for _, _, c in fields],
        }
    )
    df = spark.createDataFrame(pdf).coalesce(1)
    spark_type = {"l": "BIGINT", "d": "DOUBLE", "s": "STRING"}
    by_column = []
    for c in COLUMNS:
        by_column.append(
            df.where(F.col("c") == c).selectExpr(
                "key",
                f"named_struct('sketch', sketch, 'maxItemsTracked', CAST(m AS INT), "
                f"'itemDataType', CAST(NULL AS {spark_type[c]}), "
                f"'itemDataTypeDDL', '{ddl[c]}') AS st",
            )
        )
    return by_column


def test_sketchbox_states_answer_in_spark(spark, spark_states):
    ddl = {c: spark_states["one", c, 10][0].itemDataTypeDDL for c in COLUMNS}
    ours: dict[int, tuple[FrequentItems, int, str]] = {}
    fields = []
    for case in ["empty", *CASES]:
        for c in COLUMNS:
            for m in MAX_ITEMS:
                # Either order of int64 items: Spark answers from the state as it reads it.
                f = FrequentItems(lg_map_size(m), dtype=COLUMNS[c], spark=m != 64)
                if case != "empty":
                    f.update(typed(case_values(case), c))
                if case == "nulls":  # Spark's nulls carried into our sketch
                    f.merge(
                        FrequentItems.from_bytes(
                            bytes(spark_states[case, c, m][0].sketch), COLUMNS[c]
                        )
                    )
                ours[len(fields)] = (f, m, c)
                fields.append((f.to_bytes(spark=True), m, c))
    for states in state_column(spark, fields, ddl):
        parts = [
            states.where(f"st.maxItemsTracked = {m}").selectExpr(
                "key", f"approx_top_k_estimate(st, {top_k_of(m)}) AS e"
            )
            for m in MAX_ITEMS
        ]
        rows = functools.reduce(lambda a, b: a.unionByName(b), parts).collect()
        assert len(rows) == 5 * len(MAX_ITEMS)
        for r in rows:
            f, m, c = ours[r["key"]]
            answer = [(e["item"], e["count"]) for e in r["e"]]
            assert f.spark_top_k(top_k_of(m)) == answer, (r["key"], c, m)


def test_mixed_combines_equal_sketchbox_unions(spark, spark_states):
    """approx_top_k_combine of a Spark state and a sketchbox state (same maxItemsTracked),
    without a size (Spark sizes the result for 10^6 items) and with one, answers as
    sketchbox's union of the same two, and its state reads here with Spark's answers."""
    ddl = {c: spark_states["one", c, 10][0].itemDataTypeDDL for c in COLUMNS}
    rng = np.random.default_rng(7)
    other = np.minimum(rng.zipf(1.5, 20_000), 10**12).astype(np.int64)
    fields, pairs = [], {}
    for c in COLUMNS:
        for m in MAX_ITEMS:
            theirs = FrequentItems.from_bytes(
                bytes(spark_states["zipf", c, m][0].sketch), COLUMNS[c]
            )
            ours = FrequentItems(lg_map_size(m), dtype=COLUMNS[c])
            ours.update(typed(other, c))
            pairs[c, m] = (theirs, ours)
            fields.append((bytes(spark_states["zipf", c, m][0].sketch), m, c))
            fields.append((ours.to_bytes(spark=True), m, c))
    for c, states in zip(COLUMNS, state_column(spark, fields, ddl)):
        for m in MAX_ITEMS:
            k = top_k_of(m)
            pair = states.where(f"st.maxItemsTracked = {m}")
            row = pair.selectExpr(
                "approx_top_k_combine(st) AS free", f"approx_top_k_combine(st, {m}) AS sized"
            ).first()
            check = (
                pair.sparkSession.createDataFrame(
                    [(row.free,), (row.sized,)], "st " + pair.schema["st"].dataType.simpleString()
                )
                .selectExpr(f"approx_top_k_estimate(st, {k}) AS e")
                .collect()
            )
            theirs, ours = pairs[c, m]
            for state, lg, answer in zip(
                (row.free, row.sized), (lg_map_size(10**6), lg_map_size(m)), check
            ):
                union = FrequentItems.union([theirs, ours], lg_max_map_size=lg)
                assert union.spark == (c == "l")
                expected = [(e["item"], e["count"]) for e in answer.e]
                assert union.spark_top_k(k) == expected, (c, m, lg)
                read = FrequentItems.from_bytes(bytes(state.sketch), COLUMNS[c])
                assert read.spark_top_k(k) == expected
                assert read.total_weight == union.total_weight == 120_000
