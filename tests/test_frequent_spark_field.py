"""Spark's top-k ``sketch`` field without Spark: the bytes Spark 4.3 wrote for
``approx_top_k_accumulate(v, 10)`` over (1, 1, null, null, null, 2) as bigint, and what
sketchbox does with the null count it carries."""

from __future__ import annotations

import pickle

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
