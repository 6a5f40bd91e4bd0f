//! The QuickSelect hash table behind the update sketch and the union.
//!
//! Open addressing with a key-dependent odd stride; `0` marks an empty slot (a theta hash
//! of 0 is never stored). The table grows by the resize factor while it is at most the
//! nominal size `k`, up to `2k` slots; from then on, whenever it holds more than 15/16 of
//! its slots, a rebuild keeps the `k` smallest hashes and lowers theta to the next one.
//! The sizes, thresholds and the choice of the k-th smallest hash follow Apache
//! DataSketches exactly, so the same updates in the same order give the same retained set
//! and theta (slot positions may differ; nothing observable depends on them).

use super::{MAX_THETA, MIN_LG_K};

/// Fraction of the slots that may be filled before growing (while `lg_cur <= lg_nom`).
const RESIZE_NUM: u64 = 1;
const RESIZE_DEN: u64 = 2;
/// Fraction of the slots that may be filled before a rebuild (at full size, `2k`).
const REBUILD_NUM: u64 = 15;
const REBUILD_DEN: u64 = 16;
const STRIDE_HASH_BITS: u32 = 7;
const STRIDE_MASK: u64 = (1 << STRIDE_HASH_BITS) - 1;

/// Starting log2 table size: DataSketches' "starting sub-multiple" of `lg_k + 1`.
pub(crate) fn starting_lg_size(lg_k: u8, lg_rf: u8) -> u8 {
    let lg_tgt = lg_k + 1;
    if lg_tgt <= MIN_LG_K {
        MIN_LG_K
    } else if lg_rf == 0 {
        lg_tgt
    } else {
        (lg_tgt - MIN_LG_K) % lg_rf + MIN_LG_K
    }
}

/// Starting theta for a sampling probability `p` (computed in single precision, as
/// DataSketches does: `float(MAX_THETA) * p`, truncated).
pub(crate) fn starting_theta(p: f32) -> u64 {
    if p < 1.0 {
        // 2^63 * p is exact in f32 (a power-of-two scaling), so this is exact.
        ((MAX_THETA as f32) * p) as u64
    } else {
        MAX_THETA
    }
}

#[derive(Clone)]
pub(crate) struct HashTable {
    pub(crate) lg_cur: u8,
    pub(crate) lg_nom: u8,
    pub(crate) lg_rf: u8,
    pub(crate) num_entries: u32,
    pub(crate) theta: u64,
    pub(crate) is_empty: bool,
    /// `1 << lg_cur` slots; 0 = empty.
    pub(crate) slots: Vec<u64>,
    /// Cached `capacity(lg_cur, lg_nom)`.
    capacity: u32,
}

impl HashTable {
    pub(crate) fn new(lg_cur: u8, lg_nom: u8, lg_rf: u8, theta: u64) -> Self {
        HashTable {
            lg_cur,
            lg_nom,
            lg_rf,
            num_entries: 0,
            theta,
            is_empty: true,
            slots: vec![0; 1usize << lg_cur],
            capacity: capacity(lg_cur, lg_nom),
        }
    }

    /// A table holding `slots` as they are (`1 << lg_cur` of them, `num_entries` of them
    /// non-zero): the caller has checked that every entry is reachable where it lies.
    pub(crate) fn from_slots(
        lg_nom: u8,
        lg_rf: u8,
        theta: u64,
        is_empty: bool,
        num_entries: u32,
        slots: Vec<u64>,
    ) -> Self {
        let lg_cur = slots.len().trailing_zeros() as u8;
        debug_assert_eq!(slots.len(), 1usize << lg_cur);
        HashTable {
            lg_cur,
            lg_nom,
            lg_rf,
            num_entries,
            theta,
            is_empty,
            slots,
            capacity: capacity(lg_cur, lg_nom),
        }
    }

    /// Slot of `key`: `(index, true)` if present, `(index of an empty slot, false)` if not.
    /// The table always keeps at least one empty slot, so the probe sequence (an odd stride
    /// over a power-of-two table visits every slot) always ends.
    #[inline]
    pub(crate) fn find(slots: &[u64], lg_size: u8, key: u64) -> (usize, bool) {
        let mask = (slots.len() - 1) as u64;
        let stride = 2 * ((key >> lg_size) & STRIDE_MASK) + 1;
        let mut index = key & mask;
        loop {
            let probe = slots[index as usize];
            if probe == 0 {
                return (index as usize, false);
            }
            if probe == key {
                return (index as usize, true);
            }
            index = (index + stride) & mask;
        }
    }

    /// Inserts `key` (non-zero, below theta) unless present; may resize or rebuild.
    #[inline]
    pub(crate) fn insert_if_absent(&mut self, key: u64) {
        let (index, found) = Self::find(&self.slots, self.lg_cur, key);
        if !found {
            self.slots[index] = key;
            self.num_entries += 1;
            if self.num_entries > self.capacity {
                if self.lg_cur <= self.lg_nom {
                    self.resize();
                } else {
                    self.rebuild();
                }
            }
        }
    }

    fn resize(&mut self) {
        // A resize factor of x1 (lg 0) still doubles, as DataSketches does: only a table
        // read from an image can have one, and it grows then.
        let lg_new = (self.lg_cur + self.lg_rf.max(1)).min(self.lg_nom + 1);
        let mut new_slots = vec![0u64; 1usize << lg_new];
        for &key in self.slots.iter().filter(|&&k| k != 0) {
            let (index, _) = Self::find(&new_slots, lg_new, key);
            new_slots[index] = key;
        }
        self.slots = new_slots;
        self.lg_cur = lg_new;
        self.capacity = capacity(self.lg_cur, self.lg_nom);
    }

    /// Keeps the `k` smallest hashes; theta becomes the `(k+1)`-th smallest.
    /// Assumes more than `k` entries.
    pub(crate) fn rebuild(&mut self) {
        let k = 1usize << self.lg_nom;
        let mut live: Vec<u64> = self.slots.iter().copied().filter(|&h| h != 0).collect();
        debug_assert!(live.len() > k);
        let (_, nth, _) = live.select_nth_unstable(k);
        self.theta = *nth;
        live.truncate(k);
        self.slots.fill(0);
        for &key in &live {
            let (index, _) = Self::find(&self.slots, self.lg_cur, key);
            self.slots[index] = key;
        }
        self.num_entries = k as u32;
    }

    /// Drops entries beyond the nominal `k` (a rebuild), if any.
    pub(crate) fn trim(&mut self) {
        if self.num_entries as usize > (1usize << self.lg_nom) {
            self.rebuild();
        }
    }

    /// The retained hashes, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().copied().filter(|&h| h != 0)
    }
}

pub(crate) fn capacity(lg_cur: u8, lg_nom: u8) -> u32 {
    let size = 1u64 << lg_cur;
    let c = if lg_cur <= lg_nom {
        size * RESIZE_NUM / RESIZE_DEN
    } else {
        size * REBUILD_NUM / REBUILD_DEN
    };
    c as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_sizes_match_datasketches() {
        // DataSketches: starting_sub_multiple(lg_k + 1, 5, 3).
        assert_eq!(starting_lg_size(5, 3), 6);
        assert_eq!(starting_lg_size(10, 3), 5);
        assert_eq!(starting_lg_size(12, 3), 7);
        assert_eq!(starting_lg_size(26, 3), 6);
        assert_eq!(starting_lg_size(12, 0), 13);
        assert_eq!(capacity(7, 12), 64);
        assert_eq!(capacity(13, 12), 7680);
    }

    #[test]
    fn starting_theta_is_single_precision() {
        // p = 0.01 becomes the float 0.00999999977648258..., as in the DataSketches images.
        assert_eq!(starting_theta(0.01), 92_233_718_306_963_456);
        assert_eq!(starting_theta(1.0), MAX_THETA);
        assert_eq!(starting_theta(0.5), 1 << 62);
    }
}
