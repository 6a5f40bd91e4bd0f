"""sketchbox in one minute: count distinct values of columns too big to hold as sets,
merge partial sketches, and ship them as Apache DataSketches bytes.

    pip install . && python examples/quickstart.py
"""

import numpy as np

from sketchbox import HyperLogLog

rng = np.random.default_rng(0)

# 10 million user ids with repeats, as a NumPy column: one call, all cores.
ids = rng.integers(0, 3_000_000, 10_000_000)
h = HyperLogLog(lg_k=12)
h.update(ids)
true = len(np.unique(ids))
print(
    f"distinct ids: estimate {h.estimate():,.0f}  (true {true:,}; "
    f"95% bounds {h.lower_bound(2):,.0f} .. {h.upper_bound(2):,.0f})"
)

# Map -> sketch -> bytes -> merge: how partitions of a dataset are combined.
parts = np.array_split(ids, 8)
images = []
for part in parts:
    s = HyperLogLog(12)
    s.update(part)
    images.append(s.to_bytes())  # an Apache DataSketches HLL image (Spark, Druid, ...)
total = HyperLogLog(12)
for image in images:
    total.merge(HyperLogLog.from_bytes(image))
print(
    f"merged from {len(images)} partitions of {len(images[0])} bytes each: {total.estimate():,.0f}"
)

# Strings, mixed Python values, pandas/pyarrow columns all work the same way.
words = HyperLogLog(12)
words.update(["apple", "banana", "apple", "cherry", "", None])
print("distinct words:", round(words.estimate()), "|", words)
