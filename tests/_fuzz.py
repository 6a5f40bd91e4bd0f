"""Seeded damage to valid sketch images, for the never-crash tests of every family."""

from __future__ import annotations

import random


def mutate(image: bytes, rng: random.Random, count_field: slice | None = None) -> bytes:
    """1 to 4 edits: a random byte, a flipped bit, an inserted byte, a truncation, or
    (when ``count_field`` is given) an extreme little-endian count written there."""
    data = bytearray(image)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        i = rng.randrange(len(data))
        if kind < 0.5:
            data[i] = rng.randrange(256)
        elif kind < 0.65:
            data[i] ^= 1 << rng.randrange(8)
        elif kind < 0.75:
            data.insert(i, rng.randrange(256))
        elif kind < 0.85 and count_field is not None and len(data) >= count_field.stop:
            width = count_field.stop - count_field.start
            value = rng.choice([0, 1, 255, 2**16, 2 ** (8 * width) - 1])
            data[count_field] = value.to_bytes(width, "little")
        else:
            del data[i:]
            if not data:
                data = bytearray(image[:1])
    return bytes(data)
