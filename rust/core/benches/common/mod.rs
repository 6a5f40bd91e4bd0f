//! What the benchmarks of this crate share: a test value stream, best-of-5 timing in
//! items per second with the CPU time per item beside it (steadier on a shared
//! machine), and the load average to print with them.

use std::time::Instant;

/// SplitMix64: a deterministic stream of benchmark values.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Best of 5 runs of `f` over `n` items, in items per second.
pub fn best_of_5(n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    n as f64 / best
}

/// CPU seconds (user + system, all threads) this process has used: on a shared machine
/// the wall-clock rate depends on the load, the CPU time per item much less.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    if f.len() < 13 {
        return f64::NAN;
    }
    (f[11] + f[12]) / 100.0
}

/// Prints `name`'s best-of-5 rate over `n` items and its CPU time per item, unless
/// `filter` is given and not part of `name`.
pub fn report(name: &str, filter: &Option<String>, n: usize, f: impl FnMut()) {
    if filter.as_ref().is_some_and(|p| !name.contains(p.as_str())) {
        return;
    }
    let cpu = cpu_seconds();
    let rate = best_of_5(n, f);
    let per_item_ns = (cpu_seconds() - cpu) / 5.0 / n as f64 * 1e9;
    println!(
        "{name:<48} {:>8.1} M items/s   {per_item_ns:>6.1} CPU-ns/item",
        rate / 1e6
    );
}

/// The contents of `/proc/loadavg` (empty where there is none).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}

/// The case name filter (the first argument, if not an option), after printing the
/// number of threads and the load average the run starts with.
pub fn start() -> Option<String> {
    println!(
        "threads {}, load average {}",
        rayon::current_num_threads(),
        loadavg().trim()
    );
    std::env::args().nth(1).filter(|a| !a.starts_with('-'))
}
