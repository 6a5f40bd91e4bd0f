//! Fixtures from DataSketches (Java and C++), semantics, statistics, robustness, speed.

use super::*;
use crate::hash::{hash_bytes, hash_i64, DEFAULT_SEED};

/// splitmix64: the tests' own small PRNG.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

use crate::test_fixtures::read_fixture;

pub(super) fn sketch_of_range(lg_k: u8, p: f32, range: std::ops::Range<i64>) -> UpdateTheta {
    let mut s = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
    for i in range {
        s.update_i64(i);
    }
    s
}

const FIXTURE_NS: [u64; 8] = [0, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

#[test]
fn fixtures_read_with_datasketches_answers() {
    let rse = 1.0 / 4096f64.sqrt();
    let mut files = 0;
    for lang in ["cpp", "java"] {
        for n in FIXTURE_NS {
            let mut names = vec![format!("theta_n{n}_{lang}.sk")];
            if n >= 10 {
                names.push(format!("theta_compressed_n{n}_{lang}.sk"));
            }
            for name in names {
                let bytes = read_fixture(lang, &name);
                let s = CompactTheta::deserialize(&bytes, DEFAULT_SEED)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                files += 1;
                assert!(s.is_ordered(), "{name}");
                if n == 0 {
                    assert!(s.is_empty(), "{name}");
                    assert_eq!(s.estimate(), 0.0, "{name}");
                    assert_eq!(s.theta64(), MAX_THETA, "{name}");
                } else if n <= 4096 {
                    assert!(!s.is_empty() && !s.is_estimation_mode(), "{name}");
                    assert_eq!(s.estimate(), n as f64, "{name}: exact below k");
                    assert_eq!(s.num_retained() as u64, n, "{name}");
                } else {
                    assert!(s.is_estimation_mode(), "{name}");
                    let err = (s.estimate() / n as f64 - 1.0).abs();
                    assert!(err < 3.0 * rse, "{name}: estimate {} vs {n}", s.estimate());
                    let (lb, ub) = (s.lower_bound(3).unwrap(), s.upper_bound(3).unwrap());
                    assert!(lb <= n as f64 && n as f64 <= ub, "{name}: [{lb}, {ub}]");
                }
                // Every image (any language) holds exactly what our update sketch retains.
                // (Java writes seed hash 0 into empty images.)
                let mut ours = sketch_of_range(12, 1.0, 0..n as i64).compact(true);
                if n == 0 && lang == "java" {
                    ours.seed_hash = 0;
                }
                assert_eq!(s, ours, "{name}: same sketch state as our update sketch");
            }
        }
        let name = format!("theta_non_empty_no_entries_{lang}.sk");
        let bytes = read_fixture(lang, &name);
        let s = CompactTheta::deserialize(&bytes, DEFAULT_SEED).unwrap();
        files += 1;
        assert!(!s.is_empty(), "{name}");
        assert_eq!(s.num_retained(), 0, "{name}");
        assert!(s.is_estimation_mode(), "{name}");
        assert_eq!(
            s.theta64(),
            92_233_718_306_963_456,
            "{name}: theta of p = 0.01"
        );
        assert_eq!(s.estimate(), 0.0, "{name}");
        assert_eq!(s.lower_bound(2).unwrap(), 0.0, "{name}");
        assert!(s.upper_bound(2).unwrap() > 0.0, "{name}");
        assert_eq!(s.serialize(), bytes, "{name}: re-serialized");
        let ours = sketch_of_range(12, 0.01, 1..2).compact(true);
        assert_eq!(ours.serialize(), bytes, "{name}: our p = 0.01 sketch");
    }
    assert_eq!(files, 30);
}

#[test]
fn fixtures_reserialize_byte_for_byte() {
    // What datasketches-python itself does with these files (checked with
    // `compact_theta_sketch.deserialize(b).serialize(compress=...) == b`): it rewrites every
    // C++ file and every Java file identically, except Java's n1 image, whose flags byte
    // carries Java's extra single-item bit (0x20); Python writes 0x1a there.
    for lang in ["cpp", "java"] {
        for n in FIXTURE_NS {
            let name = format!("theta_n{n}_{lang}.sk");
            let bytes = read_fixture(lang, &name);
            let s = CompactTheta::deserialize(&bytes, DEFAULT_SEED).unwrap();
            let mut expected = bytes.clone();
            if lang == "java" && n == 1 {
                assert_eq!(expected[5], 0x3a);
                expected[5] = 0x1a;
            }
            assert_eq!(s.serialize(), expected, "{name}: v3 image");
            if n > 0 {
                // Our own update sketch writes the same image.
                let ours = sketch_of_range(12, 1.0, 0..n as i64).compact(true);
                assert_eq!(ours.serialize(), expected, "{name}: from our update sketch");
            }
            if n >= 10 {
                let name = format!("theta_compressed_n{n}_{lang}.sk");
                let bytes = read_fixture(lang, &name);
                let s = CompactTheta::deserialize(&bytes, DEFAULT_SEED).unwrap();
                assert_eq!(s.serialize_compressed(), bytes, "{name}: v4 image");
            }
        }
    }
}

#[test]
fn fixtures_with_another_seed_are_incompatible() {
    let bytes = read_fixture("cpp", "theta_n1000_cpp.sk");
    match CompactTheta::deserialize(&bytes, 1234) {
        Err(Error::Incompatible(msg)) => assert!(msg.contains("seed"), "{msg}"),
        other => panic!("expected Incompatible, got {other:?}"),
    }
    let bytes = read_fixture("cpp", "theta_compressed_n1000_cpp.sk");
    assert!(matches!(
        CompactTheta::deserialize(&bytes, 1234),
        Err(Error::Incompatible(_))
    ));
    // Empty images are not checked (Java writes seed hash 0 into them) and keep their bytes.
    let bytes = read_fixture("java", "theta_n0_java.sk");
    let s = CompactTheta::deserialize(&bytes, 1234).unwrap();
    assert!(s.is_empty());
    assert_eq!(s.seed_hash(), 0);
    assert_eq!(s.serialize(), bytes);
}

#[test]
fn empty_versus_non_empty_without_entries() {
    let empty = UpdateTheta::with_defaults().compact(true);
    assert!(empty.is_empty() && !empty.is_estimation_mode());
    assert_eq!(empty.serialize().len(), 8);
    assert_eq!(empty.upper_bound(2).unwrap(), 0.0);

    // p < 1: one item seen, none retained.
    let nene = sketch_of_range(12, 0.01, 1..2);
    assert!(!nene.is_empty() && nene.num_retained() == 0 && nene.is_estimation_mode());
    let nene = nene.compact(true);
    assert_eq!(nene.serialize().len(), 24);
    assert!(nene.upper_bound(1).unwrap() > 0.0);

    // An empty update sketch with p < 1 still reports theta 1.
    let e = UpdateTheta::new(12, 0.5, DEFAULT_SEED).unwrap();
    assert_eq!(e.theta64(), MAX_THETA);
    assert_eq!(e.compact(true), empty);

    let a = sketch_of_range(12, 1.0, 0..1000).compact(true);
    let mut i = ThetaIntersection::new(DEFAULT_SEED);
    assert!(!i.has_result());
    assert!(matches!(i.result(), Err(Error::InvalidArgument(_))));
    i.update(&a).unwrap();
    i.update(&nene).unwrap();
    let r = i.result().unwrap();
    assert!(!r.is_empty() && r.num_retained() == 0);
    assert_eq!(r.theta64(), nene.theta64());
    i.update(&empty).unwrap();
    assert!(i.result().unwrap().is_empty());

    // Disjoint exact sets intersect to the empty set; a difference of equal sets is empty.
    let b = sketch_of_range(12, 1.0, 5000..6000).compact(true);
    let mut i = ThetaIntersection::new(DEFAULT_SEED);
    i.update(&a).unwrap();
    i.update(&b).unwrap();
    assert!(i.result().unwrap().is_empty());
    assert!(a_not_b(&a, &a, DEFAULT_SEED).unwrap().is_empty());
    assert_eq!(a_not_b(&a, &empty, DEFAULT_SEED).unwrap(), a);
    assert!(a_not_b(&empty, &a, DEFAULT_SEED).unwrap().is_empty());

    let mut u = ThetaUnion::new(12, DEFAULT_SEED).unwrap();
    u.update(&empty).unwrap();
    assert!(u.result().is_empty());
    u.update(&nene).unwrap();
    let r = u.result();
    assert!(!r.is_empty() && r.num_retained() == 0 && r.theta64() == nene.theta64());
}

#[test]
fn different_seeds_are_incompatible() {
    let a = sketch_of_range(12, 1.0, 0..100).compact(true);
    let mut other = UpdateTheta::new(12, 1.0, 42).unwrap();
    for i in 0..100 {
        other.update_i64(i);
    }
    let b = other.compact(true);
    assert_ne!(a.seed_hash(), b.seed_hash());
    let is_incompatible =
        |r: Result<()>| matches!(r, Err(Error::Incompatible(m)) if m.contains("seed"));

    let mut u = ThetaUnion::new(12, DEFAULT_SEED).unwrap();
    u.update(&a).unwrap();
    let before = u.result();
    assert!(is_incompatible(u.update(&b)));
    assert_eq!(
        u.result(),
        before,
        "a failed update leaves the union unchanged"
    );

    let mut i = ThetaIntersection::new(DEFAULT_SEED);
    assert!(is_incompatible(i.update(&b)));
    assert!(!i.has_result());

    assert!(matches!(
        a_not_b(&a, &b, DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
    assert!(matches!(
        a_not_b(&b, &a, DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
    assert!(matches!(
        jaccard(&a, &b, DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
    assert!(matches!(
        CompactTheta::deserialize(&b.serialize(), DEFAULT_SEED),
        Err(Error::Incompatible(_))
    ));
    // With the right seed everything works.
    assert_eq!(CompactTheta::deserialize(&b.serialize(), 42).unwrap(), b);
    let mut u = ThetaUnion::new(12, 42).unwrap();
    u.update(&b).unwrap();
    assert_eq!(u.result().estimate(), 100.0);
}

#[test]
fn invalid_arguments() {
    for lg_k in [0, 4, 27, 255] {
        assert!(matches!(
            UpdateTheta::new(lg_k, 1.0, DEFAULT_SEED),
            Err(Error::InvalidArgument(_))
        ));
        assert!(ThetaUnion::new(lg_k, DEFAULT_SEED).is_err());
    }
    for p in [0.0, -0.5, 1.5, f32::NAN, f32::INFINITY, 1e-30] {
        assert!(
            UpdateTheta::new(12, p, DEFAULT_SEED).is_err(),
            "p = {p} must be rejected"
        );
    }
    assert!(UpdateTheta::new(5, 1.0, 0).is_ok());
    assert!(UpdateTheta::new(26, 1e-6, 0).is_ok());
    let s = sketch_of_range(12, 1.0, 0..10);
    for k in [0, 4] {
        assert!(s.lower_bound(k).is_err() && s.upper_bound(k).is_err());
        assert!(s.compact(true).lower_bound(k).is_err());
    }
}

#[test]
fn items_are_canonicalised() {
    let mut a = UpdateTheta::with_defaults();
    a.update_f64(0.0);
    a.update_f64(-0.0);
    a.update_f64(f64::NAN);
    a.update_f64(-f64::NAN);
    assert_eq!(a.num_retained(), 2);
    let mut b = UpdateTheta::with_defaults();
    b.update_bytes(b"");
    assert!(b.is_empty(), "an empty string is not an item");
    b.update_bytes("héllo".as_bytes());
    b.update_bytes("héllo".as_bytes());
    assert_eq!(b.num_retained(), 1);
    let mut c = UpdateTheta::with_defaults();
    c.update_u64(u64::MAX);
    c.update_i64(-1);
    assert_eq!(c.num_retained(), 1, "u64::MAX and -1 are the same 8 bytes");
    let mut d = UpdateTheta::with_defaults();
    d.update_hashes(&[]);
    assert!(d.is_empty());
    d.update_hashes(&[0, 1]); // theta hashes 0 are never stored, but the sketch saw items
    assert!(!d.is_empty() && d.num_retained() == 0);
}

#[test]
fn trim_reset_and_json() {
    let mut s = sketch_of_range(10, 1.0, 0..5000);
    assert!(s.num_retained() > 1024);
    let before = s.theta64();
    s.trim();
    assert_eq!(s.num_retained(), 1024);
    assert!(s.theta64() < before);
    let j = s.to_json();
    assert_eq!(j["family"], "theta");
    assert_eq!(j["kind"], "update");
    assert_eq!(j["lg_k"], 10);
    assert_eq!(j["resize_factor"], 8);
    assert_eq!(j["num_retained"], 1024);
    assert_eq!(j["estimation_mode"], true);
    assert_eq!(j["theta64"], s.theta64());
    assert_eq!(j["estimate"], s.estimate());
    let c = s.compact(true);
    let j = c.to_json();
    assert_eq!(j["kind"], "compact");
    assert_eq!(j["ordered"], true);
    assert_eq!(j["seed_hash"], c.seed_hash());
    assert_eq!(j["lower_bound_2sd"], c.lower_bound(2).unwrap());
    assert!(j.get("entries").is_none());
    s.reset();
    assert!(s.is_empty() && s.num_retained() == 0 && s.theta64() == MAX_THETA);
    assert_eq!(
        s.compact(true).serialize(),
        UpdateTheta::new(10, 1.0, DEFAULT_SEED)
            .unwrap()
            .compact(true)
            .serialize()
    );
    let mut u = ThetaUnion::new(10, DEFAULT_SEED).unwrap();
    u.update(&c).unwrap();
    u.reset();
    assert!(u.result().is_empty());
}

#[test]
fn unordered_images_round_trip() {
    let s = sketch_of_range(12, 1.0, 0..3000);
    let c = s.compact(false);
    assert!(!c.is_ordered());
    let img = c.serialize();
    assert_eq!(img[5] & 0x10, 0, "unordered flag");
    assert_eq!(
        img,
        c.serialize_compressed(),
        "unordered sketches are not compressed"
    );
    let back = CompactTheta::deserialize(&img, DEFAULT_SEED).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.to_ordered(), s.compact(true));
    // Duplicates in an unordered image are corrupt.
    let mut dup = img.clone();
    let (a, b) = (16, 24);
    let first: [u8; 8] = dup[a..a + 8].try_into().unwrap();
    dup[b..b + 8].copy_from_slice(&first);
    assert!(matches!(
        CompactTheta::deserialize(&dup, DEFAULT_SEED),
        Err(Error::CorruptData(_))
    ));
}

#[test]
fn union_of_images_equals_union_of_sketches() {
    let mut images: Vec<Vec<u8>> = Vec::new();
    for lang in ["cpp", "java"] {
        for n in FIXTURE_NS {
            images.push(read_fixture(lang, &format!("theta_n{n}_{lang}.sk")));
        }
        images.push(read_fixture(
            lang,
            &format!("theta_non_empty_no_entries_{lang}.sk"),
        ));
    }
    for (i, (lg_k, p, n)) in [
        (12, 1.0, 5000),
        (12, 1.0, 20_000),
        (8, 0.5, 3000),
        (5, 1.0, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let start = 1_000_000 * (i as i64 + 1);
        let c = sketch_of_range(lg_k, p, start..start + n).compact(true);
        images.push(c.serialize());
        images.push(c.serialize_compressed());
        let unordered = sketch_of_range(lg_k, p, -start - n..-start).compact(false);
        images.push(unordered.serialize());
    }
    let mut v1 = sketch_of_range(5, 1.0, 0..1000).compact(true).serialize();
    v1[1] = 1;
    v1[5] = 0;
    v1[6] = 0;
    v1[7] = 0;
    images.push(v1);
    for lg_k in [5, 9, 12, 14] {
        let mut by_image = ThetaUnion::new(lg_k, DEFAULT_SEED).unwrap();
        let mut by_sketch = ThetaUnion::new(lg_k, DEFAULT_SEED).unwrap();
        for img in &images {
            by_image.update_image(img).unwrap();
            by_sketch
                .update(&CompactTheta::deserialize(img, DEFAULT_SEED).unwrap())
                .unwrap();
            assert_eq!(by_image.result(), by_sketch.result(), "lg_k {lg_k}");
        }
    }
    // Another seed is incompatible and leaves the union unchanged; corrupt entries that
    // the union reads are reported.
    let mut u = ThetaUnion::new(12, 7).unwrap();
    assert!(matches!(
        u.update_image(&images[3]),
        Err(Error::Incompatible(_))
    ));
    assert!(u.result().is_empty());
    let mut bad = sketch_of_range(12, 1.0, 0..100).compact(true).serialize();
    bad[16..24].copy_from_slice(&0u64.to_le_bytes());
    let mut u = ThetaUnion::new(12, DEFAULT_SEED).unwrap();
    assert!(matches!(u.update_image(&bad), Err(Error::CorruptData(_))));
}

#[test]
fn ordered_entries_are_checked_at_every_edge() {
    // A serial version 3 estimation-mode image of `entries` flagged ordered, theta 1000.
    let image = |entries: &[u64]| {
        let mut img = vec![3u8, 3, 3, 0, 0, 0x1a];
        img.extend_from_slice(&crate::hash::seed_hash(DEFAULT_SEED).to_le_bytes());
        img.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        img.extend_from_slice(&[0; 4]);
        img.extend_from_slice(&1000u64.to_le_bytes());
        for e in entries {
            img.extend_from_slice(&e.to_le_bytes());
        }
        img
    };
    let top = 1u64 << 63;
    let many: Vec<u64> = (1..=40).map(|i| i * 20).collect();
    for good in [&[1u64][..], &[999], &[1, 2, 999], &many] {
        let c = CompactTheta::deserialize(&image(good), DEFAULT_SEED).unwrap();
        assert_eq!(c.entries(), good);
    }
    let mut unsorted = many.clone();
    unsorted.swap(17, 18);
    let mut dup = many.clone();
    dup[30] = dup[29];
    for bad in [
        &[0u64][..],
        &[1000],
        &[5, 5],
        &[6, 5],
        &[1, 1000],
        &[top, 1],
        &[top + 5, top + 6],
        &[1, top + 1],
        &[500, u64::MAX],
        &[u64::MAX],
        &unsorted,
        &dup,
    ] {
        let r = CompactTheta::deserialize(&image(bad), DEFAULT_SEED);
        assert!(matches!(r, Err(Error::CorruptData(_))), "{bad:?}: {r:?}");
    }
}

#[test]
fn old_serial_versions_read() {
    let c = sketch_of_range(5, 1.0, 0..1000).compact(true);
    assert!(c.is_estimation_mode());
    let v3 = c.serialize();
    assert_eq!(v3[0], 3);
    // Serial version 2 shares the layout (flags unused); version 1 has no seed hash.
    let mut v2 = v3.clone();
    v2[1] = 2;
    v2[5] = 0;
    assert_eq!(CompactTheta::deserialize(&v2, DEFAULT_SEED).unwrap(), c);
    let mut v1 = v3.clone();
    v1[1] = 1;
    v1[5] = 0;
    v1[6] = 0;
    v1[7] = 0;
    assert_eq!(CompactTheta::deserialize(&v1, DEFAULT_SEED).unwrap(), c);
    // Empty in version 1: no entries and theta 1.
    let mut e1 = vec![3u8, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    e1.extend_from_slice(&MAX_THETA.to_le_bytes());
    assert!(CompactTheta::deserialize(&e1, DEFAULT_SEED)
        .unwrap()
        .is_empty());
}

#[test]
fn huge_counts_in_tiny_images_are_rejected_without_allocating() {
    // v3 claiming 2^32 - 1 entries.
    let mut img = sketch_of_range(12, 1.0, 0..3).compact(true).serialize();
    img[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        CompactTheta::deserialize(&img, DEFAULT_SEED),
        Err(Error::CorruptData(_))
    ));
    // v4 claiming 2^32 - 1 entries of 64 bits.
    let mut img = sketch_of_range(12, 1.0, 0..30)
        .compact(true)
        .serialize_compressed();
    assert_eq!(img[1], 4);
    img[3] = 64;
    img[4] = 4;
    img.truncate(8);
    img.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        CompactTheta::deserialize(&img, DEFAULT_SEED),
        Err(Error::CorruptData(_))
    ));
    for bad in [
        &[][..],
        &[3u8, 3, 3][..],
        &[1u8, 3, 2, 0, 0, 0x1a, 0xcc, 0x93][..],
    ] {
        assert!(CompactTheta::deserialize(bad, DEFAULT_SEED).is_err());
    }
}

/// Exercises every query of a sketch that deserialized, checking basic sanity.
fn exercise(c: &CompactTheta, partner: &CompactTheta) {
    let est = c.estimate();
    assert!(est.is_finite() && est >= 0.0);
    for k in 1..=3 {
        let (lb, ub) = (c.lower_bound(k).unwrap(), c.upper_bound(k).unwrap());
        assert!(lb <= est + 1e-9 * est.max(1.0) && est <= ub + 1e-9 * est.max(1.0));
        assert!(lb.is_finite() && ub.is_finite());
    }
    assert!(c.theta() > 0.0 && c.theta() <= 1.0);
    let _ = c.to_json();
    let v3 = c.serialize();
    let v4 = c.serialize_compressed();
    for img in [&v3, &v4] {
        let back = CompactTheta::deserialize(img, DEFAULT_SEED).unwrap();
        if c.is_empty() {
            assert!(back.is_empty());
        } else {
            assert_eq!(&back, c);
        }
        assert_eq!(back.serialize(), v3);
    }
    if c.is_empty() || c.seed_hash() == partner.seed_hash() {
        let mut u = ThetaUnion::new(7, DEFAULT_SEED).unwrap();
        u.update(partner).unwrap();
        u.update(c).unwrap();
        let _ = u.result().serialize();
        let mut i = ThetaIntersection::new(DEFAULT_SEED);
        i.update(partner).unwrap();
        i.update(c).unwrap();
        let _ = i.result().unwrap().serialize_compressed();
        let _ = a_not_b(c, partner, DEFAULT_SEED).unwrap().estimate();
        let _ = a_not_b(partner, c, DEFAULT_SEED).unwrap().estimate();
        let (lo, est, hi) = jaccard(c, partner, DEFAULT_SEED).unwrap();
        assert!(lo.is_finite() && est.is_finite() && hi.is_finite());
    }
}

#[test]
fn mutated_images_never_panic() {
    let mut bases: Vec<Vec<u8>> = Vec::new();
    for (lg_k, p, n) in [
        (12, 1.0, 0),
        (12, 1.0, 1),
        (12, 1.0, 9),
        (12, 1.0, 200),
        (5, 1.0, 300),
        (5, 1.0, 5000),
        (6, 0.5, 40),
        (12, 0.01, 1),
    ] {
        let s = sketch_of_range(lg_k, p, 0..n);
        for c in [s.compact(true), s.compact(false)] {
            bases.push(c.serialize());
            bases.push(c.serialize_compressed());
        }
    }
    let partner = sketch_of_range(5, 1.0, 100..400).compact(true);
    let mut rng = SplitMix64(0x5eed);
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
                5 if len >= 2 => img[1] = rng.below(6) as u8,
                6 if len >= 1 => img[0] = rng.below(5) as u8,
                7 if len >= 6 => img[5] = rng.next() as u8,
                8 if len >= 5 => {
                    img[3] = rng.below(70) as u8;
                    img[4] = rng.below(6) as u8;
                }
                _ => {}
            }
        }
        // The union's image path reads as far as it needs: never a panic, and the same
        // union as the full read whenever that succeeds.
        let mut by_image = ThetaUnion::new(6, DEFAULT_SEED).unwrap();
        by_image.update(&partner).unwrap();
        let image_read = by_image.update_image(&img);
        match CompactTheta::deserialize(&img, DEFAULT_SEED) {
            Ok(c) => {
                ok += 1;
                exercise(&c, &partner);
                let mut u = ThetaUnion::new(6, DEFAULT_SEED).unwrap();
                u.update(&partner).unwrap();
                u.update(&c).unwrap();
                assert!(image_read.is_ok());
                assert_eq!(by_image.result(), u.result());
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
    // Both outcomes must be well represented, or the mutations are not testing much.
    println!("mutated images: {ok} read, {err} rejected");
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

/// Number of successes out of `trials` that a correct implementation reaches with
/// overwhelming probability: the normal approximation to Binomial(trials, p) minus 3.5
/// standard deviations (one-sided false-failure probability about 2.3e-4).
fn binomial_floor(trials: u32, p: f64) -> u32 {
    let mean = trials as f64 * p;
    let sd = (trials as f64 * p * (1.0 - p)).sqrt();
    (mean - 3.5 * sd).floor() as u32
}

#[test]
fn estimates_within_rse_at_stated_confidence() {
    // k = 4096: RSE = 1/sqrt(k) = 1.5625%. A sketch retains between k and 15/16 * 2k hashes,
    // so its error is at most that; |error| <= 1 RSE must hold in >= 68.27% of trials and
    // <= 2 RSE in >= 95.45%, and the 2-sd bounds must cover n as often.
    const TRIALS: u32 = 200;
    const N: u64 = 100_000;
    let rse = 1.0 / 4096f64.sqrt();
    let (mut within1, mut within2, mut covered2, mut trimmed_within1) = (0, 0, 0, 0);
    let mut sum_rel = 0.0;
    for trial in 0..TRIALS {
        // Different input values per trial (the hash seed stays 9001).
        let mut rng = SplitMix64(0xABCD_0000 + trial as u64);
        let mut s = UpdateTheta::with_defaults();
        for _ in 0..N {
            s.update_u64(rng.next());
        }
        let rel = s.estimate() / N as f64 - 1.0;
        sum_rel += rel;
        within1 += (rel.abs() <= rse) as u32;
        within2 += (rel.abs() <= 2.0 * rse) as u32;
        let (lb, ub) = (s.lower_bound(2).unwrap(), s.upper_bound(2).unwrap());
        covered2 += (lb <= N as f64 && N as f64 <= ub) as u32;
        s.trim();
        trimmed_within1 += ((s.estimate() / N as f64 - 1.0).abs() <= rse) as u32;
    }
    let floor1 = binomial_floor(TRIALS, 0.6827);
    let floor2 = binomial_floor(TRIALS, 0.9545);
    assert!(within1 >= floor1, "±1 RSE: {within1}/{TRIALS} < {floor1}");
    assert!(within2 >= floor2, "±2 RSE: {within2}/{TRIALS} < {floor2}");
    assert!(
        covered2 >= floor2,
        "2-sd bounds: {covered2}/{TRIALS} < {floor2}"
    );
    assert!(
        trimmed_within1 >= floor1,
        "trimmed: {trimmed_within1}/{TRIALS}"
    );
    // Unbiased: the mean relative error is within 3.5 standard errors of 0.
    let mean_rel = sum_rel / TRIALS as f64;
    assert!(
        mean_rel.abs() <= 3.5 * rse / (TRIALS as f64).sqrt(),
        "bias {mean_rel}"
    );
}

#[test]
fn union_and_intersection_estimates_within_rse() {
    // Two random sets of 60,000 with 20,000 in common: union 100,000, intersection 20,000.
    const TRIALS: u32 = 100;
    let rse = 1.0 / 4096f64.sqrt();
    let (mut union_within2, mut inter_within) = (0, 0);
    for trial in 0..TRIALS {
        let mut rng = SplitMix64(0x7777_0000 + trial as u64);
        let common: Vec<u64> = (0..20_000).map(|_| rng.next()).collect();
        let mut a = UpdateTheta::with_defaults();
        let mut b = UpdateTheta::with_defaults();
        for &v in &common {
            a.update_u64(v);
            b.update_u64(v);
        }
        for _ in 0..40_000 {
            a.update_u64(rng.next());
            b.update_u64(rng.next());
        }
        let (a, b) = (a.compact(true), b.compact(true));
        let mut u = ThetaUnion::new(12, DEFAULT_SEED).unwrap();
        u.update(&a).unwrap();
        u.update(&b).unwrap();
        let ur = u.result();
        union_within2 += ((ur.estimate() / 100_000.0 - 1.0).abs() <= 2.0 * rse) as u32;
        let mut i = ThetaIntersection::new(DEFAULT_SEED);
        i.update(&a).unwrap();
        i.update(&b).unwrap();
        let ir = i.result().unwrap();
        // The intersection's error is relative to the union: sd ~ sqrt(J(1-J)/k) * |union|.
        let j = 0.2;
        let sd = (j * (1.0 - j) / ir.num_retained().max(1) as f64 * j).sqrt() * 100_000.0;
        let sd = sd.max((j * (1.0 - j) / 4096.0).sqrt() * 100_000.0);
        inter_within += ((ir.estimate() - 20_000.0).abs() <= 2.0 * sd) as u32;
    }
    let floor2 = binomial_floor(TRIALS, 0.9545);
    assert!(union_within2 >= floor2, "union: {union_within2}/{TRIALS}");
    assert!(
        inter_within >= floor2,
        "intersection: {inter_within}/{TRIALS}"
    );
}

#[test]
fn bulk_updates_equal_sequential() {
    let mut rng = SplitMix64(99);
    for (lg_k, p, n) in [
        (12, 1.0, 0usize),
        (12, 1.0, 5),
        (12, 1.0, 100_000),
        (10, 0.3, 700_000),
        (5, 1.0, 300_000),
        (12, 1.0, 2_500_000),
        (16, 1.0, 400_000),
        (12, 0.001, 3_000),
    ] {
        let values: Vec<i64> = (0..n).map(|_| (rng.next() % 2_000_000) as i64).collect();
        let mut seq = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
        for &v in &values {
            seq.update_i64(v);
        }
        let mut bulk = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
        bulk.update_i64_bulk(&values);
        assert_eq!(bulk.is_empty(), seq.is_empty());
        assert_eq!(
            bulk.compact(true),
            seq.compact(true),
            "lg_k {lg_k} p {p} n {n}"
        );
        // Skipped items (None) do not count; the sketch is non-empty once one item is seen.
        let words: Vec<String> = values
            .iter()
            .map(|&v| {
                if v % 3 == 0 {
                    String::new()
                } else {
                    format!("w{v}")
                }
            })
            .collect();
        let mut seq = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
        words.iter().for_each(|w| seq.update_bytes(w.as_bytes()));
        let mut bulk = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
        let seed = bulk.seed();
        bulk.update_with(
            words.len(),
            |i| hash_bytes(words[i].as_bytes(), seed).map(|h| h.0),
            &mut |_, _| true,
        )
        .unwrap();
        assert_eq!(bulk.is_empty(), seq.is_empty());
        assert_eq!(bulk.compact(true), seq.compact(true));
    }
    let mut s = UpdateTheta::with_defaults();
    s.update_with(1000, |_| None, &mut |_, _| true).unwrap();
    assert!(s.is_empty());
}

#[test]
fn cancelled_bulk_update_leaves_a_prefix_of_whole_blocks() {
    let n = 2 * crate::bulk::BLOCK + 1000;
    let mut calls = Vec::new();
    let mut s = UpdateTheta::with_defaults();
    let seed = s.seed();
    let r = s.update_with(
        n,
        |i| Some(hash_i64(i as i64, seed).0),
        &mut |done, total| {
            calls.push((done, total));
            calls.len() < 2
        },
    );
    assert_eq!(r, Err(Error::Cancelled));
    let block = crate::bulk::BLOCK as u64;
    assert_eq!(calls, vec![(block, n as u64), (2 * block, n as u64)]);
    let prefix = sketch_of_range(12, 1.0, 0..2 * block as i64);
    assert_eq!(s.compact(true), prefix.compact(true));
}

#[test]
fn caller_screening_keeps_the_sketch_non_empty() {
    // Screening by the caller: everything dropped still makes the sketch non-empty.
    let mut s = UpdateTheta::new(12, 0.01, DEFAULT_SEED).unwrap();
    let h = hash_i64(1, DEFAULT_SEED).0;
    assert!(h >> 1 >= s.screening_threshold());
    s.mark_non_empty();
    assert_eq!(
        s.compact(true),
        sketch_of_range(12, 0.01, 1..2).compact(true)
    );
}

#[test]
fn compressed_images_are_read_only_up_to_the_union_theta() {
    // A union whose theta is already low reads only the first entries of a serial
    // version 4 image: garbage in the tail of its delta stream is not reached, while
    // the full reader (which checks every entry) rejects the image.
    let small = sketch_of_range(5, 1.0, 0..100_000).compact(true);
    let big = sketch_of_range(12, 1.0, 0..100_000).compact(true);
    let mut img = big.serialize_compressed();
    assert_eq!(img[1], 4);
    let n = img.len();
    img[n - 64..].fill(0xff);
    assert!(CompactTheta::deserialize(&img, DEFAULT_SEED).is_err());
    let mut by_image = ThetaUnion::new(5, DEFAULT_SEED).unwrap();
    by_image.update(&small).unwrap();
    by_image.update_image(&img).unwrap();
    let mut by_sketch = ThetaUnion::new(5, DEFAULT_SEED).unwrap();
    by_sketch.update(&small).unwrap();
    by_sketch.update(&big).unwrap();
    assert_eq!(by_image.result(), by_sketch.result());
    // Read in full when the union needs every entry: the garbage is then reported.
    let mut wide = ThetaUnion::new(14, DEFAULT_SEED).unwrap();
    assert!(matches!(
        wide.update_image(&img),
        Err(Error::CorruptData(_))
    ));
}

#[test]
fn a_union_by_default_keeps_the_precision_of_compact_inputs() {
    use super::{default_union_lg_k, UnionInputSize::*};
    assert_eq!(default_union_lg_k([]), 12);
    assert_eq!(default_union_lg_k([Update(9)]), 9);
    assert_eq!(default_union_lg_k([Compact(100)]), 12);
    assert_eq!(default_union_lg_k([Compact(65_536)]), 16);
    assert_eq!(default_union_lg_k([Compact(131_071), Update(9)]), 16);
    assert_eq!(default_union_lg_k([Compact(131_072), Update(9)]), 17);
    assert_eq!(default_union_lg_k([Compact(100), Update(9)]), 9);
    assert_eq!(default_union_lg_k([Compact(u32::MAX)]), 26);
    // A compact sketch of an lg_k 16 sketch in estimation mode keeps its 2^16 entries
    // through a union that names no size.
    let mut a = UpdateTheta::new(16, 1.0, DEFAULT_SEED).unwrap();
    for i in 0..300_000i64 {
        a.update_i64(i);
    }
    let c = a.compact(true);
    let lg = default_union_lg_k([Compact(c.num_retained())]);
    assert_eq!(lg, 16);
    let mut u = ThetaUnion::new(lg, DEFAULT_SEED).unwrap();
    u.update(&c).unwrap();
    assert_eq!(u.result().num_retained(), 1 << 16);
    let mut again = ThetaUnion::new(default_union_lg_k([Compact(1 << 16)]), DEFAULT_SEED).unwrap();
    again.update(&u.result()).unwrap();
    assert_eq!(again.result().num_retained(), 1 << 16);
}
