//! The reverse-purge hash map of DataSketches' frequent-items sketches, slot for slot as
//! datasketches-java keeps it: linear probing from `fmix64(key) & mask`, a drift per
//! occupied slot (its distance from the home slot, plus one), deletion that moves later
//! members of the cluster back, and a purge that subtracts an approximate median and
//! deletes the counters that reach zero, walking clusters from their high end.

use super::item::{FrequentItem, TallyKey};

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

/// A read-only index of a map's keys for the combining bulk path: the keys' tally hashes
/// in a table at most a quarter full, so that a lookup, found or not, takes about one
/// probe (the map itself, three quarters full, walks about eight slots to miss).
pub(crate) struct KeyIndex {
    /// (tally hash, slot of the map + 1); 0 marks an empty entry.
    entries: Vec<(u64, u32)>,
}

impl KeyIndex {
    pub(crate) fn new<T: FrequentItem>(map: &ReversePurgeMap<T>, key: &TallyKey) -> Self {
        let len = (4 * map.num_active).next_power_of_two().max(16);
        let mut entries = vec![(0u64, 0u32); len];
        for (slot, (k, s)) in map.keys.iter().zip(&map.states).enumerate() {
            if *s > 0 {
                let h = T::tally_hash(k.as_item_ref(), key);
                let mut probe = h as usize & (len - 1);
                while entries[probe].1 != 0 {
                    probe = (probe + 1) & (len - 1);
                }
                entries[probe] = (h, slot as u32 + 1);
            }
        }
        KeyIndex { entries }
    }

    /// Prefetches the first entry a lookup of tally hash `h` reads.
    #[inline(always)]
    pub(crate) fn prefetch(&self, h: u64) {
        super::prefetch(&self.entries[h as usize & (self.entries.len() - 1)]);
    }

    /// The map slot of `r`, whose tally hash is `h`, plus one; 0 if it is not in the map.
    #[inline(always)]
    pub(crate) fn slot_plus_one<T: FrequentItem>(
        &self,
        map: &ReversePurgeMap<T>,
        r: T::Ref<'_>,
        h: u64,
    ) -> u32 {
        let mask = self.entries.len() - 1;
        let mut probe = h as usize & mask;
        loop {
            let (eh, slot) = self.entries[probe];
            // One branch for both ends of the walk (an empty entry, the item): which
            // one it is varies from item to item, that the walk ends mostly does not.
            if ((slot == 0) | (eh == h))
                && (slot == 0 || T::TALLY_HASH_INJECTIVE || map.keys[slot as usize - 1].is(r))
            {
                return slot;
            }
            probe = (probe + 1) & mask;
        }
    }
}
