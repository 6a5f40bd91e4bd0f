//! The item kinds of a frequent-items sketch: how each is compared, where it goes
//! in the hash map, and how it is written in an image.
//!
//! Positions follow datasketches-java, so that a sketch fed the same stream keeps its
//! items in the same slots and writes them in the same order: the slot of an item is
//! the low bits of MurmurHash3's 64-bit finaliser (`fmix64`) applied to
//!
//! * a long: the value itself (`FrequentLongsSketch`), or, for a [`JavaLong`], Java's
//!   `Long.hashCode()` (the two halves xor-ed, as a signed 32-bit integer widened to 64
//!   bits), as the generic `ItemsSketch<Long>` does: the sketch Spark SQL's
//!   `approx_top_k` keeps for `bigint` columns. Both write the same image; the order of
//!   the hash map differs, and with it the order of items in an image, which of several
//!   items of equal count are listed first, and the sample a purge takes its median
//!   from (so counts after a purge).
//! * a string: Java's `String.hashCode()` (over UTF-16 code units, as a signed 32-bit
//!   integer widened to 64 bits), as `FrequentItemsSketch<String>` does;
//! * a double: Java's `Double.hashCode()` of the canonical value, likewise.
//!
//! The serialised forms are DataSketches' serdes: `ArrayOfLongsSerDe` (8 bytes
//! little-endian), `ArrayOfStringsSerDe` (u32 little-endian byte length, then UTF-8) and
//! `ArrayOfDoublesSerDe` (the IEEE-754 bits, 8 bytes little-endian), the serde Spark's
//! `approx_top_k` uses for each column type.

use crate::error::{corrupt, Result};
use crate::hash::canonical_f64_bits;
use serde_json::Value;
use std::fmt::Debug;

/// An item type a [`super::FrequentItems`] sketch can hold.
pub trait FrequentItem: Clone + Default + Debug + Send + Sync + 'static {
    /// The borrowed form updates and queries take (`i64`, `&str`, `f64`).
    type Ref<'a>: Copy + Send + Sync;
    /// The name of the item type in summaries (`"int64"`, `"str"`, `"float64"`).
    const TYPE_NAME: &'static str;

    fn as_item_ref(&self) -> Self::Ref<'_>;
    /// The owned item a borrowed one is stored as (doubles canonicalised).
    fn to_item(r: Self::Ref<'_>) -> Self;
    /// Whether `self` is the item `r`.
    fn is(&self, r: Self::Ref<'_>) -> bool;
    /// The 64-bit key whose `fmix64` places the item (Java's hash input).
    fn java_hash_input(r: Self::Ref<'_>) -> u64;
    /// Bytes this item takes in an image.
    fn encoded_len(&self) -> usize;
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one item from the start of `bytes`; returns it and the bytes it took.
    fn decode(bytes: &[u8]) -> Result<(Self, usize)>;
    fn to_json(&self) -> Value;
    /// Whether the item is stored as it reads (false for -0.0 and non-canonical NaNs).
    fn is_canonical(&self) -> bool {
        true
    }

    /// Whether two borrowed items are the same item (doubles compared canonically).
    fn same(a: Self::Ref<'_>, b: Self::Ref<'_>) -> bool;
    /// The hash of the combining bulk path's tables (see
    /// [`super::FrequentItems::update_many_combined`]), keyed by `key`, a random value
    /// per bulk call, so that no input can be crafted to collide in them.
    fn tally_hash(r: Self::Ref<'_>, key: &TallyKey) -> u64;
    /// Whether [`Self::tally_hash`] is injective (equal hashes imply equal items), so
    /// that tables compare hashes only.
    const TALLY_HASH_INJECTIVE: bool;
    /// Where the tally hash is not injective: a short summary of the item, equal for equal
    /// items, that tells items of at most [`SHORT_KEY_BYTES`] bytes apart, so that the
    /// bulk path's index compares a key without reading it (see [`super::map::KeyView`]).
    fn short_key(_r: Self::Ref<'_>) -> ShortKey {
        ShortKey::default()
    }
    /// Whether [`Self::short_key`] of this item tells it apart from every other item.
    fn short_key_decides(_r: Self::Ref<'_>) -> bool {
        true
    }
}

/// Items of at most this many bytes are told apart by their [`ShortKey`].
pub const SHORT_KEY_BYTES: usize = 16;

/// The length of a byte string and two words of its bytes (see
/// [`FrequentItem::short_key`]). From 4 to 16 bytes: four 4-byte words, at 0, `s`, `2s`
/// and `len - 4` (`s = ceil((len - 4) / 3)`, the middle two at most `len - 4`), which
/// overlap and so hold every byte, read the same way for every such length (a test per
/// length class mispredicted for half the items of a column whose lengths straddle
/// one). Below 4 bytes: its first, middle and last byte (every byte). Above 16: its first
/// and last 8 bytes (which do not decide).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShortKey {
    len: u64,
    head: u64,
    tail: u64,
}

/// Bitwise, without a branch per field (a lookup compares a miss's entry too, and
/// keeps the outcome only for a hit).
impl PartialEq for ShortKey {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        (self.len ^ other.len) | (self.head ^ other.head) | (self.tail ^ other.tail) == 0
    }
}

impl Eq for ShortKey {}

impl ShortKey {
    #[inline(always)]
    pub fn of(b: &[u8]) -> Self {
        let n = b.len();
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        let u32_at = |at: usize| {
            u64::from(u32::from_le_bytes(
                b[at..at + 4].try_into().expect("4 bytes"),
            ))
        };
        let (head, tail) = if (4..=SHORT_KEY_BYTES).contains(&n) {
            let (last, s) = (n - 4, (n - 2) / 3);
            (
                u32_at(0) | u32_at(s.min(last)) << 32,
                u32_at((2 * s).min(last)) | u32_at(last) << 32,
            )
        } else if n > SHORT_KEY_BYTES {
            (u64_at(0), u64_at(n - 8))
        } else if n > 0 {
            let byte = |at: usize| u64::from(b[at]);
            (byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16, 0)
        } else {
            (0, 0)
        };
        ShortKey {
            len: n as u64,
            head,
            tail,
        }
    }
}

/// The random key of one bulk call's pre-aggregation hashes: a 64-bit value for the
/// bijective mix of 64-bit items, and a randomly seeded foldhash state for strings.
///
/// foldhash (the default hasher of hashbrown) rather than the standard library's
/// SipHash: a string's tally hash was a third of the cost of counting it, and these
/// hashes only spread items over a table (a collision costs a comparison, never a
/// wrong count), so the per-call random seed is all the protection they need.
///
/// Strings of at most [`SHORT_KEY_BYTES`] bytes (most of a column's, as a rule) are
/// hashed from their [`ShortKey`] instead, with no branch on their length: lengths that
/// straddle 8 bytes (`"user-7"`, `"user-1234"`) made the length tests of a general
/// string hash mispredict for half the items.
pub struct TallyKey {
    pub(crate) mix: u64,
    pub(crate) strings: foldhash::quality::RandomState,
    short: [u64; 3],
}

impl TallyKey {
    pub(crate) fn random() -> Self {
        use std::hash::BuildHasher;
        let strings = foldhash::quality::RandomState::default();
        Self {
            mix: strings.hash_one(0x5eed_u64),
            short: [1u64, 2, 3].map(|k| strings.hash_one(k)),
            strings,
        }
    }

    /// The tally hash of a string of at most [`SHORT_KEY_BYTES`] bytes, from its short key.
    #[inline(always)]
    fn short_hash(&self, k: ShortKey) -> u64 {
        // The high and low halves of a full product, folded: every input bit moves
        // every output bit (foldhash's mix).
        let fold = |a: u64, b: u64| {
            let p = u128::from(a) * u128::from(b);
            (p as u64) ^ (p >> 64) as u64
        };
        fold(
            fold(k.head ^ self.short[0], k.tail ^ self.short[1]) ^ k.len,
            self.short[2],
        )
    }
}

/// A keyed bijection of 64-bit values: xor with the key, then MurmurHash3's finaliser
/// (itself a bijection), whose low bits index a table well.
#[inline(always)]
fn keyed_mix(v: u64, key: &TallyKey) -> u64 {
    super::map::fmix64(v ^ key.mix)
}

fn read_u64(bytes: &[u8], what: &str) -> Result<u64> {
    match bytes.get(..8) {
        Some(b) => Ok(u64::from_le_bytes(b.try_into().expect("8 bytes"))),
        None => corrupt(format!(
            "frequent items image truncated inside a {what} item"
        )),
    }
}

impl FrequentItem for i64 {
    type Ref<'a> = i64;
    const TYPE_NAME: &'static str = "int64";

    #[inline(always)]
    fn as_item_ref(&self) -> i64 {
        *self
    }
    #[inline(always)]
    fn to_item(r: i64) -> i64 {
        r
    }
    #[inline(always)]
    fn is(&self, r: i64) -> bool {
        *self == r
    }
    #[inline(always)]
    fn java_hash_input(r: i64) -> u64 {
        r as u64
    }
    #[inline(always)]
    fn same(a: i64, b: i64) -> bool {
        a == b
    }
    #[inline(always)]
    fn tally_hash(r: i64, key: &TallyKey) -> u64 {
        keyed_mix(r as u64, key)
    }
    const TALLY_HASH_INJECTIVE: bool = true;
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<(i64, usize)> {
        Ok((read_u64(bytes, "long")? as i64, 8))
    }
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

/// An int64 item placed as Java's generic `ItemsSketch<Long>` places it, by
/// `Long.hashCode()`: the sketch of Spark SQL's `approx_top_k` over `bigint` columns.
/// Its images are those of `i64` (`ArrayOfLongsSerDe`); only the map order differs.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct JavaLong(pub i64);

impl FrequentItem for JavaLong {
    type Ref<'a> = i64;
    const TYPE_NAME: &'static str = "int64";

    #[inline(always)]
    fn as_item_ref(&self) -> i64 {
        self.0
    }
    #[inline(always)]
    fn to_item(r: i64) -> JavaLong {
        JavaLong(r)
    }
    #[inline(always)]
    fn is(&self, r: i64) -> bool {
        self.0 == r
    }
    /// `Long.hashCode()`: `(int) (v ^ (v >>> 32))`, widened with its sign.
    #[inline(always)]
    fn java_hash_input(r: i64) -> u64 {
        let v = r as u64;
        ((v ^ (v >> 32)) as u32 as i32) as i64 as u64
    }
    // Everything but the slot is the long's.
    #[inline(always)]
    fn same(a: i64, b: i64) -> bool {
        i64::same(a, b)
    }
    #[inline(always)]
    fn tally_hash(r: i64, key: &TallyKey) -> u64 {
        i64::tally_hash(r, key)
    }
    const TALLY_HASH_INJECTIVE: bool = i64::TALLY_HASH_INJECTIVE;
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out)
    }
    fn decode(bytes: &[u8]) -> Result<(JavaLong, usize)> {
        i64::decode(bytes).map(|(v, n)| (JavaLong(v), n))
    }
    fn to_json(&self) -> Value {
        self.0.to_json()
    }
}

/// Java's `String.hashCode()`: `h = 31 h + c` over the UTF-16 code units, wrapping at 32
/// bits. ASCII strings (the common case) skip the UTF-16 transcoding.
#[inline]
pub(crate) fn java_string_hash(s: &str) -> i32 {
    let mut h: i32 = 0;
    if s.is_ascii() {
        for &b in s.as_bytes() {
            h = h.wrapping_mul(31).wrapping_add(b as i32);
        }
    } else {
        for u in s.encode_utf16() {
            h = h.wrapping_mul(31).wrapping_add(u as i32);
        }
    }
    h
}

impl FrequentItem for String {
    type Ref<'a> = &'a str;
    const TYPE_NAME: &'static str = "str";

    #[inline(always)]
    fn as_item_ref(&self) -> &str {
        self
    }
    #[inline(always)]
    fn to_item(r: &str) -> String {
        r.to_owned()
    }
    #[inline(always)]
    fn is(&self, r: &str) -> bool {
        self.as_str() == r
    }
    #[inline(always)]
    fn java_hash_input(r: &str) -> u64 {
        java_string_hash(r) as i64 as u64
    }
    #[inline(always)]
    fn same(a: &str, b: &str) -> bool {
        a == b
    }
    #[inline(always)]
    fn tally_hash(r: &str, key: &TallyKey) -> u64 {
        use std::hash::BuildHasher;
        if r.len() <= SHORT_KEY_BYTES {
            key.short_hash(ShortKey::of(r.as_bytes()))
        } else {
            key.strings.hash_one(r.as_bytes())
        }
    }
    const TALLY_HASH_INJECTIVE: bool = false;
    #[inline(always)]
    fn short_key(r: &str) -> ShortKey {
        ShortKey::of(r.as_bytes())
    }
    #[inline(always)]
    fn short_key_decides(r: &str) -> bool {
        r.len() <= SHORT_KEY_BYTES
    }
    fn encoded_len(&self) -> usize {
        4 + self.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(bytes: &[u8]) -> Result<(String, usize)> {
        let Some(len) = bytes.get(..4) else {
            return corrupt("frequent items image truncated inside a string length");
        };
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let Some(body) = bytes.get(4..4 + len) else {
            return corrupt(format!(
                "frequent items image truncated: a string item of {len} bytes has only {} left",
                bytes.len() - 4
            ));
        };
        match std::str::from_utf8(body) {
            Ok(s) => Ok((s.to_owned(), 4 + len)),
            Err(e) => corrupt(format!("a string item is not valid UTF-8: {e}")),
        }
    }
    fn to_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

/// Doubles are one item per value: -0.0 counts as 0.0 and every NaN as the one NaN
/// (the canonical forms of [`crate::hash`]), so images hold only canonical values.
impl FrequentItem for f64 {
    type Ref<'a> = f64;
    const TYPE_NAME: &'static str = "float64";

    #[inline(always)]
    fn as_item_ref(&self) -> f64 {
        *self
    }
    #[inline(always)]
    fn to_item(r: f64) -> f64 {
        f64::from_bits(canonical_f64_bits(r))
    }
    #[inline(always)]
    fn is(&self, r: f64) -> bool {
        canonical_f64_bits(*self) == canonical_f64_bits(r)
    }
    /// Java's `Double.hashCode()`: the two halves of `doubleToLongBits` xor-ed, as an int.
    #[inline(always)]
    fn java_hash_input(r: f64) -> u64 {
        let bits = canonical_f64_bits(r);
        ((bits ^ (bits >> 32)) as u32 as i32) as i64 as u64
    }
    #[inline(always)]
    fn same(a: f64, b: f64) -> bool {
        canonical_f64_bits(a) == canonical_f64_bits(b)
    }
    #[inline(always)]
    fn tally_hash(r: f64, key: &TallyKey) -> u64 {
        keyed_mix(canonical_f64_bits(r), key)
    }
    const TALLY_HASH_INJECTIVE: bool = true;
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&canonical_f64_bits(*self).to_le_bytes());
    }
    fn is_canonical(&self) -> bool {
        self.to_bits() == canonical_f64_bits(*self)
    }
    fn decode(bytes: &[u8]) -> Result<(f64, usize)> {
        Ok((f64::from_bits(read_u64(bytes, "double")?), 8))
    }
    fn to_json(&self) -> Value {
        crate::json_f64(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::splitmix;

    #[test]
    fn short_keys_tell_apart_every_two_strings_of_up_to_16_bytes() {
        // Every string of up to 4 bytes over 3 letters, and 20,000 random ones of 0 to
        // 16 bytes over 4 letters (few letters: many pairs alike but for one byte).
        let mut strings: Vec<Vec<u8>> = vec![vec![]];
        let mut last = vec![vec![]];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s: &Vec<u8>| b"abc".iter().map(move |&c| [s.as_slice(), &[c]].concat()))
                .collect();
            strings.extend(last.iter().cloned());
        }
        let mut st = 3;
        for _ in 0..20_000 {
            let n = (splitmix(&mut st) % 17) as usize;
            strings.push(
                (0..n)
                    .map(|_| b"wxyz"[(splitmix(&mut st) % 4) as usize])
                    .collect(),
            );
        }
        strings.sort();
        strings.dedup();
        let mut keys: Vec<ShortKey> = strings.iter().map(|s| ShortKey::of(s)).collect();
        let n = keys.len();
        keys.sort_by_key(|k| (k.len, k.head, k.tail));
        keys.dedup_by_key(|k| (k.len, k.head, k.tail));
        assert_eq!(keys.len(), n, "two strings share a short key");
        // Every byte counts: strings that differ in one byte only, at every position of
        // every length up to 16.
        for n in 1..=SHORT_KEY_BYTES {
            let base: Vec<u8> = (0..n as u8).map(|k| b'a' + k).collect();
            for at in 0..n {
                let mut other = base.clone();
                other[at] = b'Z';
                assert_ne!(
                    ShortKey::of(&base),
                    ShortKey::of(&other),
                    "length {n}, byte {at}"
                );
            }
        }
        // Equal strings, wherever their bytes are, have equal keys.
        let a = String::from("user-1234567");
        let b = format!("{}{}", "user-", 1234567);
        assert_eq!(String::short_key(&a), String::short_key(&b));
        assert!(String::short_key_decides(&"x".repeat(16)));
        assert!(!String::short_key_decides(&"x".repeat(17)));
    }
}
