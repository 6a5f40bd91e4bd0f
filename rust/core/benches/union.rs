//! Microseconds per image of the unions of many images (the native half of
//! `benchmarks/bench_union.py`, without Python): `HllUnion::update_image` and
//! `KllSketch::merge_image` against reading each image and merging the sketch, and
//! `KllSketch::merge_images` (the batch union), best of 5 runs.
//!
//! `cargo bench -p sketchbox-core --bench union`. Images as in the Python benchmark:
//! 1,000 distinct HLL_4 lg_k 12 sketches of 20,000 items each, 100 times over; 10,000
//! KLL k 200 sketches of 2,000 items. CPU time is the steadier measure on a shared
//! machine.

use sketchbox_core::hll::{HllSketch, HllType, HllUnion};
use sketchbox_core::kll::KllSketch;
use std::hint::black_box;
use std::time::Instant;

/// Nanoseconds this thread has run on a CPU (Linux; `None` elsewhere): on a machine
/// shared with other jobs, a steadier measure than the wall clock.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Best of 5 runs of `f` over `n` images, in microseconds per image: wall clock and,
/// where known, CPU time.
fn best_of_5(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..5 {
        let (t, c) = (Instant::now(), cpu_ns());
        f();
        wall = wall.min(t.elapsed().as_secs_f64() * 1e9);
        if let (Some(a), Some(b)) = (c, cpu_ns()) {
            cpu = cpu.min((b - a) as f64);
        }
    }
    (wall / 1e3 / n as f64, cpu / 1e3 / n as f64)
}

fn main() {
    let base: Vec<Vec<u8>> = (0..1000i64)
        .map(|i| {
            let mut s = HllSketch::new(12, HllType::Hll4).unwrap();
            (i * 500..i * 500 + 20_000).for_each(|v| s.update_i64(v));
            s.serialize(true)
        })
        .collect();
    let images: Vec<&[u8]> = (0..100).flat_map(|_| base.iter().map(|b| &b[..])).collect();
    let direct = best_of_5(images.len(), || {
        let mut u = HllUnion::new(12).unwrap();
        images.iter().for_each(|b| u.update_image(b).unwrap());
        black_box(u.result(HllType::Hll8));
    });
    let read = best_of_5(images.len(), || {
        let mut u = HllUnion::new(12).unwrap();
        images
            .iter()
            .for_each(|b| u.update(&HllSketch::deserialize(b).unwrap()));
        black_box(u.result(HllType::Hll8));
    });
    println!(
        "HLL lg_k 12 HLL_4, us/image (wall, cpu): update_image {direct:.3?}, \
         deserialize + update {read:.3?}"
    );

    // KLL: 10,000 k 200 sketches of 2,000 items each (a fixed stream of pseudo-normal
    // values), merged with a fixed seed.
    let mut state = 3u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    let kll: Vec<Vec<u8>> = (0..10_000)
        .map(|i| {
            let mut s = KllSketch::<f64>::with_seed(200, i).unwrap();
            (0..2000).for_each(|_| s.update((0..4).map(|_| next()).sum::<f64>()));
            s.serialize()
        })
        .collect();
    let direct = best_of_5(kll.len(), || {
        let mut u = KllSketch::<f64>::with_seed(200, 1).unwrap();
        kll.iter().for_each(|b| u.merge_image(b).unwrap());
        black_box(u.n());
    });
    let read = best_of_5(kll.len(), || {
        let mut u = KllSketch::<f64>::with_seed(200, 1).unwrap();
        kll.iter()
            .for_each(|b| u.merge(&KllSketch::deserialize(b).unwrap()).unwrap());
        black_box(u.n());
    });
    let views: Vec<&[u8]> = kll.iter().map(|b| &b[..]).collect();
    let batch = best_of_5(kll.len(), || {
        let mut u = KllSketch::<f64>::with_seed(200, 1).unwrap();
        u.merge_images(&views).unwrap();
        black_box(u.n());
    });
    println!(
        "KLL k 200, us/image (wall, cpu): merge_image {direct:.3?}, \
         deserialize + merge {read:.3?}, merge_images (batch, both cores) {batch:.3?}"
    );
}
