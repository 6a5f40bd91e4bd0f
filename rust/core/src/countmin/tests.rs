//! Count-Min: images byte-identical to datasketches-python's, the error guarantee over
//! fixed seeds, merges, bulk updates, and no panic on any bytes.

use super::*;
use crate::frequent::tests::{mutate_image, on_pool, splitmix};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/countmin")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// The streams of `tests/fixtures/countmin/make_images.py`, one per image.
fn python_streams() -> Vec<(&'static str, CountMin)> {
    let mut out = Vec::new();
    out.push(("cm_h3_b8_empty.sk", CountMin::new(3, 8, 9001).unwrap()));
    let mut s = CountMin::new(3, 8, 9001).unwrap();
    for i in 0..100i64 {
        s.update(CountMinItem::I64(i), (i % 5 + 1) as u64).unwrap();
    }
    out.push(("cm_h3_b8_ints.sk", s));
    let mut s = CountMin::new(5, 64, 9001).unwrap();
    for i in -1000..1000i64 {
        s.update(CountMinItem::I64(i), 1).unwrap();
    }
    s.update(CountMinItem::I64(1 << 62), 3).unwrap();
    s.update(CountMinItem::I64(i64::MIN), 3).unwrap();
    out.push(("cm_h5_b64_ints.sk", s));
    let mut s = CountMin::new(4, 37, 9001).unwrap();
    for i in 0..500 {
        s.update(CountMinItem::Bytes(format!("item{i}").as_bytes()), 1)
            .unwrap();
    }
    s.update(CountMinItem::Bytes("café".as_bytes()), 7).unwrap();
    s.update(CountMinItem::Bytes("日本語".as_bytes()), 2)
        .unwrap();
    s.update(CountMinItem::Bytes("x".repeat(40).as_bytes()), 1)
        .unwrap();
    s.update(CountMinItem::Bytes(b""), 5).unwrap();
    out.push(("cm_h4_b37_strings.sk", s));
    let mut s = CountMin::new(2, 100, 42).unwrap();
    for i in 0..200i64 {
        s.update(CountMinItem::I64(i), 1).unwrap();
    }
    out.push(("cm_h2_b100_seed42_ints.sk", s));
    let mut s = CountMin::new(12, 10, 1).unwrap();
    for i in 0..50i64 {
        s.update(CountMinItem::I64(i), 1).unwrap();
    }
    out.push(("cm_h12_b10_seed1_ints.sk", s));
    out
}

#[test]
fn images_equal_datasketches_python() {
    for (name, ours) in python_streams() {
        let theirs = fixture(name);
        assert_eq!(ours.serialize(), theirs, "{name}");
        let read = CountMin::deserialize(&theirs, ours.seed()).unwrap();
        assert_eq!(read.serialize(), theirs, "{name} round trip");
        assert_eq!(read.total_weight(), ours.total_weight());
    }
}

#[test]
fn python_images_answer_as_written() {
    let s = CountMin::deserialize(&fixture("cm_h4_b37_strings.sk"), 9001).unwrap();
    assert_eq!(s.total_weight(), 510.0);
    assert!(s.estimate(CountMinItem::Bytes("café".as_bytes())) >= 7.0);
    assert!(s.estimate(CountMinItem::Bytes("日本語".as_bytes())) >= 2.0);
    assert_eq!(s.estimate(CountMinItem::Bytes(b"")), 0.0);
    let e = s.estimate(CountMinItem::Bytes(b"item7"));
    assert_eq!(s.lower_bound(CountMinItem::Bytes(b"item7")), e);
    assert_eq!(
        s.upper_bound(CountMinItem::Bytes(b"item7")),
        e + std::f64::consts::E / 37.0 * 510.0
    );
}

#[test]
fn suggestions_match_datasketches() {
    // datasketches-python 5.2.0: suggest_num_buckets(0.001) == 2719,
    // suggest_num_hashes(0.99) == 5.
    assert_eq!(suggest_num_buckets(0.001).unwrap(), 2719);
    assert_eq!(suggest_num_hashes(0.99).unwrap(), 5);
    // The Apache Rust crate agrees.
    type Oracle = datasketches::countmin::CountMinSketch<u64>;
    for eps in [0.5, 0.1, 0.01, 0.001, 1e-5] {
        assert_eq!(
            suggest_num_buckets(eps).unwrap(),
            Oracle::suggest_num_buckets(eps).unwrap()
        );
    }
    for conf in [0.5, 0.9, 0.99, 0.999] {
        assert_eq!(
            suggest_num_hashes(conf).unwrap(),
            Oracle::suggest_num_hashes(conf).unwrap()
        );
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(suggest_num_buckets(bad).is_err());
    }
    for bad in [1.0, -0.1, f64::NAN] {
        assert!(suggest_num_hashes(bad).is_err());
    }
}

/// An item stream with heavy and light items: item `k` of `0..n` drawn with
/// probability about `1 / (k + 1)`.
fn skewed(seed: u64, len: usize, n: u64) -> Vec<i64> {
    let mut st = seed;
    (0..len)
        .map(|_| {
            let u = (splitmix(&mut st) >> 11) as f64 / (1u64 << 53) as f64;
            ((n as f64).powf(u) - 1.0) as i64
        })
        .collect()
}

#[test]
fn estimates_within_the_guarantee() {
    // eps = e / 272 = 1%, delta = e^-3 = 5%.
    let (h, b) = (3u8, 272u32);
    let (mut items_checked, mut over) = (0usize, 0usize);
    for seed in 1..=10u64 {
        let stream = skewed(seed, 20_000, 5_000);
        let mut truth = std::collections::HashMap::new();
        let mut s = CountMin::new(h, b, seed * 7 + 3).unwrap();
        for &x in &stream {
            s.update(CountMinItem::I64(x), 1).unwrap();
            *truth.entry(x).or_insert(0u64) += 1;
        }
        assert_eq!(s.total_weight(), stream.len() as f64);
        let slack = s.relative_error() * s.total_weight();
        for (&x, &f) in &truth {
            let est = s.estimate(CountMinItem::I64(x));
            assert!(est >= f as f64, "underestimate {est} < {f}");
            assert!(s.upper_bound(CountMinItem::I64(x)) == est + slack);
            items_checked += 1;
            over += (est > f as f64 + slack) as usize;
        }
    }
    let rate = over as f64 / items_checked as f64;
    assert!(
        rate <= (-3f64).exp(),
        "{over} of {items_checked} beyond eps"
    );
}

#[test]
fn merge_adds_and_checks_shapes() {
    let stream = skewed(5, 30_000, 1000);
    let mut whole = CountMin::new(4, 100, 9001).unwrap();
    let mut parts: Vec<CountMin> = (0..7)
        .map(|_| CountMin::new(4, 100, 9001).unwrap())
        .collect();
    for (i, &x) in stream.iter().enumerate() {
        whole.update(CountMinItem::I64(x), 1).unwrap();
        parts[i % 7].update(CountMinItem::I64(x), 1).unwrap();
    }
    let mut merged = CountMin::new(4, 100, 9001).unwrap();
    for p in &parts {
        merged.merge(p).unwrap();
    }
    assert_eq!(merged.serialize(), whole.serialize());
    for other in [
        CountMin::new(3, 100, 9001).unwrap(),
        CountMin::new(4, 101, 9001).unwrap(),
        CountMin::new(4, 100, 9002).unwrap(),
    ] {
        assert!(matches!(merged.merge(&other), Err(Error::Incompatible(_))));
    }
    assert_eq!(
        merged.serialize(),
        whole.serialize(),
        "a failed merge changes nothing"
    );
}

#[test]
fn bulk_equals_one_by_one_and_cancel_leaves_a_prefix() {
    let n = crate::bulk::BLOCK * 2 + 1234;
    let item = |i: usize| (i % 11 != 3).then_some(CountMinItem::I64((i as i64 * 7919) % 100_003));
    let weight = |i: usize| (i % 4) as u64;
    let mut one = CountMin::new(3, 1000, 9001).unwrap();
    for i in 0..n {
        if let Some(x) = item(i) {
            one.update(x, weight(i)).unwrap();
        }
    }
    let mut bulk = CountMin::new(3, 1000, 9001).unwrap();
    let mut calls = Vec::new();
    bulk.update_many(n, item, weight, &mut |d, t| {
        calls.push((d, t));
        true
    })
    .unwrap();
    assert_eq!(bulk.serialize(), one.serialize());
    let b = crate::bulk::BLOCK as u64;
    assert_eq!(
        calls,
        vec![(b, n as u64), (2 * b, n as u64), (n as u64, n as u64)]
    );

    let mut cancelled = CountMin::new(3, 1000, 9001).unwrap();
    let r = cancelled.update_many(n, item, weight, &mut |_, _| false);
    assert_eq!(r, Err(Error::Cancelled));
    let mut prefix = CountMin::new(3, 1000, 9001).unwrap();
    prefix
        .update_many(crate::bulk::BLOCK, item, weight, &mut |_, _| true)
        .unwrap();
    assert_eq!(cancelled.serialize(), prefix.serialize());
}

#[test]
fn float_items_are_canonical() {
    let mut s = CountMin::new(3, 50, 9001).unwrap();
    s.update(CountMinItem::F64(-0.0), 2).unwrap();
    s.update(CountMinItem::F64(f64::from_bits(0x7ff8_0000_0000_0001)), 3)
        .unwrap();
    assert!(s.estimate(CountMinItem::F64(0.0)) >= 2.0);
    assert!(s.estimate(CountMinItem::F64(f64::NAN)) >= 3.0);
}

#[test]
fn invalid_parameters_and_images_are_errors() {
    assert!(CountMin::new(0, 100, 9001).is_err());
    assert!(CountMin::new(3, 2, 9001).is_err());
    assert!(CountMin::new(255, 1 << 23, 9001).is_err());
    let img = python_streams()[1].1.serialize();
    assert!(matches!(
        CountMin::deserialize(&img, 9002),
        Err(Error::Incompatible(_))
    ));
    for len in 0..img.len() {
        assert!(matches!(
            CountMin::deserialize(&img[..len], 9001),
            Err(Error::CorruptData(_))
        ));
    }
    let mut long = img.clone();
    long.push(0);
    assert!(CountMin::deserialize(&long, 9001).is_err());
    let mut nan = img.clone();
    nan[24..32].copy_from_slice(&f64::NAN.to_le_bytes());
    assert!(CountMin::deserialize(&nan, 9001).is_err());
    let mut negative_total = img;
    negative_total[16..24].copy_from_slice(&(-1.0f64).to_le_bytes());
    assert!(CountMin::deserialize(&negative_total, 9001).is_err());
}

#[test]
fn ten_thousand_mutated_images_never_panic() {
    let images: Vec<Vec<u8>> = python_streams()
        .iter()
        .map(|(_, s)| s.serialize())
        .collect();
    assert_eq!(images[0].len(), 16, "an empty image is among the bases");
    let mut rng = 20261202u64;
    let mut read = 0;
    for _ in 0..10_000 {
        let base = &images[(splitmix(&mut rng) % images.len() as u64) as usize];
        let img = mutate_image(&mut rng, base);
        for seed in [9001, 42, 1] {
            if let Ok(mut s) = CountMin::deserialize(&img, seed) {
                read += 1;
                let _ = (s.estimate(CountMinItem::I64(3)), s.to_json());
                if s.is_empty() && s.num_hashes() as usize * s.num_buckets() as usize > 1 << 20 {
                    // An empty image may name any legal shape (up to 2^30 counters, 8 GB
                    // once updated); reading it allocated nothing, which is the point.
                    continue;
                }
                s.update(CountMinItem::Bytes(b"x"), 2).unwrap();
                let again = CountMin::deserialize(&s.serialize(), seed).unwrap();
                assert_eq!(again.serialize(), s.serialize());
            }
        }
    }
    assert!(read > 1000, "only {read} mutated images read");
}

/// The parallel bulk path against item-by-item updates, for several shapes (the
/// last beyond the threads' own counters) and thread counts 1 and 2.
fn check_parallel<'a>(
    name: &str,
    len: usize,
    item: &(dyn Fn(usize) -> Option<CountMinItem<'a>> + Sync),
) {
    let weight = |i: usize| (i % 4) as u64;
    for (h, b) in [(3u8, 2048u32), (5, 37), (2, 1 << 20)] {
        let mut one = CountMin::new(h, b, 9001).unwrap();
        for i in 0..len {
            if let Some(x) = item(i) {
                one.update(x, weight(i)).unwrap();
            }
        }
        for threads in [1, 2] {
            let par = on_pool(threads, || {
                let mut s = CountMin::new(h, b, 9001).unwrap();
                s.update_many_parallel(len, item, weight, &mut |_, _| true)
                    .unwrap();
                s
            });
            assert_eq!(
                par.serialize(),
                one.serialize(),
                "{name} {h}x{b}, {threads} threads"
            );
        }
    }
}

#[test]
fn parallel_bulk_equals_one_by_one_on_any_thread_count() {
    let n = crate::bulk::BLOCK * 2 + 999;
    let ints: Vec<i64> = skewed(3, n, 1 << 40);
    let words: Vec<String> = (0..300_000)
        .map(|i| format!("w{}", ints[i] % 5000))
        .collect();
    check_parallel("ints", n, &|i| {
        (i % 11 != 3).then_some(CountMinItem::I64(ints[i]))
    });
    check_parallel("floats", n, &|i| {
        Some(CountMinItem::F64(if i % 7 == 0 {
            -0.0
        } else {
            ints[i] as f64
        }))
    });
    check_parallel("strings", words.len(), &|i| {
        Some(CountMinItem::Bytes(if i % 13 == 0 {
            b""
        } else {
            words[i].as_bytes()
        }))
    });
    // Bytes equal to datasketches-python's images of the fixture streams.
    for (name, ours) in python_streams() {
        if name == "cm_h3_b8_ints.sk" {
            let mut s = CountMin::new(3, 8, 9001).unwrap();
            s.update_many_parallel(
                100,
                |i| Some(CountMinItem::I64(i as i64)),
                |i| (i % 5 + 1) as u64,
                &mut |_, _| true,
            )
            .unwrap();
            assert_eq!(s.serialize(), fixture(name));
            assert_eq!(s.serialize(), ours.serialize());
        }
    }
}

#[test]
fn parallel_bulk_progress_cancel_and_inexact_sums() {
    let n = crate::bulk::BLOCK * 2 + 1234;
    let item = |i: usize| (i % 11 != 3).then_some(CountMinItem::I64((i as i64 * 7919) % 100_003));
    let weight = |i: usize| (i % 4) as u64;
    let mut calls = Vec::new();
    let mut s = CountMin::new(3, 1000, 9001).unwrap();
    s.update_many_parallel(n, item, weight, &mut |d, t| {
        calls.push((d, t));
        true
    })
    .unwrap();
    let b = crate::bulk::BLOCK as u64;
    assert_eq!(
        calls,
        vec![(b, n as u64), (2 * b, n as u64), (n as u64, n as u64)]
    );
    let mut cancelled = CountMin::new(3, 1000, 9001).unwrap();
    let r = cancelled.update_many_parallel(n, item, weight, &mut |_, _| false);
    assert_eq!(r, Err(Error::Cancelled));
    let mut prefix = CountMin::new(3, 1000, 9001).unwrap();
    prefix
        .update_many(crate::bulk::BLOCK, item, weight, &mut |_, _| true)
        .unwrap();
    assert_eq!(cancelled.serialize(), prefix.serialize());

    // Weights past 2^53, where double sums depend on order: the block goes item by
    // item, as the per-item path, and the images still agree.
    let big = |i: usize| (1u64 << 52) + i as u64 * 3;
    let mut one = CountMin::new(3, 50, 9001).unwrap();
    one.update_many(100_000, item, big, &mut |_, _| true)
        .unwrap();
    let mut par = CountMin::new(3, 50, 9001).unwrap();
    par.update_many_parallel(100_000, item, big, &mut |_, _| true)
        .unwrap();
    assert_eq!(par.serialize(), one.serialize());
    // A sketch read from an image with a fractional counter goes item by item too.
    let mut frac = CountMin::new(2, 16, 9001).unwrap();
    frac.update(CountMinItem::I64(1), 1).unwrap();
    let mut img = frac.serialize();
    let at = 24
        + 8 * img[24..]
            .chunks_exact(8)
            .position(|c| f64::from_le_bytes(c.try_into().unwrap()) == 1.0)
            .unwrap();
    img[at..at + 8].copy_from_slice(&0.1f64.to_le_bytes());
    let read = CountMin::deserialize(&img, 9001).unwrap();
    let (mut one, mut par) = (read.clone(), read);
    one.update_many(300_000, item, weight, &mut |_, _| true)
        .unwrap();
    par.update_many_parallel(300_000, item, weight, &mut |_, _| true)
        .unwrap();
    assert_eq!(par.serialize(), one.serialize());
}

#[test]
fn update_column_equals_item_by_item_updates_with_weights() {
    use crate::column::{Column, Numeric, Strings};
    let ints: Vec<i64> = (0..5_000).map(|i| i % 300 - 20).collect();
    let uints: Vec<u64> = vec![u64::MAX, 1 << 63, 7];
    let floats: Vec<f32> = vec![0.5, -0.0, 2.25];
    let weights: Vec<u64> = (0..5_000).map(|i| i % 4).collect();
    let data = b"apple\0pear\0\0caf\xc3\xa9";
    let mut bulk = CountMin::new(4, 97, 9001).unwrap();
    let mut one = bulk.clone();
    let mut go = |_: u64, _: u64| true;
    bulk.update_column(
        &Column::Numeric(Numeric::I64(&ints)),
        Some(&weights),
        &mut go,
    )
    .unwrap();
    bulk.update_column(&Column::Numeric(Numeric::U64(&uints)), None, &mut go)
        .unwrap();
    bulk.update_column(&Column::Numeric(Numeric::F32(&floats)), None, &mut go)
        .unwrap();
    let strings = Column::Strings(Strings::delimited(data, 0));
    bulk.update_column(&strings, Some(&[3, 1, 9, 2]), &mut go)
        .unwrap();
    for (&v, &w) in ints.iter().zip(&weights) {
        one.update(CountMinItem::I64(v), w).unwrap();
    }
    for &v in &uints {
        one.update(CountMinItem::I64(v as i64), 1).unwrap();
    }
    for &v in &floats {
        one.update(CountMinItem::F64(v as f64), 1).unwrap();
    }
    for (s, w) in [("apple", 3), ("pear", 1), ("café", 2)] {
        one.update(CountMinItem::Bytes(s.as_bytes()), w).unwrap();
    }
    assert_eq!(bulk.serialize(), one.serialize());
    let err = bulk
        .update_column(
            &Column::Numeric(Numeric::I64(&ints)),
            Some(&weights[1..]),
            &mut go,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("4999 weights for 5000 items"))
    );
}

#[test]
fn numeric_columns_on_every_path_equal_item_by_item_updates() {
    // The chunked 8-byte-key path over several blocks, on one and two threads, for a
    // power-of-two width (a mask), other widths (the remainder in doubles), one beyond
    // the threads' own counters (the sketch's counters directly), with and without
    // weights; against one-by-one updates, whose buckets come from a division.
    use crate::column::{Column, Numeric};
    let n = crate::bulk::BLOCK * 2 + 999;
    let mut ints: Vec<i64> = skewed(5, n, 1 << 40);
    ints[7] = i64::MIN;
    ints[8] = i64::MAX;
    let weights: Vec<u64> = (0..n as u64).map(|i| i % 5).collect();
    let m = 200_000;
    let narrow: Vec<i32> = ints[..m].iter().map(|&v| v as i32 - 1000).collect();
    let floats: Vec<f64> = (0..m)
        .map(|i| match i % 9 {
            0 => -0.0,
            1 => f64::NAN,
            _ => ints[i] as f64 * 0.5,
        })
        .collect();
    let bools: Vec<u8> = ints[..m].iter().map(|&v| (v % 3) as u8).collect();
    for (h, b) in [(3u8, 2048u32), (5, 2719), (1, 3), (2, (1 << 20) - 3)] {
        let mut one = CountMin::new(h, b, 9001).unwrap();
        for (&v, &w) in ints.iter().zip(&weights) {
            one.update(CountMinItem::I64(v), w).unwrap();
        }
        for &v in &ints {
            one.update(CountMinItem::I64(v), 1).unwrap();
        }
        for &v in &narrow {
            one.update(CountMinItem::I64(v as i64), 1).unwrap();
        }
        for &v in &floats {
            one.update(CountMinItem::F64(v), 1).unwrap();
        }
        for &v in &bools {
            one.update(CountMinItem::I64((v != 0) as i64), 1).unwrap();
        }
        for threads in [1, 2] {
            let bulk = on_pool(threads, || {
                let mut s = CountMin::new(h, b, 9001).unwrap();
                let go = &mut |_: u64, _: u64| true;
                s.update_column(&Column::from(Numeric::I64(&ints)), Some(&weights), go)
                    .unwrap();
                s.update_column(&Column::from(Numeric::I64(&ints)), None, go)
                    .unwrap();
                s.update_column(&Column::from(Numeric::I32(&narrow)), None, go)
                    .unwrap();
                s.update_column(&Column::from(Numeric::F64(&floats)), None, go)
                    .unwrap();
                s.update_column(&Column::from(Numeric::Bool(&bools)), None, go)
                    .unwrap();
                s
            });
            assert_eq!(
                bulk.serialize(),
                one.serialize(),
                "{h}x{b}, {threads} threads"
            );
        }
    }
    // Weights past 2^53, where double sums depend on their order: the column goes to the
    // sketch's counters in input order, as item by item.
    let big: Vec<u64> = (0..m as u64).map(|i| (1 << 52) + i * 3).collect();
    for b in [64u32, 50] {
        let mut one = CountMin::new(3, b, 9001).unwrap();
        for (&v, &w) in ints.iter().zip(&big) {
            one.update(CountMinItem::I64(v), w).unwrap();
        }
        let mut bulk = CountMin::new(3, b, 9001).unwrap();
        let col = Column::from(Numeric::I64(&ints[..m]));
        bulk.update_column(&col, Some(&big), &mut |_, _| true)
            .unwrap();
        assert_eq!(bulk.serialize(), one.serialize(), "3x{b}");
    }
}

#[test]
fn weights_above_2_pow_53_are_refused_and_change_nothing() {
    let mut s = CountMin::new(3, 64, DEFAULT_SEED).unwrap();
    s.update(CountMinItem::I64(1), 5).unwrap();
    let before = s.serialize();
    let too_large = MAX_WEIGHT + 1;
    assert!(matches!(
        s.update(CountMinItem::I64(1), too_large),
        Err(Error::InvalidArgument(m)) if m.contains("2^53")
    ));
    let go = &mut |_, _| true;
    let column = Column::Numeric(Numeric::I64(&[1, 2, 3]));
    assert!(s
        .update_column(&column, Some(&[1, too_large, 1]), go)
        .is_err());
    assert_eq!(
        s.serialize(),
        before,
        "a bad weight applies none of its column"
    );
    let weight = |i: usize| if i == 2 { too_large } else { 1 };
    assert!(s
        .update_many_parallel(3, |i| Some(CountMinItem::I64(i as i64)), weight, go)
        .is_err());
    assert!(s
        .update_many(3, |i| Some(CountMinItem::I64(i as i64)), weight, go)
        .is_err());
    // 2^53 itself is a double: exact.
    let mut t = CountMin::new(3, 64, DEFAULT_SEED).unwrap();
    t.update(CountMinItem::I64(7), MAX_WEIGHT).unwrap();
    assert_eq!(t.estimate(CountMinItem::I64(7)), MAX_WEIGHT as f64);
}

#[test]
fn seeds_whose_seed_hash_is_0_are_refused_by_every_seeded_family() {
    assert_eq!(crate::hash::seed_hash(50541), 0);
    let refused =
        |r: Result<()>| matches!(r, Err(Error::InvalidArgument(m)) if m.contains("seed hash of 0"));
    assert!(refused(CountMin::new(3, 64, 50541).map(|_| ())));
    assert!(refused(
        crate::theta::UpdateTheta::new(12, 1.0, 50541).map(|_| ())
    ));
    assert!(refused(
        crate::theta::ThetaUnion::new(12, 50541).map(|_| ())
    ));
    use crate::tuple::{DoubleSummary, SummaryMode, TupleUnion, UpdateTuple};
    assert!(refused(
        UpdateTuple::<DoubleSummary>::new(12, 1.0, SummaryMode::Sum, 50541).map(|_| ())
    ));
    assert!(refused(
        TupleUnion::<DoubleSummary>::new(12, SummaryMode::Sum, 50541).map(|_| ())
    ));
}
