//! LIST and SET modes: a sketch that has seen few distinct items keeps their coupons
//! exactly, in the same array layouts DataSketches uses, so that its images match
//! byte for byte. A coupon is `value << 26 | low 26 bits of the address`.

use super::{LG_INIT_LIST_SIZE, RESIZE_DENOM, RESIZE_NUMER};
use crate::error::corrupt;
use crate::Result;

pub const KEY_MASK_26: u32 = (1 << 26) - 1;

/// What happened to a coupon container after an insertion.
#[derive(Debug, PartialEq, Eq)]
pub enum Grown {
    Stay,
    /// The LIST is full: it becomes a SET (or an HLL array when lg_k < 8).
    Promote,
}

/// Coupons in LIST mode (linear array, insertion order) or SET mode (open addressing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupons {
    pub is_set: bool,
    pub lg_arr: u8,
    pub count: u32,
    pub arr: Vec<u32>,
}

impl Coupons {
    pub fn new_list() -> Self {
        Coupons {
            is_set: false,
            lg_arr: LG_INIT_LIST_SIZE,
            count: 0,
            arr: vec![0; 1 << LG_INIT_LIST_SIZE],
        }
    }

    pub fn new_set(lg_arr: u8) -> Self {
        Coupons {
            is_set: true,
            lg_arr,
            count: 0,
            arr: vec![0; 1 << lg_arr],
        }
    }

    /// Coupons in array order, which is the order DataSketches iterates (and writes) them.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.arr.iter().copied().filter(|&c| c != 0)
    }

    /// Inserts a coupon; `lg_k` decides when a SET is at its largest.
    pub fn insert(&mut self, coupon: u32, lg_k: u8) -> Grown {
        if !self.is_set {
            for i in 0..self.arr.len() {
                let c = self.arr[i];
                if c == 0 {
                    self.arr[i] = coupon;
                    self.count += 1;
                    return if self.count as usize >= self.arr.len() {
                        Grown::Promote
                    } else {
                        Grown::Stay
                    };
                }
                if c == coupon {
                    return Grown::Stay;
                }
            }
            return Grown::Promote;
        }
        match find(&self.arr, self.lg_arr, coupon) {
            Slot::Found(_) => Grown::Stay,
            Slot::Empty(i) => {
                self.arr[i] = coupon;
                self.count += 1;
                if RESIZE_DENOM * self.count as u64 > RESIZE_NUMER * (1u64 << self.lg_arr) {
                    if self.lg_arr + 3 >= lg_k {
                        return Grown::Promote;
                    }
                    self.grow(self.lg_arr + 1);
                }
                Grown::Stay
            }
            // A SET never fills up: it grows at 3/4. Only a corrupt image gets here.
            Slot::Full => Grown::Promote,
        }
    }

    fn grow(&mut self, lg_arr: u8) {
        let mut arr = vec![0u32; 1 << lg_arr];
        for &c in self.arr.iter().filter(|&&c| c != 0) {
            if let Slot::Empty(i) = find(&arr, lg_arr, c) {
                arr[i] = c;
            }
        }
        self.arr = arr;
        self.lg_arr = lg_arr;
    }

    /// Rebuilds a SET from the coupons of a compact image, as DataSketches does on reading one.
    pub fn set_from_coupons(lg_arr: u8, coupons: &[u32], lg_k: u8) -> Result<Self> {
        let mut s = Coupons::new_set(lg_arr);
        for &c in coupons {
            if c == 0 {
                return corrupt("zero coupon in a compact HLL SET image");
            }
            match find(&s.arr, s.lg_arr, c) {
                Slot::Found(_) => return corrupt("duplicate coupon in an HLL SET image"),
                Slot::Full => return corrupt("too many coupons for the HLL SET table"),
                Slot::Empty(i) => {
                    s.arr[i] = c;
                    s.count += 1;
                    if RESIZE_DENOM * s.count as u64 > RESIZE_NUMER * (1u64 << s.lg_arr)
                        && s.lg_arr + 3 < lg_k
                    {
                        s.grow(s.lg_arr + 1);
                    }
                }
            }
        }
        Ok(s)
    }
}

pub enum Slot {
    Found(usize),
    Empty(usize),
    Full,
}

/// Open-addressing probe of DataSketches' coupon hash set: start at the low bits, stride
/// from the next bits (forced odd so that it visits every slot of the power-of-two table).
pub fn find(arr: &[u32], lg_arr: u8, coupon: u32) -> Slot {
    let mask = (1u32 << lg_arr) - 1;
    let mut probe = coupon & mask;
    let start = probe;
    loop {
        let c = arr[probe as usize];
        if c == 0 {
            return Slot::Empty(probe as usize);
        }
        if c == coupon {
            return Slot::Found(probe as usize);
        }
        let stride = ((coupon & KEY_MASK_26) >> lg_arr) | 1;
        probe = (probe + stride) & mask;
        if probe == start {
            return Slot::Full;
        }
    }
}
