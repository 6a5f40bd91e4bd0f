"""ThetaSketch-specific input rules (the conversions shared with HyperLogLog are
tested for both families in test_hash_input.py)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sketchbox import ReadOnlySketchError, ThetaSketch


def test_every_input_kind_hashes_with_the_sketch_seed():
    from datasketches import update_theta_sketch

    words = ["a", "bb", "", "é", "x" * 40]
    cases = [
        (np.arange(-50, 5000), list(range(-50, 5000))),
        (np.linspace(0, 1, 3000), np.linspace(0, 1, 3000).tolist()),
        (np.array(words), [w for w in words if w]),
        (np.array([w.encode() for w in words]), [w for w in words if w]),
        (pa.array(words + [None]), [w for w in words if w]),
        (words, [w for w in words if w]),
    ]
    for values, plain in cases:
        ours = ThetaSketch(12, seed=7)
        ours.update(values)
        theirs = update_theta_sketch(12, 1.0, 7)
        for v in plain:
            theirs.update(v)
        assert ours.to_bytes() == theirs.compact().serialize()
        one_by_one = ThetaSketch(12, seed=7)
        for v in plain:
            one_by_one.update(v)
        assert one_by_one.to_bytes() == ours.to_bytes()


def test_compact_sketches_refuse_every_kind_of_update():
    s = ThetaSketch()
    s.update([1, 2, 3])
    c = ThetaSketch.from_bytes(s.to_bytes())
    for values in (5, 2.5, "x", b"x", [1, 2], np.arange(10), np.array(["a"]), pa.array(["a"])):
        with pytest.raises(ReadOnlySketchError, match="compact"):
            c.update(values)
    assert c.estimate() == 3
    # A copy of an update sketch accepts items; a copy of a compact one does not.
    s.copy().update(4)
    with pytest.raises(ValueError, match="compact"):
        c.copy().update(4)
