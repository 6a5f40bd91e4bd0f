"""CountMin: datasketches-python's images and estimates, the Count-Min guarantee, bad
input, threads."""

from __future__ import annotations

import copy
import pickle
import random
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _fuzz import mutate
from _threads import run_threads

from sketchbox import CountMin
from sketchbox.errors import IncompatibleSketchError, InvalidArgumentError, SketchFormatError

ds = pytest.importorskip("datasketches")


def _stream(seed: int, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.zipf(1.3, n).astype(np.int64) % 5000, rng.integers(0, 6, n).astype(np.int64)


@pytest.mark.parametrize(
    "num_hashes,num_buckets,seed", [(3, 2048, 9001), (1, 3, 9001), (5, 100, 12345), (8, 1000, 7)]
)
def test_images_are_datasketches_python_images(
    num_hashes: int, num_buckets: int, seed: int
) -> None:
    items, weights = _stream(seed)
    strings = [f"item-{i}" if i % 3 else f"café-{i}" for i in range(300)]
    ours = CountMin(num_hashes, num_buckets, seed)
    theirs = ds.count_min_sketch(num_hashes, num_buckets, seed)
    assert ours.to_bytes() == theirs.serialize()  # empty
    ours.update(items, weights=weights)
    ours.update(items[:500])  # weight 1 each
    ours.update(strings, weights=list(range(300)))
    ours.update(pa.array(strings[:50]))
    for v, w in zip(items.tolist(), weights.tolist()):
        theirs.update(v, w)
    for v in items[:500].tolist():
        theirs.update(v)
    for s, w in zip(strings, range(300)):
        theirs.update(s, w)
    for s in strings[:50]:
        theirs.update(s)
    assert ours.to_bytes() == theirs.serialize()
    # datasketches-python's deserialize has no seed argument: it reads seed 9001 only
    back = ds.count_min_sketch.deserialize(ours.to_bytes()) if seed == 9001 else theirs
    read = CountMin.from_bytes(theirs.serialize(), seed)
    for item in [0, 1, 2, 17, 4999, "item-1", "café-3", "absent"]:
        assert ours.estimate(item) == theirs.get_estimate(item) == back.get_estimate(item)
        assert read.estimate(item) == ours.estimate(item)
        assert ours.upper_bound(item) == pytest.approx(theirs.get_upper_bound(item))
        assert ours.lower_bound(item) == theirs.get_lower_bound(item)
    assert ours.total_weight == theirs.total_weight
    assert ours.relative_error == pytest.approx(theirs.get_relative_error())


def test_suggest_is_datasketches_suggest() -> None:
    for eps, conf in [(0.001, 0.99), (0.01, 0.9), (0.1, 0.5)]:
        h, b = CountMin.suggest(eps, conf)
        assert h == ds.count_min_sketch.suggest_num_hashes(conf)
        assert b == ds.count_min_sketch.suggest_num_buckets(eps)
    with pytest.raises(ValueError):
        CountMin.suggest(0.0)
    with pytest.raises(ValueError):
        CountMin.suggest(0.01, 1.0)
    with pytest.raises(TypeError):
        CountMin.suggest("0.1")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_estimates_never_below_truth_and_the_bound_holds_at_its_confidence(seed: int) -> None:
    eps, conf = 0.002, 0.9
    h, b = CountMin.suggest(eps, conf)
    c = CountMin(h, b, seed=9001 + seed)
    items, weights = _stream(seed, 100_000)
    floats = np.random.default_rng(seed).normal(size=2000).round(2)
    c.update(items, weights=weights)
    c.update(floats)
    truth: Counter = Counter()
    for v, w in zip(items.tolist(), weights.tolist()):
        truth[v] += w
    truth.update(floats.tolist())
    total = sum(truth.values())
    assert c.total_weight == total
    misses = 0
    for item, f in truth.items():
        est = c.estimate(item)
        assert est >= f
        misses += est > f + eps * total
        assert c.upper_bound(item) == pytest.approx(est + c.relative_error * total)
    assert misses <= (1 - conf) * len(truth)


def test_merge_copy_pickle_and_shapes() -> None:
    items, weights = _stream(5)
    a, b = CountMin(3, 256), CountMin(3, 256)
    a.update(items[:10_000], weights=weights[:10_000])
    b.update(items[10_000:], weights=weights[10_000:])
    whole = CountMin(3, 256)
    whole.update(items, weights=weights)
    assert (a | b).to_bytes() == whole.to_bytes()
    a.merge(b)
    assert a.to_bytes() == whole.to_bytes()
    assert pickle.loads(pickle.dumps(a)).to_bytes() == a.to_bytes()
    s = CountMin(2, 10, seed=77)
    s.update([1, 2, 3])
    assert pickle.loads(pickle.dumps(s)).estimate(1) == 1 and copy.deepcopy(s).seed == 77
    assert a.to_dict()["num_buckets"] == 256 and "num_hashes=3" in repr(a)
    for other in [CountMin(4, 256), CountMin(3, 257), CountMin(3, 256, seed=1)]:
        with pytest.raises(IncompatibleSketchError):
            a.merge(other)
    with pytest.raises(TypeError):
        a.merge(b"x")  # type: ignore[arg-type]


def test_union_of_many_sketches_and_images() -> None:
    items, weights = _stream(9)
    parts = []
    for k in range(8):
        c = CountMin(3, 256, seed=77)
        c.update(items[k::8], weights=weights[k::8])
        parts.append(c)
    merged = CountMin(3, 256, seed=77)
    for c in parts:
        merged.merge(c)
    images = [c.to_bytes() for c in parts]
    # sketches carry their seed; images need it
    assert CountMin.union(parts).to_bytes() == merged.to_bytes()
    for given in (
        images,
        [None, *images[:4], pd.NA, *parts[4:]],
        np.array(images, dtype=object),
        pd.Series([*images, None]),
        pa.array([*images, None], pa.binary()),
    ):
        u = CountMin.union(given, seed=77)
        assert u.to_bytes() == merged.to_bytes() and u.seed == 77
        assert u.num_buckets == 256 and u.estimate(items[0]) == merged.estimate(items[0])
    empty = CountMin.union([])
    assert empty.total_weight == 0 and (empty.num_hashes, empty.num_buckets) == (3, 2048)
    # datasketches-python's merges of the same images write the same bytes (seed 9001:
    # its deserialize reads no other)
    default_seed = []
    for k in range(3):
        c = CountMin(3, 256)
        c.update(items[k::3], weights=weights[k::3])
        default_seed.append(c.to_bytes())
    theirs = ds.count_min_sketch.deserialize(default_seed[0])
    for b in default_seed[1:]:
        theirs.merge(ds.count_min_sketch.deserialize(b))
    assert CountMin.union(default_seed).to_bytes() == theirs.serialize()


def test_union_errors_name_the_image() -> None:
    a, b = CountMin(3, 64), CountMin(3, 65)
    a.update([1, 2])
    b.update([1])
    with pytest.raises(IncompatibleSketchError, match="image 1"):
        CountMin.union([a, b])
    with pytest.raises(IncompatibleSketchError, match="seeds"):
        CountMin.union([a, CountMin(3, 64, seed=5)])
    with pytest.raises(IncompatibleSketchError):
        CountMin.union([a.to_bytes()], seed=5)
    with pytest.raises(SketchFormatError, match="image 1"):
        CountMin.union([a.to_bytes(), a.to_bytes()[:20]])
    with pytest.raises(TypeError, match="CountMin sketches or images"):
        CountMin.union([a, 3])
    with pytest.raises(TypeError):
        CountMin.union(a.to_bytes())  # one image is not a list of them
    assert a.total_weight == 2  # inputs unchanged
    closed = CountMin(3, 64)
    closed.close()
    for given in ([closed], [a.to_bytes(), closed]):
        with pytest.raises(ValueError, match="closed"):
            CountMin.union(given)


def test_weight_errors() -> None:
    c = CountMin()
    with pytest.raises(ValueError, match="non-negative"):
        c.update([1, 2], weights=[1, -1])
    with pytest.raises(ValueError, match="2 items need 2 weights, got 3"):
        c.update(np.array([1, 2]), weights=[1, 2, 3])
    with pytest.raises(TypeError, match="integers"):
        c.update([1, 2], weights=[1.5, 2.0])
    with pytest.raises(TypeError, match="integers"):
        c.update(1, weights=2.5)
    with pytest.raises(ValueError, match="non-negative"):
        c.update("a", weights=-3)
    for nulls in (pa.array([1, None]), pd.Series([1, None], dtype="Int64")):
        with pytest.raises(TypeError, match="integers"):
            c.update(pa.array([1, 2]), weights=nulls)
    assert c.total_weight == 0  # nothing applied
    c.update(["a", None, "b"], weights=[2, 100, 3])  # None skips its weight
    c.update(pa.array(["x", None, "y"]), weights=[1, 50, 1])
    c.update(pa.array([5, None, 6]), weights=[1, 50, 1])
    assert c.total_weight == 9 and c.estimate("b") == 3 and c.estimate(6) == 1
    with pytest.raises(TypeError):
        c.estimate(None)
    with pytest.raises(ValueError, match="num_buckets"):
        CountMin(3, 2)
    with pytest.raises(ValueError, match="num_hashes"):
        CountMin(0, 100)
    with pytest.raises(InvalidArgumentError):
        CountMin(255, 2**24)  # 2^30 counters or more


def test_bad_images() -> None:
    c = CountMin(3, 64)
    c.update(np.arange(1000), weights=np.arange(1000) % 7)
    image = c.to_bytes()
    for cut in [0, 1, 8, 15, 16, 23, len(image) - 1]:
        with pytest.raises(SketchFormatError):
            CountMin.from_bytes(image[:cut])
    with pytest.raises(IncompatibleSketchError):
        CountMin.from_bytes(image, seed=1234)
    rng = random.Random(8)
    for _ in range(10_000):
        bad = mutate(image, rng, count_field=slice(8, 12))
        try:
            s = CountMin.from_bytes(bad)
        except (SketchFormatError, IncompatibleSketchError):
            continue
        s.estimate(1), s.total_weight, s.to_bytes()  # a read sketch answers


def test_use_after_close() -> None:
    c = CountMin()
    c.update([1, 2])
    c.close()
    for call in [
        lambda: c.update([1]),
        lambda: c.estimate(1),
        lambda: c.to_bytes(),
        lambda: c.total_weight,
    ]:
        with pytest.raises(ValueError, match="closed"):
            call()


def test_eight_threads_on_one_sketch() -> None:
    c = CountMin(3, 512)
    items = np.arange(50_000, dtype=np.int64) % 1000

    def work(i: int) -> None:
        for _ in range(3):
            c.update(items, weights=np.full(items.size, i + 1, dtype=np.int64))
            c.update(["t"] * 10)
            c.estimate(5)

    run_threads(work, 8)
    whole = CountMin(3, 512)
    for i in range(8):
        for _ in range(3):
            whole.update(items, weights=np.full(items.size, i + 1, dtype=np.int64))
            whole.update(["t"] * 10)
    assert c.to_bytes() == whole.to_bytes()


def test_weights_above_2_pow_53_are_refused_and_change_nothing() -> None:
    # Counters are doubles: 2^53 + 1 would be rounded to 2^53, below the true weight.
    c = CountMin(3, 64)
    c.update([1, 2], weights=[2**53, 1])
    image = c.to_bytes()
    assert c.estimate(1) == 2**53
    for weights in (2**53 + 1, [1, 2**53 + 1], np.array([1, 2**64 - 1], np.uint64)):
        n = 1 if isinstance(weights, int) else 2
        with pytest.raises(InvalidArgumentError, match="2\\^53"):
            c.update([5] * n if n > 1 else 5, weights=weights)
    assert c.to_bytes() == image


def test_a_shape_whose_counters_do_not_fit_in_memory_is_an_error() -> None:
    # 255 x 4,200,000 counters (8.6 GB) are allowed, and allocated on first use: with
    # 3 GB of address space that fails, as an error and not the end of the process.
    code = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from sketchbox import CountMin
from sketchbox.errors import InvalidArgumentError
c = CountMin(255, 4_200_000)
image = CountMin.from_bytes(c.to_bytes())
for sketch in (c, image):
    try:
        sketch.update(1)
    except InvalidArgumentError as e:
        assert "out of memory" in str(e), e
    else:
        raise SystemExit("no error")
    assert sketch.total_weight == 0
small = CountMin(3, 64)
small.update(1)
print("ok")
"""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
