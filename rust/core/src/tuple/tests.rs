use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::hash::{hash_i64, DEFAULT_SEED};
use crate::theta::{CompactTheta, UpdateTheta};
use crate::Error;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn double_sketch(
    lg_k: u8,
    mode: SummaryMode,
    keys: impl Iterator<Item = i64>,
) -> UpdateTuple<DoubleSummary> {
    let mut s = UpdateTuple::new(lg_k, 1.0, mode, DEFAULT_SEED).unwrap();
    for k in keys {
        s.update_i64(k, (k % 10) as f64);
    }
    s
}

fn theta_of(lg_k: u8, keys: impl Iterator<Item = i64>) -> CompactTheta {
    let mut t = UpdateTheta::new(lg_k, 1.0, DEFAULT_SEED).unwrap();
    for k in keys {
        t.update_i64(k);
    }
    t.compact(true)
}

/// The key hash → value map of an exact sketch.
fn exact_map(s: &CompactTuple<DoubleSummary>) -> BTreeMap<u64, f64> {
    s.entries().map(|(h, v)| (h, v.value)).collect()
}

fn key_hash(k: i64) -> u64 {
    hash_i64(k, DEFAULT_SEED).0 >> 1
}

#[test]
fn parameters_are_checked() {
    let mode = SummaryMode::Sum;
    assert!(UpdateTuple::<DoubleSummary>::new(3, 1.0, mode, 1).is_err());
    assert!(UpdateTuple::<DoubleSummary>::new(27, 1.0, mode, 1).is_err());
    assert!(UpdateTuple::<DoubleSummary>::new(4, 1.0, mode, 1).is_ok());
    for p in [0.0, -0.5, 1.5, f32::NAN] {
        assert!(UpdateTuple::<IntegerSummary>::new(12, p, mode, 1).is_err());
    }
    assert!(TupleUnion::<DoubleSummary>::new(27, mode, 1).is_err());
    assert!(TupleIntersection::<DoubleSummary>::new(mode, DEFAULT_SEED)
        .result()
        .is_err());
    let s = UpdateTuple::<DoubleSummary>::with_mode(mode);
    assert!(matches!(s.lower_bound(0), Err(Error::InvalidArgument(_))));
    assert!(matches!(s.upper_bound(4), Err(Error::InvalidArgument(_))));
}

#[test]
fn values_combine_per_key_by_mode() {
    let pairs = [(1i64, 2.0), (2, 5.0), (1, -3.0), (1, 10.0), (3, 0.5)];
    let expect = [
        (SummaryMode::Sum, [9.0, 5.0, 0.5]),
        (SummaryMode::Min, [-3.0, 5.0, 0.5]),
        (SummaryMode::Max, [10.0, 5.0, 0.5]),
        (SummaryMode::AlwaysOne, [1.0, 1.0, 1.0]),
    ];
    for (mode, values) in expect {
        let mut s = UpdateTuple::<DoubleSummary>::new(12, 1.0, mode, DEFAULT_SEED).unwrap();
        for (k, v) in pairs {
            s.update_i64(k, v);
        }
        s.update_bytes(b"", 100.0); // not a key
        let c = s.compact();
        assert_eq!(c.num_retained(), 3);
        assert_eq!(c.estimate(), 3.0);
        let m = exact_map(&c);
        for (k, v) in [1i64, 2, 3].iter().zip(values) {
            assert_eq!(m[&key_hash(*k)], v, "{mode} key {k}");
        }
        assert!(c.summaries().iter().all(|s| s.mode == mode));
        let sum: f64 = values.iter().sum();
        assert_eq!(c.summary(SummaryMode::Sum), sum);
        assert_eq!(c.summary(SummaryMode::AlwaysOne), 3.0);
    }
    // An empty key alone leaves the sketch empty, as in Java and Spark.
    let mut s = UpdateTuple::<IntegerSummary>::with_mode(SummaryMode::Sum);
    s.update_bytes(b"", 1);
    assert!(s.is_empty());
    assert_eq!(s.serialize().len(), 8);
}

#[test]
fn keys_hash_as_theta_items_and_retain_the_same_set() {
    // Same keys, same lg_k: the tuple sketch retains exactly the Theta sketch's hashes
    // and theta, in and out of estimation mode.
    for (lg_k, n) in [(5u8, 20i64), (5, 3000), (10, 50_000), (12, 100_000)] {
        let t = double_sketch(lg_k, SummaryMode::Sum, 0..n);
        let mut th = UpdateTheta::new(lg_k, 1.0, DEFAULT_SEED).unwrap();
        for k in 0..n {
            th.update_i64(k);
        }
        assert_eq!(t.theta64(), th.theta64(), "lg_k {lg_k} n {n}");
        let mut a: Vec<u64> = t.entries().map(|(h, _)| h).collect();
        a.sort_unstable();
        assert_eq!(a, th.compact(true).entries());
        assert_eq!(t.estimate(), th.estimate());
        assert_eq!(t.lower_bound(2).unwrap(), th.lower_bound(2).unwrap());
        assert_eq!(t.upper_bound(3).unwrap(), th.upper_bound(3).unwrap());
    }
    // Every key type hashes as Theta's.
    let mut t = UpdateTuple::<IntegerSummary>::with_mode(SummaryMode::Sum);
    let mut th = UpdateTheta::new(12, 1.0, DEFAULT_SEED).unwrap();
    for (i, f) in [0.0, -0.0, 1.5, f64::NAN, -f64::NAN]
        .into_iter()
        .enumerate()
    {
        t.update_f64(f, i as i32);
        th.update_f64(f);
    }
    t.update_bytes("café".as_bytes(), 1);
    th.update_bytes("café".as_bytes());
    t.update_u64(u64::MAX, 1);
    th.update_u64(u64::MAX);
    let mut a: Vec<u64> = t.entries().map(|(h, _)| h).collect();
    a.sort_unstable();
    assert_eq!(a, th.compact(true).entries());
    // 0.0 and -0.0 are one key, as are the NaNs.
    assert_eq!(t.num_retained(), 5);
}

#[test]
fn estimates_stay_within_their_bounds_across_seeds() {
    // 3-sigma bounds hold for all but a tiny fraction of independent streams.
    let mut misses = 0;
    let n = 30_000u64;
    for seed in 0..40u64 {
        let mut s = UpdateTuple::<DoubleSummary>::new(10, 1.0, SummaryMode::Sum, seed).unwrap();
        for k in 0..n {
            s.update_u64(k, 1.0);
        }
        assert!(s.is_estimation_mode());
        let (lo, hi) = (s.lower_bound(3).unwrap(), s.upper_bound(3).unwrap());
        if !(lo <= n as f64 && n as f64 <= hi) {
            misses += 1;
        }
        // k = 1024: RSE about 3.1%; 6 sigma never fails in practice.
        assert!((s.estimate() / n as f64 - 1.0).abs() < 6.0 / 32.0);
    }
    assert!(misses <= 2, "{misses} of 40 outside 3-sigma bounds");
}

#[test]
fn images_round_trip_for_every_shape() {
    for mode in SummaryMode::ALL {
        for (lg_k, n) in [(12u8, 0i64), (12, 1), (12, 9), (4, 1000), (8, 5000)] {
            let s = double_sketch(lg_k, mode, 0..n);
            let c = s.compact();
            let bytes = c.serialize();
            let back = CompactTuple::<DoubleSummary>::deserialize(&bytes, DEFAULT_SEED).unwrap();
            assert_eq!(back.serialize(), bytes);
            assert_eq!(back.estimate(), s.estimate());
            assert_eq!(back.theta64(), s.theta64());
            assert_eq!(back.summary(mode), s.summary(mode));
            let expected_len = match n {
                0 => 8,
                1 => 8 + 17,
                _ if !s.is_estimation_mode() => 16 + 17 * n as usize,
                _ => 24 + 17 * s.num_retained() as usize,
            };
            assert_eq!(bytes.len(), expected_len);
        }
    }
    // A sampled sketch with nothing retained: non-empty, theta = p.
    let mut s =
        UpdateTuple::<IntegerSummary>::new(12, 0.001, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    s.update_i64(5, 1);
    let c = s.compact();
    if c.num_retained() == 0 {
        let back =
            CompactTuple::<IntegerSummary>::deserialize(&c.serialize(), DEFAULT_SEED).unwrap();
        assert!(!back.is_empty() && back.theta() < 0.01 && back.estimate() == 0.0);
        assert!(back.upper_bound(1).unwrap() > 0.0);
    }
    // Another seed's image is refused as incompatible.
    let other = UpdateTuple::<IntegerSummary>::new(12, 1.0, SummaryMode::Sum, 7).map(|mut s| {
        s.update_i64(1, 1);
        s.serialize()
    });
    assert!(matches!(
        CompactTuple::<IntegerSummary>::deserialize(&other.unwrap(), DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
}

#[test]
fn bad_images_are_rejected_with_reasons() {
    let good = double_sketch(12, SummaryMode::Sum, 0..5).serialize();
    let read = |b: &[u8]| CompactTuple::<DoubleSummary>::deserialize(b, DEFAULT_SEED);
    assert!(read(&good).is_ok());
    let mut wrong_family = good.clone();
    wrong_family[2] = 3;
    let mut updatable = good.clone();
    updatable[3] = 0;
    let mut version = good.clone();
    version[1] = 2;
    let mut mode = good.clone();
    mode[16 + 16] = 7;
    let mut zero_hash = good.clone();
    zero_hash[16..24].fill(0);
    let mut duplicate = good.clone();
    let (first, second) = duplicate.split_at_mut(16 + 17);
    second[..8].copy_from_slice(&first[16..24]);
    let mut big_count = good.clone();
    big_count[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    for (bad, what) in [
        (&good[..7], "short"),
        (&good[..good.len() - 1], "truncated"),
        (&wrong_family[..], "family"),
        (&updatable[..], "updatable"),
        (&version[..], "version"),
        (&mode[..], "mode"),
        (&zero_hash[..], "zero hash"),
        (&duplicate[..], "duplicate"),
        (&big_count[..], "count"),
    ] {
        match read(bad) {
            Err(Error::CorruptData(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    // An integer image is not a double image (its entries are 13 bytes, not 17).
    let mut ints = UpdateTuple::<IntegerSummary>::with_mode(SummaryMode::Sum);
    for k in 0..4 {
        ints.update_i64(k, 1);
    }
    assert!(read(&ints.serialize()).is_err());
}

#[test]
fn bulk_update_equals_single_updates_and_cancels_between_blocks() {
    let n = crate::bulk::BLOCK + 12_345;
    let keys: Vec<i64> = (0..n as i64).map(|i| i % 700_000).collect();
    let mut one =
        UpdateTuple::<DoubleSummary>::new(11, 1.0, SummaryMode::Max, DEFAULT_SEED).unwrap();
    for &k in &keys {
        one.update_i64(k, (k % 13) as f64);
    }
    let mut bulk =
        UpdateTuple::<DoubleSummary>::new(11, 1.0, SummaryMode::Max, DEFAULT_SEED).unwrap();
    let mut reports = Vec::new();
    bulk.update_with(
        n,
        |i| Some(hash_i64(keys[i], DEFAULT_SEED).0),
        |i| (keys[i] % 13) as f64,
        &mut |done, total| {
            reports.push((done, total));
            true
        },
    )
    .unwrap();
    assert_eq!(
        reports,
        vec![(crate::bulk::BLOCK as u64, n as u64), (n as u64, n as u64)]
    );
    assert_eq!(bulk.serialize(), one.serialize());

    let mut cancelled =
        UpdateTuple::<DoubleSummary>::new(11, 1.0, SummaryMode::Max, DEFAULT_SEED).unwrap();
    let r = cancelled.update_with(
        n,
        |i| Some(hash_i64(keys[i], DEFAULT_SEED).0),
        |i| (keys[i] % 13) as f64,
        &mut |_, _| false,
    );
    assert_eq!(r, Err(Error::Cancelled));
    let mut prefix =
        UpdateTuple::<DoubleSummary>::new(11, 1.0, SummaryMode::Max, DEFAULT_SEED).unwrap();
    for &k in &keys[..crate::bulk::BLOCK] {
        prefix.update_i64(k, (k % 13) as f64);
    }
    assert_eq!(cancelled.serialize(), prefix.serialize());
}

#[test]
fn exact_set_operations_are_the_set_operations() {
    // a: keys 0..60 value k % 10; b: keys 40..100 value k % 10.
    let a = double_sketch(12, SummaryMode::Sum, 0..60).compact();
    let b = double_sketch(12, SummaryMode::Sum, 40..100).compact();
    let v = |k: i64| (k % 10) as f64;
    for mode in SummaryMode::ALL {
        let mut u = TupleUnion::new(12, mode, DEFAULT_SEED).unwrap();
        u.update(&a).unwrap();
        u.update(&b).unwrap();
        let union = exact_map(&u.result());
        assert_eq!(union.len(), 100);
        let mut i = TupleIntersection::new(mode, DEFAULT_SEED);
        i.update(&a).unwrap();
        i.update(&b).unwrap();
        let inter = exact_map(&i.result().unwrap());
        assert_eq!(inter.len(), 20);
        for k in 0..100 {
            let both = match mode {
                SummaryMode::Sum => 2.0 * v(k),
                SummaryMode::Min | SummaryMode::Max => v(k),
                SummaryMode::AlwaysOne => 1.0,
            };
            let expected = if (40..60).contains(&k) { both } else { v(k) };
            assert_eq!(union[&key_hash(k)], expected, "{mode} union key {k}");
            if (40..60).contains(&k) {
                assert_eq!(inter[&key_hash(k)], both, "{mode} intersection key {k}");
            }
        }
    }
    let d = a_not_b(&a, &b, DEFAULT_SEED).unwrap();
    let expected: BTreeSet<u64> = (0..40).map(key_hash).collect();
    assert_eq!(
        exact_map(&d).keys().copied().collect::<BTreeSet<_>>(),
        expected
    );
    // A keeps its order in the difference.
    let order: Vec<u64> = a
        .hashes()
        .iter()
        .copied()
        .filter(|h| expected.contains(h))
        .collect();
    assert_eq!(d.hashes(), &order[..]);
    // With a Theta sketch of b's keys: the same keys, and the union's new keys carry the
    // given summary.
    let tb = theta_of(12, 40..100);
    let dt = a_not_theta(&a, &tb, DEFAULT_SEED).unwrap();
    assert_eq!(dt, d);
    let mut u = TupleUnion::new(12, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    u.update(&a).unwrap();
    u.update_theta(
        &tb,
        DoubleSummary {
            value: 0.5,
            mode: SummaryMode::Sum,
        },
    )
    .unwrap();
    let m = exact_map(&u.result());
    assert_eq!(m[&key_hash(10)], 0.0);
    assert_eq!(m[&key_hash(45)], 5.5);
    assert_eq!(m[&key_hash(99)], 0.5);
    let mut i = TupleIntersection::new(SummaryMode::Sum, DEFAULT_SEED);
    i.update(&a).unwrap();
    i.update_theta(&tb, DoubleSummary::new(SummaryMode::Sum))
        .unwrap();
    let m = exact_map(&i.result().unwrap());
    assert_eq!(m.len(), 20);
    assert_eq!(m[&key_hash(47)], 7.0);
}

#[test]
fn set_operation_corner_cases_follow_java() {
    let empty = UpdateTuple::<DoubleSummary>::with_mode(SummaryMode::Sum).compact();
    let a = double_sketch(12, SummaryMode::Sum, 0..50).compact();
    let big = double_sketch(5, SummaryMode::Sum, 0..2000).compact();
    assert!(big.is_estimation_mode());
    // Degenerate: theta < 1, no entries (a sampled sketch whose keys all fell out).
    let mut sampled =
        UpdateTuple::<DoubleSummary>::new(12, 0.0001, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    sampled.update_i64(1, 1.0);
    let degenerate = sampled.compact();
    assert!(!degenerate.is_empty() && degenerate.num_retained() == 0);

    let d = |x: &CompactTuple<DoubleSummary>, y: &CompactTuple<DoubleSummary>| {
        a_not_b(x, y, DEFAULT_SEED).unwrap()
    };
    assert!(d(&empty, &a).is_empty());
    assert_eq!(d(&a, &empty), a);
    let trimmed = d(&a, &degenerate);
    assert_eq!(trimmed.theta64(), degenerate.theta64());
    assert!(trimmed.hashes().iter().all(|&h| h < degenerate.theta64()));
    let r = d(&degenerate, &a);
    assert!(!r.is_empty() && r.num_retained() == 0 && r.theta64() == degenerate.theta64());
    let r = d(&degenerate, &big);
    assert_eq!(r.theta64(), degenerate.theta64().min(big.theta64()));
    assert!(d(&a, &a).num_retained() == 0 && d(&a, &a).is_empty());

    // Intersections: an empty input empties the result; a result without entries at
    // theta 1 stays non-empty (Java's, written with a count of 0).
    let mut i = TupleIntersection::new(SummaryMode::Sum, DEFAULT_SEED);
    i.update(&a).unwrap();
    i.update(&empty).unwrap();
    i.update(&big).unwrap();
    assert!(i.result().unwrap().is_empty());
    let disjoint = double_sketch(12, SummaryMode::Sum, 100..150).compact();
    let mut i = TupleIntersection::new(SummaryMode::Sum, DEFAULT_SEED);
    i.update(&a).unwrap();
    i.update(&disjoint).unwrap();
    let r = i.result().unwrap();
    assert!(!r.is_empty() && r.num_retained() == 0 && r.theta() == 1.0);
    assert_eq!(r.serialize().len(), 16);
    let back = CompactTuple::<DoubleSummary>::deserialize(&r.serialize(), DEFAULT_SEED).unwrap();
    assert_eq!(back, r);
    // That state is the empty set to a difference (Java would refuse it).
    assert!(d(&r, &a).is_empty());
    assert_eq!(d(&a, &r), a);

    // Unions of nothing and of empties are empty; a union keeps at most k keys.
    let u = TupleUnion::<DoubleSummary>::new(5, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    assert!(u.result().is_empty());
    let mut u = TupleUnion::new(5, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    u.update(&empty).unwrap();
    u.update(&degenerate).unwrap();
    let r = u.result();
    assert!(!r.is_empty() && r.num_retained() == 0 && r.theta64() == degenerate.theta64());
    u.update(&big).unwrap();
    u.update(&a).unwrap();
    assert!(u.result().num_retained() <= 32);

    // Seeds must agree.
    let other = UpdateTuple::<DoubleSummary>::new(12, 1.0, SummaryMode::Sum, 5)
        .map(|mut s| {
            s.update_i64(1, 1.0);
            s.compact()
        })
        .unwrap();
    let mut u = TupleUnion::new(12, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    assert!(matches!(u.update(&other), Err(Error::Incompatible(_))));
    assert!(matches!(
        a_not_b(&a, &other, DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
}

#[test]
fn union_of_partitions_estimates_the_whole() {
    // Four partitions of 0..40_000 with overlaps; the union's estimate is within the
    // 3-sigma bounds of the true 30_000 distinct keys, and every retained key's sum is
    // the sum over all partitions (each key's value is 1 per row).
    let mut u = TupleUnion::new(12, SummaryMode::Sum, DEFAULT_SEED).unwrap();
    let mut rows_per_key: BTreeMap<u64, f64> = BTreeMap::new();
    for p in 0..4i64 {
        let mut s = UpdateTuple::<DoubleSummary>::with_mode(SummaryMode::Sum);
        for id in p * 10_000..(p + 1) * 10_000 {
            let key = id % 30_000;
            s.update_i64(key, 1.0);
            *rows_per_key.entry(key_hash(key)).or_default() += 1.0;
        }
        u.update(&s.compact()).unwrap();
    }
    let r = u.result();
    assert_eq!(r.num_retained(), 4096);
    assert!(r.lower_bound(3).unwrap() <= 30_000.0 && 30_000.0 <= r.upper_bound(3).unwrap());
    for (h, s) in r.entries() {
        assert_eq!(s.value, rows_per_key[&h]);
    }
}

#[test]
fn json_describes_the_sketch() {
    let s = double_sketch(12, SummaryMode::Min, 0..100);
    let j = s.to_json();
    assert_eq!(j["family"], "tuple");
    assert_eq!(j["summary_mode"], "min");
    assert_eq!(j["estimate"], 100.0);
    assert_eq!(j["summary"], 0.0);
    let c = s.compact().to_json();
    assert_eq!(c["summary"]["max"], 9.0);
    assert_eq!(c["summary"]["alwaysone"], 100.0);
    assert_eq!(c["summary_mode"], "min");
    assert_eq!(c["num_retained"], 100);
}

#[test]
fn mutated_images_never_panic() {
    let mut bases: Vec<Vec<u8>> = Vec::new();
    for (lg_k, n) in [(12u8, 0i64), (12, 1), (12, 9), (5, 300), (4, 2000)] {
        bases.push(double_sketch(lg_k, SummaryMode::Sum, 0..n).serialize());
    }
    let partner = double_sketch(5, SummaryMode::Sum, 100..400).compact();
    let theta = theta_of(5, 150..300);
    let mut rng = SplitMix64(0x7091e);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..10_000 {
        let mut img = bases[rng.below(bases.len() as u64) as usize].clone();
        for _ in 0..1 + rng.below(4) {
            let len = img.len() as u64;
            match rng.below(9) {
                0 if len > 0 => {
                    let at = rng.below(len) as usize;
                    img[at] ^= 1 << rng.below(8);
                }
                1 if len > 0 => {
                    let at = rng.below(len) as usize;
                    img[at] = rng.next() as u8;
                }
                2 => img.truncate(rng.below(len + 1) as usize),
                3 => {
                    for _ in 0..rng.below(40) {
                        img.push(rng.next() as u8);
                    }
                }
                4 if len >= 12 => {
                    let v = [0u32, 1, 2, 255, 65_535, u32::MAX, rng.next() as u32];
                    let v = v[rng.below(v.len() as u64) as usize];
                    img[8..12].copy_from_slice(&v.to_le_bytes());
                }
                5 if len >= 2 => img[1] = rng.below(5) as u8,
                6 if len >= 1 => img[0] = rng.below(5) as u8,
                7 if len >= 6 => img[5] = rng.next() as u8,
                8 if len >= 4 => img[3] = rng.below(3) as u8,
                _ => {}
            }
        }
        match CompactTuple::<DoubleSummary>::deserialize(&img, DEFAULT_SEED) {
            Ok(c) => {
                ok += 1;
                assert_eq!(
                    CompactTuple::<DoubleSummary>::deserialize(&c.serialize(), DEFAULT_SEED)
                        .unwrap(),
                    c
                );
                let _ = (
                    c.estimate(),
                    c.lower_bound(1),
                    c.upper_bound(3),
                    c.to_json(),
                );
                let mut u = TupleUnion::new(5, SummaryMode::Max, DEFAULT_SEED).unwrap();
                u.update(&partner).unwrap();
                u.update(&c).unwrap();
                u.update_theta(&theta, DoubleSummary::new(SummaryMode::Max))
                    .unwrap();
                assert!(u.result().num_retained() <= 32);
                let mut i = TupleIntersection::new(SummaryMode::Min, DEFAULT_SEED);
                i.update(&c).unwrap();
                i.update(&partner).unwrap();
                i.update_theta(&theta, DoubleSummary::new(SummaryMode::Min))
                    .unwrap();
                let _ = i.result().unwrap().estimate();
                let _ = a_not_b(&c, &partner, DEFAULT_SEED).unwrap().estimate();
                let _ = a_not_b(&partner, &c, DEFAULT_SEED).unwrap().estimate();
                let _ = a_not_theta(&c, &theta, DEFAULT_SEED).unwrap().estimate();
            }
            Err(e) => {
                err += 1;
                assert!(
                    matches!(e, Error::CorruptData(_) | Error::Incompatible(_)),
                    "{e:?}"
                );
            }
        }
    }
    println!("mutated images: {ok} read, {err} rejected");
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

#[test]
fn column_update_equals_single_updates_and_checks_the_values() {
    use crate::column::{Column, Numeric, Strings};
    let keys: Vec<i64> = (0..20_000).map(|i| (i * 7) % 9_001).collect();
    let values: Vec<i32> = (0..20_000).map(|i| i % 17 - 8).collect();
    let mut one = UpdateTuple::<IntegerSummary>::new(10, 1.0, SummaryMode::Min, 7).unwrap();
    for (&k, &v) in keys.iter().zip(&values) {
        one.update_i64(k, v);
    }
    let mut bulk = UpdateTuple::<IntegerSummary>::new(10, 1.0, SummaryMode::Min, 7).unwrap();
    let column = Column::Numeric(Numeric::I64(&keys));
    bulk.update_column(&column, &values, &mut |_, _| true)
        .unwrap();
    assert_eq!(bulk.serialize(), one.serialize());
    // Another number of values: an error, nothing applied.
    let mut fresh = UpdateTuple::<IntegerSummary>::new(10, 1.0, SummaryMode::Min, 7).unwrap();
    let r = fresh.update_column(&column, &values[1..], &mut |_, _| true);
    assert!(matches!(r, Err(Error::InvalidArgument(m)) if m.contains("values")));
    assert!(fresh.is_empty());
    // Strings: the empty key is skipped together with its value.
    let text = b"a\0\0b\0a";
    let strings = Column::Strings(Strings::delimited(text, 0));
    let mut s = UpdateTuple::<DoubleSummary>::with_mode(SummaryMode::Sum);
    s.update_column(&strings, &[1.0, 100.0, 2.0, 4.0], &mut |_, _| true)
        .unwrap();
    let mut expected = UpdateTuple::<DoubleSummary>::with_mode(SummaryMode::Sum);
    expected.update_bytes(b"a", 1.0);
    expected.update_bytes(b"b", 2.0);
    expected.update_bytes(b"a", 4.0);
    assert_eq!(s.serialize(), expected.serialize());
    assert_eq!(s.summary(SummaryMode::Sum), 7.0);
}

#[test]
fn an_update_sketch_restored_from_its_image_continues_as_the_original() {
    for (mode, n) in [
        (SummaryMode::Sum, 3_000i64),
        (SummaryMode::Max, 100),
        (SummaryMode::Min, 0),
    ] {
        let mut original = double_sketch(10, mode, 0..n);
        let mut restored =
            UpdateTuple::restore(&original.compact(), 10, mode, DEFAULT_SEED).unwrap();
        assert_eq!(restored.lg_k(), 10);
        assert_eq!(restored.is_empty(), original.is_empty());
        for k in n..n + 5_000 {
            original.update_i64(k, (k % 7) as f64);
            restored.update_i64(k, (k % 7) as f64);
        }
        let (a, b) = (original.compact(), restored.compact());
        assert_eq!(a.theta64(), b.theta64());
        let entries = |c: &CompactTuple<DoubleSummary>| -> BTreeMap<u64, u64> {
            c.entries().map(|(h, s)| (h, s.value.to_bits())).collect()
        };
        assert_eq!(entries(&a), entries(&b));
    }
    let other_seed = double_sketch(10, SummaryMode::Sum, 0..10).compact();
    assert!(matches!(
        UpdateTuple::restore(&other_seed, 10, SummaryMode::Sum, 1),
        Err(Error::Incompatible(_))
    ));
}
