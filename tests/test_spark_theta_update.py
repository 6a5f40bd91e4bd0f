"""datasketches-java (inside pyspark, reached through the session ``spark`` fixture's
JVM) as the oracle of the updatable Theta image: Java reads sketchbox's
``to_bytes(compact=False)`` with ``UpdateSketch.heapify`` and continues updating to the
same sketch sketchbox reaches, and Java's ``UpdateSketch.toByteArray()`` reads here as an
update sketch that continues as Java does."""

from __future__ import annotations

import numpy as np
import pytest

from sketchbox import ThetaSketch

# (items before the image, items after, lg_k, p): empty, exact, across the first
# rebuild, deep in estimation mode, sampled.
CASES = [
    (0, 300, 12, 1.0),
    (1, 50, 12, 1.0),
    (1000, 1000, 10, 1.0),
    (3000, 4000, 10, 1.0),
    (6000, 2000, 5, 1.0),
    (0, 2000, 9, 0.25),
    (4000, 1000, 9, 0.25),
]


@pytest.fixture(scope="module")
def java(spark):
    jvm = spark._jvm
    return jvm.org.apache.datasketches.theta, jvm.org.apache.datasketches.memory.Memory


def java_sketch(theta, lg_k: int, p: float):
    return theta.UpdateSketch.builder().setNominalEntries(1 << lg_k).setP(p).build()


def java_update(sketch, values: np.ndarray) -> None:
    for v in values.tolist():
        sketch.update(v)  # update(long): the 8 little-endian bytes, as sketchbox hashes int64


def same_estimate(sketch):
    """Java's estimate, to the last bits: Java computes count * (2^63 / theta64),
    sketchbox count / (theta64 / 2^63), which may differ in the last place; the
    retained hashes and theta are compared exactly through the images."""
    return pytest.approx(sketch.getEstimate(), rel=1e-14, abs=0)


def java_compact(sketch) -> bytes:
    """Java's compact ordered image, as sketchbox writes the same sketch (Java also
    stores p in bytes 12..16 of it, which C++ and sketchbox leave zero)."""
    return ThetaSketch.from_bytes(bytes(sketch.compact().toByteArray())).to_bytes()


def items(start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype=np.int64) * 2654435761 % (1 << 40)


@pytest.mark.parametrize("before,after,lg_k,p", CASES)
def test_java_continues_sketchbox_update_images(java, before, after, lg_k, p):
    theta, memory = java
    ours = ThetaSketch(lg_k, p=p)
    ours.update(items(0, before))
    jsk = theta.UpdateSketch.heapify(memory.wrap(ours.to_bytes(compact=False)))
    assert ours.estimate() == same_estimate(jsk)
    assert jsk.getRetainedEntries() == ours.num_retained
    more = items(before, before + after)
    java_update(jsk, more)
    ours.update(more)
    assert ours.estimate() == same_estimate(jsk)
    assert java_compact(jsk) == ours.to_bytes()


@pytest.mark.parametrize("before,after,lg_k,p", CASES)
def test_java_update_images_read_as_update_sketches(java, before, after, lg_k, p):
    theta, _ = java
    jsk = java_sketch(theta, lg_k, p)
    java_update(jsk, items(0, before))
    ours = ThetaSketch.from_bytes(bytes(jsk.toByteArray()))
    assert not ours.is_compact
    assert ours.estimate() == same_estimate(jsk)
    more = items(before, before + after)
    java_update(jsk, more)
    ours.update(more)
    assert ours.estimate() == same_estimate(jsk)
    assert ours.to_bytes() == java_compact(jsk)
    if ours.theta == p:
        # No rebuild yet: the same table, slot for slot.
        assert ours.to_bytes(compact=False) == bytes(jsk.toByteArray())
