"""Errors speak Python: ranges in words ("from 4 to 21"), never Rust's `4..=21`."""

from __future__ import annotations

import pytest

from sketchbox import CountMin, FrequentItems, HyperLogLog, KllSketch, ThetaSketch, TupleSketch

BAD_PARAMETERS = [
    (lambda: HyperLogLog(lg_k=22), "lg_k must be from 4 to 21, got 22"),
    (lambda: HyperLogLog(lg_k=260), "lg_k must be from 4 to 21"),
    (lambda: ThetaSketch(lg_k=4), "lg_k must be from 5 to 26"),
    (lambda: KllSketch(k=7), "k must be from 8 to 65535"),
    (lambda: FrequentItems(lg_max_map_size=2), "lg_max_map_size must be from 3 to"),
    (lambda: CountMin(num_hashes=0, num_buckets=10), "num_hashes must be from 1 to"),
    (lambda: HyperLogLog.union([], lg_k=99), "from 4 to 21"),
    (lambda: TupleSketch(lg_k=27), "lg_k must be from 4 to 26"),
]


@pytest.mark.parametrize("make,words", BAD_PARAMETERS, ids=range(len(BAD_PARAMETERS)))
def test_parameter_ranges_are_in_words(make, words):
    with pytest.raises(ValueError) as info:
        make()
    message = str(info.value)
    assert words in message
    assert "..=" not in message and ".." not in message.replace("...", "")
