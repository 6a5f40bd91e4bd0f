//! The QuickSelect update sketch.

use std::fmt;

use serde_json::{json, Value};

use super::table::{starting_lg_size, starting_theta, HashTable};
use super::{
    bounds, check_lg_k, check_num_std_devs, theta_fraction, CompactTheta, DEFAULT_LG_K,
    LG_RESIZE_FACTOR, MAX_THETA,
};
use crate::bulk;
use crate::hash::{checked_seed_hash, hash_bytes, hash_f64, hash_i64, DEFAULT_SEED};
use crate::{Error, Result};

/// A Theta sketch that accepts items: Apache DataSketches' QuickSelect update sketch
/// (nominal entries `k = 2^lg_k`, resize factor x8, optional up-front sampling `p`).
///
/// For the same items in the same order it retains exactly the hashes, and reaches exactly
/// the theta, that DataSketches does, so [`Self::compact`]`(true)` serializes to the same
/// bytes as datasketches-python's `update_theta_sketch.compact().serialize()`.
#[derive(Clone)]
pub struct UpdateTheta {
    pub(super) table: HashTable,
    pub(super) seed: u64,
    pub(super) seed_hash: u16,
    pub(super) p: f32,
}

impl UpdateTheta {
    /// A sketch with `lg_k` in 5..=26 (default 12), sampling probability `p` in (0, 1]
    /// (default 1) and hash `seed` (default 9001).
    pub fn new(lg_k: u8, p: f32, seed: u64) -> Result<Self> {
        check_lg_k(lg_k)?;
        // `!(p > 0.0)` also rejects NaN.
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "sampling probability p must be in (0, 1], got {p}"
            )));
        }
        let theta = starting_theta(p);
        if theta == 0 {
            return Err(Error::InvalidArgument(format!(
                "sampling probability p = {p} is too small (below 2^-63)"
            )));
        }
        let lg_start = starting_lg_size(lg_k, LG_RESIZE_FACTOR);
        Ok(UpdateTheta {
            table: HashTable::new(lg_start, lg_k, LG_RESIZE_FACTOR, theta),
            seed,
            seed_hash: checked_seed_hash(seed)?,
            p,
        })
    }

    /// `lg_k` 12, `p` 1, seed 9001: DataSketches' defaults.
    pub fn with_defaults() -> Self {
        Self::new(DEFAULT_LG_K, 1.0, DEFAULT_SEED).expect("default parameters are valid")
    }

    /// Applies one theta hash (`h1 >> 1`).
    #[inline(always)]
    fn apply(&mut self, hash: u64) {
        self.table.is_empty = false;
        if hash < self.table.theta && hash != 0 {
            self.table.insert_if_absent(hash);
        }
    }

    /// Adds an integer item (hashed as its 8 little-endian bytes).
    pub fn update_i64(&mut self, v: i64) {
        self.apply(hash_i64(v, self.seed).0 >> 1);
    }

    /// Adds an unsigned integer item (the same 8 bytes as the `i64` of that bit pattern).
    pub fn update_u64(&mut self, v: u64) {
        self.update_i64(v as i64);
    }

    /// Adds a floating-point item (-0.0 and 0.0 are one item, as are all NaNs).
    pub fn update_f64(&mut self, v: f64) {
        self.apply(hash_f64(v, self.seed).0 >> 1);
    }

    /// Adds a string or byte-string item; an empty one is not an item and is ignored.
    pub fn update_bytes(&mut self, v: &[u8]) {
        if let Some((h1, _)) = hash_bytes(v, self.seed) {
            self.apply(h1 >> 1);
        }
    }

    /// Bulk path: applies already computed MurmurHash3 `h1` values (first half of the
    /// 128-bit hash with this sketch's seed), in order. The result is identical to updating
    /// the items one by one. Hashes at or above theta are rejected with one comparison, so
    /// once the sketch is in estimation mode almost all of a large batch costs a load and a
    /// compare.
    pub fn update_hashes(&mut self, h1s: &[u64]) {
        if h1s.is_empty() {
            return;
        }
        self.table.is_empty = false;
        let mut theta = self.table.theta;
        for &h1 in h1s {
            let hash = h1 >> 1;
            if hash < theta && hash != 0 {
                self.table.insert_if_absent(hash);
                theta = self.table.theta;
            }
        }
    }

    /// Hashes `values` with this sketch's seed and applies them on the calling thread
    /// ([`Self::update_with`] is the parallel bulk path).
    pub fn update_i64_slice(&mut self, values: &[i64]) {
        if values.is_empty() {
            return;
        }
        self.table.is_empty = false;
        let seed = self.seed;
        let mut theta = self.table.theta;
        for &v in values {
            let hash = hash_i64(v, seed).0 >> 1;
            if hash < theta && hash != 0 {
                self.table.insert_if_absent(hash);
                theta = self.table.theta;
            }
        }
    }

    /// Current theta as a 63-bit threshold. Theta never increases, so a bulk caller may drop
    /// any hash with `h1 >> 1 >= screening_threshold()` before calling
    /// [`Self::update_hashes`]; if it drops a whole non-empty batch it must call
    /// [`Self::mark_non_empty`], since items were presented.
    pub fn screening_threshold(&self) -> u64 {
        self.table.theta
    }

    /// Records that items were presented (all of them screened out by the caller).
    pub fn mark_non_empty(&mut self) {
        self.table.is_empty = false;
    }

    /// Bulk update of `n` items, item `i` giving `h1_at(i)`: the first half of its
    /// MurmurHash3 with this sketch's seed ([`Self::seed`]), or `None` if it is not an
    /// item (an empty string, a null). The result equals updating one item at a time.
    ///
    /// Once the sketch holds an item, workers on every core hash each sub-block and keep
    /// only the hashes below the theta of its start (theta never rises), and those are
    /// applied in input order ([`bulk::update_keys`]). Sub-blocks are short while theta
    /// is high, so that few hashes pass, and grow to [`bulk::SUB_BLOCK`] as it falls.
    /// [`bulk::update_column`] updates with a whole column.
    ///
    /// `progress(done, total)` runs after each block of [`bulk::BLOCK`] items; `false`
    /// stops the update with `Error::Cancelled`, leaving the sketch updated with every
    /// item of the finished blocks (a prefix of the input) and none of the rest.
    pub fn update_with<F>(
        &mut self,
        n: usize,
        h1_at: F,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        F: Fn(usize) -> Option<u64> + Sync,
    {
        bulk::update_keys(self, n, |i| h1_at(i).map(|h1| h1 >> 1), progress)
    }

    /// Integer items, in order: [`Self::update_with`] without progress reports.
    pub fn update_i64_bulk(&mut self, values: &[i64]) {
        let seed = self.seed;
        let done = self.update_with(
            values.len(),
            |i| Some(hash_i64(values[i], seed).0),
            &mut |_, _| true,
        );
        debug_assert!(done.is_ok());
    }

    /// Applies theta hashes (already `h1 >> 1`), in order.
    fn update_screened(&mut self, hashes: &[u64]) {
        let mut theta = self.table.theta;
        for &hash in hashes {
            if hash < theta {
                self.table.insert_if_absent(hash);
                theta = self.table.theta;
            }
        }
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

    /// Retained hashes; between `k` and `15/16 * 2k` in estimation mode until [`Self::trim`].
    pub fn num_retained(&self) -> u32 {
        self.table.num_entries
    }

    pub fn estimate(&self) -> f64 {
        self.num_retained() as f64 / self.theta()
    }

    /// Lower confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn lower_bound(&self, num_std_devs: u8) -> Result<f64> {
        check_num_std_devs(num_std_devs)?;
        if !self.is_estimation_mode() {
            return Ok(self.num_retained() as f64);
        }
        Ok(bounds::lower_bound(
            self.num_retained() as u64,
            self.theta(),
            num_std_devs,
        ))
    }

    /// Upper confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn upper_bound(&self, num_std_devs: u8) -> Result<f64> {
        check_num_std_devs(num_std_devs)?;
        if !self.is_estimation_mode() {
            return Ok(self.num_retained() as f64);
        }
        Ok(bounds::upper_bound(
            self.num_retained() as u64,
            self.theta(),
            num_std_devs,
        ))
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

    /// The sampling probability given at construction.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Drops retained hashes beyond `k` (theta falls to the `(k+1)`-th smallest).
    pub fn trim(&mut self) {
        self.table.trim();
    }

    /// Back to the freshly constructed state.
    pub fn reset(&mut self) {
        let (lg_k, lg_rf) = (self.table.lg_nom, self.table.lg_rf);
        self.table = HashTable::new(
            starting_lg_size(lg_k, lg_rf),
            lg_k,
            lg_rf,
            starting_theta(self.p),
        );
    }

    /// An immutable copy; `ordered` sorts the entries (needed for the compressed image
    /// and for byte identity with DataSketches, whose unordered order is its own).
    pub fn compact(&self, ordered: bool) -> CompactTheta {
        let mut entries: Vec<u64> = if self.table.is_empty {
            Vec::new()
        } else {
            self.table.iter().collect()
        };
        // DataSketches: an update sketch of at most one entry counts as ordered.
        let already_ordered = entries.len() <= 1;
        if ordered && !already_ordered {
            entries.sort_unstable();
        }
        CompactTheta::from_parts(
            self.table.is_empty,
            ordered || already_ordered,
            self.seed_hash,
            self.theta64(),
            entries,
        )
    }

    /// A JSON summary (no entries).
    pub fn to_json(&self) -> Value {
        json!({
            "family": "theta",
            "kind": "update",
            "lg_k": self.table.lg_nom,
            "lg_cur_size": self.table.lg_cur,
            "resize_factor": 1u32 << self.table.lg_rf,
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
        })
    }
}

/// The bulk driver's view of an update sketch: keys are theta hashes (`h1 >> 1`),
/// screened against theta (which never rises) once the sketch holds an item.
impl bulk::HashSketch for UpdateTheta {
    type Key = u64;
    /// No theta exceeds `MAX_THETA`.
    const NOT_AN_ITEM: u64 = MAX_THETA;

    fn seed(&self) -> u64 {
        self.seed
    }

    #[inline(always)]
    fn key(hash: (u64, u64)) -> u64 {
        hash.0 >> 1
    }

    fn apply(&mut self, key: u64) {
        UpdateTheta::apply(self, key);
    }

    /// Until the first item (an input may hold only empty strings): one by one.
    fn screens(&self) -> bool {
        !self.table.is_empty
    }

    /// About 2k hashes of a sub-block pass a theta of fraction f if it holds 2k / f
    /// items: short sub-blocks while theta is high, so that few hashes pass.
    fn sub_block_len(&self, _previous: Option<usize>) -> usize {
        /// Shortest sub-block: the size below which `par_parts` stays on one thread.
        const MIN_SUB_BLOCK: usize = 1 << 16;
        let k = 1usize << self.table.lg_nom;
        ((2 * k) as f64 / theta_fraction(self.table.theta))
            .clamp(MIN_SUB_BLOCK as f64, bulk::SUB_BLOCK as f64) as usize
    }

    /// A chunk is scanned only if its minimum is below theta: once theta is small,
    /// almost every chunk costs its hashing and one vector minimum.
    #[inline]
    fn screen(&self, chunk: &[u64], kept: &mut Vec<u64>) {
        let theta = self.table.theta;
        if chunk.iter().fold(u64::MAX, |m, &h| m.min(h)) < theta {
            kept.extend(chunk.iter().copied().filter(|&h| h < theta && h != 0));
        }
    }

    fn apply_screened(&mut self, keys: &[u64]) {
        self.update_screened(keys);
    }
}

impl Default for UpdateTheta {
    fn default() -> Self {
        Self::with_defaults()
    }
}

impl fmt::Debug for UpdateTheta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateTheta")
            .field("lg_k", &self.table.lg_nom)
            .field("lg_cur_size", &self.table.lg_cur)
            .field("p", &self.p)
            .field("seed", &self.seed)
            .field("empty", &self.is_empty())
            .field("theta64", &self.theta64())
            .field("num_retained", &self.num_retained())
            .finish()
    }
}
