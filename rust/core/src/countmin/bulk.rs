//! Count-Min's bulk paths: the buckets of a chunk of items row by row, added to counts.
//!
//! A [`Source`] turns the items of a range into their bucket in each row and hands them
//! to a [`Sink`]: a thread's own integer counts of its part of a block ([`Unit`],
//! [`Weighted`]), or the sketch's double counters directly ([`Direct`]). For 8-byte keys
//! (numeric columns, [`Keys`]) a chunk is hashed one row at a time, a loop the bulk
//! driver's [`dispatch`] compiles for AVX-512 where the processor has it: the key's
//! seed-independent MurmurHash3 mixing is done once for all rows, and the bucket is a
//! mask for a power-of-two width, else (in the AVX-512 build) an exact remainder computed
//! in floating point, which vectorises: a 64-bit division does not, and was most of the
//! time of the per-item loop.

use super::CountMinItem;
use crate::bulk::{dispatch, Items, Kernel, CHUNK};
use crate::column::Strings;
use crate::hash::{canonical_f64_bits, murmur3_u64_premixed, murmur3_x64_128, premix_u64};
use std::ops::Range;

/// `h % n` for 64-bit hashes and a fixed `n` below 2^30, exactly, in steps that
/// vectorise (a 64-bit division does not). With `c = 2^32 % n`, `h = hi * 2^32 + lo` is
/// congruent to `y = hi * c + lo`, below 2^62, whose quotient by `n` is below 2^33. That
/// quotient is estimated in doubles to within one (the estimate's relative error is
/// below 2^-50, and rounding to the nearest integer gives the quotient or one more), and
/// the remainder it leaves, in `-n..n`, is computed from the low 32 bits of `y` and
/// corrected once. The estimate is rounded to an integer by adding
/// 1.5 * 2^52, which leaves the integer in the low bits of the double: a conversion has
/// to saturate, and that was compiled one lane at a time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Buckets {
    n: u32,
    /// `2^32 % n`.
    c: u32,
    inv: f64,
}

/// 1.5 * 2^52: for `|x|` below 2^51, `x + ROUND` is `x` rounded to an integer `i`, and its
/// bits are those of `ROUND` plus `i`.
const ROUND: f64 = 6_755_399_441_055_744.0;

impl Buckets {
    /// `n` in `1..2^30`, as [`super::check_shape`] allows.
    pub(super) fn new(n: u32) -> Self {
        debug_assert!((1..1 << 30).contains(&n));
        Buckets {
            n,
            c: ((1u64 << 32) % n as u64) as u32,
            inv: 1.0 / n as f64,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.n as usize
    }

    /// `h % n` by a division: for one item at a time, where [`Self::of_many`] measured
    /// slower (its steps form a long chain of latencies), and for builds without vector
    /// 64-bit multiplies.
    #[inline(always)]
    pub(super) fn of(&self, h: u64) -> u32 {
        (h % self.n as u64) as u32
    }

    /// `h % n` in floating point, for loops over a chunk of hashes that vectorise. The
    /// arithmetic stays in 64-bit lanes, where products of 32-bit halves are one
    /// instruction (a 32-bit lane multiply is two, and packing lanes costs shuffles).
    #[inline(always)]
    pub(super) fn of_many(&self, h: u64) -> u32 {
        let hi = h >> 32;
        let lo = h & 0xffff_ffff;
        // Both below 2^32: converted exactly, as signed integers (which SSE2 has).
        let y = hi as i64 as f64 * self.c as f64 + lo as i64 as f64;
        // The estimate rounded to the nearest integer: the quotient or one more.
        let q = (y * self.inv + ROUND).to_bits() & 0xffff_ffff;
        // y - q * n, in -n..n, is congruent modulo 2^32 to this difference: its low 32
        // bits are the remainder, less n if that is negative. In the high 32 bits of a
        // u64 such a difference is above 2^63, where adding n * 2^32 wraps it below.
        let r = (hi * self.c as u64)
            .wrapping_add(h)
            .wrapping_sub(q * self.n as u64)
            << 32;
        let r = r.min(r.wrapping_add((self.n as u64) << 32));
        (r >> 32) as u32
    }
}

/// What a sketch's rows hash with: shared, read-only, by every thread.
#[derive(Clone, Copy)]
pub(super) struct Rows<'a> {
    pub(super) seeds: &'a [u64],
    pub(super) buckets: Buckets,
}

impl Rows<'_> {
    pub(super) fn cells(&self) -> usize {
        self.seeds.len() * self.buckets.len()
    }

    /// The bucket of `item` in each row, in row order.
    #[inline(always)]
    pub(super) fn for_each(&self, item: CountMinItem<'_>, mut f: impl FnMut(usize, u32)) {
        let premixed = match item {
            CountMinItem::I64(v) => premix_u64(v as u64),
            CountMinItem::F64(v) => premix_u64(canonical_f64_bits(v)),
            CountMinItem::Bytes(b) => {
                for (row, &s) in self.seeds.iter().enumerate() {
                    f(row, self.buckets.of(murmur3_x64_128(b, s).0));
                }
                return;
            }
        };
        for (row, &s) in self.seeds.iter().enumerate() {
            f(row, self.buckets.of(murmur3_u64_premixed(premixed, s).0));
        }
    }
}

/// Where the buckets of items go. Item `i`'s weight is the sink's own business; a
/// source calls `weigh` once per item, in input order, and `add` for each of its rows.
pub(super) trait Sink {
    /// Items `first..first + len` are items, `len` at most [`CHUNK`].
    fn weigh_run(&mut self, first: usize, len: usize);
    /// Items `first..first + buckets.len()`, those of the last `weigh_run`, fall in
    /// `buckets` of `row`.
    fn add_run(&mut self, row: usize, buckets: &[u32], first: usize);
    /// Item `i` is an item.
    fn weigh_one(&mut self, i: usize);
    /// Item `i` falls in bucket `bucket` of `row`.
    fn add_one(&mut self, row: usize, bucket: u32, i: usize);
}

/// Items of a bulk update, as buckets.
pub(super) trait Source: Sync {
    fn len(&self) -> usize;
    /// Gives `sink` the buckets of the items of `part`, in input order.
    fn feed(&self, rows: Rows<'_>, part: Range<usize>, sink: &mut impl Sink);
}

/// 8-byte keys ([`crate::hash`]'s canonical forms of numbers), every one an item.
pub(super) struct Keys<I>(pub(super) I);

impl<I: Items<Item = u64>> Source for Keys<I> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn feed(&self, rows: Rows<'_>, part: Range<usize>, sink: &mut impl Sink) {
        dispatch(FeedKeys {
            items: &self.0,
            rows,
            part,
            sink,
        })
    }
}

/// [`Keys::feed`], a chunk of [`CHUNK`] keys at a time, compiled for AVX-512 where the
/// processor has it: the hashing loops of [`add_chunk`] then run on 8 keys at a time.
struct FeedKeys<'a, 'r, I, S> {
    items: &'a I,
    rows: Rows<'r>,
    part: Range<usize>,
    sink: &'a mut S,
}

impl<I: Items<Item = u64>, S: Sink> Kernel for FeedKeys<'_, '_, I, S> {
    type Out = ();
    #[inline(always)]
    fn run<const AVX512: bool>(self) {
        // A remainder by a power of two is a mask: a loop of its own, a third faster
        // than the general remainder's (3.8 against 5.6 ns per int64 for 3 rows on one
        // core of a Sapphire Rapids Xeon).
        // Without AVX-512's vector 64-bit multiplies, the remainder in doubles measured
        // slower than a division (18 against 10.6 ns per int64 for 3 rows, one core).
        if self.rows.buckets.n.is_power_of_two() {
            self.chunks::<{ Method::Mask as u8 }>()
        } else if AVX512 {
            self.chunks::<{ Method::Doubles as u8 }>()
        } else {
            self.chunks::<{ Method::Division as u8 }>()
        }
    }
}

impl<I: Items<Item = u64>, S: Sink> FeedKeys<'_, '_, I, S> {
    #[inline(always)]
    fn chunks<const METHOD: u8>(self) {
        let mut premixed = [0u64; CHUNK];
        let mut buf = [0u32; CHUNK];
        let mut first = self.part.start;
        while first < self.part.end {
            let chunk = &mut premixed[..CHUNK.min(self.part.end - first)];
            self.items.fill(first, chunk, &premix_u64, 0);
            add_chunk::<METHOD>(self.rows, chunk, first, &mut buf, self.sink);
            first += chunk.len();
        }
    }
}

/// How a chunk's hashes become buckets, all exactly `h % n`.
enum Method {
    /// `h & (n - 1)`, for `n` a power of two.
    Mask,
    /// [`Buckets::of_many`].
    Doubles,
    /// [`Buckets::of`].
    Division,
}

/// Gives `sink` the buckets of items `first..`, whose keys' [`premix_u64`] are
/// `premixed`, one row at a time, their remainders computed by `METHOD` (a [`Method`]).
#[inline(always)]
fn add_chunk<const METHOD: u8>(
    rows: Rows<'_>,
    premixed: &[u64],
    first: usize,
    buf: &mut [u32; CHUNK],
    sink: &mut impl Sink,
) {
    let buckets = &mut buf[..premixed.len()];
    sink.weigh_run(first, premixed.len());
    for (row, &s) in rows.seeds.iter().enumerate() {
        if METHOD == Method::Mask as u8 {
            let mask = rows.buckets.n - 1;
            for (b, &k) in buckets.iter_mut().zip(premixed) {
                *b = murmur3_u64_premixed(k, s).0 as u32 & mask;
            }
        } else if METHOD == Method::Doubles as u8 {
            for (b, &k) in buckets.iter_mut().zip(premixed) {
                *b = rows.buckets.of_many(murmur3_u64_premixed(k, s).0);
            }
        } else {
            for (b, &k) in buckets.iter_mut().zip(premixed) {
                *b = rows.buckets.of(murmur3_u64_premixed(k, s).0);
            }
        }
        sink.add_run(row, buckets, first);
    }
}

/// A string column: null and empty items are not items.
pub(super) struct StringItems<'c, 'a>(pub(super) &'c Strings<'a>);

impl Source for StringItems<'_, '_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn feed(&self, rows: Rows<'_>, part: Range<usize>, sink: &mut impl Sink) {
        for i in part {
            self.0.with_item(i, |b| {
                if !b.is_empty() {
                    sink.weigh_one(i);
                    rows.for_each(CountMinItem::Bytes(b), |row, bucket| {
                        sink.add_one(row, bucket, i)
                    });
                }
            });
        }
    }
}

/// Items given by index (`None`: not an item; empty byte strings are not items either).
pub(super) struct ByIndex<F>(pub(super) usize, pub(super) F);

impl<'a, F: Fn(usize) -> Option<CountMinItem<'a>> + Sync> Source for ByIndex<F> {
    fn len(&self) -> usize {
        self.0
    }

    fn feed(&self, rows: Rows<'_>, part: Range<usize>, sink: &mut impl Sink) {
        for i in part {
            match (self.1)(i) {
                Some(CountMinItem::Bytes([])) => {}
                Some(item) => {
                    sink.weigh_one(i);
                    rows.for_each(item, |row, bucket| sink.add_one(row, bucket, i));
                }
                None => {}
            }
        }
    }
}

/// A thread's counts of its part of a block, to be added to the sketch's counters
/// (see [`super::CountMin::update_many_parallel`]).
pub(super) trait Part: Sink + Send {
    /// The part's total weight (saturated at `u64::MAX`).
    fn sum(&self) -> u64;
    /// Adds the counts to `counters`.
    fn add_to(&self, counters: &mut [f64]);
}

/// Counts of weight 1 per item. A part has fewer than 2^32 items, so no count wraps; half
/// the memory of 64-bit counts keeps more of the table in L1.
pub(super) struct Unit {
    nb: usize,
    cells: Vec<u32>,
    sum: u64,
}

impl Unit {
    pub(super) fn new(rows: Rows<'_>) -> Self {
        Unit {
            nb: rows.buckets.len(),
            cells: vec![0; rows.cells()],
            sum: 0,
        }
    }
}

impl Sink for Unit {
    #[inline(always)]
    fn weigh_run(&mut self, _first: usize, len: usize) {
        self.sum += len as u64;
    }
    #[inline(always)]
    fn add_run(&mut self, row: usize, buckets: &[u32], _first: usize) {
        let cells = &mut self.cells[row * self.nb..(row + 1) * self.nb];
        for &b in buckets {
            cells[b as usize] += 1;
        }
    }
    #[inline(always)]
    fn weigh_one(&mut self, _i: usize) {
        self.sum += 1;
    }
    #[inline(always)]
    fn add_one(&mut self, row: usize, bucket: u32, _i: usize) {
        self.cells[row * self.nb + bucket as usize] += 1;
    }
}

impl Part for Unit {
    fn sum(&self) -> u64 {
        self.sum
    }
    fn add_to(&self, counters: &mut [f64]) {
        for (c, &k) in counters.iter_mut().zip(&self.cells) {
            *c += k as f64;
        }
    }
}

/// Counts of item `i` weighing `weight(i)`. A count may wrap only when the part's
/// total weight does, which then saturates and keeps the part out of the sketch.
pub(super) struct Weighted<W> {
    nb: usize,
    cells: Vec<u64>,
    sum: u64,
    weight: W,
    /// The weights of the run [`Sink::weigh_run`] saw last, read once for all rows.
    run: [u64; CHUNK],
}

impl<W> Weighted<W> {
    pub(super) fn new(rows: Rows<'_>, weight: W) -> Self {
        Weighted {
            nb: rows.buckets.len(),
            cells: vec![0; rows.cells()],
            sum: 0,
            weight,
            run: [0; CHUNK],
        }
    }
}

impl<W: Fn(usize) -> u64> Sink for Weighted<W> {
    /// Runs are at most [`CHUNK`] items, as [`Keys`] gives them.
    #[inline(always)]
    fn weigh_run(&mut self, first: usize, len: usize) {
        for (j, w) in self.run[..len].iter_mut().enumerate() {
            *w = (self.weight)(first + j);
            self.sum = self.sum.saturating_add(*w);
        }
    }
    /// The run of the last [`Sink::weigh_run`].
    #[inline(always)]
    fn add_run(&mut self, row: usize, buckets: &[u32], _first: usize) {
        let cells = &mut self.cells[row * self.nb..(row + 1) * self.nb];
        for (&b, &w) in buckets.iter().zip(&self.run) {
            let c = &mut cells[b as usize];
            *c = c.wrapping_add(w);
        }
    }
    #[inline(always)]
    fn weigh_one(&mut self, i: usize) {
        self.sum = self.sum.saturating_add((self.weight)(i));
    }
    #[inline(always)]
    fn add_one(&mut self, row: usize, bucket: u32, i: usize) {
        let c = &mut self.cells[row * self.nb + bucket as usize];
        *c = c.wrapping_add((self.weight)(i));
    }
}

impl<W: Fn(usize) -> u64 + Send> Part for Weighted<W> {
    fn sum(&self) -> u64 {
        self.sum
    }
    fn add_to(&self, counters: &mut [f64]) {
        for (c, &k) in counters.iter_mut().zip(&self.cells) {
            *c += k as f64;
        }
    }
}

/// The sketch's own counters and total, item `i` adding `weight(i)` as a double, in
/// input order per counter: exactly [`super::CountMin::update`] item by item, whatever
/// the counters hold. A weight of 0 adds nothing (adding 0.0 would turn a -0.0 read
/// from an image into 0.0).
pub(super) struct Direct<'s, W> {
    pub(super) nb: usize,
    pub(super) counters: &'s mut [f64],
    pub(super) total: &'s mut f64,
    pub(super) weight: W,
}

impl<W: Fn(usize) -> u64> Sink for Direct<'_, W> {
    #[inline(always)]
    fn weigh_run(&mut self, first: usize, len: usize) {
        for i in first..first + len {
            self.weigh_one(i);
        }
    }
    #[inline(always)]
    fn add_run(&mut self, row: usize, buckets: &[u32], first: usize) {
        let cells = &mut self.counters[row * self.nb..(row + 1) * self.nb];
        for (j, &b) in buckets.iter().enumerate() {
            let w = (self.weight)(first + j);
            if w != 0 {
                cells[b as usize] += w as f64;
            }
        }
    }
    #[inline(always)]
    fn weigh_one(&mut self, i: usize) {
        let w = (self.weight)(i);
        if w != 0 {
            *self.total += w as f64;
        }
    }
    #[inline(always)]
    fn add_one(&mut self, row: usize, bucket: u32, i: usize) {
        let w = (self.weight)(i);
        if w != 0 {
            self.counters[row * self.nb + bucket as usize] += w as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_fixtures::splitmix;

    #[test]
    fn buckets_are_exact_remainders() {
        let mut st = 7;
        let mut ns: Vec<u32> = vec![1, 2, 3, 4, 5, 7, 8, 1000, 2048, 2719, 65_537];
        ns.extend([
            (1 << 30) - 1,
            (1 << 30) - 2,
            (1 << 29) + 1,
            1 << 29,
            3 << 27,
        ]);
        ns.extend((0..200).map(|_| (splitmix(&mut st) % ((1 << 30) - 1)) as u32 + 1));
        ns.extend((0..200).map(|_| (splitmix(&mut st) % 5000) as u32 + 1));
        for n in ns {
            let b = Buckets::new(n);
            let n64 = n as u64;
            let top = u64::MAX - u64::MAX % n64;
            let mut hs = vec![0, 1, n64 - 1, n64, n64 + 1, u64::MAX, u64::MAX - 1, top];
            hs.extend([top - 1, top.wrapping_sub(n64), 1 << 32, (1 << 32) - 1]);
            // Multiples of n and their neighbours, where an estimated quotient is most
            // likely off by one, with high halves from small to large.
            for k in 0..400u64 {
                let q = splitmix(&mut st) >> (k % 64);
                let m = (q / n64).wrapping_mul(n64);
                hs.extend([m, m.wrapping_sub(1), m.wrapping_add(1)]);
                // A high half that is itself a multiple of n, or next to one.
                let hi = (splitmix(&mut st) % (u32::MAX as u64 / n64 + 1)) * n64;
                let lo = splitmix(&mut st) as u32 as u64;
                for h in [hi, hi.wrapping_sub(1), hi + 1] {
                    hs.push((h << 32) | lo);
                    hs.push(h << 32);
                    hs.push((h << 32) | 0xffff_ffff);
                }
                hs.push(splitmix(&mut st));
            }
            for h in hs {
                assert_eq!(b.of_many(h) as u64, h % n64, "{h} % {n}");
            }
        }
    }

    /// Every bucket `Keys` gives, with its row and item.
    struct Record(Vec<(usize, u32, usize)>, Vec<usize>);

    impl Sink for Record {
        fn weigh_run(&mut self, first: usize, len: usize) {
            self.1.extend(first..first + len);
        }
        fn add_run(&mut self, row: usize, buckets: &[u32], first: usize) {
            let at = buckets
                .iter()
                .enumerate()
                .map(|(j, &b)| (row, b, first + j));
            self.0.extend(at);
        }
        fn weigh_one(&mut self, i: usize) {
            self.1.push(i);
        }
        fn add_one(&mut self, row: usize, bucket: u32, i: usize) {
            self.0.push((row, bucket, i));
        }
    }

    #[test]
    fn keys_give_the_remainders_of_their_hashes() {
        // The loop the processor runs (its AVX-512 build where it has AVX-512), against
        // MurmurHash3 and a division.
        use crate::bulk::BySlice;
        use crate::hash::murmur3_u64;
        let mut st = 11;
        let keys: Vec<i64> = (0..3000).map(|_| splitmix(&mut st) as i64).collect();
        let seeds = super::super::row_seeds(9001, 4);
        for n in [3u32, 1000, 2719, 65_536, (1 << 30) - 1] {
            let rows = Rows {
                seeds: &seeds,
                buckets: Buckets::new(n),
            };
            let part = 5..keys.len() - 3;
            let source = Keys(BySlice::new(&keys[..], |v: i64| v as u64));
            let mut got = Record(Vec::new(), Vec::new());
            source.feed(rows, part.clone(), &mut got);
            // Each build's method, whatever this processor runs (a mask for 65536).
            let mut plain = Record(Vec::new(), Vec::new());
            let mut doubles = Record(Vec::new(), Vec::new());
            for (avx512, out) in [(false, &mut plain), (true, &mut doubles)] {
                let kernel = FeedKeys {
                    items: &source.0,
                    rows,
                    part: part.clone(),
                    sink: out,
                };
                if avx512 {
                    kernel.run::<true>()
                } else {
                    kernel.run::<false>()
                }
            }
            assert_eq!(plain.0, got.0, "n {n}");
            assert_eq!(doubles.0, got.0, "n {n}");
            let mut want = Vec::new();
            for chunk in part.clone().collect::<Vec<_>>().chunks(CHUNK) {
                for (row, &s) in seeds.iter().enumerate() {
                    want.extend(chunk.iter().map(|&i| {
                        let b = murmur3_u64(keys[i] as u64, s).0 % n as u64;
                        (row, b as u32, i)
                    }));
                }
            }
            assert_eq!(got.0, want, "n {n}");
            assert_eq!(got.1, part.collect::<Vec<_>>());
        }
    }
}
