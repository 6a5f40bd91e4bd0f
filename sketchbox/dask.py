"""Sketches and profiles of Dask collections, in Dask's own idioms.

Each partition becomes a sketch on the worker that holds it; only its image (bytes)
travels; images merge in a tree (``split_every`` at a time) and the last merge gives the
sketch. Nothing here schedules work: Dask does, so a lost worker's partitions are simply
recomputed, and an exception in a task is raised by ``compute()``.

    import dask.dataframe as dd
    import sketchbox.dask as sd

    df = dd.read_parquet("events/")
    sd.nunique(df.user_id)                      # HyperLogLog estimate
    sd.quantiles(df.latency_ms, [0.5, 0.99])    # KLL
    h = sd.sketch(df.user_id, "hll", lg_k=14)   # the merged HyperLogLog itself
    per_day = sd.groupby_sketch(df, "day", "user_id", "theta")   # pandas Series of sketches
    p = sd.profile(df)                          # the same Profile as sketchbox.profile

Needs the ``dask`` extra: ``pip install 'sketchbox[dask]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Optional, overload

import numpy as np

from ._kinds import AnySketch, Kind, kind_of
from .hll import HyperLogLog
from .kll import KllSketch
from .profile import PROFILE_K, Profile
from .profile import profile as _profile_local

SPLIT_EVERY = 8


def _images(x: Any) -> list[bytes]:
    """The images of one tree level: Dask hands a combine step the concatenated outputs
    of the steps below it, as a Series or a one-column DataFrame."""
    import pandas as pd

    col = x.iloc[:, 0] if isinstance(x, pd.DataFrame) else x
    return [bytes(b) for b in col]


def _one(image: bytes) -> Any:
    import pandas as pd

    return pd.Series([image], dtype=object)


def _chunk(part: Any, kind: Kind, params: dict[str, Any]) -> Any:
    return _one(kind.image_of(part, params))


def _combine(x: Any, kind: Kind, params: dict[str, Any]) -> Any:
    return _one(kind.merge_images(_images(x), params))


def _aggregate(x: Any, kind: Kind, params: dict[str, Any]) -> Any:
    return kind.union(_images(x), params)


@overload
def sketch(
    series: Any,
    kind: str = ...,
    compute: Literal[True] = ...,
    split_every: int = ...,
    **params: Any,
) -> AnySketch: ...
@overload
def sketch(
    series: Any, kind: str, compute: Literal[False], split_every: int = ..., **params: Any
) -> Any: ...
@overload
def sketch(
    series: Any, kind: str = ..., *, compute: Literal[False], split_every: int = ..., **params: Any
) -> Any: ...


def sketch(
    series: Any,
    kind: str = "hll",
    compute: bool = True,
    split_every: int = SPLIT_EVERY,
    **params: Any,
) -> Any:
    """The sketch of a Dask Series: ``kind`` is ``"hll"`` (``lg_k``, ``hll_type``),
    ``"theta"`` (``lg_k``, ``seed``), ``"kll"`` (``k``, ``dtype``), ``"frequent"``
    (``lg_max_map_size``, ``dtype``) or ``"countmin"`` (``num_hashes``, ``num_buckets``,
    ``seed``). Missing values are
    skipped as each family's ``update`` skips them. With ``compute=False``, a Dask object
    whose ``.compute()`` gives the sketch."""
    k = kind_of(kind, params)
    result = series.reduction(
        _chunk,
        aggregate=_aggregate,
        combine=_combine,
        split_every=split_every,
        meta=("sketch", object),
        chunk_kwargs={"kind": k, "params": params},
        combine_kwargs={"kind": k, "params": params},
        aggregate_kwargs={"kind": k, "params": params},
        token=f"sketchbox-{kind}",
    )
    return result.compute() if compute else result


@overload
def nunique(series: Any, lg_k: int = ..., compute: Literal[True] = ...) -> float: ...
@overload
def nunique(series: Any, lg_k: int, compute: Literal[False]) -> Any: ...
@overload
def nunique(series: Any, lg_k: int = ..., *, compute: Literal[False]) -> Any: ...


def nunique(series: Any, lg_k: int = 16, compute: bool = True) -> Any:
    """The approximate number of distinct non-missing values (HyperLogLog; relative
    standard error about 1.04/sqrt(2**lg_k) after merging: 0.41 % at the default lg_k 16,
    whose 64 KiB images cost no measurable time; Dask's own ``nunique_approx`` uses
    2**16 registers too)."""
    if compute:
        hll = sketch(series, "hll", lg_k=lg_k)
        assert isinstance(hll, HyperLogLog)
        return hll.estimate()
    from dask.delayed import delayed

    # A Delayed: the reduction's Scalar takes no `apply` (its meta is a tuple, which
    # dask cannot dispatch on).
    s = sketch(series, "hll", compute=False, lg_k=lg_k)
    return delayed(HyperLogLog.estimate)(s)


def quantiles(series: Any, q: Sequence[float], k: int = 200) -> np.ndarray:
    """Approximate quantiles at ranks ``q`` (KLL: within ``KllSketch(k)
    .normalized_rank_error()`` of rank, 1.33 % at k 200, with 99 % confidence)."""
    kll = sketch(series, "kll", k=k)
    assert isinstance(kll, KllSketch)
    return np.asarray(kll.quantiles(list(q)))


def _group_images(grouped: Any, kind: Kind, params: dict[str, Any]) -> Any:
    return grouped.apply(lambda s: kind.image_of(s, params))


def _group_merge(grouped: Any, kind: Kind, params: dict[str, Any]) -> Any:
    return grouped.apply(lambda images: kind.merge_images([bytes(b) for b in images], params))


def groupby_sketch(
    ddf: Any, by: Any, column: str, kind: str = "hll", compute: bool = True, **params: Any
) -> Any:
    """One sketch of ``column`` per group of ``by``: a pandas Series of sketches indexed
    by group (a Dask Series of them with ``compute=False``)."""
    import dask.dataframe as dd

    k = kind_of(kind, params)
    agg = dd.Aggregation(  # type: ignore[no-untyped-call]
        name=f"sketchbox_{kind}",
        chunk=lambda g: _group_images(g, k, params),
        agg=lambda g: _group_merge(g, k, params),
        finalize=lambda images: images,
    )
    images = ddf.groupby(by)[column].agg(agg)
    sketches = images.map(lambda b: k.read(bytes(b), params), meta=(column, object))
    return sketches.compute() if compute else sketches


def _profile_chunk(part: Any, columns: Optional[list[str]], top: int, lg_k: int, k: int) -> Any:
    p = _profile_local(part, columns=columns, top=top, lg_k=lg_k, k=k, threads=1)
    return _one(p.to_bytes())


def _profile_combine(x: Any) -> Any:
    return _merged_profile(_images(x))


def _merged_profile(images: list[bytes]) -> Profile:
    p = Profile.from_bytes(images[0])
    for b in images[1:]:
        p.merge(Profile.from_bytes(b))
    return p


def profile(
    ddf: Any,
    columns: Optional[list[str]] = None,
    top: int = 10,
    lg_k: int = 12,
    k: int = PROFILE_K,
    compute: bool = True,
    split_every: int = SPLIT_EVERY,
) -> Any:
    """The :class:`~sketchbox.Profile` of a Dask DataFrame: each partition profiled on
    its worker, the profiles' images merged in a tree; the same fields as
    ``sketchbox.profile`` of the same data."""
    result = ddf.reduction(
        _profile_chunk,
        aggregate=_profile_combine,
        combine=lambda x: _one(_profile_combine(x).to_bytes()),
        split_every=split_every,
        meta=("profile", object),
        chunk_kwargs={"columns": columns, "top": top, "lg_k": lg_k, "k": k},
        token="sketchbox-profile",
    )
    return result.compute() if compute else result


def _profile_file(
    files: Any, path: str, columns: Optional[list[str]], top: int, lg_k: int, k: int
) -> bytes:
    return bytes(files.profile_of(path, columns, top, lg_k, k).to_bytes())


def _merge_profiles(images: list[bytes]) -> bytes:
    return bytes(_merged_profile(images).to_bytes())


def profile_files(
    paths: Any,
    format: Optional[str] = None,
    columns: Optional[list[str]] = None,
    top: int = 10,
    lg_k: int = 12,
    k: int = PROFILE_K,
    compute: bool = True,
    split_every: int = SPLIT_EVERY,
) -> Any:
    """The :class:`~sketchbox.Profile` of files (a path, glob, folder or list of them, as
    ``sketchbox.profile`` takes), each file read and profiled on a worker by the same
    reader as ``sketchbox.profile`` (so the same column types: pyarrow's inference, not
    pandas'), the profiles' images merged in a tree. The files must be readable at the
    same paths on the workers (the CLI's ``--dask``). One task per file: a single large
    file is read by one worker."""
    from dask.delayed import delayed

    from .profile import source_files

    files = source_files(paths, format)
    level = [
        delayed(_profile_file, pure=True)(files, f, columns, top, lg_k, k) for f in files.paths
    ]
    if not level:  # no data file, as sketchbox.profile: no rows
        level = [delayed(bytes, pure=True)(Profile(lg_k, k, top).to_bytes())]
    while len(level) > 1:
        level = [
            delayed(_merge_profiles, pure=True)(level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    result = delayed(Profile.from_bytes, pure=True)(level[0])
    return result.compute() if compute else result
