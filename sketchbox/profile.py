"""Profiles: one pass over a dataset larger than memory, a set of sketches per column.

A :class:`Profile` holds, for every column, exact counts, nulls, minimum, maximum and sum,
and three sketches: a :class:`~sketchbox.HyperLogLog` of its distinct values, a
:class:`~sketchbox.KllSketch` of its values (numbers and temporal ticks; string and binary
lengths) and, where the column has one, a frequent-items sketch of its heaviest values.
Batches of Arrow columns go in (from files through ``pyarrow.dataset``, or from tables and
DataFrames); two profiles merge into the profile of both, so profiles of yesterday's and
today's files, or of a cluster's partitions, combine without reading the data again.

Semantics (the JSON keys of :meth:`Profile.to_dict`):

* ``count``: non-null values (NaN is a value); ``nulls``: null values; ``rows``: rows read.
* ``distinct``: HyperLogLog estimate with ~95 % bounds (two standard deviations), clamped
  to ``count``; NaN counts as one value, -0.0 as 0.0, the empty string (or bytes) as one
  value (which DataSketches' HyperLogLog does not hash: it is counted beside the sketch).
* ``min``/``max``: exact, NaN ignored; strings compare by code point.
* ``mean``: exact mean of the non-NaN numbers (integers, floats, decimals).
* ``quantiles``: KLL (k=16384 by default: ranks within 0.018 % with 99 % confidence) at
  ranks 0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 and 1, of numbers and temporal values,
  or of the lengths of strings (in characters) and binaries (in bytes); NaN is skipped.
* ``top``: the heaviest values with no false positives (see ``FrequentItems``).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

from .errors import IncompatibleSketchError

if TYPE_CHECKING:
    import pandas

from .frequent import FrequentItems
from .hll import HyperLogLog
from .kll import KllSketch

QUANTILE_RANKS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
MANIFEST = "manifest.json"
EXTREMES = "extremes.arrow"
FORMAT_NAME = "sketchbox-profile"
FORMAT_VERSION = 1
CONTAINER_MAGIC = b"SKBXPRF1"
BATCH_ROWS = 1 << 17
# Bytes of text a CSV/JSONL batch holds; types are inferred from the first one. Larger
# blocks let pyarrow's reader run further ahead (measured: 16 MiB blocks held ~800 MB
# of a 10 M-row CSV in memory, 1 MiB blocks ~140 MB, and were no slower).
TEXT_BLOCK = 1 << 20

# Extensions (after a compression suffix) and the pyarrow.dataset format of each.
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
COMPRESSIONS = (".gz", ".zst", ".bz2", ".lz4")


class ProfileError(ValueError):
    """Input that cannot be profiled: a missing or unreadable file, a malformed row, an
    unknown column. The message names the file and, where pyarrow says, the row."""


# KLL k of the profiles' quantiles: ranks within 0.018 % (99 % confidence), closer than
# the t-digest of DuckDB's SUMMARIZE (benchmarks/bench_profile.py), for 0-12 % more time
# than k 200; the sketch keeps about 3k values (~400 KB) per column.
PROFILE_K = 16384


def _pa() -> Any:
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("profiling needs pyarrow: pip install 'sketchbox[profile]'") from None
    return pyarrow


# ---------------------------------------------------------------------------
# One column
# ---------------------------------------------------------------------------


def column_kind(arrow_type: Any) -> str:
    """How a column of this Arrow type is summarised: numeric, boolean, temporal, string,
    binary, or other (nested and null columns: counts only)."""
    pa = _pa()
    t = pa.types
    if t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "numeric"
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_interval(arrow_type):
        return "other"  # months, days and nanoseconds: no one order, no one tick
    if t.is_temporal(arrow_type):
        return "temporal"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    if (
        t.is_binary(arrow_type)
        or t.is_large_binary(arrow_type)
        or t.is_fixed_size_binary(arrow_type)
    ):
        return "binary"
    return "other"


def _profiled_type(arrow_type: Any) -> Any:
    """The type a column is profiled as: a dictionary column (pandas ``Categorical``) as
    its values, large and view strings and binaries as ``string`` and ``binary`` (the
    same values, whichever reader chose the layout: profiles of one column read by
    pyarrow, pandas, Dask or Spark merge), half floats as floats (pyarrow has no min/max
    of them)."""
    pa = _pa()
    t = pa.types
    if t.is_dictionary(arrow_type):
        return _profiled_type(arrow_type.value_type)
    if t.is_large_string(arrow_type):
        return pa.string()
    if t.is_large_binary(arrow_type):
        return pa.binary()
    # view types exist from pyarrow 16 on
    if getattr(t, "is_string_view", lambda _: False)(arrow_type):
        return pa.string()
    if getattr(t, "is_binary_view", lambda _: False)(arrow_type):
        return pa.binary()
    if t.is_float16(arrow_type):
        return pa.float32()
    return arrow_type


def _profiled(array: Any) -> Any:
    """``array`` as the sketches and pyarrow's kernels read it: dictionaries decoded,
    views and half floats cast (large strings and binaries are read as they are)."""
    pa = _pa()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    t = array.type
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        return array
    target = _profiled_type(t)
    return array if target == t else array.cast(target)


@dataclass
class ColumnProfile:
    """The sketches and exact counters of one column (see the module docstring)."""

    name: str
    type: str
    kind: str
    count: int = 0
    nulls: int = 0
    sum: float = 0.0
    summed: int = 0
    min: Any = None
    max: Any = None
    distinct: Optional[HyperLogLog] = None
    quantiles: Optional[KllSketch] = None
    top: Optional[FrequentItems] = None
    # A string or binary column held the empty item, which the HyperLogLog does not hash
    # (as DataSketches): ``distinct`` counts it beside the sketch.
    has_empty: bool = False
    arrow_type: Any = field(default=None, repr=False)
    lg_k: int = 12
    k: int = PROFILE_K
    top_n: int = 10  # how many values the JSON's `top` lists

    def _params(self) -> tuple[int, int, int]:
        return self.lg_k, self.k, self.top_n

    @classmethod
    def new(
        cls, name: str, arrow_type: Any, lg_k: int = 12, k: int = PROFILE_K, top: int = 10
    ) -> ColumnProfile:
        arrow_type = _profiled_type(arrow_type)
        kind = column_kind(arrow_type)
        c = cls(
            name=name,
            type=str(arrow_type),
            kind=kind,
            arrow_type=arrow_type,
            lg_k=lg_k,
            k=k,
            top_n=top,
        )
        if kind != "other":
            c.distinct = HyperLogLog(lg_k)
        if kind in ("numeric", "temporal", "string", "binary"):
            c.quantiles = KllSketch(k, dtype="float64")
        dtype = _top_dtype(kind, arrow_type)
        if top > 0 and dtype is not None:
            c.top = FrequentItems(TOP_LG_MAX_MAP_SIZE, dtype=dtype)
        return c

    def update(self, array: Any) -> None:
        """Adds one Arrow array (or chunked array) of this column's type."""
        pa = _pa()
        import pyarrow.compute as pc

        if isinstance(array, pa.ChunkedArray):
            for chunk in array.chunks:
                self.update(chunk)
            return
        array = _profiled(array)
        nulls = array.null_count
        self.nulls += nulls
        self.count += len(array) - nulls
        if self.kind == "other" or len(array) == nulls:
            return
        values = _hashable(array, self.kind)
        assert self.distinct is not None
        self.distinct.update(values)
        quantiles = self.quantiles
        quantile_values = None if quantiles is None else _quantile_values(array, self.kind)
        if self.kind in ("string", "binary") and not self.has_empty:
            self.has_empty = pc.min(quantile_values).as_py() == 0  # the lengths
        if pa.types.is_duration(array.type):
            # pyarrow has no min/max of durations: those of their ticks, as durations
            lo_hi = pc.min_max(values)
            lo, hi = (pa.array([lo_hi[m]], values.type).cast(array.type)[0] for m in ("min", "max"))
            self._extend(lo, hi)
        else:
            lo_hi = pc.min_max(array)
            self._extend(lo_hi["min"], lo_hi["max"])
        if self.kind == "numeric":
            # No Python scalar goes into a compute call: pyarrow converts one by
            # importing pandas (60 MiB of memory) when it is installed. Integers beyond
            # 2^53 round to the nearest double (the mean is a double anyway).
            as_float = array.cast(pa.float64(), safe=False)
            not_nan = as_float.filter(pc.invert(pc.is_nan(as_float)))  # nulls dropped too
            self.sum += pc.sum(not_nan).as_py() or 0.0
            self.summed += len(not_nan)
        if quantiles is not None:
            quantiles.update(quantile_values)
        if self.top is not None:
            if pa.types.is_uint64(values.type):
                # int64 items by their bit pattern (back in _top_value): uint64 ids
                values = values.view(pa.int64())
            self.top.update(values)

    def _extend(self, lo: Any, hi: Any) -> None:
        if lo.is_valid and (self.min is None or lo.as_py() < self.min.as_py()):
            self.min = lo
        if hi.is_valid and (self.max is None or hi.as_py() > self.max.as_py()):
            self.max = hi

    def merge(self, other: ColumnProfile) -> None:
        """Adds another profile of the same column (same Arrow type) into this one. A
        column that was all-null where it was read (Arrow type ``null``, as pandas object
        columns of only None give) merges into any type."""
        if other.type == "null":
            self.nulls += other.nulls
            return
        if self.type == "null":
            nulls = self.nulls
            fresh = ColumnProfile.new(self.name, other.arrow_type, *self._params())
            self.__dict__.update(fresh.__dict__)
            self.nulls = nulls
        if other.type != self.type:
            raise IncompatibleSketchError(
                f"column {self.name!r} is {self.type} in one profile and {other.type} in the other"
            )
        self.count += other.count
        self.nulls += other.nulls
        self.sum += other.sum
        self.summed += other.summed
        self.has_empty |= other.has_empty
        if other.min is not None:
            self._extend(other.min, other.max)
        if self.distinct is not None and other.distinct is not None:
            self.distinct.merge(other.distinct)
        if self.quantiles is not None and other.quantiles is not None:
            self.quantiles.merge(other.quantiles)
        if self.top is not None and other.top is not None:
            self.top.merge(other.top)

    def to_dict(self) -> dict[str, Any]:
        """The column's JSON document (keys as in the README's schema)."""
        d: dict[str, Any] = {"type": self.type, "count": self.count, "nulls": self.nulls}
        if self.distinct is not None:
            d["distinct"] = _distinct(self.distinct, self.count, self.has_empty)
        if self.kind == "other":
            return d
        d["min"] = _json_value(self.min)
        d["max"] = _json_value(self.max)
        if self.kind == "numeric":
            d["mean"] = _json_value(self.sum / self.summed) if self.summed else None
        if self.quantiles is not None:
            d["quantiles"] = self._quantiles()
        if self.top is not None:
            d["top"] = self._top()
        return d

    def _top(self) -> list[dict[str, Any]]:
        """The heaviest values, no false positives: each reported value is certainly
        more frequent than the sketch's maximum error."""
        assert self.top is not None
        rows = [
            {"value": self._top_value(item), "estimate": est, "lower": lo, "upper": hi}
            for item, est, lo, hi in self.top.top(None, error_type="no_false_positives")
        ]
        # Ties in the sketch's order depend on its hash table (which an image round trip
        # rebuilds): order them by value, so that equal profiles print equally.
        rows.sort(key=lambda r: (-r["estimate"], -r["lower"], json.dumps(r["value"])))
        return rows[: self.top_n]

    def _top_value(self, item: Any) -> Any:
        if self.kind == "boolean":
            return bool(item)
        if _pa().types.is_uint64(self.arrow_type):
            return item % (1 << 64)
        if self.kind == "temporal":
            pa = _pa()
            storage = pa.int32() if self.arrow_type.bit_width == 32 else pa.int64()
            return _json_value(pa.array([item], storage).cast(self.arrow_type)[0])
        return _json_value(item)

    def _quantiles(self) -> Optional[dict[str, Any]]:
        q = self.quantiles
        if q is None or q.is_empty():
            return None
        values = q.quantiles(list(QUANTILE_RANKS))
        # The exact extremes where DataSketches would give the retained ones.
        out = {}
        for r, v in zip(QUANTILE_RANKS, values.tolist()):
            if r == 0.0:
                v = q.min
            elif r == 1.0:
                v = q.max
            out[_rank_key(r)] = self._quantile_value(v)
        if self.kind == "numeric" and _pa().types.is_integer(self.arrow_type):
            # The sketch holds doubles: integers beyond 2^53 come back rounded, perhaps
            # past the column's range (2^63 for a maximum of 2^63 - 1). The extremes are
            # known exactly, and every quantile lies between them.
            assert self.min is not None and self.max is not None
            lo, hi = self.min.as_py(), self.max.as_py()
            out = {key: min(max(v, lo), hi) for key, v in out.items()}
            out["0"], out["1"] = lo, hi
        return out

    def _quantile_value(self, v: float) -> Any:
        if self.kind == "temporal":
            pa = _pa()
            # From a buffer: pa.array() of a list imports pandas (60 MiB) to check it.
            tick = np.array([int(round(v))], dtype=np.int64)
            ticks = pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(tick)])
            storage = pa.int32() if self.arrow_type.bit_width == 32 else pa.int64()
            return _json_value(ticks.cast(storage).cast(self.arrow_type)[0])
        if self.kind in ("string", "binary") or (
            self.kind == "numeric" and _pa().types.is_integer(self.arrow_type)
        ):
            return int(v)  # lengths and integers stay integers (exact below 2^53)
        return _json_value(v)


# Frequent items keeps up to 0.75 * 2^10 counters per column: a reported value's count is
# known within 3.5 / 1024 (0.34 %) of the column's count.
TOP_LG_MAX_MAP_SIZE = 10


def _top_dtype(kind: str, arrow_type: Any) -> Optional[str]:
    """The FrequentItems item type of a column kind (None: no top values)."""
    if kind == "numeric":
        pa = _pa()
        return "int64" if pa.types.is_integer(arrow_type) else "float64"
    if kind in ("boolean", "temporal"):
        return "int64"
    if kind == "string":
        return "str"
    return None  # binary (not text), nested


def _rank_key(r: float) -> str:
    return "0" if r == 0 else "1" if r == 1 else repr(r)


def _distinct(h: HyperLogLog, count: int, has_empty: bool = False) -> dict[str, float]:
    if count == 0:
        return {"estimate": 0.0, "lower": 0.0, "upper": 0.0}
    extra = 1.0 if has_empty else 0.0  # the empty item, known exactly
    est = min(h.estimate() + extra, float(count))
    lower = min(h.lower_bound(2) + extra, est)
    upper = min(h.upper_bound(2) + extra, float(count))
    return {"estimate": est, "lower": lower, "upper": max(upper, est)}


def _hashable(array: Any, kind: str) -> Any:
    """The array as HyperLogLog.update hashes it: temporal values as their int64 ticks,
    booleans as 0/1, decimals as doubles, fixed-size binary as binary."""
    pa = _pa()
    if kind == "temporal":
        storage = pa.int32() if array.type.bit_width == 32 else pa.int64()
        return array.cast(storage)
    if kind == "boolean":
        return array.cast(pa.int8())
    if kind == "numeric" and pa.types.is_decimal(array.type):
        return array.cast(pa.float64(), safe=False)
    if pa.types.is_fixed_size_binary(array.type):
        return array.cast(pa.binary())
    return array


def _quantile_values(array: Any, kind: str) -> Any:
    pa = _pa()
    import pyarrow.compute as pc

    if kind == "string":
        return pc.utf8_length(array)
    if kind == "binary":
        if pa.types.is_fixed_size_binary(array.type):
            array = array.cast(pa.binary())
        return pc.binary_length(array)
    if kind == "temporal":
        return _hashable(array, kind).cast(pa.int64())
    return array.cast(pa.float64(), safe=False)  # integers beyond 2^53 to the nearest double


def _iso_ns(ticks: int) -> str:
    """A nanosecond timestamp as pandas' ``Timestamp.isoformat`` writes it, without
    pandas: ``as_py()`` of such a scalar imports it (60 MiB of memory)."""
    secs, ns = divmod(ticks, 10**9)
    iso = (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)).isoformat()
    if ns % 1000:
        return f"{iso}.{ns:09d}"
    return f"{iso}.{ns // 1000:06d}" if ns else iso


def _json_value(v: Any) -> Any:
    """An Arrow scalar (or a plain value) as JSON: ISO 8601 for temporal values, floats for
    decimals, hex for bytes, None for NaN/missing."""
    if v is None:
        return None
    pa = _pa()
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return None
        if pa.types.is_timestamp(v.type) and v.type.unit == "ns" and v.type.tz is None:
            return _iso_ns(v.cast(pa.int64()).as_py())
        if pa.types.is_temporal(v.type):
            py = v.as_py()
            return py.isoformat() if hasattr(py, "isoformat") else str(py)
        v = v.as_py()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, float) and not math.isfinite(v):
        # JSON has no NaN or infinities: a NaN mean is undefined, infinities are strings.
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if type(v).__name__ == "Decimal":
        return float(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


# ---------------------------------------------------------------------------
# A whole source
# ---------------------------------------------------------------------------


class Profile:
    """Per-column sketches of a dataset; ``p | q`` is the profile of both datasets."""

    def __init__(self, lg_k: int = 12, k: int = PROFILE_K, top: int = 10) -> None:
        self.rows = 0
        self.lg_k = lg_k
        self.k = k
        self.top = top
        self.columns: dict[str, ColumnProfile] = {}

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return len(self.columns)

    def __repr__(self) -> str:
        return f"<Profile rows={self.rows} columns={len(self.columns)}>"

    def update(self, batch: Any, pool: Optional[ThreadPoolExecutor] = None) -> None:
        """Adds one Arrow RecordBatch or Table. With ``pool``, columns are sketched in
        parallel (the native updates release the GIL). Columns of one name (a CSV header
        may repeat one) are told apart as DuckDB does: ``a``, ``a_1``, ``a_2``..."""
        batch = _unique_names(batch)
        schema = batch.schema
        for f in schema:
            if f.name not in self.columns:
                c = ColumnProfile.new(f.name, f.type, self.lg_k, self.k, self.top)
                # A column that first appears now was null in every earlier row.
                c.nulls = self.rows
                self.columns[f.name] = c
            elif self.columns[f.name].type != str(_profiled_type(f.type)):
                raise ProfileError(
                    f"column {f.name!r} changes type from {self.columns[f.name].type} to"
                    f" {_profiled_type(f.type)}"
                )
        for name, c in self.columns.items():
            if name not in schema.names:
                c.nulls += batch.num_rows
        work = [(self.columns[f.name], batch.column(i)) for i, f in enumerate(schema)]
        if pool is None:
            for c, a in work:
                c.update(a)
        else:
            for f in [pool.submit(c.update, a) for c, a in work]:
                f.result()
        self.rows += batch.num_rows

    def merge(self, other: Profile) -> Profile:
        """Adds ``other`` (a profile of other rows) into this one; returns self."""
        if not isinstance(other, Profile):
            raise TypeError(f"can only merge a Profile, not {type(other).__name__}")
        for name, c in self.columns.items():
            if name not in other.columns:
                c.nulls += other.rows
        for name, oc in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(oc)
            else:
                c = ColumnProfile.new(name, oc.arrow_type, self.lg_k, self.k, self.top)
                c.nulls = self.rows
                c.merge(oc)
                self.columns[name] = c
        self.rows += other.rows
        return self

    def __or__(self, other: Profile) -> Profile:
        if not isinstance(other, Profile):
            return NotImplemented
        return Profile.from_dict_of_sketches(self).merge(other)

    @classmethod
    def from_dict_of_sketches(cls, p: Profile) -> Profile:
        """A deep copy of ``p`` (sketches copied)."""
        q = cls(p.lg_k, p.k, p.top)
        q.merge(p)
        return q

    def copy(self) -> Profile:
        """An independent copy, sketches included."""
        return Profile.from_dict_of_sketches(self)

    # -- output --

    def to_dict(self) -> dict[str, Any]:
        """The profile's JSON document: ``rows`` and one entry per column (README schema)."""
        return {"rows": self.rows, "columns": {n: c.to_dict() for n, c in self.columns.items()}}

    def to_json(self, indent: Optional[int] = None) -> str:
        """:meth:`to_dict` as JSON (UTF-8 text, no NaN: see the README's schema)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_pandas(self) -> pandas.DataFrame:
        """One row per column: type, count, nulls, distinct, min, max, mean, p50, ..."""
        import pandas as pd

        rows = []
        for name, c in self.to_dict()["columns"].items():
            row = {"column": name, "type": c["type"], "count": c["count"], "nulls": c["nulls"]}
            if "distinct" in c:
                row["distinct"] = c["distinct"]["estimate"]
            for key in ("min", "max", "mean"):
                if key in c:
                    row[key] = c[key]
            for r, v in (c.get("quantiles") or {}).items():
                row[f"q{r}"] = v
            rows.append(row)
        return pd.DataFrame(rows).set_index("column")

    # -- images --

    def _files(self) -> dict[str, bytes]:
        """The profile as named files: each sketch's DataSketches image, the exact extremes
        as an Arrow IPC file (every Arrow type kept exactly) and the JSON manifest."""
        pa = _pa()
        import pyarrow.ipc as ipc

        files: dict[str, bytes] = {}
        columns = []
        for i, (name, c) in enumerate(self.columns.items()):
            entry: dict[str, Any] = {
                "name": name,
                "type": c.type,
                "kind": c.kind,
                "count": c.count,
                "nulls": c.nulls,
                "sum": c.sum,
                "summed": c.summed,
            }
            if c.has_empty:
                entry["has_empty"] = True
            sketches = (("distinct", c.distinct), ("quantiles", c.quantiles), ("top", c.top))
            for what, sk in sketches:
                if sk is not None:
                    files[f"{i}.{what}.bin"] = sk.to_bytes()
                    entry[what] = f"{i}.{what}.bin"
            columns.append(entry)
        arrays = [
            pa.array(
                [
                    None if c.min is None else c.min.as_py(),
                    None if c.max is None else c.max.as_py(),
                ],
                type=c.arrow_type,
            )
            if c.kind != "other"
            else pa.nulls(2, c.arrow_type)
            for c in self.columns.values()
        ]
        schema = pa.schema(
            [pa.field(str(i), c.arrow_type) for i, c in enumerate(self.columns.values())]
        )
        sink = pa.BufferOutputStream()
        with ipc.new_file(sink, schema) as w:
            w.write_table(pa.Table.from_arrays(arrays, schema=schema))
        files[EXTREMES] = sink.getvalue().to_pybytes()
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "rows": self.rows,
            "lg_k": self.lg_k,
            "k": self.k,
            "top": self.top,
            "columns": columns,
        }
        files[MANIFEST] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        return files

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes the profile to folder ``path``: each sketch as its DataSketches image, the
        exact extremes as an Arrow file, and ``manifest.json``. Atomic: the folder appears
        whole or not at all (an existing profile there is replaced)."""
        target = os.path.abspath(os.fspath(path))
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        files = self._files()
        tmp = tempfile.mkdtemp(prefix=".sketchbox-", dir=parent)
        try:
            for name, data in files.items():  # the manifest last: it marks a whole profile
                if name != MANIFEST:
                    with open(os.path.join(tmp, name), "wb") as f:
                        f.write(data)
            with open(os.path.join(tmp, MANIFEST), "wb") as f:
                f.write(files[MANIFEST])
                f.flush()
                os.fsync(f.fileno())
            _replace_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def to_bytes(self) -> bytes:
        """The saved form of :meth:`save` in one byte string (what travels between Dask
        or Spark tasks): a small container of the same files."""
        out = [CONTAINER_MAGIC]
        for name, data in self._files().items():
            raw = name.encode()
            out += [len(raw).to_bytes(4, "little"), raw, len(data).to_bytes(8, "little"), data]
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Reads :meth:`to_bytes`; ProfileError for bytes that are not a profile."""
        view = memoryview(bytes(data))
        if bytes(view[: len(CONTAINER_MAGIC)]) != CONTAINER_MAGIC:
            raise ProfileError("not a sketchbox profile image")
        files: dict[str, bytes] = {}
        pos = len(CONTAINER_MAGIC)
        while pos < len(view):
            if pos + 4 > len(view):
                raise ProfileError("truncated profile image")
            n = int.from_bytes(view[pos : pos + 4], "little")
            if pos + 4 + n + 8 > len(view):
                raise ProfileError("truncated profile image")
            name = bytes(view[pos + 4 : pos + 4 + n]).decode("utf-8", "replace")
            pos += 4 + n
            size = int.from_bytes(view[pos : pos + 8], "little")
            if pos + 8 + size > len(view):
                raise ProfileError("truncated profile image")
            files[name] = bytes(view[pos + 8 : pos + 8 + size])
            pos += 8 + size

        def read(name: str) -> bytes:
            if name not in files:
                raise ValueError(f"missing {name}")
            return files[name]

        return cls._from_files(read, "profile image")

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]]) -> Profile:
        """Reads a profile written by :meth:`save`; ProfileError if it is not one."""
        folder = os.fspath(path)
        return cls._from_files(lambda name: _read(folder, name), folder)

    @classmethod
    def _from_files(cls, read: Callable[[str], bytes], where: str) -> Profile:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        try:
            m = json.loads(read(MANIFEST))
        except (OSError, ValueError) as e:
            raise ProfileError(f"{where}: not a saved profile ({e})") from None
        if not isinstance(m, dict) or m.get("format") != FORMAT_NAME:
            raise ProfileError(f"{where}: not a saved profile (no {FORMAT_NAME} manifest)")
        if m.get("version") != FORMAT_VERSION:
            raise ProfileError(f"{where}: profile format version {m.get('version')} is unknown")
        try:
            extremes = ipc.open_file(pa.py_buffer(read(EXTREMES))).read_all()
            p = cls(int(m["lg_k"]), int(m["k"]), int(m["top"]))
            p.rows = int(m["rows"])
            for i, entry in enumerate(m["columns"]):
                arrow_type = extremes.schema.field(str(i)).type
                c = ColumnProfile(
                    name=entry["name"],
                    type=entry["type"],
                    kind=entry["kind"],
                    count=int(entry["count"]),
                    nulls=int(entry["nulls"]),
                    sum=float(entry["sum"]),
                    summed=int(entry["summed"]),
                    has_empty=entry.get("has_empty", False) is True,
                    arrow_type=arrow_type,
                    lg_k=p.lg_k,
                    k=p.k,
                    top_n=p.top,
                )
                if str(arrow_type) != c.type or c.kind != column_kind(arrow_type):
                    raise ValueError(f"column {c.name!r}: manifest and extremes disagree")
                lo, hi = extremes.column(i)[0], extremes.column(i)[1]
                c.min = lo if lo.is_valid else None
                c.max = hi if hi.is_valid else None
                if "distinct" in entry:
                    c.distinct = HyperLogLog.from_bytes(read(entry["distinct"]))
                if "quantiles" in entry:
                    c.quantiles = KllSketch.from_bytes(read(entry["quantiles"]), dtype="float64")
                if "top" in entry:
                    dtype = _top_dtype(c.kind, arrow_type)
                    if dtype is None:
                        raise ValueError(f"column {c.name!r} of kind {c.kind} has no top values")
                    c.top = FrequentItems.from_bytes(read(entry["top"]), dtype=dtype)
                p.columns[c.name] = c
        except ProfileError:
            raise
        except (OSError, KeyError, TypeError, ValueError, pa.ArrowException) as e:
            raise ProfileError(f"{where}: damaged profile: {e}") from None
        return p


def _read(folder: str, name: str) -> bytes:
    if os.path.basename(name) != name:
        raise ValueError(f"sketch file name {name!r} leaves the profile folder")
    with open(os.path.join(folder, name), "rb") as f:
        return f.read()


def _replace_dir(new: str, target: str) -> None:
    """Renames folder ``new`` to ``target``; an existing profile there is moved aside
    first and removed once the new one is in place."""
    if os.path.exists(target):
        if not os.path.isfile(os.path.join(target, MANIFEST)) and os.listdir(target):
            raise ProfileError(f"{target}: exists and is not a saved profile; not replacing it")
        old = tempfile.mkdtemp(prefix=".sketchbox-old-", dir=os.path.dirname(target))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


def detect_format(path: str) -> Optional[str]:
    """The format of a file from its name (``x.csv.gz`` is CSV), or None."""
    name = path.lower()
    for c in COMPRESSIONS:
        if name.endswith(c):
            name = name[: -len(c)]
            break
    return FORMATS.get(os.path.splitext(name)[1])


def _files(paths: Iterable[str]) -> list[str]:
    import glob

    out: list[str] = []
    for p in paths:
        if any(ch in p for ch in "*?["):
            found = sorted(glob.glob(p, recursive=True))
            if not found:
                raise ProfileError(f"{p}: no file matches")
            out.extend(f for f in found if os.path.isfile(f))
        elif os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                out.extend(
                    os.path.join(root, n) for n in sorted(names) if not n.startswith((".", "_"))
                )
        elif os.path.exists(p):
            out.append(p)  # a file, or a named pipe streaming one
        else:
            raise ProfileError(f"{p}: no such file or directory")
    return out


def _file_format(fmt: str) -> Any:
    import pyarrow.dataset as ds

    if fmt == "tsv":
        import pyarrow.csv as pcsv

        return ds.CsvFileFormat(parse_options=pcsv.ParseOptions(delimiter="\t"))
    if fmt == "jsonl":
        return ds.JsonFileFormat()
    if fmt == "arrow":
        return ds.IpcFileFormat()
    return fmt


@dataclass
class Source:
    """Batches of one input, with what a progress bar needs to know."""

    batches: Callable[[], Iterator[Any]]
    total_bytes: Optional[int] = None


def open_source(
    source: Any,
    format: Optional[str] = None,
    columns: Optional[list[str]] = None,
    batch_rows: int = BATCH_ROWS,
) -> Source:
    """Record batches of a path, glob, folder (Hive partitions), list of paths, pyarrow
    Table / RecordBatchReader / Dataset or pandas DataFrame, read lazily."""
    pa = _pa()
    # Not imported here: pyarrow.dataset adds 55 MiB to the process (measured), and a
    # Dataset argument means its module is already loaded.
    ds = sys.modules.get("pyarrow.dataset")

    def select(batch: Any) -> Any:
        if columns is None:
            return batch
        missing = [c for c in columns if c not in batch.schema.names]
        if missing:
            raise ProfileError(f"unknown column {missing[0]!r}")
        return batch.select(columns)

    if type(source).__name__ == "DataFrame" and hasattr(source, "to_numpy"):
        table = pa.Table.from_pandas(source, preserve_index=False)
        return open_source(table, columns=columns, batch_rows=batch_rows)
    if isinstance(source, pa.Table):
        return Source(
            lambda: (
                select(b)
                for b in source.to_batches(max_chunksize=batch_rows) or [_no_rows(source.schema)]
            )
        )
    if isinstance(source, pa.RecordBatch):
        return Source(lambda: iter([select(source)]))
    if isinstance(source, pa.RecordBatchReader):
        return Source(lambda: (select(b) for b in source))
    if ds is not None and isinstance(source, ds.Dataset):
        return Source(
            lambda: (select(b) for b in source.to_batches(columns=columns, batch_size=batch_rows))
        )
    files = source_files(source, format)
    total = sum(_size(f) for f in files.paths)

    def batches() -> Iterator[Any]:
        done = 0
        for path in files.paths:
            if os.path.isfile(path) and _size(path) == 0:
                continue  # an empty file has no rows (and, for CSV, no header)
            yield _File(path)
            for b in files.batches(path, batch_rows):
                yield _Read(done + b.nbytes) if isinstance(b, _Read) else select(b)
            done += _size(path)
            yield _Read(done)

    return Source(batches, total)


@dataclass
class SourceFiles:
    """The files of a path source, in one format; ``roots`` are the paths as given (a
    folder's Hive partition keys are read from the folders below it)."""

    paths: list[str]
    format: str
    roots: list[str]

    def batches(self, path: str, batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
        """The record batches (and progress markers) of one of the files; errors are
        ProfileErrors naming it."""
        pa = _pa()
        try:
            yield from _file_batches(path, self.format, self.roots, batch_rows)
        except ProfileError as e:
            raise ProfileError(f"{path}: {e}") from None
        except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
            raise ProfileError(f"{path}: {_one_line(e)}") from None

    def profile_of(
        self, path: str, columns: Optional[list[str]], top: int, lg_k: int, k: int
    ) -> Profile:
        """The profile of one of the files, read as :func:`profile` reads it (the piece a
        worker of a cluster profiles)."""
        p = Profile(lg_k, k, top)
        if os.path.isfile(path) and _size(path) == 0:
            return p
        for b in self.batches(path):
            if isinstance(b, _Read):
                continue
            missing = [c for c in columns or [] if c not in b.schema.names]
            if missing:
                raise ProfileError(f"unknown column {missing[0]!r}")
            try:
                p.update(b if columns is None else b.select(columns))
            except ProfileError as e:
                raise ProfileError(f"{path}: {e}") from None
        return p


def source_files(source: Any, format: Optional[str] = None) -> SourceFiles:
    """The files a path, glob, folder or list of them names, and their one format."""
    if isinstance(source, (str, os.PathLike)):
        paths = [os.fspath(source)]
    else:
        paths = list(source) if isinstance(source, Iterable) else []
    if not paths or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise TypeError(
            "profile() takes a path, glob, folder or list of paths, a pyarrow Table, "
            "RecordBatchReader or Dataset, or a pandas DataFrame"
        )
    roots = [os.fspath(p) for p in paths]
    by_format: dict[str, list[str]] = {}
    for f in _files(roots):
        fmt = format or detect_format(f)
        if fmt is None:
            if any(os.path.isdir(r) for r in roots):
                continue  # stray files in a dataset folder (_SUCCESS, .crc, ...)
            raise ProfileError(f"{f}: unknown format; name it with --format")
        if fmt not in ("parquet", "csv", "tsv", "jsonl", "arrow"):
            raise ProfileError(f"unknown format {fmt!r}")
        by_format.setdefault(fmt, []).append(f)
    if len(by_format) > 1:
        raise ProfileError(
            f"mixed formats ({', '.join(sorted(by_format))}); name one with --format"
        )
    fmt, chosen = next(iter(by_format.items())) if by_format else ("parquet", [])
    return SourceFiles(chosen, fmt, roots)


def _file_batches(path: str, fmt: str, roots: list[str], batch_rows: int) -> Iterator[Any]:
    """One file's record batches (and `_Read` progress markers), with the Hive partition
    columns of its folder (``year=2024/...``) appended when it was found in one."""
    base = next((r for r in roots if os.path.isdir(r)), None)
    keys = _partition_keys(path, fmt, base) if base is not None else []
    for item in _plain_file_batches(path, fmt, batch_rows):
        if keys and not isinstance(item, _Read):
            pa = _pa()
            n = item.num_rows
            item = pa.RecordBatch.from_arrays(
                [*item.columns, *(pa.array([v.as_py()] * n, v.type) for _, v in keys)],
                names=[*item.schema.names, *(k for k, _ in keys)],
            )
        yield item


def _partition_keys(path: str, fmt: str, base: str) -> list[tuple[str, Any]]:
    """The Hive partition values of ``path`` below ``base``, typed as pyarrow infers them."""
    pa = _pa()
    import pyarrow.dataset as ds

    d = ds.dataset(
        path,
        format=_file_format(fmt),
        partitioning=ds.partitioning(flavor="hive"),
        partition_base_dir=base,
    )
    frag = next(iter(d.get_fragments()))
    keys = ds.get_partition_keys(frag.partition_expression)
    return [(k, pa.scalar(v, type=d.schema.field(k).type)) for k, v in keys.items()]


def _unique_names(batch: Any) -> Any:
    """``batch`` with its repeated column names suffixed ``_1``, ``_2``... (a name
    already taken is skipped), as DuckDB reads a CSV header that repeats one."""
    names = batch.schema.names
    if len(set(names)) == len(names):
        return batch
    taken = set(names)
    seen: set[str] = set()
    unique = []
    for name in names:
        if name in seen:
            i = 1
            while f"{name}_{i}" in taken:
                i += 1
            name = f"{name}_{i}"
            taken.add(name)
        seen.add(name)
        unique.append(name)
    return batch.rename_columns(unique)


def _no_rows(schema: Any) -> Any:
    """A batch of no rows: a source without rows still has its columns (count 0)."""
    pa = _pa()
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _plain_file_batches(path: str, fmt: str, batch_rows: int) -> Iterator[Any]:
    """One file's record batches, streamed: memory stays bounded by the batch, whatever
    the file's size (measured: pyarrow.dataset and large CSV blocks read ahead in
    proportion to the file). Text formats read the file once (a named pipe works;
    compression is detected from the name). A file of no rows (a CSV header, an empty
    Parquet file) gives one empty batch of its columns."""
    pa = _pa()
    if fmt in ("csv", "tsv", "jsonl"):
        yield from _text_batches(path, fmt)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path, pre_buffer=False)
        schema = pf.schema_arrow
        total_rows = pf.metadata.num_rows or 1
        batches = pf.iter_batches(batch_size=batch_rows, use_threads=False)
    else:  # Arrow IPC: the file format, else the stream format
        import pyarrow.ipc as ipc

        try:
            reader = ipc.open_file(pa.OSFile(path, "rb"))
            schema = reader.schema
            total_rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            stream = ipc.open_stream(pa.OSFile(path, "rb"))
            schema = stream.schema
            total_rows, batches = 0, iter(stream)
    batches = _or_no_rows(batches, schema)
    # Bytes in proportion of rows (both formats know their row count up front).
    size, rows = _size(path), 0
    for b in batches:
        rows += b.num_rows
        yield b
        yield _Read(size * rows // total_rows if total_rows else 0)


def _or_no_rows(batches: Iterable[Any], schema: Any) -> Iterator[Any]:
    """``batches``, or one batch of no rows of ``schema`` if there is none."""
    empty = True
    for b in batches:
        empty = False
        yield b
    if empty:
        yield _no_rows(schema)


# pyarrow's CSV reader takes these for null by default; NaN spellings are left out, so
# that "NaN" in a numeric column is the float NaN, a value (as in DuckDB and pandas' own
# float parsing), and in a text column the text "NaN". In text columns too an empty
# field is null, as in DuckDB and pandas, and a quoted one ("") the empty string.
CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "N/A", "NA", "NULL", "n/a", "null"]
CSV_CONVERT = {
    "null_values": CSV_NULLS,
    "strings_can_be_null": True,
    "quoted_strings_can_be_null": False,
}


def _text_batches(path: str, fmt: str) -> Iterator[Any]:
    pa = _pa()
    codec = _codec(path)
    # A pipe cannot seek (pyarrow's PythonFile says it can): read it through Python's
    # file object, and progress counts no bytes.
    seekable = os.path.isfile(path)
    raw = pa.OSFile(path, "rb") if seekable else pa.PythonFile(open(path, "rb"), mode="r")
    stream = pa.CompressedInputStream(raw, codec) if codec else raw
    if fmt == "jsonl":
        import pyarrow.json as pjson

        reader = pjson.open_json(stream, read_options=pjson.ReadOptions(block_size=TEXT_BLOCK))
        with stream:
            for b in _or_no_rows(_text_only(reader, first_row=1), reader.schema):
                yield b
                yield _Read(raw.tell() if seekable else 0)
        return
    import pyarrow.csv as pcsv

    bad_rows: list[Any] = []

    def ragged(row: Any) -> str:
        bad_rows.append(row)
        return "error"

    with stream, _quiet_ragged_rows():
        try:
            # open_csv reads the first block already
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(block_size=TEXT_BLOCK),
                parse_options=pcsv.ParseOptions(
                    delimiter="\t" if fmt == "tsv" else ",", invalid_row_handler=ragged
                ),
                convert_options=pcsv.ConvertOptions(**CSV_CONVERT),
            )
            for b in _or_no_rows(_text_only(reader, first_row=2), reader.schema):
                yield b
                # Bytes of the file read so far (the reader runs a block ahead).
                yield _Read(raw.tell() if seekable else 0)
        except pa.ArrowInvalid as e:
            if bad_rows and bad_rows[0].number is not None:
                r = bad_rows[0]
                raise ProfileError(
                    f"row {r.number}: expected {r.expected_columns} columns, got {r.actual_columns}"
                ) from e
            raise


class _quiet_ragged_rows:
    """While CSVs are read: pyarrow hands a ragged row to the handler as text, and a row
    that is not UTF-8 fails that conversion before the handler runs; Python then prints
    the UnicodeDecodeError as an "ignored" exception (a traceback on stderr) and the
    reader fails with its own error, which the caller reports in one line. Only that
    ignored exception is silenced, any other goes to the previous hook, which is back
    once no CSV is being read (reads may overlap in threads)."""

    lock = threading.Lock()
    readers = 0
    previous: Any = None

    def __enter__(self) -> None:
        cls = type(self)
        with cls.lock:
            if cls.readers == 0:
                cls.previous = sys.unraisablehook
                sys.unraisablehook = cls.hook
            cls.readers += 1

    def __exit__(self, *exc: object) -> None:
        cls = type(self)
        with cls.lock:
            cls.readers -= 1
            if cls.readers == 0:
                sys.unraisablehook = cls.previous

    @classmethod
    def hook(cls, u: Any) -> None:
        if not isinstance(u.exc_value, UnicodeDecodeError):
            cls.previous(u)


def _text_only(batches: Iterable[Any], first_row: int) -> Iterator[Any]:
    """The batches of a text file; a column pyarrow read as binary held bytes that are not
    UTF-8, which a text format cannot mean: an error naming the line (``first_row`` is the
    line of the first record: 2 after a CSV header)."""
    pa = _pa()
    row = 0
    for b in batches:
        for i, f in enumerate(b.schema):
            if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
                for j, v in enumerate(b.column(i).to_pylist()):
                    try:
                        if v is not None:
                            v.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProfileError(
                            f"row {row + j + first_row}: column {f.name!r} is not valid UTF-8"
                        ) from None
        row += b.num_rows
        yield b


def _codec(path: str) -> Optional[str]:
    return {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2", ".lz4": "lz4"}.get(
        os.path.splitext(path.lower())[1]
    )


def _size(path: str) -> int:
    return os.path.getsize(path) if os.path.isfile(path) else 0


class _Read:
    """Progress marker between batches: bytes of the input read so far."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


class _File:
    """Marker before the batches of each file: errors in them name it."""

    def __init__(self, path: str) -> None:
        self.path = path


def _one_line(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    # pyarrow wraps the cause in what it was doing, naming the path again; the caller
    # names the file once, so keep the cause.
    msg = re.sub(r"^Error creating dataset\. ", "", msg)
    msg = re.sub(
        r"Could not (read schema from|open \w+ input source) '[^']*'\.?"
        r"( Is this a '\w+' file\?)?:? ?",
        "",
        msg,
    )
    msg = re.sub(r"^'[^']*': ", "", msg)
    msg = re.sub(r"^(Invalid|IOError|Error): ", "", msg)
    return msg or type(e).__name__


def _read_ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """The items of ``items``, produced by a reader thread up to ``depth`` ahead: reading
    and decoding the next batch overlaps sketching this one, and the caller's thread never
    blocks inside a read, so Ctrl-C (KeyboardInterrupt) reaches it at once."""
    out: queue.Queue[tuple[str, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for x in items:
                if not put(("item", x)):
                    return
            put(("end", None))
        except BaseException as e:  # handed to the consumer, raised there
            put(("error", e))

    reader = threading.Thread(target=run, name="sketchbox-reader", daemon=True)
    reader.start()
    try:
        while True:
            try:
                kind, x = out.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "item":
                yield x
            elif kind == "error":
                raise x
            else:
                return
    finally:
        stop.set()


def profile(
    source: Any,
    columns: Optional[list[str]] = None,
    top: int = 10,
    lg_k: int = 12,
    k: int = PROFILE_K,
    format: Optional[str] = None,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    batch_rows: int = BATCH_ROWS,
) -> Profile:
    """Profiles ``source`` in one streaming pass (see :class:`Profile` for the fields).

    ``source``: a path, glob (``"data/*.parquet"``), folder (Hive partitions), list of paths,
    pyarrow Table / RecordBatchReader / Dataset, or pandas DataFrame. ``columns``: the
    columns to profile (all by default). ``top``: how many heaviest values to report per
    column (0: none). ``lg_k``: the HyperLogLog size, ``k`` the KLL size. ``threads``:
    columns sketched in parallel (default: the CPU count). ``progress(rows, bytes)`` is
    called after each batch. Raises ProfileError for input that cannot be read, with the
    file named."""
    if columns is not None and (
        isinstance(columns, str) or not all(isinstance(c, str) for c in columns)
    ):
        raise TypeError("columns must be a list of column names")
    src = open_source(source, format=format, columns=columns, batch_rows=batch_rows)
    p = Profile(lg_k, k, top)
    workers = threads if threads is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"threads must be at least 1, got {workers}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ValueError(f"top must be a whole number >= 0, got {top!r}")
    done_bytes = 0
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    path = None
    try:
        for b in _read_ahead(src.batches()):
            if isinstance(b, _Read):
                done_bytes = b.nbytes
                if progress is not None:
                    progress(p.rows, done_bytes)
            elif isinstance(b, _File):
                path = b.path
            else:
                try:
                    p.update(b, pool)
                except ProfileError as e:
                    # a column whose type changes from one file to the next
                    raise ProfileError(f"{path}: {e}" if path else str(e)) from None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if columns is not None:
        for c in columns:
            if c not in p.columns:
                raise ProfileError(f"unknown column {c!r}")
    return p
