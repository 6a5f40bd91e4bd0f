"""Spark SQL as the oracle of TupleSketch: the images Spark's ``tuple_sketch_agg_double``
and ``_integer`` write (Java DataSketches inside, unions of per-partition sketches) read
here with Spark's own estimates and summaries, sketchbox's images given to Spark's
functions answer as sketchbox does, and unions, intersections and differences of mixed
Spark and sketchbox images (Theta operands included) agree both ways.

One DataFrame serves the module; every check is one Spark job over all sizes, summary
types, modes and key columns at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from sketchbox import ThetaSketch, TupleSketch

# Empty, one key, exact, across estimation mode at lg_k 5 and 12, deep estimation mode.
SIZES = [0, 1, 10, 1000, 5000, 100_000]
MODES = ["sum", "min", "max", "alwaysone"]
SUMMARIES = {"double": "dv", "integer": "iv"}
KEYS = ["id", "s"]  # bigint and string keys
LG_K = {"sum": [5, 12], "min": [12], "max": [12], "alwaysone": [12]}


def rows(n: int) -> pd.DataFrame:
    """n rows whose keys repeat (about 2n/3 distinct), with double and int values."""
    i = np.arange(n, dtype=np.int64)
    ids = (i * 7919) % max(1, 2 * n // 3) - 5000
    return pd.DataFrame(
        {
            "n": np.full(n, n, dtype=np.int64),
            "id": ids,
            "s": [f"user-{v}" for v in ids.tolist()],
            "dv": ((i * 31) % 97) / 4.0 - 10.0,
            "iv": ((i * 31) % 97 - 40).astype(np.int32),
        }
    )


def cases():
    """(summary, mode, lg_k, key column) of every aggregate."""
    return [
        (summary, mode, lg, key)
        for summary in SUMMARIES
        for mode in MODES
        for lg in LG_K[mode]
        for key in KEYS
    ]


def name(case) -> str:
    return "_".join(map(str, case))


@pytest.fixture(scope="module")
def data(spark):
    local = {n: rows(n) for n in SIZES}
    pdf = pd.concat([local[n] for n in SIZES if n], ignore_index=True)
    df = spark.createDataFrame(pdf).repartition(4)
    return df, df.where("n < 0"), local


@pytest.fixture(scope="module")
def spark_images(data):
    """{(n, case): image} of Spark's aggregate for every size and case."""
    df, empty, _ = data
    exprs = {
        name(c): f"tuple_sketch_agg_{c[0]}({c[3]}, {SUMMARIES[c[0]]}, {c[2]}, '{c[1]}')"
        for c in cases()
    }
    aggregates = [F.expr(e).alias(k) for k, e in exprs.items()]
    out = {}
    for r in df.groupBy("n").agg(*aggregates).collect() + empty.agg(*aggregates).collect():
        n = r["n"] if "n" in r.asDict() else 0
        for c in cases():
            out[(n, c)] = bytes(r[name(c)])
    return out


def ask_spark(spark, inputs: dict, exprs: dict) -> dict:
    """Spark's answers, one job: ``inputs`` maps a key to ``(summary, a, b)`` images;
    ``exprs`` maps an answer name to an expression of ``a``, ``b`` and ``{t}`` (the
    summary type). {key: {name: value}}."""
    keys = list(inputs)
    frames = []
    for summary in SUMMARIES:
        idx = [i for i, k in enumerate(keys) if inputs[k][0] == summary]
        if not idx:
            continue
        pdf = pd.DataFrame(
            {
                "key": idx,
                "a": [inputs[keys[i]][1] for i in idx],
                "b": [inputs[keys[i]][2] for i in idx],
            }
        )
        cols = [f"{e.format(t=summary)} as {k}" for k, e in exprs.items()]
        frames.append((summary, pdf, cols))
    answers = {}
    for _summary, pdf, cols in frames:
        for r in _spark_rows(spark, pdf, cols):
            answers[keys[r["key"]]] = {k: r[k] for k in exprs}
    return answers


def _spark_rows(spark, pdf, cols):
    return spark.createDataFrame(pdf).selectExpr("key", *cols).collect()


QUERIES = {
    "estimate": "tuple_sketch_estimate_{t}(a)",
    **{f"summary_{m}": f"tuple_sketch_summary_{{t}}(a, '{m}')" for m in MODES},
}


def check_answers(sketch: TupleSketch, answer: dict, what) -> None:
    assert sketch.estimate() == pytest.approx(answer["estimate"], rel=1e-9, abs=0), what
    for m in MODES:
        ours, theirs = sketch.summary(m), answer[f"summary_{m}"]
        if sketch.summary_type == "integer":
            assert ours == theirs, (what, m)
        else:
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9), (what, m)


def test_spark_images_read_with_sparks_answers(spark, data, spark_images):
    local = data[2]
    truths = {(n, key): local[n][key].nunique() for n in SIZES for key in KEYS}
    inputs = {k: (k[1][0], img, img) for k, img in spark_images.items()}
    answers = ask_spark(spark, inputs, QUERIES)
    assert len(answers) == len(SIZES) * len(cases())
    estimation = 0
    for (n, case), image in spark_images.items():
        t = TupleSketch.from_bytes(image, summary=case[0])
        check_answers(t, answers[(n, case)], (n, case))
        assert t.to_bytes() == image  # written back byte for byte
        assert t.mode == (case[1] if t.num_retained else "sum")
        estimation += t.theta < 1
        truth = truths[(n, case[3])]
        assert t.lower_bound(3) <= truth <= t.upper_bound(3), (n, case)
    assert estimation >= 8  # the large sizes are in estimation mode


def sketchbox_sketch(local, n, case) -> TupleSketch:
    summary, mode, lg, key = case
    t = TupleSketch(lg_k=lg, summary=summary, mode=mode)
    frame = local[n]
    t.update(frame[key], frame[SUMMARIES[summary]])
    return t


def test_sketchbox_images_answer_in_spark(spark, data):
    _, _, local = data
    ours = {(n, c): sketchbox_sketch(local, n, c) for n in SIZES for c in cases()}
    inputs = {k: (k[1][0], t.to_bytes(), t.to_bytes()) for k, t in ours.items()}
    answers = ask_spark(spark, inputs, QUERIES)
    for k, t in ours.items():
        check_answers(t, answers[k], k)


def test_sketchbox_images_equal_sparks_for_one_partition(spark, data):
    """With one partition, Spark's aggregate is the compact image of one update sketch:
    sketchbox writes the same bytes for the same rows in the same order."""
    _, _, local = data
    frame = local[5000]
    one = spark.createDataFrame(frame).coalesce(1)
    exprs = {
        name(c): f"tuple_sketch_agg_{c[0]}({c[3]}, {SUMMARIES[c[0]]}, {c[2]}, '{c[1]}')"
        for c in cases()
    }
    row = one.agg(*[F.expr(e).alias(k) for k, e in exprs.items()]).first()
    for c in cases():
        assert sketchbox_sketch(local, 5000, c).to_bytes() == bytes(row[name(c)]), c


def test_mixed_set_operations_agree_both_ways(spark, data, spark_images):
    """Spark's union, intersection and difference of a Spark image and a sketchbox image
    (of shifted rows), and of a Spark image and a sketchbox Theta image, are the images
    sketchbox computes from the same two images."""
    _, _, local = data
    records, ours = [], {}
    for n in SIZES:
        for c in cases():
            summary, mode, lg, key = c
            if key != "id" or lg != 12:
                continue
            shifted = local[n].copy()
            shifted["id"] += n // 2
            b = TupleSketch(summary=summary, mode=mode)
            b.update(shifted["id"], shifted[SUMMARIES[summary]])
            theta = ThetaSketch()
            theta.update(shifted["id"])
            a = TupleSketch.from_bytes(spark_images[(n, c)], summary=summary)
            ours[(n, c)] = {
                "union": TupleSketch.union([a, b], lg_k=12, mode=mode),
                "intersection": TupleSketch.intersection([a, b], mode=mode),
                "difference": a - b,
                "union_theta": TupleSketch.union([a, theta], lg_k=12, mode=mode),
                "intersection_theta": TupleSketch.intersection([a, theta], mode=mode),
                "difference_theta": a - theta,
            }
            records.append((n, c, spark_images[(n, c)], b.to_bytes(), theta.to_bytes()))
    exprs = {
        "union": "tuple_union_{t}(a, b, 12, '{m}')",
        "intersection": "tuple_intersection_{t}(a, b, '{m}')",
        "difference": "tuple_difference_{t}(a, b)",
        "union_theta": "tuple_union_theta_{t}(a, th, 12, '{m}')",
        "intersection_theta": "tuple_intersection_theta_{t}(a, th, '{m}')",
        "difference_theta": "tuple_difference_theta_{t}(a, th)",
    }
    checked = 0
    # One job per summary type and mode: both are literals of Spark's function calls.
    for summary in SUMMARIES:
        for mode in MODES:
            subset = [r for r in records if r[1][0] == summary and r[1][1] == mode]
            pdf = pd.DataFrame(
                {
                    "key": range(len(subset)),
                    "a": [r[2] for r in subset],
                    "b": [r[3] for r in subset],
                    "th": [r[4] for r in subset],
                }
            )
            cols = [f"{e.format(t=summary, m=mode)} as {op}" for op, e in exprs.items()]
            for row in spark.createDataFrame(pdf).selectExpr("key", *cols).collect():
                n, c = subset[row["key"]][:2]
                for op in exprs:
                    theirs = TupleSketch.from_bytes(bytes(row[op]), summary=summary)
                    mine = ours[(n, c)][op]
                    assert theirs.to_bytes() == mine.to_bytes(), (n, c, op)
                    assert theirs.estimate() == mine.estimate(), (n, c, op)
                    checked += 1
    assert checked == len(SIZES) * len(SUMMARIES) * len(MODES) * len(exprs)
