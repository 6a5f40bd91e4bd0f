//! Tuple sketches: Theta sketches with a summary per retained key, compatible with the
//! images of Apache DataSketches Java's `DoubleSummary` and `IntegerSummary` sketches,
//! which is what Spark SQL 4.x's `tuple_sketch_agg_double` / `tuple_sketch_agg_integer`
//! write.
//!
//! * [`UpdateTuple`] takes `(key, value)` pairs. Keys are hashed as
//!   [`crate::theta::UpdateTheta`] hashes items (MurmurHash3_x64_128, seed 9001, theta
//!   hash `h1 >> 1`; integers as 8 little-endian bytes, doubles canonicalised, strings and
//!   binaries as their bytes, empty ones skipped). The key's [`Summary`] combines its
//!   values by the sketch's [`SummaryMode`]: `Sum`, `Min`, `Max` (Java's strict
//!   comparisons: a NaN never replaces a value) or `AlwaysOne`.
//! * [`CompactTuple`] is the immutable form: the result of [`UpdateTuple::compact`], of a
//!   set operation, or of reading an image.
//! * [`TupleUnion`], [`TupleIntersection`], [`a_not_b`], each also with a
//!   [`crate::theta::CompactTheta`] as the second operand ([`TupleUnion::update_theta`],
//!   [`TupleIntersection::update_theta`], [`a_not_theta`]).
//!
//! # Facts this module relies on (DataSketches Java 6.2.0, Spark 4.3.0)
//!
//! * **Image** (`CompactSketch.toByteArray`, family 9 `TUPLE`, serial version 3,
//!   little-endian): byte 0 preamble longs (1 when empty or one entry at theta 1, 3 in
//!   estimation mode, else 2), 1 serial version 3, 2 family 9, 3 sketch type (1 compact; 0
//!   is the updatable `QuickSelectSketch` image, serial version 2, which Spark never
//!   writes and we do not read), 4 unused, 5 flags (bit 1 read-only, 2 empty, 3 compact, 4
//!   ordered: Java never sets it, C++ does and sorts), 6..8 seed hash (Java always writes
//!   37836, the hash of seed 9001, and never checks it). With 2 or 3 preamble longs a u32
//!   count at 8 (then 4 unused bytes), with 3 theta as u64 at 16. Then per entry its u64
//!   hash followed by its summary: `DoubleSummary` 8 bytes of `f64` + 1 mode byte,
//!   `IntegerSummary` 4 bytes of `i32` + 1 mode byte (modes 0 sum, 1 min, 2 max, 3
//!   alwaysone). Each summary carries its own mode: a union copies an entry found in one
//!   input with that input's mode.
//! * **Entry order**: Java lists entries in the slot order of its QuickSelect hash table
//!   (Theta's probing: index `hash & mask`, odd stride from the bits above; growth by x8
//!   from the starting size of `lg_k + 1`, a rebuild to the `k` smallest at 15/16 of
//!   `2k` slots, survivors re-inserted in slot order). We follow it slot for slot, so our
//!   images of the same stream are Spark's bytes.
//! * **Spark's aggregate** `tuple_sketch_agg_*(key, value, lgNomEntries = 12, mode =
//!   'sum')` (lgNomEntries 4..=26): one updatable sketch per partition, serialized as its
//!   compact image; the final step unions them with a `Union(2^lgNomEntries, mode)`
//!   (starting from the empty sketch of an untouched buffer), and writes the union's
//!   result. Null keys or values are skipped; `int` keys widen to `long`, `float` to
//!   `double`.
//! * **Spark's set operations**: `tuple_union_*(a, b, lgNomEntries, mode)`,
//!   `tuple_intersection_*(a, b, mode)`, `tuple_difference_*(a, b)` use Java's `Union`,
//!   `Intersection` and `AnotB` with summary operations of `mode` (a key in both combines
//!   as a fresh summary of `mode` updated with A's value, then B's). The `_theta_`
//!   variants take a compact Theta image as the second operand, whose keys enter with a
//!   fresh summary of `mode` (0, +inf, -inf or 1): a union keeps those, an intersection
//!   combines them with the tuple side's value (which leaves it as it is but for
//!   `alwaysone`), a difference ignores summaries.
//! * **Spark's queries**: `tuple_sketch_estimate_*` is the estimate (retained count at
//!   theta 1, else retained / theta), `tuple_sketch_theta_*` theta as a fraction, and
//!   `tuple_sketch_summary_*(sketch, mode = 'sum')` aggregates the *retained* summaries'
//!   values in entry order, unscaled by theta: their sum (from 0, in `double` or, for
//!   integer summaries, widened to `long`), minimum or maximum (`Math.min`/`max`: a NaN
//!   wins; 0 when there are no entries), or their number for `alwaysone`. Spark exposes no
//!   bounds; ours are Theta's (DataSketches' binomial bounds on the retained count).
//!
//! # Robustness
//!
//! [`CompactTuple::deserialize`] never panics on arbitrary bytes: counts are checked
//! against the image length before anything is allocated, and every entry is validated
//! (hash non-zero, below theta, distinct; summary mode byte known).

mod compact;
mod setops;
mod summary;
mod table;
mod update;

#[cfg(test)]
mod spark_tests;
#[cfg(test)]
mod tests;

pub use compact::CompactTuple;
pub use setops::{a_not_b, a_not_theta, TupleIntersection, TupleUnion};
pub use summary::{DoubleSummary, IntegerSummary, Summary, SummaryMode};
pub use update::UpdateTuple;

use crate::theta::{bounds, check_num_std_devs, theta_fraction, MAX_THETA};
use crate::{Error, Result};

/// Smallest `lg_k` (Java's and Spark's `lgNomEntries` minimum).
pub const MIN_LG_K: u8 = 4;
/// Largest `lg_k`.
pub const MAX_LG_K: u8 = 26;
/// Default `lg_k` (Spark's default `lgNomEntries`; k = 4096).
pub const DEFAULT_LG_K: u8 = 12;
/// DataSketches family id of tuple sketches.
pub(crate) const FAMILY_ID: u8 = 9;
/// Serial version of the compact image.
pub(crate) const SERIAL_VERSION: u8 = 3;

pub(crate) fn check_lg_k(lg_k: u8) -> Result<()> {
    if !(MIN_LG_K..=MAX_LG_K).contains(&lg_k) {
        return Err(Error::InvalidArgument(format!(
            "lg_k must be from {MIN_LG_K} to {MAX_LG_K}, got {lg_k}"
        )));
    }
    Ok(())
}

/// Estimate of `count` retained keys at `theta64` (Java's `getEstimate`): the count itself
/// unless in estimation mode (theta below 1 on a non-empty sketch).
pub(crate) fn estimate_of(count: u32, theta64: u64, empty: bool) -> f64 {
    if theta64 < MAX_THETA && !empty {
        count as f64 / theta_fraction(theta64)
    } else {
        count as f64
    }
}

/// Theta's binomial bound (lower or `upper`) on the number of distinct keys of which
/// `count` were retained at `theta64`, at `num_std_devs` (1, 2 or 3).
pub(crate) fn bound_of(
    count: u32,
    theta64: u64,
    empty: bool,
    num_std_devs: u8,
    upper: bool,
) -> Result<f64> {
    check_num_std_devs(num_std_devs)?;
    if theta64 == MAX_THETA || empty {
        return Ok(count as f64);
    }
    let theta = theta_fraction(theta64);
    Ok(if upper {
        bounds::upper_bound(count as u64, theta, num_std_devs)
    } else {
        bounds::lower_bound(count as u64, theta, num_std_devs)
    })
}
