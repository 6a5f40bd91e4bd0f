"""The `sketchbox` command as a user runs it: in a subprocess, checking exit status,
stdout and the one-line errors (never a traceback)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sketchbox

# Outside the source tree, so that `-m sketchbox.cli` runs the installed package.
ELSEWHERE = tempfile.gettempdir()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sketchbox.cli", *args],
        capture_output=True,
        text=True,
        cwd=ELSEWHERE,
        timeout=300,
    )


def one_line_error(r: subprocess.CompletedProcess, status: int, *words: str) -> None:
    assert r.returncode == status, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    n = 20_000
    table = pa.table(
        {
            "user": [f"u{i % 1500}" for i in range(n)],
            "amount": [float(i % 977) / 4 for i in range(n)],
            "code": [["OK", "OK", "OK", "E404", "E500"][i % 5] for i in range(n)],
        }
    )
    pq.write_table(table.slice(0, n // 2), d / "a.parquet")
    pq.write_table(table.slice(n // 2), d / "b.parquet")
    pq.write_table(table, d / "all.parquet")
    return d, table


def test_profile_json_is_the_documented_document(files):
    d, table = files
    r = run("profile", str(d / "all.parquet"), "--json", "--no-progress")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["rows"] == table.num_rows
    assert set(doc["columns"]) == {"user", "amount", "code"}
    amount = doc["columns"]["amount"]
    assert set(amount) >= {"type", "count", "nulls", "distinct", "min", "max", "mean", "quantiles"}
    assert set(amount["distinct"]) == {"estimate", "lower", "upper"}
    assert amount["min"] == 0.0 and amount["max"] == 976 / 4
    # The same as the Python API (quantiles are randomised per run: compare the rest).
    api = json.loads(sketchbox.profile(str(d / "all.parquet")).to_json())
    for c in (doc, api):
        for col in c["columns"].values():
            col.pop("quantiles", None)
    assert doc == api


def test_table_output_marks_approximations(files):
    d, _ = files
    r = run("profile", str(d / "all.parquet"), "--no-progress")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("1 input(s): 20,000 rows, 3 columns")
    assert lines[1].split()[:5] == ["column", "type", "count", "nulls", "distinct"]
    user = next(ln for ln in lines if ln.startswith("user "))
    assert re.search(r"≈1,\d{3} ±\d\.\d %", user), user  # 1,500 distinct, approximate


def test_save_merge_show(files, tmp_path):
    d, table = files
    for part in ("a", "b"):
        r = run(
            "profile", str(d / f"{part}.parquet"), "--save", str(tmp_path / part), "--no-progress"
        )
        assert r.returncode == 0, r.stderr
    r = run(
        "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--save", str(tmp_path / "m")
    )
    assert r.returncode == 0, r.stderr
    merged = json.loads(r.stdout)
    whole = json.loads(sketchbox.profile(str(d / "all.parquet")).to_json())
    assert merged["rows"] == whole["rows"]
    for name, w in whole["columns"].items():
        for key in ("count", "nulls", "min", "max"):
            assert merged["columns"][name][key] == w[key]
    shown = run("show", str(tmp_path / "m"), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == merged
    table_view = run("show", str(tmp_path / "m"))
    assert table_view.returncode == 0 and "amount" in table_view.stdout


def test_usage_errors_exit_2_with_one_line(files):
    d, _ = files
    one_line_error(run("frobnicate"), 2, "invalid choice")
    one_line_error(run("profile"), 2, "required")
    one_line_error(run("profile", str(d / "all.parquet"), "--lg-k", "30"), 2, "--lg-k")
    one_line_error(run("profile", str(d / "all.parquet"), "--columns", "nope"), 2, "nope")
    one_line_error(run("profile", str(d / "all.parquet"), "--threads", "0"), 2, "--threads")


def test_data_errors_exit_1_with_one_line_naming_the_file(tmp_path):
    one_line_error(run("profile", str(tmp_path / "missing.csv")), 1, "missing.csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    one_line_error(run("profile", str(ragged)), 1, "ragged.csv", "xpected 2 columns")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nok\n\xff\n")
    one_line_error(run("profile", str(bad)), 1, "bad.csv", "row 3", "UTF-8")
    trunc = tmp_path / "trunc.parquet"
    pq.write_table(pa.table({"a": list(range(100))}), trunc)
    trunc.write_bytes(trunc.read_bytes()[:-20])
    one_line_error(run("profile", str(trunc)), 1, "trunc.parquet")
    one_line_error(run("show", str(tmp_path)), 1, "not a saved profile")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    r = run("profile", str(empty), "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"rows": 0, "columns": {}}
    # a ragged row that is not UTF-8 either: pyarrow fails to hand it over as text
    ragged_bytes = tmp_path / "ragged_bytes.csv"
    ragged_bytes.write_bytes(b"a,b\n1,2\n\xff\xfe\n")
    one_line_error(run("profile", str(ragged_bytes)), 1, "ragged_bytes.csv", "xpected 2")


def test_columns_pyarrow_has_no_kernel_for_are_profiled(tmp_path):
    path = tmp_path / "odd.arrow"  # Parquet has no intervals
    odd = {
        "d": pa.array([3, 1, None], pa.duration("s")),
        "h": pa.array(np.array([0.5, 2.0, 2.0], dtype=np.float16)),
        "iv": pa.array([pa.MonthDayNano([1, 2, 3])] * 3, pa.month_day_nano_interval()),
    }
    table = pa.table(odd)
    with pa.ipc.new_file(str(path), table.schema) as w:
        w.write_table(table)
    r = run("profile", str(path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)["columns"]
    assert (doc["d"]["min"], doc["d"]["max"], doc["h"]["max"]) == ("0:00:01", "0:00:03", 2.0)
    assert doc["iv"] == {"type": "month_day_nano_interval", "count": 3, "nulls": 0}


def test_version():
    for r in (
        run("--version"),
        subprocess.run(
            [sys.executable, "-m", "sketchbox", "--version"],
            capture_output=True,
            text=True,
            cwd=ELSEWHERE,
            timeout=300,
        ),
    ):
        assert r.returncode == 0 and r.stdout.strip() == f"sketchbox {sketchbox.__version__}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    """Ctrl-C while the profiler waits for input (a pipe that stays open) stops it at once."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this process (a background run): cannot deliver it")
    pipe = tmp_path / "stream.csv"
    os.mkfifo(pipe)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sketchbox.cli", "profile", str(pipe), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ELSEWHERE,
    )
    started = threading.Event()
    with open(pipe, "w") as writer:  # opens once the profiler has opened its end
        started.set()
        writer.write("a,b\n1,2\n")
        writer.flush()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert started.is_set()
    assert proc.returncode == 130, err
    assert err.strip() == "sketchbox: interrupted"


def test_the_table_aligns_wide_characters():
    import unicodedata

    from sketchbox.cli import render_table

    doc = sketchbox.profile(pa.table({"東京": [1, 22222], "name": ["東京タワー", "x"]})).to_dict()
    header, dashes, *rows = render_table(doc, "t").splitlines()[1:]

    def screen(line: str) -> list[str]:  # one slot per terminal column
        return [
            s for c in line for s in ([c, ""] if unicodedata.east_asian_width(c) in "WF" else [c])
        ]

    # every cell lies within its column's dashes, two spaces from the next
    spans = [m.span() for m in re.finditer(r"-+", dashes)]
    for line in (header, *rows):
        slots = screen(line) + [" "] * (len(dashes) + 2)
        for a, b in spans:
            assert slots[b] == " " and (a == 0 or slots[a - 2 : a] == [" ", " "]), (line, a, b)
