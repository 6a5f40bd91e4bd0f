//! The compact (immutable) Theta sketch and its DataSketches images.
//!
//! Image layout (family 3, little-endian, flags: bit 1 read-only, bit 2 empty, bit 3
//! compact, bit 4 ordered):
//!
//! * serial version 3: byte 0 preamble longs (1 = empty or a single exact entry, 2 =
//!   exact, 3 = estimation), 1 serial version, 2 family, 3..5 unused, 5 flags, 6..8 seed
//!   hash; with 2 or 3 preamble longs a u32 entry count at 8 (4 bytes of padding), with 3
//!   theta as u64 at 16; then the hashes as u64.
//! * serial version 4 (compressed, ordered only): byte 0 preamble longs (1 exact, 2
//!   estimation), 3 bits per delta, 4 bytes of the entry count, 5 flags, 6..8 seed hash;
//!   theta at 8 in estimation mode; the count in that many little-endian bytes; then the
//!   deltas between consecutive sorted hashes (the first from 0), each in `bits` bits,
//!   packed most significant bit first.
//! * serial versions 1 and 2 (old Java images) are read, never written.

use serde_json::{json, Value};

use super::{bounds, check_num_std_devs, check_seed_hash, theta_fraction, FAMILY_ID, MAX_THETA};
use crate::bytes::{need, read_u64s, u16_at, u32_at, u64_at, write_u64s};
use crate::error::corrupt;
use crate::{hash::seed_hash, Result};

const FLAG_READ_ONLY: u8 = 1 << 1;
const FLAG_EMPTY: u8 = 1 << 2;
const FLAG_COMPACT: u8 = 1 << 3;
const FLAG_ORDERED: u8 = 1 << 4;

const SERIAL_VERSION: u8 = 3;
const COMPRESSED_SERIAL_VERSION: u8 = 4;

/// An immutable Theta sketch: the result of [`super::UpdateTheta::compact`], of a set
/// operation, or of reading an image.
///
/// Invariants (checked when reading an image): every entry is non-zero, below `theta64`
/// and distinct; if the sketch is ordered the entries are strictly increasing; an empty
/// sketch has no entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactTheta {
    pub(crate) empty: bool,
    pub(crate) ordered: bool,
    pub(crate) seed_hash: u16,
    pub(crate) theta: u64,
    pub(crate) entries: Vec<u64>,
}

/// Reads the entries of an ordered image and checks that they are strictly increasing
/// and in 1..theta; `None` if they are not (the caller's full check then names the
/// fault). With theta <= 2^63 - 1 that holds iff no entry has its top bit set and none
/// of `e[0] - 1`, `e[i] - e[i-1] - 1` and `theta - 1 - e[last]` wraps to a value with
/// the top bit set: wrapping subtractions and ORs, which vectorise on any x86-64,
/// unlike 64-bit comparisons.
fn read_ordered(bytes: &[u8], theta: u64) -> Option<Vec<u64>> {
    let entries = read_u64s(bytes, 0, bytes.len() / 8).ok()?;
    let (first, last) = (*entries.first()?, *entries.last()?);
    let step = |a: u64, b: u64| b | b.wrapping_sub(a).wrapping_sub(1);
    // Eight independent accumulators: the loop runs at load speed, not OR latency.
    let mut acc = [0u64; 8];
    let (pairs_a, pairs_b) = (&entries[..entries.len() - 1], &entries[1..]);
    let mut a8 = pairs_a.chunks_exact(8);
    let mut b8 = pairs_b.chunks_exact(8);
    for (a, b) in (&mut a8).zip(&mut b8) {
        for k in 0..8 {
            acc[k] |= step(a[k], b[k]);
        }
    }
    let mut bits = first | first.wrapping_sub(1) | (theta - 1).wrapping_sub(last);
    for (&a, &b) in a8.remainder().iter().zip(b8.remainder()) {
        bits |= step(a, b);
    }
    bits |= acc.iter().fold(0, |x, &y| x | y);
    (bits >> 63 == 0).then_some(entries)
}

/// The serial version of a compact Theta image (its preamble and family checked).
pub(crate) fn serial_version(bytes: &[u8]) -> Result<u8> {
    need(bytes, 8, "the preamble")?;
    let family = bytes[2];
    if family != FAMILY_ID {
        return corrupt(format!(
            "family {family} is not a compact Theta sketch (family {FAMILY_ID})"
        ));
    }
    Ok(bytes[1])
}

/// A serial version 3 image read as far as its entries: the preamble is checked (seed
/// hash, lengths), the entries are not yet read.
pub(crate) struct V3View<'a> {
    pub(crate) empty: bool,
    pub(crate) ordered: bool,
    pub(crate) seed_hash: u16,
    pub(crate) theta: u64,
    /// The entries as little-endian u64s: a multiple of 8 bytes.
    pub(crate) entries: &'a [u8],
}

impl<'a> V3View<'a> {
    /// Reads the preamble of a serial version 3 image (after [`serial_version`]). The
    /// seed hash of a non-empty image must be `seed`'s.
    pub(crate) fn parse(bytes: &'a [u8], seed: u64) -> Result<Self> {
        let preamble_longs = bytes[0];
        let flags = bytes[5];
        let image_seed_hash = u16_at(bytes, 6)?;
        let view = |ordered, theta, entries| V3View {
            empty: false,
            ordered,
            seed_hash: image_seed_hash,
            theta,
            entries,
        };
        if flags & FLAG_EMPTY != 0 {
            return Ok(V3View {
                empty: true,
                ..view(true, MAX_THETA, &[])
            });
        }
        check_seed_hash(image_seed_hash, seed)?;
        match preamble_longs {
            1 => {
                need(bytes, 16, "a single-entry image")?;
                Ok(view(true, MAX_THETA, &bytes[8..16]))
            }
            2 | 3 => {
                let start: usize = if preamble_longs == 3 { 24 } else { 16 };
                need(bytes, start as u64, "the preamble")?;
                let count = u32_at(bytes, 8)? as u64;
                let theta = if preamble_longs == 3 {
                    u64_at(bytes, 16)?
                } else {
                    MAX_THETA
                };
                need(bytes, start as u64 + 8 * count, "the entries")?;
                let entries = &bytes[start..start + 8 * count as usize];
                Ok(view(flags & FLAG_ORDERED != 0, theta, entries))
            }
            p => corrupt(format!("{p} preamble longs (expected 1, 2 or 3)")),
        }
    }

    /// The entries in image order, each checked as [`CompactTheta::deserialize`] checks
    /// them when it is reached (theta first): non-zero, below theta and, when the image
    /// is flagged ordered, above the previous one. Entries never reached are not checked.
    pub(crate) fn checked_entries(&self) -> Result<impl Iterator<Item = Result<u64>> + 'a> {
        check_theta(self.theta)?;
        let (theta, ordered) = (self.theta, self.ordered);
        let mut previous = 0u64;
        Ok(self.entries.chunks_exact(8).map(move |c| {
            let e = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            if e == 0 || e >= theta {
                return corrupt(format!("entry {e} is zero or not below theta {theta}"));
            }
            if ordered && e <= previous {
                return corrupt("entries flagged ordered are not strictly increasing");
            }
            previous = e;
            Ok(e)
        }))
    }
}

/// A serial version 4 (compressed, ordered) image read as far as its packed deltas: the
/// preamble is checked (seed hash, count, bits per entry, lengths), the entries are
/// decoded on demand.
pub(crate) struct V4View<'a> {
    pub(crate) seed_hash: u16,
    pub(crate) theta: u64,
    pub(crate) count: u64,
    entry_bits: u32,
    packed: &'a [u8],
}

impl<'a> V4View<'a> {
    /// Reads the preamble of a serial version 4 image (after [`serial_version`]); its
    /// seed hash must be `seed`'s.
    pub(crate) fn parse(bytes: &'a [u8], seed: u64) -> Result<Self> {
        let seed_hash = u16_at(bytes, 6)?;
        check_seed_hash(seed_hash, seed)?;
        let has_theta = bytes[0] > 1;
        let mut offset: usize = 8;
        let mut theta = MAX_THETA;
        if has_theta {
            need(bytes, 16, "the preamble")?;
            theta = u64_at(bytes, 8)?;
            offset = 16;
        }
        let count_bytes = bytes[4] as usize;
        if count_bytes > 4 {
            return corrupt(format!("{count_bytes} bytes of entry count (at most 4)"));
        }
        need(bytes, (offset + count_bytes) as u64, "the entry count")?;
        let mut count: u64 = 0;
        for (i, &b) in bytes[offset..offset + count_bytes].iter().enumerate() {
            count |= (b as u64) << (8 * i);
        }
        offset += count_bytes;
        let entry_bits = bytes[3] as u32;
        if entry_bits == 0 || entry_bits > 64 {
            return corrupt(format!("{entry_bits} bits per entry (expected 1 to 64)"));
        }
        let packed_len = (entry_bits as u64 * count).div_ceil(8);
        need(bytes, offset as u64 + packed_len, "the packed entries")?;
        Ok(V4View {
            seed_hash,
            theta,
            count,
            entry_bits,
            packed: &bytes[offset..offset + packed_len as usize],
        })
    }

    /// The entries, decoded from the MSB-first stream of deltas (unchecked: running sums
    /// wrap rather than fail, and the caller checks what it reads).
    pub(crate) fn entries(&self) -> impl Iterator<Item = u64> + 'a {
        let entry_bits = self.entry_bits;
        let mask: u128 = (1u128 << entry_bits) - 1;
        let mut acc: u128 = 0;
        let mut acc_bits: u32 = 0;
        let mut bytes_iter = self.packed.iter();
        let mut previous = 0u64;
        (0..self.count).map(move |_| {
            while acc_bits < entry_bits {
                // The length check of `parse` guarantees enough bytes.
                let b = *bytes_iter.next().unwrap_or(&0);
                acc = (acc << 8) | b as u128;
                acc_bits += 8;
            }
            acc_bits -= entry_bits;
            let delta = ((acc >> acc_bits) & mask) as u64;
            acc &= (1u128 << acc_bits) - 1;
            previous = previous.wrapping_add(delta);
            previous
        })
    }

    /// The entries, each checked as [`CompactTheta::deserialize`] checks it when it is
    /// reached (theta first): non-zero, below theta, above the previous one.
    pub(crate) fn checked_entries(&self) -> Result<impl Iterator<Item = Result<u64>> + 'a> {
        check_theta(self.theta)?;
        let theta = self.theta;
        let mut previous = 0u64;
        Ok(self.entries().map(move |e| {
            if e == 0 || e >= theta {
                return corrupt(format!("entry {e} is zero or not below theta {theta}"));
            }
            if e <= previous {
                return corrupt("entries flagged ordered are not strictly increasing");
            }
            previous = e;
            Ok(e)
        }))
    }
}

fn check_theta(theta: u64) -> Result<()> {
    if theta == 0 || theta > MAX_THETA {
        return corrupt(format!("theta {theta} outside 1 to 2^63-1"));
    }
    Ok(())
}

impl CompactTheta {
    /// Builds a sketch from its parts; sketches of 0 or 1 entries are always ordered.
    pub(crate) fn from_parts(
        empty: bool,
        ordered: bool,
        seed_hash: u16,
        theta: u64,
        entries: Vec<u64>,
    ) -> Self {
        let ordered = ordered || entries.len() <= 1;
        CompactTheta {
            empty,
            ordered,
            seed_hash,
            theta,
            entries,
        }
    }

    /// True if no item was ever presented (different from "non-empty but nothing retained",
    /// which happens when sampling with `p < 1` or after an intersection/difference).
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// True if the entries are sorted ascending.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// True once theta is below 1 on a non-empty sketch (the estimate is then a sample
    /// estimate, not an exact count).
    pub fn is_estimation_mode(&self) -> bool {
        self.theta < MAX_THETA && !self.empty
    }

    /// Theta as a fraction in (0, 1].
    pub fn theta(&self) -> f64 {
        theta_fraction(self.theta)
    }

    /// Theta as stored: a 63-bit threshold, `2^63 - 1` meaning 1.
    pub fn theta64(&self) -> u64 {
        self.theta
    }

    pub fn num_retained(&self) -> u32 {
        self.entries.len() as u32
    }

    /// The 16-bit hash of the seed the sketch was built with.
    pub fn seed_hash(&self) -> u16 {
        self.seed_hash
    }

    /// The retained hashes (sorted ascending if [`Self::is_ordered`]).
    pub fn entries(&self) -> &[u64] {
        &self.entries
    }

    /// Estimated number of distinct items: retained / theta.
    pub fn estimate(&self) -> f64 {
        self.entries.len() as f64 / self.theta()
    }

    /// Lower confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn lower_bound(&self, num_std_devs: u8) -> Result<f64> {
        check_num_std_devs(num_std_devs)?;
        if !self.is_estimation_mode() {
            return Ok(self.entries.len() as f64);
        }
        Ok(bounds::lower_bound(
            self.entries.len() as u64,
            self.theta(),
            num_std_devs,
        ))
    }

    /// Upper confidence bound at `num_std_devs` (1, 2 or 3) standard deviations.
    pub fn upper_bound(&self, num_std_devs: u8) -> Result<f64> {
        check_num_std_devs(num_std_devs)?;
        if !self.is_estimation_mode() {
            return Ok(self.entries.len() as f64);
        }
        Ok(bounds::upper_bound(
            self.entries.len() as u64,
            self.theta(),
            num_std_devs,
        ))
    }

    fn flags(&self) -> u8 {
        FLAG_COMPACT
            | FLAG_READ_ONLY
            | if self.empty { FLAG_EMPTY } else { 0 }
            | if self.ordered { FLAG_ORDERED } else { 0 }
    }

    /// The serial version 3 image, exactly as DataSketches writes it.
    pub fn serialize(&self) -> Vec<u8> {
        let estimation = self.is_estimation_mode();
        let preamble_longs: u8 = if estimation {
            3
        } else if self.empty || self.entries.len() == 1 {
            1
        } else {
            2
        };
        let mut out = Vec::with_capacity(8 * (preamble_longs as usize + self.entries.len()));
        out.extend_from_slice(&[
            preamble_longs,
            SERIAL_VERSION,
            FAMILY_ID,
            0,
            0,
            self.flags(),
        ]);
        out.extend_from_slice(&self.seed_hash.to_le_bytes());
        if preamble_longs > 1 {
            out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
        }
        if estimation {
            out.extend_from_slice(&self.theta.to_le_bytes());
        }
        write_u64s(&mut out, &self.entries);
        out
    }

    /// The compressed (serial version 4) image when it applies (ordered, with entries, not
    /// a single exact entry); otherwise the serial version 3 image, as DataSketches does.
    pub fn serialize_compressed(&self) -> Vec<u8> {
        let n = self.entries.len();
        if !self.ordered || n == 0 || (n == 1 && !self.is_estimation_mode()) {
            return self.serialize();
        }
        let estimation = self.is_estimation_mode();
        let mut previous = 0u64;
        let mut ored = 0u64;
        for &e in &self.entries {
            ored |= e.wrapping_sub(previous);
            previous = e;
        }
        let entry_bits = (64 - ored.leading_zeros()) as u8;
        let count = n as u32;
        let count_bytes = (32 - count.leading_zeros()).div_ceil(8) as u8;
        let packed_len = (entry_bits as usize * n).div_ceil(8);
        let mut out = Vec::with_capacity(16 + count_bytes as usize + packed_len);
        out.extend_from_slice(&[
            if estimation { 2 } else { 1 },
            COMPRESSED_SERIAL_VERSION,
            FAMILY_ID,
            entry_bits,
            count_bytes,
            FLAG_COMPACT | FLAG_READ_ONLY | FLAG_ORDERED,
        ]);
        out.extend_from_slice(&self.seed_hash.to_le_bytes());
        if estimation {
            out.extend_from_slice(&self.theta.to_le_bytes());
        }
        out.extend_from_slice(&count.to_le_bytes()[..count_bytes as usize]);
        // MSB-first bit stream of the deltas.
        let mut acc: u128 = 0;
        let mut acc_bits: u32 = 0;
        let mut previous = 0u64;
        for &e in &self.entries {
            let delta = e - previous;
            previous = e;
            acc = (acc << entry_bits) | delta as u128;
            acc_bits += entry_bits as u32;
            while acc_bits >= 8 {
                acc_bits -= 8;
                out.push((acc >> acc_bits) as u8);
            }
            acc &= (1u128 << acc_bits) - 1;
        }
        if acc_bits > 0 {
            out.push((acc << (8 - acc_bits)) as u8);
        }
        out
    }

    /// Reads an image of serial version 1, 2, 3 (ordered or not) or 4. The image's seed hash
    /// must match `seed` (else [`crate::Error::Incompatible`]), except for empty sketches, whose
    /// seed hash DataSketches does not check (Java writes 0 there).
    ///
    /// Never panics; rejects (as [`crate::Error::CorruptData`]) images that are truncated,
    /// inconsistent, or whose entries break the invariants (zero, not below theta,
    /// duplicated, or unsorted when flagged ordered).
    pub fn deserialize(bytes: &[u8], seed: u64) -> Result<Self> {
        if super::update_image::is_update_image(bytes) {
            // An updatable image (family 2), compacted as DataSketches' compact() does.
            return Ok(super::UpdateTheta::deserialize_updatable(bytes, seed)?.compact(true));
        }
        let sketch = match serial_version(bytes)? {
            1 => Self::read_v1(bytes, seed)?,
            2 => Self::read_v2(bytes, seed)?,
            3 => {
                let v = V3View::parse(bytes, seed)?;
                if v.ordered && !v.empty {
                    check_theta(v.theta)?;
                    if let Some(entries) = read_ordered(v.entries, v.theta) {
                        return Ok(Self::from_parts(false, true, v.seed_hash, v.theta, entries));
                    }
                }
                let entries = read_u64s(v.entries, 0, v.entries.len() / 8)?;
                Self::from_parts(v.empty, v.ordered, v.seed_hash, v.theta, entries)
            }
            4 => Self::read_v4(bytes, seed)?,
            v => return corrupt(format!("unsupported serial version {v}")),
        };
        sketch.validate()?;
        Ok(sketch)
    }

    fn read_v4(bytes: &[u8], seed: u64) -> Result<Self> {
        let v = V4View::parse(bytes, seed)?;
        let mut entries = Vec::with_capacity(v.count as usize);
        entries.extend(v.entries());
        Ok(Self::from_parts(false, true, v.seed_hash, v.theta, entries))
    }

    fn read_v1(bytes: &[u8], seed: u64) -> Result<Self> {
        need(bytes, 24, "a serial version 1 preamble")?;
        let count = u32_at(bytes, 8)? as u64;
        let theta = u64_at(bytes, 16)?;
        let sh = seed_hash(seed);
        if count == 0 && theta == MAX_THETA {
            return Ok(Self::from_parts(true, true, sh, theta, Vec::new()));
        }
        need(bytes, 24 + 8 * count, "the entries")?;
        let mut entries = read_u64s(bytes, 24, count as usize)?;
        entries.sort_unstable();
        Ok(Self::from_parts(false, true, sh, theta, entries))
    }

    fn read_v2(bytes: &[u8], seed: u64) -> Result<Self> {
        let image_seed_hash = u16_at(bytes, 6)?;
        check_seed_hash(image_seed_hash, seed)?;
        let empty = || Self::from_parts(true, true, image_seed_hash, MAX_THETA, Vec::new());
        let (start, theta) = match bytes[0] {
            1 => return Ok(empty()),
            2 => {
                need(bytes, 16, "the preamble")?;
                if u32_at(bytes, 8)? == 0 {
                    return Ok(empty());
                }
                (16usize, MAX_THETA)
            }
            3 => {
                need(bytes, 24, "the preamble")?;
                let theta = u64_at(bytes, 16)?;
                if u32_at(bytes, 8)? == 0 && theta == MAX_THETA {
                    return Ok(empty());
                }
                (24usize, theta)
            }
            p => return corrupt(format!("{p} preamble longs (expected 1, 2 or 3)")),
        };
        let count = u32_at(bytes, 8)? as u64;
        need(bytes, start as u64 + 8 * count, "the entries")?;
        let mut entries = read_u64s(bytes, start, count as usize)?;
        entries.sort_unstable();
        Ok(Self::from_parts(
            false,
            true,
            image_seed_hash,
            theta,
            entries,
        ))
    }

    /// Checks the invariants every sketch built here satisfies.
    fn validate(&self) -> Result<()> {
        check_theta(self.theta)?;
        if self.empty {
            return Ok(());
        }
        // Passes of wrapping subtractions and ORs, which vectorise even without 64-bit
        // vector compares (baseline x86-64 has none); the error path finds the culprit.
        // Entry e is in 1..theta (theta <= 2^63 - 1) iff neither e - 1 nor theta - 1 - e
        // wraps to a value with the top bit set.
        let theta = self.theta;
        let range_bits = self.entries.iter().fold(0u64, |acc, &e| {
            acc | e.wrapping_sub(1) | (theta - 1).wrapping_sub(e)
        });
        if range_bits >> 63 != 0 {
            let bad = self.entries.iter().find(|&&e| e == 0 || e >= theta);
            return corrupt(format!(
                "entry {} is zero or not below theta {theta}",
                bad.copied().unwrap_or_default()
            ));
        }
        // All entries are now below 2^63, so b > a iff b - a - 1 keeps the top bit clear.
        let strictly_increasing = |v: &[u64]| {
            v.len() < 2
                || v[..v.len() - 1]
                    .iter()
                    .zip(&v[1..])
                    .fold(0u64, |acc, (&a, &b)| {
                        acc | b.wrapping_sub(a).wrapping_sub(1)
                    })
                    >> 63
                    == 0
        };
        if self.ordered {
            if !strictly_increasing(&self.entries) {
                return corrupt("entries flagged ordered are not strictly increasing");
            }
        } else {
            let mut sorted = self.entries.clone();
            sorted.sort_unstable();
            if !strictly_increasing(&sorted) {
                return corrupt("duplicate entries");
            }
        }
        Ok(())
    }

    /// Entries sorted ascending, borrowed when already ordered.
    pub(crate) fn sorted_entries(&self) -> std::borrow::Cow<'_, [u64]> {
        if self.ordered {
            std::borrow::Cow::Borrowed(&self.entries)
        } else {
            let mut v = self.entries.clone();
            v.sort_unstable();
            std::borrow::Cow::Owned(v)
        }
    }

    /// A copy with the entries sorted (and flagged ordered).
    pub(crate) fn to_ordered(&self) -> Self {
        let entries = self.sorted_entries().into_owned();
        Self::from_parts(self.empty, true, self.seed_hash, self.theta, entries)
    }

    /// A JSON summary (no entries).
    pub fn to_json(&self) -> Value {
        json!({
            "family": "theta",
            "kind": "compact",
            "empty": self.empty,
            "ordered": self.ordered,
            "estimation_mode": self.is_estimation_mode(),
            "seed_hash": self.seed_hash,
            "theta": self.theta(),
            "theta64": self.theta,
            "num_retained": self.entries.len(),
            "estimate": self.estimate(),
            "lower_bound_2sd": self.lower_bound(2).unwrap_or(f64::NAN),
            "upper_bound_2sd": self.upper_bound(2).unwrap_or(f64::NAN),
        })
    }
}
