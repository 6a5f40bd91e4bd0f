//! The Apache DataSketches KLL image: writing and reading (with every field checked).

use super::*;
use crate::bytes::{read_u32s, u16_at, u64_at};
use crate::error::corrupt;

impl<T: KllItem> KllSketch<T> {
    /// The Apache DataSketches KLL image: 8 bytes when empty, 8 + one item
    /// for a single item (serial version 2), otherwise the full form
    /// (preamble ints 5, serial version 1).
    pub fn serialize(&self) -> Vec<u8> {
        let single = self.n == 1;
        let sorted_flag = if self.level_zero_sorted {
            FLAG_LEVEL_ZERO_SORTED
        } else {
            0
        };
        let size = if self.is_empty() {
            EMPTY_SIZE_BYTES
        } else if single {
            DATA_START_SINGLE_ITEM + T::SIZE
        } else {
            DATA_START + 4 * self.num_levels() + (self.num_retained() as usize + 2) * T::SIZE
        };
        let mut out = Vec::with_capacity(size);
        let (preamble, version, flags) = if self.is_empty() {
            (
                PREAMBLE_INTS_SHORT,
                SERIAL_VERSION_1,
                FLAG_EMPTY | sorted_flag,
            )
        } else if single {
            (
                PREAMBLE_INTS_SHORT,
                SERIAL_VERSION_2,
                FLAG_SINGLE_ITEM | sorted_flag,
            )
        } else {
            (PREAMBLE_INTS_FULL, SERIAL_VERSION_1, sorted_flag)
        };
        out.extend_from_slice(&[preamble, version, FAMILY, flags]);
        out.extend_from_slice(&self.k.to_le_bytes());
        out.extend_from_slice(&[M, 0]);
        if self.is_empty() {
            return out;
        }
        if !single {
            out.extend_from_slice(&self.n.to_le_bytes());
            out.extend_from_slice(&self.min_k.to_le_bytes());
            out.extend_from_slice(&[self.num_levels() as u8, 0]);
            // the last offset is implied by k and the number of levels
            for &l in &self.levels[..self.num_levels()] {
                out.extend_from_slice(&l.to_le_bytes());
            }
            self.min_item.write_le(&mut out);
            self.max_item.write_le(&mut out);
        }
        for &x in self.retained() {
            x.write_le(&mut out);
        }
        debug_assert_eq!(out.len(), size);
        out
    }

    /// Reads a DataSketches KLL image (from Java, C++, Python or this crate).
    /// The image does not record the item type: the caller picks `T` (`f64`
    /// for `kll_doubles_sketch` images, `f32` for `kll_floats_sketch`, `i64`
    /// for Java's `KllLongsSketch`).
    /// Every field is validated; bad bytes give `Error::CorruptData`.
    pub fn deserialize(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 8 {
            return corrupt(format!(
                "KLL image of {} bytes is shorter than its 8-byte preamble",
                bytes.len()
            ));
        }
        let (preamble, version, family, flags) = (bytes[0], bytes[1], bytes[2], bytes[3]);
        let k = u16_at(bytes, 4)?;
        let m = bytes[6];
        if family != FAMILY {
            return corrupt(format!("family id {family} is not KLL ({FAMILY})"));
        }
        if version != SERIAL_VERSION_1 && version != SERIAL_VERSION_2 {
            return corrupt(format!(
                "unsupported KLL serial version {version} (expected 1 or 2)"
            ));
        }
        if m != M {
            return corrupt(format!("KLL parameter m is {m}, expected {M}"));
        }
        if k < MIN_K {
            return corrupt(format!("k = {k} is below the minimum {MIN_K}"));
        }
        let is_empty = flags & FLAG_EMPTY != 0;
        let is_single = flags & FLAG_SINGLE_ITEM != 0;
        let sorted_flag = flags & FLAG_LEVEL_ZERO_SORTED != 0;
        if is_empty && is_single {
            return corrupt("flags mark the image both empty and single-item");
        }
        let expected_preamble = if is_empty || is_single {
            PREAMBLE_INTS_SHORT
        } else {
            PREAMBLE_INTS_FULL
        };
        if preamble != expected_preamble {
            return corrupt(format!(
                "preamble ints {preamble} do not match the flags (expected {expected_preamble})"
            ));
        }
        let seed = varying_seed();
        if is_empty {
            // Like DataSketches, ignore anything after an empty preamble.
            return Ok(Self::empty_unchecked(k, seed));
        }
        if is_single {
            let expected = DATA_START_SINGLE_ITEM + T::SIZE;
            if bytes.len() != expected {
                return corrupt(format!(
                    "single-item image is {} bytes, expected {expected} for {}",
                    bytes.len(),
                    T::TYPE_NAME
                ));
            }
            let item = T::from_le_slice(&bytes[DATA_START_SINGLE_ITEM..]);
            if item.is_nan() {
                return corrupt("the single item is NaN");
            }
            let mut s = Self::empty_unchecked(k, seed);
            s.update(item);
            s.level_zero_sorted = sorted_flag;
            return Ok(s);
        }

        if bytes.len() < DATA_START {
            return corrupt(format!(
                "full KLL image of {} bytes is shorter than its {DATA_START}-byte preamble",
                bytes.len()
            ));
        }
        let n = u64_at(bytes, 8)?;
        let min_k = u16_at(bytes, 16)?;
        let num_levels = usize::from(bytes[18]);
        if n == 0 {
            return corrupt("non-empty image with n = 0");
        }
        if !(MIN_K..=k).contains(&min_k) {
            return corrupt(format!("min_k = {min_k} is outside {MIN_K} to {k}"));
        }
        if num_levels == 0 || num_levels > MAX_LEVELS {
            return corrupt(format!(
                "number of levels {num_levels} is outside 1 to {MAX_LEVELS}"
            ));
        }
        let levels_end = DATA_START + 4 * num_levels;
        let min_len = levels_end + 2 * T::SIZE;
        if bytes.len() < min_len {
            return corrupt(format!(
                "image of {} bytes is too short for {num_levels} level offsets and min/max ({min_len} bytes)",
                bytes.len()
            ));
        }
        let capacity = total_capacity(k, num_levels);
        let mut levels = read_u32s(bytes, DATA_START, num_levels)?;
        levels.push(capacity);
        if let Some(h) = (0..num_levels).find(|&h| levels[h] > levels[h + 1]) {
            return corrupt(format!(
                "level offsets are not increasing at level {h}: {} > {} (capacity {capacity})",
                levels[h],
                levels[h + 1]
            ));
        }
        let retained = (capacity - levels[0]) as usize;
        let expected_len = min_len + retained * T::SIZE;
        if bytes.len() != expected_len {
            return corrupt(format!(
                "image is {} bytes but its header implies {expected_len} ({retained} {} items)",
                bytes.len(),
                T::TYPE_NAME
            ));
        }
        let weight: u128 = (0..num_levels)
            .map(|h| u128::from(levels[h + 1] - levels[h]) << h)
            .sum();
        if weight != u128::from(n) {
            return corrupt(format!(
                "n = {n} does not match the total weight {weight} of the retained items"
            ));
        }
        let min_item = T::from_le_slice(&bytes[levels_end..]);
        let max_item = T::from_le_slice(&bytes[levels_end + T::SIZE..]);
        if min_item.is_nan() || max_item.is_nan() {
            return corrupt("min or max item is NaN");
        }
        if max_item < min_item {
            return corrupt(format!(
                "min item {min_item:?} exceeds max item {max_item:?}"
            ));
        }
        let mut items = vec![T::ZERO; capacity as usize];
        for (slot, c) in items[levels[0] as usize..]
            .iter_mut()
            .zip(bytes[min_len..].chunks_exact(T::SIZE))
        {
            let x = T::from_le_slice(c);
            if x.is_nan() {
                return corrupt("a retained item is NaN");
            }
            if x < min_item || max_item < x {
                return corrupt(format!(
                    "retained item {x:?} lies outside [min, max] = [{min_item:?}, {max_item:?}]"
                ));
            }
            *slot = x;
        }
        let mut s = KllSketch {
            k,
            min_k,
            n,
            levels,
            items,
            caps: Vec::new(),
            min_item,
            max_item,
            level_zero_sorted: sorted_flag,
            rng: BitSource::new(seed),
            forks: AtomicU64::new(0),
            scratch: Vec::new(),
            view: OnceLock::new(),
        };
        s.refresh_caps();
        for h in 1..num_levels {
            if !is_sorted(s.level(h)) {
                return corrupt(format!("level {h} is not sorted"));
            }
        }
        if sorted_flag && !is_sorted(s.level(0)) {
            return corrupt("flags say level 0 is sorted but it is not");
        }
        Ok(s)
    }
}
