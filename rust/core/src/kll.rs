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
//! `InvalidArgument` as well (DataSketches answers NaN items with rank 0 or
//! 1, which means nothing).
//!
//! # Query semantics
//!
//! Queries search the retained items sorted with cumulative weights, as
//! DataSketches' `quantiles_sorted_view` does. `inclusive = true` is its
//! INCLUSIVE criterion (`rank(x)` counts items `<= x`; `quantile(r)` is the
//! first item whose cumulative weight reaches `ceil(r * n)`), `false` is
//! EXCLUSIVE (`rank(x)` counts items `< x`; `quantile(r)` is the first item
//! whose cumulative weight exceeds `floor(r * n)`). Like datasketches-python
//! 5.2 (checked), ranks 0 and 1 return the smallest and largest *retained*
//! items, which in estimation mode need not be `min_item` / `max_item`.
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
use std::sync::OnceLock;

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
    /// Largest value (+infinity): pads small sorts up to a network size.
    const PAD: Self;
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
    // Only runs too long for the merge networks get here (the level above
    // holds more than 16 items); one run then dominates and a plain branch
    // predicts better than a branch-free select waits on its loads.
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

// Sorting networks (Batcher's odd-even merge sort, generated and checked by
// the 0-1 principle in the tests). Level compactions sort and merge runs of
// ~8-16 random items millions of times per 10 M updates; compare-exchanges
// with min/max have no data-dependent branches and keep the run in
// registers, where insertion sort and a scalar merge mispredict and wait on
// dependent loads.

/// Compare-exchange of `v[i]` and `v[j]`, `i < j`.
macro_rules! ce {
    ($v:ident; $($i:literal, $j:literal;)*) => {
        $(
            let (a, b) = ($v[$i], $v[$j]);
            let swap = b < a;
            $v[$i] = if swap { b } else { a };
            $v[$j] = if swap { a } else { b };
        )*
    };
}

#[inline(always)]
fn sort8<T: KllItem>(v: &mut [T; 8]) {
    ce!(v;
        0,1; 2,3; 4,5; 6,7; 0,2; 1,3; 4,6; 5,7; 1,2; 5,6;
        0,4; 1,5; 2,6; 3,7; 2,4; 3,5; 1,2; 3,4; 5,6;
    );
}

#[inline(always)]
fn sort16<T: KllItem>(v: &mut [T; 16]) {
    ce!(v;
        0,1; 2,3; 4,5; 6,7; 8,9; 10,11; 12,13; 14,15; 0,2; 1,3;
        4,6; 5,7; 8,10; 9,11; 12,14; 13,15; 1,2; 5,6; 9,10; 13,14;
        0,4; 1,5; 2,6; 3,7; 8,12; 9,13; 10,14; 11,15; 2,4; 3,5;
        10,12; 11,13; 1,2; 3,4; 5,6; 9,10; 11,12; 13,14; 0,8; 1,9;
        2,10; 3,11; 4,12; 5,13; 6,14; 7,15; 4,8; 5,9; 6,10; 7,11;
        2,4; 3,5; 6,8; 7,9; 10,12; 11,13; 1,2; 3,4; 5,6; 7,8;
        9,10; 11,12; 13,14;
    );
}

/// `sort16` without the comparators that touch slots 12..16: sorts `v[..12]`
/// when those slots hold padding (+infinity), with 42 compare-exchanges
/// instead of 63.
#[inline(always)]
fn sort12<T: KllItem>(v: &mut [T; 16]) {
    ce!(v;
        0,1; 2,3; 4,5; 6,7; 8,9; 10,11; 0,2; 1,3; 4,6; 5,7;
        8,10; 9,11; 1,2; 5,6; 9,10; 0,4; 1,5; 2,6; 3,7; 2,4;
        3,5; 1,2; 3,4; 5,6; 9,10; 0,8; 1,9; 2,10; 3,11; 4,8;
        5,9; 6,10; 7,11; 2,4; 3,5; 6,8; 7,9; 1,2; 3,4; 5,6;
        7,8; 9,10;
    );
}

/// Sorts `v`, whose slots from `pop` on hold padding, with the smallest
/// network that covers `pop` items.
#[inline(always)]
fn sort_padded16<T: KllItem>(v: &mut [T; 16], pop: usize) {
    if pop <= 8 {
        let mut u: [T; 8] = std::array::from_fn(|i| v[i]);
        sort8(&mut u);
        v[..8].copy_from_slice(&u);
    } else if pop <= 12 {
        sort12(v);
    } else {
        sort16(v);
    }
}

/// Merges the sorted halves `v[..8]` and `v[8..]`.
#[inline(always)]
fn merge8x8<T: KllItem>(v: &mut [T; 16]) {
    ce!(v;
        0,8; 1,9; 2,10; 3,11; 4,12; 5,13; 6,14; 7,15; 4,8; 5,9;
        6,10; 7,11; 2,4; 3,5; 6,8; 7,9; 10,12; 11,13; 1,2; 3,4;
        5,6; 7,8; 9,10; 11,12; 13,14;
    );
}

/// Merges the sorted halves `v[..16]` and `v[16..]`.
#[inline(always)]
fn merge16x16<T: KllItem>(v: &mut [T; 32]) {
    ce!(v;
        0,16; 1,17; 2,18; 3,19; 4,20; 5,21; 6,22; 7,23; 8,24; 9,25;
        10,26; 11,27; 12,28; 13,29; 14,30; 15,31; 8,16; 9,17; 10,18; 11,19;
        12,20; 13,21; 14,22; 15,23; 4,8; 5,9; 6,10; 7,11; 12,16; 13,17;
        14,18; 15,19; 20,24; 21,25; 22,26; 23,27; 2,4; 3,5; 6,8; 7,9;
        10,12; 11,13; 14,16; 15,17; 18,20; 19,21; 22,24; 23,25; 26,28; 27,29;
        1,2; 3,4; 5,6; 7,8; 9,10; 11,12; 13,14; 15,16; 17,18; 19,20;
        21,22; 23,24; 25,26; 27,28; 29,30;
    );
}

#[inline(always)]
fn sort32<T: KllItem>(v: &mut [T; 32]) {
    let mut a: [T; 16] = std::array::from_fn(|i| v[i]);
    let mut b: [T; 16] = std::array::from_fn(|i| v[16 + i]);
    sort16(&mut a);
    sort16(&mut b);
    *v = std::array::from_fn(|i| if i < 16 { a[i] } else { b[i - 16] });
    merge16x16(v);
}

/// The first `N` slots hold `s` (at most `N` items), the rest +infinity,
/// which sorts last and so never displaces a real item.
#[inline(always)]
fn load_padded<T: KllItem, const N: usize>(s: &[T]) -> [T; N] {
    std::array::from_fn(|i| if i < s.len() { s[i] } else { T::PAD })
}

#[inline(always)]
fn store_prefix<T: KllItem, const N: usize>(out: &mut [T], v: &[T; N]) {
    for (d, x) in out.iter_mut().zip(v.iter()) {
        *d = *x;
    }
}

/// `halve_and_merge` for `pop <= 32`, `above <= 16`: too large to keep in
/// registers, but still much cheaper than a scalar merge. Kept out of line
/// so the common 16-wide path stays small.
#[inline(never)]
fn halve_and_merge_32<T: KllItem>(
    buf: &mut [T],
    beg: usize,
    pop: usize,
    above_lim: usize,
    sort: bool,
    offset: usize,
) {
    let half = pop / 2;
    // slots at or past `half` pick padding, since 2i + offset >= pop
    let mut w = [T::PAD; 32];
    if pop <= 16 {
        let mut v = load_padded::<T, 16>(&buf[beg..beg + pop]);
        if sort {
            sort_padded16(&mut v, pop);
        }
        for i in 0..8 {
            w[i] = v[2 * i + offset];
        }
    } else {
        let mut v = load_padded::<T, 32>(&buf[beg..beg + pop]);
        if sort {
            sort32(&mut v);
        }
        for i in 0..16 {
            w[i] = v[2 * i + offset];
        }
    }
    let b = load_padded::<T, 16>(&buf[beg + pop..above_lim]);
    w[16..].copy_from_slice(&b);
    merge16x16(&mut w);
    store_prefix(&mut buf[beg + half..above_lim], &w);
}

/// Sorts NaN-free items ascending.
fn sort_items<T: KllItem>(s: &mut [T]) {
    match s.len() {
        0..=1 => {}
        2..=8 => {
            let mut v = load_padded::<T, 8>(s);
            sort8(&mut v);
            store_prefix(s, &v);
        }
        9..=16 => {
            let mut v = load_padded::<T, 16>(s);
            sort16(&mut v);
            store_prefix(s, &v);
        }
        17..=32 => {
            let mut v = load_padded::<T, 32>(s);
            sort32(&mut v);
            store_prefix(s, &v);
        }
        _ => s.sort_unstable_by(T::total_cmp),
    }
}

/// The compaction step shared by updates and merges. `buf[beg..beg + pop]`
/// (`pop` even) is the part of a level being compacted, directly followed by
/// the sorted level above, which ends at `above_lim`. Sorts the part if
/// `sort` (level 0), keeps the items at positions `offset, offset + 2, ...`
/// and merges them into the level above, which then occupies
/// `buf[beg + pop / 2..above_lim]`.
///
/// DataSketches halves "up" instead when the level above is empty; with a
/// random offset either way the kept half has the same distribution, and
/// one direction needs one code path. The networks may order equal items
/// (-0.0 and 0.0) differently from DataSketches' merge, which no query can
/// tell apart.
fn halve_and_merge<T: KllItem>(
    buf: &mut [T],
    scratch: &mut Vec<T>,
    beg: usize,
    pop: usize,
    above_lim: usize,
    sort: bool,
    offset: usize,
) {
    let half = pop / 2;
    let above = above_lim - (beg + pop);
    if pop <= 16 && above <= 8 {
        let mut v = load_padded::<T, 16>(&buf[beg..beg + pop]);
        if sort {
            sort_padded16(&mut v, pop);
        }
        // slots at or past `half` pick padding, since 2i + offset >= pop
        let mut w: [T; 16] =
            std::array::from_fn(|i| if i < 8 { v[2 * i + offset] } else { T::PAD });
        if above > 0 {
            let b = load_padded::<T, 8>(&buf[beg + pop..above_lim]);
            w[8..].copy_from_slice(&b);
            merge8x8(&mut w);
        }
        store_prefix(&mut buf[beg + half..above_lim], &w);
        return;
    }
    if pop <= 32 && above <= 16 {
        halve_and_merge_32(buf, beg, pop, above_lim, sort, offset);
        return;
    }
    if sort {
        sort_items(&mut buf[beg..beg + pop]);
    }
    halve_down(&mut buf[beg..beg + pop], offset);
    merge_runs_in_place(buf, scratch, beg, half, beg + pop, above, beg + half);
}

/// Moves `s[..len - by]` to `s[by..]`. The levels below a compacted one are
/// a few dozen items: a plain loop beats a call to memmove.
#[inline]
fn shift_up<T: Copy>(s: &mut [T], by: usize) {
    if s.len() > 256 {
        s.copy_within(..s.len() - by, by);
        return;
    }
    for i in (by..s.len()).rev() {
        s[i] = s[i - by];
    }
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
    s.windows(2).all(|w| w[0] <= w[1])
}

/// Minimum and maximum of a non-empty slice, or `None` if it holds a NaN.
/// Eight independent lanes let the compiler vectorize the scan.
#[inline]
fn min_max_no_nan<T: KllItem>(s: &[T]) -> Option<(T, T)> {
    const LANES: usize = 8;
    let first = *s.first()?;
    let mut lo = [first; LANES];
    let mut hi = [first; LANES];
    // A NaN is carried in a float lane (a select, like min/max) rather than
    // a bool flag, which keeps the loop vectorized.
    let mut nan = [first; LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            let x = c[i];
            nan[i] = if x.is_nan() { x } else { nan[i] };
            lo[i] = if x < lo[i] { x } else { lo[i] };
            hi[i] = if hi[i] < x { x } else { hi[i] };
        }
    }
    let mut any_nan = nan.iter().any(|x| x.is_nan());
    for &x in chunks.remainder() {
        any_nan |= x.is_nan();
        lo[0] = if x < lo[0] { x } else { lo[0] };
        hi[0] = if hi[0] < x { x } else { hi[0] };
    }
    if any_nan {
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
        let raw_pop = raw_lim - raw_beg;
        let odd = raw_pop & 1;
        let adj_beg = raw_beg + odd;
        let adj_pop = raw_pop - odd;
        let half = adj_pop / 2;

        // Level 0 is unsorted; the odd item left behind is the one at
        // raw_beg (the newest), as in DataSketches.
        let offset = self.rng.bit();
        halve_and_merge(
            &mut self.items,
            &mut self.scratch,
            adj_beg,
            adj_pop,
            above_lim,
            level == 0,
            offset,
        );
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
            shift_up(&mut self.items[lo..raw_beg + half], half);
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
        self.view.take();
        let final_n = self
            .n
            .checked_add(other.n)
            .ok_or_else(|| Error::InvalidArgument("merged item count would overflow u64".into()))?;
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

    /// Checked before the arguments, as DataSketches does.
    fn ensure_non_empty(&self) -> Result<()> {
        if self.is_empty() {
            Err(Error::InvalidArgument("empty sketch".into()))
        } else {
            Ok(())
        }
    }

    /// The sorted view of the retained items, built once per state of the
    /// sketch (DataSketches caches it the same way).
    fn sorted_view(&self) -> Result<&SortedView<T>> {
        self.ensure_non_empty()?;
        Ok(self.view.get_or_init(|| SortedView::new(self)))
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
    /// retained items (the min/max items only in exact mode), as in
    /// DataSketches.
    pub fn quantile(&self, rank: f64, inclusive: bool) -> Result<T> {
        self.ensure_non_empty()?;
        Self::check_rank(rank)?;
        Ok(self.sorted_view()?.quantile(rank, inclusive))
    }

    /// [`quantile`](Self::quantile) for many ranks, over one sorted view.
    pub fn quantiles(&self, ranks: &[f64], inclusive: bool) -> Result<Vec<T>> {
        self.ensure_non_empty()?;
        for &r in ranks {
            Self::check_rank(r)?;
        }
        Ok(self.sorted_view()?.quantiles(ranks, inclusive))
    }

    /// The approximate normalized rank of `item`: the fraction of the stream
    /// `<= item` if `inclusive`, `< item` otherwise.
    pub fn rank(&self, item: T, inclusive: bool) -> Result<f64> {
        self.ensure_non_empty()?;
        Self::check_item(item)?;
        Ok(self.sorted_view()?.rank(item, inclusive))
    }

    /// [`rank`](Self::rank) for many items, over one sorted view.
    pub fn ranks(&self, items: &[T], inclusive: bool) -> Result<Vec<f64>> {
        self.ensure_non_empty()?;
        for &x in items {
            Self::check_item(x)?;
        }
        Ok(self.sorted_view()?.ranks(items, inclusive))
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
                return Err(Error::InvalidArgument(format!("split point {i} is NaN")));
            }
            if let Some(&next) = split_points.get(i + 1) {
                if x.partial_cmp(&next) != Some(Ordering::Less) {
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
        let mut out = view.ranks(split_points, inclusive);
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
            (
                PREAMBLE_INTS_SHORT,
                SERIAL_VERSION_1,
                FLAG_EMPTY | sorted_flag,
            )
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
            return corrupt(format!("family id {family} is not KLL ({FAMILY})"));
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
            view: OnceLock::new(),
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
            let offset = rng.bit();
            let above_lim = in_levels[h + 2] as usize;
            halve_and_merge(items, scratch, adj_beg, adj_pop, above_lim, h == 0, offset);
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
    total_f64: f64,
}

impl<T: KllItem> SortedView<T> {
    fn new(s: &KllSketch<T>) -> Self {
        let mut entries: Vec<(T, u64)> = Vec::with_capacity(s.num_retained() as usize);
        let mut level0: Vec<T> = s.level(0).to_vec();
        sort_items(&mut level0);
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
        SortedView {
            items,
            cum,
            total,
            total_f64: total as f64,
        }
    }

    fn rank(&self, item: T, inclusive: bool) -> f64 {
        let idx = if inclusive {
            self.items.partition_point(|x| *x <= item)
        } else {
            self.items.partition_point(|x| *x < item)
        };
        match idx.checked_sub(1) {
            None => 0.0,
            Some(i) => self.cum[i] as f64 / self.total as f64,
        }
    }

    /// The cumulative weight a quantile query at `rank` searches for.
    #[inline]
    fn weight(&self, rank: f64, inclusive: bool) -> u64 {
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        let scaled = rank * self.total_f64;
        // floor and ceil of a non-negative value without f64::ceil (a libm
        // call on baseline x86-64) and, below 2^63, with the one-instruction
        // signed conversions rather than the unsigned ones
        if scaled < TWO_63 {
            let floor = scaled as i64;
            (floor + i64::from(inclusive && (floor as f64) < scaled)) as u64
        } else if inclusive {
            scaled.ceil() as u64
        } else {
            scaled as u64
        }
    }

    fn quantile(&self, rank: f64, inclusive: bool) -> T {
        let weight = self.weight(rank, inclusive);
        let idx = if inclusive {
            self.cum.partition_point(|&c| c < weight)
        } else {
            self.cum.partition_point(|&c| c <= weight)
        };
        let last = self.items.len() - 1;
        self.items[idx.min(last)]
    }

    /// [`quantile`](Self::quantile) of each rank. Ascending ranks (the usual
    /// grid) are answered in one galloping pass over the view, each search
    /// starting where the previous one ended; others one binary search each.
    fn quantiles(&self, ranks: &[f64], inclusive: bool) -> Vec<T> {
        if !ranks.windows(2).all(|w| w[0] <= w[1]) {
            return ranks.iter().map(|&r| self.quantile(r, inclusive)).collect();
        }
        let last = self.items.len() - 1;
        let mut at = 0;
        ranks
            .iter()
            .map(|&r| {
                let w = self.weight(r, inclusive);
                at = if inclusive {
                    gallop(&self.cum, at, |&c| c < w)
                } else {
                    gallop(&self.cum, at, |&c| c <= w)
                };
                self.items[at.min(last)]
            })
            .collect()
    }

    /// [`rank`](Self::rank) of each item, galloping over ascending items as
    /// [`quantiles`](Self::quantiles) does over ascending ranks.
    fn ranks(&self, items: &[T], inclusive: bool) -> Vec<f64> {
        if !items.windows(2).all(|w| w[0] <= w[1]) {
            return items.iter().map(|&x| self.rank(x, inclusive)).collect();
        }
        let total = self.total as f64;
        let mut at = 0;
        items
            .iter()
            .map(|&item| {
                at = if inclusive {
                    gallop(&self.items, at, |x| *x <= item)
                } else {
                    gallop(&self.items, at, |x| *x < item)
                };
                match at.checked_sub(1) {
                    None => 0.0,
                    Some(i) => self.cum[i] as f64 / total,
                }
            })
            .collect()
    }
}

/// `from + s[from..].partition_point(pred)` for a `pred` that holds on a
/// prefix of `s`, found by doubling steps from `from` and then a binary
/// search: O(log d) for an answer `d` places on.
#[inline]
fn gallop<X>(s: &[X], from: usize, pred: impl Fn(&X) -> bool) -> usize {
    let mut lo = from; // pred holds below lo
    let mut hi = from;
    let mut step = 1;
    while hi < s.len() && pred(&s[hi]) {
        lo = hi + 1;
        hi = from + step;
        step *= 2;
    }
    let hi = hi.min(s.len());
    lo + s[lo..hi].partition_point(pred)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic test randomness (independent of the sketch's own).
    struct TestRng(u64);

    impl TestRng {
        fn next_u64(&mut self) -> u64 {
            splitmix64(&mut self.0)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
        fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn unwrap_invalid<T: fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // ---------------------------------------------------------------------
    // Building blocks

    #[test]
    fn sorting_networks_sort_every_zero_one_input() {
        // 0-1 principle: a comparator network sorts every input iff it sorts
        // every input of zeros and ones.
        for bits in 0u32..(1 << 8) {
            let mut v: [f64; 8] = std::array::from_fn(|i| f64::from((bits >> i) & 1));
            sort8(&mut v);
            assert!(is_sorted(&v), "sort8 fails on {bits:#b}");
        }
        for bits in 0u32..(1 << 16) {
            let mut v: [f64; 16] = std::array::from_fn(|i| f64::from((bits >> i) & 1));
            sort16(&mut v);
            assert!(is_sorted(&v), "sort16 fails on {bits:#b}");
        }
        // sort_padded16: the first `pop` slots hold items, the rest padding
        // (+infinity, which plays the part of a one that sorts last)
        for pop in 0..=16usize {
            for bits in 0u32..(1 << pop) {
                let mut v: [f64; 16] = std::array::from_fn(|i| {
                    if i < pop {
                        f64::from((bits >> i) & 1)
                    } else {
                        f64::INFINITY
                    }
                });
                sort_padded16(&mut v, pop);
                assert!(is_sorted(&v), "sort_padded16 fails on {pop}/{bits:#b}");
            }
        }
        // merge networks: every pair of sorted 0-1 halves
        for ones_a in 0..=8 {
            for ones_b in 0..=8 {
                let mut v: [f64; 16] = std::array::from_fn(|i| {
                    let (pos, ones) = if i < 8 { (i, ones_a) } else { (i - 8, ones_b) };
                    f64::from(u8::from(pos >= 8 - ones))
                });
                merge8x8(&mut v);
                assert!(is_sorted(&v), "merge8x8 fails on {ones_a}/{ones_b}");
            }
        }
        for ones_a in 0..=16 {
            for ones_b in 0..=16 {
                let mut v: [f64; 32] = std::array::from_fn(|i| {
                    let (pos, ones) = if i < 16 {
                        (i, ones_a)
                    } else {
                        (i - 16, ones_b)
                    };
                    f64::from(u8::from(pos >= 16 - ones))
                });
                merge16x16(&mut v);
                assert!(is_sorted(&v), "merge16x16 fails on {ones_a}/{ones_b}");
            }
        }
    }

    #[test]
    fn sort_items_and_halve_and_merge_match_a_naive_reference() {
        let mut rng = TestRng(11);
        for len in 0..=70usize {
            for _ in 0..20 {
                let mut v: Vec<f64> = (0..len).map(|_| (rng.below(20) as f64) - 5.0).collect();
                let mut expected = v.clone();
                expected.sort_by(f64::total_cmp);
                sort_items(&mut v);
                assert_eq!(v, expected, "sort_items at len {len}");
            }
        }
        let mut scratch = Vec::new();
        for pop in (0..=70usize).step_by(2) {
            for above in [0usize, 1, 5, 8, 9, 16, 17, 40] {
                for offset in 0..2 {
                    for sort in [false, true] {
                        let lead = rng.below(4) as usize;
                        let mut part: Vec<f64> = (0..pop).map(|_| rng.unit()).collect();
                        if !sort {
                            part.sort_by(f64::total_cmp);
                        }
                        let mut up: Vec<f64> = (0..above).map(|_| rng.unit()).collect();
                        up.sort_by(f64::total_cmp);
                        let mut buf = vec![-1.0; lead];
                        buf.extend_from_slice(&part);
                        buf.extend_from_slice(&up);
                        let lim = buf.len();

                        let mut sorted_part = part.clone();
                        sorted_part.sort_by(f64::total_cmp);
                        let mut expected: Vec<f64> = sorted_part
                            .iter()
                            .skip(offset)
                            .step_by(2)
                            .copied()
                            .collect();
                        expected.truncate(pop / 2);
                        expected.extend_from_slice(&up);
                        expected.sort_by(f64::total_cmp);

                        halve_and_merge(&mut buf, &mut scratch, lead, pop, lim, sort, offset);
                        assert_eq!(
                            &buf[lead + pop / 2..],
                            &expected[..],
                            "pop {pop} above {above} offset {offset} sort {sort}"
                        );
                        assert!(buf[..lead].iter().all(|&x| x == -1.0));
                    }
                }
            }
        }
    }

    #[test]
    fn level_capacities_follow_datasketches() {
        // k = 200: 200, 133, 89, 59, 40, 26, 18, 12, then the floor m = 8
        let caps: Vec<u32> = (0..10).rev().map(|h| level_capacity(200, 10, h)).collect();
        assert_eq!(caps, [200, 133, 89, 59, 40, 26, 18, 12, 8, 8]);
        assert_eq!(total_capacity(200, 1), 200);
        // datasketches-python reports capacity 422 for 3 levels at k = 200
        assert_eq!(total_capacity(200, 3), 422);
        assert_eq!(level_capacity(8, 1, 0), 8);
        // deep levels never exceed depth 60 in the integer formula
        assert_eq!(level_capacity(65535, 64, 0), 8);
        assert_eq!(ub_on_num_levels(0), 1);
        assert_eq!(ub_on_num_levels(1), 1);
        assert_eq!(ub_on_num_levels(1000), 10);
        assert_eq!(ub_on_num_levels(u64::MAX), 64);
    }

    #[test]
    fn normalized_rank_error_constants() {
        assert!((normalized_rank_error(200, false) - 0.013294757464848584).abs() < 1e-15);
        assert!((normalized_rank_error(200, true) - 0.01651561908528982).abs() < 1e-15);
        let s = KllSketch::<f64>::new(200).unwrap();
        assert_eq!(
            s.normalized_rank_error(false),
            normalized_rank_error(200, false)
        );
    }

    // ---------------------------------------------------------------------
    // API behaviour

    #[test]
    fn k_range_and_empty_sketch_policy() {
        assert!(unwrap_invalid(KllSketch::<f64>::new(7)).contains("k must be"));
        assert!(KllSketch::<f64>::new(8).is_ok());
        assert!(KllSketch::<f32>::new(u16::MAX).is_ok());
        assert_eq!(KllSketch::<f64>::DEFAULT_K, 200);

        let s = KllSketch::<f64>::new(200).unwrap();
        assert!(s.is_empty());
        assert!(!s.is_estimation_mode());
        assert_eq!((s.n(), s.num_retained(), s.k()), (0, 0, 200));
        assert_eq!((s.min_item(), s.max_item()), (None, None));
        assert_eq!(unwrap_invalid(s.quantile(0.5, true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.quantile(7.0, true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.cdf(&[2.0, 1.0], true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.quantiles(&[0.5], true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.rank(1.0, true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.ranks(&[1.0], false)), "empty sketch");
        assert_eq!(unwrap_invalid(s.cdf(&[1.0], true)), "empty sketch");
        assert_eq!(unwrap_invalid(s.pmf(&[1.0], true)), "empty sketch");
    }

    #[test]
    fn invalid_query_arguments() {
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        s.update_slice(&[1.0, 2.0, 3.0]);
        for r in [-0.1, 1.0000001, f64::NAN, f64::INFINITY] {
            unwrap_invalid(s.quantile(r, true));
            unwrap_invalid(s.quantiles(&[0.5, r], false));
        }
        unwrap_invalid(s.rank(f64::NAN, true));
        unwrap_invalid(s.ranks(&[1.0, f64::NAN], true));
        for bad in [&[1.0, 1.0][..], &[2.0, 1.0], &[1.0, f64::NAN], &[f64::NAN]] {
            unwrap_invalid(s.cdf(bad, true));
            unwrap_invalid(s.pmf(bad, false));
        }
        assert_eq!(s.cdf(&[], true).unwrap(), vec![1.0]);
        assert_eq!(s.pmf(&[], true).unwrap(), vec![1.0]);
    }

    #[test]
    fn nan_is_ignored_and_infinities_are_items() {
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        s.update(f64::NAN);
        assert!(s.is_empty());
        s.update_slice(&[f64::NAN, 2.0, f64::NEG_INFINITY, f64::NAN, f64::INFINITY]);
        assert_eq!(s.n(), 3);
        assert_eq!(s.min_item(), Some(f64::NEG_INFINITY));
        assert_eq!(s.max_item(), Some(f64::INFINITY));
        assert_eq!(s.quantile(0.5, true).unwrap(), 2.0);
        assert_eq!(s.rank(f64::INFINITY, true).unwrap(), 1.0);
        assert_eq!(s.rank(f64::INFINITY, false).unwrap(), 2.0 / 3.0);
        let json = s.to_json();
        assert_eq!(json["min"], "-inf");
        assert_eq!(json["max"], "inf");

        let mut only_nan = KllSketch::<f32>::with_seed(8, 1).unwrap();
        only_nan.update_slice(&[f32::NAN; 5000]);
        assert!(only_nan.is_empty());
    }

    #[test]
    fn update_slice_equals_item_by_item_updates() {
        let mut rng = TestRng(5);
        let data: Vec<f64> = (0..50_000)
            .map(|i| {
                if i % 997 == 0 {
                    f64::NAN
                } else {
                    rng.unit() * 100.0
                }
            })
            .collect();
        for k in [8u16, 200, 1000] {
            let mut a = KllSketch::<f64>::with_seed(k, 99).unwrap();
            let mut b = KllSketch::<f64>::with_seed(k, 99).unwrap();
            for &x in &data {
                a.update(x);
            }
            // uneven pieces exercise the block boundaries
            for piece in data.chunks(3001) {
                b.update_slice(piece);
            }
            assert_eq!(a, b, "k = {k}");
            assert_eq!(a.serialize(), b.serialize());
            assert_eq!(a.n(), 50_000 - 51);
        }
    }

    #[test]
    fn bulk_queries_equal_single_queries_and_follow_updates() {
        let mut rng = TestRng(11);
        for (n, dups) in [(5usize, false), (150, true), (3000, false), (200_000, true)] {
            let mut s = KllSketch::<f64>::with_seed(200, 5).unwrap();
            let data: Vec<f64> = (0..n)
                .map(|_| {
                    if dups {
                        rng.below(50) as f64
                    } else {
                        rng.unit() * 100.0
                    }
                })
                .collect();
            s.update_slice(&data);
            let mut ranks: Vec<f64> = (0..500).map(|_| rng.unit()).collect();
            ranks.extend([0.0, 1.0, 0.5, 0.5]);
            let mut items: Vec<f64> = (0..500).map(|_| rng.unit() * 110.0 - 5.0).collect();
            items.extend([-1.0, 0.0, 49.0, 101.0]);
            for sorted in [false, true] {
                if sorted {
                    ranks.sort_by(f64::total_cmp);
                    items.sort_by(f64::total_cmp);
                }
                for inclusive in [true, false] {
                    let q = s.quantiles(&ranks, inclusive).unwrap();
                    for (&r, &x) in ranks.iter().zip(&q) {
                        assert_eq!(x, s.quantile(r, inclusive).unwrap(), "n {n} r {r}");
                    }
                    let rk = s.ranks(&items, inclusive).unwrap();
                    for (&x, &r) in items.iter().zip(&rk) {
                        assert_eq!(r, s.rank(x, inclusive).unwrap(), "n {n} x {x}");
                        let view = SortedView::new(&s);
                        assert_eq!(r, view.rank(x, inclusive));
                    }
                }
            }
            // the cached view follows every update and merge
            let before = s.rank(50.0, true).unwrap();
            s.update_slice(&vec![1000.0; n]);
            let after = s.rank(50.0, true).unwrap();
            assert!((after - before / 2.0).abs() < 0.05, "{before} {after}");
            s.update(-1000.0);
            assert_eq!(s.quantile(0.0, true).unwrap(), -1000.0);
            let mut other = KllSketch::<f64>::with_seed(200, 6).unwrap();
            other.update(-2000.0);
            s.merge(&other).unwrap();
            assert_eq!(s.quantile(0.0, true).unwrap(), -2000.0);
            assert_eq!(s.max_item(), Some(1000.0));
        }
    }

    #[test]
    fn exact_mode_quantiles_are_the_inverted_cdf_of_the_input() {
        let mut rng = TestRng(3);
        for n in [1usize, 2, 3, 7, 10, 64, 150, 199, 200] {
            // duplicates on purpose
            let data: Vec<f64> = (0..n).map(|_| (rng.below(40) as f64) * 0.5).collect();
            let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
            s.update_slice(&data);
            assert!(!s.is_estimation_mode());
            let mut sorted = data.clone();
            sorted.sort_by(f64::total_cmp);
            let nf = n as f64;
            let count_le = |x: f64| sorted.iter().filter(|&&y| y <= x).count();
            let count_lt = |x: f64| sorted.iter().filter(|&&y| y < x).count();
            let mut ranks: Vec<f64> = vec![0.0, 1.0, 0.5, 0.25, 0.75, 1e-9, 1.0 - 1e-9];
            ranks.extend((0..50).map(|_| rng.unit()));
            ranks.extend((0..=n).map(|i| i as f64 / nf));
            for &r in &ranks {
                // inclusive: the first item whose count of items <= it reaches
                // r * n (the inverted CDF, with r * n as DataSketches rounds it)
                let incl = *sorted
                    .iter()
                    .find(|&&x| count_le(x) as f64 >= r * nf)
                    .unwrap_or(sorted.last().unwrap());
                // exclusive: the first item whose count of items <= it exceeds r * n
                let excl = *sorted
                    .iter()
                    .find(|&&x| count_le(x) as f64 > r * nf)
                    .unwrap_or(sorted.last().unwrap());
                assert_eq!(s.quantile(r, true).unwrap(), incl, "n {n} r {r} inclusive");
                assert_eq!(s.quantile(r, false).unwrap(), excl, "n {n} r {r} exclusive");
            }
            let batch = s.quantiles(&ranks, true).unwrap();
            for (q, &r) in batch.iter().zip(&ranks) {
                assert_eq!(*q, s.quantile(r, true).unwrap());
            }
            for probe in [-1.0, 0.0, 0.5, 3.25, 10.0, 19.5, 100.0] {
                assert_eq!(s.rank(probe, true).unwrap(), count_le(probe) as f64 / nf);
                assert_eq!(s.rank(probe, false).unwrap(), count_lt(probe) as f64 / nf);
            }
            assert_eq!(s.min_item(), sorted.first().copied());
            assert_eq!(s.max_item(), sorted.last().copied());
        }
    }

    #[test]
    fn cdf_and_pmf_are_consistent() {
        let mut s = KllSketch::<f32>::with_seed(100, 8).unwrap();
        let data: Vec<f32> = (0..10_000).map(|i| ((i * 37) % 1000) as f32).collect();
        s.update_slice(&data);
        let splits = [100.0f32, 250.0, 500.0, 999.0];
        for inclusive in [true, false] {
            let cdf = s.cdf(&splits, inclusive).unwrap();
            let pmf = s.pmf(&splits, inclusive).unwrap();
            assert_eq!(cdf.len(), splits.len() + 1);
            assert_eq!(pmf.len(), splits.len() + 1);
            assert_eq!(*cdf.last().unwrap(), 1.0);
            assert!(cdf.windows(2).all(|w| w[0] <= w[1]));
            assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (i, &x) in splits.iter().enumerate() {
                assert_eq!(cdf[i], s.rank(x, inclusive).unwrap());
            }
            // true cdf at 500 is 0.5 (inclusive 0.501); the sketch is within epsilon
            assert!((cdf[2] - 0.5).abs() < s.normalized_rank_error(false) + 0.001);
        }
    }

    #[test]
    fn merge_semantics() {
        // empty into empty, empty into non-empty and back
        let mut a = KllSketch::<f64>::with_seed(200, 1).unwrap();
        let empty = KllSketch::<f64>::with_seed(100, 2).unwrap();
        a.merge(&empty).unwrap();
        assert!(a.is_empty());
        let mut b = KllSketch::<f64>::with_seed(200, 3).unwrap();
        b.update_slice(&[5.0, 1.0, 9.0]);
        a.merge(&b).unwrap();
        assert_eq!(
            (a.n(), a.min_item(), a.max_item()),
            (3, Some(1.0), Some(9.0))
        );
        let before = a.serialize();
        a.merge(&empty).unwrap();
        assert_eq!(a.serialize(), before);

        // different k: the result keeps its k; min_k takes an estimation-mode
        // input's smaller k, and an exact-mode input's k is irrelevant
        let mut small_exact = KllSketch::<f64>::with_seed(50, 4).unwrap();
        small_exact.update_slice(&[1.0, 2.0]);
        let mut big = KllSketch::<f64>::with_seed(400, 5).unwrap();
        big.merge(&small_exact).unwrap();
        assert_eq!((big.k(), big.min_k()), (400, 400));
        let mut small_est = KllSketch::<f64>::with_seed(50, 6).unwrap();
        let data: Vec<f64> = (0..100_000).map(f64::from).collect();
        small_est.update_slice(&data);
        big.merge(&small_est).unwrap();
        assert_eq!((big.k(), big.min_k()), (400, 50));
        assert_eq!(big.n(), 100_002);
        assert_eq!(
            big.normalized_rank_error(false),
            normalized_rank_error(50, false)
        );
        assert_eq!(big.total_weight(), u128::from(big.n()));
        // a larger-k estimation sketch merged into a small-k one must end
        // within the small sketch's capacity
        let mut tiny = KllSketch::<f64>::with_seed(8, 7).unwrap();
        let mut large = KllSketch::<f64>::with_seed(2000, 8).unwrap();
        large.update_slice(&data);
        tiny.merge(&large).unwrap();
        assert_eq!(tiny.n(), 100_000);
        assert!(tiny.num_retained() <= total_capacity(8, tiny.num_levels()));
        let back = KllSketch::<f64>::deserialize(&tiny.serialize()).unwrap();
        assert_eq!(back, tiny);
        let median = tiny.quantile(0.5, true).unwrap();
        // k = 8 is coarse: a loose sanity bound only
        assert!((median - 50_000.0).abs() < 25_000.0, "median {median}");
    }

    #[test]
    fn clones_are_equal_but_draw_their_own_compaction_offsets() {
        let mut s = KllSketch::<f64>::with_seed(16, 42).unwrap();
        s.update_slice(&(0..1000).map(f64::from).collect::<Vec<_>>());
        let mut c1 = s.clone();
        let mut c2 = s.clone();
        assert_eq!(c1, s);
        let more: Vec<f64> = (0..20_000).map(|i| f64::from(i % 777)).collect();
        c1.update_slice(&more);
        c2.update_slice(&more);
        assert_ne!(c1, c2, "clones must not share compaction offsets");
        // but a seeded sketch's clones are reproducible
        let mut t = KllSketch::<f64>::with_seed(16, 42).unwrap();
        t.update_slice(&(0..1000).map(f64::from).collect::<Vec<_>>());
        let mut d1 = t.clone();
        d1.update_slice(&more);
        assert_eq!(d1, c1);
    }

    #[test]
    fn json_summary() {
        let mut s = KllSketch::<f32>::with_seed(200, 1).unwrap();
        s.update_slice(&(1..=1000).map(|i| i as f32).collect::<Vec<_>>());
        let j = s.to_json();
        assert_eq!(j["item_type"], "f32");
        assert_eq!(j["k"], 200);
        assert_eq!(j["n"], 1000);
        assert_eq!(j["min"], 1.0);
        assert_eq!(j["max"], 1000.0);
        assert_eq!(j["estimation_mode"], true);
        assert_eq!(j["num_retained"], s.num_retained());
        let sizes: u64 = j["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum();
        assert_eq!(sizes, u64::from(s.num_retained()));
        assert!((j["normalized_rank_error"].as_f64().unwrap() - 0.013294757).abs() < 1e-8);
        let e = KllSketch::<f64>::new(8).unwrap().to_json();
        assert_eq!(e["min"], serde_json::Value::Null);
        assert_eq!(e["is_empty"], true);
    }

    // ---------------------------------------------------------------------
    // Accuracy

    /// Largest |estimated - true| inclusive rank over every distinct input
    /// value: both rank functions are step functions that only change at
    /// input values, so this is the maximum over all queries.
    fn max_rank_error(s: &KllSketch<f64>, data: &[f64]) -> f64 {
        let mut sorted = data.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let mut values = Vec::new();
        let mut true_ranks = Vec::new();
        for (i, &x) in sorted.iter().enumerate() {
            if i + 1 == sorted.len() || sorted[i + 1] != x {
                values.push(x);
                true_ranks.push((i + 1) as f64 / n);
            }
        }
        let est = s.ranks(&values, true).unwrap();
        est.iter()
            .zip(&true_ranks)
            .map(|(e, t)| (e - t).abs())
            .fold(0.0, f64::max)
    }

    /// P(X > c) for X ~ Binomial(n, p).
    fn binomial_upper_tail(n: u64, p: f64, c: u64) -> f64 {
        let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
        let mut cdf = term;
        for i in 1..=c {
            term *= (n - i + 1) as f64 / i as f64 * p / (1.0 - p);
            cdf += term;
        }
        1.0 - cdf
    }

    #[test]
    fn rank_error_stays_within_the_99_percent_bound() {
        const K: u16 = 200;
        const N: usize = 20_000;
        const SEEDS: u64 = 40;
        let eps = normalized_rank_error(K, false);
        let mut trials = 0u64;
        let mut failures = 0u64;
        let mut worst = 0.0f64;
        for seed in 0..SEEDS {
            let mut rng = TestRng(1000 + seed);
            let uniform: Vec<f64> = (0..N).map(|_| rng.unit()).collect();
            let mut ascending = uniform.clone();
            ascending.sort_by(f64::total_cmp);
            let descending: Vec<f64> = ascending.iter().rev().copied().collect();
            let duplicates: Vec<f64> = (0..N).map(|_| rng.below(30) as f64).collect();
            let mut runs: Vec<(Vec<f64>, Option<usize>)> = vec![
                (uniform, None),
                (ascending, None),
                (descending, None),
                (duplicates, None),
            ];
            // a stream cut into 100 partial sketches and merged
            let merged: Vec<f64> = (0..100 * 1000).map(|_| rng.unit().powi(3)).collect();
            runs.push((merged, Some(1000)));
            for (i, (data, parts)) in runs.into_iter().enumerate() {
                let sketch_seed = seed * 100 + i as u64;
                let s = match parts {
                    None => {
                        let mut s = KllSketch::<f64>::with_seed(K, sketch_seed).unwrap();
                        s.update_slice(&data);
                        s
                    }
                    Some(len) => {
                        let mut total = KllSketch::<f64>::with_seed(K, sketch_seed).unwrap();
                        for (j, part) in data.chunks(len).enumerate() {
                            let mut p =
                                KllSketch::<f64>::with_seed(K, sketch_seed * 1000 + j as u64)
                                    .unwrap();
                            p.update_slice(part);
                            total.merge(&p).unwrap();
                        }
                        assert_eq!(total.n(), data.len() as u64);
                        total
                    }
                };
                assert!(s.is_estimation_mode());
                let err = max_rank_error(&s, &data);
                worst = worst.max(err);
                trials += 1;
                if err > eps {
                    failures += 1;
                }
            }
        }
        // Each trial exceeds epsilon with probability at most 1% if the
        // sketch meets its guarantee. Allow the smallest number of failures
        // c with P(Binomial(trials, 0.01) > c) <= 1%, so a correct sketch
        // fails this test with probability below 1% (for 200 trials c = 6,
        // tail 0.43%), while a sketch twice as bad fails nearly every trial.
        let mut allowed = 0;
        while binomial_upper_tail(trials, 0.01, allowed) > 0.01 {
            allowed += 1;
        }
        assert_eq!((trials, allowed), (200, 6));
        assert!(
            failures <= allowed,
            "{failures} of {trials} trials exceeded eps = {eps} (worst {worst})"
        );
        assert!(worst > 0.0);
    }

    // ---------------------------------------------------------------------
    // Images: DataSketches fixtures

    use crate::test_fixtures::fixtures_dir;

    fn check_fixture<T: KllItem>(path: &std::path::Path, n: u64) {
        let bytes = std::fs::read(path).unwrap();
        let name = path.display();
        let s = KllSketch::<T>::deserialize(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.n(), n, "{name}");
        assert_eq!(s.k(), 200, "{name}");
        let re = s.serialize();
        // datasketches-python re-serializes every one of these byte for byte
        assert_eq!(re, bytes, "{name}: re-serialization differs");
        let back = KllSketch::<T>::deserialize(&re).unwrap();
        assert_eq!(back, s, "{name}");
        assert_eq!(back.serialize(), re, "{name}");
        if n == 0 {
            assert!(s.is_empty());
            return;
        }
        assert_eq!(s.min_item().unwrap().to_f64(), 1.0, "{name}");
        assert_eq!(s.max_item().unwrap().to_f64(), n as f64, "{name}");
        let median = s.quantile(0.5, true).unwrap().to_f64();
        // the true (inverted-CDF) median of 1..=n is ceil(n / 2); items are
        // their own ranks times n, so the rank error is the distance / n
        let true_median = (n as f64 * 0.5).ceil();
        let rank_err = (median - true_median).abs() / n as f64;
        assert!(
            rank_err <= s.normalized_rank_error(false),
            "{name}: median {median} is off by rank {rank_err}"
        );
        assert_eq!(s.is_estimation_mode(), n > 200, "{name}");
    }

    #[test]
    fn reads_every_datasketches_kll_fixture() {
        let dir = fixtures_dir();
        let mut seen = 0;
        for lang in ["java", "cpp"] {
            let mut entries: Vec<_> = std::fs::read_dir(dir.join(lang))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for path in entries {
                let file = path.file_name().unwrap().to_str().unwrap().to_owned();
                let Some(rest) = file.strip_prefix("kll_") else {
                    continue;
                };
                let (ty, rest) = rest.split_once("_n").unwrap();
                let n: u64 = rest.split_once('_').unwrap().0.parse().unwrap();
                match ty {
                    "double" => check_fixture::<f64>(&path, n),
                    "float" => check_fixture::<f32>(&path, n),
                    _ => continue,
                }
                seen += 1;
            }
        }
        // 8 sizes x {float, double} x {java, cpp}
        assert_eq!(seen, 32);
    }

    // ---------------------------------------------------------------------
    // Images: byte compatibility with datasketches-python 5.2.0
    //
    // Regenerate with /work/venv/bin/python (datasketches 5.2.0):
    //
    //   from datasketches import kll_doubles_sketch, kll_floats_sketch
    //   def x(i): return ((i * 7919 + 13) % 1009) / 8.0 - 20.0
    //   def build(cls, k, lo, hi):
    //       s = cls(k)
    //       for i in range(lo, hi): s.update(x(i))
    //       return s
    //   EMPTY_K200 = kll_doubles_sketch(200).serialize()
    //   s = kll_doubles_sketch(200); s.update(42.5); SINGLE_K200 = s.serialize()
    //   EXACT_K200_N150 = build(kll_doubles_sketch, 200, 0, 150).serialize()
    //   FULL_K8_N8 = build(kll_doubles_sketch, 8, 0, 8).serialize()
    //   FLOAT_EXACT_K100_N60 = build(kll_floats_sketch, 100, 0, 60).serialize()
    //   a = build(kll_doubles_sketch, 200, 0, 50)
    //   a.merge(build(kll_doubles_sketch, 200, 50, 120)); MERGED_EXACT_K200 = a.serialize()
    //   est = build(kll_doubles_sketch, 64, 0, 2000); EST_K64_N2000 = est.serialize()
    //   # expected answers: sk.get_quantile(r, incl), sk.get_rank(v, incl),
    //   # sk.get_cdf(splits, incl), sk.get_pmf(splits, incl) for RANKS / SPLITS below
    //
    // Every image is serialized before any query (a query sorts level 0 in
    // DataSketches and sets the sorted flag).

    fn x(i: usize) -> f64 {
        ((i * 7919 + 13) % 1009) as f64 / 8.0 - 20.0
    }

    fn build_f64(k: u16, range: std::ops::Range<usize>) -> KllSketch<f64> {
        let mut s = KllSketch::<f64>::with_seed(k, 77).unwrap();
        for i in range {
            s.update(x(i));
        }
        s
    }

    const EMPTY_K200: &str = "02010f01c8000800";
    const SINGLE_K200: &str = "02020f04c80008000000000000404540";
    const EXACT_K200_N150: &str = concat!(
        "05010f00c80008009600000000000000c8000100320000000000000000e033c00000000000705a400000000000704040",
        "0000000000004a400000000000c8514000000000009056400000000000c030c000000000000003400000000000803540",
        "00000000005044400000000000e04d400000000000b85340000000000080584000000000000022c00000000000402440",
        "0000000000403d4000000000003048400000000000e050400000000000a855400000000000705a40000000000000f4bf",
        "0000000000e0314000000000008042400000000000104c400000000000d05240000000000098574000000000004029c0",
        "0000000000001a400000000000a0394000000000006046400000000000f04f400000000000c054400000000000885940",
        "00000000008013c00000000000802c400000000000b040400000000000404a400000000000e851400000000000b05640",
        "00000000004030c00000000000000740000000000000364000000000009044400000000000204e400000000000d85340",
        "0000000000a0584000000000000021c000000000004025400000000000c03d4000000000007048400000000000005140",
        "0000000000c855400000000000e033c0000000000000e8bf00000000006032400000000000c042400000000000504c40",
        "0000000000f052400000000000b8574000000000004028c00000000000001c400000000000203a400000000000a04640",
        "00000000001850400000000000e054400000000000a8594000000000008011c00000000000802d400000000000f04040",
        "0000000000804a4000000000000852400000000000d056400000000000802fc00000000000000b400000000000803640",
        "0000000000d044400000000000604e400000000000f853400000000000c0584000000000000020c00000000000402640",
        "0000000000403e400000000000b0484000000000002051400000000000e8554000000000006033c0000000000000d0bf",
        "0000000000e0324000000000000043400000000000904c4000000000001053400000000000d8574000000000004027c0",
        "0000000000001e400000000000a03a400000000000e04640000000000038504000000000000055400000000000c85940",
        "0000000000000fc00000000000802e4000000000003041400000000000c04a4000000000002852400000000000f05640",
        "0000000000802ec00000000000000f40000000000000374000000000001045400000000000a04e400000000000185440",
        "0000000000e058400000000000001ec000000000004027400000000000c03e400000000000f048400000000000405140",
        "00000000000856400000000000e032c0000000000000d03f000000000060334000000000004043400000000000d04c40",
        "00000000003053400000000000f8574000000000004026c000000000000020400000000000203b400000000000204740",
        "000000000058504000000000002055400000000000e859400000000000000bc00000000000802f400000000000704140",
        "0000000000004b40000000000048524000000000001057400000000000802dc000000000008011400000000000803740",
        "00000000005045400000000000e04e40000000000038544000000000000059400000000000001cc00000000000402840",
        "0000000000403f4000000000003049400000000000605140000000000028564000000000006032c0",
    );
    const FULL_K8_N8: &str = concat!(
        "05010f00080008000800000000000000080001000000000000000000006032c000000000000059400000000000005940",
        "0000000000001cc000000000004028400000000000403f40000000000030494000000000006051400000000000285640",
        "00000000006032c0",
    );
    const FLOAT_EXACT_K100_N60: &str = concat!(
        "05010f00640008003c000000000000006400010028000000000097c10040cf4200003ac10000f0400000d54100003742",
        "00c081420000a8420040ce42000078c0000074410080094200005642004091420080b742000074c1000078400000b841",
        "008028420000754200c0a0420000c7420000f0c000003a410000f6410080474200008a420040b042000097c10000803e",
        "00009b4100001a42008066420080994200c0bf42000032c1000000410000d9410000394200c082420000a9420040cf42",
        "000058c000007c4100800b4200005842004092420080b84200006cc100008c400000bc4100802a420000774200c0a142",
        "0000c8420000e0c0000042410000fa410080494200008b420040b142000093c1",
    );
    const MERGED_EXACT_K200: &str = concat!(
        "05010f00c80008007800000000000000c8000100500000000000000000e033c00000000000e859400000000000304140",
        "0000000000802e400000000000000fc00000000000c85940000000000000554000000000003850400000000000e04640",
        "0000000000a03a400000000000001e4000000000004027c00000000000d8574000000000001053400000000000904c40",
        "00000000000043400000000000e03240000000000000d0bf00000000006033c00000000000e855400000000000205140",
        "0000000000b048400000000000403e40000000000040264000000000000020c00000000000c058400000000000f85340",
        "0000000000604e400000000000d0444000000000008036400000000000000b400000000000802fc00000000000d05640",
        "00000000000852400000000000804a400000000000f040400000000000802d4000000000008011c00000000000a85940",
        "0000000000e0544000000000001850400000000000a046400000000000203a400000000000001c4000000000004028c0",
        "0000000000b857400000000000f052400000000000504c400000000000c042400000000000603240000000000000e8bf",
        "0000000000e033c00000000000c85540000000000000514000000000007048400000000000c03d400000000000402540",
        "00000000000021c00000000000a058400000000000d853400000000000204e4000000000009044400000000000003640",
        "000000000000074000000000004030c00000000000b056400000000000e851400000000000404a400000000000b04040",
        "0000000000802c4000000000008013c000000000008859400000000000c04a4000000000002852400000000000f05640",
        "0000000000802ec00000000000000f40000000000000374000000000001045400000000000a04e400000000000185440",
        "0000000000e058400000000000001ec000000000004027400000000000c03e400000000000f048400000000000405140",
        "00000000000856400000000000e032c0000000000000d03f000000000060334000000000004043400000000000d04c40",
        "00000000003053400000000000f8574000000000004026c000000000000020400000000000203b400000000000204740",
        "000000000058504000000000002055400000000000e859400000000000000bc00000000000802f400000000000704140",
        "0000000000004b40000000000048524000000000001057400000000000802dc000000000008011400000000000803740",
        "00000000005045400000000000e04e40000000000038544000000000000059400000000000001cc00000000000402840",
        "0000000000403f4000000000003049400000000000605140000000000028564000000000006032c0",
    );
    const EST_K64_N2000: &str = concat!(
        "05010f0040000800d0070000000000004000060001000000090000004d00000057000000800000008100000000000000",
        "000034c00000000000805a4000000000003057400000000000802cc00000000000801340000000000000384000000000",
        "009045400000000000204f400000000000585440000000000020594000000000000034c00000000000e031c000000000",
        "006030c00000000000c02fc00000000000802bc000000000008029c000000000004021c00000000000001ac000000000",
        "000018c000000000000016c0000000000000febf000000000000ecbf000000000000fc3f000000000000024000000000",
        "0080174000000000000022400000000000002340000000000000244000000000000025400000000000402c4000000000",
        "00c030400000000000c03140000000000040324000000000006034400000000000e03540000000000080384000000000",
        "008039400000000000203d400000000000a03d400000000000c03f400000000000a040400000000000f0414000000000",
        "0070424000000000008044400000000000d0454000000000005046400000000000904640000000000020484000000000",
        "007049400000000000b049400000000000304a400000000000004c400000000000404c400000000000904d4000000000",
        "00104e400000000000e04f4000000000009850400000000000d850400000000000f85040000000000080514000000000",
        "00e0514000000000008852400000000000c852400000000000d0534000000000007854400000000000b8544000000000",
        "00d854400000000000a05540000000000048564000000000006856400000000000a85640000000000090574000000000",
        "00b057400000000000585840000000000098584000000000008059400000000000285a400000000000685a4000000000",
        "00c02ec000000000000010c00000000000801d4000000000006036400000000000e040400000000000c0444000000000",
        "00b04a4000000000000052400000000000f053400000000000e8564000000000006033c000000000008032c000000000",
        "00002fc00000000000002dc00000000000c026c00000000000801ec00000000000000dc0000000000000e03f00000000",
        "0000114000000000000019400000000000c022400000000000c025400000000000002e400000000000c0334000000000",
        "00c035400000000000c037400000000000003e400000000000a03e400000000000e04140000000000060424000000000",
        "006043400000000000c045400000000000404640000000000010494000000000006049400000000000b04b4000000000",
        "00804e400000000000904e40000000000068504000000000009851400000000000f851400000000000c0524000000000",
        "00c8534000000000003054400000000000d0544000000000003855400000000000185640000000000068574000000000",
        "0050584000000000009859400000000000f859400000000000c032c00000000000c031c00000000000802dc000000000",
        "000029c000000000000023c00000000000801bc00000000000000fc0000000000000d0bf000000000000f23f00000000",
        "000009400000000000801e40000000000000214000000000008027400000000000a03040000000000060324000000000",
        "0040354000000000000037400000000000c03a400000000000403c400000000000004040000000000030414000000000",
        "0040424000000000002044400000000000a0444000000000003046400000000000c047400000000000e0484000000000",
        "00204a400000000000804b400000000000a04c400000000000204e4000000000000850400000000000e0504000000000",
        "004851400000000000f05140000000000090524000000000003853400000000000d853400000000000a8544000000000",
        "006055400000000000d055400000000000f0564000000000001057400000000000d857400000000000c8584000000000",
        "008859400000000000205a40",
    );

    const RANKS: [f64; 12] = [
        0.0, 0.001, 0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0,
    ];
    const SPLITS: [f64; 6] = [-15.0, -3.125, 0.0, 7.5, 33.0, 90.0];

    struct Expected {
        q_incl: [f64; 12],
        q_excl: [f64; 12],
        r_incl: [f64; 6],
        r_excl: [f64; 6],
        pmf_incl: [f64; 7],
        pmf_excl: [f64; 7],
    }

    const EXACT_ANSWERS: Expected = Expected {
        q_incl: [
            -19.875, -19.875, -19.375, -8.5, 11.125, 17.875, 42.125, 73.125, 91.75, 103.625,
            105.75, 105.75,
        ],
        q_excl: [
            -19.875, -19.875, -19.375, -8.0, 11.125, 18.375, 42.625, 73.125, 92.25, 103.625,
            105.75, 105.75,
        ],
        r_incl: [
            0.05333333333333334,
            0.14666666666666667,
            0.16666666666666666,
            0.22666666666666666,
            0.42,
            0.8733333333333333,
        ],
        r_excl: [
            0.05333333333333334,
            0.14666666666666667,
            0.16666666666666666,
            0.22,
            0.42,
            0.8733333333333333,
        ],
        pmf_incl: [
            0.05333333333333334,
            0.09333333333333332,
            0.01999999999999999,
            0.06,
            0.19333333333333333,
            0.4533333333333333,
            0.1266666666666667,
        ],
        pmf_excl: [
            0.05333333333333334,
            0.09333333333333332,
            0.01999999999999999,
            0.053333333333333344,
            0.19999999999999998,
            0.4533333333333333,
            0.1266666666666667,
        ],
    };

    const EST_ANSWERS: Expected = Expected {
        q_incl: [
            -20.0, -20.0, -18.75, -9.5, 9.375, 18.375, 41.25, 74.25, 92.25, 104.5, 104.625, 105.625,
        ],
        q_excl: [
            -20.0, -19.375, -18.75, -9.5, 9.375, 18.375, 41.25, 74.25, 92.25, 104.5, 105.625,
            105.625,
        ],
        r_incl: [0.042, 0.1465, 0.1645, 0.214, 0.4235, 0.877],
        r_excl: [0.042, 0.1465, 0.1645, 0.214, 0.4235, 0.877],
        pmf_incl: [
            0.042,
            0.10449999999999998,
            0.018000000000000016,
            0.04949999999999999,
            0.2095,
            0.4535,
            0.123,
        ],
        pmf_excl: [
            0.042,
            0.10449999999999998,
            0.018000000000000016,
            0.04949999999999999,
            0.2095,
            0.4535,
            0.123,
        ],
    };

    fn check_answers(s: &KllSketch<f64>, e: &Expected) {
        assert_eq!(s.quantiles(&RANKS, true).unwrap(), e.q_incl);
        assert_eq!(s.quantiles(&RANKS, false).unwrap(), e.q_excl);
        assert_eq!(s.ranks(&SPLITS, true).unwrap(), e.r_incl);
        assert_eq!(s.ranks(&SPLITS, false).unwrap(), e.r_excl);
        let mut cdf_incl = e.r_incl.to_vec();
        cdf_incl.push(1.0);
        let mut cdf_excl = e.r_excl.to_vec();
        cdf_excl.push(1.0);
        assert_eq!(s.cdf(&SPLITS, true).unwrap(), cdf_incl);
        assert_eq!(s.cdf(&SPLITS, false).unwrap(), cdf_excl);
        assert_eq!(s.pmf(&SPLITS, true).unwrap(), e.pmf_incl);
        assert_eq!(s.pmf(&SPLITS, false).unwrap(), e.pmf_excl);
    }

    #[test]
    fn byte_identical_to_datasketches_python_without_compaction() {
        let empty = KllSketch::<f64>::new(200).unwrap();
        assert_eq!(empty.serialize(), unhex(EMPTY_K200));
        let mut single = KllSketch::<f64>::new(200).unwrap();
        single.update(42.5);
        assert_eq!(single.serialize(), unhex(SINGLE_K200));
        assert_eq!(build_f64(200, 0..150).serialize(), unhex(EXACT_K200_N150));
        assert_eq!(build_f64(8, 0..8).serialize(), unhex(FULL_K8_N8));
        let mut f = KllSketch::<f32>::new(100).unwrap();
        f.update_slice(&(0..60).map(|i| x(i) as f32).collect::<Vec<_>>());
        assert_eq!(f.serialize(), unhex(FLOAT_EXACT_K100_N60));
        let mut a = build_f64(200, 0..50);
        a.merge(&build_f64(200, 50..120)).unwrap();
        assert_eq!(a.serialize(), unhex(MERGED_EXACT_K200));
        // and the same answers as datasketches-python
        check_answers(&build_f64(200, 0..150), &EXACT_ANSWERS);
    }

    #[test]
    fn reads_datasketches_python_images() {
        for hex in [
            EMPTY_K200,
            SINGLE_K200,
            EXACT_K200_N150,
            FULL_K8_N8,
            MERGED_EXACT_K200,
            EST_K64_N2000,
        ] {
            let bytes = unhex(hex);
            let s = KllSketch::<f64>::deserialize(&bytes).unwrap();
            assert_eq!(s.serialize(), bytes);
        }
        let f = KllSketch::<f32>::deserialize(&unhex(FLOAT_EXACT_K100_N60)).unwrap();
        assert_eq!((f.n(), f.k()), (60, 100));
        let single = KllSketch::<f64>::deserialize(&unhex(SINGLE_K200)).unwrap();
        assert_eq!((single.n(), single.min_item()), (1, Some(42.5)));
        let est = KllSketch::<f64>::deserialize(&unhex(EST_K64_N2000)).unwrap();
        assert!(est.is_estimation_mode());
        assert_eq!((est.n(), est.k()), (2000, 64));
        check_answers(&est, &EST_ANSWERS);
        // the flag DataSketches sets after sorting level 0 is kept on a round trip
        let mut sorted_image = unhex(EXACT_K200_N150);
        let mut s = KllSketch::<f64>::deserialize(&sorted_image).unwrap();
        assert!(KllSketch::<f64>::deserialize(&{
            let mut b = sorted_image.clone();
            b[3] |= FLAG_LEVEL_ZERO_SORTED;
            b
        })
        .is_err());
        s.level_zero_sorted = false;
        let mut level0: Vec<f64> = s.level(0).to_vec();
        level0.sort_by(f64::total_cmp);
        let start = sorted_image.len() - 8 * level0.len();
        for (i, v) in level0.iter().enumerate() {
            sorted_image[start + 8 * i..start + 8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        sorted_image[3] |= FLAG_LEVEL_ZERO_SORTED;
        let t = KllSketch::<f64>::deserialize(&sorted_image).unwrap();
        assert_eq!(t.serialize(), sorted_image);
        check_answers(&t, &EXACT_ANSWERS);
    }

    #[test]
    fn round_trips_of_our_own_images() {
        let mut rng = TestRng(9);
        for k in [8u16, 64, 200] {
            for n in [0usize, 1, 2, 7, 8, 9, 200, 201, 5000, 100_000] {
                let data: Vec<f64> = (0..n).map(|_| rng.unit() - 0.5).collect();
                let mut s = KllSketch::<f64>::with_seed(k, 3).unwrap();
                s.update_slice(&data);
                let bytes = s.serialize();
                let back = KllSketch::<f64>::deserialize(&bytes).unwrap();
                assert_eq!(back, s, "k {k} n {n}");
                assert_eq!(back.serialize(), bytes);
                // the image does not record the item type, but its length
                // gives a wrong one away unless the sketch is empty
                assert!(n == 0 || KllSketch::<f32>::deserialize(&bytes).is_err());
                if n > 0 {
                    assert_eq!(back.quantile(0.5, true), s.quantile(0.5, true));
                }
            }
        }
    }

    // ---------------------------------------------------------------------
    // Robustness

    #[test]
    fn rejects_malformed_images_with_a_reason() {
        let mut s = KllSketch::<f64>::with_seed(64, 1).unwrap();
        s.update_slice(&(0..2000).map(f64::from).collect::<Vec<_>>());
        let good = s.serialize();
        let corrupt_msg = |b: &[u8]| match KllSketch::<f64>::deserialize(b) {
            Err(Error::CorruptData(m)) => m,
            other => panic!("expected CorruptData, got {other:?}"),
        };
        assert!(corrupt_msg(&good[..5]).contains("shorter"));
        assert!(corrupt_msg(&good[..good.len() - 1]).contains("header implies"));
        let with = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            b
        };
        assert!(corrupt_msg(&with(2, 3)).contains("family"));
        assert!(corrupt_msg(&with(1, 9)).contains("serial version"));
        assert!(corrupt_msg(&with(6, 9)).contains("m is"));
        assert!(corrupt_msg(&with(0, 2)).contains("preamble"));
        assert!(corrupt_msg(&with(18, 0)).contains("levels"));
        assert!(corrupt_msg(&with(18, 200)).contains("levels"));
        assert!(corrupt_msg(&with(8, 1)).contains("weight"));
        let mut b = good.clone();
        b[4..6].copy_from_slice(&4u16.to_le_bytes());
        assert!(corrupt_msg(&b).contains("minimum"));
        let mut b = good.clone();
        b[16..18].copy_from_slice(&100u16.to_le_bytes());
        assert!(corrupt_msg(&b).contains("min_k"));
        let mut b = good.clone();
        b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(corrupt_msg(&b).contains("offsets"));
        let mut b = good.clone();
        let last = b.len() - 8;
        b[last..].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(corrupt_msg(&b).contains("NaN"));
        let mut b = good.clone();
        b[last..].copy_from_slice(&1e300f64.to_le_bytes());
        assert!(corrupt_msg(&b).contains("outside [min, max]"));
        let mut single = unhex(SINGLE_K200);
        single.push(0);
        assert!(corrupt_msg(&single).contains("single-item"));
        // DataSketches ignores what follows an empty preamble; so do we
        let mut empty = unhex(EMPTY_K200);
        empty.extend_from_slice(&[1, 2, 3]);
        assert!(KllSketch::<f64>::deserialize(&empty).unwrap().is_empty());
    }

    fn fuzz_images() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut doubles = Vec::new();
        let mut floats = Vec::new();
        let mut rng = TestRng(21);
        for (k, n) in [
            (200u16, 0usize),
            (200, 1),
            (200, 50),
            (64, 5000),
            (8, 3000),
            (300, 20_000),
        ] {
            let data: Vec<f64> = (0..n).map(|_| rng.unit() * 10.0).collect();
            let mut d = KllSketch::<f64>::with_seed(k, n as u64).unwrap();
            d.update_slice(&data);
            doubles.push(d.serialize());
            let mut f = KllSketch::<f32>::with_seed(k, n as u64).unwrap();
            f.update_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>());
            floats.push(f.serialize());
        }
        (doubles, floats)
    }

    fn mutate(rng: &mut TestRng, base: &[u8]) -> Vec<u8> {
        let mut b = base.to_vec();
        let rounds = 1 + rng.below(3);
        for _ in 0..rounds {
            match rng.below(8) {
                0 | 1 => {
                    // flip bits
                    if !b.is_empty() {
                        let at = rng.below(b.len() as u64) as usize;
                        b[at] ^= 1 << rng.below(8);
                    }
                }
                2 => {
                    // random byte, biased to the header
                    let span = b.len().min(if rng.below(2) == 0 { 24 } else { usize::MAX });
                    if span > 0 {
                        let at = rng.below(span as u64) as usize;
                        b[at] = rng.next_u64() as u8;
                    }
                }
                3 => {
                    let len = rng.below(b.len() as u64 + 1) as usize;
                    b.truncate(len);
                }
                4 => {
                    for _ in 0..1 + rng.below(16) {
                        b.push(rng.next_u64() as u8);
                    }
                }
                5 => {
                    // a level offset or count field set to an edge value
                    if b.len() >= 24 {
                        let at = 8 + 4 * rng.below(((b.len() - 12) / 4) as u64) as usize;
                        let v = [0u32, 1, 7, 8, 199, 200, u32::MAX, rng.next_u64() as u32]
                            [rng.below(8) as usize];
                        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
                6 => {
                    // header fields that steer the parse
                    if b.len() >= 20 {
                        let at = [0usize, 1, 3, 4, 5, 16, 17, 18][rng.below(8) as usize];
                        b[at] = [0u8, 1, 2, 4, 5, 8, 61, 62, 255][rng.below(9) as usize];
                    }
                }
                _ => {
                    // swap two items / bytes in the payload
                    if b.len() > 2 {
                        let i = rng.below(b.len() as u64) as usize;
                        let j = rng.below(b.len() as u64) as usize;
                        b.swap(i, j);
                    }
                }
            }
        }
        b
    }

    fn exercise<T: KllItem>(bytes: &[u8], probe: T, rng: &mut TestRng) -> bool {
        let Ok(mut s) = KllSketch::<T>::deserialize(bytes) else {
            return false;
        };
        assert_eq!(s.total_weight(), u128::from(s.n()));
        if !s.is_empty() {
            s.quantile(0.5, true).unwrap();
            s.quantiles(&[0.0, 0.3, 1.0], false).unwrap();
            s.rank(probe, true).unwrap();
            s.pmf(&[probe], false).unwrap();
        }
        let _ = s.to_json();
        let re = s.serialize();
        let again = KllSketch::<T>::deserialize(&re).expect("our own image must read back");
        assert_eq!(again, s);
        // the decoded sketch must stay usable: merge both ways, keep updating
        let mut other =
            KllSketch::<T>::with_seed(8 + rng.below(300) as u16, rng.next_u64()).unwrap();
        for _ in 0..rng.below(3000) {
            other.update(probe);
        }
        let _ = other.merge(&s);
        let _ = s.merge(&other);
        for _ in 0..rng.below(500) {
            s.update(probe);
        }
        assert_eq!(s.total_weight(), u128::from(s.n()));
        assert!(s.num_retained() <= total_capacity(s.k(), s.num_levels()));
        KllSketch::<T>::deserialize(&s.serialize()).expect("after updates");
        true
    }

    #[test]
    fn deserialize_survives_10000_mutated_images() {
        let (doubles, floats) = fuzz_images();
        let mut rng = TestRng(0x5EED);
        let mut accepted = 0;
        for i in 0..10_000 {
            if i % 2 == 0 {
                let base = &doubles[rng.below(doubles.len() as u64) as usize];
                let b = mutate(&mut rng, base);
                accepted += usize::from(exercise::<f64>(&b, 3.5, &mut rng));
            } else {
                let base = &floats[rng.below(floats.len() as u64) as usize];
                let b = mutate(&mut rng, base);
                accepted += usize::from(exercise::<f32>(&b, 3.5, &mut rng));
            }
        }
        // some mutations (payload bit flips that keep the order) must pass,
        // and most must not
        assert!(accepted > 100 && accepted < 9_000, "accepted {accepted}");
    }

    // ---------------------------------------------------------------------
    // Throughput (run with --ignored --nocapture in release mode)

    #[test]
    #[ignore]
    fn bench_update_slice() {
        let mut rng = TestRng(7);
        let data: Vec<f64> = (0..10_000_000).map(|_| rng.unit()).collect();
        let mut best = f64::MAX;
        for round in 0..5 {
            let mut s = KllSketch::<f64>::with_seed(200, round).unwrap();
            let t = std::time::Instant::now();
            s.update_slice(&data);
            let dt = t.elapsed().as_secs_f64();
            best = best.min(dt);
            assert_eq!(s.n(), 10_000_000);
        }
        println!(
            "update_slice 10M f64, k=200: best {:.1} ms, {:.1} M items/s",
            best * 1e3,
            data.len() as f64 / best / 1e6
        );
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        let t = std::time::Instant::now();
        for &x in &data {
            s.update(x);
        }
        let dt = t.elapsed().as_secs_f64();
        println!(
            "update (per item) 10M f64: {:.1} M items/s",
            data.len() as f64 / dt / 1e6
        );
    }
}
