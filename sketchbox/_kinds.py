"""The sketch families by name, as the cluster integrations (``sketchbox.dask``,
``sketchbox.spark``) build them from a column and merge their images: one place that knows
how to make, fill, serialise and union each kind, so that every engine does it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

from .countmin import CountMin
from .frequent import FrequentItems
from .hll import HyperLogLog
from .kll import KllSketch
from .theta import ThetaSketch

#: What ``sketch(...)`` of the cluster modules returns: one of the families by kind name.
AnySketch = Union[HyperLogLog, ThetaSketch, KllSketch, FrequentItems, CountMin]


@dataclass(frozen=True)
class Kind:
    """How to build one family's sketch of a column and merge images of it."""

    name: str
    cls: Any
    make: Callable[[dict[str, Any]], Any]
    read: Callable[[bytes, dict[str, Any]], Any]
    union: Callable[[list[Any], dict[str, Any]], Any]

    def image_of(self, values: Any, params: dict[str, Any]) -> bytes:
        """The image of a sketch of ``values`` (anything the family's ``update`` takes)."""
        sk = self.make(params)
        if len(values):
            sk.update(values)
        return bytes(sk.to_bytes())

    def merge_images(self, images: list[bytes], params: dict[str, Any]) -> bytes:
        return bytes(self.union(images, params).to_bytes())


def _hll_union(items: list[Any], params: dict[str, Any]) -> HyperLogLog:
    return HyperLogLog.union(
        items, lg_k=params.get("lg_k", 12), hll_type=params.get("hll_type", "HLL_8")
    )


def _kll_union(items: list[Any], params: dict[str, Any]) -> KllSketch:
    return KllSketch.union(items, dtype=params.get("dtype", "float64"), k=params.get("k", 200))


def _theta_union(items: list[Any], params: dict[str, Any]) -> ThetaSketch:
    return ThetaSketch.union(items, lg_k=params.get("lg_k", 12), seed=params.get("seed", 9001))


def _frequent_union(items: list[Any], params: dict[str, Any]) -> FrequentItems:
    return FrequentItems.union(
        items, lg_max_map_size=params.get("lg_max_map_size", 10), dtype=params.get("dtype", "int64")
    )


def _make_countmin(params: dict[str, Any]) -> CountMin:
    return CountMin(
        params.get("num_hashes", 3), params.get("num_buckets", 2048), seed=params.get("seed", 9001)
    )


def _countmin_union(items: list[Any], params: dict[str, Any]) -> CountMin:
    # (with no input, the empty sketch of the shape asked for, not the default shape)
    if not len(items):
        return _make_countmin(params)
    return CountMin.union(items, seed=params.get("seed", 9001))


KINDS: dict[str, Kind] = {
    "hll": Kind(
        "hll",
        HyperLogLog,
        lambda p: HyperLogLog(p.get("lg_k", 12), p.get("hll_type", "HLL_8")),
        lambda b, p: HyperLogLog.from_bytes(b),
        _hll_union,
    ),
    "theta": Kind(
        "theta",
        ThetaSketch,
        lambda p: ThetaSketch(p.get("lg_k", 12), seed=p.get("seed", 9001)),
        lambda b, p: ThetaSketch.from_bytes(b, seed=p.get("seed", 9001)),
        _theta_union,
    ),
    "kll": Kind(
        "kll",
        KllSketch,
        lambda p: KllSketch(p.get("k", 200), dtype=p.get("dtype", "float64")),
        lambda b, p: KllSketch.from_bytes(b, dtype=p.get("dtype", "float64")),
        _kll_union,
    ),
    "frequent": Kind(
        "frequent",
        FrequentItems,
        lambda p: FrequentItems(p.get("lg_max_map_size", 10), dtype=p.get("dtype", "int64")),
        lambda b, p: FrequentItems.from_bytes(b, dtype=p.get("dtype", "int64")),
        _frequent_union,
    ),
    "countmin": Kind(
        "countmin",
        CountMin,
        _make_countmin,
        lambda b, p: CountMin.from_bytes(b, seed=p.get("seed", 9001)),
        _countmin_union,
    ),
}

PARAMS = {
    "hll": {"lg_k", "hll_type"},
    "theta": {"lg_k", "seed"},
    "kll": {"k", "dtype"},
    "frequent": {"lg_max_map_size", "dtype"},
    "countmin": {"num_hashes", "num_buckets", "seed"},
}


def kind_of(name: str, params: dict[str, Any]) -> Kind:
    """The family called ``name``, after checking ``params`` are its parameters."""
    if not isinstance(name, str) or name not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}, not {name!r}")
    unknown = set(params) - PARAMS[name]
    if unknown:
        raise TypeError(f"unknown parameter(s) for kind {name!r}: {', '.join(sorted(unknown))}")
    KINDS[name].make(params).close()  # parameters checked here, not in a worker
    return KINDS[name]
