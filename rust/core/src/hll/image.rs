//! The Apache DataSketches HLL image (family 7, serial version 1), compact and updatable.
//! Layout facts: see `shared/notes/datasketches-facts.md`; every reader check below
//! guards an index or an allocation, so arbitrary bytes give an error, never a panic.

use super::array::{AuxMap, HllArray, LG_AUX_ARR_INTS};
use super::coupons::Coupons;
use super::{HllSketch, HllType, Mode, LG_INIT_LIST_SIZE, LG_INIT_SET_SIZE};
use crate::bytes::{f64_at, read_u32s, u32_at};
use crate::error::corrupt;
use crate::Result;

pub const FAMILY_ID: u8 = 7;
pub const SER_VER: u8 = 1;
pub(super) const EMPTY_FLAG: u8 = 4;
pub(super) const COMPACT_FLAG: u8 = 8;
pub(super) const OUT_OF_ORDER_FLAG: u8 = 16;
pub(super) const BIG_ENDIAN_FLAG: u8 = 1;
const LIST_PREINTS: u8 = 2;
const SET_PREINTS: u8 = 3;
pub(super) const HLL_PREINTS: u8 = 10;
pub(super) const HLL_BYTE_ARR_START: usize = 40;

/// KxQ, the sum of 2^-register over `regs` (values at most 63), as the reader checks it:
/// eight lanes (the exponent trick vectorises), then the lanes in order. `regs.len()` is
/// a multiple of 8 (k >= 16).
#[inline(always)]
pub(super) fn kxq_of_registers(regs: &[u8]) -> f64 {
    let mut lanes = [0.0f64; 8];
    for q in regs.chunks_exact(8) {
        for (l, &v) in lanes.iter_mut().zip(q) {
            *l += f64::from_bits((1023 - (v & 63) as u64) << 52);
        }
    }
    lanes.iter().sum()
}

/// Whether a KxQ computed from the registers matches the stored `kxq0 + kxq1`: a stored
/// value far from it would let later HIP updates (k / KxQ) run off to infinity.
pub(super) fn kxq_agrees(kxq: f64, kxq0: f64, kxq1: f64, lg_k: u8) -> bool {
    (kxq - (kxq0 + kxq1)).abs() <= kxq_tolerance(lg_k)
}

pub(super) fn kxq_tolerance(lg_k: u8) -> f64 {
    1e-9 * (1u64 << lg_k) as f64
}

fn mode_byte(mode: u8, tgt: HllType) -> u8 {
    ((tgt as u8) << 2) | mode
}

pub fn serialize(sk: &HllSketch, compact: bool) -> Vec<u8> {
    let compact_flag = if compact { COMPACT_FLAG } else { 0 };
    match &sk.mode {
        Mode::Coupons(c) => {
            let empty = c.count == 0;
            let pre_ints = if c.is_set { SET_PREINTS } else { LIST_PREINTS };
            let mut out = vec![
                pre_ints,
                SER_VER,
                FAMILY_ID,
                sk.lg_k,
                c.lg_arr,
                (if empty { EMPTY_FLAG } else { 0 })
                    | compact_flag
                    | if sk.out_of_order_list {
                        OUT_OF_ORDER_FLAG
                    } else {
                        0
                    },
                if c.is_set { 0 } else { c.count as u8 },
                mode_byte(c.is_set as u8, sk.tgt),
            ];
            if c.is_set {
                out.extend_from_slice(&c.count.to_le_bytes());
            }
            if compact {
                for coupon in c.iter() {
                    out.extend_from_slice(&coupon.to_le_bytes());
                }
            } else {
                for &coupon in &c.arr {
                    out.extend_from_slice(&coupon.to_le_bytes());
                }
            }
            out
        }
        Mode::Hll(a) => {
            let mut out =
                Vec::with_capacity(HLL_BYTE_ARR_START + HllArray::packed_len(a.tgt, a.lg_k) + 64);
            out.extend_from_slice(&[
                HLL_PREINTS,
                SER_VER,
                FAMILY_ID,
                a.lg_k,
                a.aux.as_ref().map_or(0, |x| x.lg_arr),
                compact_flag | if a.out_of_order { OUT_OF_ORDER_FLAG } else { 0 },
                a.cur_min,
                mode_byte(2, a.tgt),
            ]);
            out.extend_from_slice(&a.hip_accum.to_le_bytes());
            out.extend_from_slice(&a.kxq0.to_le_bytes());
            out.extend_from_slice(&a.kxq1.to_le_bytes());
            out.extend_from_slice(&a.num_at_cur_min.to_le_bytes());
            out.extend_from_slice(&a.aux.as_ref().map_or(0, |x| x.count).to_le_bytes());
            out.extend_from_slice(&a.pack());
            if a.tgt == HllType::Hll4 {
                match (&a.aux, compact) {
                    (Some(aux), true) => aux
                        .iter()
                        .for_each(|e| out.extend_from_slice(&e.to_le_bytes())),
                    (Some(aux), false) => aux
                        .arr
                        .iter()
                        .for_each(|e| out.extend_from_slice(&e.to_le_bytes())),
                    // An updatable image reserves the aux table even when it is unused.
                    (None, false) => {
                        out.resize(out.len() + (4 << LG_AUX_ARR_INTS[a.lg_k as usize]), 0)
                    }
                    (None, true) => {}
                }
            }
            out
        }
    }
}

pub fn deserialize(b: &[u8]) -> Result<HllSketch> {
    if b.len() < 8 {
        return corrupt(format!(
            "HLL image of {} bytes is shorter than its 8-byte preamble",
            b.len()
        ));
    }
    if b[2] != FAMILY_ID {
        return corrupt(format!("family id {} is not HLL (7)", b[2]));
    }
    if b[1] != SER_VER {
        return corrupt(format!("unsupported HLL serial version {}", b[1]));
    }
    let lg_k = b[3];
    if !(4..=21).contains(&lg_k) {
        return corrupt(format!("lg_k {lg_k} outside 4..21"));
    }
    let flags = b[5];
    if flags & BIG_ENDIAN_FLAG != 0 {
        return corrupt("big-endian HLL images are not supported");
    }
    let compact = flags & COMPACT_FLAG != 0;
    let ooo = flags & OUT_OF_ORDER_FLAG != 0;
    let mode = b[7] & 3;
    let tgt = match (b[7] >> 2) & 3 {
        0 => HllType::Hll4,
        1 => HllType::Hll6,
        2 => HllType::Hll8,
        t => return corrupt(format!("unknown HLL target type {t}")),
    };
    let lg_arr = b[4];
    let mut sk = HllSketch::new(lg_k, tgt)?;
    match mode {
        0 | 1 => {
            let is_set = mode == 1;
            let expected_pre = if is_set { SET_PREINTS } else { LIST_PREINTS };
            if b[0] != expected_pre {
                return corrupt(format!(
                    "preamble ints {} do not match the {} mode",
                    b[0],
                    if is_set { "SET" } else { "LIST" }
                ));
            }
            let (count, start) = if is_set {
                if b.len() < 12 {
                    return corrupt("HLL SET image is shorter than its 12-byte preamble");
                }
                (u32_at(b, 8)?, 12)
            } else {
                (b[6] as u32, 8)
            };
            if flags & EMPTY_FLAG != 0 || count == 0 {
                return Ok(sk);
            }
            // A SET holds at most 3/4 of its largest table (2^(lg_k-3)); a LIST at most 8.
            let max_count = if is_set {
                3u32 << (lg_k - 3) >> 2
            } else {
                1 << LG_INIT_LIST_SIZE
            };
            if count > max_count.max(8) {
                return corrupt(format!("coupon count {count} too large for lg_k {lg_k}"));
            }
            let stored = if compact {
                count as usize
            } else {
                if !(if is_set {
                    LG_INIT_SET_SIZE..=26
                } else {
                    LG_INIT_LIST_SIZE..=LG_INIT_LIST_SIZE
                })
                .contains(&lg_arr)
                    || (is_set && lg_arr + 3 > lg_k.max(8))
                {
                    return corrupt(format!(
                        "coupon array size 2^{lg_arr} invalid for lg_k {lg_k}"
                    ));
                }
                1usize << lg_arr
            };
            let need = start + 4 * stored;
            if b.len() < need {
                return corrupt(format!(
                    "HLL coupon image needs {need} bytes, has {}",
                    b.len()
                ));
            }
            let arr = read_u32s(b, start, stored as usize)?;
            for &c in &arr {
                if c != 0 && (c >> 26) > 63 {
                    return corrupt("coupon value above 63");
                }
            }
            let coupons = if !is_set {
                let mut list = Coupons::new_list();
                for c in arr.into_iter().filter(|&c| c != 0) {
                    if list.count as usize >= list.arr.len() || list.arr.contains(&c) {
                        return corrupt("invalid LIST coupons");
                    }
                    list.arr[list.count as usize] = c;
                    list.count += 1;
                }
                if list.count != count {
                    return corrupt("LIST coupon count disagrees with its coupons");
                }
                list
            } else if compact {
                // DataSketches re-inserts a compact SET into a new table of the initial
                // size, whatever the image's lg_arr says; so do we, for equal images.
                Coupons::set_from_coupons(LG_INIT_SET_SIZE, &arr, lg_k)?
            } else {
                let set = Coupons {
                    is_set: true,
                    lg_arr,
                    count,
                    arr,
                };
                if set.iter().count() as u32 != count {
                    return corrupt("SET coupon count disagrees with its table");
                }
                set
            };
            sk.out_of_order_list = ooo;
            sk.mode = Mode::Coupons(coupons);
            Ok(sk)
        }
        2 => {
            if b[0] != HLL_PREINTS {
                return corrupt(format!("preamble ints {} do not match HLL mode", b[0]));
            }
            let arr_bytes = HllArray::packed_len(tgt, lg_k);
            if b.len() < HLL_BYTE_ARR_START + arr_bytes {
                return corrupt(format!(
                    "HLL image needs {} bytes, has {}",
                    HLL_BYTE_ARR_START + arr_bytes,
                    b.len()
                ));
            }
            let mut a = HllArray::new(lg_k, tgt);
            a.cur_min = b[6];
            a.out_of_order = ooo;
            // DataSketches ignores a stored HIP accumulator once the sketch is out of order.
            a.hip_accum = if ooo { 0.0 } else { f64_at(b, 8)? };
            a.kxq0 = f64_at(b, 16)?;
            a.kxq1 = f64_at(b, 24)?;
            a.num_at_cur_min = u32_at(b, 32)?;
            let aux_count = u32_at(b, 36)?;
            if !(a.hip_accum.is_finite() && a.kxq0.is_finite() && a.kxq1.is_finite())
                || a.hip_accum < 0.0
            {
                return corrupt("non-finite HLL estimator state");
            }
            if tgt != HllType::Hll4 && aux_count != 0 {
                return corrupt("HLL_6/HLL_8 image with exceptions");
            }
            if a.cur_min > 63 {
                return corrupt("HLL current minimum above 63");
            }
            let aux_start = HLL_BYTE_ARR_START + arr_bytes;
            let aux = if aux_count > 0 {
                if !(1..=26).contains(&lg_arr)
                    || aux_count > (1 << lg_k)
                    || 4 * aux_count as u64 > 3u64 << lg_arr
                {
                    return corrupt(format!(
                        "aux table 2^{lg_arr} with {aux_count} entries is invalid"
                    ));
                }
                let stored = if compact {
                    aux_count as usize
                } else {
                    1usize << lg_arr
                };
                if b.len() < aux_start + 4 * stored {
                    return corrupt("HLL_4 image is truncated in its aux table");
                }
                let mut map = AuxMap::new(lg_arr);
                let k_mask = (1u32 << lg_k) - 1;
                let mut seen = 0;
                let entries = read_u32s(b, aux_start as usize, stored as usize)?;
                for &e in &entries {
                    if e == 0 {
                        continue;
                    }
                    seen += 1;
                    if e & (super::coupons::KEY_MASK_26 & !k_mask) != 0
                        || !map.add(lg_k, e & k_mask, (e >> 26) as u8)
                    {
                        return corrupt("invalid HLL_4 aux entry");
                    }
                }
                if seen != aux_count {
                    return corrupt("aux count disagrees with the aux table");
                }
                // The table must come back as it was written: same size, same layout.
                if !compact && map.lg_arr != lg_arr {
                    return corrupt("aux table overfull");
                }
                if !compact {
                    map.arr = entries;
                }
                Some(map)
            } else {
                None
            };
            a.unpack(&b[HLL_BYTE_ARR_START..HLL_BYTE_ARR_START + arr_bytes], aux)?;
            let min = a.regs.iter().fold(u8::MAX, |m, &v| m.min(v));
            // Byte-wide counts per chunk vectorise; a u64 count per byte does not.
            let num: u32 = a
                .regs
                .chunks(255)
                .map(|c| c.iter().fold(0u8, |n, &v| n + (v == min) as u8) as u32)
                .sum();
            if tgt == HllType::Hll4 {
                // (unpack has matched every exception nibble with its aux entry)
                if min != a.cur_min || num != a.num_at_cur_min {
                    return corrupt("HLL_4 current minimum disagrees with its registers");
                }
            } else {
                // Java keeps a current minimum for every type, and its unions (Spark's
                // hll_sketch_agg, Druid) write HLL_8 images with one; C++ and sketchbox keep
                // it at 0 for HLL_6/8 and count the zero registers. Both give the same
                // estimates (no register is unhit once the minimum is above 0), so the image
                // is read into that form; a minimum above a register is not a real state.
                if a.cur_min > min {
                    return corrupt("HLL current minimum above one of its registers");
                }
                a.cur_min = 0;
                a.num_at_cur_min = if min == 0 { num } else { 0 };
            }
            if !kxq_agrees(kxq_of_registers(&a.regs), a.kxq0, a.kxq1, lg_k) {
                return corrupt("HLL KxQ registers disagree with the register array");
            }
            sk.mode = Mode::Hll(a);
            Ok(sk)
        }
        _ => corrupt(format!("unknown HLL mode {mode}")),
    }
}
