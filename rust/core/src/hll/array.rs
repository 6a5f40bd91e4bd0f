//! HLL mode: one register per slot plus the HIP and KxQ accumulators.
//!
//! Registers are held as one byte each whatever the target type; the 4- and 6-bit
//! packings exist only in images. HLL_4's exception table (slots whose value is 15 or
//! more above the current minimum) is kept as DataSketches keeps it, insertion order
//! and all, because its layout is part of the image.

use super::coupons::KEY_MASK_26;
use super::estimators::HllState;
use super::{HllType, RESIZE_DENOM, RESIZE_NUMER};
use crate::error::corrupt;
use crate::Result;

/// Value a nibble holds when the register's real value lives in the aux table.
pub const AUX_TOKEN: u8 = 15;

/// Initial lg size of HLL_4's aux table, by lg_k.
pub const LG_AUX_ARR_INTS: [u8; 22] = [
    0, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13,
];

/// Largest byte (a branch-free fold, so that it vectorises).
fn max_of(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |m, &v| m.max(v))
}

/// 2^-v for every register value.
fn inv_pow2(v: u8) -> f64 {
    f64::from_bits((1023u64 - v as u64) << 52)
}

/// HLL_4 exceptions: open-addressed pairs `value << 26 | slot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuxMap {
    pub lg_arr: u8,
    pub count: u32,
    pub arr: Vec<u32>,
}

enum AuxSlot {
    Found(usize),
    Empty(usize),
    Full,
}

impl AuxMap {
    pub fn new(lg_arr: u8) -> Self {
        AuxMap {
            lg_arr,
            count: 0,
            arr: vec![0; 1 << lg_arr],
        }
    }

    fn find(arr: &[u32], lg_arr: u8, k_mask: u32, slot: u32) -> AuxSlot {
        let mask = (1u32 << lg_arr) - 1;
        let mut probe = slot & mask;
        let start = probe;
        loop {
            let e = arr[probe as usize];
            if e == 0 {
                return AuxSlot::Empty(probe as usize);
            }
            if e & k_mask == slot {
                return AuxSlot::Found(probe as usize);
            }
            let stride = (slot >> lg_arr) | 1;
            probe = (probe + stride) & mask;
            if probe == start {
                return AuxSlot::Full;
            }
        }
    }

    /// Adds a slot that is not yet present. `false` if it was (a corrupt image).
    pub fn add(&mut self, lg_k: u8, slot: u32, value: u8) -> bool {
        let k_mask = (1u32 << lg_k) - 1;
        match Self::find(&self.arr, self.lg_arr, k_mask, slot) {
            AuxSlot::Empty(i) => {
                self.arr[i] = ((value as u32) << 26) | slot;
                self.count += 1;
                if RESIZE_DENOM * self.count as u64 > RESIZE_NUMER * (1u64 << self.lg_arr) {
                    self.grow(k_mask);
                }
                true
            }
            _ => false,
        }
    }

    pub fn replace(&mut self, lg_k: u8, slot: u32, value: u8) {
        let k_mask = (1u32 << lg_k) - 1;
        if let AuxSlot::Found(i) = Self::find(&self.arr, self.lg_arr, k_mask, slot) {
            self.arr[i] = ((value as u32) << 26) | slot;
        }
    }

    pub fn get(&self, lg_k: u8, slot: u32) -> Option<u8> {
        let k_mask = (1u32 << lg_k) - 1;
        match Self::find(&self.arr, self.lg_arr, k_mask, slot) {
            AuxSlot::Found(i) => Some((self.arr[i] >> 26) as u8),
            _ => None,
        }
    }

    fn grow(&mut self, k_mask: u32) {
        let lg_arr = self.lg_arr + 1;
        let mut arr = vec![0u32; 1 << lg_arr];
        for &e in self.arr.iter().filter(|&&e| e != 0) {
            if let AuxSlot::Empty(i) = Self::find(&arr, lg_arr, k_mask, e & k_mask) {
                arr[i] = e;
            }
        }
        self.arr = arr;
        self.lg_arr = lg_arr;
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.arr.iter().copied().filter(|&e| e != 0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HllArray {
    pub lg_k: u8,
    pub tgt: HllType,
    pub regs: Vec<u8>,
    /// HLL_4: the minimum register value; HLL_6/8: always 0.
    pub cur_min: u8,
    /// HLL_4: registers at `cur_min`; HLL_6/8: registers still 0.
    pub num_at_cur_min: u32,
    pub kxq0: f64,
    pub kxq1: f64,
    pub hip_accum: f64,
    pub out_of_order: bool,
    pub aux: Option<AuxMap>,
    /// Set in a union's gadget after registers were merged wholesale: KxQ and the
    /// minimum statistics are then those from before the merge, and DataSketches keeps
    /// using them (for HIP increments) until a result is taken, when it replays the
    /// registers. Images never hold a stale array.
    pub stale_kxq: bool,
}

impl HllArray {
    pub fn new(lg_k: u8, tgt: HllType) -> Self {
        let k = 1u32 << lg_k;
        HllArray {
            lg_k,
            tgt,
            regs: vec![0; k as usize],
            cur_min: 0,
            num_at_cur_min: k,
            kxq0: k as f64,
            kxq1: 0.0,
            hip_accum: 0.0,
            out_of_order: false,
            aux: None,
            stale_kxq: false,
        }
    }

    pub fn state(&self) -> HllState {
        HllState {
            lg_k: self.lg_k,
            cur_min: self.cur_min,
            num_at_cur_min: self.num_at_cur_min,
            kxq0: self.kxq0,
            kxq1: self.kxq1,
            hip_accum: self.hip_accum,
            out_of_order: self.out_of_order,
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.stale_kxq && self.cur_min == 0 && self.num_at_cur_min == 1 << self.lg_k
    }

    #[inline(always)]
    pub fn update_coupon(&mut self, coupon: u32) {
        let slot = (coupon & KEY_MASK_26) & ((1 << self.lg_k) - 1);
        let value = (coupon >> 26) as u8;
        self.update_slot(slot, value);
    }

    #[inline(always)]
    pub fn update_slot(&mut self, slot: u32, value: u8) {
        let old = self.regs[slot as usize];
        if value > old {
            self.apply_increase(slot, old, value);
        }
    }

    #[cold]
    fn apply_increase(&mut self, slot: u32, old: u8, value: u8) {
        self.regs[slot as usize] = value;
        // HIP reads the KxQ sum before this update changes it.
        if !self.out_of_order {
            self.hip_accum += (1u64 << self.lg_k) as f64 / (self.kxq0 + self.kxq1);
        }
        if old < 32 {
            self.kxq0 -= inv_pow2(old);
        } else {
            self.kxq1 -= inv_pow2(old);
        }
        if value < 32 {
            self.kxq0 += inv_pow2(value);
        } else {
            self.kxq1 += inv_pow2(value);
        }
        if self.tgt != HllType::Hll4 {
            if old == 0 {
                self.num_at_cur_min = self.num_at_cur_min.saturating_sub(1);
            }
            return;
        }
        let lg_k = self.lg_k;
        if old - self.cur_min >= AUX_TOKEN {
            if let Some(aux) = self.aux.as_mut() {
                aux.replace(lg_k, slot, value);
            }
        } else if value - self.cur_min >= AUX_TOKEN {
            self.aux
                .get_or_insert_with(|| AuxMap::new(LG_AUX_ARR_INTS[lg_k as usize]))
                .add(lg_k, slot, value);
        }
        if old == self.cur_min {
            self.num_at_cur_min -= 1;
            while self.num_at_cur_min == 0 {
                self.shift_to_bigger_cur_min();
            }
        }
    }

    /// HLL_4: every register is above `cur_min`; raise it by one and rebuild the aux
    /// table in the order DataSketches does (walking the old table).
    fn shift_to_bigger_cur_min(&mut self) {
        let new_min = self.cur_min + 1;
        self.num_at_cur_min = self.regs.iter().filter(|&&v| v == new_min).count() as u32;
        let mut new_aux: Option<AuxMap> = None;
        if let Some(old) = self.aux.take() {
            let k_mask = (1u32 << self.lg_k) - 1;
            for e in old.iter() {
                let value = (e >> 26) as u8;
                if value - new_min >= AUX_TOKEN {
                    new_aux
                        .get_or_insert_with(|| AuxMap::new(LG_AUX_ARR_INTS[self.lg_k as usize]))
                        .add(self.lg_k, e & k_mask, value);
                }
            }
        }
        self.aux = new_aux;
        self.cur_min = new_min;
    }

    /// A copy of this array as another target type (or with fresh KxQ), replaying its
    /// registers in slot order as DataSketches' conversions do.
    pub fn convert(&self, tgt: HllType) -> HllArray {
        if tgt == self.tgt && !self.stale_kxq {
            return self.clone();
        }
        let mut out = HllArray::new(self.lg_k, tgt);
        out.out_of_order = self.out_of_order;
        for (slot, &v) in self.regs.iter().enumerate() {
            if v > 0 {
                out.update_slot(slot as u32, v);
            }
        }
        out.hip_accum = self.hip_accum;
        out
    }

    /// Folds `src` (lg_k >= ours) into this array, slot `i` landing on `i mod k`, as
    /// DataSketches' union does: registers only, leaving KxQ stale (see `stale_kxq`).
    pub fn merge_registers(&mut self, src: &HllArray) {
        let mask = (1usize << self.lg_k) - 1;
        if src.lg_k == self.lg_k {
            for (d, &s) in self.regs.iter_mut().zip(&src.regs) {
                *d = (*d).max(s);
            }
        } else {
            for (i, &s) in src.regs.iter().enumerate() {
                let d = &mut self.regs[i & mask];
                *d = (*d).max(s);
            }
        }
        self.stale_kxq = true;
    }

    // ---- packings used by images ----

    pub fn packed_len(tgt: HllType, lg_k: u8) -> usize {
        let k = 1usize << lg_k;
        match tgt {
            HllType::Hll4 => k / 2,
            HllType::Hll6 => (k * 3 / 4) + 1,
            HllType::Hll8 => k,
        }
    }

    pub fn pack(&self) -> Vec<u8> {
        match self.tgt {
            HllType::Hll8 => self.regs.clone(),
            HllType::Hll6 => {
                let mut out = vec![0u8; Self::packed_len(HllType::Hll6, self.lg_k)];
                for (i, &v) in self.regs.iter().enumerate() {
                    let bit = i * 6;
                    let (byte, shift) = (bit >> 3, bit & 7);
                    let two = (out[byte] as u16) | ((out[byte + 1] as u16) << 8);
                    let two = (two & !(0x3f << shift)) | (((v & 0x3f) as u16) << shift);
                    out[byte] = two as u8;
                    out[byte + 1] = (two >> 8) as u8;
                }
                out
            }
            HllType::Hll4 => {
                let nib = |v: u8| (v - self.cur_min).min(AUX_TOKEN);
                self.regs
                    .chunks_exact(2)
                    .map(|p| nib(p[0]) | (nib(p[1]) << 4))
                    .collect()
            }
        }
    }

    /// Registers from a packed array (and HLL_4's exceptions); validates what it reads.
    pub fn unpack(&mut self, packed: &[u8], aux: Option<AuxMap>) -> Result<()> {
        let k = 1usize << self.lg_k;
        match self.tgt {
            HllType::Hll8 => {
                if max_of(&packed[..k]) > 63 {
                    return corrupt("HLL_8 register value above 63");
                }
                self.regs.copy_from_slice(&packed[..k]);
            }
            HllType::Hll6 => {
                for i in 0..k {
                    let bit = i * 6;
                    let (byte, shift) = (bit >> 3, bit & 7);
                    let two = (packed[byte] as u16) | ((packed[byte + 1] as u16) << 8);
                    self.regs[i] = ((two >> shift) & 0x3f) as u8;
                }
            }
            HllType::Hll4 => {
                let mut tokens = 0u32;
                for (pair, &b) in self.regs.chunks_exact_mut(2).zip(&packed[..k / 2]) {
                    for (r, nib) in pair.iter_mut().zip([b & 0xf, b >> 4]) {
                        tokens += (nib == AUX_TOKEN) as u32;
                        *r = nib + self.cur_min;
                    }
                }
                // Every exception nibble has its aux entry and every aux entry its nibble.
                let k_mask = (1u32 << self.lg_k) - 1;
                let mut found = 0u32;
                if let Some(a) = aux.as_ref() {
                    for e in a.iter() {
                        let slot = (e & k_mask) as usize;
                        let value = (e >> 26) as u8;
                        if self.regs[slot] != self.cur_min + AUX_TOKEN
                            || value < self.cur_min + AUX_TOKEN
                            || value > 63
                        {
                            return corrupt("HLL_4 aux table disagrees with its registers");
                        }
                        self.regs[slot] = value;
                        found += 1;
                    }
                }
                if found != tokens {
                    return corrupt("HLL_4 exception slot missing from the aux table");
                }
                if self.cur_min > 63 - (AUX_TOKEN - 1) && max_of(&self.regs) > 63 {
                    return corrupt("HLL_4 register value above 63");
                }
                self.aux = aux;
            }
        }
        Ok(())
    }
}
