//! The updatable tuple sketch (Java's `UpdatableSketch` over a QuickSelect table).

use std::fmt;

use serde_json::{json, Value};

use super::summary::{Summary, SummaryMode};
use super::table::TupleTable;
use super::{bound_of, check_lg_k, estimate_of, CompactTuple, DEFAULT_LG_K};
use crate::bulk::{self, Items};
use crate::column::{Column, HashVisitor};
use crate::hash::{checked_seed_hash, hash_bytes, hash_f64, hash_i64, DEFAULT_SEED};
use crate::theta::table::starting_theta;
use crate::theta::{check_seed_hash_value, theta_fraction, MAX_THETA};
use crate::{Error, Result};

/// A tuple sketch that accepts `(key, value)` pairs: Theta's sampling of distinct keys,
/// with a summary per retained key that combines the values of that key by the sketch's
/// [`SummaryMode`].
///
/// Keys are hashed exactly as [`crate::theta::UpdateTheta`] hashes items (so a tuple
/// sketch and a Theta sketch of the same keys retain the same hashes), and the table
/// follows Java's tuple `QuickSelectSketch` slot for slot: the same pairs in the same
/// order give the same image as Java's `sketch.compact().toByteArray()`.
#[derive(Clone)]
pub struct UpdateTuple<S: Summary> {
    table: TupleTable<S>,
    mode: SummaryMode,
    seed: u64,
    seed_hash: u16,
    p: f32,
}

impl<S: Summary> UpdateTuple<S> {
    /// A sketch of nominal size `2^lg_k` (`lg_k` 4..=26 as Spark's `lgNomEntries`,
    /// default 12), sampling probability `p` in (0, 1] (default 1), summary mode `mode`
    /// and hash `seed` (default 9001, the only one Java's tuple sketches use).
    pub fn new(lg_k: u8, p: f32, mode: SummaryMode, seed: u64) -> Result<Self> {
        check_lg_k(lg_k)?;
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "sampling probability p must be in (0, 1], got {p}"
            )));
        }
        if starting_theta(p) == 0 {
            return Err(Error::InvalidArgument(format!(
                "sampling probability p = {p} is too small (theta would be 0)"
            )));
        }
        Ok(UpdateTuple {
            table: TupleTable::new(lg_k, p),
            mode,
            seed,
            seed_hash: checked_seed_hash(seed)?,
            p,
        })
    }

    /// An update sketch of nominal size `2^lg_k` (and `p` 1) holding `compact`'s entries
    /// and theta, combining by `mode`: an update sketch brought back from its compact
    /// image, since tuple images (Java's, Spark's) have no updatable form. It answers as
    /// the compact sketch and later updates continue as in the sketch the image came
    /// from, but entries may sit in other slots (so images may list them in another
    /// order than that sketch's would).
    pub fn restore(
        compact: &CompactTuple<S>,
        lg_k: u8,
        mode: SummaryMode,
        seed: u64,
    ) -> Result<Self> {
        let mut sketch = Self::new(lg_k, 1.0, mode, seed)?;
        if !compact.is_empty() {
            check_seed_hash_value(compact.seed_hash(), sketch.seed_hash, "the compact sketch")?;
        }
        sketch.table.theta = sketch.table.theta.min(compact.theta64());
        sketch.table.is_empty = compact.is_empty();
        for (hash, summary) in compact.entries() {
            sketch.table.merge(hash, summary, mode);
        }
        Ok(sketch)
    }

    /// `lg_k` 12, `p` 1, seed 9001: Spark's `tuple_sketch_agg_*(key, value)`.
    pub fn with_mode(mode: SummaryMode) -> Self {
        Self::new(DEFAULT_LG_K, 1.0, mode, DEFAULT_SEED).expect("default parameters are valid")
    }

    /// Adds `value` under the key whose MurmurHash3 `h1` (with this sketch's seed) is
    /// given: the path every typed update takes.
    #[inline]
    pub fn update_hash(&mut self, h1: u64, value: S::Value) {
        self.table.update(h1 >> 1, value, self.mode);
    }

    /// Integer key (its 8 little-endian bytes, as Java's `update(long, ...)`; Spark widens
    /// `int` keys to `long` first).
    pub fn update_i64(&mut self, key: i64, value: S::Value) {
        self.update_hash(hash_i64(key, self.seed).0, value);
    }

    /// Unsigned integer key: the same 8 bytes as the `i64` of that bit pattern.
    pub fn update_u64(&mut self, key: u64, value: S::Value) {
        self.update_i64(key as i64, value);
    }

    /// Floating-point key (-0.0 and 0.0 are one key, as are all NaNs; Spark widens `float`
    /// keys to `double`).
    pub fn update_f64(&mut self, key: f64, value: S::Value) {
        self.update_hash(hash_f64(key, self.seed).0, value);
    }

    /// String or binary key (its bytes, UTF-8 for strings); an empty key is not a key and
    /// is ignored, as Java and Spark ignore it (the sketch stays empty).
    pub fn update_bytes(&mut self, key: &[u8], value: S::Value) {
        if let Some((h1, _)) = hash_bytes(key, self.seed) {
            self.update_hash(h1, value);
        }
    }

    /// Bulk update of `n` pairs: pair `i` has the key hash `h1_at(i)` (the first half of
    /// its MurmurHash3 with this sketch's seed, `None` for a null or empty key, which is
    /// skipped) and the value `value_at(i)`. The same as `n` single updates in order.
    ///
    /// Keys are hashed on every core ([`bulk::par_parts`]) a sub-block at a time and
    /// screened against theta as it was at the sub-block's start: theta only falls, so a
    /// key at or above it cannot enter later either. The pairs that might enter are then
    /// applied in input order (while the sketch is empty, one by one: the first key sets
    /// it non-empty whatever its hash).
    ///
    /// `progress(done, total)` runs after each block of [`bulk::BLOCK`] pairs; `false`
    /// stops with `Error::Cancelled`, leaving the sketch updated with the finished blocks
    /// (a prefix of the input).
    pub fn update_with<F, G>(
        &mut self,
        n: usize,
        h1_at: F,
        value_at: G,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        F: Fn(usize) -> Option<u64> + Sync,
        G: Fn(usize) -> S::Value,
    {
        bulk::in_blocks(n, progress, |block| {
            let mut i = block.start;
            while i < block.end && self.table.is_empty {
                if let Some(h1) = h1_at(i) {
                    self.table.update(h1 >> 1, value_at(i), self.mode);
                }
                i += 1;
            }
            while i < block.end {
                let end = (i + bulk::SUB_BLOCK).min(block.end);
                let theta = self.table.theta;
                let kept = bulk::par_parts(i..end, |part, kept: &mut Vec<(u64, usize)>| {
                    for j in part {
                        match h1_at(j) {
                            Some(h1) if h1 >> 1 < theta => kept.push((h1 >> 1, j)),
                            _ => {}
                        }
                    }
                });
                for (hash, j) in kept {
                    self.table.update(hash, value_at(j), self.mode);
                }
                i = end;
            }
            Ok(())
        })
    }

    /// Bulk update with a column of keys (hashed as [`Column::visit_hashes`] hashes them:
    /// as Theta hashes items) and their values: key `i` carries `values[i]`. Null and
    /// empty keys are skipped with their values. The same as single updates in order;
    /// progress and cancellation as [`Self::update_with`]. A `values` of another length
    /// than the column is an `InvalidArgument` error (nothing applied).
    pub fn update_column(
        &mut self,
        keys: &Column<'_>,
        values: &[S::Value],
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()> {
        if values.len() != keys.len() {
            return Err(Error::InvalidArgument(format!(
                "{} values for {} keys: each key needs one value",
                values.len(),
                keys.len()
            )));
        }
        struct Pairs<'s, 'v, S: Summary> {
            sketch: &'s mut UpdateTuple<S>,
            values: &'v [S::Value],
            progress: &'s mut dyn FnMut(u64, u64) -> bool,
        }
        impl<S: Summary> HashVisitor for Pairs<'_, '_, S> {
            type Out = Result<()>;
            fn visit<I: Items<Item = (u64, u64)>>(self, items: I) -> Result<()> {
                let values = self.values;
                self.sketch.update_with(
                    items.len(),
                    |i| items.get(i).map(|h| h.0),
                    |i| values[i],
                    self.progress,
                )
            }
        }
        let seed = self.seed;
        keys.visit_hashes(
            seed,
            Pairs {
                sketch: self,
                values,
                progress,
            },
        )
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty
    }

    pub fn is_estimation_mode(&self) -> bool {
        self.theta64() < MAX_THETA && !self.is_empty()
    }

    /// Theta as a 63-bit threshold (`2^63 - 1` while empty, even with `p < 1`).
    pub fn theta64(&self) -> u64 {
        if self.table.is_empty {
            MAX_THETA
        } else {
            self.table.theta
        }
    }

    /// Theta as a fraction in (0, 1].
    pub fn theta(&self) -> f64 {
        theta_fraction(self.theta64())
    }

    /// Retained keys: up to `15/16 * 2k` in estimation mode until [`Self::trim`].
    pub fn num_retained(&self) -> u32 {
        self.table.num_entries
    }

    /// Estimated number of distinct keys.
    pub fn estimate(&self) -> f64 {
        estimate_of(self.num_retained(), self.theta64(), self.is_empty())
    }

    /// Lower confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn lower_bound(&self, num_std_devs: u8) -> Result<f64> {
        bound_of(
            self.num_retained(),
            self.theta64(),
            self.is_empty(),
            num_std_devs,
            false,
        )
    }

    /// Upper confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn upper_bound(&self, num_std_devs: u8) -> Result<f64> {
        bound_of(
            self.num_retained(),
            self.theta64(),
            self.is_empty(),
            num_std_devs,
            true,
        )
    }

    /// Spark's `tuple_sketch_summary_*(sketch, mode)` of this sketch's compact image.
    pub fn summary(&self, mode: SummaryMode) -> S::Aggregate {
        S::aggregate(self.table.iter().map(|(_, s)| s.value()), mode)
    }

    /// `(hash, summary)` pairs in slot order (the order of the compact image).
    pub fn entries(&self) -> impl Iterator<Item = (u64, &S)> + '_ {
        self.table.iter()
    }

    /// The summary mode of updates.
    pub fn mode(&self) -> SummaryMode {
        self.mode
    }

    pub fn lg_k(&self) -> u8 {
        self.table.lg_nom
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn seed_hash(&self) -> u16 {
        self.seed_hash
    }

    pub fn p(&self) -> f32 {
        self.p
    }

    /// Drops retained keys beyond `k` (theta falls to the `(k+1)`-th smallest hash).
    pub fn trim(&mut self) {
        self.table.trim();
    }

    /// Back to the freshly constructed state.
    pub fn reset(&mut self) {
        self.table = TupleTable::new(self.table.lg_nom, self.p);
    }

    /// The compact form, entries in slot order (Java's `compact()`).
    pub fn compact(&self) -> CompactTuple<S> {
        if self.table.num_entries == 0 {
            return CompactTuple::from_parts(
                self.table.is_empty,
                self.seed_hash,
                self.theta64(),
                Vec::new(),
                Vec::new(),
            );
        }
        let (hashes, summaries) = self.table.iter().map(|(h, s)| (h, *s)).unzip();
        CompactTuple::from_parts(false, self.seed_hash, self.table.theta, hashes, summaries)
    }

    /// The compact image (what Spark's `tuple_sketch_agg_*` writes for one partition).
    pub fn serialize(&self) -> Vec<u8> {
        self.compact().serialize()
    }

    /// A JSON summary (no entries).
    pub fn to_json(&self) -> Value {
        json!({
            "family": "tuple",
            "kind": "update",
            "summary_type": S::NAME,
            "summary_mode": self.mode.name(),
            "lg_k": self.table.lg_nom,
            "lg_cur_size": self.table.lg_cur,
            "p": self.p,
            "seed_hash": self.seed_hash,
            "empty": self.is_empty(),
            "estimation_mode": self.is_estimation_mode(),
            "theta": self.theta(),
            "theta64": self.theta64(),
            "num_retained": self.num_retained(),
            "estimate": self.estimate(),
            "lower_bound_2sd": self.lower_bound(2).unwrap_or(f64::NAN),
            "upper_bound_2sd": self.upper_bound(2).unwrap_or(f64::NAN),
            "summary": S::aggregate_json(self.summary(self.mode)),
        })
    }
}

impl<S: Summary> fmt::Debug for UpdateTuple<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateTuple")
            .field("summary", &S::NAME)
            .field("mode", &self.mode)
            .field("lg_k", &self.table.lg_nom)
            .field("p", &self.p)
            .field("seed", &self.seed)
            .field("empty", &self.is_empty())
            .field("theta64", &self.theta64())
            .field("num_retained", &self.num_retained())
            .finish()
    }
}
