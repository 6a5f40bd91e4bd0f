"""Writes examples/data/trips.csv.gz, the sample dataset of the README's quick start:
20,000 synthetic taxi trips (fixed seed, so the file is the same on every run) with the
things real exports have: nulls, NaN, a skewed category, non-ASCII names, timestamps.

    python examples/make_sample_data.py
"""

from __future__ import annotations

import gzip
import os

import numpy as np

ZONES = [
    "Zürich HB",
    "Genève-Cornavin",
    "Bern",
    "Basel SBB",
    "Lausanne",
    "Luzern",
    "Lugano",
    "St. Gallen",
    "Winterthur",
    "Biel/Bienne",
    "Thun",
    "Köniz",
    "La Chaux-de-Fonds",
]
PAYMENTS = ["card", "card", "card", "card", "cash", "cash", "twint", "invoice"]


def main(n: int = 20_000, seed: int = 2026) -> str:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-11-01T00:00:00")
    pickup = start + np.sort(rng.integers(0, 30 * 86_400, n)).astype("timedelta64[s]")
    minutes = np.round(rng.gamma(2.0, 9.0, n), 1)
    distance = np.round(minutes * rng.uniform(0.2, 0.9, n), 2)
    fare = np.round(6.0 + distance * 3.2 + rng.normal(0, 1.5, n), 2)
    fare[rng.random(n) < 0.01] = np.nan  # meter faults
    passengers = rng.choice([1, 1, 1, 1, 2, 2, 3, 4], n)
    zone = rng.zipf(1.6, n) % len(ZONES)
    rider = rng.zipf(1.3, n) % 5_000
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "trips.csv.gz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as raw:  # mtime 0: the same bytes every run
        raw.write(b"trip_id,pickup,rider,zone,payment,passengers,minutes,distance_km,fare\n")
        for i in range(n):
            p = "" if rng.random() < 0.02 else str(passengers[i])  # not recorded
            f = "NaN" if np.isnan(fare[i]) else f"{fare[i]:.2f}"
            raw.write(
                f"{100_000 + i},{str(pickup[i]).replace('T', ' ')},r{rider[i]:04d},"
                f"{ZONES[zone[i]]},{PAYMENTS[rng.integers(len(PAYMENTS))]},{p},"
                f"{minutes[i]},{distance[i]},{f}\n".encode()
            )
    return path


if __name__ == "__main__":
    print(main())
