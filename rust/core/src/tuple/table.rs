//! The QuickSelect hash table of the update sketch and the union, with a summary per slot.
//!
//! Theta's table ([`crate::theta`]) with the summaries alongside: the same probing
//! ([`HashTable::find`]), starting size, growth and rebuild thresholds. Unlike Theta's, a
//! rebuild re-inserts the survivors in slot order, as Java's tuple `QuickSelectSketch`
//! does, so that the same updates in the same order leave every entry in the slot Java
//! leaves it in: a compact image lists the entries in slot order, and that is what makes
//! our images byte-identical to Spark's.

use crate::theta::table::{capacity, starting_lg_size, starting_theta, HashTable};
use crate::theta::LG_RESIZE_FACTOR;

use super::summary::{combine, Summary, SummaryMode};

#[derive(Clone, Debug)]
pub(crate) struct TupleTable<S: Summary> {
    pub(crate) lg_cur: u8,
    pub(crate) lg_nom: u8,
    pub(crate) theta: u64,
    pub(crate) is_empty: bool,
    pub(crate) num_entries: u32,
    /// `1 << lg_cur` slots; 0 = empty.
    pub(crate) slots: Vec<u64>,
    /// The summary of each occupied slot (unspecified where the slot is empty).
    pub(crate) summaries: Vec<S>,
    capacity: u32,
}

impl<S: Summary> TupleTable<S> {
    /// A fresh table of nominal size `2^lg_nom` with sampling probability `p`.
    pub(crate) fn new(lg_nom: u8, p: f32) -> Self {
        let lg_cur = starting_lg_size(lg_nom, LG_RESIZE_FACTOR);
        TupleTable {
            lg_cur,
            lg_nom,
            theta: starting_theta(p),
            is_empty: true,
            num_entries: 0,
            slots: vec![0; 1 << lg_cur],
            summaries: vec![S::new(SummaryMode::Sum); 1 << lg_cur],
            capacity: capacity(lg_cur, lg_nom),
        }
    }

    /// Java's `insertOrIgnore`: a key (theta hash) seen with `value`. The sketch is no
    /// longer empty even if the hash is at or above theta. A hash of 0 (probability
    /// 2^-63) is not a key: it marks empty slots.
    #[inline]
    pub(crate) fn update(&mut self, hash: u64, value: S::Value, mode: SummaryMode) {
        self.is_empty = false;
        if hash >= self.theta || hash == 0 {
            return;
        }
        let (index, found) = HashTable::find(&self.slots, self.lg_cur, hash);
        if !found {
            self.slots[index] = hash;
            self.summaries[index] = S::new(mode);
            self.num_entries += 1;
        }
        self.summaries[index].update(value);
        if !found {
            self.rebuild_if_needed();
        }
    }

    /// Java's `QuickSelectSketch.merge`: an entry of another sketch; an entry already
    /// present is combined with it by `mode`, a new one is a copy.
    pub(crate) fn merge(&mut self, hash: u64, summary: &S, mode: SummaryMode) {
        self.is_empty = false;
        if hash == 0 || hash >= self.theta {
            return;
        }
        let (index, found) = HashTable::find(&self.slots, self.lg_cur, hash);
        if found {
            self.summaries[index] = combine(mode, &self.summaries[index], summary);
        } else {
            self.slots[index] = hash;
            self.summaries[index] = *summary;
            self.num_entries += 1;
            self.rebuild_if_needed();
        }
    }

    fn rebuild_if_needed(&mut self) {
        if self.num_entries <= self.capacity {
            return;
        }
        if self.lg_cur > self.lg_nom {
            // Theta becomes the (k+1)-th smallest hash; the k below it stay.
            let mut live: Vec<u64> = self.iter_hashes().collect();
            let (_, nth, _) = live.select_nth_unstable(1usize << self.lg_nom);
            self.theta = *nth;
            self.reinsert(self.lg_cur);
        } else {
            self.reinsert(self.lg_cur + LG_RESIZE_FACTOR);
        }
    }

    /// Moves the entries below theta, in slot order, to a fresh table of `2^lg_new` slots.
    fn reinsert(&mut self, lg_new: u8) {
        let old_slots = std::mem::replace(&mut self.slots, vec![0; 1 << lg_new]);
        let old_summaries = std::mem::replace(
            &mut self.summaries,
            vec![S::new(SummaryMode::Sum); 1 << lg_new],
        );
        self.lg_cur = lg_new;
        self.capacity = capacity(lg_new, self.lg_nom);
        self.num_entries = 0;
        for (&hash, summary) in old_slots.iter().zip(&old_summaries) {
            if hash != 0 && hash < self.theta {
                let (index, _) = HashTable::find(&self.slots, lg_new, hash);
                self.slots[index] = hash;
                self.summaries[index] = *summary;
                self.num_entries += 1;
            }
        }
    }

    /// Java's `trim`: down to `k` entries if there are more.
    pub(crate) fn trim(&mut self) {
        if self.num_entries as usize > (1usize << self.lg_nom) {
            let mut live: Vec<u64> = self.iter_hashes().collect();
            let (_, nth, _) = live.select_nth_unstable(1usize << self.lg_nom);
            self.theta = *nth;
            self.reinsert(self.lg_cur);
        }
    }

    pub(crate) fn iter_hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().copied().filter(|&h| h != 0)
    }

    /// The entries in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &S)> + '_ {
        self.slots
            .iter()
            .zip(&self.summaries)
            .filter(|(&h, _)| h != 0)
            .map(|(&h, s)| (h, s))
    }
}
