//! Compaction: the random offsets, the buffer primitives and sorting networks, and the
//! compaction steps of updates and merges (DataSketches' `compress_while_updating` and
//! `general_compress`).

use super::*;

// ---------------------------------------------------------------------------
// Randomness for the compaction offsets.

/// splitmix64: tiny, fast, and good enough for one fair bit per compaction.
#[inline]
pub(super) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone, Debug)]
pub(super) struct BitSource {
    pub(super) state: u64,
    bits: u64,
    left: u32,
}

impl BitSource {
    pub(super) fn new(seed: u64) -> Self {
        BitSource {
            state: seed,
            bits: 0,
            left: 0,
        }
    }

    #[inline]
    pub(super) fn bit(&mut self) -> usize {
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
pub(super) fn varying_seed() -> u64 {
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
pub(super) fn halve_down<T: Copy>(s: &mut [T], offset: usize) {
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
pub(super) fn merge_runs_in_place<T: KllItem>(
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
pub(super) fn sort8<T: KllItem>(v: &mut [T; 8]) {
    ce!(v;
        0,1; 2,3; 4,5; 6,7; 0,2; 1,3; 4,6; 5,7; 1,2; 5,6;
        0,4; 1,5; 2,6; 3,7; 2,4; 3,5; 1,2; 3,4; 5,6;
    );
}

#[inline(always)]
pub(super) fn sort16<T: KllItem>(v: &mut [T; 16]) {
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
pub(super) fn sort12<T: KllItem>(v: &mut [T; 16]) {
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
pub(super) fn sort_padded16<T: KllItem>(v: &mut [T; 16], pop: usize) {
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
pub(super) fn merge8x8<T: KllItem>(v: &mut [T; 16]) {
    ce!(v;
        0,8; 1,9; 2,10; 3,11; 4,12; 5,13; 6,14; 7,15; 4,8; 5,9;
        6,10; 7,11; 2,4; 3,5; 6,8; 7,9; 10,12; 11,13; 1,2; 3,4;
        5,6; 7,8; 9,10; 11,12; 13,14;
    );
}

/// Merges the sorted halves `v[..16]` and `v[16..]`.
#[inline(always)]
pub(super) fn merge16x16<T: KllItem>(v: &mut [T; 32]) {
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
pub(super) fn sort32<T: KllItem>(v: &mut [T; 32]) {
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
pub(super) fn load_padded<T: KllItem, const N: usize>(s: &[T]) -> [T; N] {
    std::array::from_fn(|i| if i < s.len() { s[i] } else { T::PAD })
}

#[inline(always)]
pub(super) fn store_prefix<T: KllItem, const N: usize>(out: &mut [T], v: &[T; N]) {
    for (d, x) in out.iter_mut().zip(v.iter()) {
        *d = *x;
    }
}

/// `halve_and_merge` for `pop <= 32`, `above <= 16`: too large to keep in
/// registers, but still much cheaper than a scalar merge. Kept out of line
/// so the common 16-wide path stays small.
#[inline(never)]
pub(super) fn halve_and_merge_32<T: KllItem>(
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
pub(super) fn sort_items<T: KllItem>(s: &mut [T]) {
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
pub(super) fn halve_and_merge<T: KllItem>(
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
pub(super) fn shift_up<T: Copy>(s: &mut [T], by: usize) {
    if s.len() > 256 {
        s.copy_within(..s.len() - by, by);
        return;
    }
    for i in (by..s.len()).rev() {
        s[i] = s[i - by];
    }
}

/// Merges two sorted slices into `out` (ties take `b` first). Branch-free: which run
/// the next item comes from is a coin toss on random data, which a branch mispredicts.
/// Runs of up to 8 or 16 items each (the batch union's usual case) merge in a network.
pub(super) fn merge_into<T: KllItem>(a: &[T], b: &[T], out: &mut Vec<T>) {
    if a.len() <= 8 && b.len() <= 8 {
        return merge_padded::<T, 16>(a, b, out, merge8x8);
    }
    if a.len() <= 16 && b.len() <= 16 {
        return merge_padded::<T, 32>(a, b, out, merge16x16);
    }
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        let take_a = x < y;
        out.push(if take_a { x } else { y });
        i += usize::from(take_a);
        j += usize::from(!take_a);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// `merge_into` by a network merging two sorted halves of `W` slots: `a` and `b` (each at
/// most `W / 2` items) padded with +infinity (or i64::MAX), which sorts last; an item
/// equal to the padding is the same value either way.
#[inline(always)]
fn merge_padded<T: KllItem, const W: usize>(
    a: &[T],
    b: &[T],
    out: &mut Vec<T>,
    network: fn(&mut [T; W]),
) {
    let mut v = [T::PAD; W];
    v[..a.len()].copy_from_slice(a);
    v[W / 2..W / 2 + b.len()].copy_from_slice(b);
    network(&mut v);
    out.extend_from_slice(&v[..a.len() + b.len()]);
}

/// True if `s` is in ascending order (no early exit, so the scan vectorizes).
pub(super) fn is_sorted<T: KllItem>(s: &[T]) -> bool {
    s.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1]))
}

/// Minimum and maximum of a non-empty slice, or `None` if it holds a NaN.
/// Eight independent lanes let the compiler vectorize the scan.
#[inline]
pub(super) fn min_max_no_nan<T: KllItem>(s: &[T]) -> Option<(T, T)> {
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

impl<T: KllItem> KllSketch<T> {
    /// Compacts one level when the buffer is full (DataSketches'
    /// `compress_while_updating`): half of the level, chosen by one random
    /// bit among the even or odd positions of its sorted items, moves up and
    /// merges into the level above, freeing half the level for level 0.
    pub(super) fn compress_while_updating(&mut self) {
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
        self.merge_parts(
            other.n,
            other.min_k,
            other.min_item,
            other.max_item,
            &other.levels,
            other.retained(),
        )
    }

    /// [`Self::merge`] of a non-empty sketch given by its parts: `n`, `min_k`, min and
    /// max, its level offsets and its retained items (level `h` is
    /// `retained[levels[h] - levels[0]..levels[h + 1] - levels[0]]`), from a sketch or
    /// straight from an image.
    pub(super) fn merge_parts(
        &mut self,
        n: u64,
        min_k: u16,
        min_item: T,
        max_item: T,
        levels: &[u32],
        retained: &[T],
    ) -> Result<()> {
        self.view.take();
        let final_n = self
            .n
            .checked_add(n)
            .ok_or_else(|| Error::InvalidArgument("merged item count would overflow u64".into()))?;
        self.update_min_max(min_item, max_item);
        let num_levels = levels.len() - 1;
        let level = |h: usize| {
            &retained[(levels[h] - levels[0]) as usize..(levels[h + 1] - levels[0]) as usize]
        };
        // A free run at a time: the same state as pushing the items one by one.
        self.fill_level_zero(level(0));
        if num_levels >= 2 {
            self.merge_higher_levels(levels, retained, final_n);
        }
        self.n = final_n;
        if num_levels > 1 {
            self.min_k = self.min_k.min(min_k);
        }
        debug_assert_eq!(self.total_weight(), u128::from(self.n));
        Ok(())
    }

    pub(super) fn total_weight(&self) -> u128 {
        (0..self.num_levels())
            .map(|h| (u128::from(self.levels[h + 1] - self.levels[h])) << h)
            .sum()
    }

    /// DataSketches' `merge_higher_levels`: lay both sketches' levels out
    /// level by level (merging the sorted levels of equal height), then
    /// compress the whole thing at once. The other sketch is given by its level
    /// offsets and retained items, as in [`Self::merge_parts`].
    fn merge_higher_levels(&mut self, other_levels: &[u32], other_retained: &[T], final_n: u64) {
        let other_num_levels = other_levels.len() - 1;
        let provisional = self.num_levels().max(other_num_levels);
        let ub = ub_on_num_levels(final_n).max(provisional);
        let other_above_zero = other_retained.len() - (other_levels[1] - other_levels[0]) as usize;
        let total = self.num_retained() as usize + other_above_zero;
        let mut work: Vec<T> = Vec::with_capacity(total);
        let mut in_levels = vec![0u32; ub + 2];
        let own_level = |s: &'_ KllSketch<T>, h: usize| -> std::ops::Range<usize> {
            if h < s.num_levels() {
                s.levels[h] as usize..s.levels[h + 1] as usize
            } else {
                0..0
            }
        };
        let other_level = |h: usize| -> &[T] {
            if h < other_num_levels {
                let base = other_levels[0];
                &other_retained
                    [(other_levels[h] - base) as usize..(other_levels[h + 1] - base) as usize]
            } else {
                &[]
            }
        };
        work.extend_from_slice(self.level(0));
        in_levels[1] = work.len() as u32;
        for h in 1..provisional {
            let a = &self.items[own_level(self, h)];
            merge_into(a, other_level(h), &mut work);
            in_levels[h + 1] = work.len() as u32;
        }
        self.compress_and_install(work, in_levels, provisional);
    }

    /// Compresses `work`, levels laid out back to back as `in_levels[..=num_levels]`
    /// says (level 0 unsorted, the others sorted), into this sketch's capacity with
    /// DataSketches' `general_compress`, and makes the result this sketch's buffer.
    pub(super) fn compress_and_install(
        &mut self,
        mut work: Vec<T>,
        mut in_levels: Vec<u32>,
        num_levels: usize,
    ) {
        let mut out_levels = vec![0u32; num_levels + 2];
        let (mut num_levels, mut capacity, mut num_items) = general_compress(
            self.k,
            num_levels,
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
}

/// DataSketches' `general_compress`, used by merges. `items` holds the
/// levels back to back as described by `in_levels[..=num_levels_in]` (level
/// 0 unsorted, the others sorted). Walks up the levels once, compacting each
/// level that is over its capacity while the whole is over the total
/// capacity, adding levels on top as needed. Returns the final number of
/// levels, the total capacity for that many levels, and the number of items,
/// which are packed from index 0 as described by `out_levels`.
pub(super) fn general_compress<T: KllItem>(
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
