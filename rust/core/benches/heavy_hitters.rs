//! Items per second of the bulk updates of frequent items and Count-Min, item by item
//! against the parallel paths, best of 5 runs each, on rayon's default pool.
//!
//! `cargo bench -p sketchbox-core --bench heavy_hitters` (optionally a case name
//! filter as the first argument). Inputs are the targets of issue 8: 10 M zipf(1.1)
//! int64, 1 M zipf(1.1) strings from one contiguous buffer with offsets (as Arrow
//! holds them), 10 M int64 into a 3 x 2048 Count-Min.

use sketchbox_core::column::{Column, Numeric, Strings};
use sketchbox_core::countmin::{CountMin, CountMinItem};
use sketchbox_core::frequent::FrequentItems;
use std::hint::black_box;

mod common;
use common::{loadavg, report, splitmix, start};

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

fn main() {
    let filter = start();
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
            &format!("frequent i64 zipf lg{lg} combined"),
            &filter,
            ints.len(),
            || {
                let mut s = FrequentItems::<i64>::new(lg).unwrap();
                s.update_many_combined(ints.len(), |i| Some(ints[i]), |_| 1, none)
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
        "frequent i64 10k-distinct lg10 combined",
        &filter,
        codes.len(),
        || {
            let mut s = FrequentItems::<i64>::new(10).unwrap();
            s.update_many_combined(codes.len(), |i| Some(codes[i]), |_| 1, none)
                .unwrap();
            black_box(s.total_weight());
        },
    );
    let floats: Vec<f64> = ints.iter().map(|&v| v as f64).collect();
    report(
        "frequent f64 zipf lg10 combined",
        &filter,
        floats.len(),
        || {
            let mut s = FrequentItems::<f64>::new(10).unwrap();
            s.update_many_combined(floats.len(), |i| Some(floats[i]), |_| 1, none)
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
    report("frequent str zipf lg10 combined", &filter, n, || {
        let mut s = FrequentItems::<String>::new(10).unwrap();
        s.update_many_combined(n, at, |_| 1, none).unwrap();
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
    // The path of Python's `CountMin.update(ndarray)`: a column, 2048 buckets as in
    // `benchmarks/bench_countmin.py` and 2719 (`suggest_num_buckets(0.001)`, not a power
    // of two); weights; narrower integers; strings.
    let cm_column = Column::from(Numeric::I64(&cm_items));
    for nb in [2048u32, 2719] {
        report(
            &format!("countmin 3x{nb} i64 update_column"),
            &filter,
            cm_items.len(),
            || {
                let mut s = CountMin::new(3, nb, 9001).unwrap();
                s.update_column(&cm_column, None, none).unwrap();
                black_box(s.total_weight());
            },
        );
    }
    let cm_weights: Vec<u64> = cm_items.iter().map(|&v| (v as u64) % 5).collect();
    report(
        "countmin 3x2048 i64 update_column weights",
        &filter,
        cm_items.len(),
        || {
            let mut s = CountMin::new(3, 2048, 9001).unwrap();
            s.update_column(&cm_column, Some(&cm_weights), none)
                .unwrap();
            black_box(s.total_weight());
        },
    );
    let cm_i32: Vec<i32> = cm_items.iter().map(|&v| v as i32).collect();
    let cm_i32_column = Column::from(Numeric::I32(&cm_i32));
    report(
        "countmin 3x2048 i32 update_column",
        &filter,
        cm_items.len(),
        || {
            let mut s = CountMin::new(3, 2048, 9001).unwrap();
            s.update_column(&cm_i32_column, None, none).unwrap();
            black_box(s.total_weight());
        },
    );
    let n_str = 2_000_000;
    let mut data = Vec::new();
    let mut offsets = vec![0i32];
    for v in &cm_items[..n_str] {
        data.extend_from_slice(format!("item-{v}").as_bytes());
        offsets.push(data.len() as i32);
    }
    let cm_strings: Column = Strings::arrow32(&data, &offsets, None).unwrap().into();
    report(
        "countmin 3x2048 strings update_column",
        &filter,
        n_str,
        || {
            let mut s = CountMin::new(3, 2048, 9001).unwrap();
            s.update_column(&cm_strings, None, none).unwrap();
            black_box(s.total_weight());
        },
    );
    println!("load average after: {}", loadavg().trim());
}
