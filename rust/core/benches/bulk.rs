//! Items per second of the bulk driver (HLL and Theta over a column, KLL over a slice),
//! best of 5 runs each, on rayon's default pool, with the CPU time per item beside it.
//!
//! `cargo bench -p sketchbox-core --bench bulk` (optionally a case name filter as the
//! first argument, e.g. `kll`). Inputs are those of `benchmarks/bench_bulk_driver.py`
//! in kind: 10 M random int64 into lg_k 12 sketches, 10 M doubles into a KLL of k 200.
//! The Python script compares the same updates with a C reference and with
//! datasketches-python; this one times the core alone, and the parts of the Theta and
//! KLL paths separately, to see where the time goes.

use sketchbox_core::bulk::{update_column, update_values};
use sketchbox_core::column::{Column, Numeric};
use sketchbox_core::hash::{hash_i64, DEFAULT_SEED};
use sketchbox_core::hll::{HllSketch, HllType};
use sketchbox_core::kll::KllSketch;
use sketchbox_core::theta::UpdateTheta;
use std::hint::black_box;

mod common;
use common::{loadavg, report, splitmix, start};

/// Hashes `values` into `h1s` (the first halves) on two threads.
fn hash_on_two_threads(values: &[i64], h1s: &mut [u64]) {
    let half = values.len() / 2;
    std::thread::scope(|scope| {
        let (lo, hi) = h1s.split_at_mut(half);
        let (vlo, vhi) = values.split_at(half);
        scope.spawn(move || {
            for (o, &v) in hi.iter_mut().zip(vhi) {
                *o = hash_i64(v, DEFAULT_SEED).0;
            }
        });
        for (o, &v) in lo.iter_mut().zip(vlo) {
            *o = hash_i64(v, DEFAULT_SEED).0;
        }
    });
}

/// A standard normal deviate per two uniform ones (Box-Muller), as the Python benchmark
/// feeds KLL `rng.normal`.
fn normals(seed: u64, len: usize) -> Vec<f64> {
    let mut st = seed;
    let mut unit = move || ((splitmix(&mut st) >> 11) + 1) as f64 / (1u64 << 53) as f64;
    (0..len)
        .map(|_| {
            let (u, v) = (unit(), unit());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect()
}

fn main() {
    let filter = start();
    // Fewer items (`BENCH_ITEMS`) to run a case under a profiler or `valgrind`.
    let n: usize = std::env::var("BENCH_ITEMS").map_or(10_000_000, |v| v.parse().unwrap());
    let none = &mut |_: u64, _: u64| true;
    let mut st = 42;
    let random: Vec<i64> = (0..n).map(|_| (splitmix(&mut st) >> 2) as i64).collect();
    let column = Column::from(Numeric::I64(&random));

    report("hll lg12 i64 update_column", &filter, n, || {
        let mut s = HllSketch::new(12, HllType::Hll8).unwrap();
        update_column(&mut s, &column, none).unwrap();
        black_box(s.estimate());
    });
    report("theta lg12 i64 update_column", &filter, n, || {
        let mut s = UpdateTheta::new(12, 1.0, DEFAULT_SEED).unwrap();
        update_column(&mut s, &column, none).unwrap();
        black_box(s.estimate());
    });
    // The parts of another plan: hash everything on two threads into a buffer, then
    // apply it in order on one; and the fused loop on one thread.
    let mut h1s = vec![0u64; n];
    report(
        "theta lg12 i64 hash into buffer, 2 threads",
        &filter,
        n,
        || {
            hash_on_two_threads(&random, &mut h1s);
            black_box(&h1s);
        },
    );
    report("theta lg12 update_hashes from buffer", &filter, n, || {
        let mut s = UpdateTheta::new(12, 1.0, DEFAULT_SEED).unwrap();
        s.update_hashes(&h1s);
        black_box(s.estimate());
    });
    report(
        "theta lg12 i64 update_i64_slice, 1 thread",
        &filter,
        n,
        || {
            let mut s = UpdateTheta::new(12, 1.0, DEFAULT_SEED).unwrap();
            s.update_i64_slice(&random);
            black_box(s.estimate());
        },
    );

    let x = normals(7, n);
    report("kll k200 f64 update_slice", &filter, n, || {
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        s.update_slice(&x);
        black_box(s.n());
    });
    report("kll k200 f64 update, item by item", &filter, n, || {
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        x.iter().for_each(|&v| s.update(v));
        black_box(s.n());
    });
    report("kll k200 i64 update_values (converted)", &filter, n, || {
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        update_values(&mut s, &Numeric::I64(&random), none).unwrap();
        black_box(s.n());
    });
    let sorted: Vec<f64> = (0..n).map(|i| i as f64).collect();
    report(
        "kll k200 f64 update_slice, sorted input",
        &filter,
        n,
        || {
            let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
            s.update_slice(&sorted);
            black_box(s.n());
        },
    );
    println!("load average after: {}", loadavg().trim());
}
