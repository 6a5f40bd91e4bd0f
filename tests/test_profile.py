"""The profiler against exact answers computed with pyarrow, on generated files of every
format: counts, nulls, min, max and mean exact; distinct counts inside their bounds;
quantiles inside KLL's rank error; the merge of two halves equal to the whole."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import os
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.json as pjson
import pyarrow.parquet as pq
import pytest

import sketchbox
from sketchbox import KllSketch, Profile, ProfileError
from sketchbox.profile import QUANTILE_RANKS, column_kind

N = 6000
RANK_ERROR = KllSketch(200).normalized_rank_error()


def make_table(n: int = N, seed: int = 7) -> pa.Table:
    """Ints with nulls, floats with NaN and ±inf, strings with non-ASCII and empty ones,
    timestamps and booleans with nulls, a low-cardinality column and a nested one."""
    rng = np.random.default_rng(seed)
    ints = rng.integers(-1000, 1000, n)
    int_nulls = rng.random(n) < 0.1
    floats = rng.normal(50.0, 20.0, n)
    floats[rng.random(n) < 0.02] = np.nan
    floats[3], floats[4], floats[5] = np.inf, -np.inf, -0.0
    words = ["", "café", "naïve", "東京", "plain", "x" * 40, "ümlaut", "a,b", 'quo"te']
    strings = [words[i % len(words)] + (str(i % 700) if i % 5 else "") for i in range(n)]
    str_nulls = rng.random(n) < 0.05
    base = dt.datetime(2024, 1, 1)
    times = [base + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 500_000, n)]
    time_nulls = rng.random(n) < 0.03
    bools = rng.random(n) < 0.3
    return pa.table(
        {
            "i": pa.array(ints, pa.int64(), mask=int_nulls),
            "f": pa.array(floats, pa.float64()),
            "s": pa.array(strings, pa.string(), mask=str_nulls),
            "t": pa.array(times, pa.timestamp("us"), mask=time_nulls),
            "b": pa.array(bools, pa.bool_(), mask=rng.random(n) < 0.01),
            "code": pa.array([f"E{v}" for v in rng.zipf(1.5, n) % 30], pa.string()),
            "tags": pa.array([[i % 3, i % 5] for i in range(n)], pa.list_(pa.int64())),
        }
    )


def json_number(v):
    """How the profile's JSON writes a number: NaN as null, infinities as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def exact_distinct(col: pa.ChunkedArray) -> int:
    values = col.drop_null()
    if pa.types.is_floating(values.type):
        arr = values.to_numpy()
        arr = np.where(arr == 0, 0.0, arr)  # -0.0 is 0.0
        return len(set(arr[~np.isnan(arr)].tolist())) + int(np.isnan(arr).any())
    return len(pc.unique(values))


def exact_ranks(sorted_values: np.ndarray, v) -> tuple[float, float]:
    """The exclusive and inclusive normalized ranks of ``v`` among the values."""
    n = len(sorted_values)
    lo = np.searchsorted(sorted_values, v, side="left") / n
    hi = np.searchsorted(sorted_values, v, side="right") / n
    return lo, hi


def check_column(doc: dict, col: pa.ChunkedArray) -> None:
    kind = column_kind(col.type)
    assert doc["type"] == str(col.type)
    assert doc["nulls"] == col.null_count
    assert doc["count"] == len(col) - col.null_count
    if kind == "other":
        assert set(doc) == {"type", "count", "nulls"}
        return
    d, exact = doc["distinct"], exact_distinct(col)
    assert d["lower"] <= exact <= d["upper"], (d, exact)
    assert d["estimate"] <= doc["count"] and d["upper"] <= doc["count"]
    mm = pc.min_max(col)
    if kind == "temporal":
        assert doc["min"] == mm["min"].as_py().isoformat()
        assert doc["max"] == mm["max"].as_py().isoformat()
    else:
        assert doc["min"] == json_number(mm["min"].as_py())
        assert doc["max"] == json_number(mm["max"].as_py())
    if kind == "numeric":
        values = col.drop_null().to_numpy().astype(np.float64)
        values = values[~np.isnan(values)]
        with np.errstate(invalid="ignore"):
            mean = values.mean()
        if math.isfinite(mean):
            assert doc["mean"] == pytest.approx(mean, rel=1e-12)
        else:
            assert doc["mean"] == json_number(mean)
    check_top(doc, col, kind)
    if kind in ("boolean",):
        assert "quantiles" not in doc and "mean" not in doc
        return
    # Quantiles: within KLL's rank error of the asked rank, exact extremes.
    if kind == "string":
        values = pc.utf8_length(col.drop_null()).to_numpy().astype(np.float64)
    elif kind == "temporal":
        values = col.drop_null().cast(pa.int64()).to_numpy().astype(np.float64)
    else:
        values = col.drop_null().to_numpy().astype(np.float64)
        values = values[~np.isnan(values)]
    values = np.sort(values)
    q = doc["quantiles"]
    assert list(q) == ["0", "0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99", "1"]
    for r in QUANTILE_RANKS:
        v = q["0" if r == 0 else "1" if r == 1 else repr(r)]
        if kind == "temporal":
            v = pa.scalar(dt.datetime.fromisoformat(v), col.type).cast(pa.int64()).as_py()
        elif isinstance(v, str):
            v = float(v)  # an infinity
        lo, hi = exact_ranks(values, v)
        if r == 0:
            assert v == values[0]
        elif r == 1:
            assert v == values[-1]
        else:
            assert lo - RANK_ERROR <= r <= hi + RANK_ERROR, (doc["type"], r, v, lo, hi)


def check_top(doc: dict, col: pa.ChunkedArray, kind: str) -> None:
    """Top values: each inside its bounds against the exact count, heaviest first, and no
    false positives (a reported value is heavier than the bounds' width)."""
    if kind == "binary":
        assert "top" not in doc
        return
    values = col.drop_null().to_pylist()
    if kind == "temporal":
        values = [v.isoformat() for v in values]
    elif pa.types.is_floating(col.type):
        values = [json_number(0.0 if v == 0 else v) for v in values]
    exact = Counter(values)
    rows = doc["top"]
    assert len(rows) <= 10
    estimates = [r["estimate"] for r in rows]
    assert estimates == sorted(estimates, reverse=True)
    for r in rows:
        c = exact[r["value"]]
        assert r["lower"] <= c <= r["upper"], (doc["type"], r, c)
        assert r["lower"] > r["upper"] - r["lower"]  # no false positives
    # Few distinct values: the sketch is exact, and the top is the exact top.
    if len(exact) <= 500:
        want = sorted(exact.values(), reverse=True)[: len(rows)]
        assert [r["estimate"] for r in rows] == want
        assert len(rows) == min(10, len(exact))


def check_profile(p: Profile, table: pa.Table) -> None:
    doc = json.loads(p.to_json())  # what scripts read: strict JSON
    assert doc["rows"] == table.num_rows
    assert list(doc["columns"]) == table.column_names
    for name in table.column_names:
        check_column(doc["columns"][name], table.column(name))


def write(table: pa.Table, path: str) -> pa.Table:
    """Writes ``table`` in the format of ``path`` and returns the table as pyarrow reads
    the file back (CSV and JSON change some types: the exact answers are of that)."""
    flat = table.drop_columns(["tags"]) if path.endswith((".csv", ".tsv", ".gz", ".zst")) else table
    if path.endswith(".parquet"):
        pq.write_table(table, path, row_group_size=1000)
        return pq.read_table(path)
    if path.endswith(".arrow"):
        feather.write_feather(table, path)
        return feather.read_table(path)
    if ".csv" in path or ".tsv" in path:
        delim = "\t" if ".tsv" in path else ","
        with pa.output_stream(path, compression="detect") as out:
            pcsv.write_csv(flat, out, pcsv.WriteOptions(delimiter=delim))
        # What a profile must find: nulls where pyarrow wrote them (empty fields), empty
        # strings where it wrote "", and NaN a value ("nan", which pyarrow's reader would
        # take for null by default).
        with pa.input_stream(path, compression="detect") as f:
            return pcsv.read_csv(
                f,
                parse_options=pcsv.ParseOptions(delimiter=delim),
                convert_options=pcsv.ConvertOptions(
                    null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False
                ),
            )
    if ".jsonl" in path:
        rows = flat.to_pylist()
        with pa.output_stream(path, compression="detect") as out:
            for r in rows:
                r = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()}
                r = {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in r.items()
                }
                out.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
        with pa.input_stream(path, compression="detect") as f:
            return pjson.read_json(f)
    raise AssertionError(path)


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


@pytest.mark.parametrize(
    "name", ["d.parquet", "d.arrow", "d.csv", "d.csv.gz", "d.tsv", "d.jsonl", "d.jsonl.zst"]
)
def test_every_format_matches_exact_answers(tmp_path, table, name):
    path = str(tmp_path / name)
    expected = write(table, path)
    p = sketchbox.profile(path, batch_rows=1000)
    check_profile(p, expected)


def test_in_memory_sources(table):
    for source in (table, table.to_reader(max_chunksize=500), ds.dataset(table)):
        check_profile(sketchbox.profile(source), table)
    df = table.drop_columns(["tags"]).to_pandas()
    p = sketchbox.profile(df)
    assert p.rows == N and p["i"].count == N - table.column("i").null_count


def test_threads_do_not_change_the_answer(table):
    # KLL compaction is randomised per sketch (as in DataSketches): quantiles vary between
    # runs within their rank error; every other field is exact and identical.
    def without_quantiles(p):
        doc = json.loads(p.to_json())
        for c in doc["columns"].values():
            c.pop("quantiles", None)
        return doc

    one, four = sketchbox.profile(table, threads=1), sketchbox.profile(table, threads=4)
    assert without_quantiles(four) == without_quantiles(one)
    check_profile(four, table)


def test_columns_selects_and_unknown_column_is_an_error(tmp_path, table):
    path = str(tmp_path / "d.parquet")
    write(table, path)
    assert list(sketchbox.profile(path, columns=["s", "i"]).columns) == ["s", "i"]
    with pytest.raises(ProfileError, match="unknown column 'nope'"):
        sketchbox.profile(path, columns=["nope"])
    with pytest.raises(TypeError):
        sketchbox.profile(path, columns="s")


def test_merge_of_halves_equals_the_whole(tmp_path, table):
    half = table.num_rows // 2
    whole = sketchbox.profile(table).to_dict()
    a = sketchbox.profile(table.slice(0, half))
    b = sketchbox.profile(table.slice(half))
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    merged = Profile.load(tmp_path / "a") | Profile.load(tmp_path / "b")
    m = merged.to_dict()
    assert m["rows"] == whole["rows"]
    for name, w in whole["columns"].items():
        got = m["columns"][name]
        for key in ("type", "count", "nulls", "min", "max"):
            assert got.get(key) == w.get(key), (name, key)
        if isinstance(w.get("mean"), float):
            assert got["mean"] == pytest.approx(w["mean"], rel=1e-12)
        else:
            assert got.get("mean") == w.get("mean")
    check_profile(merged, table)


def test_a_column_missing_from_one_part_counts_as_nulls(table):
    a = sketchbox.profile(table.select(["i", "s"]))
    b = sketchbox.profile(table.select(["i"]))
    m = (a | b).to_dict()["columns"]
    assert m["s"]["nulls"] == table.column("s").null_count + N
    assert m["i"]["count"] == 2 * (N - table.column("i").null_count)


def test_mismatched_types_do_not_merge(table):
    a = sketchbox.profile(table.select(["i"]))
    b = sketchbox.profile(pa.table({"i": pa.array([1.5])}))
    with pytest.raises(sketchbox.IncompatibleSketchError, match="int64.*double"):
        a.merge(b)
    with pytest.raises(TypeError):
        a.merge("not a profile")


def test_save_load_round_trip_and_replace(tmp_path, table):
    p = sketchbox.profile(table)
    target = tmp_path / "prof"
    p.save(target)
    assert Profile.load(target).to_dict() == p.to_dict()
    q = sketchbox.profile(table.slice(0, 10))
    q.save(target)  # replaces the earlier profile whole
    assert Profile.load(target).to_dict() == q.to_dict()
    assert sorted(os.listdir(tmp_path)) == ["prof"]


def test_a_failed_save_leaves_nothing_behind(tmp_path, table, monkeypatch):
    p = sketchbox.profile(table)
    p.save(tmp_path / "prof")
    before = Profile.load(tmp_path / "prof").to_dict()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    # Interrupted after the files are written, before the folder is renamed into place.
    monkeypatch.setattr(importlib.import_module("sketchbox.profile").os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        sketchbox.profile(table.slice(0, 5)).save(tmp_path / "prof")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["prof"]
    assert Profile.load(tmp_path / "prof").to_dict() == before


def test_profile_images_round_trip_and_bad_bytes_are_refused(table):
    p = sketchbox.profile(table)
    image = p.to_bytes()
    assert Profile.from_bytes(image).to_dict() == p.to_dict()
    for bad in (b"", b"nonsense", image[:-1], image[: len(image) // 2], image[:12]):
        with pytest.raises(ProfileError):
            Profile.from_bytes(bad)


def test_damaged_profiles_are_refused(tmp_path, table):
    p = sketchbox.profile(table.select(["i"]))
    p.save(tmp_path / "prof")
    with pytest.raises(ProfileError, match="not a saved profile"):
        Profile.load(tmp_path)
    (tmp_path / "prof" / "0.distinct.bin").write_bytes(b"\x02\x01\x07")
    with pytest.raises(ProfileError, match="damaged profile"):
        Profile.load(tmp_path / "prof")
    (tmp_path / "prof" / "manifest.json").write_text("{not json")
    with pytest.raises(ProfileError, match="not a saved profile"):
        Profile.load(tmp_path / "prof")


def test_hive_partitions_globs_and_empty_files(tmp_path, table):
    for year, part in ((2023, table.slice(0, 2000)), (2024, table.slice(2000))):
        d = tmp_path / "ds" / f"year={year}"
        d.mkdir(parents=True)
        pq.write_table(part, d / "part-0.parquet")
    (tmp_path / "ds" / "_SUCCESS").write_text("")
    p = sketchbox.profile(str(tmp_path / "ds"))
    assert p.rows == N
    assert p["year"].count == N and p.to_dict()["columns"]["year"]["min"] == 2023
    g = sketchbox.profile(str(tmp_path / "ds" / "*" / "*.parquet"))
    assert g.rows == N
    (tmp_path / "empty.csv").write_bytes(b"")
    e = sketchbox.profile(str(tmp_path / "empty.csv"))
    assert e.to_dict() == {"rows": 0, "columns": {}}


def test_bad_inputs_raise_profile_errors_naming_the_file(tmp_path):
    with pytest.raises(ProfileError, match="missing.csv: no such file"):
        sketchbox.profile(str(tmp_path / "missing.csv"))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    # with the row when pyarrow tells it (it does not always), else pyarrow's own words
    with pytest.raises(ProfileError, match="ragged.csv: .*[Ee]xpected 2 columns, got 3"):
        sketchbox.profile(str(ragged))
    bad_utf8 = tmp_path / "bad.csv"
    bad_utf8.write_bytes(b"name\nok\n\xff\xfe\n")
    with pytest.raises(ProfileError, match="bad.csv: row 3: column 'name' is not valid UTF-8"):
        sketchbox.profile(str(bad_utf8))
    pq.write_table(pa.table({"a": list(range(1000))}), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "trunc.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfileError, match="trunc.parquet"):
        sketchbox.profile(str(tmp_path / "trunc.parquet"))
    (tmp_path / "x.unknown").write_text("a\n1\n")
    with pytest.raises(ProfileError, match="unknown format"):
        sketchbox.profile(str(tmp_path / "x.unknown"))
    with pytest.raises(TypeError, match="takes a path"):
        sketchbox.profile(42)


@pytest.mark.parametrize("name", ["d.parquet", "d.csv", "d.csv.gz", "d.jsonl"])
def test_progress_reports_rows_and_bytes_up_to_the_whole_file(tmp_path, table, name):
    path = tmp_path / name
    write(table, str(path))
    seen = []
    p = sketchbox.profile(str(path), batch_rows=1000, progress=lambda r, b: seen.append((r, b)))
    assert len(seen) >= 2
    rows, nbytes = zip(*seen)
    assert list(rows) == sorted(rows) and list(nbytes) == sorted(nbytes)
    assert seen[-1] == (p.rows, path.stat().st_size)


@pytest.mark.parametrize("name", ["d.parquet", "d.csv"])
def test_profiling_a_file_does_not_load_pandas(tmp_path, table, name):
    # pyarrow imports pandas (60 MiB of memory) for to_numpy() and for Python values in
    # compute calls: the profiler avoids both, whose peak memory the README states.
    import subprocess
    import sys

    path = str(tmp_path / name)
    write(table, path)
    script = (
        "import sys\n"
        "from sketchbox.cli import main\n"
        "try:\n"
        f"    main(['profile', {path!r}, '--no-progress', '--json'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('pandas' in sys.modules, 'pyarrow.dataset' in sys.modules, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stderr.split()[-2:] == ["False", "False"], out.stderr
    assert '"rows": ' in out.stdout
