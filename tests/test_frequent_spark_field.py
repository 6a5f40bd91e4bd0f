"""Spark's top-k ``sketch`` field without Spark: the bytes Spark 4.3 wrote for
``approx_top_k_accumulate(v, 10)`` over (1, 1, null, null, null, 2) as bigint, and what
sketchbox does with the null count it carries."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from sketchbox import FrequentItems
from sketchbox.errors import SketchFormatError

SPARK_FIELD = bytes.fromhex(
    "04010a04030000000200000000000000030000000000000000000000000000000200000000000000"
    "0100000000000000010000000000000002000000000000000000000000000003"
)


def test_spark_field_reads_with_its_null_count():
    f = FrequentItems.from_bytes(SPARK_FIELD, dtype="int64")
    assert f.null_count == 3 and f.total_weight == 3
    assert f.spark_top_k(5) == [(None, 3), (1, 2), (2, 1)]
    assert f.spark_top_k(1) == [(None, 3)]
    assert f.to_bytes(spark=True) == SPARK_FIELD
    assert FrequentItems.from_bytes(f.to_bytes()).null_count == 0  # the plain image


def test_null_counts_travel_and_add_up():
    f = FrequentItems.from_bytes(SPARK_FIELD)
    g = pickle.loads(pickle.dumps(f))
    assert g.null_count == 3 and g.copy().null_count == 3
    assert (f | g).null_count == 6 and FrequentItems.union([f, g]).null_count == 6
    h = FrequentItems(4)
    h.update([2, 2, 2, 2])
    h.merge(f)
    assert h.null_count == 3 and h.spark_top_k(5) == [(2, 5), (None, 3), (1, 2)]
    assert FrequentItems(4).spark_top_k() == []


def test_damaged_fields_raise():
    for bad in (SPARK_FIELD[:-1], SPARK_FIELD[:-8] + b"\xff" * 8, SPARK_FIELD + b"\x00"):
        with pytest.raises(SketchFormatError):
            FrequentItems.from_bytes(bad)
    with pytest.raises(ValueError):
        FrequentItems().spark_top_k(0)


# Spark's bigint states over a stream with purges, ties and values beyond 32 bits, and
# Spark's answers for them (tests/fixtures/spark_top_k, with the script that made them).
SPARK_TOP_K = Path(__file__).parent / "fixtures" / "spark_top_k"


def fixture_stream() -> np.ndarray:
    i = np.arange(20_000, dtype=np.int64)
    base = np.where(i % 3 == 0, i % 10, (i * 2_654_435_761) % 100_003)
    return base * 4_294_967_311 - 7


@pytest.mark.parametrize("name", ["bigint_m100.bin", "bigint_m2000.bin"])
def test_bigint_states_keep_sparks_order(name):
    field = (SPARK_TOP_K / name).read_bytes()
    spark = [tuple(p) for p in json.loads((SPARK_TOP_K / "answers.json").read_text())[name]]
    read = FrequentItems.from_bytes(field, dtype="int64")
    assert read.spark and read.spark_top_k(20) == spark
    assert [(i, e) for i, e, _, _ in read.top()[:20]] == spark
    # Fed the stream Spark was fed, in Spark's order: Spark's bytes.
    fed = FrequentItems(read.lg_max_map_size, dtype="int64", spark=True, in_order=True)
    fed.update(fixture_stream())
    assert fed.to_bytes(spark=True) == field
    # In the longs sketch's order the counts agree but other tied items come first
    # (its image lists them in another order too, so Spark reading it would as well:
    # tests/test_spark_topk.py checks spark_top_k against Spark for both orders).
    longs = FrequentItems.from_bytes(field, dtype="int64", spark=False)
    assert not longs.spark
    top = [(i, e) for i, e, _, _ in longs.top()[:20]]
    assert top != spark and [e for _, e in top] == [e for _, e in spark]
    assert [e for _, e in longs.spark_top_k(20)] == [e for _, e in spark]
    # The order survives copies, pickles and unions (reading and merging rebuild the
    # map, as in Java, so only a copy keeps the bytes); the two orders merge.
    assert read.copy().spark and read.copy().to_bytes() == read.to_bytes()
    for same in (pickle.loads(pickle.dumps(read)), FrequentItems.union([read])):
        assert same.spark and sorted(same.top()) == sorted(read.top())
    assert not FrequentItems.union([field[:-8]]).spark
    assert FrequentItems.union([field[:-8]], spark=True).spark
    mixed = longs | read
    assert not mixed.spark and mixed.total_weight == 40_000
    assert all(mixed.estimate(i) == 2 * read.estimate(i) for i, _ in spark)
    assert "Spark order" in repr(read)
    # float64 and str sketches are in Java's generic order already.
    assert not FrequentItems(10, dtype="str", spark=True).spark
