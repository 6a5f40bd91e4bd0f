//! Exact counting for the combining bulk path of [`super::FrequentItems`]: the distinct
//! items of a block with their summed weights, in the order of their first occurrence
//! in the block, computed on every core.
//!
//! A block of 2^21 items has up to as many distinct items (a zipf(1.1) stream has a
//! third of them distinct), so one hash table per thread would be tens of megabytes
//! and every access a cache miss. Instead the counting is radix-partitioned:
//!
//! 1. *Scatter* (parallel over parts of the block): each item's hash (keyed per bulk
//!    call, [`TallyKey`], so crafted input cannot make probes long) picks one of
//!    [`PARTS`] partitions; the part appends `(hash, index)` to that partition's list.
//! 2. *Count* (parallel over partitions): a partition's records, read part after part,
//!    come in increasing index order; a small table (it fits the caches) sums the
//!    weights of equal items and lists each distinct item at its first index.
//! 3. *Order*: each distinct item marks its first index; walking the marks in index
//!    order and taking the next item of the marked item's partition (each partition's
//!    list is in index order) yields the distinct items in order of first occurrence
//!    in the block.
//!
//! Nothing here depends on how the block was split into parts or partitions handed to
//! threads, so the result does not depend on the number of threads. For 64-bit items
//! the hash is a bijection of the item, so tables compare hashes only and never read
//! the input again.

use super::item::{FrequentItem, TallyKey};
use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};

/// Log2 of the number of partitions. 512 partitions keep a partition of a full block
/// (2^12 records on average) in a table of a few thousand slots, near L1.
const LG_PARTS: u32 = 9;
const PARTS: usize = 1 << LG_PARTS;

/// One item occurrence of a partition: its tally hash and index in the input.
#[derive(Clone, Copy)]
struct Record {
    hash: u64,
    index: u32,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    /// 0 for an empty slot (only positive weights are counted).
    weight: u64,
    /// Position of the item in the partition's list of distinct items.
    pos: u32,
}

/// The partition of a hash: its high bits (the low ones index the tables).
#[inline(always)]
fn partition_of(hash: u64) -> usize {
    (hash >> (64 - LG_PARTS)) as usize
}

/// The distinct items of a block with their summed weights.
pub(crate) struct Tally {
    /// Per partition: (first index, summed weight) of each distinct item, in index
    /// order. Weights saturate at `u64::MAX`.
    lists: Vec<Vec<(u32, u64)>>,
    /// Per item of the block: 1 where a distinct item is first seen, else 0.
    marks: Vec<AtomicU8>,
}

impl Tally {
    /// Calls `f(item, summed weight)` for the distinct items of `block` (the block this
    /// tally counted), in order of first occurrence.
    pub(crate) fn for_each_in_order<'a, T, I>(
        &self,
        block: Range<usize>,
        item_at: &I,
        key: &TallyKey,
        mut f: impl FnMut(T::Ref<'a>, u64),
    ) where
        T: FrequentItem,
        I: Fn(usize) -> Option<T::Ref<'a>>,
    {
        let mut cursors = vec![0usize; PARTS];
        for (i, m) in self.marks.iter().enumerate() {
            if m.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let item = item_at(block.start + i).expect("counted items exist");
            let p = partition_of(T::tally_hash(item, key));
            let (index, weight) = self.lists[p][cursors[p]];
            debug_assert_eq!(index as usize, i);
            cursors[p] += 1;
            f(item, weight);
        }
    }
}

/// `f(part, out)` for consecutive parts of `range` on every core, returning what the
/// parts pushed, in range order: the crate's bulk driver, the one place this module
/// names it.
fn on_every_core<X: Send>(
    range: Range<usize>,
    f: impl Fn(Range<usize>, &mut Vec<X>) + Sync,
) -> Vec<X> {
    crate::bulk::par_parts(range, f)
}

/// Counts the items of `block` (`None` and weight 0: nothing).
pub(crate) fn tally<'a, T, I, W>(
    block: Range<usize>,
    item_at: &I,
    weight_at: &W,
    key: &TallyKey,
) -> Tally
where
    T: FrequentItem,
    I: Fn(usize) -> Option<T::Ref<'a>> + Sync,
    W: Fn(usize) -> u64 + Sync,
{
    let start = block.start;
    let n = block.len();
    assert!(n <= u32::MAX as usize, "blocks are indexed by u32");
    // 1. Scatter: one vector of records per partition, per part.
    let scattered: Vec<Vec<Vec<Record>>> = on_every_core(block.clone(), |part, out| {
        let mut lists: Vec<Vec<Record>> = (0..PARTS)
            .map(|_| Vec::with_capacity(part.len() / PARTS + part.len() / (4 * PARTS)))
            .collect();
        for i in part {
            if weight_at(i) == 0 {
                continue;
            }
            if let Some(item) = item_at(i) {
                let hash = T::tally_hash(item, key);
                lists[partition_of(hash)].push(Record {
                    hash,
                    index: (i - start) as u32,
                });
            }
        }
        out.push(lists);
    });
    // 2. Count: partitions dealt to the parts of a second split of the block; a part
    // owns the partitions whose share of the block starts inside it.
    let marks: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(0)).collect();
    let owned =
        |part: Range<usize>| (0..PARTS).filter(move |p| part.contains(&(start + p * n / PARTS)));
    let counted: Vec<Vec<(u32, u64)>> = on_every_core(block, |part, out| {
        let mut table = Vec::new();
        for p in owned(part) {
            let len: usize = scattered.iter().map(|s| s[p].len()).sum();
            let records = scattered
                .iter()
                .flat_map(|s| s[p].iter().copied())
                .take(len);
            let list = count_partition::<T, _, _>(records, &mut table, start, item_at, weight_at);
            for &(index, _) in &list {
                marks[index as usize].store(1, Ordering::Relaxed);
            }
            out.push(list);
        }
    });
    debug_assert_eq!(counted.len(), PARTS);
    Tally {
        lists: counted,
        marks,
    }
}

/// Sums the weights of equal items among `records` (in increasing index order) in
/// `table` (reused between partitions); returns (first index, weight) per distinct
/// item, in index order.
fn count_partition<'a, T, I, W>(
    records: impl Iterator<Item = Record>,
    table: &mut Vec<Slot>,
    start: usize,
    item_at: &I,
    weight_at: &W,
) -> Vec<(u32, u64)>
where
    T: FrequentItem,
    I: Fn(usize) -> Option<T::Ref<'a>>,
    W: Fn(usize) -> u64,
{
    // About as many slots as records (at most 2^16 to start): few partitions grow.
    let slots = records
        .size_hint()
        .0
        .next_power_of_two()
        .clamp(1 << 10, 1 << 16);
    table.clear();
    table.resize(slots, Slot::default());
    let mut list: Vec<(u32, u64)> = Vec::new();
    let item = |index: u32| item_at(start + index as usize).expect("recorded items exist");
    for r in records {
        let w = weight_at(start + r.index as usize);
        let mask = table.len() - 1;
        let mut probe = r.hash as usize & mask;
        loop {
            let slot = &mut table[probe];
            if slot.weight == 0 {
                *slot = Slot {
                    hash: r.hash,
                    weight: w,
                    pos: list.len() as u32,
                };
                list.push((r.index, 0));
                // At most half full: probe runs stay short.
                if 2 * list.len() > table.len() {
                    grow(table);
                }
                break;
            }
            if slot.hash == r.hash
                && (T::TALLY_HASH_INJECTIVE
                    || T::same(item(list[slot.pos as usize].0), item(r.index)))
            {
                slot.weight = slot.weight.saturating_add(w);
                break;
            }
            probe = (probe + 1) & mask;
        }
    }
    for s in table.iter().filter(|s| s.weight != 0) {
        list[s.pos as usize].1 = s.weight;
    }
    list
}

#[cold]
fn grow(table: &mut Vec<Slot>) {
    let old = std::mem::replace(table, vec![Slot::default(); 2 * table.len()]);
    let mask = table.len() - 1;
    for s in old.into_iter().filter(|s| s.weight != 0) {
        let mut probe = s.hash as usize & mask;
        while table[probe].weight != 0 {
            probe = (probe + 1) & mask;
        }
        table[probe] = s;
    }
}
