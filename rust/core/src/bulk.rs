//! Bulk updates over large inputs: hash on every core, apply in input order.
//!
//! Every hash-based sketch (HLL, Theta) spends its bulk time hashing and then rejecting
//! almost every item: a register already as high, a hash above theta. That test reads
//! state that changes rarely, so worker threads run it against the state as it was at
//! the start of a block and pass on only the items that might change it, in order; the
//! caller applies those sequentially. The result is exactly that of one-by-one updates.

use std::ops::Range;

/// Items per block; a progress callback runs between blocks.
pub const BLOCK: usize = 1 << 21;

/// Items filtered against one snapshot of the sketch's state.
pub const SUB_BLOCK: usize = 1 << 20;

/// Below this many items a block is done on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

fn threads() -> usize {
    // available_parallelism() reads cgroup files on Linux: far too slow per block.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .min(16)
    })
}

/// `f(i)` for every `i` in `range`, keeping the `Some`s, in index order; the range is
/// split over the machine's cores when it is large enough to pay for the threads.
pub fn par_filter_map<T, F>(range: Range<usize>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> Option<T> + Sync,
{
    let n = range.len();
    let t = threads();
    if t <= 1 || n < PARALLEL_MIN {
        return range.filter_map(&f).collect();
    }
    let per = n.div_ceil(t);
    let parts: Vec<Vec<T>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|k| {
                let lo = range.start + k * per;
                let hi = (lo + per).min(range.end);
                let f = &f;
                s.spawn(move || (lo..hi).filter_map(f).collect::<Vec<T>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
    out
}
