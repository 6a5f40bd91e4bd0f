"""sketchbox.dask on a real distributed.LocalCluster with two worker processes: the same
answers as the local library on the same data, recovery from a lost worker, and errors
raised in tasks surfacing as themselves."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from sketchbox import CountMin, FrequentItems, HyperLogLog, KllSketch, ThetaSketch
from sketchbox import profile as local_profile

dd = pytest.importorskip("dask.dataframe", reason="needs the dask extra")
distributed = pytest.importorskip("distributed", reason="needs the dask extra")
sd = pytest.importorskip("sketchbox.dask")

N = 200_000
# Bounds at 3 standard deviations (99.7 %): estimates of fixed data are checked against
# the exact answer, and a 2-sigma bound would fail for 1 seed in 20.


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    pdf = pd.DataFrame(
        {
            "user": rng.integers(0, 30_000, N),
            "latency": rng.lognormal(3, 1, N),
            "day": rng.integers(0, 7, N),
            "city": rng.choice(["Zürich", "Genève", "Bern", "Basel"], N),
        }
    )
    pdf.loc[::50, "latency"] = np.nan
    return pdf, dd.from_pandas(pdf, npartitions=16)


def test_hll_equals_the_local_union_of_the_same_partitions(client, frame):
    pdf, ddf = frame
    h = sd.sketch(ddf.user, "hll", lg_k=12)
    assert isinstance(h, HyperLogLog)
    exact = pdf.user.nunique()
    assert h.lower_bound(3) <= exact <= h.upper_bound(3)
    # The merge order is fixed by the tree, so the images are those of a local union
    # of the partitions' sketches in that order: compare with a local run of the graph.
    local = sd.sketch(ddf.user, "hll", lg_k=12, compute=False).compute(scheduler="sync")
    assert h.to_bytes() == local.to_bytes()
    assert sd.nunique(ddf.user, lg_k=12) == h.estimate()
    big = sd.sketch(ddf.user, "hll", lg_k=16)
    assert sd.nunique(ddf.user) == big.estimate()  # the default is lg_k 16
    assert big.lower_bound(3) <= exact <= big.upper_bound(3)


def test_theta_and_kll_within_their_bounds(client, frame):
    pdf, ddf = frame
    t = sd.sketch(ddf.user, "theta", lg_k=12)
    assert isinstance(t, ThetaSketch)
    exact = pdf.user.nunique()
    assert t.lower_bound(3) <= exact <= t.upper_bound(3)
    q = sd.sketch(ddf.latency, "kll", k=200)
    assert isinstance(q, KllSketch)
    values = np.sort(pdf.latency.dropna().to_numpy())
    assert q.n == len(values)
    eps = q.normalized_rank_error()
    for r, v in zip([0.1, 0.5, 0.9, 0.99], sd.quantiles(ddf.latency, [0.1, 0.5, 0.9, 0.99])):
        lo = np.searchsorted(values, v, "left") / len(values)
        hi = np.searchsorted(values, v, "right") / len(values)
        assert lo - eps <= r <= hi + eps


def test_frequent_items_of_a_series_keep_their_guarantee(client, frame):
    pdf, ddf = frame
    f = sd.sketch(ddf.city, "frequent", dtype="str", lg_max_map_size=8)
    assert isinstance(f, FrequentItems) and f.dtype == "str"
    assert f.total_weight == N
    exact = pdf.city.value_counts()
    # Four distinct values are below 0.75 * 2**8: every count is exact.
    assert {item: est for item, est, _, _ in f.top()} == exact.to_dict()
    days = sd.sketch(ddf.day, "frequent", lg_max_map_size=8)
    assert days.dtype == "int64" and days.estimate(3) == (pdf.day == 3).sum()


def test_countmin_of_a_series_equals_the_local_sketch(client, frame):
    pdf, ddf = frame
    c = sd.sketch(ddf.user, "countmin", num_hashes=4, num_buckets=512, seed=77)
    local = CountMin(4, 512, seed=77)
    local.update(pdf.user)
    # counters are sums of integers: any merge order gives the same bytes
    assert isinstance(c, CountMin) and c.to_bytes() == local.to_bytes()
    assert c.estimate(3) >= (pdf.user == 3).sum()
    per_day = sd.groupby_sketch(ddf, "day", "user", "countmin", num_buckets=256)
    for day, s in per_day.items():
        assert s.total_weight == pdf.user[pdf.day == day].count()


def test_compute_false_gives_a_dask_object(client, frame):
    _, ddf = frame
    lazy = sd.sketch(ddf.user, "hll", compute=False)
    assert hasattr(lazy, "compute") and not isinstance(lazy, HyperLogLog)
    assert isinstance(lazy.compute(), HyperLogLog)


def test_groupby_sketch_gives_one_sketch_per_group(client, frame):
    pdf, ddf = frame
    per_day = sd.groupby_sketch(ddf, "day", "user", "hll")
    assert isinstance(per_day, pd.Series) and sorted(per_day.index) == list(range(7))
    for day, h in per_day.items():
        exact = pdf.user[pdf.day == day].nunique()
        assert h.lower_bound(3) <= exact <= h.upper_bound(3)


def test_profile_equals_the_local_profile(client, frame):
    pdf, ddf = frame
    p = sd.profile(ddf)
    local = local_profile(pdf)
    got, want = p.to_dict(), local.to_dict()
    assert got["rows"] == want["rows"] == N
    for name, w in want["columns"].items():
        g = got["columns"][name]
        for key in ("type", "count", "nulls", "min", "max"):
            assert g[key] == w[key], (name, key)
        assert g["mean"] == pytest.approx(w["mean"], rel=1e-9) if "mean" in w else True
        exact = pdf[name].nunique()
        assert g["distinct"]["lower"] <= exact <= g["distinct"]["upper"]


def test_bad_parameters_fail_before_anything_runs(client, frame):
    _, ddf = frame
    with pytest.raises(ValueError, match="kind must be one of"):
        sd.sketch(ddf.user, "nope")
    with pytest.raises(TypeError, match="unknown parameter"):
        sd.sketch(ddf.user, "hll", k=3)
    with pytest.raises(ValueError):
        sd.sketch(ddf.user, "hll", lg_k=99)


def test_a_task_that_raises_surfaces_as_its_error(client):
    bad = dd.from_pandas(pd.Series([{"a": 1}, {"b": 2}] * 100, dtype=object), npartitions=4)
    with pytest.raises(TypeError):
        sd.sketch(bad, "kll")


def _die_once(part: pd.Series, marker: str) -> pd.Series:
    """Kills the worker process running it, the first time any worker runs it."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return part
    os.close(fd)
    os._exit(1)


def test_a_lost_worker_is_recomputed_and_the_answer_is_unchanged(client, frame, tmp_path):
    pdf, ddf = frame
    marker = str(tmp_path / "died")
    dying = ddf.user.map_partitions(_die_once, marker, meta=ddf.user._meta)
    h = sd.sketch(dying, "hll", lg_k=12)
    assert os.path.exists(marker)  # a worker did die
    expected = sd.sketch(ddf.user, "hll", lg_k=12, compute=False).compute(scheduler="sync")
    assert h.to_bytes() == expected.to_bytes()
    client.wait_for_workers(2, timeout=120)


def test_the_command_line_profiles_on_a_dask_cluster(client, frame, tmp_path):
    import json
    import subprocess
    import sys
    import tempfile

    pdf, _ = frame
    path = tmp_path / "events.parquet"
    pdf.to_parquet(path)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sketchbox.cli",
            "profile",
            str(path),
            "--json",
            "--dask",
            client.scheduler.address,
        ],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    want = local_profile(str(path)).to_dict()
    assert doc["rows"] == want["rows"]
    for name, w in want["columns"].items():
        for key in ("count", "nulls", "min", "max"):
            assert doc["columns"][name][key] == w[key]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sketchbox.cli",
            "profile",
            str(path),
            "--dask",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        timeout=300,
    )
    assert bad.returncode == 2 and "cannot reach a Dask scheduler" in bad.stderr
    assert "Traceback" not in bad.stderr


def _cli(*args: str):
    import subprocess
    import sys
    import tempfile

    return subprocess.run(
        [sys.executable, "-m", "sketchbox.cli", *args],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        timeout=300,
    )


def test_the_command_line_reads_text_files_on_the_workers_as_it_does_locally(client, tmp_path):
    # pandas' CSV reader (dd.read_csv) typed these columns otherwise: timestamps and
    # dates as text, an empty column as double, empty fields as empty strings.
    import json

    rows = ["ts,d,allnull,name,n,"]
    for i in range(3000):
        name = "" if i % 7 == 0 else '""' if i % 11 == 0 else f"n{i % 40}"
        rows.append(f"2024-01-0{1 + i % 9} 10:00:{i % 60:02d},2024-02-0{1 + i % 9},,{name},{i},x")
    for part in range(3):
        (tmp_path / f"p{part}.csv").write_text("\n".join(rows[:1] + rows[1 + part :: 3]) + "\n")
    r = _cli("profile", str(tmp_path), "--json", "--dask", client.scheduler.address)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    want = local_profile(str(tmp_path)).to_dict()
    assert got["rows"] == want["rows"] == 3000
    assert got["columns"].keys() == want["columns"].keys()
    for name, w in want["columns"].items():
        g = got["columns"][name]
        for key in ("type", "count", "nulls", "min", "max", "mean", "top"):
            assert g.get(key) == w.get(key), (name, key)
        # a union of three sketches estimates otherwise than one sketch of all rows
        if "distinct" in w:
            exact = {"n": 3000, "ts": 180, "d": 9, "name": 41, "allnull": 0}.get(name, 1)
            assert g["distinct"]["lower"] <= exact <= g["distinct"]["upper"], name
    types = {n: c["type"] for n, c in got["columns"].items()}
    assert types["ts"].startswith("timestamp") and types["d"] == "date32[day]"
    assert types["allnull"] == "null" and got["columns"]["name"]["nulls"] == 429


def test_the_command_line_gives_up_on_an_address_that_is_no_scheduler(tmp_path):
    # A server that accepts connections and never answers held the handshake for good.
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    try:
        (tmp_path / "a.csv").write_text("a\n1\n")
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        r = _cli("profile", str(tmp_path / "a.csv"), "--dask", address)
        assert r.returncode == 2 and "cannot reach a Dask scheduler" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        server.close()


def test_strings_reach_the_workers_as_they_come(client):
    # Arrow strings that travel between processes may come with unaligned offsets.
    pdf = pd.DataFrame({"d": ["a", "bb", "ccc", "東京"] * 50, "i": range(200)})
    ddf = dd.from_pandas(pdf, npartitions=2)
    p = sd.profile(ddf)
    assert p["d"].count == 200 and p["d"].top.estimate("東京") == 50
    assert sd.nunique(ddf.d) == pytest.approx(4, abs=1e-6)
    lazy = sd.nunique(ddf.i, compute=False)
    assert hasattr(lazy, "compute") and lazy.compute() == pytest.approx(200, rel=0.01)


def test_profile_files_bad_input_is_a_clear_error(client, tmp_path):
    from sketchbox import ProfileError

    with pytest.raises(TypeError, match="takes a path"):
        sd.profile_files(42)
    with pytest.raises(ProfileError, match="missing.csv: no such file"):
        sd.profile_files(str(tmp_path / "missing.csv"))
    (tmp_path / "empty").mkdir()
    assert sd.profile_files(str(tmp_path / "empty")).to_dict() == {"rows": 0, "columns": {}}
    pdf = pd.DataFrame({"a": range(1000)})
    pdf.to_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "bad.parquet").write_bytes(data[: len(data) // 2])
    # raised on a worker, named by its file
    with pytest.raises(ProfileError, match="bad.parquet"):
        sd.profile_files([str(tmp_path / "t.parquet"), str(tmp_path / "bad.parquet")])
    with pytest.raises(ProfileError, match="unknown column 'nope'"):
        sd.profile_files(str(tmp_path / "t.parquet"), columns=["nope"])
    p = sd.profile_files(str(tmp_path / "t.parquet"), columns=["a"])
    assert (p.rows, p["a"].count, p["a"].max.as_py()) == (1000, 1000, 999)
