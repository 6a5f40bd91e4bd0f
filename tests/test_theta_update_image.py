"""The updatable Theta image (``to_bytes(compact=False)``, datasketches-java's
UpdateSketch image): round trips and pickles stay update sketches and continue exactly
as the original does; compact sketches keep pickling compact; bad images are refused."""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest
from _fuzz import mutate

from sketchbox import ThetaSketch
from sketchbox.errors import IncompatibleSketchError, ReadOnlySketchError, SketchFormatError


def filled(n: int, lg_k: int = 12, p: float = 1.0, seed: int = 9001) -> ThetaSketch:
    s = ThetaSketch(lg_k, p=p, seed=seed)
    s.update(np.arange(n, dtype=np.int64))
    return s


CASES = [
    (0, 12, 1.0),
    (1, 12, 1.0),
    (3000, 12, 1.0),
    (100_000, 12, 1.0),
    (50_000, 5, 1.0),
    (0, 9, 0.25),
    (20_000, 9, 0.25),
    (200_000, 16, 1.0),
]


@pytest.mark.parametrize("n,lg_k,p", CASES)
def test_round_trips_and_pickles_continue_as_the_original(n, lg_k, p):
    s = filled(n, lg_k, p, seed=77)
    image = s.to_bytes(compact=False)
    assert len(image) > 24 and image[2] == 2  # family 2: the update sketch
    for clone in (
        ThetaSketch.from_bytes(image, seed=77),
        pickle.loads(pickle.dumps(s)),
        copy.deepcopy(s),
    ):
        assert not clone.is_compact and clone.seed == 77
        assert clone.to_bytes(compact=False) == image
        assert clone.to_bytes() == s.to_bytes()
        more = np.arange(n, 3 * n + 5000, dtype=np.int64) * 3 + 1
        reference = filled(n, lg_k, p, seed=77)
        reference.update(more)
        clone.update(more)
        assert clone.estimate() == reference.estimate()
        assert clone.to_bytes(compact=False) == reference.to_bytes(compact=False)
        assert clone.to_dict()["kind"] == "update"


def test_compact_sketches_pickle_compact_and_have_no_update_image():
    a, b = filled(1500), filled(1500)
    for c in (a | b, ThetaSketch.from_bytes(a.to_bytes())):
        assert c.is_compact
        back = pickle.loads(pickle.dumps(c))
        assert back.is_compact and back.to_bytes() == c.to_bytes()
        with pytest.raises(ReadOnlySketchError, match="no updatable image"):
            c.to_bytes(compact=False)
    with pytest.raises(ValueError, match="not compressed"):
        a.to_bytes(True, compact=False)


def test_update_images_enter_set_operations():
    a, b = filled(3000), filled(6000)
    ua, ub = a.to_bytes(compact=False), b.to_bytes(compact=False)
    assert ThetaSketch.union([ua, ub]).to_bytes() == (a | b).to_bytes()
    assert ThetaSketch.intersection([ua, ub]).estimate() == 3000


def test_bad_update_images_are_refused():
    image = filled(100, lg_k=6).to_bytes(compact=False)
    with pytest.raises(IncompatibleSketchError, match="seed"):
        ThetaSketch.from_bytes(image, seed=1)
    for bad, words in [
        (image[:30], "bytes"),
        (image[:8] + (999).to_bytes(4, "little") + image[12:], "entries"),
        (image[:5] + bytes([8]) + image[6:], "compact"),
    ]:
        with pytest.raises(SketchFormatError, match=words):
            ThetaSketch.from_bytes(bad)


def test_ten_thousand_mutated_update_images_never_crash():
    rng = random.Random(20261202)
    images = [
        filled(n, lg_k, p).to_bytes(compact=False)
        for n, lg_k, p in [(0, 5, 1.0), (1, 5, 1.0), (20, 5, 1.0), (300, 5, 1.0), (40, 6, 0.5)]
    ]
    read = 0
    for _ in range(10_000):
        data = mutate(rng.choice(images), rng, count_field=slice(8, 12))
        try:
            s = ThetaSketch.from_bytes(data)
        except (SketchFormatError, IncompatibleSketchError) as e:
            assert str(e)
            continue
        read += 1
        # What reads is a working sketch: it round-trips, takes items, and stays valid.
        if not s.is_compact:
            assert ThetaSketch.from_bytes(s.to_bytes(compact=False)).to_bytes() == s.to_bytes()
            s.update(np.arange(100))
        assert ThetaSketch.from_bytes(s.to_bytes()).to_bytes() == s.to_bytes()
        assert s.estimate() >= 0
    assert read > 200  # the success path is exercised too
