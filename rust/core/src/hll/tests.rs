//! Core-level HLL tests: bulk = one by one, lossless images, and no panic on any bytes.
//! (Byte-for-byte agreement with DataSketches is tested from Python, against
//! datasketches-python and the Java/C++/Go fixtures.)

use super::*;
use crate::bulk::BLOCK;

use crate::test_fixtures::splitmix;

fn sketch(lg_k: u8, tgt: HllType, n: i64) -> HllSketch {
    let mut s = HllSketch::new(lg_k, tgt).unwrap();
    for i in 0..n {
        s.update_i64(i * 7919);
    }
    s
}

const TYPES: [HllType; 3] = [HllType::Hll4, HllType::Hll6, HllType::Hll8];

#[test]
fn bulk_update_equals_one_by_one() {
    for tgt in TYPES {
        for (lg_k, n) in [(4u8, 1000i64), (8, 30), (11, 200), (12, 3_000_000)] {
            let one = sketch(lg_k, tgt, n);
            let mut bulk = HllSketch::new(lg_k, tgt).unwrap();
            bulk.update_with(
                n as usize,
                |i| Some(coupon(hash::hash_i64(i as i64 * 7919, DEFAULT_SEED))),
                &mut |_, _| true,
            )
            .unwrap();
            assert_eq!(
                bulk.serialize(false),
                one.serialize(false),
                "{tgt:?} lg_k {lg_k} n {n}"
            );
        }
    }
}

#[test]
fn cancelled_bulk_update_keeps_a_prefix() {
    let n = 5 * BLOCK + 7;
    let mut s = HllSketch::new(12, HllType::Hll4).unwrap();
    let mut calls = 0;
    let r = s.update_with(
        n,
        |i| Some(coupon(hash::hash_i64(i as i64, DEFAULT_SEED))),
        &mut |done, total| {
            calls += 1;
            assert_eq!(total, n as u64);
            done < 2 * BLOCK as u64
        },
    );
    assert_eq!(r, Err(Error::Cancelled));
    assert_eq!(calls, 2);
    let mut prefix = HllSketch::new(12, HllType::Hll4).unwrap();
    prefix
        .update_with(
            2 * BLOCK,
            |i| Some(coupon(hash::hash_i64(i as i64, DEFAULT_SEED))),
            &mut |_, _| true,
        )
        .unwrap();
    assert_eq!(s.serialize(false), prefix.serialize(false));
}

#[test]
fn images_round_trip_in_every_mode_and_type() {
    for tgt in TYPES {
        for (lg_k, n) in [
            (12u8, 0i64),
            (12, 3),
            (12, 100),
            (12, 50_000),
            (4, 500),
            (21, 10),
            (13, 2_000_000),
        ] {
            let s = sketch(lg_k, tgt, n);
            for compact in [true, false] {
                let image = s.serialize(compact);
                let back = HllSketch::deserialize(&image).unwrap();
                assert_eq!(back.estimate().to_bits(), s.estimate().to_bits());
                assert_eq!(
                    back.serialize(false),
                    HllSketch::deserialize(&back.serialize(false))
                        .unwrap()
                        .serialize(false)
                );
                if s.mode_name() != "SET" {
                    assert_eq!(
                        back.serialize(compact),
                        image,
                        "{tgt:?} {lg_k} {n} {compact}"
                    );
                }
            }
        }
    }
}

#[test]
fn estimates_are_within_three_standard_errors() {
    for lg_k in [10u8, 12, 14] {
        let k = (1u64 << lg_k) as f64;
        let n = 200_000i64;
        let s = sketch(lg_k, HllType::Hll8, n);
        let rse = 0.8326 / k.sqrt();
        assert!(
            (s.estimate() / n as f64 - 1.0).abs() < 3.0 * rse,
            "lg_k {lg_k}: {}",
            s.estimate()
        );
        assert!(s.lower_bound(3).unwrap() <= n as f64 && n as f64 <= s.upper_bound(3).unwrap());
    }
}

#[test]
fn union_downsamples_to_the_smaller_lg_k() {
    let a = sketch(14, HllType::Hll8, 100_000);
    let mut b = HllSketch::new(10, HllType::Hll4).unwrap();
    for i in 50_000..150_000i64 {
        b.update_i64(i * 7919);
    }
    let mut u = a.clone();
    u.merge(&b);
    assert_eq!(u.lg_k(), 10);
    let rse = 1.04 / 32.0;
    assert!(
        (u.estimate() / 150_000.0 - 1.0).abs() < 3.0 * rse,
        "{}",
        u.estimate()
    );
    // Either order gives the same registers.
    let mut v = b.clone();
    v.merge(&a);
    assert_eq!(
        u.convert(HllType::Hll8).serialize(false)[40..],
        v.convert(HllType::Hll8).serialize(false)[40..]
    );
}

#[test]
fn ten_thousand_mutated_images_never_panic() {
    let mut images = Vec::new();
    for tgt in TYPES {
        for (lg_k, n) in [
            (12u8, 5i64),
            (12, 300),
            (8, 40),
            (12, 20_000),
            (4, 300),
            (12, 1_000_000),
        ] {
            let s = sketch(lg_k, tgt, n);
            images.push(s.serialize(true));
            images.push(s.serialize(false));
        }
    }
    let mut rng = 20261125u64;
    let mut read = 0;
    for _ in 0..10_000 {
        let mut img = images[(splitmix(&mut rng) % images.len() as u64) as usize].clone();
        for _ in 0..1 + splitmix(&mut rng) % 4 {
            let i = (splitmix(&mut rng) % img.len() as u64) as usize;
            match splitmix(&mut rng) % 10 {
                0..=5 => img[i] = splitmix(&mut rng) as u8,
                6..=7 => img[i] ^= 1 << (splitmix(&mut rng) % 8),
                _ => img.truncate(i.max(1)),
            }
        }
        let Ok(mut s) = HllSketch::deserialize(&img) else {
            continue;
        };
        read += 1;
        let _ = (
            s.estimate(),
            s.lower_bound(1),
            s.upper_bound(3),
            s.to_json(),
        );
        for i in 0..300 {
            s.update_i64(i);
        }
        let again = HllSketch::deserialize(&s.serialize(false)).expect("our own image reads back");
        let mut m = again.clone();
        m.merge(&s);
        assert!(m.estimate().is_finite());
    }
    assert!(read > 500, "only {read} mutated images read");
}

#[test]
fn invalid_parameters_are_errors() {
    assert!(HllSketch::new(3, HllType::Hll8).is_err());
    assert!(HllSketch::new(22, HllType::Hll8).is_err());
    assert!(HllType::from_u8(3).is_err());
    let s = sketch(12, HllType::Hll8, 10);
    assert!(s.lower_bound(0).is_err() && s.upper_bound(4).is_err());
    for bad in [&[][..], &[2, 1, 7], &[2, 1, 3, 12, 3, 8, 0, 8]] {
        assert!(matches!(
            HllSketch::deserialize(bad),
            Err(Error::CorruptData(_))
        ));
    }
}
