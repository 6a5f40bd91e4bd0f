//! The Apache DataSketches KLL image: writing and reading (with every field checked).

use super::*;
use crate::bytes::{u16_at, u64_at};
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
        let mut parts = ImageParts::default();
        let header = read_image(bytes, &mut parts)?;
        let seed = varying_seed();
        match header.form {
            // Like DataSketches, ignore anything after an empty preamble.
            ImageForm::Empty => Ok(Self::empty_unchecked(header.k, seed)),
            ImageForm::Single => {
                let mut s = Self::empty_unchecked(header.k, seed);
                s.update(parts.retained[0]);
                s.level_zero_sorted = header.sorted_flag;
                Ok(s)
            }
            ImageForm::Full => {
                let capacity = *parts.levels.last().expect("levels") as usize;
                let mut items = vec![T::ZERO; capacity];
                items[capacity - parts.retained.len()..].copy_from_slice(&parts.retained);
                let mut s = KllSketch {
                    k: header.k,
                    min_k: header.min_k,
                    n: header.n,
                    levels: parts.levels,
                    items,
                    caps: Vec::new(),
                    min_item: header.min_item,
                    max_item: header.max_item,
                    level_zero_sorted: header.sorted_flag,
                    rng: BitSource::new(seed),
                    forks: AtomicU64::new(0),
                    scratch: Vec::new(),
                    image: ImageParts::default(),
                    view: OnceLock::new(),
                };
                s.refresh_caps();
                Ok(s)
            }
        }
    }

    /// Merges the sketch of a KLL image into this one: the same state as
    /// `merge(&KllSketch::deserialize(bytes)?)` (the same checks, the same compactions
    /// and coin flips), without building that sketch: the image's items are read into
    /// buffers this sketch keeps from one image to the next.
    ///
    /// Errors: [`Error::CorruptData`] for an invalid image (this sketch is then
    /// unchanged), as `merge` for a count that would overflow.
    pub fn merge_image(&mut self, bytes: &[u8]) -> Result<()> {
        let mut parts = std::mem::take(&mut self.image);
        let result = read_image(bytes, &mut parts).and_then(|header| match header.form {
            ImageForm::Empty => Ok(()),
            ImageForm::Single | ImageForm::Full => self.merge_parts(
                header.n,
                header.min_k,
                header.min_item,
                header.max_item,
                &parts.levels,
                &parts.retained,
            ),
        });
        self.image = parts;
        result
    }

    /// Merges the sketches of many KLL images into this one. Fewer than
    /// [`BATCH_IMAGES_MIN`] images are merged in order, as [`Self::merge_image`] merges
    /// them; more are merged as one batch (see `batch_union.rs`): each level pooled
    /// across the images and compacted in groups of at least its capacity, on two cores
    /// (the images split in two fixed halves). A batch keeps the error bound of a KLL
    /// sketch of this `k` and is deterministic for a seeded sketch on every machine,
    /// but it is not the state of merging in order.
    ///
    /// Errors: the index of the first invalid image and its error (this sketch is then
    /// in an unspecified state: a union discards it).
    pub fn merge_images(&mut self, images: &[&[u8]]) -> std::result::Result<(), (usize, Error)> {
        if images.len() >= BATCH_IMAGES_MIN {
            return self.merge_images_batched(images);
        }
        for (i, image) in images.iter().enumerate() {
            self.merge_image(image).map_err(|e| (i, e))?;
        }
        Ok(())
    }
}

/// Unions of at least this many images are merged as one batch, on two cores
/// ([`KllSketch::merge_images`]).
pub const BATCH_IMAGES_MIN: usize = 64;

/// What a KLL image holds besides its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImageForm {
    Empty,
    Single,
    Full,
}

pub(super) struct ImageHeader<T> {
    pub(super) form: ImageForm,
    k: u16,
    pub(super) n: u64,
    pub(super) min_k: u16,
    pub(super) min_item: T,
    pub(super) max_item: T,
    sorted_flag: bool,
}

/// The levels and retained items of an image, in buffers reused from image to image.
#[derive(Debug, Clone)]
pub(super) struct ImageParts<T> {
    /// Level offsets as in a sketch's buffer (the last one its capacity); a single item
    /// is the level 0..1.
    pub(super) levels: Vec<u32>,
    /// The retained items, lowest level first: level h is
    /// `retained[levels[h] - levels[0]..levels[h + 1] - levels[0]]`.
    pub(super) retained: Vec<T>,
}

impl<T> Default for ImageParts<T> {
    fn default() -> Self {
        ImageParts {
            levels: Vec::new(),
            retained: Vec::new(),
        }
    }
}

/// Reads and checks a KLL image into `parts` (all of it: every check of
/// [`KllSketch::deserialize`] is made here).
pub(super) fn read_image<T: KllItem>(
    bytes: &[u8],
    parts: &mut ImageParts<T>,
) -> Result<ImageHeader<T>> {
    parts.levels.clear();
    parts.retained.clear();
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
    let header = |form, n, min_k, min_item, max_item| ImageHeader {
        form,
        k,
        n,
        min_k,
        min_item,
        max_item,
        sorted_flag,
    };
    if is_empty {
        return Ok(header(ImageForm::Empty, 0, k, T::ZERO, T::ZERO));
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
        parts.levels.extend_from_slice(&[0, 1]);
        parts.retained.push(item);
        return Ok(header(ImageForm::Single, 1, k, item, item));
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
    let levels = &mut parts.levels;
    levels.extend(
        bytes[DATA_START..levels_end]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
    );
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
    let items = &mut parts.retained;
    T::extend_from_le(items, &bytes[min_len..]);
    // NaN fails both comparisons, so one test per item finds NaN and strays alike; the
    // scan without an early exit vectorizes, and only a bad image searches again.
    let outside = |x: T| !(min_item <= x && x <= max_item);
    let any_outside = items.iter().fold(false, |bad, &x| bad | outside(x));
    if let Some(&x) = items.iter().find(|&&x| any_outside && outside(x)) {
        if x.is_nan() {
            return corrupt("a retained item is NaN");
        }
        return corrupt(format!(
            "retained item {x:?} lies outside [min, max] = [{min_item:?}, {max_item:?}]"
        ));
    }
    let base = levels[0];
    let level = |h: usize| &items[(levels[h] - base) as usize..(levels[h + 1] - base) as usize];
    for h in 1..num_levels {
        if !is_sorted(level(h)) {
            return corrupt(format!("level {h} is not sorted"));
        }
    }
    if sorted_flag && !is_sorted(level(0)) {
        return corrupt("flags say level 0 is sorted but it is not");
    }
    Ok(header(ImageForm::Full, n, min_k, min_item, max_item))
}
