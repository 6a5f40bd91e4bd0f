//! Bulk updates over large inputs: hash on every core, apply in input order.
//!
//! Every hash-based sketch (HLL, Theta) spends its bulk time hashing and then rejecting
//! almost every item: a register already as high, a hash above theta. That test reads
//! state that changes rarely, so worker threads run it against the state as it was at
//! the start of a block and pass on only the items that might change it, in order; the
//! caller applies those sequentially. The result is exactly that of one-by-one updates.

use rayon::prelude::*;
use std::ops::Range;

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

/// `f(part, kept)` for consecutive parts of `range`, each pushing what it keeps to its
/// own vector; returns the vectors concatenated, in range order. The range is split
/// over rayon's pool when it is large enough to pay for the hand-off. (A pool, not
/// fresh threads: spawning costs tens of microseconds here, plus page faults for each
/// new thread's stack and allocator arena.)
pub fn par_parts<T, F>(range: Range<usize>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>, &mut Vec<T>) + Sync,
{
    let n = range.len();
    let t = rayon::current_num_threads();
    if t <= 1 || n < PARALLEL_MIN {
        let mut kept = Vec::new();
        f(range, &mut kept);
        return kept;
    }
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
