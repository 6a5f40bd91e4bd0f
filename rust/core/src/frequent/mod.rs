//! Frequent items ("heavy hitters"): the Apache DataSketches frequent-items sketch
//! (family 10), for int64, string and float64 items.
//!
//! The sketch is the Misra-Gries / SpaceSaving scheme of Anderson, Bevan, Lang, Liberty,
//! Rhodes and Thaler ("A High-Performance Algorithm for Identifying Frequent Items in
//! Data Streams", 2017): a hash map of at most `0.75 * 2^lg_max_map_size` counters.
//! When a new item finds the map full, the map *purges*: it subtracts an approximate
//! median of the counters from all of them, drops those that reach zero, and adds the
//! median to the sketch's `offset` (its maximum error).
//!
//! # Guarantee
//!
//! For every item `x` with true total weight `f(x)`:
//!
//! * `lower_bound(x) <= f(x) <= upper_bound(x)`, deterministically, where
//!   `lower_bound(x)` is `x`'s counter (0 if untracked) and `upper_bound(x)` is that
//!   counter plus `maximum_error()`;
//! * `upper_bound(x) - lower_bound(x) = maximum_error() <= epsilon() * total_weight()`
//!   with `epsilon() = 3.5 / 2^lg_max_map_size`. (DataSketches proves this bound for
//!   its median estimate from a sample of at most 1024 counters; the proof holds with
//!   probability above `1 - 1e-14` per purge. Each sketch reports its actual error.)
//! * While the stream has fewer than `0.75 * 2^lg_max_map_size` distinct items nothing
//!   is purged and every count is exact (`maximum_error() == 0`).
//!
//! [`FrequentItems::top`] with [`ErrorType::NoFalsePositives`] returns only items whose
//! lower bound exceeds the threshold (so all truly exceed it); with
//! [`ErrorType::NoFalseNegatives`] every item whose upper bound exceeds it (so no item
//! that truly exceeds it is missed). The threshold is never below `maximum_error()`.
//!
//! # Images and compatibility
//!
//! Images are DataSketches' (family 10, serial version 1): an 8-byte preamble for an
//! empty sketch; else 32 bytes (active items, total weight, offset), the counters as
//! u64, then the items in the serde of their kind (see [`item`]).
//!
//! Item order follows **datasketches-java**: the same slots (Java's hashes, see
//! [`item`]), the same purge (median of the first `min(1024, 0.75 * max_map_size)`
//! counters in slot order), images in slot order, merges and queries in Java's
//! golden-ratio iteration order. A sketch fed the stream a Java sketch was fed writes
//! the same bytes: measured equal to every non-empty `frequent_long_*` and
//! `frequent_string_*` image of the Java corpus (tests below). datasketches-cpp (and so
//! datasketches-python) places longs in the same slots but writes them in its
//! iteration order, places strings by `std::hash`, and samples one more counter in
//! purges of maps below 1365 counters; its images therefore differ in order (and after
//! some purges in content), while every image of either reads here to the same
//! estimates and bounds as the sketch that wrote it, and ours read there.
//!
//! # Two bulk paths
//!
//! [`FrequentItems::update_many`] applies the items one by one in input order: the
//! result is byte for byte that of the same `update` calls (and of Java's sketch fed
//! the stream). [`FrequentItems::update_many_combined`] does the same until an item
//! would make the map purge; from there, if enough of the block is left
//! ([`MIN_COMBINED_SPAN`]), it *combines* a span of the input at once, on every core:
//! the weights of the span's items already in the map are added to their counters, the
//! other items are counted, and one purge subtracts `m`, the `r`-th largest of all
//! those counts (`r` = half the map's capacity), keeping the items left positive — the
//! merge of Misra-Gries summaries (Agarwal et al., "Mergeable Summaries", 2012). At
//! least `r` counts lose `m` in each such purge, and all purges together cannot take more
//! than the total weight from the counts, so when every purge is a combining one
//! `maximum_error() <= total_weight() / r`, about `2.67 / 2^lg_max_map_size` of the
//! total weight, a deterministic bound inside
//! DataSketches' `epsilon` (and on skewed streams several times smaller than what one
//! median purge per new item leaves). The result does not depend on the number of
//! threads; it is a valid sketch of the stream, but not Java's bytes once a span was
//! combined. [`FrequentItems::update_bulk`] takes the path [`FrequentItems::in_order`]
//! names.
//!
//! One deliberate difference: Java and C++ call a sketch with no *active item* empty
//! and then write the 8-byte empty image, dropping the total weight and the error of a
//! sketch whose last purge removed every counter. We call a sketch empty only when its
//! total weight is 0, and write such a sketch as a non-empty image with no items, which
//! both read back with its weight and error.

pub mod item;
mod map;
mod spark;

use crate::error::{corrupt, Error, Result};
pub use item::{FrequentItem, JavaLong};
use map::{capacity_of, ReversePurgeMap};
use serde_json::json;
use std::ops::Range;

/// Family id of frequent-items images.
pub const FAMILY_ID: u8 = 10;
const SERIAL_VERSION: u8 = 1;
const PREAMBLE_LONGS_EMPTY: u8 = 1;
const PREAMBLE_LONGS_NONEMPTY: u8 = 4;
/// The flags byte of an empty image: DataSketches sets both of its "empty" bits.
const EMPTY_FLAGS: u8 = 5;

/// The smallest table, where every sketch starts.
pub const LG_MIN_MAP_SIZE: u8 = 3;
/// The largest table we build or read: 2^26 slots (50 M counters, epsilon 5e-8).
/// DataSketches has no lower limit than its 32-bit indices; this one bounds the memory a
/// sketch (or a corrupt image) can claim.
pub const LG_MAX_MAP_SIZE: u8 = 26;
/// The most counters a purge samples for its median.
const SAMPLE_SIZE: usize = 1024;
/// DataSketches' error constant: `epsilon = 3.5 / max_map_size`.
const EPSILON_FACTOR: f64 = 3.5;
/// Total weights are at most `i64::MAX`: Java keeps them in signed longs.
const MAX_TOTAL_WEIGHT: u64 = i64::MAX as u64;
/// The combining path sums new items' weights in buckets (one-byte counters), from
/// 2^14 to 2^21 of them (2 MiB per part, for the longest span).
const LG_BUCKETS: std::ops::RangeInclusive<u32> = 14..=21;

/// Log2 of the buckets of a span of `len` items, when the map's counters are at least
/// `floor` before the span (see [`FrequentItems::combine`]: a new item is counted exactly
/// only if its bucket exceeds the floor).
///
/// Few buckets stay in the caches (two parts' 2 MiB tables thrash the 2 MiB L2 that
/// two hyperthreads share: a zipf stream combines 1.5x faster with 2^16 than 2^21);
/// many keep flat streams fast, whose floor is 1 or 2, where a bucket shared by two
/// items already exceeds it (8 buckets per item: 4x faster there than 1). The spread
/// of a bucket's load decides: with `len / buckets` items per bucket (unit weights, a
/// Poisson load), a floor of 8 is passed by chance about once in 10^6 buckets at one
/// item per bucket, a floor of 4 at half an item, 2 at a quarter, 16 at two items and 32
/// at four (skewed streams' floors: there a quarter of the buckets kept the bucket
/// reads and the misses' filter in L1 and L2).
fn lg_buckets(len: usize, floor: u64) -> u32 {
    let eighths_per_item = match floor {
        0..=1 => 64,
        2..=3 => 32,
        4..=7 => 16,
        8..=15 => 8,
        16..=31 => 4,
        _ => 2,
    };
    (eighths_per_item * len / 8)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(*LG_BUCKETS.start(), *LG_BUCKETS.end())
}

/// What one part of a combined span finds (see [`FrequentItems::update_many_combined`]),
/// kept between spans of one bulk update so that its buffers are allocated once.
#[derive(Default)]
struct CombinePart {
    /// `entry << 32 | index` of the items in the map (their [`map::KeyIndex`] entries;
    /// indices relative to the span).
    hits: Vec<u64>,
    /// `bucket << 32 | index` of the others.
    misses: Vec<u64>,
    /// The others' weights summed per bucket.
    /// saturating at 255 (an item whose bucket is below 255 weighs at most that).
    buckets: Vec<u8>,
    /// The weights summed per [`map::KeyIndex`] entry (then there are no hit records);
    /// the misses' entries are not used.
    deltas: Vec<u64>,
    /// The weight of all items of the part.
    applied: u64,
}

/// One part's pass of [`FrequentItems::combine`]: each item's tally hash, its
/// [`map::KeyIndex`] entry, its weight added to the entry's delta (or a hit record) if
/// the map has it, else to its bucket with a miss record. Compiled for AVX-512 where
/// the processor has it ([`crate::bulk::dispatch`]), for the index's lane compare.
struct TallyPart<'s, 'a, T: FrequentItem, I, W> {
    map: &'s ReversePurgeMap<T>,
    index: &'s map::KeyIndex,
    key: &'s item::TallyKey,
    item_at: &'s I,
    weight_at: &'s W,
    part: Range<usize>,
    /// The first item of the span (records hold indices relative to it).
    start: usize,
    lg: u32,
    p: &'s mut CombinePart,
    _items: std::marker::PhantomData<T::Ref<'a>>,
}

impl<'a, T, I, W> crate::bulk::Kernel for TallyPart<'_, 'a, T, I, W>
where
    T: FrequentItem,
    I: Fn(usize) -> Option<T::Ref<'a>>,
    W: Fn(usize) -> u64,
{
    type Out = ();
    #[inline(always)]
    fn run<const AVX512: bool>(self) {
        if self.p.deltas.is_empty() {
            self.pass::<AVX512, true>()
        } else {
            self.pass::<AVX512, false>()
        }
    }
}

impl<'a, T, I, W> TallyPart<'_, 'a, T, I, W>
where
    T: FrequentItem,
    I: Fn(usize) -> Option<T::Ref<'a>>,
    W: Fn(usize) -> u64,
{
    /// The pass, hits listed (`LIST_HITS`) or summed per entry.
    #[inline(always)]
    fn pass<const AVX512: bool, const LIST_HITS: bool>(self) {
        let TallyPart {
            map,
            index,
            key,
            item_at,
            weight_at,
            part,
            start,
            lg,
            p,
            ..
        } = self;
        // Both records are written and one kept: whether an item is in the map is a
        // coin toss on skewed streams, too costly as a branch.
        let (hits, misses) = (p.hits.spare_capacity_mut(), p.misses.spare_capacity_mut());
        let (deltas, buckets) = (&mut p.deltas[..], &mut p.buckets[..]);
        // The loop below indexes without bounds checks (they were a third of its
        // instructions, and their lengths kept registers from the rest): every index
        // is in bounds by these.
        assert!(misses.len() >= part.len() && (!LIST_HITS || hits.len() >= part.len()));
        assert!(LIST_HITS || deltas.len() == index.num_entries());
        assert!(buckets.len() == 1 << lg && (1..=32).contains(&lg));
        let (hits, misses) = (hits.as_mut_ptr(), misses.as_mut_ptr());
        let (deltas, buckets) = (deltas.as_mut_ptr(), buckets.as_mut_ptr());
        let index = index.view();
        let shift = 64 - lg;
        let (mut nh, mut nm, mut applied) = (0, 0, 0u64);
        // A chunk's hashes first (a loop of their own, which the compiler vectorises),
        // then its lookups, whose groups and buckets are prefetched AHEAD items ahead
        // (large maps' and flat streams' tables are not in L1).
        const CHUNK: usize = 256;
        const AHEAD: usize = 16;
        let mut hashes = [0u64; CHUNK];
        let mut first = part.start;
        while first < part.end {
            let chunk = &mut hashes[..CHUNK.min(part.end - first)];
            for (k, h) in chunk.iter_mut().enumerate() {
                *h = item_at(first + k).map_or(0, |item| T::tally_hash(item, key));
            }
            for (k, &h) in chunk.iter().enumerate() {
                if let Some(&next) = chunk.get(k + AHEAD) {
                    index.prefetch(next);
                    prefetch(buckets.wrapping_add((next >> shift) as usize));
                }
                let i = first + k;
                let w = weight_at(i);
                let Some(item) = item_at(i) else { continue };
                applied += w;
                let at = (i - start) as u64;
                let (entry, found) = index.entry::<AVX512, T>(map, item, h);
                let b = h >> shift;
                // SAFETY: nh and nm count records of this part's items, at most
                // part.len(); an entry is below num_entries; b has lg bits.
                unsafe {
                    if LIST_HITS {
                        (*hits.add(nh)).write((entry as u64) << 32 | at);
                        nh += (found & (w != 0)) as usize;
                    } else {
                        *deltas.add(entry) += w;
                    }
                    (*misses.add(nm)).write(b << 32 | at);
                    nm += (!found & (w != 0)) as usize;
                    let bucket = &mut *buckets.add(b as usize);
                    *bucket = bucket.saturating_add(if found { 0 } else { w.min(255) as u8 });
                }
            }
            first += chunk.len();
        }
        // SAFETY: the first nh (nm) elements of the spare capacity were written above;
        // each index was written before it was counted.
        unsafe {
            p.hits.set_len(nh);
            p.misses.set_len(nm);
        }
        p.applied = applied;
    }
}

/// What the combined spans of one bulk update keep between spans.
#[derive(Default)]
struct CombineScratch {
    /// One per part (their buffers are allocated once).
    parts: Vec<CombinePart>,
    /// The floor of the last span (0 before the first).
    last_floor: u64,
    /// The length of the last span.
    last_len: usize,
    /// A bit per bucket of a span: whether its weight passes the floor.
    passing: Vec<u64>,
}

/// The largest map whose hits are summed per slot (2 MiB of deltas per part).
const MAX_DELTA_SLOTS: usize = 1 << 18;

impl CombinePart {
    /// Empties the part for a span of `len` items, `entries` hit weights summed per
    /// index entry (0: hits listed) and `2^lg_buckets` buckets.
    fn clear(&mut self, len: usize, entries: usize, lg_buckets: u32) {
        self.hits.clear();
        self.misses.clear();
        self.hits.reserve(if entries == 0 { len } else { 0 });
        self.misses.reserve(len);
        self.buckets.clear();
        self.buckets.resize(1 << lg_buckets, 0);
        self.deltas.clear();
        self.deltas.resize(entries, 0);
    }
}

/// Fewer items than this left in a block are applied one by one, with DataSketches'
/// purges: small updates (one item, a buffer of scalars) stay those of Java's sketch.
pub const MIN_COMBINED_SPAN: usize = 1 << 12;
/// Items of a block applied one by one without a purge before the next spans add the
/// items already in the map first (see [`FrequentItems::update_many_combined`]).
pub const HITS_FIRST_AFTER: usize = 1 << 12;
/// Items of the first span a block combines (see [`FrequentItems::update_many_combined`]).
pub const FIRST_COMBINED_SPAN: usize = 1 << 16;
/// Items of the longest span combined at once: its buckets stay in the caches.
pub const MAX_COMBINED_SPAN: usize = 1 << 18;
/// Tables up to this size may be read from any image; larger ones need a total weight
/// that could have filled them (see [`FrequentItems::deserialize`]).
const LG_FREE_TABLE: u8 = 16;

/// Which error a [`FrequentItems::top`] query rules out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Only items whose lower bound exceeds the threshold: every row is truly frequent,
    /// some frequent items may be missing.
    NoFalsePositives,
    /// Every item whose upper bound exceeds the threshold: no frequent item is missing,
    /// some rows may not be frequent.
    NoFalseNegatives,
}

/// One row of [`FrequentItems::top`].
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T> {
    pub item: T,
    pub estimate: u64,
    pub lower_bound: u64,
    pub upper_bound: u64,
}

/// The DataSketches frequent-items sketch over items of type `T` (`i64`, `String`,
/// `f64`). See the [module documentation](self) for its guarantee and images.
#[derive(Debug, Clone)]
pub struct FrequentItems<T: FrequentItem> {
    lg_max_map_size: u8,
    /// Sum of all weights.
    total_weight: u64,
    /// Sum of the medians purges subtracted: the maximum error of every count.
    offset: u64,
    map: ReversePurgeMap<T>,
    /// Whether [`Self::update_bulk`] applies items one by one (see the module docs).
    in_order: bool,
}

fn check_lg_max(lg_max_map_size: u8) -> Result<()> {
    if !(LG_MIN_MAP_SIZE..=LG_MAX_MAP_SIZE).contains(&lg_max_map_size) {
        return Err(Error::InvalidArgument(format!(
            "lg_max_map_size must be from {LG_MIN_MAP_SIZE} to {LG_MAX_MAP_SIZE}, got {lg_max_map_size}"
        )));
    }
    Ok(())
}

/// DataSketches' epsilon of a maximum map size: `3.5 / 2^lg_max_map_size`.
pub fn epsilon_for(lg_max_map_size: u8) -> Result<f64> {
    check_lg_max(lg_max_map_size)?;
    Ok(EPSILON_FACTOR / (1u64 << lg_max_map_size) as f64)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl<T: FrequentItem> FrequentItems<T> {
    /// An empty sketch of at most `2^lg_max_map_size` slots (`0.75` of them counters).
    pub fn new(lg_max_map_size: u8) -> Result<Self> {
        check_lg_max(lg_max_map_size)?;
        Ok(Self::with_sizes(lg_max_map_size, LG_MIN_MAP_SIZE))
    }

    fn with_sizes(lg_max_map_size: u8, lg_cur_map_size: u8) -> Self {
        Self {
            lg_max_map_size,
            total_weight: 0,
            offset: 0,
            map: ReversePurgeMap::new(lg_cur_map_size),
            in_order: false,
        }
    }

    /// Makes [`Self::update_bulk`] apply items one by one in input order
    /// ([`Self::update_many`]) rather than combine them ([`Self::update_many_combined`]).
    /// Copies keep the choice; images do not record it.
    pub fn set_in_order(&mut self, in_order: bool) {
        self.in_order = in_order;
    }

    /// Whether [`Self::update_bulk`] applies items one by one in input order.
    pub fn in_order(&self) -> bool {
        self.in_order
    }

    /// Bulk update: [`Self::update_many`] when [`Self::in_order`], else
    /// [`Self::update_many_combined`] (the same arguments and contract).
    pub fn update_bulk<'a, I, W>(
        &mut self,
        n: usize,
        item_at: I,
        weight_at: W,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        if self.in_order {
            self.update_many(n, item_at, weight_at, progress)
        } else {
            self.update_many_combined(n, item_at, weight_at, progress)
        }
    }

    pub fn lg_max_map_size(&self) -> u8 {
        self.lg_max_map_size
    }

    /// The current table size (log2); it doubles up to `lg_max_map_size`.
    pub fn lg_cur_map_size(&self) -> u8 {
        self.map.lg_len()
    }

    /// No weight seen (see the module documentation for how this differs from Java's
    /// and C++'s "no active item").
    pub fn is_empty(&self) -> bool {
        self.total_weight == 0
    }

    /// The sum of all weights (every update's, merged sketches' included).
    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// Items with a counter.
    pub fn num_active_items(&self) -> usize {
        self.map.num_active()
    }

    /// The most counters the sketch keeps: `0.75 * 2^lg_max_map_size`.
    pub fn maximum_map_capacity(&self) -> usize {
        capacity_of(self.lg_max_map_size)
    }

    /// The largest possible error of any estimate: `upper_bound - lower_bound`.
    pub fn maximum_error(&self) -> u64 {
        self.offset
    }

    /// `3.5 / 2^lg_max_map_size`: `maximum_error() <= epsilon() * total_weight()`.
    pub fn epsilon(&self) -> f64 {
        EPSILON_FACTOR / (1u64 << self.lg_max_map_size) as f64
    }

    /// The estimated total weight of `item`: its counter plus the maximum error if it
    /// has a counter, else 0 (as DataSketches).
    pub fn estimate(&self, item: T::Ref<'_>) -> u64 {
        match self.map.get(item) {
            0 => 0,
            c => c + self.offset,
        }
    }

    /// A guaranteed lower bound of `item`'s total weight (its counter, or 0).
    pub fn lower_bound(&self, item: T::Ref<'_>) -> u64 {
        self.map.get(item)
    }

    /// A guaranteed upper bound of `item`'s total weight.
    pub fn upper_bound(&self, item: T::Ref<'_>) -> u64 {
        self.map.get(item) + self.offset
    }

    /// Adds `weight` occurrences of `item`; a weight of 0 is no update. Fails, leaving
    /// the sketch unchanged, if the total weight would exceed `i64::MAX` (DataSketches
    /// keeps it in a signed 64-bit integer).
    #[inline]
    pub fn update(&mut self, item: T::Ref<'_>, weight: u64) -> Result<()> {
        if weight == 0 {
            return Ok(());
        }
        self.total_weight = self.checked_total(weight)?;
        self.apply(item, weight);
        Ok(())
    }

    fn checked_total(&self, weight: u64) -> Result<u64> {
        match self.total_weight.checked_add(weight) {
            Some(t) if t <= MAX_TOTAL_WEIGHT => Ok(t),
            _ => Err(Error::InvalidArgument(format!(
                "the total weight would exceed {MAX_TOTAL_WEIGHT} (adding {weight} to {})",
                self.total_weight
            ))),
        }
    }

    /// The counter update of one item of positive weight, with the growth or purge it
    /// may call for; the caller accounts the total weight.
    #[inline(always)]
    fn apply(&mut self, item: T::Ref<'_>, weight: u64) {
        if self.map.adjust_or_insert(item, weight) != 0
            && self.map.num_active() > self.map.capacity()
        {
            self.grow_or_purge();
        }
    }

    #[cold]
    fn grow_or_purge(&mut self) {
        if self.map.lg_len() < self.lg_max_map_size {
            self.map.grow();
        } else {
            let sample = SAMPLE_SIZE.min(self.maximum_map_capacity());
            self.offset += self.map.purge(sample);
        }
    }

    /// Bulk update of `n` items in input order: item `i` is `item_at(i)` (`None`: no
    /// item, e.g. a null) with weight `weight_at(i)` (0: no update). The result equals
    /// `n` calls of [`Self::update`].
    ///
    /// `progress(done, n)` runs after every [`BLOCK`](crate::bulk::BLOCK) items; returning `false` stops
    /// with `Error::Cancelled`. Blocks are all-or-nothing: before a block its weights
    /// are summed, and if the total weight would pass `i64::MAX` the update stops with
    /// `Error::InvalidArgument` before applying any of it. Either way the sketch holds
    /// exactly the items of the finished blocks, a prefix of the input.
    pub fn update_many<'a, I, W>(
        &mut self,
        n: usize,
        item_at: I,
        weight_at: W,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<T::Ref<'a>>,
        W: Fn(usize) -> u64,
    {
        crate::bulk::in_blocks(n, progress, |block| {
            self.check_block_total(block.clone(), &item_at, &weight_at)?;
            let mut applied = 0u64;
            for i in block {
                let w = weight_at(i);
                if w != 0 {
                    if let Some(item) = item_at(i) {
                        self.apply(item, w);
                        applied += w;
                    }
                }
            }
            self.total_weight += applied;
            Ok(())
        })
    }

    /// Fails if the items of `block` would take the total weight past `i64::MAX`.
    fn check_block_total<'a, I, W>(
        &self,
        block: Range<usize>,
        item_at: &I,
        weight_at: &W,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<T::Ref<'a>>,
        W: Fn(usize) -> u64,
    {
        // The block's weights, nulls' included, bound what it adds; only when that
        // bound overflows are the weights of actual items summed.
        let bound = block
            .clone()
            .fold(0u64, |s, i| s.saturating_add(weight_at(i)));
        if self.checked_total(bound).is_err() {
            let exact = block
                .filter(|&i| item_at(i).is_some())
                .fold(0u64, |s, i| s.saturating_add(weight_at(i)));
            self.checked_total(exact)?;
        }
        Ok(())
    }

    /// Bulk update of `n` items, combining: the same input and contract as
    /// [`Self::update_many`] (item `i` is `item_at(i)`, `None` for none, with weight
    /// `weight_at(i)`, 0 for none; `progress(done, n)` after every
    /// [`BLOCK`](crate::bulk::BLOCK) items, `false` stops with `Error::Cancelled`; a
    /// block whose weights would take the total past `i64::MAX` stops with
    /// `Error::InvalidArgument` before any of it is applied; either way the sketch holds
    /// exactly the finished blocks, a prefix of the input).
    ///
    /// Items are applied one by one until one would make the map purge. From that item
    /// on, if at least [`MIN_COMBINED_SPAN`] items of the block are left, a span of the
    /// block is combined at once, on every core, with one purge (see the [module
    /// documentation](self)); else the item purges the map as [`Self::update`] does.
    /// Then items are applied one by one again, and so on. The first span of a block is
    /// [`FIRST_COMBINED_SPAN`] items (or the rest of the block), each next one twice as
    /// long, up to [`MAX_COMBINED_SPAN`]: a purge over few items keeps the heavy ones,
    /// which the longer spans after it then mostly find in the map.
    ///
    /// A stream that fills the map slowly or never (few distinct values, as most
    /// columns of codes and categories) would be applied one by one, on one core. Once
    /// [`HITS_FIRST_AFTER`] items of a block went by without a purge, a span (of the
    /// same lengths, while the map has at most a quarter as many keys as the span has
    /// items) adds its items already in the map first, all at once on every core, then
    /// applies the others in order. Without a purge in the span this is the same sketch,
    /// byte for byte, as applying the span in order (where new keys land depends only on
    /// the order of the new keys); with one, a sketch of the span's items in another
    /// order, and the next spans go one by one again. Items are borrowed from the input;
    /// only those the sketch keeps are copied.
    pub fn update_many_combined<'a, I, W>(
        &mut self,
        n: usize,
        item_at: I,
        weight_at: W,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        let key = item::TallyKey::random();
        let mut scratch = CombineScratch::default();
        crate::bulk::in_blocks(n, progress, |block| {
            self.check_block_total(block.clone(), &item_at, &weight_at)?;
            // A block's spans alternate serial and parallel steps: all on the pool.
            crate::bulk::on_pool(|| {
                self.combine_block(block, &item_at, &weight_at, &key, &mut scratch)
            });
            Ok(())
        })
    }

    /// [`Self::update_many_combined`] of one block whose total was checked.
    fn combine_block<'a, I, W>(
        &mut self,
        block: Range<usize>,
        item_at: &I,
        weight_at: &W,
        key: &item::TallyKey,
        scratch: &mut CombineScratch,
    ) where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        let mut applied = 0u64;
        let (mut i, mut span) = (block.start, FIRST_COMBINED_SPAN);
        // Items applied one by one since the block began or the last purge.
        let mut unpurged = 0;
        while i < block.end {
            if unpurged >= HITS_FIRST_AFTER && block.end - i >= MIN_COMBINED_SPAN {
                let end = (i + span).min(block.end);
                if self.map.num_active() <= (end - i) / 4 {
                    let (weight, purged) =
                        self.hits_first(i..end, item_at, weight_at, key, scratch);
                    applied += weight;
                    unpurged = if purged { 0 } else { unpurged + (end - i) };
                    (i, span) = (end, (2 * span).min(MAX_COMBINED_SPAN));
                    continue;
                }
            }
            let w = weight_at(i);
            if w != 0 {
                if let Some(item) = item_at(i) {
                    if !self.apply_unless_purge(item, w) {
                        unpurged = 0;
                        if block.end - i < MIN_COMBINED_SPAN {
                            self.apply(item, w);
                            applied += w;
                            i += 1;
                            continue;
                        }
                        let end = (i + span).min(block.end);
                        applied += self.combine(i..end, item_at, weight_at, key, scratch);
                        (i, span) = (end, (2 * span).min(MAX_COMBINED_SPAN));
                        continue;
                    }
                    applied += w;
                }
            }
            unpurged += 1;
            i += 1;
        }
        self.total_weight += applied;
    }

    /// [`Self::apply`] unless the item would make the map purge; returns whether it
    /// was applied.
    #[inline(always)]
    fn apply_unless_purge(&mut self, item: T::Ref<'_>, weight: u64) -> bool {
        if let Some(slot) = self.map.find(item, T::java_hash_input(item)) {
            self.map.add_at(slot, weight);
            return true;
        }
        if self.map.lg_len() == self.lg_max_map_size && self.map.num_active() >= self.map.capacity()
        {
            return false;
        }
        self.apply(item, weight);
        true
    }

    /// Applies the items of `range` to a full map in one step; returns their weight.
    ///
    /// Counters of items in the map grow by their weights; the other items are
    /// counted; then the `r`-th largest of all those counts, `m` (`r` = half the map's
    /// capacity), is subtracted from every count, as a Misra-Gries purge does, and the
    /// items left positive keep a counter (the new ones in order of first occurrence).
    /// At least `r` counts lose `m` each, and the purges together cannot take more than
    /// the total weight from the counts, so the offsets all combining purges add sum to
    /// at most `total_weight / r = 2.67 * total_weight / 2^lg_max_map_size`, inside
    /// DataSketches' `epsilon`.
    ///
    /// Only items that may reach `m` are counted exactly. `m` is at least the `r`-th
    /// largest counter of the map, `floor`; the new items' weights are first summed
    /// into buckets (a one-row Count-Min of saturating one-byte counters, never below
    /// an item's weight unless full), and an item whose bucket is not full and at or
    /// below `floor` cannot exceed `m`.
    fn combine<'a, I, W>(
        &mut self,
        range: Range<usize>,
        item_at: &I,
        weight_at: &W,
        key: &item::TallyKey,
        scratch: &mut CombineScratch,
    ) -> u64
    where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        let start = range.start;
        let r = self.map.capacity() / 2;
        let rth_largest = |mut v: Vec<u64>| *v.select_nth_unstable_by(r - 1, |a, b| b.cmp(a)).1;
        // The floor is known once the span's hits are in the map; the last span's
        // predicts it (the counters only grow between purges).
        // Scaled by the spans' lengths: a span twice as long sums counts about twice as
        // high (the first spans of a block double in length).
        let predicted = scratch.last_floor * range.len() as u64 / scratch.last_len.max(1) as u64;
        let lg = lg_buckets(range.len(), predicted);
        scratch.last_len = range.len();
        let (index, used) = self.tally(range, item_at, weight_at, key, &mut scratch.parts, lg);
        // The parts' buckets summed into the first part's (no fresh 2 MiB table a span).
        if let Some((first, rest)) = scratch.parts[..used].split_first_mut() {
            for p in rest.iter() {
                for (b, w) in first.buckets.iter_mut().zip(&p.buckets) {
                    *b = b.saturating_add(*w);
                }
            }
        }
        let parts = &scratch.parts[..used];
        let buckets = &parts[0].buckets;
        let at = |r: u64| start + (r & 0xffff_ffff) as usize;
        let applied = self.add_hits(parts, &index, weight_at, start);
        let floor = rth_largest(self.map.active_values().collect());
        scratch.last_floor = floor;
        // The buckets that pass the floor, as bits (a full bucket may hold any weight):
        // the misses' reads of them stay in L1, where the buckets' bytes did not.
        passing_bits(buckets, floor.min(254) as u8, &mut scratch.passing);
        let passing = &scratch.passing;
        // Each part's misses on a core of its own (this was half of the serial time of a
        // span), which also reads its candidates' items and weights: they are scattered
        // over the span, and a loop of nothing but their loads has many in flight.
        let candidates: Vec<(T::Ref<'a>, u64)> = crate::bulk::par_map(parts, |p| {
            p.misses
                .iter()
                .filter(|&&r| {
                    let b = (r >> 32) as usize;
                    passing[b / 64] >> (b % 64) & 1 != 0
                })
                .map(|&r| {
                    let i = at(r);
                    (item_at(i).expect("misses are items"), weight_at(i))
                })
                .collect::<Vec<_>>()
        })
        .concat();
        let new_items = count_in_order::<T>(&candidates, key);
        let m = rth_largest(
            self.map
                .active_values()
                .chain(new_items.iter().map(|&(_, w)| w))
                .collect(),
        );
        self.map.subtract_and_keep_positive(m);
        for (item, w) in new_items {
            if w > m {
                self.map.adjust_or_insert(item, w - m);
            }
        }
        self.offset += m;
        applied
    }

    /// The parallel pass of a span (see [`TallyPart`]) into `parts`, with `2^lg` buckets;
    /// returns the index it looked keys up in and the number of parts used.
    fn tally<'a, I, W>(
        &self,
        range: Range<usize>,
        item_at: &I,
        weight_at: &W,
        key: &item::TallyKey,
        parts: &mut Vec<CombinePart>,
        lg: u32,
    ) -> (map::KeyIndex, usize)
    where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        let (start, map) = (range.start, &self.map);
        let index = map::KeyIndex::new(map, key);
        // Small maps take the hits' weights per entry in each part; large ones (whose
        // arrays would not stay in the caches) list the hits.
        let entries = if map.len() <= MAX_DELTA_SLOTS {
            index.num_entries()
        } else {
            0
        };
        let used = crate::bulk::par_parts_into(range, parts, CombinePart::default, |part, p| {
            p.clear(part.len(), entries, lg);
            crate::bulk::dispatch(TallyPart {
                map,
                index: &index,
                key,
                item_at,
                weight_at,
                part,
                start,
                lg,
                p,
                _items: std::marker::PhantomData,
            });
        });
        (index, used)
    }

    /// Adds the hits of a tallied span (first item `start`) to their counters; returns
    /// the weight of all the span's items.
    fn add_hits<W: Fn(usize) -> u64>(
        &mut self,
        parts: &[CombinePart],
        index: &map::KeyIndex,
        weight_at: &W,
        start: usize,
    ) -> u64 {
        let mut applied = 0u64;
        for p in parts {
            applied += p.applied;
            for (entry, &w) in p.deltas.iter().enumerate() {
                if let (true, Some(slot)) = (w != 0, index.slot(entry)) {
                    self.map.add_at(slot, w);
                }
            }
            for &r in &p.hits {
                let slot = index.slot((r >> 32) as usize).expect("hits have a slot");
                self.map
                    .add_at(slot, weight_at(start + (r & 0xffff_ffff) as usize));
            }
        }
        applied
    }

    /// Applies the items of `range` in order, except that those already in the map
    /// are added first, all at once, on every core (see
    /// [`Self::update_many_combined`]); returns their weight and whether any item made
    /// the map purge (as [`Self::update`] purges).
    fn hits_first<'a, I, W>(
        &mut self,
        range: Range<usize>,
        item_at: &I,
        weight_at: &W,
        key: &item::TallyKey,
        scratch: &mut CombineScratch,
    ) -> (u64, bool)
    where
        I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        let start = range.start;
        // Two buckets: the pass's buckets are not used here.
        let (index, used) = self.tally(range, item_at, weight_at, key, &mut scratch.parts, 1);
        let parts = &scratch.parts[..used];
        let applied = self.add_hits(parts, &index, weight_at, start);
        let mut purged = false;
        for &r in parts.iter().flat_map(|p| &p.misses) {
            let i = start + (r & 0xffff_ffff) as usize;
            let item = item_at(i).expect("misses are items");
            let w = weight_at(i);
            if purged || !self.apply_unless_purge(item, w) {
                purged = true;
                self.apply(item, w);
            }
        }
        (applied, purged)
    }

    /// Adds `other`'s items into this sketch: its counters are applied as weighted
    /// updates in Java's iteration order, then its total weight and error are added.
    /// The result answers for the concatenated streams within `epsilon` of the larger
    /// map. Sketches of different `lg_max_map_size` merge (the receiver keeps its own).
    pub fn merge(&mut self, other: &Self) -> Result<()> {
        self.merge_of(other, |item| item.as_item_ref())
    }

    /// [`Self::merge`] of a sketch whose items are stored as `U` and apply here as `item(u)`.
    fn merge_of<'o, U: FrequentItem>(
        &mut self,
        other: &'o FrequentItems<U>,
        item: impl Fn(&'o U) -> T::Ref<'o>,
    ) -> Result<()> {
        if other.is_empty() {
            return Ok(());
        }
        let total = self.checked_total(other.total_weight)?;
        for (u, count) in other.map.stride_order() {
            self.apply(item(u), count);
        }
        self.offset += other.offset;
        self.total_weight = total;
        Ok(())
    }

    /// The frequent items: rows with `lower_bound > t` ([`ErrorType::NoFalsePositives`])
    /// or `upper_bound > t` ([`ErrorType::NoFalseNegatives`]), heaviest estimate first,
    /// where `t = max(threshold, maximum_error())` (`None`: `maximum_error()`). Ties keep
    /// Java's iteration order.
    pub fn top(&self, error_type: ErrorType, threshold: Option<u64>) -> Vec<Row<T>> {
        let t = threshold.unwrap_or(0).max(self.offset);
        let mut rows: Vec<Row<T>> = self
            .map
            .stride_order()
            .filter(|&(_, lb)| match error_type {
                ErrorType::NoFalsePositives => lb > t,
                ErrorType::NoFalseNegatives => lb + self.offset > t,
            })
            .map(|(item, lb)| Row {
                item: item.clone(),
                estimate: lb + self.offset,
                lower_bound: lb,
                upper_bound: lb + self.offset,
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.estimate));
        rows
    }

    /// The DataSketches image of the sketch (see the module documentation).
    pub fn serialize(&self) -> Vec<u8> {
        let header = |pre_longs: u8, flags: u8| {
            [
                pre_longs,
                SERIAL_VERSION,
                FAMILY_ID,
                self.lg_max_map_size,
                self.map.lg_len(),
                flags,
                0,
                0,
            ]
        };
        if self.is_empty() {
            return header(PREAMBLE_LONGS_EMPTY, EMPTY_FLAGS).to_vec();
        }
        let n = self.map.num_active();
        let items_len: usize = self.map.slot_order().map(|(k, _)| k.encoded_len()).sum();
        let mut out = Vec::with_capacity(32 + 8 * n + items_len);
        out.extend_from_slice(&header(PREAMBLE_LONGS_NONEMPTY, 0));
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.total_weight.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        for (_, v) in self.map.slot_order() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for (k, _) in self.map.slot_order() {
            k.encode(&mut out);
        }
        out
    }

    /// Reads a DataSketches frequent-items image of this item kind (Java's, C++'s,
    /// datasketches-python's, Spark's or ours), rebuilding the map as DataSketches
    /// does: the items re-inserted in image order into a table of the image's size.
    ///
    /// Every field is checked: sizes in range and consistent, at least one byte per
    /// claimed item, positive counters summing to at most the total weight, no item
    /// twice, no trailing bytes, and a table larger than 2^16 slots only if the total
    /// weight could have filled its predecessor (so a short corrupt image cannot claim
    /// a huge allocation). Probe runs of 1024 slots or more, which DataSketches C++
    /// refuses too, are rejected, so crafted keys cannot make reading quadratic.
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 8 {
            return corrupt(format!(
                "a frequent items image has at least 8 bytes, got {}",
                bytes.len()
            ));
        }
        let (pre_longs, ser_ver, family) = (bytes[0], bytes[1], bytes[2]);
        let (lg_max, lg_cur, flags) = (bytes[3], bytes[4], bytes[5]);
        if family != FAMILY_ID {
            return corrupt(format!(
                "not a frequent items image: family {family}, expected {FAMILY_ID}"
            ));
        }
        if ser_ver != SERIAL_VERSION {
            return corrupt(format!(
                "frequent items serial version {ser_ver} is not supported (expected {SERIAL_VERSION})"
            ));
        }
        if !(LG_MIN_MAP_SIZE..=LG_MAX_MAP_SIZE).contains(&lg_max) {
            return corrupt(format!(
                "frequent items lg_max_map_size {lg_max} is outside {LG_MIN_MAP_SIZE} to {LG_MAX_MAP_SIZE}"
            ));
        }
        if !(LG_MIN_MAP_SIZE..=lg_max).contains(&lg_cur) {
            return corrupt(format!(
                "frequent items lg_cur_map_size {lg_cur} is outside {LG_MIN_MAP_SIZE} to {lg_max}"
            ));
        }
        let empty = flags & EMPTY_FLAGS != 0;
        if flags & !EMPTY_FLAGS != 0 {
            return corrupt(format!(
                "frequent items flags {flags:#04x} has unknown bits"
            ));
        }
        match (empty, pre_longs) {
            (true, PREAMBLE_LONGS_EMPTY) => {
                if bytes.len() != 8 {
                    return corrupt(format!(
                        "an empty frequent items image has 8 bytes, got {}",
                        bytes.len()
                    ));
                }
                // As Java: an empty sketch starts at the smallest table.
                return Ok(Self::with_sizes(lg_max, LG_MIN_MAP_SIZE));
            }
            (false, PREAMBLE_LONGS_NONEMPTY) => {}
            _ => {
                return corrupt(format!(
                    "frequent items preamble of {pre_longs} longs does not match the empty flag ({empty})"
                ))
            }
        }
        if bytes.len() < 32 {
            return corrupt(format!(
                "a non-empty frequent items image has at least 32 bytes, got {}",
                bytes.len()
            ));
        }
        let n = u32_at(bytes, 8) as usize;
        let total_weight = u64_at(bytes, 16);
        let offset = u64_at(bytes, 24);
        let cap = capacity_of(lg_cur);
        if n > cap {
            return corrupt(format!(
                "{n} frequent items cannot fit a table of 2^{lg_cur} slots (at most {cap})"
            ));
        }
        if total_weight == 0 || total_weight > MAX_TOTAL_WEIGHT {
            return corrupt(format!(
                "frequent items total weight {total_weight} is outside 1 to {MAX_TOTAL_WEIGHT}"
            ));
        }
        if offset > total_weight {
            return corrupt(format!(
                "frequent items maximum error {offset} exceeds the total weight {total_weight}"
            ));
        }
        // A table only doubles past 0.75 of its size in active items of weight >= 1.
        if lg_cur > LG_FREE_TABLE && (total_weight as u128) <= capacity_of(lg_cur - 1) as u128 {
            return corrupt(format!(
                "a total weight of {total_weight} cannot have grown the table to 2^{lg_cur} slots"
            ));
        }
        // Each item takes 8 bytes of counter and at least 4 of item.
        let body = &bytes[32..];
        if body.len() / 12 < n {
            return corrupt(format!(
                "frequent items image of {} bytes is too short for {n} items",
                bytes.len()
            ));
        }
        let (counters, mut items) = body.split_at(8 * n);
        let mut sketch = Self::with_sizes(lg_max, lg_cur);
        let mut sum = 0u64;
        let mut noncanonical_seen = false;
        for (i, c) in counters.chunks_exact(8).enumerate() {
            let count = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            sum = sum.saturating_add(count);
            if count == 0 || sum > total_weight {
                return corrupt(format!(
                    "frequent items counter {i} ({count}) is zero or the counters exceed the total weight {total_weight}"
                ));
            }
            let (item, used) = T::decode(items)?;
            items = &items[used..];
            noncanonical_seen |= !item.is_canonical();
            let before = sketch.map.num_active();
            let drift = sketch.map.adjust_or_insert(item.as_item_ref(), count);
            // Java keeps -0.0 and 0.0 (and NaN payloads) apart; here they are one item,
            // so such an image may legitimately name one item twice.
            if sketch.map.num_active() == before && !noncanonical_seen {
                return corrupt(format!("frequent items image holds item {item:?} twice"));
            }
            if drift >= 1024 {
                return corrupt(
                    "frequent items image items collide beyond DataSketches' probe limit (1024)",
                );
            }
        }
        if !items.is_empty() {
            return corrupt(format!(
                "frequent items image has {} bytes after its last item",
                items.len()
            ));
        }
        sketch.total_weight = total_weight;
        sketch.offset = offset;
        Ok(sketch)
    }

    /// A JSON summary (parameters, weights, error, the `NoFalsePositives` rows).
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<_> = self
            .top(ErrorType::NoFalsePositives, None)
            .into_iter()
            .map(|r| {
                json!({
                    "item": r.item.to_json(),
                    "estimate": r.estimate,
                    "lower_bound": r.lower_bound,
                    "upper_bound": r.upper_bound,
                })
            })
            .collect();
        json!({
            "family": "frequent_items",
            "item_type": T::TYPE_NAME,
            "lg_max_map_size": self.lg_max_map_size,
            "lg_cur_map_size": self.map.lg_len(),
            "empty": self.is_empty(),
            "total_weight": self.total_weight,
            "num_active_items": self.num_active_items(),
            "maximum_error": self.offset,
            "epsilon": self.epsilon(),
            "no_false_positives": rows,
        })
    }
}

/// Sets `bits` to a bit per byte of `bytes` (a multiple of 64 of them), in order: whether
/// it exceeds `threshold`.
fn passing_bits(bytes: &[u8], threshold: u8, bits: &mut Vec<u64>) {
    assert!(bytes.len().is_multiple_of(64));
    bits.clear();
    bits.reserve(bytes.len() / 64);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // Sixteen bytes a compare (SSE2, which every x86-64 processor has): b > t when
        // max(b, t + 1) == b; threshold + 1 does not overflow below 255.
        let above = threshold.saturating_add(1);
        // SAFETY: SSE2 is part of x86-64; each load reads 16 bytes of a 64-byte chunk.
        unsafe {
            let t = _mm_set1_epi8(above as i8);
            for c in bytes.chunks_exact(64) {
                let mut word = 0u64;
                for q in 0..4 {
                    let v = _mm_loadu_si128(c.as_ptr().add(16 * q).cast());
                    let pass = _mm_cmpeq_epi8(_mm_max_epu8(v, t), v);
                    word |= u64::from(_mm_movemask_epi8(pass) as u16) << (16 * q);
                }
                // Threshold 255: nothing exceeds it (max(b, 255) == b only for b = 255).
                bits.push(if threshold == u8::MAX { 0 } else { word });
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    bits.extend(bytes.chunks_exact(64).map(|c| {
        c.iter()
            .enumerate()
            .fold(0u64, |w, (k, &b)| w | u64::from(b > threshold) << k)
    }));
}

/// Asks the processor to bring the cache line at `x` into its caches. `x` need not be
/// valid: a prefetch never faults.
#[inline(always)]
fn prefetch<X>(x: *const X) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and has no effect a program can
    // observe but timing; it needs SSE, which every x86-64 processor has.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(x as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// The distinct items of `items` (item, weight) with their summed weights, in order of
/// first occurrence: a table of tally hashes at most half full, so that probes stay
/// short, keyed per bulk update so that no input can be crafted to collide.
fn count_in_order<'a, T: FrequentItem>(
    items: &[(T::Ref<'a>, u64)],
    key: &item::TallyKey,
) -> Vec<(T::Ref<'a>, u64)> {
    let len = (2 * items.len()).next_power_of_two().max(16);
    // (tally hash, position in `counted` + 1); 0: empty.
    let mut table = vec![(0u64, 0u32); len];
    let mut counted: Vec<(T::Ref<'a>, u64)> = Vec::new();
    for &(item, w) in items {
        let h = T::tally_hash(item, key);
        let mut probe = h as usize & (len - 1);
        loop {
            let (eh, pos) = table[probe];
            if pos == 0 {
                table[probe] = (h, counted.len() as u32 + 1);
                counted.push((item, w));
                break;
            }
            let entry = &mut counted[pos as usize - 1];
            if eh == h && (T::TALLY_HASH_INJECTIVE || T::same(entry.0, item)) {
                entry.1 = entry.1.saturating_add(w);
                break;
            }
            probe = (probe + 1) & (len - 1);
        }
    }
    counted
}

/// The two orders of int64 items (see [`JavaLong`]) hold the same items: each merges the
/// other, in the other's iteration order, as Java merges one sketch into another.
impl FrequentItems<i64> {
    pub fn merge_java_longs(&mut self, other: &FrequentItems<JavaLong>) -> Result<()> {
        self.merge_of(other, |v| v.0)
    }
}

impl FrequentItems<JavaLong> {
    pub fn merge_longs(&mut self, other: &FrequentItems<i64>) -> Result<()> {
        self.merge_of(other, |v| *v)
    }
}

#[cfg(test)]
pub(crate) mod tests;
