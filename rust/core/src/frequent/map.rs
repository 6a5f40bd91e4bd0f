//! The reverse-purge hash map of DataSketches' frequent-items sketches, slot for slot as
//! datasketches-java keeps it: linear probing from `fmix64(key) & mask`, a drift per
//! occupied slot (its distance from the home slot, plus one), deletion that moves later
//! members of the cluster back, and a purge that subtracts an approximate median and
//! deletes the counters that reach zero, walking clusters from their high end.

use super::item::{FrequentItem, ShortKey, TallyKey};

/// MurmurHash3's 64-bit finaliser: DataSketches' slot hash for frequent items.
#[inline(always)]
pub(crate) fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The fraction of slots that may be occupied before the map grows or purges.
const LOAD_FACTOR: f64 = 0.75;

/// Iteration stride of merges and queries: a golden-ratio step over the table, as
/// DataSketches walks it (so merged maps do not inherit the source's clustering).
const INVERSE_GOLDEN: f64 = 0.618_033_988_749_894_9;

#[derive(Debug, Clone)]
pub(crate) struct ReversePurgeMap<T> {
    lg_len: u8,
    keys: Vec<T>,
    values: Vec<u64>,
    /// 0: empty; otherwise the drift of the slot's key. 32 bits, not Java's 16, so that
    /// no cluster length (however adversarial the keys) can wrap it.
    states: Vec<u32>,
    num_active: usize,
}

/// The number of keys a table of `2^lg_len` slots holds before it must grow or purge.
pub(crate) fn capacity_of(lg_len: u8) -> usize {
    ((1u64 << lg_len) as f64 * LOAD_FACTOR) as usize
}

impl<T: FrequentItem> ReversePurgeMap<T> {
    pub(crate) fn new(lg_len: u8) -> Self {
        let len = 1usize << lg_len;
        Self {
            lg_len,
            keys: vec![T::default(); len],
            values: vec![0; len],
            states: vec![0; len],
            num_active: 0,
        }
    }

    pub(crate) fn lg_len(&self) -> u8 {
        self.lg_len
    }

    pub(crate) fn num_active(&self) -> usize {
        self.num_active
    }

    /// The number of slots.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        capacity_of(self.lg_len)
    }

    #[inline(always)]
    fn home(&self, r: T::Ref<'_>) -> usize {
        fmix64(T::java_hash_input(r)) as usize & (self.keys.len() - 1)
    }

    /// The slot of `r`, whose Java hash input is `input`, if it is in the map.
    #[inline(always)]
    pub(crate) fn find(&self, r: T::Ref<'_>, input: u64) -> Option<usize> {
        let mask = self.keys.len() - 1;
        let mut probe = fmix64(input) as usize & mask;
        while self.states[probe] > 0 {
            if self.keys[probe].is(r) {
                return Some(probe);
            }
            probe = (probe + 1) & mask;
        }
        None
    }

    /// Adds `amount` to the counter in `slot` (one [`Self::find`] returned).
    #[inline(always)]
    pub(crate) fn add_at(&mut self, slot: usize, amount: u64) {
        self.values[slot] += amount;
    }

    /// The counters of the active slots.
    pub(crate) fn active_values(&self) -> impl Iterator<Item = u64> + '_ {
        self.values
            .iter()
            .zip(&self.states)
            .filter(|(_, s)| **s > 0)
            .map(|(v, _)| *v)
    }

    /// The counter of `r`, 0 when it is not in the map.
    pub(crate) fn get(&self, r: T::Ref<'_>) -> u64 {
        let mask = self.keys.len() - 1;
        let mut probe = self.home(r);
        while self.states[probe] > 0 {
            if self.keys[probe].is(r) {
                return self.values[probe];
            }
            probe = (probe + 1) & mask;
        }
        0
    }

    /// Adds `amount` to the counter of `r`, inserting it if absent. Returns the drift
    /// of a new key (its probe distance plus one), 0 when the key was present.
    #[inline(always)]
    pub(crate) fn adjust_or_insert(&mut self, r: T::Ref<'_>, amount: u64) -> u32 {
        let mask = self.keys.len() - 1;
        let mut probe = self.home(r);
        let mut drift = 1u32;
        while self.states[probe] != 0 {
            if self.keys[probe].is(r) {
                self.values[probe] += amount;
                return 0;
            }
            probe = (probe + 1) & mask;
            drift += 1;
        }
        self.keys[probe] = T::to_item(r);
        self.values[probe] = amount;
        self.states[probe] = drift;
        self.num_active += 1;
        drift
    }

    /// Doubles the table, re-inserting the keys in slot order (as Java does).
    pub(crate) fn grow(&mut self) {
        let old = std::mem::replace(self, Self::new(self.lg_len + 1));
        for ((k, v), s) in old.keys.iter().zip(old.values).zip(old.states) {
            if s > 0 {
                self.adjust_or_insert(k.as_item_ref(), v);
            }
        }
    }

    /// Subtracts an approximate median of the counters from every counter and deletes
    /// those left at zero; returns the median. The median is that of the first
    /// `min(sample_size, num_active)` counters in slot order, element `limit / 2` of
    /// them sorted (Java's `QuickSelect.select(samples, 0, n - 1, limit / 2)`).
    pub(crate) fn purge(&mut self, sample_size: usize) -> u64 {
        let limit = sample_size.min(self.num_active);
        let mut samples = Vec::with_capacity(limit);
        for (v, s) in self.values.iter().zip(&self.states) {
            if samples.len() == limit {
                break;
            }
            if *s > 0 {
                samples.push(*v);
            }
        }
        let median = *samples.select_nth_unstable(limit / 2).1;
        self.subtract_and_keep_positive(median);
        median
    }

    pub(crate) fn subtract_and_keep_positive(&mut self, amount: u64) {
        for (v, s) in self.values.iter_mut().zip(&self.states) {
            if *s > 0 {
                *v = v.saturating_sub(amount);
            }
        }
        // Clusters are walked from their high end, starting below an empty slot so
        // that no cluster wraps around the walk; the skipped top cluster comes last.
        let len = self.keys.len();
        let mut first_empty = len - 1;
        while self.states[first_empty] > 0 {
            first_empty -= 1;
        }
        for probe in (0..first_empty).rev().chain((first_empty..len).rev()) {
            if self.states[probe] > 0 && self.values[probe] == 0 {
                self.delete(probe);
                self.num_active -= 1;
            }
        }
    }

    /// Empties slot `at`, moving back any later key of the cluster that may fill it.
    fn delete(&mut self, mut at: usize) {
        self.states[at] = 0;
        let mask = self.keys.len() - 1;
        let mut drift = 1u32;
        let mut probe = (at + 1) & mask;
        while self.states[probe] != 0 {
            if self.states[probe] > drift {
                self.keys.swap(at, probe);
                self.values[at] = self.values[probe];
                self.states[at] = self.states[probe] - drift;
                self.states[probe] = 0;
                drift = 0;
                at = probe;
            }
            probe = (probe + 1) & mask;
            drift += 1;
        }
    }

    /// The active (key, counter) pairs in slot order: the order of Java's images.
    pub(crate) fn slot_order(&self) -> impl Iterator<Item = (&T, u64)> {
        self.keys
            .iter()
            .zip(&self.values)
            .zip(&self.states)
            .filter(|(_, s)| **s > 0)
            .map(|((k, v), _)| (k, *v))
    }

    /// The active pairs in Java's iterator order: slot 0, then golden-ratio strides
    /// (odd, so every slot is visited once). Merges and queries walk this order.
    pub(crate) fn stride_order(&self) -> impl Iterator<Item = (&T, u64)> {
        let len = self.keys.len();
        let stride = ((len as f64 * INVERSE_GOLDEN) as usize) | 1;
        let mask = len - 1;
        (0..len)
            .map(move |j| (j * stride) & mask)
            .filter(|&i| self.states[i] > 0)
            .map(|i| (&self.keys[i], self.values[i]))
    }
}

/// Lanes of one group of a [`KeyIndex`]: a cache line of tally hashes.
const LANES: usize = 8;
/// Entries per group: its lanes, then one for the items that miss it.
pub(crate) const GROUP_ENTRIES: usize = LANES + 1;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Group([u64; LANES]);

/// A read-only index of a map's keys for the combining bulk path: the keys' tally hashes
/// in groups of 8 lanes (a cache line), a group per two keys or so, lanes filled from the
/// first. A lookup compares its group's 8 lanes at once and takes the first equal one,
/// without a branch on the outcome: whether an item is in the map is a coin toss on
/// skewed streams, and the walk of a linear-probing table (the map's own, or an index
/// a quarter full) mispredicted its end often enough to halve the speed of the pass
/// (zipf(1.1) int64: 50 M items/s per core with the table a quarter full, 116 M with
/// the groups, on a Sapphire Rapids Xeon).
///
/// A lookup gives an *entry*: `group * 9 + lane`, or `group * 9 + 8` when the item is
/// in no lane of its group; keys that found their group full follow, each an entry of
/// its own. Entries index per-part arrays (the hits' weights) without a branch.
pub(crate) struct KeyIndex {
    groups: Vec<Group>,
    /// The map slot + 1 of each entry (0: no key).
    slots: Vec<u32>,
    /// (tally hash, map slot) of the keys whose group was full, in entry order.
    overflow: Vec<(u64, u32)>,
    /// A value that is no key's tally hash, marking free lanes.
    free: u64,
    /// The [`ShortKey`] of each entry's key (empty for items whose tally hash is
    /// injective): a found key is compared with the item in one read of this array, not
    /// through its map slot and string (three reads, one after the other).
    short: Vec<ShortKey>,
}

impl KeyIndex {
    pub(crate) fn new<T: FrequentItem>(map: &ReversePurgeMap<T>, key: &TallyKey) -> Self {
        let mut index = Self::from_hashes(
            (0..map.len())
                .filter(|&slot| map.states[slot] > 0)
                .map(|slot| {
                    (
                        T::tally_hash(map.keys[slot].as_item_ref(), key),
                        slot as u32,
                    )
                })
                .collect(),
        );
        index.fill_short_keys(map);
        index
    }

    /// Fills [`Self::short`] with the short keys of `map`'s keys, whose slots it holds.
    fn fill_short_keys<T: FrequentItem>(&mut self, map: &ReversePurgeMap<T>) {
        if !T::TALLY_HASH_INJECTIVE {
            self.short = (0..self.num_entries())
                .map(|entry| match self.slot(entry) {
                    Some(slot) => T::short_key(map.keys[slot].as_item_ref()),
                    None => ShortKey::default(),
                })
                .collect();
        }
    }

    /// The index of keys given as (tally hash, map slot).
    fn from_hashes(keys: Vec<(u64, u32)>) -> Self {
        let free = (0..)
            .find(|f| keys.iter().all(|&(h, _)| h != *f))
            .expect("fewer keys than u64 values");
        let num_groups = (keys.len().next_power_of_two() / 2).max(1);
        let mut groups = vec![Group([free; LANES]); num_groups];
        let mut slots = vec![0u32; num_groups * GROUP_ENTRIES];
        let mut overflow = Vec::new();
        for &(h, slot) in &keys {
            let g = h as usize & (num_groups - 1);
            match groups[g].0.iter().position(|&lane| lane == free) {
                Some(lane) => {
                    groups[g].0[lane] = h;
                    slots[g * GROUP_ENTRIES + lane] = slot + 1;
                }
                None => overflow.push((h, slot)),
            }
        }
        slots.extend(overflow.iter().map(|&(_, slot)| slot + 1));
        KeyIndex {
            groups,
            slots,
            overflow,
            free,
            short: Vec::new(),
        }
    }

    /// The number of entries (see the type's documentation).
    pub(crate) fn num_entries(&self) -> usize {
        self.slots.len()
    }

    /// The map slot of `entry`, if a key has it.
    pub(crate) fn slot(&self, entry: usize) -> Option<usize> {
        self.slots[entry].checked_sub(1).map(|s| s as usize)
    }

    /// The index's fields for a loop of lookups (see [`KeyView`]).
    #[inline(always)]
    pub(crate) fn view(&self) -> KeyView<'_> {
        KeyView {
            index: self,
            groups: self.groups.as_ptr(),
            mask: self.groups.len() - 1,
            free: self.free,
            slots: self.slots.as_ptr(),
            short: self.short.as_ptr(),
        }
    }

    /// [`KeyView::entry`] by comparing every candidate key.
    #[cold]
    #[inline(never)]
    fn entry_exactly<T: FrequentItem>(
        &self,
        map: &ReversePurgeMap<T>,
        r: T::Ref<'_>,
        h: u64,
    ) -> (usize, bool) {
        let g = h as usize & (self.groups.len() - 1);
        let is = |slot: u32| T::TALLY_HASH_INJECTIVE || map.keys[slot as usize].is(r);
        for (lane, &lh) in self.groups[g].0.iter().enumerate() {
            let entry = g * GROUP_ENTRIES + lane;
            if lh == h && self.slots[entry] != 0 && is(self.slots[entry] - 1) {
                return (entry, true);
            }
        }
        let first_overflow = self.groups.len() * GROUP_ENTRIES;
        for (k, &(oh, slot)) in self.overflow.iter().enumerate() {
            if oh == h && is(slot) {
                return (first_overflow + k, true);
            }
        }
        (g * GROUP_ENTRIES + LANES, false)
    }
}

/// A [`KeyIndex`] as a loop of lookups reads it: plain values, which the loop keeps in
/// registers. Read through the index, its fields were loaded again for every item (the
/// loop's stores, through pointers, might have changed them for all the compiler knew).
#[derive(Clone, Copy)]
pub(crate) struct KeyView<'i> {
    index: &'i KeyIndex,
    groups: *const Group,
    /// The number of groups - 1 (a power of two - 1).
    mask: usize,
    free: u64,
    slots: *const u32,
    short: *const ShortKey,
}

impl KeyView<'_> {
    /// Prefetches the group a lookup of tally hash `h` reads.
    #[inline(always)]
    pub(crate) fn prefetch(&self, h: u64) {
        super::prefetch(self.groups.wrapping_add(h as usize & self.mask));
    }

    /// The entry of tally hash `h` and whether a key has that hash, unless the case is
    /// rare (a hash equal to the free mark, or a miss in a full group, whose key may have
    /// overflowed): then `None`, and [`Self::entry`] answers. `AVX512`: compiled for
    /// AVX-512 (see [`crate::bulk::dispatch`]), the lanes compared in one instruction.
    #[inline(always)]
    pub(crate) fn entry_of_hash<const AVX512: bool>(&self, h: u64) -> Option<(usize, bool)> {
        let g = h as usize & self.mask;
        // SAFETY: g is at most mask, below the number of groups, which the index (that
        // the view borrows) holds unchanged.
        let lanes = unsafe { &(*self.groups.add(g)).0 };
        let lane = first_equal::<AVX512>(lanes, h);
        let found = lane < LANES;
        // One branch that is almost never taken; bitwise, so that no branch depends on
        // `found`.
        let rare = (h == self.free) | (!found & (lanes[LANES - 1] != self.free));
        (!rare).then_some((g * GROUP_ENTRIES + lane, found))
    }

    /// The entry of `r`, whose tally hash is `h`, and whether `r` is in the map.
    #[inline(always)]
    pub(crate) fn entry<const AVX512: bool, T: FrequentItem>(
        &self,
        map: &ReversePurgeMap<T>,
        r: T::Ref<'_>,
        h: u64,
    ) -> (usize, bool) {
        match self.entry_of_hash::<AVX512>(h) {
            // Items whose hashes may collide compare the key they found. (A compare made
            // branch-free by reading a miss's entry too measured no faster.)
            Some((entry, found))
                if T::TALLY_HASH_INJECTIVE || !found || self.holds(map, entry, r) =>
            {
                (entry, found)
            }
            _ => self.index.entry_exactly(map, r, h),
        }
    }

    /// Whether the key of `entry`, a found one, is `r` (for items whose tally hashes may
    /// collide): by their short keys, then, for a long item, whole.
    #[inline(always)]
    fn holds<T: FrequentItem>(
        &self,
        map: &ReversePurgeMap<T>,
        entry: usize,
        r: T::Ref<'_>,
    ) -> bool {
        // SAFETY: a found entry is a lane's, below the number of entries, and `short`
        // has one per entry where the tally hash is not injective.
        if T::short_key(r) != unsafe { *self.short.add(entry) } {
            return false;
        }
        T::short_key_decides(r) || {
            // SAFETY: as above; a found entry has a slot.
            let slot = unsafe { *self.slots.add(entry) } as usize - 1;
            map.keys[slot].is(r)
        }
    }
}

/// The first lane of `lanes` equal to `h`, or [`LANES`] if none is.
#[inline(always)]
fn first_equal<const AVX512: bool>(lanes: &[u64; LANES], h: u64) -> usize {
    #[cfg(target_arch = "x86_64")]
    if AVX512 {
        use std::arch::x86_64::{_mm512_cmpeq_epi64_mask, _mm512_loadu_si512, _mm512_set1_epi64};
        // SAFETY: AVX512 is true only in code compiled for AVX-512 and run on a
        // processor that has it (`bulk::dispatch`); the load reads the 64 bytes of `lanes`.
        let equal = unsafe {
            _mm512_cmpeq_epi64_mask(
                _mm512_loadu_si512(lanes.as_ptr().cast()),
                _mm512_set1_epi64(h as i64),
            )
        };
        return (u32::from(equal) | 1 << LANES).trailing_zeros() as usize;
    }
    // Selects, not branches (measured 74 M items/s per core against 61 for a mask
    // built lane by lane, on the baseline x86-64 build).
    let mut first = LANES;
    for lane in (0..LANES).rev() {
        first = if lanes[lane] == h { lane } else { first };
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of<T: FrequentItem>(items: &[T::Ref<'_>]) -> (ReversePurgeMap<T>, Vec<u32>) {
        let mut map = ReversePurgeMap::<T>::new(6);
        let slots = items
            .iter()
            .map(|&r| {
                map.adjust_or_insert(r, 1);
                map.find(r, T::java_hash_input(r)).unwrap() as u32
            })
            .collect();
        (map, slots)
    }

    /// The map slot a lookup finds, asserting that both builds of the lookup agree.
    fn lookup<T: FrequentItem>(
        index: &KeyIndex,
        map: &ReversePurgeMap<T>,
        r: T::Ref<'_>,
        h: u64,
    ) -> Option<usize> {
        let (entry, found) = index.view().entry::<false, T>(map, r, h);
        #[cfg(target_arch = "x86_64")]
        if crate::bulk::has_avx512() {
            // SAFETY: the processor has AVX-512.
            let vector = unsafe { entry_avx512(index, map, r, h) };
            assert_eq!(vector, (entry, found), "the AVX-512 build differs");
        }
        found.then(|| index.slot(entry).expect("a found entry has a slot"))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512cd")]
    unsafe fn entry_avx512<T: FrequentItem>(
        index: &KeyIndex,
        map: &ReversePurgeMap<T>,
        r: T::Ref<'_>,
        h: u64,
    ) -> (usize, bool) {
        index.view().entry::<true, T>(map, r, h)
    }

    #[test]
    fn full_groups_overflow_and_every_key_is_found() {
        // 20 keys whose hashes all choose group 0: 8 lanes, then 12 overflow entries.
        let items: Vec<i64> = (0..20).collect();
        let (map, slots) = map_of::<i64>(&items);
        let hash = |x: i64| (x as u64 + 1) << 40;
        let index = KeyIndex::from_hashes(
            items
                .iter()
                .zip(&slots)
                .map(|(&x, &s)| (hash(x), s))
                .collect(),
        );
        assert_eq!(index.overflow.len(), 12);
        for (&x, &slot) in items.iter().zip(&slots) {
            assert_eq!(
                lookup(&index, &map, x, hash(x)),
                Some(slot as usize),
                "key {x}"
            );
        }
        // Misses in the full group, and elsewhere.
        assert_eq!(lookup(&index, &map, 99, hash(99)), None);
        assert_eq!(lookup(&index, &map, 99, 7), None);
    }

    #[test]
    fn a_hash_equal_to_the_free_mark_is_not_a_key() {
        let (map, slots) = map_of::<i64>(&[5, 6]);
        // Key 5 hashes to 0, the first free mark tried: free lanes are marked 1.
        let index = KeyIndex::from_hashes(vec![(0, slots[0]), (2, slots[1])]);
        assert_eq!(index.free, 1);
        assert_eq!(lookup(&index, &map, 5, 0), Some(slots[0] as usize));
        assert_eq!(lookup(&index, &map, 6, 2), Some(slots[1] as usize));
        assert_eq!(lookup(&index, &map, 7, 1), None);
    }

    #[test]
    fn strings_with_one_hash_are_told_apart_by_their_keys() {
        let (map, slots) = map_of::<String>(&["a", "b"]);
        let mut index = KeyIndex::from_hashes(vec![(42, slots[0]), (42, slots[1])]);
        index.fill_short_keys(&map);
        assert_eq!(lookup(&index, &map, "a", 42), Some(slots[0] as usize));
        assert_eq!(lookup(&index, &map, "b", 42), Some(slots[1] as usize));
        assert_eq!(lookup(&index, &map, "c", 42), None);
        // Long keys alike in length and in their first and last 8 bytes (their short
        // keys) are compared whole; so is a short item against a long key.
        let (long_a, long_b) = ("abcdefgh-left-12345678", "abcdefgh-rght-12345678");
        let (map, slots) = map_of::<String>(&[long_a, "x"]);
        let mut index = KeyIndex::from_hashes(vec![(7, slots[0]), (9, slots[1])]);
        index.fill_short_keys(&map);
        assert_eq!(lookup(&index, &map, long_a, 7), Some(slots[0] as usize));
        assert_eq!(lookup(&index, &map, long_b, 7), None);
        assert_eq!(lookup(&index, &map, "abcdefgh", 7), None);
        assert_eq!(lookup(&index, &map, "x", 9), Some(slots[1] as usize));
        assert_eq!(lookup(&index, &map, "y", 9), None);
    }
}
