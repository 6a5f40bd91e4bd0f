//! The bulk driver of every family: blocks with progress and cancellation between them,
//! hashing on every core, application in input order, one AVX-512 dispatch.
//!
//! A family plugs in with one trait: [`HashSketch`] for sketches of hashes (HLL, Theta),
//! [`ValueSketch`] for sketches of values (KLL). [`update_column`] and
//! [`update_values`] then read any [`crate::column`] view.
//!
//! Every hash-based sketch spends its bulk time hashing and then rejecting
//! almost every item: a register already as high, a hash above theta. That test reads
//! state that changes rarely, so worker threads run it against the state as it was at
//! the start of a block and pass on only the items that might change it, in order; the
//! caller applies those sequentially. The result is exactly that of one-by-one updates.

use crate::column::{Column, HashVisitor, Numeric, NumericItem};
use crate::{Error, Result};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// Items per block; a progress callback runs between blocks.
pub const BLOCK: usize = 1 << 21;

/// Items filtered against one snapshot of the sketch's state.
pub const SUB_BLOCK: usize = 1 << 20;

/// Below this many items a block is done on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// The id of the process that first used rayon's global pool (0 before that).
static POOL_PID: AtomicU32 = AtomicU32::new(0);

/// Whether rayon's global pool can run work in this process. A child made by `fork()`
/// after the pool started inherits the pool's state but none of its threads: work
/// handed to it would wait forever. Such a child (its pid differs from the one recorded
/// at first use) works on the calling thread instead.
fn pool_usable() -> bool {
    let pid = std::process::id();
    match POOL_PID.compare_exchange(0, pid, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => true,
        Err(first) => first == pid,
    }
}

/// `f(part, kept)` for consecutive parts of `range`, each pushing what it keeps to its
/// own vector; returns the vectors concatenated, in range order. The range is split
/// over rayon's pool when it is large enough to pay for the hand-off. (A pool, not
/// fresh threads: spawning costs tens of microseconds here, plus page faults for each
/// new thread's stack and allocator arena.) In a process forked after the pool started
/// it all runs on the calling thread, with the same result.
pub fn par_parts<T, F>(range: Range<usize>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>, &mut Vec<T>) + Sync,
{
    let n = range.len();
    if n < PARALLEL_MIN || !pool_usable() || rayon::current_num_threads() <= 1 {
        let mut kept = Vec::new();
        f(range, &mut kept);
        return kept;
    }
    let t = rayon::current_num_threads();
    let per = n.div_ceil(t);
    let parts: Vec<Vec<T>> = (0..t)
        .into_par_iter()
        .map(|k| {
            let lo = (range.start + k * per).min(range.end);
            let hi = (lo + per).min(range.end);
            let mut kept = Vec::new();
            f(lo..hi, &mut kept);
            kept
        })
        .collect();
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
    out
}

/// `(a(), b())`, on two of rayon's threads where it has two and its pool is usable in
/// this process, else one after the other: for work split in two fixed halves, whose
/// result then does not depend on the machine.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if pool_usable() && rayon::current_num_threads() > 1 {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// `f()`, run on a thread of rayon's pool where it has several and is usable in this
/// process (see [`par_parts`]), else on the calling thread: for serial work between
/// many short parallel steps. Each step handed to the pool from outside it wakes its
/// threads and then the caller (on the virtual machines measured, about half a
/// millisecond per step); from inside, the thread that splits a step works on at once
/// and the others join it as they wake.
pub fn on_pool<R, F>(f: F) -> R
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    if rayon::current_thread_index().is_none() && pool_usable() && rayon::current_num_threads() > 1
    {
        rayon::scope(|_| f())
    } else {
        f()
    }
}

/// `f` of each of `items`, in order, each on a thread of rayon's pool where it has
/// several and is usable in this process (see [`par_parts`]), else on the calling thread.
pub fn par_map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    if items.len() < 2 || !pool_usable() || rayon::current_num_threads() <= 1 {
        return items.iter().map(f).collect();
    }
    items.par_iter().map(&f).collect()
}

/// `f(part, &mut scratch[k])` for consecutive parts `k` of `range`, split over rayon's
/// pool as [`par_parts`] splits it; returns the number of parts, whose results are
/// `scratch[..parts]`, in range order. `scratch` grows with `new()` to one element per
/// part and is meant to be reused between calls, so that large buffers are allocated
/// (and their pages faulted in) once per bulk update, not once per call: `f` must
/// clear what it reuses.
pub fn par_parts_into<P, F>(
    range: Range<usize>,
    scratch: &mut Vec<P>,
    new: impl Fn() -> P,
    f: F,
) -> usize
where
    P: Send,
    F: Fn(Range<usize>, &mut P) + Sync,
{
    let n = range.len();
    let t = if n < PARALLEL_MIN || !pool_usable() {
        1
    } else {
        rayon::current_num_threads().max(1)
    };
    while scratch.len() < t {
        scratch.push(new());
    }
    if t == 1 {
        f(range, &mut scratch[0]);
        return 1;
    }
    let per = n.div_ceil(t);
    scratch[..t].par_iter_mut().enumerate().for_each(|(k, p)| {
        let lo = (range.start + k * per).min(range.end);
        let hi = (lo + per).min(range.end);
        f(lo..hi, p)
    });
    t
}

/// Items per chunk of [`chunked`]: small enough to stay in L1, large enough to
/// vectorise.
pub const CHUNK: usize = 256;

/// The items of a bulk update as its hashing loop reads them: item `i` of `0..len()` is
/// `get(i)`, `None` for one that is not an item (a null, an empty string).
pub trait Items: Sync {
    type Item: Copy;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `i`.
    fn get(&self, i: usize) -> Option<Self::Item>;
    /// Writes `map(item)` of items `start..start + out.len()` to `out`, `none` for one
    /// that is not an item: the body of the hashing loop.
    fn fill<K: Copy>(&self, start: usize, out: &mut [K], map: &impl Fn(Self::Item) -> K, none: K);
}

/// Items given by index: item `i` is `at(i)` (strings, callers' closures).
pub struct ByIndex<F> {
    n: usize,
    at: F,
}

impl<F> ByIndex<F> {
    pub fn new(n: usize, at: F) -> Self {
        ByIndex { n, at }
    }
}

impl<T: Copy, F: Fn(usize) -> Option<T> + Sync> Items for ByIndex<F> {
    type Item = T;
    fn len(&self) -> usize {
        self.n
    }
    #[inline(always)]
    fn get(&self, i: usize) -> Option<T> {
        (self.at)(i)
    }
    #[inline(always)]
    fn fill<K: Copy>(&self, start: usize, out: &mut [K], map: &impl Fn(T) -> K, none: K) {
        for (j, o) in out.iter_mut().enumerate() {
            *o = (self.at)(start + j).map_or(none, map);
        }
    }
}

/// Items of a slice, every element an item: item `i` is `of(items[i])` (numeric
/// columns). The hashing loop reads the slice itself, contiguously and with no bounds
/// check per item, and prefetches it [`PREFETCH_AHEAD`] bytes ahead.
pub struct BySlice<'a, E, F> {
    items: &'a [E],
    of: F,
}

impl<'a, E, F> BySlice<'a, E, F> {
    pub fn new(items: &'a [E], of: F) -> Self {
        BySlice { items, of }
    }
}

/// Bytes of input prefetched ahead of the chunk being hashed. The hashing loop is
/// compute-heavy enough that the hardware prefetcher alone falls behind DRAM latency
/// (170-250 ns on the Xeon of issue 7): about 40 % of the loop waited on its input.
pub const PREFETCH_AHEAD: usize = 16 * 1024;

/// Calls `f` on each image in order; the first error stops it, returned with the image's
/// index. Unions read thousands of images, each its own allocation: the first bytes of
/// each are a miss in every cache and often in the TLB, which costs as much as reading a
/// small image. The first [`PREFETCH_HEAD`] bytes of the image [`PREFETCH_IMAGES`]
/// ahead are requested while the current one is read, so those misses overlap.
pub fn for_each_image(
    images: &[&[u8]],
    mut f: impl FnMut(&[u8]) -> crate::Result<()>,
) -> std::result::Result<(), (usize, crate::Error)> {
    for (i, image) in images.iter().enumerate() {
        if let Some(ahead) = images.get(i + PREFETCH_IMAGES) {
            prefetch(&ahead[..ahead.len().min(PREFETCH_HEAD)]);
        }
        f(image).map_err(|e| (i, e))?;
    }
    Ok(())
}

/// See [`for_each_image`].
pub const PREFETCH_IMAGES: usize = 8;
/// See [`for_each_image`]: a preamble and the first entries.
pub const PREFETCH_HEAD: usize = 256;

/// Asks the processor to bring the cache lines of `bytes` into its caches.
#[inline(always)]
fn prefetch<E>(bytes: &[E]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = bytes.as_ptr() as *const i8;
        let len = std::mem::size_of_val(bytes);
        let mut line = 0;
        while line < len {
            // SAFETY: a prefetch is a hint: it never faults and has no effect a program
            // can observe but timing, and here it names memory inside `bytes`. It needs
            // SSE, which every x86-64 processor has.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line)) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

impl<E, T, F> Items for BySlice<'_, E, F>
where
    E: Copy + Sync,
    T: Copy,
    F: Fn(E) -> T + Sync,
{
    type Item = T;
    fn len(&self) -> usize {
        self.items.len()
    }
    #[inline(always)]
    fn get(&self, i: usize) -> Option<T> {
        Some((self.of)(self.items[i]))
    }
    #[inline(always)]
    fn fill<K: Copy>(&self, start: usize, out: &mut [K], map: &impl Fn(T) -> K, _none: K) {
        let ahead = start + PREFETCH_AHEAD / std::mem::size_of::<E>().max(1);
        if let Some(next) = self.items.get(ahead..) {
            prefetch(&next[..out.len().min(next.len())]);
        }
        let src = &self.items[start..start + out.len()];
        for (o, &v) in out.iter_mut().zip(src) {
            *o = map((self.of)(v));
        }
    }
}

/// Whether this processor runs the AVX-512 builds of the hot loops: the one feature
/// test of the crate, shared by every family (`avx512cd` for HLL's vector leading-zero
/// count, `avx512dq` for MurmurHash3's 64-bit multiplies).
#[cfg(target_arch = "x86_64")]
pub fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512cd")
}

/// Work that [`dispatch`] compiles twice: for every processor (`AVX512` false) and for
/// AVX-512 (true), so that a kernel may choose its method by build where they measure
/// differently.
///
/// `run` must be `#[inline(always)]`, so that it becomes the body of each build; what it
/// calls is compiled for AVX-512 there only if inlined too. Closures it calls are
/// separate functions, inlined at LLVM's discretion: a small one is, a large one with a
/// call site in each build was found compiled once, for the baseline processor. Hot
/// loops belong in `run` itself or in `#[inline(always)]` functions and trait methods.
pub trait Kernel {
    type Out;
    fn run<const AVX512: bool>(self) -> Self::Out;
}

/// Runs `kernel`, in its AVX-512 build on x86-64 processors with AVX-512
/// ([`has_avx512`]), where MurmurHash3's 64-bit multiplies and leading-zero counts have
/// vector forms (below AVX-512 there is no vector 64-bit multiply): the crate's one
/// dispatch on a processor feature.
#[inline]
pub fn dispatch<K: Kernel>(kernel: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the processor has every feature `run_avx512` is compiled for; that is
        // all calling a function compiled for them requires.
        return unsafe { run_avx512(kernel) };
    }
    kernel.run::<false>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512cd")]
unsafe fn run_avx512<K: Kernel>(kernel: K) -> K::Out {
    kernel.run::<true>()
}

/// Calls `consume` with `map` of the items of `part` (`none` for what is not an item), a
/// chunk of [`CHUNK`] at a time: the hashing loop of bulk updates, kept apart from what
/// consumes it so that the compiler vectorises it, and compiled for AVX-512 where the
/// processor has it ([`dispatch`]). Measured on an AMD Zen 5, 10 M int64 on 2 cores: HLL
/// 0.70 G items/s against 0.45 G for the item-by-item loop, Theta 1.35 G against 0.59 G.
#[inline]
pub fn chunked<I, K, M, G>(part: Range<usize>, items: &I, map: &M, none: K, consume: G)
where
    I: Items,
    K: Copy,
    M: Fn(I::Item) -> K,
    G: FnMut(&[K]),
{
    struct Chunked<'a, I, K, M, G> {
        part: Range<usize>,
        items: &'a I,
        map: &'a M,
        none: K,
        consume: G,
    }
    impl<I, K, M, G> Kernel for Chunked<'_, I, K, M, G>
    where
        I: Items,
        K: Copy,
        M: Fn(I::Item) -> K,
        G: FnMut(&[K]),
    {
        type Out = ();
        #[inline(always)]
        fn run<const AVX512: bool>(self) {
            chunked_plain(self.part, self.items, self.map, self.none, self.consume)
        }
    }
    dispatch(Chunked {
        part,
        items,
        map,
        none,
        consume,
    })
}

/// [`chunked`] for every processor: the loop the AVX-512 build compiles too.
#[inline(always)]
fn chunked_plain<I, K, M, G>(part: Range<usize>, items: &I, map: &M, none: K, mut consume: G)
where
    I: Items,
    K: Copy,
    M: Fn(I::Item) -> K,
    G: FnMut(&[K]),
{
    let mut buf = [none; CHUNK];
    let mut start = part.start;
    while start < part.end {
        let chunk = &mut buf[..CHUNK.min(part.end - start)];
        items.fill(start, chunk, map, none);
        consume(chunk);
        start += chunk.len();
    }
}

/// Runs `apply` on consecutive blocks of at most [`BLOCK`] of `n` items, calling
/// `progress(done, n)` after each block, so with `done == n` exactly once, at the end
/// (also for `n` = 0, so that a progress bar always completes). `false` stops with
/// `Error::Cancelled` after the blocks done so far (a prefix of whole blocks; all of
/// them when it comes with the last report), and so does an error of `apply` (which
/// then leaves its block unapplied). The one block loop of every bulk update.
pub fn in_blocks(
    n: usize,
    progress: &mut dyn FnMut(u64, u64) -> bool,
    mut apply: impl FnMut(Range<usize>) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    loop {
        let end = (start + BLOCK).min(n);
        if end > start {
            apply(start..end)?;
        }
        start = end;
        if !progress(end as u64, n as u64) {
            return Err(Error::Cancelled);
        }
        if end == n {
            return Ok(());
        }
    }
}

/// A sketch updated with 128-bit item hashes (HLL, Theta; Count-Min hashes once per row,
/// with a [`Kernel`] of its own): what
/// [`update_keys`] and [`update_column`] drive.
///
/// Each hash becomes a `Key` (an HLL coupon, a Theta hash). Most keys of a large input
/// cannot change the sketch (a register already as high, a hash above theta), and that
/// test reads state that changes rarely, so workers run [`Self::screen`] against the
/// sketch as it is at the start of a sub-block, on every core, and pass on the keys that
/// might change it, in order; [`Self::apply_screened`] then applies them in order. The
/// result is exactly that of one-by-one updates.
pub trait HashSketch: Sync {
    type Key: Copy + Default + Send + Sync;
    /// The key standing for "not an item" (a null, an empty string) in a chunk: one
    /// that [`Self::screen`] never keeps.
    const NOT_AN_ITEM: Self::Key;
    /// The seed items are hashed with.
    fn seed(&self) -> u64;
    /// The key of an item's MurmurHash3_x64_128 `(h1, h2)`.
    fn key(hash: (u64, u64)) -> Self::Key;
    /// Applies one item's key (the sequential path).
    fn apply(&mut self, key: Self::Key);
    /// Whether screening pays: while it does not (HLL's LIST/SET modes, an empty Theta
    /// sketch) items are applied one by one.
    fn screens(&self) -> bool;
    /// Items to screen against one state; `previous` is the length of the previous
    /// sub-block of this update (`None` for its first).
    fn sub_block_len(&self, previous: Option<usize>) -> usize;
    /// Pushes to `kept`, in order, the keys of `chunk` that might change the sketch as
    /// it is now. Runs on worker threads.
    fn screen(&self, chunk: &[Self::Key], kept: &mut Vec<Self::Key>);
    /// Applies screened keys, in order.
    fn apply_screened(&mut self, keys: &[Self::Key]);
}

/// Bulk update of `sketch` with `n` items, item `i` giving `key_at(i)` (`None`: not an
/// item): [`update_items`] for items given by index.
pub fn update_keys<S, F>(
    sketch: &mut S,
    n: usize,
    key_at: F,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<()>
where
    S: HashSketch,
    F: Fn(usize) -> Option<S::Key> + Sync,
{
    update_items(sketch, &ByIndex::new(n, key_at), &|k| k, progress)
}

/// Bulk update of `sketch` with `items`, item `i` having key `key(item)`, in blocks of
/// [`BLOCK`] with `progress` between them (see [`in_blocks`]): keys are computed and
/// screened on every core and applied in input order.
pub fn update_items<S, I, F>(
    sketch: &mut S,
    items: &I,
    key: &F,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<()>
where
    S: HashSketch,
    I: Items,
    F: Fn(I::Item) -> S::Key + Sync,
{
    // Carried from block to block: a sketch sizes its sub-blocks from the previous one
    // (HLL doubles them after promotion) and a block boundary changes nothing there.
    let mut previous = None;
    in_blocks(items.len(), progress, |block| {
        let mut i = block.start;
        while i < block.end {
            if !sketch.screens() {
                if let Some(item) = items.get(i) {
                    sketch.apply(key(item));
                }
                i += 1;
                continue;
            }
            let len = sketch.sub_block_len(previous);
            previous = Some(len);
            let hi = (i + len).min(block.end);
            let snapshot: &S = sketch;
            let kept = par_parts(i..hi, |part, kept| {
                chunked(part, items, key, S::NOT_AN_ITEM, |chunk| {
                    snapshot.screen(chunk, kept)
                })
            });
            sketch.apply_screened(&kept);
            i = hi;
        }
        Ok(())
    })
}

/// Bulk update of `sketch` with every item of `column`, hashed with the sketch's seed as
/// DataSketches hashes it ([`Column::visit_hashes`]); see [`update_items`].
pub fn update_column<S: HashSketch>(
    sketch: &mut S,
    column: &Column,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<()> {
    struct Drive<'s, S> {
        sketch: &'s mut S,
        progress: &'s mut dyn FnMut(u64, u64) -> bool,
    }
    impl<S: HashSketch> HashVisitor for Drive<'_, S> {
        type Out = Result<()>;
        fn visit<I: Items<Item = (u64, u64)>>(self, items: I) -> Self::Out {
            update_items(self.sketch, &items, &S::key, self.progress)
        }
    }
    let seed = sketch.seed();
    column.visit_hashes(seed, Drive { sketch, progress })
}

/// A sketch updated with the values themselves (KLL): what [`update_values`] drives.
pub trait ValueSketch: Send + Sized {
    type Item: NumericItem;
    /// Applies `items` in order; the result equals applying them one by one.
    fn apply_values(&mut self, items: &[Self::Item]);
    /// For a column of at least [`SPLIT_MIN`] items: an empty sketch with this one's
    /// parameters that takes the second half of every block on another core, to be
    /// merged into this one at the end by [`Self::absorb`]. Its random choices must be
    /// drawn from this sketch's, so that a seeded sketch stays deterministic. `None`
    /// (the default) applies every item in order.
    fn helper(&mut self) -> Option<Self> {
        None
    }
    /// Merges a [`Self::helper`] back.
    fn absorb(&mut self, _helper: Self) {}
}

/// Items converted per call of [`ValueSketch::apply_values`] when a column needs a
/// conversion: small enough to stay in L2.
const CONVERT_CHUNK: usize = 1 << 14;

/// Columns from this length on are split between a sketch and its
/// [`ValueSketch::helper`]: long enough that the final merge costs nothing in
/// comparison. The split is the same on every machine (two halves of each block, on two
/// threads where there are two), so a seeded result does not depend on the core count.
pub const SPLIT_MIN: usize = 1 << 20;

/// Bulk update of `sketch` with every item of `column`, converted to the sketch's item
/// type ([`NumericItem`]; a column of that type is read in place), in blocks of
/// [`BLOCK`] with `progress` between them (see [`in_blocks`]). From [`SPLIT_MIN`] items
/// on, a sketch with a [`ValueSketch::helper`] shares each block with it, and absorbs it
/// at the end (after a cancellation too: the blocks done so far are then all applied).
pub fn update_values<S: ValueSketch>(
    sketch: &mut S,
    column: &Numeric,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<()> {
    S::Item::check_column(column)?;
    let mut helper = if column.len() >= SPLIT_MIN {
        sketch.helper()
    } else {
        None
    };
    let result = in_blocks(column.len(), progress, |block| {
        match helper.as_mut() {
            None => apply_range(sketch, column, block),
            Some(h) => {
                let mid = block.start + block.len() / 2;
                join(
                    || apply_range(sketch, column, block.start..mid),
                    || apply_range(h, column, mid..block.end),
                );
            }
        }
        Ok(())
    });
    if let Some(h) = helper {
        sketch.absorb(h);
    }
    result
}

/// `sketch.apply_values` on the items `range` of `column`, converted in chunks if the
/// column is not of the sketch's item type.
fn apply_range<S: ValueSketch>(sketch: &mut S, column: &Numeric, range: Range<usize>) {
    if let Some(items) = S::Item::as_items(column) {
        return sketch.apply_values(&items[range]);
    }
    let mut buf = Vec::with_capacity(CONVERT_CHUNK.min(range.len()));
    let mut i = range.start;
    while i < range.end {
        let hi = (i + CONVERT_CHUNK).min(range.end);
        buf.clear();
        S::Item::extend_converted(column, i..hi, &mut buf);
        sketch.apply_values(&buf);
        i = hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a deterministic stream of test values.
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The chunks one version hands to `consume`, in order (items mapped by a rotation,
    /// `u64::MAX` for what is not an item).
    fn run<I: Items<Item = u64>>(part: Range<usize>, plain: bool, items: &I) -> Vec<Vec<u64>> {
        let mut chunks = Vec::new();
        let consume = |c: &[u64]| chunks.push(c.to_vec());
        let map = |v: u64| v.rotate_left(7);
        if plain {
            chunked_plain(part, items, &map, u64::MAX, consume);
        } else {
            chunked(part, items, &map, u64::MAX, consume);
        }
        chunks
    }

    #[test]
    fn chunked_plain_matches_chunked() {
        for seed in 0..20u64 {
            // About one item in five is None.
            let f = move |i: usize| {
                let h = mix(seed ^ (i as u64).wrapping_mul(0x1000_0000_01b3));
                (!h.is_multiple_of(5)).then_some(h)
            };
            let by_index = ByIndex::new(usize::MAX, f);
            // Long enough that prefetches reach past the end of the slice.
            let values: Vec<u64> = (0..8000).map(|i| mix(seed ^ i)).collect();
            let by_slice = BySlice::new(&values[..], |v: u64| v ^ seed);
            let r = mix(seed);
            let start = (r % 1000) as usize;
            let lens = [
                0,
                1,
                CHUNK - 1,
                CHUNK,
                CHUNK + 1,
                3 * CHUNK + 17,
                (r >> 20) as usize % 5000,
                values.len() - start,
            ];
            for len in lens {
                let part = start..start + len;
                let plain = run(part.clone(), true, &by_index);
                assert_eq!(
                    plain,
                    run(part.clone(), false, &by_index),
                    "seed {seed}, {part:?}"
                );
                let expected = part
                    .clone()
                    .map(|i| f(i).map_or(u64::MAX, |v| v.rotate_left(7)));
                assert_eq!(plain.concat(), expected.collect::<Vec<_>>());
                assert!(plain.iter().all(|c| !c.is_empty() && c.len() <= CHUNK));

                let plain = run(part.clone(), true, &by_slice);
                assert_eq!(
                    plain,
                    run(part.clone(), false, &by_slice),
                    "seed {seed}, {part:?}"
                );
                let expected = values[part.clone()]
                    .iter()
                    .map(|v| (v ^ seed).rotate_left(7));
                assert_eq!(plain.concat(), expected.collect::<Vec<_>>());
                assert!(plain.iter().all(|c| !c.is_empty() && c.len() <= CHUNK));
            }
        }
    }

    #[test]
    fn par_parts_matches_one_part() {
        let f = |part: Range<usize>, kept: &mut Vec<u64>| {
            kept.extend(part.map(|i| mix(i as u64)).filter(|h| h.is_multiple_of(3)))
        };
        let n = 3 * PARALLEL_MIN + 5;
        let mut one = Vec::new();
        f(7..n, &mut one);
        assert_eq!(par_parts(7..n, f), one);
        assert!(pool_usable());
        assert_eq!(POOL_PID.load(Ordering::Relaxed), std::process::id());
    }

    use crate::column::{Column, Numeric, Strings, Validity};
    use crate::hll::{HllSketch, HllType};
    use crate::kll::KllSketch;
    use crate::theta::UpdateTheta;

    /// One-by-one updates of the items `column` holds (`None`: a null or empty item).
    fn items(n: usize) -> (Vec<i64>, Vec<u8>, Vec<i32>, Vec<u8>) {
        let values: Vec<i64> = (0..n as u64)
            .map(|i| (mix(i) % (n as u64 / 3)) as i64)
            .collect();
        let mut data = Vec::new();
        let mut offsets = vec![0i32];
        for (i, v) in values.iter().enumerate() {
            if i % 7 != 3 {
                data.extend_from_slice(v.to_string().as_bytes()); // every 7th is empty
            }
            offsets.push(data.len() as i32);
        }
        // Every 11th item is null.
        let validity: Vec<u8> = (0..n.div_ceil(8))
            .map(|byte| {
                (0..8).fold(0u8, |bits, b| {
                    bits | (((byte * 8 + b) % 11 != 5) as u8) << b
                })
            })
            .collect();
        (values, data, offsets, validity)
    }

    fn string_column<'a>(data: &'a [u8], offsets: &'a [i32], validity: &'a [u8]) -> Column<'a> {
        let n = offsets.len() - 1;
        let v = Validity::new(validity, 0, n).unwrap();
        Strings::arrow32(data, offsets, Some(v)).unwrap().into()
    }

    /// The items of the string column one by one, as a sketch's scalar path takes them.
    fn each_string(col: &Column, mut f: impl FnMut(&[u8])) {
        let Column::Strings(s) = col else {
            unreachable!()
        };
        for i in 0..s.len() {
            s.with_item(i, &mut f);
        }
    }

    #[test]
    fn column_updates_equal_one_by_one_updates() {
        // Past promotion to HLL mode and past Theta's estimation mode, over several
        // blocks of the parallel path.
        let n = 2 * BLOCK + 12_345;
        let (values, data, offsets, validity) = items(n);
        let strings = string_column(&data, &offsets, &validity);
        let ints: Column = Numeric::I64(&values).into();

        let mut bulk = HllSketch::new(11, HllType::Hll6).unwrap();
        update_column(&mut bulk, &ints, &mut |_, _| true).unwrap();
        update_column(&mut bulk, &strings, &mut |_, _| true).unwrap();
        let mut one = HllSketch::new(11, HllType::Hll6).unwrap();
        values.iter().for_each(|&v| one.update_i64(v));
        each_string(&strings, |b| one.update_bytes(b));
        assert_eq!(bulk.serialize(false), one.serialize(false));

        let mut bulk = UpdateTheta::new(10, 1.0, 77).unwrap();
        update_column(&mut bulk, &ints, &mut |_, _| true).unwrap();
        update_column(&mut bulk, &strings, &mut |_, _| true).unwrap();
        let mut one = UpdateTheta::new(10, 1.0, 77).unwrap();
        values.iter().for_each(|&v| one.update_i64(v));
        each_string(&strings, |b| one.update_bytes(b));
        assert!(bulk.is_estimation_mode());
        assert_eq!(
            bulk.compact(true).serialize(),
            one.compact(true).serialize()
        );
    }

    /// What [`update_values`] computes for a column of at least [`SPLIT_MIN`] items, by
    /// hand: the first half of each block into the sketch, the second into its helper,
    /// one by one, and the helper merged at the end.
    fn split_by_hand(k: u16, seed: u64, values: &[i64]) -> KllSketch<f64> {
        let mut main = KllSketch::<f64>::with_seed(k, seed).unwrap();
        let mut helper = main.helper().unwrap();
        for block in values.chunks(BLOCK) {
            let (a, b) = block.split_at(block.len() / 2);
            a.iter().for_each(|&v| main.update(v as f64));
            b.iter().for_each(|&v| helper.update(v as f64));
        }
        main.absorb(helper);
        main
    }

    #[test]
    fn long_value_columns_are_shared_with_a_helper_deterministically() {
        let n = 2 * BLOCK + 12_345;
        let (values, ..) = items(n);
        let column = Numeric::I64(&values);
        let mut bulk = KllSketch::<f64>::with_seed(200, 5).unwrap();
        update_values(&mut bulk, &column, &mut |_, _| true).unwrap();
        assert_eq!(bulk, split_by_hand(200, 5, &values));
        // The same on one thread: the split does not depend on the cores.
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut alone = KllSketch::<f64>::with_seed(200, 5).unwrap();
        one_thread.install(|| update_values(&mut alone, &column, &mut |_, _| true).unwrap());
        assert_eq!(alone, bulk);
        // A sketch of the whole column: count and extremes exact, ranks within the
        // bound (k 200: 1.3 % at 99 % confidence) of the exact ones.
        let mut sorted: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        assert_eq!(bulk.n(), n as u64);
        assert_eq!(bulk.min_item(), Some(sorted[0]));
        assert_eq!(bulk.max_item(), Some(sorted[n - 1]));
        let eps = crate::kll::normalized_rank_error(200, false);
        for q in 1..100 {
            let x = sorted[n * q / 100];
            let exact = sorted.partition_point(|&v| v <= x) as f64 / n as f64;
            let got = bulk.rank(x, true).unwrap();
            assert!((got - exact).abs() <= eps, "q {q}: {got} vs {exact}");
        }
    }

    #[test]
    fn value_updates_convert_like_one_by_one_updates() {
        // Below SPLIT_MIN, so applied in order.
        let n = SPLIT_MIN - 5_000;
        let (values, ..) = items(n);
        let mut bulk = KllSketch::<f32>::with_seed(50, 3).unwrap();
        update_values(&mut bulk, &Numeric::I64(&values), &mut |_, _| true).unwrap();
        let mut one = KllSketch::<f32>::with_seed(50, 3).unwrap();
        values.iter().for_each(|&v| one.update(v as f32));
        assert_eq!(bulk, one);
        assert_eq!(bulk.n(), n as u64);
        // A column of the item type is read in place, with the same result.
        let floats: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        let mut direct = KllSketch::<f64>::with_seed(50, 3).unwrap();
        update_values(&mut direct, &Numeric::F64(&floats), &mut |_, _| true).unwrap();
        let mut converted = KllSketch::<f64>::with_seed(50, 3).unwrap();
        update_values(&mut converted, &Numeric::I64(&values), &mut |_, _| true).unwrap();
        assert_eq!(direct, converted);
    }

    #[test]
    fn cancelling_keeps_a_prefix_of_whole_blocks() {
        let n = 3 * BLOCK + 10;
        let (values, ..) = items(n);
        let ints: Column = Numeric::I64(&values).into();
        let stop_after = |blocks: u64| {
            let mut calls = Vec::new();
            move |done: u64, total: u64| {
                calls.push(done);
                assert_eq!(total, n as u64);
                assert_eq!(done, calls.len() as u64 * BLOCK as u64);
                done < blocks * BLOCK as u64
            }
        };
        let prefix = &values[..2 * BLOCK];

        let mut hll = HllSketch::new(12, HllType::Hll8).unwrap();
        let r = update_column(&mut hll, &ints, &mut stop_after(2));
        assert_eq!(r, Err(Error::Cancelled));
        let mut expected = HllSketch::new(12, HllType::Hll8).unwrap();
        prefix.iter().for_each(|&v| expected.update_i64(v));
        assert_eq!(hll.serialize(false), expected.serialize(false));

        let mut theta = UpdateTheta::new(12, 1.0, 9001).unwrap();
        let r = update_column(&mut theta, &ints, &mut stop_after(2));
        assert_eq!(r, Err(Error::Cancelled));
        let mut expected = UpdateTheta::new(12, 1.0, 9001).unwrap();
        prefix.iter().for_each(|&v| expected.update_i64(v));
        assert_eq!(theta.compact(true), expected.compact(true));

        // A long column, shared with a helper: absorbed after the cancel too.
        let mut kll = KllSketch::<f64>::with_seed(200, 1).unwrap();
        let r = update_values(&mut kll, &Numeric::I64(&values), &mut stop_after(2));
        assert_eq!(r, Err(Error::Cancelled));
        assert_eq!(kll, split_by_hand(200, 1, prefix));

        // An input of one block or less is reported once, at its end; a `false` there
        // still reports the cancel, with every item applied.
        let mut calls = Vec::new();
        let one_block = Numeric::I64(&values[..BLOCK]).into();
        let mut whole = hll.clone();
        let r = update_column(&mut hll, &one_block, &mut |d, t| {
            calls.push((d, t));
            false
        });
        assert_eq!(r, Err(Error::Cancelled));
        assert_eq!(calls, vec![(BLOCK as u64, BLOCK as u64)]);
        update_column(&mut whole, &one_block, &mut |_, _| true).unwrap();
        assert_eq!(hll, whole);
    }
}
