//! The updatable image (family 2): layout, round trips that keep updating identically,
//! datasketches-java's own images, and corrupt images.

use super::table::HashTable;
use super::tests::{sketch_of_range, SplitMix64};
use super::*;
use crate::hash::DEFAULT_SEED;
use crate::test_fixtures::fixtures_dir;
use crate::Error;

fn reread(s: &UpdateTheta) -> UpdateTheta {
    UpdateTheta::deserialize_updatable(&s.serialize_updatable(), s.seed()).unwrap()
}

fn corrupt_message(bytes: &[u8]) -> String {
    match UpdateTheta::deserialize_updatable(bytes, DEFAULT_SEED) {
        Err(Error::CorruptData(m)) => m,
        other => panic!("expected CorruptData, got {other:?}"),
    }
}

#[test]
fn preamble_is_java_update_sketch_layout() {
    let s = sketch_of_range(12, 1.0, 0..3);
    let img = s.serialize_updatable();
    // lg_k 12 with resize factor x8 starts at 2^7 slots (DataSketches' starting size).
    assert_eq!(img.len(), 24 + 8 * 128);
    assert_eq!(img[0], 3 | 3 << 6, "preamble longs 3, lg resize factor 3");
    assert_eq!(
        &img[1..6],
        &[3, 2, 12, 7, 0],
        "serial version, family, lgNom, lgArr, flags"
    );
    assert_eq!(u16::from_le_bytes([img[6], img[7]]), s.seed_hash());
    assert_eq!(u32::from_le_bytes(img[8..12].try_into().unwrap()), 3);
    assert_eq!(f32::from_le_bytes(img[12..16].try_into().unwrap()), 1.0);
    assert_eq!(
        u64::from_le_bytes(img[16..24].try_into().unwrap()),
        MAX_THETA
    );
    let slots: Vec<u64> = img[24..]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // Each entry in Java's first probe slot (no collisions among three in 128 slots).
    let mut expected: Vec<u64> = s.compact(true).entries().to_vec();
    for &h in &expected {
        assert_eq!(slots[(h & 127) as usize], h);
    }
    let mut live: Vec<u64> = slots.into_iter().filter(|&h| h != 0).collect();
    live.sort_unstable();
    expected.sort_unstable();
    assert_eq!(live, expected);

    let empty = UpdateTheta::with_defaults().serialize_updatable();
    assert_eq!(empty[5], 1 << 2, "empty flag");
    assert!(empty[24..].iter().all(|&b| b == 0));
}

#[test]
fn round_trips_keep_updating_identically() {
    for (lg_k, p, n) in [
        (12, 1.0, 0),
        (12, 1.0, 1),
        (12, 1.0, 100),
        (12, 1.0, 5000),
        (12, 1.0, 100_000),
        (5, 1.0, 31),
        (5, 1.0, 5000),
        (9, 0.25, 0),
        (9, 0.25, 3000),
        (14, 0.5, 40_000),
    ] {
        let mut s = sketch_of_range(lg_k, p, 0..n);
        let img = s.serialize_updatable();
        let mut r = UpdateTheta::deserialize_updatable(&img, DEFAULT_SEED).unwrap();
        assert_eq!(
            r.serialize_updatable(),
            img,
            "lg_k {lg_k} p {p} n {n}: exact round trip"
        );
        assert_eq!(r.compact(true), s.compact(true));
        assert_eq!(
            (r.p(), r.lg_k(), r.is_empty()),
            (s.p(), s.lg_k(), s.is_empty())
        );
        // Continuing on the copy equals continuing on the original: same table, same
        // resizes and rebuilds.
        for i in n..n + 3 * n + 50 {
            s.update_i64(i * 7 + 1);
            r.update_i64(i * 7 + 1);
        }
        assert_eq!(r.serialize_updatable(), s.serialize_updatable());
        assert_eq!(r.estimate(), s.estimate());
    }
}

#[test]
fn compact_readers_and_union_take_update_images() {
    let s = sketch_of_range(10, 1.0, 0..9000);
    let img = s.serialize_updatable();
    assert_eq!(
        CompactTheta::deserialize(&img, DEFAULT_SEED).unwrap(),
        s.compact(true)
    );
    let mut by_image = ThetaUnion::new(10, DEFAULT_SEED).unwrap();
    by_image.update_image(&img).unwrap();
    let mut by_sketch = ThetaUnion::new(10, DEFAULT_SEED).unwrap();
    by_sketch.update(&s.compact(true)).unwrap();
    assert_eq!(by_image.result(), by_sketch.result());
}

#[test]
fn empty_sampled_sketch_keeps_its_sampling() {
    let s = UpdateTheta::new(9, 0.25, DEFAULT_SEED).unwrap();
    let img = s.serialize_updatable();
    assert_eq!(
        u64::from_le_bytes(img[16..24].try_into().unwrap()),
        1 << 61,
        "the starting theta of p = 0.25"
    );
    // Java writes theta 1 for an empty sketch: read, it still samples at p.
    let mut java_style = img.clone();
    java_style[16..24].copy_from_slice(&MAX_THETA.to_le_bytes());
    for bytes in [&img, &java_style] {
        let mut r = UpdateTheta::deserialize_updatable(bytes, DEFAULT_SEED).unwrap();
        let mut fresh = UpdateTheta::new(9, 0.25, DEFAULT_SEED).unwrap();
        for i in 0..2000 {
            r.update_i64(i);
            fresh.update_i64(i);
        }
        assert_eq!(r.compact(true), fresh.compact(true));
        assert!(r.theta() <= 0.25);
    }
}

#[test]
fn resize_factors_java_may_write_still_grow() {
    // Resize factor x2 (lg 1) from lg_arr 5 to lg_k + 1 = 9, and x1 (lg 0), which
    // DataSketches reads as x2 unless the table is already full size.
    let s = sketch_of_range(8, 1.0, 0..10);
    let mut img = s.serialize_updatable();
    for lg_rf in [0u8, 1, 2] {
        img[0] = 3 | lg_rf << 6;
        let mut r = UpdateTheta::deserialize_updatable(&img, DEFAULT_SEED).unwrap();
        let mut reference = s.clone();
        for i in 10..3000 {
            r.update_i64(i);
            reference.update_i64(i);
        }
        assert_eq!(r.compact(true), reference.compact(true), "lg_rf {lg_rf}");
    }
}

#[test]
fn java_update_images_read_as_update_sketches() {
    // datasketches-java 6.2.0 (inside pyspark 4.3.0): UpdateSketch (lg_k 12, seed 9001)
    // fed the integers 0..N-1, then toByteArray() (tests/fixtures/java_update_theta).
    let dir = fixtures_dir().join("../java_update_theta");
    for n in [0i64, 1, 10, 100, 1000, 10_000, 100_000] {
        let path = dir.join(format!("update_theta_n{n}_java.sk"));
        let java = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let ours = sketch_of_range(12, 1.0, 0..n);
        let mut read = UpdateTheta::deserialize_updatable(&java, DEFAULT_SEED).unwrap();
        assert_eq!(read.compact(true), ours.compact(true), "n {n}");
        // Before the first rebuild the slots are the same, so the bytes are.
        if ours.theta64() == MAX_THETA {
            assert_eq!(
                ours.serialize_updatable(),
                java,
                "n {n}: byte-identical image"
            );
        }
        let mut continued = ours.clone();
        for i in n..n + 20_000 {
            read.update_i64(i);
            continued.update_i64(i);
        }
        assert_eq!(
            read.compact(true),
            continued.compact(true),
            "n {n} continued"
        );
    }
}

#[test]
fn corrupt_update_images_are_named() {
    let s = sketch_of_range(6, 1.0, 0..20);
    let good = s.serialize_updatable();
    let with = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    assert!(corrupt_message(&good[..20]).contains("at least 24 bytes"));
    assert!(corrupt_message(&good[..good.len() - 8]).contains("bytes"));
    assert!(corrupt_message(&with(0, &[2 | 3 << 6])).contains("preamble longs"));
    assert!(corrupt_message(&with(1, &[2])).contains("serial version"));
    assert!(corrupt_message(&with(3, &[4])).contains("lg_k 4"));
    assert!(corrupt_message(&with(4, &[4])).contains("2^4 slots"));
    assert!(corrupt_message(&with(4, &[9])).contains("2^9 slots"));
    assert!(corrupt_message(&with(5, &[1 << 3])).contains("compact"));
    assert!(corrupt_message(&with(5, &[1 << 2])).contains("empty sketch with"));
    assert!(corrupt_message(&with(8, &21u32.to_le_bytes())).contains("preamble counts 21"));
    assert!(corrupt_message(&with(8, &19u32.to_le_bytes())).contains("more entries"));
    assert!(corrupt_message(&with(8, &200u32.to_le_bytes())).contains("at most"));
    assert!(corrupt_message(&with(12, &f32::NAN.to_le_bytes())).contains("p = NaN"));
    assert!(corrupt_message(&with(12, &0.0f32.to_le_bytes())).contains("p = 0"));
    assert!(corrupt_message(&with(16, &0u64.to_le_bytes())).contains("theta 0"));
    let mut growing = sketch_of_range(12, 1.0, 0..20).serialize_updatable();
    growing[16..24].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(corrupt_message(&growing).contains("still growing"));
    match UpdateTheta::deserialize_updatable(&good, 1234) {
        Err(Error::Incompatible(m)) => assert!(m.contains("seed")),
        other => panic!("{other:?}"),
    }
    // An entry moved out of its probe sequence, and a duplicated one.
    let slots: Vec<u64> = good[24..]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let (at, h) = slots
        .iter()
        .copied()
        .enumerate()
        .find(|&(_, h)| h != 0)
        .unwrap();
    let home = HashTable::find(&slots, 6, h).0;
    assert_eq!(home, at);
    let empty_slot = (0..slots.len())
        .map(|i| (at + 1 + i) % slots.len())
        .find(|&i| slots[i] == 0)
        .unwrap();
    let mut moved = good.clone();
    moved[24 + 8 * at..32 + 8 * at].fill(0);
    moved[24 + 8 * empty_slot..32 + 8 * empty_slot].copy_from_slice(&h.to_le_bytes());
    let m = corrupt_message(&moved);
    assert!(m.contains("not where probing puts it"), "{m}");
    let mut duplicated = good.clone();
    duplicated[24 + 8 * empty_slot..32 + 8 * empty_slot].copy_from_slice(&h.to_le_bytes());
    duplicated[8..12].copy_from_slice(&21u32.to_le_bytes());
    assert!(corrupt_message(&duplicated).contains("duplicate"));
    // An entry at or above theta.
    let mut est = sketch_of_range(5, 1.0, 0..500).serialize_updatable();
    let theta = u64::from_le_bytes(est[16..24].try_into().unwrap());
    est[16..24].copy_from_slice(&(theta / 2).to_le_bytes());
    assert!(corrupt_message(&est).contains("not below theta"));
}

#[test]
fn mutated_update_images_never_panic() {
    let bases: Vec<Vec<u8>> = [
        (5, 1.0, 0),
        (5, 1.0, 1),
        (5, 1.0, 20),
        (5, 1.0, 300),
        (6, 0.5, 40),
        (6, 0.5, 0),
        (7, 1.0, 2000),
    ]
    .iter()
    .map(|&(lg_k, p, n)| sketch_of_range(lg_k, p, 0..n).serialize_updatable())
    .collect();
    let mut rng = SplitMix64(0xfa11);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..10_000 {
        let mut img = bases[rng.below(bases.len() as u64) as usize].clone();
        for _ in 0..1 + rng.below(3) {
            let len = img.len() as u64;
            match rng.below(8) {
                0 if len > 0 => {
                    let at = rng.below(len) as usize;
                    img[at] ^= 1 << rng.below(8);
                }
                1 if len >= 32 => {
                    // A slot overwritten: zeroed, or a copy of another slot, or random.
                    let slots = (len - 24) / 8;
                    let at = 24 + 8 * rng.below(slots) as usize;
                    let from = 24 + 8 * rng.below(slots) as usize;
                    let v = match rng.below(3) {
                        0 => 0,
                        1 => u64::from_le_bytes(img[from..from + 8].try_into().unwrap()),
                        _ => rng.next() >> rng.below(64),
                    };
                    img[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
                2 => img.truncate(rng.below(len + 1) as usize),
                3 => img[8..12].copy_from_slice(&(rng.below(70) as u32).to_le_bytes()),
                4 => img[0] = rng.next() as u8,
                5 => img[5] = rng.next() as u8,
                6 => {
                    img[3] = rng.below(30) as u8;
                    img[4] = rng.below(30) as u8;
                }
                7 => img[16..24].copy_from_slice(&(rng.next() >> rng.below(3)).to_le_bytes()),
                _ => {}
            }
            if img.len() < 24 {
                break;
            }
        }
        match UpdateTheta::deserialize_updatable(&img, DEFAULT_SEED) {
            Ok(mut s) => {
                ok += 1;
                // What was read behaves as a sketch: it round-trips, keeps updating, and
                // its compact form is a valid image.
                assert_eq!(reread(&s).serialize_updatable(), s.serialize_updatable());
                for i in 0..300 {
                    s.update_i64(i);
                }
                let c = s.compact(true);
                assert_eq!(
                    CompactTheta::deserialize(&c.serialize(), DEFAULT_SEED).unwrap(),
                    c
                );
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
    println!("mutated update images: {ok} read, {err} rejected");
    // An updatable image has little slack: most changes break a checked invariant (the
    // count, theta, a probe sequence), so fewer mutations read than for compact images.
    assert!(ok > 300 && err > 1000, "ok {ok}, err {err}");
}
