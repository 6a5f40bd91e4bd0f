"""The ``sketchbox`` command: profile files bigger than memory, merge and show profiles.

Exit status: 0 on success, 1 for input that cannot be read (the message names the file),
2 for a usage error, 130 when interrupted. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from .errors import SketchError
from .profile import PROFILE_K

USAGE_ERROR = 2
DATA_ERROR = 1
INTERRUPTED = 130


class UsageError(Exception):
    """A command line that cannot be run as given (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (and exit status 2)."""

    def error(self, message: str) -> Any:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sketchbox",
        description="Profile datasets bigger than memory with mergeable sketches.",
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"sketchbox {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    prof = sub.add_parser("profile", help="profile files (Parquet, CSV, TSV, JSONL, Arrow)")
    prof.add_argument("paths", nargs="+", metavar="PATH", help="files, globs or folders")
    prof.add_argument("--format", choices=["csv", "tsv", "parquet", "jsonl", "arrow"])
    prof.add_argument("--columns", help="comma-separated column names (default: all)")
    prof.add_argument("--top", type=int, default=10, metavar="N", help="heaviest values kept")
    prof.add_argument("--lg-k", type=int, default=12, help="HyperLogLog lg_k, from 4 to 21")
    prof.add_argument(
        "--k", type=int, default=PROFILE_K, help=f"KLL k, from 8 to 65535 (default {PROFILE_K})"
    )
    prof.add_argument("--threads", type=int, default=None, help="columns sketched at once")
    prof.add_argument(
        "--dask", metavar="ADDRESS", help="run on this Dask scheduler (files read on the workers)"
    )
    _output_options(prof)
    prof.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    merge = sub.add_parser("merge", help="merge saved profiles")
    merge.add_argument("dirs", nargs="+", metavar="DIR")
    _output_options(merge)

    show = sub.add_parser("show", help="print a saved profile")
    show.add_argument("dir", metavar="DIR")
    show.add_argument("--json", action="store_true", help="print the JSON document")
    return p


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.add_argument("--save", metavar="DIR", help="save the sketches (DataSketches images)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("sketchbox: interrupted", file=sys.stderr)
        # Leave now: a reader blocked in a read (a pipe, a slow disk) would hold up the
        # interpreter's exit, and nothing is left half-written (saves are atomic).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    except UsageError as e:
        print(f"sketchbox: {e}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # `sketchbox show x | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (SketchError, ValueError, OSError, ImportError) as e:
        print(f"sketchbox: {_message(e)}", file=sys.stderr)
        return DATA_ERROR
    except Exception as e:
        # pyarrow's errors outside ValueError and OSError (ArrowNotImplementedError: a
        # type it has no kernel for) are still about the data, and still one line.
        if not _is_arrow_error(e):
            raise
        print(f"sketchbox: {_message(e)}", file=sys.stderr)
        return DATA_ERROR


def _is_arrow_error(e: BaseException) -> bool:
    pa = sys.modules.get("pyarrow")
    return pa is not None and isinstance(e, pa.ArrowException)


def _message(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _run(args: argparse.Namespace) -> int:
    from .profile import Profile, ProfileError, profile

    if args.command == "profile":
        if not 4 <= args.lg_k <= 21:
            raise UsageError(f"--lg-k must be from 4 to 21, got {args.lg_k}")
        if not 8 <= args.k <= 65535:
            raise UsageError(f"--k must be from 8 to 65535, got {args.k}")
        if args.threads is not None and args.threads < 1:
            raise UsageError(f"--threads must be at least 1, got {args.threads}")
        if args.top < 0:
            raise UsageError(f"--top must be at least 0, got {args.top}")
        columns = None
        if args.columns is not None:
            columns = [c.strip() for c in args.columns.split(",") if c.strip()]
            if not columns:
                raise UsageError("--columns names no column")
        if args.dask:
            p = _profile_on_dask(
                args.dask, args.paths, args.format, columns, args.top, args.lg_k, args.k
            )
            title = f"{len(args.paths)} input(s) on {args.dask}"
            return _output(p, args, title)
        bar = _progress_bar(args.no_progress, _input_bytes(args.paths))
        try:
            p = profile(
                args.paths,
                columns=columns,
                top=args.top,
                lg_k=args.lg_k,
                k=args.k,
                format=args.format,
                threads=args.threads,
                progress=bar.update if bar else None,
            )
        except ProfileError as e:
            if "unknown column" in str(e) or "unknown format" in str(e):
                raise UsageError(str(e)) from None
            raise
        finally:
            if bar:
                bar.close()
        title = f"{len(args.paths)} input(s)"
    elif args.command == "merge":
        p = Profile.load(args.dirs[0])
        for d in args.dirs[1:]:
            p.merge(Profile.load(d))
        title = f"{len(args.dirs)} profiles merged"
    else:
        p = Profile.load(args.dir)
        title = args.dir
    return _output(p, args, title)


def _output(p: Any, args: argparse.Namespace, title: str) -> int:
    if getattr(args, "save", None):
        p.save(args.save)
    if args.json:
        sys.stdout.write(p.to_json(indent=1) + "\n")
    else:
        sys.stdout.write(render_table(p.to_dict(), title))
    return 0


def _profile_on_dask(
    address: str,
    paths: Sequence[str],
    fmt: Optional[str],
    columns: Any,
    top: int,
    lg_k: int,
    k: int,
) -> Any:
    try:
        import distributed

        from . import dask as sd
    except ImportError:
        raise UsageError("--dask needs the dask extra: pip install 'sketchbox[dask]'") from None
    client = _dask_client(distributed, address)
    with client:
        return sd.profile_files(paths, fmt, columns=columns, top=top, lg_k=lg_k, k=k)


DASK_CONNECT_SECONDS = 15


def _dask_client(distributed: Any, address: str) -> Any:
    """A client of the scheduler at ``address``, or a UsageError within
    DASK_CONNECT_SECONDS: something that answers but is not a scheduler (a web server)
    holds distributed's handshake past its own timeout, and garbage from it can fail
    in any way (a MemoryError decoding a length)."""
    import threading

    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=f"{DASK_CONNECT_SECONDS}s")
        except BaseException as e:  # reported by the caller's thread
            box["error"] = e

    t = threading.Thread(target=connect, daemon=True, name="sketchbox-dask-connect")
    t.start()
    t.join(DASK_CONNECT_SECONDS + 5)
    if "client" in box:
        return box["client"]
    why = _message(box["error"]) if "error" in box else "no answer"
    raise UsageError(f"cannot reach a Dask scheduler at {address}: {why}")


class _Bar:
    """A tqdm bar of bytes read, with rows in its postfix."""

    def __init__(self, tqdm: Any, total: Optional[int]) -> None:
        self._tqdm = tqdm(
            total=total or None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr
        )
        self._bytes = 0

    def update(self, rows: int, nbytes: int) -> None:
        if nbytes > self._bytes:
            self._tqdm.update(nbytes - self._bytes)
            self._bytes = nbytes
        self._tqdm.set_postfix_str(f"{rows:,} rows", refresh=True)

    def close(self) -> None:
        self._tqdm.close()


def _progress_bar(disabled: bool, total: Optional[int]) -> Optional[_Bar]:
    """Bytes read (rate, ETA) and rows, on stderr when it is a terminal."""
    if disabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return _Bar(tqdm, total)


def _input_bytes(paths: Sequence[str]) -> Optional[int]:
    import glob

    total = 0
    for p in paths:
        for f in glob.glob(p, recursive=True) if any(c in p for c in "*?[") else [p]:
            if os.path.isdir(f):
                for root, _, names in os.walk(f):
                    total += sum(os.path.getsize(os.path.join(root, n)) for n in names)
            elif os.path.isfile(f):
                total += os.path.getsize(f)
    return total or None


def _fmt_num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e9 or abs(v) < 1e-3):
            return f"{v:.4g}"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"
    s = str(v)
    return s if len(s) <= 24 else s[:23] + "…"


def _fmt_distinct(d: dict[str, float]) -> str:
    est = d["estimate"]
    if d["upper"] - d["lower"] < 1:  # exact (few distinct values keep every hash)
        return f"{est:,.0f}"
    rel = max(d["upper"] - est, est - d["lower"]) / est * 100 if est else 0.0
    return f"≈{est:,.0f} ±{rel:.1f} %"


def _fmt_top(rows: list[dict[str, Any]]) -> str:
    """The heaviest values, at most three: `value ×count` (≈ where not exact)."""
    out = []
    for r in rows[:3]:
        mark = "" if r["lower"] == r["upper"] else "≈"
        out.append(f"{_fmt_num(r['value'])} ×{mark}{r['estimate']:,}")
    return ", ".join(out)


def _width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters take two,
    combining marks none."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def render_table(doc: dict[str, Any], title: str) -> str:
    """The profile as a fixed-width table: one row per column; ≈ marks approximations
    (distinct counts with their 95 % bound, quantiles)."""
    headers = [
        "column",
        "type",
        "count",
        "nulls",
        "distinct",
        "min",
        "max",
        "mean",
        "median",
        "p99",
        "top",
    ]
    rows: list[list[str]] = []
    for name, c in doc["columns"].items():
        q = c.get("quantiles") or {}
        approx: Callable[[Any], str] = lambda v: "" if v is None else "≈" + _fmt_num(v)  # noqa: E731
        rows.append(
            [
                name,
                c["type"],
                _fmt_num(c["count"]),
                _fmt_num(c["nulls"]),
                _fmt_distinct(c["distinct"]) if "distinct" in c else "",
                _fmt_num(c.get("min")),
                _fmt_num(c.get("max")),
                _fmt_num(c.get("mean")),
                approx(q.get("0.5")),
                approx(q.get("0.99")),
                _fmt_top(c.get("top") or []),
            ]
        )
    widths = [
        max(_width(h), *(_width(r[i]) for r in rows)) if rows else _width(h)
        for i, h in enumerate(headers)
    ]
    right = {2, 3, 4, 7, 8, 9}

    def line(cells: list[str]) -> str:
        def pad(i: int, c: str, w: int) -> str:
            fill = " " * (w - _width(c))
            return fill + c if i in right else c + fill

        return "  ".join(pad(i, c, w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [
        f"{title}: {doc['rows']:,} rows, {len(doc['columns'])} columns "
        "(≈: approximate; distinct ± its 95 % bound; string quantiles are lengths)",
        line(headers),
        line(["-" * w for w in widths]),
    ]
    out += [line(r) for r in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
