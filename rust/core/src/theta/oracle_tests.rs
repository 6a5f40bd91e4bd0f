//! Byte and value identity with datasketches-python 5.2.0 (the oracle).
//!
//! `oracle_data.rs` holds the expected images (sha256 + length, full hex for small ones),
//! estimates, bounds and first/last entries, produced by the Python script quoted at its
//! top. Every float is compared exactly: the formulas are the same and so is libm.

use super::*;
use crate::hash::DEFAULT_SEED;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Int,
    Float,
    Str,
}

#[derive(Debug)]
struct Expect {
    empty: bool,
    theta64: u64,
    num_retained: u32,
    estimate: f64,
    lb: [f64; 3],
    ub: [f64; 3],
    first: u64,
    last: u64,
    v3_len: usize,
    v3_sha: &'static str,
    v4_len: usize,
    v4_sha: &'static str,
    v3_hex: &'static str,
}

#[derive(Debug)]
struct UpdateCase {
    lg_k: u8,
    p: f32,
    kind: Kind,
    start: i64,
    end: i64,
    trim: bool,
    expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    AnotB,
}

#[derive(Debug)]
struct SetOp {
    op: Op,
    lg_k: u8,
    p: f32,
    inputs: &'static [&'static str],
    expect: Expect,
}

include!("oracle_data.rs");

/// Minimal SHA-256 (FIPS 180-4), test-only, to compare whole images compactly.
pub(super) fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn build(lg_k: u8, p: f32, kind: Kind, start: i64, end: i64, trim: bool) -> UpdateTheta {
    let mut s = UpdateTheta::new(lg_k, p, DEFAULT_SEED).unwrap();
    for i in start..end {
        match kind {
            Kind::Int => s.update_i64(i),
            Kind::Float => s.update_f64(i as f64 * 0.5),
            Kind::Str => {
                s.update_bytes(i.to_string().as_bytes());
                s.update_bytes(b"");
            }
        }
    }
    if trim {
        s.trim();
    }
    s
}

fn check(what: &str, c: &CompactTheta, e: &Expect) {
    assert_eq!(c.is_empty(), e.empty, "{what}: empty");
    assert_eq!(c.theta64(), e.theta64, "{what}: theta64");
    assert_eq!(c.num_retained(), e.num_retained, "{what}: num_retained");
    assert_eq!(c.estimate(), e.estimate, "{what}: estimate");
    for k in 0..3 {
        assert_eq!(
            c.lower_bound(k as u8 + 1).unwrap(),
            e.lb[k],
            "{what}: lb({})",
            k + 1
        );
        assert_eq!(
            c.upper_bound(k as u8 + 1).unwrap(),
            e.ub[k],
            "{what}: ub({})",
            k + 1
        );
    }
    let sorted = c.sorted_entries();
    assert_eq!(
        sorted.first().copied().unwrap_or(0),
        e.first,
        "{what}: first"
    );
    assert_eq!(sorted.last().copied().unwrap_or(0), e.last, "{what}: last");
    let v3 = c.serialize();
    if !e.v3_hex.is_empty() {
        assert_eq!(hex(&v3), e.v3_hex, "{what}: v3 bytes");
    }
    assert_eq!(v3.len(), e.v3_len, "{what}: v3 length");
    assert_eq!(sha256_hex(&v3), e.v3_sha, "{what}: v3 sha256");
    let v4 = c.serialize_compressed();
    assert_eq!(v4.len(), e.v4_len, "{what}: v4 length");
    assert_eq!(sha256_hex(&v4), e.v4_sha, "{what}: v4 sha256");
    // Both images read back to the same sketch (an empty image carries no theta: an empty
    // union with p < 1 keeps theta = p in memory, as DataSketches does, and reads back as 1).
    for img in [&v3, &v4] {
        let back = CompactTheta::deserialize(img, DEFAULT_SEED).unwrap();
        if c.is_empty() {
            assert!(
                back.is_empty() && back.num_retained() == 0,
                "{what}: round trip"
            );
            assert_eq!(back.theta64(), MAX_THETA, "{what}: round trip");
        } else {
            assert_eq!(&back, c, "{what}: round trip");
        }
    }
}

#[test]
fn sha256_known_vectors() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let long = vec![b'a'; 1000];
    assert_eq!(
        sha256_hex(&long),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
    );
}

#[test]
fn update_sketches_equal_datasketches_python() {
    assert!(UPDATE_CASES.len() >= 30);
    for case in UPDATE_CASES {
        let what = format!(
            "lg_k {} p {} {:?} {}..{} trim {}",
            case.lg_k, case.p, case.kind, case.start, case.end, case.trim
        );
        let s = build(
            case.lg_k, case.p, case.kind, case.start, case.end, case.trim,
        );
        // The update sketch answers as its compact form.
        assert_eq!(
            s.estimate(),
            case.expect.estimate,
            "{what}: update estimate"
        );
        assert_eq!(s.theta64(), case.expect.theta64, "{what}: update theta64");
        assert_eq!(s.num_retained(), case.expect.num_retained, "{what}");
        for k in 1..=3u8 {
            assert_eq!(
                s.lower_bound(k).unwrap(),
                case.expect.lb[k as usize - 1],
                "{what}"
            );
            assert_eq!(
                s.upper_bound(k).unwrap(),
                case.expect.ub[k as usize - 1],
                "{what}"
            );
        }
        check(&what, &s.compact(true), &case.expect);
        // Unordered compaction: same sketch, sorted on demand.
        let unordered = s.compact(false);
        assert_eq!(unordered.to_ordered(), s.compact(true), "{what}");
    }
}

#[test]
fn update_hashes_equals_item_updates() {
    for case in UPDATE_CASES
        .iter()
        .filter(|c| matches!(c.kind, Kind::Int) && !c.trim)
    {
        let mut s = UpdateTheta::new(case.lg_k, case.p, DEFAULT_SEED).unwrap();
        let h1s: Vec<u64> = (case.start..case.end)
            .map(|i| crate::hash::hash_i64(i, DEFAULT_SEED).0)
            .collect();
        // In uneven chunks, as a parallel caller would deliver them.
        for chunk in h1s.chunks(777) {
            s.update_hashes(chunk);
        }
        check("update_hashes", &s.compact(true), &case.expect);
        let mut t = UpdateTheta::new(case.lg_k, case.p, DEFAULT_SEED).unwrap();
        let values: Vec<i64> = (case.start..case.end).collect();
        t.update_i64_slice(&values);
        check("update_i64_slice", &t.compact(true), &case.expect);
    }
}

fn sketches() -> std::collections::HashMap<&'static str, CompactTheta> {
    SKETCHES
        .iter()
        .map(|&(name, lg_k, p, a, b)| (name, build(lg_k, p, Kind::Int, a, b, false).compact(true)))
        .collect()
}

#[test]
fn set_operations_equal_datasketches_python() {
    let sk = sketches();
    assert!(SET_OPS.len() >= 40);
    for op in SET_OPS {
        let what = format!("{:?} {:?} lg_k {} p {}", op.op, op.inputs, op.lg_k, op.p);
        let result = match op.op {
            Op::Union => {
                let mut u = ThetaUnion::with_p(op.lg_k, op.p, DEFAULT_SEED).unwrap();
                for name in op.inputs {
                    u.update(&sk[name]).unwrap();
                }
                u.result()
            }
            Op::Inter => {
                let mut i = ThetaIntersection::new(DEFAULT_SEED);
                for name in op.inputs {
                    i.update(&sk[name]).unwrap();
                }
                i.result().unwrap()
            }
            Op::AnotB => a_not_b(&sk[op.inputs[0]], &sk[op.inputs[1]], DEFAULT_SEED).unwrap(),
        };
        check(&what, &result, &op.expect);
        // Set operations accept unordered inputs with the same result (except a union,
        // whose rebuild points depend on arrival order once it overflows).
        if op.op != Op::Union {
            let unordered: Vec<CompactTheta> = op
                .inputs
                .iter()
                .map(|name| {
                    let mut c = sk[name].clone();
                    c.entries.reverse();
                    c.ordered = c.entries.len() <= 1;
                    c
                })
                .collect();
            let again = match op.op {
                Op::Inter => {
                    let mut i = ThetaIntersection::new(DEFAULT_SEED);
                    for c in &unordered {
                        i.update(c).unwrap();
                    }
                    i.result().unwrap()
                }
                _ => a_not_b(&unordered[0], &unordered[1], DEFAULT_SEED).unwrap(),
            };
            assert_eq!(again, result, "{what}: unordered inputs");
        }
    }
}

#[test]
fn jaccard_equals_datasketches_python() {
    let sk = sketches();
    for &(a, b, expected) in JACCARD {
        let (lo, est, hi) = jaccard(&sk[a], &sk[b], DEFAULT_SEED).unwrap();
        assert_eq!([lo, est, hi], expected, "jaccard({a}, {b})");
    }
    // The same object: identical.
    let a = &sk["A10big"];
    assert_eq!(jaccard(a, a, DEFAULT_SEED).unwrap(), (1.0, 1.0, 1.0));
}

#[test]
fn bounds_equal_datasketches_python_on_every_branch() {
    // Mirrors the grid at the end of the Python script: entries 1..=n under a chosen theta.
    let mut bytes = Vec::new();
    let mut count = 0;
    for n in 0u64..126 {
        for t in [
            n as f64 / 720.0,
            n as f64 / 300.0,
            0.3,
            1e-3,
            0.999999,
            0.99999,
            0.75,
            1e-7,
        ] {
            if !(t > 0.0 && t < 1.0) {
                continue;
            }
            // Python: int(t * (2**63 - 1)), the product in double precision.
            let theta = (t * MAX_THETA as f64) as u64;
            if theta <= n {
                continue;
            }
            let c = CompactTheta::from_parts(false, true, 0x93cc, theta, (1..=n).collect());
            for k in 1..=3 {
                bytes.extend_from_slice(&c.lower_bound(k).unwrap().to_le_bytes());
                bytes.extend_from_slice(&c.upper_bound(k).unwrap().to_le_bytes());
            }
            count += 1;
        }
    }
    assert_eq!(count, 1006);
    assert_eq!(sha256_hex(&bytes), BOUNDS_GRID_SHA);
}
