//! KLL quantiles sketch with Apache DataSketches semantics and images.
//!
//! A KLL sketch keeps a small, weighted sample of a stream of `f64`, `f32` or
//! `i64` items from which it answers rank, quantile, CDF and PMF queries. The
//! compaction schedule, the level capacities, the query semantics and the
//! serialized image are those of Apache DataSketches (`kll_sketch` in
//! datasketches-cpp, `KllDoublesSketch` / `KllFloatsSketch` / `KllLongsSketch`
//! in datasketches-java), so images move both ways between this crate, Java, C++,
//! Python, Spark, Druid and Hive.
//!
//! # Accuracy
//!
//! With parameter `k` the normalized rank error, taken as the maximum over
//! all queries of one sketch, stays below
//!
//! * single-sided (ranks, quantiles, CDF): `epsilon = 2.296 / k^0.9723`,
//! * double-sided (PMF buckets): `epsilon = 2.446 / k^0.9433`,
//!
//! with 99% confidence. For the default `k = 200` that is 1.33% and 1.65%.
//! The constants are DataSketches' empirical fit to the 99th percentile of
//! the maximum error over many trials; [`normalized_rank_error`] returns them.
//! After merging sketches of different `k` the bound is that of the smallest
//! `k` involved (`min_k`). While `n <= k` the sketch is exact.
//!
//! # NaN and empty sketches
//!
//! NaN has no rank, so `update` silently ignores NaN items (as DataSketches
//! does); they are not counted in `n`. Infinities are ordinary items.
//! Queries on an empty sketch have no meaningful answer: they return
//! `Error::Empty`, and `min_item` / `max_item`
//! return `None`. A NaN rank, a NaN query item or NaN split point is an
//! `InvalidArgument` as well (DataSketches answers NaN items with rank 0 or
//! 1, which means nothing).
//!
//! # Query semantics
//!
//! Queries search the retained items sorted with cumulative weights, as Java
//! DataSketches' sorted view does (what Spark, Druid and Hive answer).
//! `inclusive = true` is its INCLUSIVE criterion (`rank(x)` counts items
//! `<= x`; `quantile(r)` is the first item whose cumulative weight reaches
//! `ceil(r * n)`), `false` is EXCLUSIVE (`rank(x)` counts items `< x`;
//! `quantile(r)` is the first item whose cumulative weight exceeds
//! `floor(r * n)`, the largest item if none does).
//!
//! Java differs from DataSketches C++ (and so datasketches-python) in two ways,
//! and this crate answers as Java does:
//!
//! 1. While `n <= 10^7`, `r * n` is rounded to 7 decimals before the ceiling
//!    or floor, so a product a rounding error away from an integer counts as
//!    that integer (`n = 200`, `r = 0.14`: weight 28, where C++ searches 29).
//! 2. When the compactions dropped the exact min or max, the view adds it with
//!    weight 1 taken from its neighbour: ranks 0 and 1 give `min_item` and
//!    `max_item` (C++ gives the smallest and largest retained items), the
//!    largest retained item has rank `(n - 1) / n`, and items between the min
//!    and the smallest retained item have rank `1 / n`.
//!
//! Everywhere else the answers equal those of both libraries.
//!
//! # Layout
//!
//! The items live in one buffer whose length is the sketch's total capacity,
//! exactly as in DataSketches: level `h` occupies `levels[h]..levels[h + 1]`,
//! the levels are packed at the top of the buffer, and level 0 grows
//! downward into the free space below it. Keeping this layout (rather than a
//! vector per level) makes the serialized level offsets a plain copy and keeps
//! level 0 in DataSketches' order, so images of sketches that never compacted
//! are byte-identical to DataSketches' own.

mod batch_union;
mod compaction;
mod image;
pub use image::BATCH_IMAGES_MIN;
#[cfg(test)]
mod image_merge_tests;
mod sorted_view;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::OnceLock;

use serde_json::json;

use crate::error::{Error, Result};
use compaction::*;
use sorted_view::SortedView;

/// An item type a [`KllSketch`] can hold: `f64` (DataSketches
/// `kll_doubles_sketch`), `f32` (`kll_floats_sketch`) or `i64` (Java's
/// `KllLongsSketch`).
pub trait KllItem:
    Copy + PartialOrd + Send + Sync + fmt::Debug + crate::column::NumericItem + 'static
{
    /// Bytes per item in a serialized image.
    const SIZE: usize;
    /// Name used in summaries and error messages.
    const TYPE_NAME: &'static str;
    /// Filler for buffer slots that hold no item.
    const ZERO: Self;
    /// Largest value (+infinity): pads small sorts up to a network size.
    const PAD: Self;
    /// The item from the first `SIZE` little-endian bytes; NaN if `bytes` is
    /// too short (which the image validation then rejects).
    fn from_le_slice(bytes: &[u8]) -> Self;
    /// Appends the items of `bytes`, `SIZE` little-endian bytes each (a partial item
    /// at the end is ignored). One loop per concrete width, which the compiler turns
    /// into plain copies.
    fn extend_from_le(out: &mut Vec<Self>, bytes: &[u8]);
    /// Appends the item's `SIZE` little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    fn is_nan(self) -> bool;
    /// Total order used to sort level 0 (cheaper than `partial_cmp` + unwrap,
    /// and NaN never reaches a sketch).
    fn total_cmp(&self, other: &Self) -> Ordering;
    /// The item as a double (rounded to the nearest for `i64` beyond 2^53).
    fn to_f64(self) -> f64;
    /// The bit pattern, for exact equality (distinguishes -0.0 from 0.0).
    fn to_bits_u64(self) -> u64;
    /// The item in a JSON summary: a number (exact for `i64`), or for a non-finite
    /// float the string "inf" / "-inf".
    fn to_json(self) -> serde_json::Value {
        crate::json_f64(self.to_f64())
    }
}

// f64 and f32 differ only in width: one impl, written once.
macro_rules! kll_float_item {
    ($t:ident, $size:expr) => {
        impl KllItem for $t {
            const SIZE: usize = $size;
            const TYPE_NAME: &'static str = stringify!($t);
            const ZERO: Self = 0.0;
            const PAD: Self = $t::INFINITY;
            #[inline]
            fn from_le_slice(bytes: &[u8]) -> Self {
                match bytes
                    .get(..$size)
                    .and_then(|b| <[u8; $size]>::try_from(b).ok())
                {
                    Some(b) => $t::from_le_bytes(b),
                    None => $t::NAN,
                }
            }
            fn extend_from_le(out: &mut Vec<Self>, bytes: &[u8]) {
                out.extend(
                    bytes
                        .chunks_exact($size)
                        .map(|c| $t::from_le_bytes(c.try_into().expect("chunks of SIZE"))),
                );
            }
            #[inline]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline]
            fn total_cmp(&self, other: &Self) -> Ordering {
                $t::total_cmp(self, other)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline]
            fn to_bits_u64(self) -> u64 {
                u64::from(self.to_bits())
            }
        }
    };
}

kll_float_item!(f64, 8);
kll_float_item!(f32, 4);

/// `i64` items: DataSketches' `KllLongsSketch` (Java; Spark's `kll_sketch_agg_bigint`).
/// Its image is the doubles image with 8-byte two's-complement items in their place.
impl KllItem for i64 {
    const SIZE: usize = 8;
    const TYPE_NAME: &'static str = "i64";
    const ZERO: Self = 0;
    const PAD: Self = i64::MAX;
    /// Every caller passes at least 8 bytes (the image validation checks lengths
    /// first); a shorter slice, which has no NaN to signal it, reads as 0.
    #[inline]
    fn from_le_slice(bytes: &[u8]) -> Self {
        bytes
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, i64::from_le_bytes)
    }
    fn extend_from_le(out: &mut Vec<Self>, bytes: &[u8]) {
        out.extend(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().expect("chunks of 8"))),
        );
    }
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn is_nan(self) -> bool {
        false
    }
    #[inline]
    fn total_cmp(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn to_bits_u64(self) -> u64 {
        self as u64
    }
    fn to_json(self) -> serde_json::Value {
        self.into()
    }
}

// ---------------------------------------------------------------------------
// Constants of the DataSketches image and of the capacity schedule.

/// Minimum level width ("m"); fixed at 8 in every DataSketches implementation.
const M: u8 = 8;
const MIN_K: u16 = M as u16;
const FAMILY: u8 = 15;
const SERIAL_VERSION_1: u8 = 1;
const SERIAL_VERSION_2: u8 = 2;
const PREAMBLE_INTS_SHORT: u8 = 2;
const PREAMBLE_INTS_FULL: u8 = 5;
const FLAG_EMPTY: u8 = 1;
const FLAG_LEVEL_ZERO_SORTED: u8 = 2;
const FLAG_SINGLE_ITEM: u8 = 4;
const EMPTY_SIZE_BYTES: usize = 8;
const DATA_START_SINGLE_ITEM: usize = 8;
const DATA_START: usize = 20;
/// DataSketches cannot compute capacities beyond depth 60, so no valid image
/// has more than 61 levels (and 2^61 items would be needed to get there).
const MAX_LEVELS: usize = 61;

const POWERS_OF_THREE: [u64; 31] = {
    let mut p = [1u64; 31];
    let mut i = 1;
    while i < 31 {
        p[i] = p[i - 1] * 3;
        i += 1;
    }
    p
};

/// `round(k * (2/3)^depth)`, computed in integers exactly as DataSketches
/// does so that capacities (and hence serialized level offsets) agree.
fn int_cap_aux_aux(k: u64, depth: usize) -> u64 {
    let twok = k << 1;
    let tmp = (twok << depth) / POWERS_OF_THREE[depth];
    (tmp + 1) >> 1
}

fn int_cap_aux(k: u16, depth: usize) -> u64 {
    if depth <= 30 {
        int_cap_aux_aux(u64::from(k), depth)
    } else if depth <= 60 {
        let half = depth / 2;
        let tmp = int_cap_aux_aux(u64::from(k), half);
        int_cap_aux_aux(tmp, depth - half)
    } else {
        // k * (2/3)^61 < 1 for every u16 k; the level width floor applies.
        0
    }
}

/// Nominal capacity of level `height` in a sketch with `num_levels` levels:
/// the top level holds k, each level below 2/3 of the one above, at least M.
fn level_capacity(k: u16, num_levels: usize, height: usize) -> u32 {
    let depth = num_levels.saturating_sub(height + 1);
    int_cap_aux(k, depth).max(u64::from(M)) as u32
}

/// Sum of the level capacities: the length of the item buffer.
fn total_capacity(k: u16, num_levels: usize) -> u32 {
    (0..num_levels)
        .map(|h| level_capacity(k, num_levels, h))
        .sum()
}

/// Upper bound on the number of levels a sketch of `n` items can need.
fn ub_on_num_levels(n: u64) -> usize {
    if n == 0 {
        1
    } else {
        1 + (63 - n.leading_zeros() as usize)
    }
}

/// Normalized rank error of a KLL sketch with parameter `k` at 99%
/// confidence: double-sided (for PMF buckets) if `pmf`, single-sided
/// otherwise. DataSketches' empirical fit.
pub fn normalized_rank_error(k: u16, pmf: bool) -> f64 {
    let k = f64::from(k);
    if pmf {
        2.446 / k.powf(0.9433)
    } else {
        2.296 / k.powf(0.9723)
    }
}

// ---------------------------------------------------------------------------
// The sketch.

/// KLL quantiles sketch over `f64`, `f32` or `i64` items; see the module docs.
pub struct KllSketch<T: KllItem> {
    k: u16,
    min_k: u16,
    n: u64,
    /// `levels.len() == num_levels + 1`; level h is `items[levels[h]..levels[h + 1]]`,
    /// and `levels[num_levels] == items.len() == total_capacity(k, num_levels)`.
    levels: Vec<u32>,
    items: Vec<T>,
    /// Nominal capacity of each level, cached because `find_level_to_compact`
    /// runs on every compaction.
    caps: Vec<u32>,
    min_item: T,
    max_item: T,
    /// Only ever true for a deserialized image that said so and has not been
    /// updated since; kept so that such images re-serialize byte for byte.
    level_zero_sorted: bool,
    rng: BitSource,
    /// Counts clones, so each clone of a seeded sketch gets its own
    /// deterministic stream of compaction offsets.
    forks: AtomicU64,
    scratch: Vec<T>,
    /// The levels and items of the last image merged by `merge_image`, whose buffers
    /// the next image reuses.
    image: image::ImageParts<T>,
    /// The sorted view every query searches, built by the first query after a
    /// change and dropped by every update or merge.
    view: OnceLock<SortedView<T>>,
}

/// A clone has the same state but its own stream of compaction offsets:
/// clones of one sketch fed the same data must not make the same random
/// choices, or their errors would add up when they are merged.
impl<T: KllItem> Clone for KllSketch<T> {
    fn clone(&self) -> Self {
        let fork = self.forks.fetch_add(1, AtomicOrdering::Relaxed) + 1;
        let mut seed = self.rng.state ^ fork.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let seed = splitmix64(&mut seed);
        KllSketch {
            k: self.k,
            min_k: self.min_k,
            n: self.n,
            levels: self.levels.clone(),
            items: self.items.clone(),
            caps: self.caps.clone(),
            min_item: self.min_item,
            max_item: self.max_item,
            level_zero_sorted: self.level_zero_sorted,
            rng: BitSource::new(seed),
            forks: AtomicU64::new(0),
            scratch: Vec::new(),
            image: image::ImageParts::default(),
            view: OnceLock::new(),
        }
    }
}

impl<T: KllItem> fmt::Debug for KllSketch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KllSketch")
            .field("item_type", &T::TYPE_NAME)
            .field("k", &self.k)
            .field("min_k", &self.min_k)
            .field("n", &self.n)
            .field("num_levels", &self.num_levels())
            .field("num_retained", &self.num_retained())
            .field("min_item", &self.min_item())
            .field("max_item", &self.max_item())
            .finish()
    }
}

/// Equal sketch state: parameters, counts, level structure, retained items,
/// min/max (compared bit for bit) and the level-zero-sorted flag. The random
/// state is not part of it.
impl<T: KllItem> PartialEq for KllSketch<T> {
    fn eq(&self, other: &Self) -> bool {
        let same_items = |a: &[T], b: &[T]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.to_bits_u64() == y.to_bits_u64())
        };
        self.k == other.k
            && self.min_k == other.min_k
            && self.n == other.n
            && self.levels == other.levels
            && self.level_zero_sorted == other.level_zero_sorted
            && same_items(self.retained(), other.retained())
            && (self.n == 0
                || (self.min_item.to_bits_u64() == other.min_item.to_bits_u64()
                    && self.max_item.to_bits_u64() == other.max_item.to_bits_u64()))
    }
}

impl<T: KllItem> KllSketch<T> {
    pub const DEFAULT_K: u16 = 200;

    /// A sketch with parameter `k` (8..=65535; DataSketches' default is 200)
    /// whose compaction offsets come from a varying seed.
    pub fn new(k: u16) -> Result<Self> {
        Self::with_seed(k, varying_seed())
    }

    /// Like [`new`](Self::new) with a fixed seed for the compaction offsets,
    /// which makes the sketch's state a function of its input.
    pub fn with_seed(k: u16, seed: u64) -> Result<Self> {
        if k < MIN_K {
            return Err(Error::InvalidArgument(format!(
                "k must be from {MIN_K} to 65535, got {k}"
            )));
        }
        Ok(Self::empty_unchecked(k, seed))
    }

    fn empty_unchecked(k: u16, seed: u64) -> Self {
        KllSketch {
            k,
            min_k: k,
            n: 0,
            levels: vec![u32::from(k), u32::from(k)],
            items: vec![T::ZERO; usize::from(k)],
            caps: vec![u32::from(k)],
            min_item: T::ZERO,
            max_item: T::ZERO,
            level_zero_sorted: false,
            rng: BitSource::new(seed),
            forks: AtomicU64::new(0),
            scratch: Vec::new(),
            image: image::ImageParts::default(),
            view: OnceLock::new(),
        }
    }

    pub fn k(&self) -> u16 {
        self.k
    }

    /// The smallest `k` among the sketches merged into this one while they
    /// were in estimation mode; it sets the error bound.
    pub fn min_k(&self) -> u16 {
        self.min_k
    }

    /// Number of items seen (NaN excluded).
    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn num_retained(&self) -> u32 {
        self.levels[self.num_levels()] - self.levels[0]
    }

    pub fn num_levels(&self) -> usize {
        self.levels.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// True once the sketch has compacted, i.e. answers are approximate.
    pub fn is_estimation_mode(&self) -> bool {
        self.num_levels() > 1
    }

    pub fn min_item(&self) -> Option<T> {
        (self.n > 0).then_some(self.min_item)
    }

    pub fn max_item(&self) -> Option<T> {
        (self.n > 0).then_some(self.max_item)
    }

    fn retained(&self) -> &[T] {
        &self.items[self.levels[0] as usize..]
    }

    fn level(&self, h: usize) -> &[T] {
        &self.items[self.levels[h] as usize..self.levels[h + 1] as usize]
    }

    /// Adds one item; NaN is ignored.
    pub fn update(&mut self, item: T) {
        if item.is_nan() {
            return;
        }
        self.view.take();
        self.update_min_max(item, item);
        self.push_level_zero(item);
    }

    #[inline]
    fn update_min_max(&mut self, lo: T, hi: T) {
        if self.n == 0 {
            self.min_item = lo;
            self.max_item = hi;
        } else {
            if lo < self.min_item {
                self.min_item = lo;
            }
            if self.max_item < hi {
                self.max_item = hi;
            }
        }
    }

    /// DataSketches' `internal_update`: make room if the buffer is full, then
    /// prepend to level 0.
    #[inline]
    fn push_level_zero(&mut self, item: T) {
        if self.levels[0] == 0 {
            self.compress_while_updating();
        }
        self.n += 1;
        self.level_zero_sorted = false;
        self.levels[0] -= 1;
        let at = self.levels[0] as usize;
        self.items[at] = item;
    }

    /// Adds many items; NaNs are ignored. Equivalent to calling
    /// [`update`](Self::update) on each item in order (same state for the
    /// same seed), but scans min/max/NaN a block at a time and fills level 0
    /// a free run at a time.
    pub fn update_slice(&mut self, items: &[T]) {
        const BLOCK: usize = 4096;
        self.view.take();
        let mut clean: Vec<T> = Vec::new();
        for block in items.chunks(BLOCK) {
            let (block, min_max) = match min_max_no_nan(block) {
                Some(mm) => (block, Some(mm)),
                None => {
                    clean.clear();
                    clean.extend(block.iter().copied().filter(|x| !x.is_nan()));
                    (&clean[..], min_max_no_nan(&clean))
                }
            };
            if let Some((lo, hi)) = min_max {
                self.update_min_max(lo, hi);
                self.fill_level_zero(block);
            }
        }
    }

    /// Appends NaN-free items whose min/max are already accounted for.
    fn fill_level_zero(&mut self, items: &[T]) {
        let mut rest = items;
        while !rest.is_empty() {
            if self.levels[0] == 0 {
                self.compress_while_updating();
            }
            let free = self.levels[0] as usize;
            let take = free.min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            // Sequential updates prepend, so level 0 holds the chunk
            // reversed; keeping that order keeps images identical.
            let dst = &mut self.items[free - take..free];
            for (d, s) in dst.iter_mut().rev().zip(chunk) {
                *d = *s;
            }
            self.levels[0] = (free - take) as u32;
            self.n += take as u64;
            self.level_zero_sorted = false;
        }
    }

    /// The lowest level at or over its nominal capacity. The buffer is full
    /// when this runs, so such a level exists (pigeonhole); the top level is
    /// only a fallback that keeps the function total.
    fn find_level_to_compact(&self) -> usize {
        let top = self.num_levels() - 1;
        (0..top)
            .find(|&h| self.levels[h + 1] - self.levels[h] >= self.caps[h])
            .unwrap_or(top)
    }

    fn refresh_caps(&mut self) {
        let nl = self.num_levels();
        self.caps.clear();
        self.caps
            .extend((0..nl).map(|h| level_capacity(self.k, nl, h)));
    }

    /// Grows a full buffer by the capacity of a new bottom-depth level and
    /// opens an empty level on top (DataSketches'
    /// `add_empty_top_level_to_completely_full_sketch`).
    fn add_empty_top_level(&mut self) {
        let nl = self.num_levels();
        let delta = level_capacity(self.k, nl + 1, 0);
        let cur_total = self.levels[nl];
        let mut items = Vec::with_capacity((cur_total + delta) as usize);
        items.resize(delta as usize, T::ZERO);
        items.extend_from_slice(&self.items);
        self.items = items;
        for l in self.levels.iter_mut() {
            *l += delta;
        }
        self.levels.push(cur_total + delta);
        self.refresh_caps();
    }
}

impl<T: KllItem> KllSketch<T> {
    /// A JSON summary (not an image): parameters, counts, min/max, level
    /// occupancy and the error bounds. Non-finite min/max are written as the
    /// strings "inf", "-inf".
    pub fn to_json(&self) -> serde_json::Value {
        let num = |x: Option<T>| x.map_or(serde_json::Value::Null, KllItem::to_json);
        let levels: Vec<serde_json::Value> = (0..self.num_levels())
            .map(|h| {
                json!({
                    "level": h,
                    "capacity": self.caps[h],
                    "size": self.levels[h + 1] - self.levels[h],
                })
            })
            .collect();
        json!({
            "family": "kll",
            "item_type": T::TYPE_NAME,
            "k": self.k,
            "min_k": self.min_k,
            "n": self.n,
            "num_retained": self.num_retained(),
            "is_empty": self.is_empty(),
            "estimation_mode": self.is_estimation_mode(),
            "min": num(self.min_item()),
            "max": num(self.max_item()),
            "num_levels": self.num_levels(),
            "levels": levels,
            "normalized_rank_error": self.normalized_rank_error(false),
            "normalized_rank_error_pmf": self.normalized_rank_error(true),
        })
    }
}

/// The bulk driver's view of a KLL sketch: items are applied with
/// [`KllSketch::update_slice`]; [`crate::bulk::update_values`] converts any numeric
/// column to `T` (a column of `T` is read in place).
///
/// A long column ([`crate::bulk::SPLIT_MIN`] items or more) is shared with a helper
/// sketch on a second core and merged at the end: a sketch of the same stream with the
/// same guarantee (KLL sketches merge without losing accuracy), not the state of
/// one-by-one updates. The helper's seed is drawn from this sketch's offsets, so a
/// seeded sketch gives the same result on every machine.
impl<T: KllItem> crate::bulk::ValueSketch for KllSketch<T> {
    type Item = T;
    fn apply_values(&mut self, items: &[T]) {
        self.update_slice(items);
    }
    fn helper(&mut self) -> Option<Self> {
        Some(KllSketch::empty_unchecked(
            self.k,
            splitmix64(&mut self.rng.state),
        ))
    }
    fn absorb(&mut self, helper: Self) {
        self.view.take();
        self.merge(&helper)
            .expect("a helper has this sketch's item type and k");
    }
}
