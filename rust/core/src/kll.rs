//! KLL quantiles sketch with Apache DataSketches semantics and images.
//!
//! A KLL sketch keeps a small, weighted sample of a stream of `f64` or `f32`
//! items from which it answers rank, quantile, CDF and PMF queries. The
//! compaction schedule, the level capacities, the query semantics and the
//! serialized image are those of Apache DataSketches (`kll_sketch` in
//! datasketches-cpp, `KllDoublesSketch` / `KllFloatsSketch` in
//! datasketches-java), so images move both ways between this crate, Java, C++,
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
//! `Error::InvalidArgument("empty sketch")`, and `min_item` / `max_item`
//! return `None`. A NaN rank, a NaN query item or NaN split point is an
//! `InvalidArgument` as well.
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

use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use serde_json::json;

use crate::error::{corrupt, Error, Result};

/// An item type a [`KllSketch`] can hold: `f64` (DataSketches
/// `kll_doubles_sketch`) or `f32` (`kll_floats_sketch`).
pub trait KllItem: Copy + PartialOrd + Send + Sync + fmt::Debug + 'static {
    /// Bytes per item in a serialized image.
    const SIZE: usize;
    /// Name used in summaries and error messages.
    const TYPE_NAME: &'static str;
    /// Filler for buffer slots that hold no item.
    const ZERO: Self;
    /// The item from the first `SIZE` little-endian bytes; NaN if `bytes` is
    /// too short (which the image validation then rejects).
    fn from_le_slice(bytes: &[u8]) -> Self;
    /// Appends the item's `SIZE` little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    fn is_nan(self) -> bool;
    /// Total order used to sort level 0 (cheaper than `partial_cmp` + unwrap,
    /// and NaN never reaches a sketch).
    fn total_cmp(&self, other: &Self) -> Ordering;
    fn to_f64(self) -> f64;
    /// The bit pattern, for exact equality (distinguishes -0.0 from 0.0).
    fn to_bits_u64(self) -> u64;
}

impl KllItem for f64 {
    const SIZE: usize = 8;
    const TYPE_NAME: &'static str = "f64";
    const ZERO: Self = 0.0;
    #[inline]
    fn from_le_slice(bytes: &[u8]) -> Self {
        match bytes.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => f64::from_le_bytes(b),
            None => f64::NAN,
        }
    }
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline]
    fn total_cmp(&self, other: &Self) -> Ordering {
        f64::total_cmp(self, other)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn to_bits_u64(self) -> u64 {
        self.to_bits()
    }
}

impl KllItem for f32 {
    const SIZE: usize = 4;
    const TYPE_NAME: &'static str = "f32";
    const ZERO: Self = 0.0;
    #[inline]
    fn from_le_slice(bytes: &[u8]) -> Self {
        match bytes.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
            Some(b) => f32::from_le_bytes(b),
            None => f32::NAN,
        }
    }
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline]
    fn total_cmp(&self, other: &Self) -> Ordering {
        f32::total_cmp(self, other)
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
    (0..num_levels).map(|h| level_capacity(k, num_levels, h)).sum()
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
// Randomness for the compaction offsets.

/// splitmix64: tiny, fast, and good enough for one fair bit per compaction.
#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone, Debug)]
struct BitSource {
    state: u64,
    bits: u64,
    left: u32,
}

impl BitSource {
    fn new(seed: u64) -> Self {
        BitSource {
            state: seed,
            bits: 0,
            left: 0,
        }
    }

    #[inline]
    fn bit(&mut self) -> usize {
        if self.left == 0 {
            self.bits = splitmix64(&mut self.state);
            self.left = 64;
        }
        let b = (self.bits & 1) as usize;
        self.bits >>= 1;
        self.left -= 1;
        b
    }
}

/// A seed that differs between calls and between processes, for sketches the
/// caller did not seed: correlated compaction offsets across sketches that
/// are later merged would let their errors add up instead of cancelling.
fn varying_seed() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, AtomicOrdering::Relaxed));
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

// ---------------------------------------------------------------------------
// Buffer primitives shared by update-time and merge-time compaction.

/// Keeps every other item of the sorted, even-length `s` in its lower half.
#[inline]
fn halve_down<T: Copy>(s: &mut [T], offset: usize) {
    let half = s.len() / 2;
    for i in 0..half {
        s[i] = s[2 * i + offset];
    }
}

/// Keeps every other item of the sorted, even-length `s` in its upper half.
#[inline]
fn halve_up<T: Copy>(s: &mut [T], offset: usize) {
    let len = s.len();
    let half = len / 2;
    for i in 0..half {
        // i-th from the top: destination len-1-i, source len-1-offset-2i
        s[len - 1 - i] = s[len - 1 - offset - 2 * i];
    }
}

/// Merges `buf[a_start..a_start + a_len]` (sorted) with
/// `buf[b_start..b_start + b_len]` (sorted) into `buf[out_start..]`, where
/// `a_start + a_len <= out_start` and `out_start + a_len == b_start`: the
/// output then never overtakes the unread part of `b`, so only `a` needs a
/// scratch copy. Ties take `b` first, as DataSketches does.
fn merge_runs_in_place<T: KllItem>(
    buf: &mut [T],
    scratch: &mut Vec<T>,
    a_start: usize,
    a_len: usize,
    b_start: usize,
    b_len: usize,
    out_start: usize,
) {
    scratch.clear();
    scratch.extend_from_slice(&buf[a_start..a_start + a_len]);
    let a = &scratch[..];
    let b_lim = b_start + b_len;
    let mut ia = 0;
    let mut ib = b_start;
    let mut c = out_start;
    while ia < a.len() && ib < b_lim {
        let (x, y) = (a[ia], buf[ib]);
        if x < y {
            buf[c] = x;
            ia += 1;
        } else {
            buf[c] = y;
            ib += 1;
        }
        c += 1;
    }
    let rest = &a[ia..];
    buf[c..c + rest.len()].copy_from_slice(rest);
    // whatever remains of b is already in place
}

/// Merges two sorted slices into `out` (ties take `b` first).
fn merge_into<T: KllItem>(a: &[T], b: &[T], out: &mut Vec<T>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] < b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

fn is_sorted<T: KllItem>(s: &[T]) -> bool {
    s.windows(2).all(|w| !(w[1] < w[0]))
}

/// Minimum and maximum of a non-empty slice, or `None` if it holds a NaN.
/// Eight independent lanes let the compiler vectorize the scan.
#[inline]
fn min_max_no_nan<T: KllItem>(s: &[T]) -> Option<(T, T)> {
    const LANES: usize = 8;
    let first = *s.first()?;
    let mut lo = [first; LANES];
    let mut hi = [first; LANES];
    let mut nan = [false; LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            let x = c[i];
            nan[i] |= x != x;
            lo[i] = if x < lo[i] { x } else { lo[i] };
            hi[i] = if hi[i] < x { x } else { hi[i] };
        }
    }
    let mut any_nan = nan.iter().any(|&b| b);
    for &x in chunks.remainder() {
        any_nan |= x.is_nan();
        lo[0] = if x < lo[0] { x } else { lo[0] };
        hi[0] = if hi[0] < x { x } else { hi[0] };
    }
    if any_nan || first.is_nan() {
        return None;
    }
    let mut mn = lo[0];
    let mut mx = hi[0];
    for i in 1..LANES {
        if lo[i] < mn {
            mn = lo[i];
        }
        if mx < hi[i] {
            mx = hi[i];
        }
    }
    Some((mn, mx))
}

// ---------------------------------------------------------------------------
// The sketch.

/// KLL quantiles sketch over `f64` or `f32` items; see the module docs.
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
}

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
                "k must be in {MIN_K}..=65535, got {k}"
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
    /// same seed), but fills level 0 a free run at a time.
    pub fn update_slice(&mut self, items: &[T]) {
        let mut rest = items;
        while !rest.is_empty() {
            if self.levels[0] == 0 {
                self.compress_while_updating();
            }
            let free = self.levels[0] as usize;
            let take = free.min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            match min_max_no_nan(chunk) {
                Some((lo, hi)) => {
                    self.update_min_max(lo, hi);
                    // Sequential updates prepend, so level 0 holds the chunk
                    // reversed; keeping that order keeps images identical.
                    let dst = &mut self.items[free - take..free];
                    for (d, s) in dst.iter_mut().rev().zip(chunk) {
                        *d = *s;
                    }
                    self.levels[0] -= take as u32;
                    self.n += take as u64;
                    self.level_zero_sorted = false;
                }
                None => {
                    for &x in chunk {
                        self.update(x);
                    }
                }
            }
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
        self.caps.extend((0..nl).map(|h| level_capacity(self.k, nl, h)));
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

    /// Compacts one level when the buffer is full (DataSketches'
    /// `compress_while_updating`): half of the level, chosen by one random
    /// bit among the even or odd positions of its sorted items, moves up and
    /// merges into the level above, freeing half the level for level 0.
    fn compress_while_updating(&mut self) {
        let level = self.find_level_to_compact();
        if level == self.num_levels() - 1 {
            self.add_empty_top_level();
        }
        let raw_beg = self.levels[level] as usize;
        let raw_lim = self.levels[level + 1] as usize;
        let above_lim = self.levels[level + 2] as usize;
        let pop_above = above_lim - raw_lim;
        let raw_pop = raw_lim - raw_beg;
        let odd = raw_pop & 1;
        let adj_beg = raw_beg + odd;
        let adj_pop = raw_pop - odd;
        let half = adj_pop / 2;

        // Level 0 is unsorted; the odd item left behind is the one at
        // raw_beg (the newest), as in DataSketches.
        if level == 0 {
            self.items[adj_beg..raw_lim].sort_unstable_by(T::total_cmp);
        }
        let offset = self.rng.bit();
        if pop_above == 0 {
            halve_up(&mut self.items[adj_beg..raw_lim], offset);
        } else {
            halve_down(&mut self.items[adj_beg..raw_lim], offset);
            merge_runs_in_place(
                &mut self.items,
                &mut self.scratch,
                adj_beg,
                half,
                raw_lim,
                pop_above,
                adj_beg + half,
            );
        }
        self.levels[level + 1] -= half as u32;
        if odd == 1 {
            let new_beg = self.levels[level + 1] as usize - 1;
            self.levels[level] = new_beg as u32;
            self.items[new_beg] = self.items[raw_beg];
        } else {
            self.levels[level] = self.levels[level + 1];
        }
        debug_assert_eq!(self.levels[level] as usize, raw_beg + half);
        // The levels below moved nowhere yet; shift them up so the freed
        // slots end up under level 0.
        if level > 0 {
            let lo = self.levels[0] as usize;
            self.items.copy_within(lo..raw_beg, lo + half);
            for l in &mut self.levels[..level] {
                *l += half as u32;
            }
        }
    }

    /// Merges `other` into this sketch. Sketches of different `k` merge as in
    /// DataSketches: the result keeps this sketch's `k`, and `min_k` records
    /// the smaller `k` of an estimation-mode input for the error bound.
    pub fn merge(&mut self, other: &KllSketch<T>) -> Result<()> {
        if other.is_empty() {
            return Ok(());
        }
        let final_n = self.n.checked_add(other.n).ok_or_else(|| {
            Error::InvalidArgument("merged item count would overflow u64".into())
        })?;
        self.update_min_max(other.min_item, other.max_item);
        for &x in other.level(0).iter() {
            self.push_level_zero(x);
        }
        if other.num_levels() >= 2 {
            self.merge_higher_levels(other, final_n);
        }
        self.n = final_n;
        if other.is_estimation_mode() {
            self.min_k = self.min_k.min(other.min_k);
        }
        debug_assert_eq!(self.total_weight(), u128::from(self.n));
        Ok(())
    }

    fn total_weight(&self) -> u128 {
        (0..self.num_levels())
            .map(|h| (u128::from(self.levels[h + 1] - self.levels[h])) << h)
            .sum()
    }

    /// DataSketches' `merge_higher_levels`: lay both sketches' levels out
    /// level by level (merging the sorted levels of equal height), then
    /// compress the whole thing at once.
    fn merge_higher_levels(&mut self, other: &KllSketch<T>, final_n: u64) {
        let provisional = self.num_levels().max(other.num_levels());
        let ub = ub_on_num_levels(final_n).max(provisional);
        let above_zero = |s: &KllSketch<T>| s.num_retained() - (s.levels[1] - s.levels[0]);
        let total = (self.num_retained() + above_zero(other)) as usize;
        let mut work: Vec<T> = Vec::with_capacity(total);
        let mut in_levels = vec![0u32; ub + 2];
        let safe_level = |s: &'_ KllSketch<T>, h: usize| -> std::ops::Range<usize> {
            if h < s.num_levels() {
                s.levels[h] as usize..s.levels[h + 1] as usize
            } else {
                0..0
            }
        };
        work.extend_from_slice(self.level(0));
        in_levels[1] = work.len() as u32;
        for h in 1..provisional {
            let a = &self.items[safe_level(self, h)];
            let b = &other.items[safe_level(other, h)];
            merge_into(a, b, &mut work);
            in_levels[h + 1] = work.len() as u32;
        }
        let mut out_levels = vec![0u32; ub + 2];
        let (mut num_levels, mut capacity, mut num_items) = general_compress(
            self.k,
            provisional,
            &mut work,
            &mut in_levels,
            &mut out_levels,
            &mut self.rng,
            &mut self.scratch,
        );
        // DataSketches proves one pass suffices; a second pass is only a
        // guard that keeps the buffer invariant if that ever failed.
        while num_items > capacity {
            in_levels.clear();
            in_levels.extend_from_slice(&out_levels[..=num_levels]);
            in_levels.resize(num_levels + 2, 0);
            let in_n = num_levels;
            (num_levels, capacity, num_items) = general_compress(
                self.k,
                in_n,
                &mut work,
                &mut in_levels,
                &mut out_levels,
                &mut self.rng,
                &mut self.scratch,
            );
        }
        let free = (capacity - num_items) as usize;
        let mut items = vec![T::ZERO; capacity as usize];
        items[free..].copy_from_slice(&work[..num_items as usize]);
        self.items = items;
        self.levels.clear();
        self.levels
            .extend(out_levels[..=num_levels].iter().map(|&l| l + free as u32));
        self.refresh_caps();
    }

    // -----------------------------------------------------------------------
    // Queries

    fn sorted_view(&self) -> Result<SortedView<T>> {
        if self.is_empty() {
            return Err(Error::InvalidArgument("empty sketch".into()));
        }
        Ok(SortedView::new(self))
    }

    fn check_rank(rank: f64) -> Result<()> {
        if (0.0..=1.0).contains(&rank) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "rank must be in [0, 1], got {rank}"
            )))
        }
    }

    /// The approximate quantile at normalized `rank`. Inclusive: the smallest
    /// retained item whose inclusive rank (weight of items `<=` it) is at
    /// least `rank`. Exclusive: the smallest retained item whose inclusive
    /// rank exceeds `rank`. Ranks 0 and 1 give the smallest and largest
    /// retained items (which are the min/max items only in exact mode), as in
    /// DataSketches.
    pub fn quantile(&self, rank: f64, inclusive: bool) -> Result<T> {
        Self::check_rank(rank)?;
        Ok(self.sorted_view()?.quantile(rank, inclusive))
    }

    /// [`quantile`](Self::quantile) for many ranks, over one sorted view.
    pub fn quantiles(&self, ranks: &[f64], inclusive: bool) -> Result<Vec<T>> {
        for &r in ranks {
            Self::check_rank(r)?;
        }
        let view = self.sorted_view()?;
        Ok(ranks.iter().map(|&r| view.quantile(r, inclusive)).collect())
    }

    /// The approximate normalized rank of `item`: the fraction of the stream
    /// `<= item` if `inclusive`, `< item` otherwise.
    pub fn rank(&self, item: T, inclusive: bool) -> Result<f64> {
        Self::check_item(item)?;
        Ok(self.sorted_view()?.rank(item, inclusive))
    }

    /// [`rank`](Self::rank) for many items, over one sorted view.
    pub fn ranks(&self, items: &[T], inclusive: bool) -> Result<Vec<f64>> {
        for &x in items {
            Self::check_item(x)?;
        }
        let view = self.sorted_view()?;
        Ok(items.iter().map(|&x| view.rank(x, inclusive)).collect())
    }

    fn check_item(item: T) -> Result<()> {
        if item.is_nan() {
            Err(Error::InvalidArgument("NaN has no rank".into()))
        } else {
            Ok(())
        }
    }

    fn check_split_points(split_points: &[T]) -> Result<()> {
        for (i, &x) in split_points.iter().enumerate() {
            if x.is_nan() {
                return Err(Error::InvalidArgument(format!(
                    "split point {i} is NaN"
                )));
            }
            if let Some(&next) = split_points.get(i + 1) {
                if !(x < next) {
                    return Err(Error::InvalidArgument(format!(
                        "split points must be unique and increasing: {x:?} at {i} is not below {next:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Cumulative distribution at the split points: `len + 1` values, the
    /// ranks of each split point (inclusive or exclusive) followed by 1.
    pub fn cdf(&self, split_points: &[T], inclusive: bool) -> Result<Vec<f64>> {
        let view = self.sorted_view()?;
        Self::check_split_points(split_points)?;
        let mut out: Vec<f64> = split_points
            .iter()
            .map(|&x| view.rank(x, inclusive))
            .collect();
        out.push(1.0);
        Ok(out)
    }

    /// Probability mass of the `len + 1` intervals the split points delimit
    /// (`(-inf, s0], (s0, s1], ...` if inclusive, `[s_i, s_i+1)` otherwise).
    pub fn pmf(&self, split_points: &[T], inclusive: bool) -> Result<Vec<f64>> {
        let mut out = self.cdf(split_points, inclusive)?;
        for i in (1..out.len()).rev() {
            out[i] -= out[i - 1];
        }
        Ok(out)
    }

    /// Normalized rank error at 99% confidence for this sketch's `min_k`.
    pub fn normalized_rank_error(&self, pmf: bool) -> f64 {
        normalized_rank_error(self.min_k, pmf)
    }

    // -----------------------------------------------------------------------
    // Images

    /// The Apache DataSketches KLL image: 8 bytes when empty, 8 + one item
    /// for a single item (serial version 2), otherwise the full form
    /// (preamble ints 5, serial version 1).
    pub fn serialize(&self) -> Vec<u8> {
        let single = self.n == 1;
        let sorted_flag = if self.level_zero_sorted {
            FLAG_LEVEL_ZERO_SORTED
        } else {
            0
        };
        let size = if self.is_empty() {
            EMPTY_SIZE_BYTES
        } else if single {
            DATA_START_SINGLE_ITEM + T::SIZE
        } else {
            DATA_START + 4 * self.num_levels() + (self.num_retained() as usize + 2) * T::SIZE
        };
        let mut out = Vec::with_capacity(size);
        let (preamble, version, flags) = if self.is_empty() {
            (PREAMBLE_INTS_SHORT, SERIAL_VERSION_1, FLAG_EMPTY | sorted_flag)
        } else if single {
            (
                PREAMBLE_INTS_SHORT,
                SERIAL_VERSION_2,
                FLAG_SINGLE_ITEM | sorted_flag,
            )
        } else {
            (PREAMBLE_INTS_FULL, SERIAL_VERSION_1, sorted_flag)
        };
        out.extend_from_slice(&[preamble, version, FAMILY, flags]);
        out.extend_from_slice(&self.k.to_le_bytes());
        out.extend_from_slice(&[M, 0]);
        if self.is_empty() {
            return out;
        }
        if !single {
            out.extend_from_slice(&self.n.to_le_bytes());
            out.extend_from_slice(&self.min_k.to_le_bytes());
            out.extend_from_slice(&[self.num_levels() as u8, 0]);
            // the last offset is implied by k and the number of levels
            for &l in &self.levels[..self.num_levels()] {
                out.extend_from_slice(&l.to_le_bytes());
            }
            self.min_item.write_le(&mut out);
            self.max_item.write_le(&mut out);
        }
        for &x in self.retained() {
            x.write_le(&mut out);
        }
        debug_assert_eq!(out.len(), size);
        out
    }

    /// Reads a DataSketches KLL image (from Java, C++, Python or this crate).
    /// The image does not record the item type: the caller picks `T` (`f64`
    /// for `kll_doubles_sketch` images, `f32` for `kll_floats_sketch`).
    /// Every field is validated; bad bytes give `Error::CorruptData`.
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 8 {
            return corrupt(format!(
                "KLL image of {} bytes is shorter than its 8-byte preamble",
                bytes.len()
            ));
        }
        let (preamble, version, family, flags) = (bytes[0], bytes[1], bytes[2], bytes[3]);
        let k = u16::from_le_bytes([bytes[4], bytes[5]]);
        let m = bytes[6];
        if family != FAMILY {
            return corrupt(format!(
                "family id {family} is not KLL ({FAMILY})"
            ));
        }
        if version != SERIAL_VERSION_1 && version != SERIAL_VERSION_2 {
            return corrupt(format!(
                "unsupported KLL serial version {version} (expected 1 or 2)"
            ));
        }
        if m != M {
            return corrupt(format!("KLL parameter m is {m}, expected {M}"));
        }
        if k < MIN_K {
            return corrupt(format!("k = {k} is below the minimum {MIN_K}"));
        }
        let is_empty = flags & FLAG_EMPTY != 0;
        let is_single = flags & FLAG_SINGLE_ITEM != 0;
        let sorted_flag = flags & FLAG_LEVEL_ZERO_SORTED != 0;
        if is_empty && is_single {
            return corrupt("flags mark the image both empty and single-item");
        }
        let expected_preamble = if is_empty || is_single {
            PREAMBLE_INTS_SHORT
        } else {
            PREAMBLE_INTS_FULL
        };
        if preamble != expected_preamble {
            return corrupt(format!(
                "preamble ints {preamble} do not match the flags (expected {expected_preamble})"
            ));
        }
        let seed = varying_seed();
        if is_empty {
            // Like DataSketches, ignore anything after an empty preamble.
            return Ok(Self::empty_unchecked(k, seed));
        }
        if is_single {
            let expected = DATA_START_SINGLE_ITEM + T::SIZE;
            if bytes.len() != expected {
                return corrupt(format!(
                    "single-item image is {} bytes, expected {expected} for {}",
                    bytes.len(),
                    T::TYPE_NAME
                ));
            }
            let item = T::from_le_slice(&bytes[DATA_START_SINGLE_ITEM..]);
            if item.is_nan() {
                return corrupt("the single item is NaN");
            }
            let mut s = Self::empty_unchecked(k, seed);
            s.update(item);
            s.level_zero_sorted = sorted_flag;
            return Ok(s);
        }

        if bytes.len() < DATA_START {
            return corrupt(format!(
                "full KLL image of {} bytes is shorter than its {DATA_START}-byte preamble",
                bytes.len()
            ));
        }
        let n = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
        let min_k = u16::from_le_bytes([bytes[16], bytes[17]]);
        let num_levels = usize::from(bytes[18]);
        if n == 0 {
            return corrupt("non-empty image with n = 0");
        }
        if !(MIN_K..=k).contains(&min_k) {
            return corrupt(format!("min_k = {min_k} is outside {MIN_K}..={k}"));
        }
        if num_levels == 0 || num_levels > MAX_LEVELS {
            return corrupt(format!(
                "number of levels {num_levels} is outside 1..={MAX_LEVELS}"
            ));
        }
        let levels_end = DATA_START + 4 * num_levels;
        let min_len = levels_end + 2 * T::SIZE;
        if bytes.len() < min_len {
            return corrupt(format!(
                "image of {} bytes is too short for {num_levels} level offsets and min/max ({min_len} bytes)",
                bytes.len()
            ));
        }
        let capacity = total_capacity(k, num_levels);
        let mut levels: Vec<u32> = bytes[DATA_START..levels_end]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        levels.push(capacity);
        if let Some(h) = (0..num_levels).find(|&h| levels[h] > levels[h + 1]) {
            return corrupt(format!(
                "level offsets are not increasing at level {h}: {} > {} (capacity {capacity})",
                levels[h],
                levels[h + 1]
            ));
        }
        let retained = (capacity - levels[0]) as usize;
        let expected_len = min_len + retained * T::SIZE;
        if bytes.len() != expected_len {
            return corrupt(format!(
                "image is {} bytes but its header implies {expected_len} ({retained} {} items)",
                bytes.len(),
                T::TYPE_NAME
            ));
        }
        let weight: u128 = (0..num_levels)
            .map(|h| u128::from(levels[h + 1] - levels[h]) << h)
            .sum();
        if weight != u128::from(n) {
            return corrupt(format!(
                "n = {n} does not match the total weight {weight} of the retained items"
            ));
        }
        let min_item = T::from_le_slice(&bytes[levels_end..]);
        let max_item = T::from_le_slice(&bytes[levels_end + T::SIZE..]);
        if min_item.is_nan() || max_item.is_nan() {
            return corrupt("min or max item is NaN");
        }
        if max_item < min_item {
            return corrupt(format!(
                "min item {min_item:?} exceeds max item {max_item:?}"
            ));
        }
        let mut items = vec![T::ZERO; capacity as usize];
        for (slot, c) in items[levels[0] as usize..]
            .iter_mut()
            .zip(bytes[min_len..].chunks_exact(T::SIZE))
        {
            let x = T::from_le_slice(c);
            if x.is_nan() {
                return corrupt("a retained item is NaN");
            }
            if x < min_item || max_item < x {
                return corrupt(format!(
                    "retained item {x:?} lies outside [min, max] = [{min_item:?}, {max_item:?}]"
                ));
            }
            *slot = x;
        }
        let mut s = KllSketch {
            k,
            min_k,
            n,
            levels,
            items,
            caps: Vec::new(),
            min_item,
            max_item,
            level_zero_sorted: sorted_flag,
            rng: BitSource::new(seed),
            forks: AtomicU64::new(0),
            scratch: Vec::new(),
        };
        s.refresh_caps();
        for h in 1..num_levels {
            if !is_sorted(s.level(h)) {
                return corrupt(format!("level {h} is not sorted"));
            }
        }
        if sorted_flag && !is_sorted(s.level(0)) {
            return corrupt("flags say level 0 is sorted but it is not");
        }
        Ok(s)
    }

    /// A JSON summary (not an image): parameters, counts, min/max, level
    /// occupancy and the error bounds. Non-finite min/max are written as the
    /// strings "inf", "-inf".
    pub fn to_json(&self) -> serde_json::Value {
        let num = |x: Option<T>| match x {
            None => serde_json::Value::Null,
            Some(v) => {
                let f = v.to_f64();
                serde_json::Number::from_f64(f)
                    .map(serde_json::Value::Number)
                    .unwrap_or_else(|| {
                        serde_json::Value::String(if f > 0.0 { "inf" } else { "-inf" }.into())
                    })
            }
        };
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

/// DataSketches' `general_compress`, used by merges. `items` holds the
/// levels back to back as described by `in_levels[..=num_levels_in]` (level
/// 0 unsorted, the others sorted). Walks up the levels once, compacting each
/// level that is over its capacity while the whole is over the total
/// capacity, adding levels on top as needed. Returns the final number of
/// levels, the total capacity for that many levels, and the number of items,
/// which are packed from index 0 as described by `out_levels`.
fn general_compress<T: KllItem>(
    k: u16,
    num_levels_in: usize,
    items: &mut [T],
    in_levels: &mut Vec<u32>,
    out_levels: &mut Vec<u32>,
    rng: &mut BitSource,
    scratch: &mut Vec<T>,
) -> (usize, u32, u32) {
    let starting = in_levels[num_levels_in] - in_levels[0];
    let mut num_levels = num_levels_in;
    let mut count = starting;
    let mut target = total_capacity(k, num_levels);
    out_levels[0] = 0;
    let mut h = 0;
    loop {
        if in_levels.len() < h + 3 {
            in_levels.resize(h + 3, 0);
        }
        if out_levels.len() < h + 3 {
            out_levels.resize(h + 3, 0);
        }
        // an empty level above the top, for convenience
        if h == num_levels - 1 {
            in_levels[h + 2] = in_levels[h + 1];
        }
        let raw_beg = in_levels[h] as usize;
        let raw_lim = in_levels[h + 1] as usize;
        let raw_pop = raw_lim - raw_beg;
        if count < target || (raw_pop as u32) < level_capacity(k, num_levels, h) {
            // keep the level as is; data only ever moves down
            let dst = out_levels[h] as usize;
            items.copy_within(raw_beg..raw_lim, dst);
            out_levels[h + 1] = out_levels[h] + raw_pop as u32;
        } else {
            let pop_above = in_levels[h + 2] as usize - raw_lim;
            let odd = raw_pop & 1;
            let adj_beg = raw_beg + odd;
            let adj_pop = raw_pop - odd;
            let half = adj_pop / 2;
            if odd == 1 {
                items[out_levels[h] as usize] = items[raw_beg];
                out_levels[h + 1] = out_levels[h] + 1;
            } else {
                out_levels[h + 1] = out_levels[h];
            }
            if h == 0 {
                items[adj_beg..raw_lim].sort_unstable_by(T::total_cmp);
            }
            let offset = rng.bit();
            if pop_above == 0 {
                halve_up(&mut items[adj_beg..raw_lim], offset);
            } else {
                halve_down(&mut items[adj_beg..raw_lim], offset);
                merge_runs_in_place(
                    items,
                    scratch,
                    adj_beg,
                    half,
                    raw_lim,
                    pop_above,
                    adj_beg + half,
                );
            }
            count -= half as u32;
            in_levels[h + 1] -= half as u32;
            if h == num_levels - 1 {
                num_levels += 1;
                target += level_capacity(k, num_levels, 0);
            }
        }
        if h == num_levels - 1 {
            break;
        }
        h += 1;
    }
    debug_assert_eq!(out_levels[num_levels] - out_levels[0], count);
    (num_levels, target, count)
}

/// The retained items sorted, with cumulative weights: what every query
/// searches (DataSketches' `quantiles_sorted_view`).
struct SortedView<T> {
    items: Vec<T>,
    cum: Vec<u64>,
    total: u64,
}

impl<T: KllItem> SortedView<T> {
    fn new(s: &KllSketch<T>) -> Self {
        let mut entries: Vec<(T, u64)> = Vec::with_capacity(s.num_retained() as usize);
        let mut level0: Vec<T> = s.level(0).to_vec();
        level0.sort_unstable_by(T::total_cmp);
        entries.extend(level0.into_iter().map(|x| (x, 1)));
        for h in 1..s.num_levels() {
            let w = 1u64 << h;
            entries.extend(s.level(h).iter().map(|&x| (x, w)));
        }
        // A stable sort of the concatenated sorted runs equals DataSketches'
        // successive stable merges (ties keep the lower level first), and
        // the run detection makes it a merge of runs in practice.
        entries.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
        let mut total = 0u64;
        let mut items = Vec::with_capacity(entries.len());
        let mut cum = Vec::with_capacity(entries.len());
        for (x, w) in entries {
            total += w;
            items.push(x);
            cum.push(total);
        }
        SortedView { items, cum, total }
    }

    fn rank(&self, item: T, inclusive: bool) -> f64 {
        let idx = if inclusive {
            self.items.partition_point(|x| !(item < *x))
        } else {
            self.items.partition_point(|x| *x < item)
        };
        match idx.checked_sub(1) {
            None => 0.0,
            Some(i) => self.cum[i] as f64 / self.total as f64,
        }
    }

    fn quantile(&self, rank: f64, inclusive: bool) -> T {
        let scaled = rank * self.total as f64;
        let weight = if inclusive {
            scaled.ceil() as u64
        } else {
            scaled as u64
        };
        let idx = if inclusive {
            self.cum.partition_point(|&c| c < weight)
        } else {
            self.cum.partition_point(|&c| c <= weight)
        };
        let last = self.items.len() - 1;
        self.items[idx.min(last)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splitmix_stream(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || splitmix64(&mut s)
    }

    #[test]
    #[ignore]
    fn bench_update_slice() {
        let mut next = splitmix_stream(7);
        let data: Vec<f64> = (0..10_000_000)
            .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64)
            .collect();
        for round in 0..5 {
            let mut s = KllSketch::<f64>::with_seed(200, round).unwrap();
            let t = std::time::Instant::now();
            s.update_slice(&data);
            let dt = t.elapsed().as_secs_f64();
            println!(
                "update_slice 10M f64: {:.1} ms, {:.1} M items/s (retained {})",
                dt * 1e3,
                data.len() as f64 / dt / 1e6,
                s.num_retained()
            );
        }
    }
}
