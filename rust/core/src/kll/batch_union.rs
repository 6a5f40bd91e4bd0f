//! Unions of many KLL images in one pass ([`KllSketch::merge_images`]).
//!
//! Merging image after image, as DataSketches does, lays the whole union out again and
//! compresses it for every image, so each image costs as much as the union holds, not
//! as much as the image holds. A batch instead keeps one pool of items per level. A
//! sorted run of at least a group of items (an image's level, or the half a compaction
//! carries up) is halved at once, as many times in one strided pass as the group sizes
//! allow; a shorter run is merged into its level's pool, which is compacted once it
//! holds a group. Every compaction works on a few dozen items in cache. The top levels,
//! which decide the error, are piled up instead and compressed once at the end
//! ([`group_sizes`]).
//!
//! # Why the KLL guarantee holds
//!
//! A compaction of any sorted set of items of weight `w` (keep every other item, from a
//! random first position, at weight `2w`) moves any rank by `0` or `±w` with mean 0,
//! whichever items the set holds. KLL's error is the sum of these moves, and its bound
//! counts the compactions per level: a sketch whose level `h` is only compacted in
//! groups of at least `c_h` items compacts it at most `W_h / (w c_h)` times, `W_h`
//! being the weight that reaches the level. The batch compacts level `h` only in
//! groups of at least `max(MIN_GROUP, c_h)`, `c_h` the level's capacity in the
//! smallest sketch that can hold the union's `n`: no sketch of `k` updated with the
//! whole stream compacts in smaller groups (levels only shrink as a sketch grows), so
//! the batch makes no more compactions per level and keeps the bound of a KLL sketch
//! of its `k`. The pools and piles left at the end are compressed as DataSketches'
//! `general_compress` compresses a merge, at most once per level.
//!
//! The result is deterministic for a seeded sketch (the images are split in two fixed
//! halves, each with its own stream of coin flips), but it is not the state of merging
//! the images one by one.

use super::image::{read_image, ImageForm, ImageParts};
use super::*;

/// The smallest group a level is compacted in. DataSketches compacts the low levels of
/// a large sketch 8 items at a time (their capacity `m`); 16 makes half as many
/// compactions there and still sorts with one network.
const MIN_GROUP: usize = 16;

/// The pools of a batch union: level 0 unsorted, the levels above sorted, each shorter
/// than its group size between calls.
pub(super) struct LevelPools<T: KllItem> {
    /// Group size of each level (even); levels past the end are piles, compacted
    /// only by `finish`.
    groups: Vec<usize>,
    level_zero: Vec<T>,
    /// `levels[h]` for `h >= 1`, sorted (`levels[0]` stays empty).
    levels: Vec<Vec<T>>,
    rng: BitSource,
    n: u64,
    min_k: u16,
    min_max: Option<(T, T)>,
    /// Scratch: a merged pool, the kept half of a compaction of each level, the parts
    /// of an image.
    merged: Vec<T>,
    carries: Vec<Vec<T>>,
    parts: ImageParts<T>,
}

/// `n` as the image header states it (0 when the bytes are too short to say); only
/// sizes the groups, the image itself is checked when it is read.
pub(super) fn stated_n(image: &[u8]) -> u64 {
    match (image.get(3), image.get(8..16)) {
        (Some(&flags), _) if flags & FLAG_EMPTY != 0 => 0,
        (Some(&flags), _) if flags & FLAG_SINGLE_ITEM != 0 => 1,
        (Some(_), Some(b)) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
        _ => 0,
    }
}

/// Group sizes for a union of `n` items with parameter `k`.
///
/// The low levels, which items reach by the thousand, are compacted in groups of their
/// capacity in a sketch of the fewest levels that can hold `n` (a sketch of `L`
/// levels holds at most `total_capacity(L)` items of weight up to `2^(L-1)`), at least
/// [`MIN_GROUP`], rounded up to even so that a full group halves exactly. Those
/// capacities are at least the ones of the sketch the union becomes.
///
/// The top levels decide the error (a compaction at level `h` moves ranks by `2^h`),
/// and a batch has room a sketch does not: levels that fewer than [`PILE_PER_K`]` * k`
/// items reach (at most [`PILE_MAX`]) are not compacted while the images are read but
/// piled up, and compressed once at the end as DataSketches compresses a merge, one
/// compaction per level. Measured over 60 seeds (2,000 images of 2,000 items, k 200),
/// the mean of the largest rank error against merging the images in order: 0.37 %
/// against 0.73 % (piles from 8 k items: 0.84 %; 32 k: 0.58 %; 64 k: 0.46 %), at the
/// same speed.
pub(super) fn group_sizes(k: u16, n: u64) -> Vec<usize> {
    let levels = (1..=MAX_LEVELS)
        .find(|&l| u128::from(total_capacity(k, l)) << (l - 1) >= u128::from(n))
        .unwrap_or(MAX_LEVELS);
    let pile = (PILE_PER_K * u64::from(k)).min(PILE_MAX);
    let streamed = (0..levels).take_while(|&h| n >> h > pile).count();
    (0..streamed)
        .map(|h| {
            let c = (level_capacity(k, levels, h) as usize).max(MIN_GROUP);
            c + (c & 1)
        })
        .collect()
}

/// The items of `items` at `offset`, `offset + stride`, ... into `out` (cleared first);
/// `items.len()` is a multiple of `stride`, `offset < stride`.
fn one_in<T: KllItem>(items: &[T], stride: usize, offset: usize, out: &mut Vec<T>) {
    out.clear();
    // the usual halvings as plain shuffles the compiler vectorizes
    match (stride, offset) {
        (2, 0) => out.extend(items.chunks_exact(2).map(|pair| pair[0])),
        (2, _) => out.extend(items.chunks_exact(2).map(|pair| pair[1])),
        _ => out.extend(items.chunks_exact(stride).map(|c| c[offset])),
    }
}

/// See [`group_sizes`]: levels reached by fewer than this many times `k` items are
/// piled up until the end...
const PILE_PER_K: u64 = 128;
/// ... or by fewer than this many items (8 MiB of `f64`), whichever is fewer: a pile is
/// held whole until the end.
const PILE_MAX: u64 = 1 << 20;

impl<T: KllItem> LevelPools<T> {
    pub(super) fn new(groups: Vec<usize>, rng: BitSource, min_k: u16) -> Self {
        LevelPools {
            groups,
            level_zero: Vec::new(),
            levels: vec![Vec::new()],
            rng,
            n: 0,
            min_k,
            min_max: None,
            merged: Vec::new(),
            carries: Vec::new(),
            parts: ImageParts::default(),
        }
    }

    fn group(&self, h: usize) -> usize {
        self.groups.get(h).copied().unwrap_or(usize::MAX)
    }

    /// Adds a sketch's counts and items given by its level offsets and retained items
    /// (level `h` is `retained[levels[h] - levels[0]..levels[h + 1] - levels[0]]`).
    fn add_parts(
        &mut self,
        n: u64,
        min_k: u16,
        min_max: (T, T),
        levels: &[u32],
        retained: &[T],
    ) -> Result<()> {
        let num_levels = levels.len() - 1;
        self.count(n, (num_levels > 1).then_some(min_k), min_max)?;
        let base = levels[0];
        let level =
            |h: usize| &retained[(levels[h] - base) as usize..(levels[h + 1] - base) as usize];
        self.add_level_zero(level(0));
        self.add_levels(num_levels, level);
        Ok(())
    }

    /// Adds `n` items between `lo` and `hi`; `min_k` is that of an estimation-mode
    /// sketch (the bound's `k`), `None` for an exact one.
    fn count(&mut self, n: u64, min_k: Option<u16>, (lo, hi): (T, T)) -> Result<()> {
        self.n = self
            .n
            .checked_add(n)
            .ok_or_else(|| Error::InvalidArgument("merged item count would overflow u64".into()))?;
        self.min_max = Some(match self.min_max {
            None => (lo, hi),
            Some((a, b)) => (if lo < a { lo } else { a }, if b < hi { hi } else { b }),
        });
        if let Some(m) = min_k {
            self.min_k = self.min_k.min(m);
        }
        Ok(())
    }

    /// Reads and adds one image (every check of `KllSketch::deserialize` is made).
    pub(super) fn add_image(&mut self, bytes: &[u8]) -> Result<()> {
        let mut parts = std::mem::take(&mut self.parts);
        let result = read_image(bytes, &mut parts).and_then(|header| match header.form {
            ImageForm::Empty => Ok(()),
            ImageForm::Single | ImageForm::Full => self.add_parts(
                header.n,
                header.min_k,
                (header.min_item, header.max_item),
                &parts.levels,
                &parts.retained,
            ),
        });
        self.parts = parts;
        result
    }

    /// Adds `images`, naming a bad one by its index plus `base`.
    pub(super) fn add_images(
        &mut self,
        images: &[&[u8]],
        base: usize,
    ) -> std::result::Result<(), (usize, Error)> {
        crate::bulk::for_each_image(images, |b| self.add_image(b)).map_err(|(i, e)| (base + i, e))
    }

    pub(super) fn add_sketch(&mut self, s: &KllSketch<T>) -> Result<()> {
        if s.is_empty() {
            return Ok(());
        }
        self.add_parts(
            s.n,
            s.min_k,
            (s.min_item, s.max_item),
            &s.levels,
            s.retained(),
        )
    }

    /// Adds everything another batch holds.
    pub(super) fn absorb(&mut self, other: LevelPools<T>) -> Result<()> {
        let Some(min_max) = other.min_max else {
            return Ok(());
        };
        self.count(other.n, Some(other.min_k), min_max)?;
        self.add_level_zero(&other.level_zero);
        // the other's levels are sorted, or piles here as well (same group sizes)
        self.add_levels(other.levels.len(), |h| &other.levels[h]);
        Ok(())
    }

    /// Unsorted items of weight 1: a full group is sorted and compacted into level 1.
    fn add_level_zero(&mut self, mut items: &[T]) {
        let group = self.group(0);
        while !items.is_empty() {
            let take = (group - self.level_zero.len()).min(items.len());
            self.level_zero.extend_from_slice(&items[..take]);
            items = &items[take..];
            if self.level_zero.len() == group {
                let mut level = std::mem::take(&mut self.level_zero);
                sort_items(&mut level);
                self.compact_into(0, 1, &level);
                level.clear();
                self.level_zero = level;
            }
        }
    }

    /// Adds the sorted levels `1..num_levels` of a sketch, `level(h)` each.
    fn add_levels<'a>(&mut self, num_levels: usize, level: impl Fn(usize) -> &'a [T])
    where
        T: 'a,
    {
        for h in 1..num_levels {
            self.add_run(h, level(h));
        }
    }

    /// Adds a sorted run of items to level `h >= 1`. A run of a group or more is
    /// compacted by itself (any sorted set of a level may be): halving it is cheaper
    /// than merging it. A shorter one is merged into the level's pool, which is
    /// compacted once it holds a group. An odd item, the smallest, stays behind as in
    /// DataSketches; the kept half moves on to level `h + 1`.
    fn add_run(&mut self, h: usize, run: &[T]) {
        if self.levels.len() <= h {
            self.levels.resize_with(h + 1, Vec::new);
        }
        let group = self.group(h);
        if group == usize::MAX {
            // a pile takes its runs as they come and is sorted once, by `finish`
            self.levels[h].extend_from_slice(run);
            return;
        }
        if run.len() >= group {
            // As many compactions in a row as keep to the group sizes, in one pass: j
            // halvings from random offsets o_1..o_j keep the items at o_1 + 2 o_2 + ...
            // + 2^(j-1) o_j modulo 2^j. The few smallest items that do not fill a
            // stride of 2^j stay at this level.
            let mut j = 1;
            while h + j < self.groups.len() && run.len() >> j >= self.groups[h + j] {
                j += 1;
            }
            let extra = run.len() & ((1 << j) - 1);
            if extra > 0 {
                self.merge_into_pool(h, &run[..extra]);
            }
            self.compact_into(h, j, &run[extra..]);
        } else {
            self.merge_into_pool(h, run);
        }
        if self.levels[h].len() >= group {
            let mut pool = std::mem::take(&mut self.levels[h]);
            let odd = pool.len() & 1;
            self.compact_into(h, 1, &pool[odd..]);
            pool.truncate(odd);
            // nothing reached level h meanwhile: a compaction only moves items up
            debug_assert!(self.levels[h].is_empty());
            self.levels[h] = pool;
        }
    }

    /// `j` compactions in a row of the sorted `items` of level `h`, whose count is a
    /// multiple of `2^j`: one item in `2^j`, from a random first position, is added to
    /// level `h + j`.
    fn compact_into(&mut self, h: usize, j: usize, items: &[T]) {
        if self.carries.len() <= h {
            self.carries.resize_with(h + 1, Vec::new);
        }
        let offset = (0..j).fold(0, |o, i| o | self.rng.bit() << i);
        let mut carry = std::mem::take(&mut self.carries[h]);
        one_in(items, 1 << j, offset, &mut carry);
        self.add_run(h + j, &carry);
        self.carries[h] = carry;
    }

    fn merge_into_pool(&mut self, h: usize, run: &[T]) {
        let pool = &mut self.levels[h];
        if pool.is_empty() {
            pool.extend_from_slice(run);
            return;
        }
        self.merged.clear();
        merge_into(pool, run, &mut self.merged);
        std::mem::swap(pool, &mut self.merged);
    }

    /// Makes `target` the sketch of everything added: its pools laid out as levels and
    /// compressed into its capacity. `target`'s offsets continue from this batch's.
    pub(super) fn finish(mut self, target: &mut KllSketch<T>) {
        target.rng = self.rng;
        for pile in self.levels.iter_mut().skip(self.groups.len().max(1)) {
            // runs back to back: the stable sort merges them
            pile.sort_by(T::total_cmp);
        }
        let Some((lo, hi)) = self.min_max else {
            return;
        };
        let top = self.levels.iter().rposition(|l| !l.is_empty()).unwrap_or(0);
        let num_levels = top + 1;
        let total = self.level_zero.len() + self.levels.iter().map(Vec::len).sum::<usize>();
        let mut work = Vec::with_capacity(total);
        let mut in_levels = vec![0u32; num_levels + 2];
        work.extend_from_slice(&self.level_zero);
        in_levels[1] = work.len() as u32;
        for h in 1..num_levels {
            work.extend_from_slice(&self.levels[h]);
            in_levels[h + 1] = work.len() as u32;
        }
        target.view.take();
        target.n = self.n;
        target.min_k = self.min_k;
        target.min_item = lo;
        target.max_item = hi;
        target.level_zero_sorted = false;
        target.compress_and_install(work, in_levels, num_levels);
        debug_assert_eq!(target.total_weight(), u128::from(target.n));
    }
}

impl<T: KllItem> KllSketch<T> {
    /// The batch union of [`Self::merge_images`] (from [`BATCH_IMAGES_MIN`] images on).
    pub(super) fn merge_images_batched(
        &mut self,
        images: &[&[u8]],
    ) -> std::result::Result<(), (usize, Error)> {
        let n = images
            .iter()
            .fold(self.n, |n, b| n.saturating_add(stated_n(b)));
        let groups = group_sizes(self.k, n);
        let helper_seed = splitmix64(&mut self.rng.state);
        let rng = std::mem::replace(&mut self.rng, BitSource::new(0));
        let mut first = LevelPools::new(groups.clone(), rng, self.k);
        let mut second = LevelPools::new(groups, BitSource::new(helper_seed), self.k);
        first
            .add_sketch(self)
            .expect("a sketch's own count does not overflow");
        let (a, b) = images.split_at(images.len() / 2);
        let (ra, rb) =
            crate::bulk::join(|| first.add_images(a, 0), || second.add_images(b, a.len()));
        let result = ra
            .and(rb)
            .and_then(|()| first.absorb(second).map_err(|e| (images.len() - 1, e)));
        match result {
            Ok(()) => {
                first.finish(self);
                Ok(())
            }
            Err(e) => {
                self.rng = first.rng;
                Err(e)
            }
        }
    }
}
