"""FrequentItems images cross with datasketches-python 5.2.0 and read every frequent_*
image of the Java and C++ corpus as its README describes."""

from __future__ import annotations

import re
from pathlib import Path

import datasketches as ds
import numpy as np
import pytest

from sketchbox import FrequentItems, SketchFormatError

NFP = ds.frequent_items_error_type.NO_FALSE_POSITIVES
NFN = ds.frequent_items_error_type.NO_FALSE_NEGATIVES
WORDS = ["café", "東京", "naïve", "a", "", "ß" * 40, "x" * 200]


def theirs_rows(sk, error_type=NFP) -> set:
    return set(sk.get_frequent_items(error_type))


def ours_rows(f: FrequentItems, error_type="no_false_positives") -> set:
    return set(f.top(error_type=error_type))


def zipf_stream(seed: int, n: int, mod: int) -> list[int]:
    return (np.random.default_rng(seed).zipf(1.2, n) % mod).tolist()


@pytest.mark.parametrize("n", [0, 10, 40, 5000])
def test_strings_cross_both_ways_with_merges(n):
    stream = enumerate(zipf_stream(n, n, 500))
    items = [WORDS[i % len(WORDS)] if i % 3 else str(v) for i, v in stream]
    theirs, ours = ds.frequent_strings_sketch(6), FrequentItems(6, dtype="str")
    for i, item in enumerate(items):
        theirs.update(item, 1 + i % 3)
    ours.update(items, weights=[1 + i % 3 for i in range(n)])
    for image, writer in ((theirs.serialize(), theirs), (ours.to_bytes(), None)):
        read_ours = FrequentItems.from_bytes(image, dtype="str")
        read_theirs = ds.frequent_strings_sketch.deserialize(image)
        writer_rows = theirs_rows(writer) if writer is not None else ours_rows(ours)
        assert ours_rows(read_ours) == writer_rows == theirs_rows(read_theirs)
        assert ours_rows(read_ours, "no_false_negatives") == theirs_rows(read_theirs, NFN)
        assert read_ours.total_weight == read_theirs.total_weight
        for w in WORDS:
            assert (read_ours.estimate(w), read_ours.lower_bound(w), read_ours.upper_bound(w)) == (
                read_theirs.get_estimate(w),
                read_theirs.get_lower_bound(w),
                read_theirs.get_upper_bound(w),
            )
    # Merges: each side merges the other's image into its own sketch.
    mine = FrequentItems.from_bytes(ours.to_bytes(), "str")
    mine.merge(FrequentItems.from_bytes(theirs.serialize(), "str"))
    other = ds.frequent_strings_sketch.deserialize(ours.to_bytes())
    other.merge(ds.frequent_strings_sketch.deserialize(theirs.serialize()))
    assert mine.total_weight == other.total_weight
    assert mine.maximum_error <= mine.epsilon * mine.total_weight
    for w in WORDS:
        assert mine.lower_bound(w) <= 2 * ours.upper_bound(w)
        assert mine.lower_bound(w) <= other.get_upper_bound(w)
        assert other.get_lower_bound(w) <= mine.upper_bound(w)
    their_error = other.get_upper_bound("?") - other.get_lower_bound("?")
    if mine.maximum_error == 0 and their_error == 0:
        assert ours_rows(mine) == theirs_rows(other)


@pytest.mark.parametrize("n", [0, 30, 20_000])
def test_longs_cross_both_ways_through_its_serde(n):
    items = zipf_stream(n + 1, n, 3000)
    items = [x - 1500 if x % 2 else x * 2**40 for x in items]
    theirs, ours = ds.frequent_items_sketch(7), FrequentItems(7)
    for x in items:
        theirs.update(x)
    ours.update(items)
    serde = ds.PyLongsSerDe()
    for image, writer_rows in (
        (theirs.serialize(serde), theirs_rows(theirs)),
        (ours.to_bytes(), ours_rows(ours)),
    ):
        read_ours = FrequentItems.from_bytes(image, dtype="int64")
        read_theirs = ds.frequent_items_sketch.deserialize(image, serde)
        assert ours_rows(read_ours) == writer_rows == theirs_rows(read_theirs)
        assert ours_rows(read_ours, "no_false_negatives") == theirs_rows(read_theirs, NFN)
        assert read_ours.total_weight == read_theirs.total_weight == n
        for x in set(items[:50]) | {123456789}:
            assert (read_ours.estimate(x), read_ours.lower_bound(x), read_ours.upper_bound(x)) == (
                read_theirs.get_estimate(x),
                read_theirs.get_lower_bound(x),
                read_theirs.get_upper_bound(x),
            )
    merged = FrequentItems.from_bytes(theirs.serialize(serde), "int64")
    merged.merge(ours)
    theirs.merge(ds.frequent_items_sketch.deserialize(ours.to_bytes(), serde))
    assert merged.total_weight == theirs.total_weight == 2 * n


def test_non_ascii_where_the_generic_python_serde_is_wrong():
    # datasketches-python's generic PyStringsSerDe writes code points as single bytes:
    # '東京' fails, 'café' becomes a non-UTF-8 image that its own C++ strings sketch
    # cannot read either.
    generic = ds.frequent_items_sketch(6)
    generic.update("東京")
    with pytest.raises(ValueError, match="byte must be in range"):
        generic.serialize(ds.PyStringsSerDe())
    generic = ds.frequent_items_sketch(6)
    generic.update("café", 2)
    bad_image = generic.serialize(ds.PyStringsSerDe())
    with pytest.raises(SketchFormatError, match="UTF-8"):
        FrequentItems.from_bytes(bad_image, "str")
    # Ours: UTF-8 with byte lengths, read right by both of its readers.
    ours = FrequentItems(6, "str")
    ours.update(["café", "東京", "東京"], weights=[2, 1, 1])
    image = ours.to_bytes()
    assert theirs_rows(ds.frequent_strings_sketch.deserialize(image)) == ours_rows(ours)
    generic_read = ds.frequent_items_sketch.deserialize(image, ds.PyStringsSerDe())
    assert theirs_rows(generic_read) == {("café", 2, 2, 2), ("東京", 2, 2, 2)}


def corpus(fixtures_dir: Path) -> list[Path]:
    paths = sorted(fixtures_dir.glob("*/frequent_*.sk"))
    assert len(paths) >= 36
    return paths


def test_every_corpus_image_reads_as_its_readme_says(fixtures_dir):
    java_identical = 0
    for path in corpus(fixtures_dir):
        data = path.read_bytes()
        name = path.name
        dtype = "int64" if name.startswith("frequent_long") else "str"
        f = FrequentItems.from_bytes(data, dtype)
        theirs = (
            ds.frequent_strings_sketch.deserialize(data)
            if dtype == "str"
            else (ds.frequent_items_sketch.deserialize(data, ds.PyLongsSerDe()))
        )
        assert ours_rows(f) == theirs_rows(theirs), name
        assert f.lg_max_map_size == 6, name
        if m := re.search(r"_n(\d+)_", name):
            n = int(m.group(1))
            assert f.total_weight == n, name
            assert f.maximum_error <= f.epsilon * n, name
            values = range(1, n + 1)
            for v in list(values)[:: max(1, n // 200)]:
                item = v if dtype == "int64" else str(v)
                assert f.lower_bound(item) <= 1 <= f.upper_bound(item) or n == 0, name
            if n <= 48:  # 0.75 * 64 counters: exact
                assert f.maximum_error == 0 and len(f) == n, name
            if name.endswith("_java.sk"):
                again = FrequentItems(6, dtype, in_order=True)
                again.update(list(values) if dtype == "int64" else [str(v) for v in values])
                java_identical += again.to_bytes() == data or n == 0
        elif "ascii" in name:
            rows = f.top()
            assert [r[1:] for r in rows] == [(w, w, w) for w in (4, 3, 2, 1)], name
            assert [r[0] for r in rows] == [c * 29 for c in "dcba"], name
        else:
            rows = f.top()
            assert f.total_weight == 28 and [r[1] for r in rows] == [7, 6, 5, 4, 3, 2, 1], name
            assert all(not r[0].isascii() for r in rows), name
            assert FrequentItems.from_bytes(f.to_bytes(), "str").top() == rows
    assert java_identical == 16  # every Java n-image is what our sketch writes
