"""Spark SQL as a real client: the HLL and Theta images that Spark's own DataSketches
functions write (Java DataSketches inside) read here with Spark's answers, and the images
sketchbox writes given to Spark's functions answer as sketchbox does, unions of mixed
Spark and sketchbox images included.

One local SparkSession serves the module; each check is one Spark job over every size,
parameter and column type at once, so that the module stays well under a minute of Spark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from datasketches import compact_theta_sketch, hll_sketch
from pyspark.sql import functions as F

from sketchbox import CountMin, HyperLogLog, ThetaSketch

# Empty, LIST, SET, across LIST/SET/HLL transitions for small lg_k, deep HLL / estimation mode.
SIZES = [0, 1, 7, 100, 1000, 10_000, 100_000]
HLL_LG_K = [4, 5, 8, 11, 12, 16, 21]
THETA_LG_K = [5, 12, 16]
COLUMNS = ["id", "s", "b"]  # bigint, string, binary


def column_values(n: int, column: str):
    ids = np.arange(n, dtype=np.int64) * 7919 - 5000
    if column == "id":
        return ids
    strings = [f"user-{v}" for v in ids.tolist()]
    return strings if column == "s" else [s.encode() for s in strings]


@pytest.fixture(scope="module")
def data(spark):
    """Every size as a group of one DataFrame, spread over 5 partitions so that Spark's
    aggregates are unions of per-partition sketches, as in real jobs."""
    parts = [
        pd.DataFrame(
            {
                "n": np.full(n, n, dtype=np.int64),
                "id": column_values(n, "id"),
                "s": column_values(n, "s"),
                "b": column_values(n, "b"),
            }
        )
        for n in SIZES
        if n > 0
    ]
    df = spark.createDataFrame(pd.concat(parts, ignore_index=True)).repartition(5)
    return df, df.where("n < 0")  # size 0: an aggregate over no rows


def spark_images(df, empty, exprs: dict[str, str]) -> dict[tuple[int, str], bytes]:
    """{(n, name): image} of each aggregate expression, for every size."""
    aggregates = [F.expr(e).alias(k) for k, e in exprs.items()]
    rows = [r.asDict() for r in df.groupBy("n").agg(*aggregates).collect()]
    rows += [{**r.asDict(), "n": 0} for r in empty.agg(*aggregates).collect()]
    return {(r["n"], k): bytes(r[k]) for r in rows for k in exprs}


def spark_answers(spark, images: dict, exprs: dict[str, str]) -> dict:
    """Spark's answers for each image (column `a`, and `b` where an expression uses it):
    one job; {key: {expression name: value}}."""
    keys = list(images)
    pdf = pd.DataFrame(
        {
            "key": range(len(keys)),
            "a": [images[k][0] for k in keys],
            "b": [images[k][1] for k in keys],
        }
    )
    rows = spark.createDataFrame(pdf).selectExpr("key", *[f"{e} as {k}" for k, e in exprs.items()])
    return {keys[r["key"]]: {k: r[k] for k in exprs} for r in rows.collect()}


def hll_registers(image: bytes) -> bytes | None:
    """The register array of an updatable HLL_8 image in HLL mode, else None."""
    mode, hll_type, lg_k = image[7] & 3, image[7] >> 2, image[3]
    return image[40 : 40 + (1 << lg_k)] if mode == 2 and hll_type == 2 else None


@pytest.fixture(scope="module")
def hll_from_spark(data):
    df, empty = data
    exprs = {f"{c}_{lg}": f"hll_sketch_agg({c}, {lg})" for c in COLUMNS for lg in HLL_LG_K}
    return spark_images(df, empty, exprs)


def test_spark_hll_images_read_with_sparks_answers(spark, hll_from_spark):
    images = {k: (img, img) for k, img in hll_from_spark.items()}
    answers = spark_answers(spark, images, {"est": "hll_sketch_estimate(a)"})
    assert len(answers) == len(SIZES) * len(COLUMNS) * len(HLL_LG_K)
    for (n, name), image in hll_from_spark.items():
        column, lg_k = name.split("_")[0], int(name.split("_")[1])
        h = HyperLogLog.from_bytes(image)
        assert h.lg_k == lg_k
        # Spark's hll_sketch_estimate rounds; datasketches-python reads the same image exactly.
        assert round(h.estimate()) == answers[(n, name)]["est"], (n, name)
        d = hll_sketch.deserialize(image)
        assert h.estimate() == pytest.approx(d.get_estimate(), rel=1e-12, abs=0)
        for s in (1, 2, 3):
            assert h.lower_bound(s) == pytest.approx(d.get_lower_bound(s), rel=1e-12)
            assert h.upper_bound(s) == pytest.approx(d.get_upper_bound(s), rel=1e-12)
        # Spark hashes each column type as sketchbox does: the union of Spark's partition
        # sketches holds the registers (or coupons) of one sketchbox sketch of the column.
        ours = HyperLogLog(lg_k, "HLL_8")
        ours.update(column_values(n, column))
        mine, theirs = ours.to_bytes(compact=False), h.to_bytes(compact=False)
        if hll_registers(mine) is not None and hll_registers(theirs) is not None:
            assert hll_registers(mine) == hll_registers(theirs), (n, name)
        else:
            assert ours.estimate() == h.estimate(), (n, name)


def test_sketchbox_hll_images_answer_in_spark_and_union_with_sparks(spark, hll_from_spark):
    images, expected = {}, {}
    types = ["HLL_4", "HLL_6", "HLL_8"]
    for i, ((n, name), spark_image) in enumerate(sorted(hll_from_spark.items())):
        column, lg_k = name.split("_")[0], int(name.split("_")[1])
        hll_type, compact = types[i % 3], bool(i % 2)
        ours = HyperLogLog(lg_k, hll_type)
        # Half the items again, shifted: the union is larger than either side.
        ours.update(column_values(n + n // 2, column)[n // 2 :])
        images[(n, name)] = (ours.to_bytes(compact=compact), spark_image)
        union = HyperLogLog(lg_k, "HLL_8")
        union.merge(ours)
        union.merge(HyperLogLog.from_bytes(spark_image))
        expected[(n, name)] = (ours.estimate(), union.estimate())
    answers = spark_answers(
        spark,
        images,
        {"est": "hll_sketch_estimate(a)", "union": "hll_sketch_estimate(hll_union(a, b, true))"},
    )
    for key, (est, union_est) in expected.items():
        assert answers[key]["est"] == round(est), key
        assert answers[key]["union"] == round(union_est), key


@pytest.fixture(scope="module")
def theta_from_spark(data):
    df, empty = data
    exprs = {f"{c}_{lg}": f"theta_sketch_agg({c}, {lg})" for c in COLUMNS for lg in THETA_LG_K}
    return spark_images(df, empty, exprs)


def test_spark_theta_images_read_with_sparks_answers(spark, theta_from_spark):
    images = {k: (img, img) for k, img in theta_from_spark.items()}
    answers = spark_answers(spark, images, {"est": "theta_sketch_estimate(a)"})
    for (n, name), image in theta_from_spark.items():
        column, lg_k = name.split("_")[0], int(name.split("_")[1])
        t = ThetaSketch.from_bytes(image)
        assert round(t.estimate()) == answers[(n, name)]["est"], (n, name)
        d = compact_theta_sketch.deserialize(image)
        assert t.estimate() == d.get_estimate()
        assert t.num_retained == d.num_retained
        assert t.theta == d.theta
        for s in (1, 2, 3):
            assert t.lower_bound(s) == d.get_lower_bound(s)
            assert t.upper_bound(s) == d.get_upper_bound(s)
        # Same hashing: below k items both sides are exact and hold the same hashes.
        if n <= 1 << lg_k:
            ours = ThetaSketch(lg_k)
            ours.update(column_values(n, column))
            assert t.estimate() == n
            assert (t & ours).estimate() == n, (n, name)


def test_sketchbox_theta_images_answer_in_spark_and_combine_with_sparks(spark, theta_from_spark):
    images, expected = {}, {}
    for i, ((n, name), spark_image) in enumerate(sorted(theta_from_spark.items())):
        column, lg_k = name.split("_")[0], int(name.split("_")[1])
        ours = ThetaSketch(lg_k)
        ours.update(column_values(n + n // 2, column)[n // 2 :])
        images[(n, name)] = (ours.to_bytes(compressed=bool(i % 2)), spark_image)
        theirs = ThetaSketch.from_bytes(spark_image)
        expected[(n, name)] = {
            "est": ours.estimate(),
            "union": ThetaSketch.union([ours, theirs], lg_k=12).estimate(),  # Spark's default
            "inter": (ours & theirs).estimate(),
            "diff": (ours - theirs).estimate(),
        }
    answers = spark_answers(
        spark,
        images,
        {
            "est": "theta_sketch_estimate(a)",
            "union": "theta_sketch_estimate(theta_union(a, b))",
            "inter": "theta_sketch_estimate(theta_intersection(a, b))",
            "diff": "theta_sketch_estimate(theta_difference(a, b))",
        },
    )
    for key, want in expected.items():
        for what, value in want.items():
            assert answers[key][what] == round(value), (key, what)


# -- sketchbox.spark: sketchbox on the executors, images mixed with Spark's own --------


@pytest.fixture(scope="module")
def events(spark):
    n = 120_000
    rng = np.random.default_rng(5)
    pdf = pd.DataFrame(
        {
            "user": rng.integers(0, 40_000, n),
            "latency": rng.lognormal(3, 1, n),
            "day": rng.integers(0, 5, n),
            "city": rng.choice(["Zürich", "Genève", "Bern"], n),
        }
    )
    return pdf, spark.createDataFrame(pdf).repartition(6)


def test_spark_sketch_is_the_union_of_partition_sketches(spark, events):
    import sketchbox.spark as ss

    pdf, df = events
    parts = [bytes(r.image) for r in ss.images(df, "user", "hll").collect()]
    assert len(parts) == df.rdd.getNumPartitions()
    h = ss.sketch(df, "user", "hll")
    local = HyperLogLog(12)
    for image in parts:
        local.merge(HyperLogLog.from_bytes(image))
    assert h.to_bytes() == local.to_bytes()
    exact = pdf.user.nunique()
    assert h.lower_bound(3) <= exact <= h.upper_bound(3)
    # Spark's own aggregate over the same rows holds the same registers.
    theirs = df.selectExpr("hll_sketch_agg(user, 12) as h").first().h
    assert hll_registers(bytes(theirs)) == hll_registers(h.to_bytes(compact=False))


def test_spark_accepts_sketchbox_images_in_its_union_aggregates(spark, events):
    import sketchbox.spark as ss

    pdf, df = events
    hll = ss.images(df, "user", "hll").selectExpr("hll_sketch_estimate(hll_union_agg(image)) as e")
    assert hll.first().e == round(ss.sketch(df, "user", "hll").estimate())
    theta = ss.images(df, "user", "theta").selectExpr(
        "theta_sketch_estimate(theta_union_agg(image)) as e"
    )
    assert theta.first().e == round(ss.sketch(df, "user", "theta").estimate())
    kll = ss.images(df, "latency", "kll").selectExpr(
        "kll_sketch_get_n_double(kll_merge_agg_double(image)) as n"
    )
    assert kll.first().n == len(pdf)


def test_spark_groupby_sketch_and_profile(spark, events):
    import sketchbox
    import sketchbox.spark as ss

    pdf, df = events
    per_day = ss.groupby_sketch(df, "day", "user", "hll")
    assert sorted(per_day) == list(range(5))
    for day, h in per_day.items():
        exact = pdf.user[pdf.day == day].nunique()
        assert h.lower_bound(3) <= exact <= h.upper_bound(3)
    p = ss.profile(df).to_dict()
    local = sketchbox.profile(pdf).to_dict()
    assert p["rows"] == local["rows"]
    for name, want in local["columns"].items():
        got = p["columns"][name]
        for key in ("count", "nulls", "min", "max"):
            assert got[key] == want[key], (name, key)
        assert got["mean"] == pytest.approx(want["mean"], rel=1e-9) if "mean" in want else True


def test_spark_columns_of_every_name_and_type_users_have(spark):
    # Found by a user review: a dot in a name broke mapInArrow, decimals were refused by
    # sketch(), a timestamp key broke groupby_sketch (Spark takes UTC back), an empty
    # DataFrame profiled as no columns at all.
    import datetime as dt
    from decimal import Decimal

    import sketchbox.spark as ss

    rows = [
        (i, i % 3, Decimal(i % 7) / 4, dt.datetime(2024, 1, 1 + i % 3, 12), [i % 2])
        for i in range(300)
    ]
    df = spark.createDataFrame(
        rows, "id long, `a.b` long, dec decimal(10,2), ts timestamp, arr array<int>"
    )
    h = ss.sketch(df, "a.b", "hll")
    assert h.estimate() == pytest.approx(3, abs=1e-6)
    assert ss.sketch(df, "dec", "hll").estimate() == pytest.approx(7, abs=1e-6)
    assert ss.sketch(df, "dec", "kll").max == 1.5
    assert ss.sketch(df, "dec", "frequent", dtype="float64").estimate(0.25) == 43
    c = ss.sketch(df, "a.b", "countmin", num_buckets=64, seed=77)
    local = CountMin(3, 64, seed=77)
    local.update([i % 3 for i in range(300)])
    assert c.to_bytes() == local.to_bytes() and c.estimate(1) >= 100
    per_ts = ss.groupby_sketch(df, "ts", "id", "hll")
    assert sorted(v.estimate() for v in per_ts.values()) == pytest.approx([100] * 3, rel=1e-6)
    per_arr = ss.groupby_sketch(df, "arr", "a.b", "theta")
    assert set(per_arr) == {(0,), (1,)}
    assert ss.groupby_sketch(df, "a.b", "a.b", "hll")[2].estimate() == pytest.approx(1, abs=1e-6)
    p = ss.profile(df)
    assert list(p.columns) == ["id", "a.b", "dec", "ts", "arr"]
    assert (p["a.b"].count, p["a.b"].max.as_py(), p["dec"].count) == (300, 2, 300)
    empty = ss.profile(df.limit(0), columns=["a.b", "ts"])
    assert (empty.rows, list(empty.columns)) == (0, ["a.b", "ts"])
    assert empty.to_dict()["columns"]["a.b"]["count"] == 0
