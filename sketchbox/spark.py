"""Sketches and profiles of Spark DataFrames, built where the data is.

Each partition is sketched on its executor by sketchbox (``mapInArrow``: Arrow batches in,
one image out as a binary column); the driver merges the images. The HLL, Theta and KLL
images are Apache DataSketches images, so Spark SQL's own functions read them
(``hll_sketch_estimate``, ``hll_union_agg``, ``theta_union_agg``, ``kll_merge_agg_double``,
...) and sketchbox reads theirs: both can be mixed in one pipeline.

    import sketchbox.spark as ss

    h = ss.sketch(df, "user_id", "hll", lg_k=14)       # the merged HyperLogLog
    q = ss.sketch(df, "latency", "kll")                # KllSketch
    per_day = ss.groupby_sketch(df, "day", "user_id", "theta")   # {day: ThetaSketch}
    p = ss.profile(df)                                 # the same Profile as sketchbox.profile
    images = ss.images(df, "user_id", "hll")           # a DataFrame of per-partition images

Needs the ``spark`` extra (``pip install 'sketchbox[spark]'``) and sketchbox installed
where the executors' Python runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from ._kinds import AnySketch, Kind, kind_of
from .profile import PROFILE_K, Profile

IMAGE_SCHEMA = "image binary"


def _quoted(name: str) -> str:
    """A column name as Spark SQL resolves it literally (``a.b`` is not a field b of a)."""
    return "`" + name.replace("`", "``") + "`"


def _positional(df: Any) -> tuple[Any, list[str]]:
    """``df`` with its columns renamed ``_0``, ``_1``, ... and the original names: Spark's
    ``mapInArrow`` fails on names it would parse (a dot), whatever they are renamed back to
    after."""
    names = list(df.columns)
    return df.select(*(df[_quoted(n)].alias(f"_{i}") for i, n in enumerate(names))), names


def _sketchable(column: Any) -> Any:
    """A column as the sketches read it: decimals as doubles, as profiles hash them."""
    import pyarrow as pa

    if pa.types.is_decimal(column.type):
        return column.cast(pa.float64(), safe=False)
    return column


def _partition_images(kind: Kind, params: dict[str, Any]) -> Any:
    def per_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        sk = kind.make(params)
        for b in batches:
            if b.num_rows:
                sk.update(_sketchable(b.column(0)))
        yield pa.record_batch([pa.array([bytes(sk.to_bytes())], pa.binary())], names=["image"])

    return per_partition


def images(df: Any, column: str, kind: str = "hll", **params: Any) -> Any:
    """A Spark DataFrame with one row per partition of ``df``: the ``image`` (binary) of
    the sketch of ``column`` in that partition. Feed it to Spark's union aggregates, or
    to :func:`sketch`'s merge."""
    k = kind_of(kind, params)
    one = df.select(df[_quoted(column)].alias("_0"))
    return one.mapInArrow(_partition_images(k, params), IMAGE_SCHEMA)


def sketch(df: Any, column: str, kind: str = "hll", **params: Any) -> AnySketch:
    """The sketch of ``column`` of a Spark DataFrame: ``kind`` ``"hll"`` (``lg_k``,
    ``hll_type``), ``"theta"`` (``lg_k``, ``seed``), ``"kll"`` (``k``, ``dtype``),
    ``"frequent"`` (``lg_max_map_size``, ``dtype``) or ``"countmin"`` (``num_hashes``,
    ``num_buckets``, ``seed``: a family Spark lacks).
    Nulls are skipped. The per-partition images are merged on the driver in partition
    order."""
    k = kind_of(kind, params)
    rows = images(df, column, kind, **params).collect()
    result: AnySketch = k.union([bytes(r.image) for r in rows], params)
    return result


def groupby_sketch(
    df: Any, by: str, column: str, kind: str = "hll", **params: Any
) -> dict[Any, AnySketch]:
    """One sketch of ``column`` per value of ``by`` (``applyInArrow``: each group sketched
    on an executor): a dict {group value: sketch} (a list value, of an array key, as a
    tuple)."""
    k = kind_of(kind, params)
    key_type = df.schema[by].dataType.simpleString()
    pair = df.select(df[_quoted(by)].alias("_key"), df[_quoted(column)].alias("_value"))

    def per_group(table: Any) -> Any:
        import pyarrow as pa

        key = table.column("_key").slice(0, 1)
        if pa.types.is_timestamp(key.type) and key.type.tz is not None:
            # Spark hands over the session's zone and takes UTC back
            key = key.cast(pa.timestamp(key.type.unit, "UTC"))
        image = k.image_of(_sketchable(table.column("_value").combine_chunks()), params)
        return pa.table({"key": key, "image": pa.array([image])})

    rows = pair.groupBy("_key").applyInArrow(per_group, f"key {key_type}, image binary").collect()
    return {_hashable_key(r.key): k.read(bytes(r.image), params) for r in rows}


def _hashable_key(key: Any) -> Any:
    return tuple(_hashable_key(v) for v in key) if isinstance(key, list) else key


def profile(
    df: Any,
    columns: Optional[list[str]] = None,
    top: int = 10,
    lg_k: int = 12,
    k: int = PROFILE_K,
) -> Profile:
    """The :class:`~sketchbox.Profile` of a Spark DataFrame: each partition profiled on
    its executor, the profiles' images merged on the driver; the same fields as
    ``sketchbox.profile`` of the same rows."""
    selected, names = _positional(df.select(*(df[_quoted(c)] for c in columns)) if columns else df)

    def per_partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        p = Profile(lg_k, k, top)
        for b in batches:
            p.update(b.rename_columns(names))
        yield pa.record_batch([pa.array([p.to_bytes()], pa.binary())], names=["image"])

    rows = selected.mapInArrow(per_partition, IMAGE_SCHEMA).collect()
    merged = Profile(lg_k, k, top)
    for r in rows:
        merged.merge(Profile.from_bytes(bytes(r.image)))
    if not merged.columns:
        # no rows anywhere, so no batch: the columns from the schema, each of count 0
        from pyspark.sql.pandas.types import to_arrow_schema

        from .profile import _no_rows

        zone = df.sparkSession.conf.get("spark.sql.session.timeZone")
        try:
            schema = to_arrow_schema(selected.schema, timezone=zone)
        except (TypeError, ValueError):  # a Spark type Arrow has no form of: no column
            return merged
        merged.update(_no_rows(schema).rename_columns(names))
    return merged
