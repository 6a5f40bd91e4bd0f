"""Profiles of the columns and files users hand over beyond the common types: 64-bit ids
past 2^53, durations, half floats, dictionaries (pandas Categorical) and views, empty
strings, sources without rows, repeated CSV header names, NaN written as text, named
pipes, a type that changes between files. Each is compared with its exact answer."""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sketchbox
from sketchbox import Profile, ProfileError


def columns(p: Profile) -> dict:
    return p.to_dict()["columns"]


def test_64_bit_ids_beyond_2_to_the_53_are_exact_where_the_profile_is_exact():
    ids = [2**63 - 1, 42, -(2**62), 2**63 - 1, 2**53 + 1]
    uids = [2**64 - 1, 1, 2**63, 2**64 - 1, 2**53 + 1]
    doc = columns(
        sketchbox.profile(pa.table({"id": pa.array(ids), "uid": pa.array(uids, pa.uint64())}))
    )
    for name, values in (("id", ids), ("uid", uids)):
        c = doc[name]
        assert (c["count"], c["min"], c["max"]) == (5, min(values), max(values))
        assert c["distinct"]["estimate"] == pytest.approx(4, abs=1e-6)
        # the quantiles come from doubles: every one lies within the exact extremes
        q = c["quantiles"]
        assert (q["0"], q["1"]) == (min(values), max(values))
        assert all(min(values) <= v <= max(values) for v in q.values())
        top = {t["value"]: t["estimate"] for t in c["top"]}
        assert top == {v: values.count(v) for v in values}
        assert c["mean"] == pytest.approx(sum(values) / 5, rel=1e-12)


def test_durations_half_floats_dictionaries_and_views_are_profiled_as_their_values():
    words = ["x", "y", "x", None, "zz"]
    table = pa.table(
        {
            "dur": pa.array([5, 1, None, 9, 1], pa.duration("ms")),
            "half": pa.array(np.array([1.5, -2.0, 1.5, 0.25, 8.0], dtype=np.float16)),
            "cat": pa.array(words).dictionary_encode(),
            "view": pa.array(words).cast(pa.string_view()),
        }
    )
    doc = columns(sketchbox.profile(table))
    dur = doc["dur"]
    assert (dur["type"], dur["count"], dur["nulls"]) == ("duration[ms]", 4, 1)
    assert (dur["min"], dur["max"]) == ("0:00:00.001000", "0:00:00.009000")
    assert dur["distinct"]["estimate"] == pytest.approx(3, abs=1e-6)
    assert dur["top"][0] == {"value": "0:00:00.001000", "estimate": 2, "lower": 2, "upper": 2}
    half = doc["half"]
    assert (half["min"], half["max"], half["mean"]) == (-2.0, 8.0, pytest.approx(9.25 / 5))
    assert half["distinct"]["estimate"] == pytest.approx(4, abs=1e-6)
    for name in ("cat", "view"):
        c = doc[name]
        assert (c["type"], c["count"], c["nulls"], c["min"], c["max"]) == (
            "string",
            4,
            1,
            "x",
            "zz",
        )
        assert c["distinct"]["estimate"] == pytest.approx(3, abs=1e-6)
        assert [(t["value"], t["estimate"]) for t in c["top"]] == [("x", 2), ("y", 1), ("zz", 1)]
    # pandas Categorical, in batches whose dictionaries differ, and a merge with plain text
    df = pd.DataFrame({"c": pd.Categorical(["b", "a", "b", "c"] * 50)})
    p = sketchbox.profile(df, batch_rows=7)
    assert (p["c"].count, p["c"].top.estimate("b")) == (200, 100)
    p.merge(sketchbox.profile(pa.table({"c": pa.array(["a", "d"], pa.large_string())})))
    assert p["c"].distinct.estimate() == pytest.approx(4, abs=1e-6)


def test_intervals_have_counts_only():
    t = pa.table({"iv": pa.array([pa.MonthDayNano([1, 2, 3]), None], pa.month_day_nano_interval())})
    assert columns(sketchbox.profile(t))["iv"] == {
        "type": "month_day_nano_interval",
        "count": 1,
        "nulls": 1,
    }


def test_the_empty_string_counts_as_a_distinct_value_through_save_and_merge(tmp_path):
    t = pa.table({"s": ["", "", "A", None], "b": pa.array([b"", b"x", b"x", b"y"])})
    p = sketchbox.profile(t)
    doc = columns(p)
    # the HyperLogLog holds "A" alone (DataSketches does not hash empty strings)
    assert doc["s"]["distinct"]["estimate"] == pytest.approx(2, abs=1e-6)
    assert doc["s"]["distinct"]["lower"] == pytest.approx(2, abs=1e-6)
    assert doc["b"]["distinct"]["estimate"] == pytest.approx(3, abs=1e-6)
    assert {r["value"] for r in doc["s"]["top"]} == {"", "A"}
    p.save(str(tmp_path / "p"))
    loaded = Profile.load(str(tmp_path / "p"))
    assert columns(loaded)["s"]["distinct"] == doc["s"]["distinct"]
    assert columns(Profile.from_bytes(p.to_bytes()))["b"]["distinct"] == doc["b"]["distinct"]
    only_a = sketchbox.profile(pa.table({"s": ["A", "B"]}))
    assert columns(only_a)["s"]["distinct"]["estimate"] == pytest.approx(2, abs=1e-6)
    assert columns(only_a | p)["s"]["distinct"]["estimate"] == pytest.approx(3, abs=1e-6)


def test_sources_without_rows_keep_their_columns(tmp_path):
    empty = pa.table({"a": pa.array([], pa.int64()), "s": pa.array([], pa.string())})
    pq.write_table(empty, tmp_path / "e.parquet")
    (tmp_path / "h.csv").write_text("a,s\n")
    for source in (empty, str(tmp_path / "e.parquet"), str(tmp_path / "h.csv")):
        p = sketchbox.profile(source)
        assert (p.rows, sorted(p.columns)) == (0, ["a", "s"])
        assert all(c["count"] == 0 and c["nulls"] == 0 for c in columns(p).values())
    assert list(sketchbox.profile(str(tmp_path / "h.csv"), columns=["s"]).columns) == ["s"]
    # the rows of a second file count as they are
    pq.write_table(pa.table({"a": [1, 2], "s": ["x", None]}), tmp_path / "f.parquet")
    both = sketchbox.profile([str(tmp_path / "e.parquet"), str(tmp_path / "f.parquet")])
    assert (both.rows, both["a"].count, both["s"].nulls) == (2, 2, 1)


def test_a_repeated_header_name_becomes_name_1_as_in_duckdb(tmp_path):
    (tmp_path / "d.csv").write_text("a,a,b,a_1\n1,2,3,4\n5,6,7,8\n")
    doc = columns(sketchbox.profile(str(tmp_path / "d.csv"), batch_rows=1))
    assert {n: (c["min"], c["max"], c["count"]) for n, c in doc.items()} == {
        "a": (1, 5, 2),
        "a_2": (2, 6, 2),
        "b": (3, 7, 2),
        "a_1": (4, 8, 2),
    }


def test_nan_written_as_text_is_a_value_and_empty_fields_are_nulls(tmp_path):
    (tmp_path / "n.csv").write_text("x,s\nNaN,NaN\n1.5,a\nnan,b\n,c\nNULL,d\n")
    doc = columns(sketchbox.profile(str(tmp_path / "n.csv")))
    assert (doc["x"]["count"], doc["x"]["nulls"], doc["x"]["mean"]) == (3, 2, 1.5)
    assert doc["x"]["distinct"]["estimate"] == pytest.approx(2, abs=1e-6)  # NaN: one value
    assert (doc["s"]["count"], doc["s"]["min"]) == (5, "NaN")
    # an empty field is null in a text column too (as in DuckDB and pandas); "" is text
    (tmp_path / "e.csv").write_text('id,name\n1,ann\n2,\n3,""\n4,\n')
    name = columns(sketchbox.profile(str(tmp_path / "e.csv")))["name"]
    assert (name["count"], name["nulls"], name["min"]) == (2, 2, "")
    assert name["distinct"]["estimate"] == pytest.approx(2, abs=1e-6)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_named_pipe_is_read_to_its_end(tmp_path):
    pipe = tmp_path / "p.csv"
    os.mkfifo(pipe)
    n = 300_000  # several blocks of text

    def write() -> None:
        with open(pipe, "w") as f:
            f.write("k,v\n")
            f.writelines(f"{i % 100},{i}\n" for i in range(n))

    writer = threading.Thread(target=write)
    writer.start()
    p = sketchbox.profile(str(pipe), format="csv")
    writer.join()
    assert (p.rows, p["v"].count, p["v"].min.as_py(), p["v"].max.as_py()) == (n, n, 0, n - 1)
    assert p["k"].top.estimate(7) == n // 100


def test_a_type_that_changes_between_files_names_the_file(tmp_path):
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "p1.parquet")
    pq.write_table(pa.table({"a": ["x", "y"]}), tmp_path / "p2.parquet")
    paths = [str(tmp_path / "p1.parquet"), str(tmp_path / "p2.parquet")]
    with pytest.raises(ProfileError, match="p2.parquet: column 'a' changes type from int64"):
        sketchbox.profile(paths)
