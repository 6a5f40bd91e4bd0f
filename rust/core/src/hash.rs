//! Item hashing shared by every hash-based sketch (HLL, Theta, ...).
//!
//! Apache DataSketches hashes an item with MurmurHash3_x64_128 (default seed
//! 9001) over a canonical byte form; sketches built here must hash exactly as
//! it does, or their images would not merge with Spark's, Druid's or
//! datasketches-python's. The canonical forms:
//!
//! * integers: the value as 8 little-endian bytes of an `i64` (unsigned values
//!   at or above 2^63 use their `u64` bit pattern, the same 8 bytes);
//! * floats: the value as an `f64`, with -0.0 folded into 0.0 and every NaN
//!   into the one quiet NaN `0x7ff8000000000000`;
//! * strings and byte strings: their raw (UTF-8) bytes; empty ones are not
//!   items at all and are skipped by the callers.
//!
//! We keep our own MurmurHash3 rather than a crate: the hot path hashes one
//! 8-byte key, and the specialised form below is several times faster than
//! the streaming implementations on crates.io.

pub const DEFAULT_SEED: u64 = 9001;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

#[inline(always)]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[inline(always)]
fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

#[inline(always)]
fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

#[inline(always)]
fn finish(mut h1: u64, mut h2: u64, len: u64) -> (u64, u64) {
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// The 1..=8 bytes of `s` as a little-endian integer, missing high bytes zero. Two
/// overlapping loads instead of a byte loop or a memcpy: short strings are the norm.
#[inline(always)]
fn read_le_upto8(s: &[u8]) -> u64 {
    let n = s.len();
    if n >= 4 {
        let lo = u32::from_le_bytes(s[..4].try_into().unwrap()) as u64;
        let hi = u32::from_le_bytes(s[n - 4..].try_into().unwrap()) as u64;
        lo | (hi << (8 * (n - 4)))
    } else if n >= 2 {
        let lo = u16::from_le_bytes(s[..2].try_into().unwrap()) as u64;
        let hi = u16::from_le_bytes(s[n - 2..].try_into().unwrap()) as u64;
        lo | (hi << (8 * (n - 2)))
    } else {
        s.first().map_or(0, |&b| b as u64)
    }
}

/// MurmurHash3_x64_128 of `data`; returns the two 64-bit halves `(h1, h2)`.
pub fn murmur3_x64_128(data: &[u8], seed: u64) -> (u64, u64) {
    let mut h1 = seed;
    let mut h2 = seed;
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let k1 = u64::from_le_bytes(block[0..8].try_into().unwrap());
        let k2 = u64::from_le_bytes(block[8..16].try_into().unwrap());
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    if tail.len() > 8 {
        h2 ^= mix_k2(read_le_upto8(&tail[8..]));
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(read_le_upto8(&tail[..tail.len().min(8)]));
    }
    finish(h1, h2, data.len() as u64)
}

/// MurmurHash3_x64_128 of exactly 8 bytes (`key.to_le_bytes()`), unrolled.
#[inline(always)]
pub fn murmur3_u64(key: u64, seed: u64) -> (u64, u64) {
    let h1 = seed ^ mix_k1(key);
    finish(h1, seed, 8)
}

/// The part of [`murmur3_u64`] that does not depend on the seed: hashing one key with
/// several seeds (Count-Min's rows) mixes it once.
#[inline(always)]
pub fn premix_u64(key: u64) -> u64 {
    mix_k1(key)
}

/// [`murmur3_u64`] of the key whose [`premix_u64`] is `premixed`.
#[inline(always)]
pub fn murmur3_u64_premixed(premixed: u64, seed: u64) -> (u64, u64) {
    finish(seed ^ premixed, seed, 8)
}

/// Hash of an integer item.
#[inline(always)]
pub fn hash_i64(v: i64, seed: u64) -> (u64, u64) {
    murmur3_u64(v as u64, seed)
}

/// The canonical bit pattern DataSketches hashes for a double.
#[inline(always)]
pub fn canonical_f64_bits(v: f64) -> u64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

/// Hash of a floating-point item (NaN and -0.0 canonicalised).
#[inline(always)]
pub fn hash_f64(v: f64, seed: u64) -> (u64, u64) {
    murmur3_u64(canonical_f64_bits(v), seed)
}

/// Hash of a string or byte-string item; `None` for an empty one, which is not an item.
#[inline(always)]
pub fn hash_bytes(v: &[u8], seed: u64) -> Option<(u64, u64)> {
    if v.is_empty() {
        None
    } else {
        Some(murmur3_x64_128(v, seed))
    }
}

/// Seed hash stored in Theta images: the low 16 bits of the seed's own hash with seed 0.
pub fn seed_hash(seed: u64) -> u16 {
    (murmur3_x64_128(&seed.to_le_bytes(), 0).0 & 0xffff) as u16
}

/// [`seed_hash`] of a seed a new sketch may use: DataSketches reserves seed hash 0 and
/// reads no image that carries it (Java: "The given seed ... produced a seedHash of
/// zero"), so such a seed (1 in 65,536) is an error here too.
pub fn checked_seed_hash(seed: u64) -> crate::error::Result<u16> {
    match seed_hash(seed) {
        0 => Err(crate::error::Error::InvalidArgument(format!(
            "seed {seed} has a seed hash of 0, which DataSketches reserves; pick another seed"
        ))),
        sh => Ok(sh),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrolled_u64_equals_generic() {
        for v in [0u64, 1, 42, u64::MAX, 0x8000_0000_0000_0000, 123_456_789] {
            assert_eq!(
                murmur3_u64(v, DEFAULT_SEED),
                murmur3_x64_128(&v.to_le_bytes(), DEFAULT_SEED)
            );
        }
    }

    #[test]
    fn premixed_equals_unrolled() {
        for v in [0u64, 1, 42, u64::MAX, 0x8000_0000_0000_0000, 123_456_789] {
            for seed in [0, DEFAULT_SEED, u64::MAX, 0x1234_5678_9abc_def0] {
                assert_eq!(
                    murmur3_u64_premixed(premix_u64(v), seed),
                    murmur3_u64(v, seed)
                );
            }
        }
    }

    #[test]
    fn known_vectors() {
        // Reference values of MurmurHash3_x64_128 (seed 0) from the algorithm's published
        // test strings.
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        assert_eq!(
            murmur3_x64_128(b"hello", 0),
            (0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19)
        );
        assert_eq!(
            murmur3_x64_128(b"The quick brown fox jumps over the lazy dog", 0),
            (0xe34b_bc7b_bc07_1b6c, 0x7a43_3ca9_c49a_9347)
        );
    }

    #[test]
    fn every_tail_length_equals_the_bytewise_definition() {
        let data: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect();
        for len in 0..data.len() {
            let s = &data[..len];
            // reference: the tail assembled byte by byte, as the algorithm defines it
            let (mut h1, mut h2) = (9001u64, 9001u64);
            let mut blocks = s.chunks_exact(16);
            for b in &mut blocks {
                h1 ^= mix_k1(u64::from_le_bytes(b[..8].try_into().unwrap()));
                h1 = h1
                    .rotate_left(27)
                    .wrapping_add(h2)
                    .wrapping_mul(5)
                    .wrapping_add(0x52dc_e729);
                h2 ^= mix_k2(u64::from_le_bytes(b[8..].try_into().unwrap()));
                h2 = h2
                    .rotate_left(31)
                    .wrapping_add(h1)
                    .wrapping_mul(5)
                    .wrapping_add(0x3849_5ab5);
            }
            let tail = blocks.remainder();
            let word = |bytes: &[u8]| bytes.iter().rev().fold(0u64, |w, &b| (w << 8) | b as u64);
            if tail.len() > 8 {
                h2 ^= mix_k2(word(&tail[8..]));
            }
            if !tail.is_empty() {
                h1 ^= mix_k1(word(&tail[..tail.len().min(8)]));
            }
            assert_eq!(
                murmur3_x64_128(s, 9001),
                finish(h1, h2, len as u64),
                "length {len}"
            );
        }
    }

    #[test]
    fn float_canonical_forms() {
        assert_eq!(hash_f64(-0.0, 9001), hash_f64(0.0, 9001));
        assert_eq!(hash_f64(f64::NAN, 9001), hash_f64(-f64::NAN, 9001));
        assert_eq!(hash_bytes(b"", 9001), None);
    }
}
