//! Items per second of the bulk updates of frequent items and Count-Min, item by item
//! against the parallel paths, best of 5 runs each, on rayon's default pool.
//!
//! `cargo bench -p sketchbox-core --bench heavy_hitters` (optionally a case name
//! filter as the first argument). Inputs are the targets of issue 8: 10 M zipf(1.1)
//! int64, 1 M zipf(1.1) strings from one contiguous buffer with offsets (as Arrow
//! holds them), 10 M int64 into a 3 x 2048 Count-Min.

use sketchbox_core::countmin::{CountMin, CountMinItem};
use sketchbox_core::frequent::FrequentItems;
use std::hint::black_box;
use std::time::Instant;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Zipf(1.1)-like values: a Pareto tail of exponent 1.1 (as NumPy's `zipf(1.1)`),
/// starting at 1.
fn zipf(seed: u64, len: usize) -> Vec<i64> {
    let mut st = seed;
    (0..len)
        .map(|_| {
            let u = ((splitmix(&mut st) >> 11) + 1) as f64 / (1u64 << 53) as f64;
            u.powf(-10.0).min(1e15) as i64
        })
        .collect()
}

/// Best of 5 runs of `f` over `n` items, in items per second.
fn best_of_5(n: usize, mut f: impl FnMut()) -> f64 {
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
fn cpu_seconds() -> f64 {
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

fn report(name: &str, filter: &Option<String>, n: usize, f: impl FnMut()) {
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

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    println!(
        "threads {}, load average {}",
        rayon::current_num_threads(),
        loadavg().trim()
    );
    let none = &mut |_: u64, _: u64| true;

    let ints = zipf(1, 10_000_000);
    for lg in [10u8, 12] {
        report(
            &format!("frequent i64 zipf lg{lg} item-by-item"),
            &filter,
            ints.len(),
            || {
                let mut s = FrequentItems::<i64>::new(lg).unwrap();
                s.update_many(ints.len(), |i| Some(ints[i]), |_| 1, none)
                    .unwrap();
                black_box(s.total_weight());
            },
        );
        report(
            &format!("frequent i64 zipf lg{lg} aggregated"),
            &filter,
            ints.len(),
            || {
                let mut s = FrequentItems::<i64>::new(lg).unwrap();
                s.update_many_aggregated(ints.len(), |i| Some(ints[i]), |_| 1, none)
                    .unwrap();
                black_box(s.total_weight());
            },
        );
    }
    // Low cardinality: zipf(1.1) folded onto 10 000 values (codes, categories).
    let codes: Vec<i64> = ints.iter().map(|v| v % 10_000).collect();
    report(
        "frequent i64 10k-distinct lg10 item-by-item",
        &filter,
        codes.len(),
        || {
            let mut s = FrequentItems::<i64>::new(10).unwrap();
            s.update_many(codes.len(), |i| Some(codes[i]), |_| 1, none)
                .unwrap();
            black_box(s.total_weight());
        },
    );
    report(
        "frequent i64 10k-distinct lg10 aggregated",
        &filter,
        codes.len(),
        || {
            let mut s = FrequentItems::<i64>::new(10).unwrap();
            s.update_many_aggregated(codes.len(), |i| Some(codes[i]), |_| 1, none)
                .unwrap();
            black_box(s.total_weight());
        },
    );
    let floats: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
    report(
        "frequent f64 zipf lg10 aggregated",
        &filter,
        floats.len(),
        || {
            let mut s = FrequentItems::<f64>::new(10).unwrap();
            s.update_many_aggregated(floats.len(), |i| Some(floats[i]), |_| 1, none)
                .unwrap();
            black_box(s.total_weight());
        },
    );

    // 1 M strings in one buffer with offsets, as an Arrow string array holds them.
    let mut data = String::new();
    let mut offsets = vec![0usize];
    for v in zipf(2, 1_000_000) {
        data.push_str(&format!("item-{v}"));
        offsets.push(data.len());
    }
    let n = offsets.len() - 1;
    let at = |i: usize| Some(&data[offsets[i]..offsets[i + 1]]);
    report("frequent str zipf lg10 item-by-item", &filter, n, || {
        let mut s = FrequentItems::<String>::new(10).unwrap();
        s.update_many(n, at, |_| 1, none).unwrap();
        black_box(s.total_weight());
    });
    report("frequent str zipf lg10 aggregated", &filter, n, || {
        let mut s = FrequentItems::<String>::new(10).unwrap();
        s.update_many_aggregated(n, at, |_| 1, none).unwrap();
        black_box(s.total_weight());
    });

    let cm_items = zipf(3, 10_000_000);
    report(
        "countmin 3x2048 i64 item-by-item",
        &filter,
        cm_items.len(),
        || {
            let mut s = CountMin::new(3, 2048, 9001).unwrap();
            s.update_many(
                cm_items.len(),
                |i| Some(CountMinItem::I64(cm_items[i])),
                |_| 1,
                none,
            )
            .unwrap();
            black_box(s.total_weight());
        },
    );
    report(
        "countmin 3x2048 i64 parallel",
        &filter,
        cm_items.len(),
        || {
            let mut s = CountMin::new(3, 2048, 9001).unwrap();
            s.update_many_parallel(
                cm_items.len(),
                |i| Some(CountMinItem::I64(cm_items[i])),
                |_| 1,
                none,
            )
            .unwrap();
            black_box(s.total_weight());
        },
    );
    println!("load average after: {}", loadavg().trim());
}
