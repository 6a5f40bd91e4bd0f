//! Bulk updates over large inputs: hash on every core, apply in input order.
//!
//! Every hash-based sketch (HLL, Theta) spends its bulk time hashing and then rejecting
//! almost every item: a register already as high, a hash above theta. That test reads
//! state that changes rarely, so worker threads run it against the state as it was at
//! the start of a block and pass on only the items that might change it, in order; the
//! caller applies those sequentially. The result is exactly that of one-by-one updates.

use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// Items per block; a progress callback runs between blocks.
pub const BLOCK: usize = 1 << 21;

/// Items filtered against one snapshot of the sketch's state.
pub const SUB_BLOCK: usize = 1 << 20;

/// Below this many items a block is done on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// `f(i)` for every `i` in `range`, keeping the `Some`s, in index order (see
/// [`par_parts`]).
pub fn par_filter_map<T, F>(range: Range<usize>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> Option<T> + Sync,
{
    par_parts(range, |part, kept| {
        for i in part {
            if let Some(x) = f(i) {
                kept.push(x);
            }
        }
    })
}

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

/// Items per chunk of [`fill`]: small enough to stay in L1, large enough to vectorise.
pub const CHUNK: usize = 256;

/// Calls `consume` with `f(i)` for the items of `part`, a chunk of [`CHUNK`] at a time:
/// the hashing loop of bulk updates, kept apart from what consumes it so that the
/// compiler vectorises it. On x86-64 processors with AVX-512 the whole loop is compiled
/// for them, where MurmurHash3's 64-bit multiplies and leading-zero counts have vector
/// forms (below AVX-512 there is no vector 64-bit multiply). Measured on an AMD Zen 5,
/// 10 M int64 into an HLL on 2 cores: 0.70 G items/s against 0.45 G for the item-by-item
/// loop.
#[inline]
pub fn chunked<T, F, G>(part: Range<usize>, f: &F, consume: G)
where
    T: Copy + Default,
    F: Fn(usize) -> T,
    G: FnMut(&[T]),
{
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512cd")
    {
        // SAFETY: the processor has every feature `chunked_avx512` is compiled for; that
        // is all calling a function compiled for them requires.
        return unsafe { chunked_avx512(part, f, consume) };
    }
    chunked_plain(part, f, consume)
}

/// [`chunked`] for every processor: the loop the AVX-512 build compiles too.
#[inline(always)]
fn chunked_plain<T, F, G>(part: Range<usize>, f: &F, mut consume: G)
where
    T: Copy + Default,
    F: Fn(usize) -> T,
    G: FnMut(&[T]),
{
    let mut buf = [T::default(); CHUNK];
    let mut start = part.start;
    while start < part.end {
        let chunk = &mut buf[..CHUNK.min(part.end - start)];
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = f(start + j);
        }
        consume(chunk);
        start += chunk.len();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512cd")]
unsafe fn chunked_avx512<T, F, G>(part: Range<usize>, f: &F, consume: G)
where
    T: Copy + Default,
    F: Fn(usize) -> T,
    G: FnMut(&[T]),
{
    chunked_plain(part, f, consume)
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

    /// The chunks one version hands to `consume`, in order.
    fn run(
        part: Range<usize>,
        plain: bool,
        f: &impl Fn(usize) -> Option<u64>,
    ) -> Vec<Vec<Option<u64>>> {
        let mut chunks = Vec::new();
        let consume = |c: &[Option<u64>]| chunks.push(c.to_vec());
        if plain {
            chunked_plain(part, f, consume);
        } else {
            chunked(part, f, consume);
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
            ];
            for len in lens {
                let part = start..start + len;
                let plain = run(part.clone(), true, &f);
                assert_eq!(plain, run(part.clone(), false, &f), "seed {seed}, {part:?}");
                let items: Vec<Option<u64>> = plain.concat();
                assert_eq!(items, part.clone().map(f).collect::<Vec<_>>());
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
}
