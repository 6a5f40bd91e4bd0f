//! The updatable Theta image: Apache DataSketches' QuickSelect update sketch as
//! datasketches-java's `UpdateSketch.toByteArray()` writes it and `UpdateSketch.heapify`
//! / `wrap` read it, so that a sketch moves between sketchbox and Java and keeps
//! accepting items on either side.
//!
//! Layout (family 2, serial version 3, little-endian, 24 bytes of preamble):
//!
//! * byte 0: preamble longs (3) in the low 6 bits, log2 of the resize factor in the top 2;
//! * 1: serial version 3; 2: family 2 (QuickSelect); 3: `lg_k` (Java's lgNomLongs);
//!   4: log2 of the hash table's slots (lgArrLongs); 5: flags (bit 2 empty; big-endian,
//!   read-only, compact and ordered must be clear); 6..8: seed hash;
//! * 8..12: retained entries (u32); 12..16: the sampling probability `p` (f32);
//!   16..24: theta (u64, `2^63 - 1` = 1);
//! * then the hash table: `2^lgArrLongs` slots of u64, 0 for an empty slot, each entry
//!   where Java's open addressing puts it (first probe `hash & mask`, odd stride
//!   `2 * ((hash >> lgArrLongs) & 127) + 1`), which is also [`HashTable::find`]'s
//!   probing, so Java's `update` continues on the table as written.
//!
//! One deliberate difference: for an empty sketch with `p < 1`, Java writes theta
//! `2^63 - 1` and so forgets the sampling on reading its own image; sketchbox writes the
//! starting theta of `p` (which Java accepts: it is not below `p`), so that both sides
//! continue sampling. Reading, an empty image's theta is the starting theta of its `p`
//! whichever of the two it holds.

use super::table::{capacity, starting_theta, HashTable};
use super::{check_lg_k, check_seed_hash, UpdateTheta, MAX_THETA, MIN_LG_K};
use crate::bytes::{need, u16_at, u32_at, u64_at};
use crate::error::corrupt;
use crate::Result;

/// DataSketches family id of the QuickSelect update sketch.
pub(crate) const UPDATE_FAMILY_ID: u8 = 2;
const SERIAL_VERSION: u8 = 3;
const PREAMBLE_LONGS: u8 = 3;
const PREAMBLE_BYTES: usize = 8 * PREAMBLE_LONGS as usize;

const FLAG_BIG_ENDIAN: u8 = 1 << 0;
const FLAG_READ_ONLY: u8 = 1 << 1;
const FLAG_EMPTY: u8 = 1 << 2;
const FLAG_COMPACT: u8 = 1 << 3;
const FLAG_ORDERED: u8 = 1 << 4;

/// Whether `bytes` claims to be an updatable Theta image (family 2); the reader checks
/// the rest.
pub fn is_update_image(bytes: &[u8]) -> bool {
    bytes.get(2) == Some(&UPDATE_FAMILY_ID)
}

impl UpdateTheta {
    /// The updatable image (family 2): the bytes datasketches-java's
    /// `UpdateSketch.toByteArray()` writes for the same updates in the same order,
    /// whenever the retained hashes sit in the same slots (always before the first
    /// rebuild; after one, Java's slot order depends on its quickselect, while the
    /// retained set and theta are the same). See the module documentation for the layout
    /// and the one deliberate difference.
    pub fn serialize_updatable(&self) -> Vec<u8> {
        let t = &self.table;
        let mut out = Vec::with_capacity(PREAMBLE_BYTES + 8 * t.slots.len());
        out.extend_from_slice(&[
            PREAMBLE_LONGS | (t.lg_rf & 3) << 6,
            SERIAL_VERSION,
            UPDATE_FAMILY_ID,
            t.lg_nom,
            t.lg_cur,
            if t.is_empty { FLAG_EMPTY } else { 0 },
        ]);
        out.extend_from_slice(&self.seed_hash.to_le_bytes());
        out.extend_from_slice(&t.num_entries.to_le_bytes());
        out.extend_from_slice(&self.p.to_le_bytes());
        out.extend_from_slice(&t.theta.to_le_bytes());
        crate::bytes::write_u64s(&mut out, &t.slots);
        out
    }

    /// Reads an updatable image (family 2, serial version 3) written with `seed` by
    /// sketchbox or datasketches-java into an update sketch that continues exactly as the
    /// writer would have. Every field is checked: a wrong preamble, serial version,
    /// family, flag, size, `p` or theta, a count that disagrees with the table, an entry
    /// at or above theta, or one that is not where the probing puts it (a duplicate, a
    /// moved slot) is `Error::CorruptData`; another seed is `Error::Incompatible`.
    /// Bytes past the table are ignored, as Java does (a sketch may live in a larger
    /// buffer).
    pub fn deserialize_updatable(bytes: &[u8], seed: u64) -> Result<Self> {
        need(bytes, PREAMBLE_BYTES as u64, "an updatable Theta image")?;
        let preamble_longs = bytes[0] & 0x3f;
        let mut lg_rf = bytes[0] >> 6;
        let (serial_version, family) = (bytes[1], bytes[2]);
        let (lg_nom, lg_arr, flags) = (bytes[3], bytes[4], bytes[5]);
        if family != UPDATE_FAMILY_ID {
            return corrupt(format!(
                "family {family} is not an updatable Theta sketch (family {UPDATE_FAMILY_ID})"
            ));
        }
        if serial_version != SERIAL_VERSION {
            return corrupt(format!(
                "serial version {serial_version} of an updatable Theta image (expected 3)"
            ));
        }
        if preamble_longs != PREAMBLE_LONGS {
            return corrupt(format!(
                "{preamble_longs} preamble longs in an updatable Theta image (expected 3)"
            ));
        }
        let forbidden = FLAG_BIG_ENDIAN | FLAG_READ_ONLY | FLAG_COMPACT | FLAG_ORDERED;
        if flags & forbidden != 0 {
            return corrupt(format!(
                "flags {flags:#04x}: an updatable Theta image cannot be big-endian, \
                 read-only, compact or ordered"
            ));
        }
        let empty = flags & FLAG_EMPTY != 0;
        check_seed_hash(u16_at(bytes, 6)?, seed)?;
        if check_lg_k(lg_nom).is_err() {
            return corrupt(format!(
                "lg_k {lg_nom} in an updatable Theta image (sketchbox reads 5 to 26)"
            ));
        }
        if !(MIN_LG_K..=lg_nom + 1).contains(&lg_arr) {
            return corrupt(format!(
                "a hash table of 2^{lg_arr} slots for lg_k {lg_nom} (expected 2^{MIN_LG_K} \
                 to 2^{})",
                lg_nom + 1
            ));
        }
        // DataSketches: a resize factor that cannot reach the full size from this one
        // is taken as x2, which always can.
        let lg_full = lg_nom + 1;
        let reaches = if lg_rf == 0 {
            lg_arr == lg_full
        } else {
            (lg_full - lg_arr) % lg_rf == 0
        };
        if !reaches {
            lg_rf = 1;
        }
        let num_entries = u32_at(bytes, 8)?;
        let p = f32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        // `!(p > 0.0)` also rejects NaN.
        if !(p > 0.0 && p <= 1.0) || starting_theta(p) == 0 {
            return corrupt(format!("sampling probability p = {p} outside (0, 1]"));
        }
        let p_theta = starting_theta(p);
        let image_theta = u64_at(bytes, 16)?;
        if image_theta == 0 || image_theta > MAX_THETA {
            return corrupt(format!("theta {image_theta} outside 1 to 2^63-1"));
        }
        let theta = if empty {
            if num_entries != 0 {
                return corrupt(format!("an empty sketch with {num_entries} entries"));
            }
            if image_theta != p_theta && image_theta != MAX_THETA {
                return corrupt(format!(
                    "an empty sketch with theta {image_theta} (p = {p} starts at {p_theta})"
                ));
            }
            p_theta
        } else {
            if image_theta > p_theta {
                return corrupt(format!(
                    "theta {image_theta} above the starting theta {p_theta} of p = {p}"
                ));
            }
            // Theta falls below p's only in a rebuild, which happens at full size.
            if lg_arr <= lg_nom && image_theta < p_theta {
                return corrupt(format!(
                    "theta {image_theta} below p's {p_theta} while the table (2^{lg_arr} \
                     slots) is still growing"
                ));
            }
            image_theta
        };
        let max_entries = capacity(lg_arr, lg_nom);
        if num_entries > max_entries {
            return corrupt(format!(
                "{num_entries} entries in a table of 2^{lg_arr} slots (at most {max_entries} \
                 for lg_k {lg_nom})"
            ));
        }
        let slots = crate::bytes::read_u64s(bytes, PREAMBLE_BYTES, 1usize << lg_arr)?;
        let mut found = 0u32;
        for (at, &h) in slots.iter().enumerate() {
            if h == 0 {
                continue;
            }
            if h >= theta {
                return corrupt(format!("entry {h} in slot {at} is not below theta {theta}"));
            }
            found += 1;
            if found > num_entries {
                return corrupt(format!(
                    "the hash table holds more entries than the {num_entries} counted"
                ));
            }
            // At most `max_entries` < slots are filled, so every probe ends.
            if HashTable::find(&slots, lg_arr, h) != (at, true) {
                return corrupt(format!(
                    "entry {h} in slot {at} is a duplicate or not where probing puts it"
                ));
            }
        }
        if found != num_entries {
            return corrupt(format!(
                "the hash table holds {found} entries, the preamble counts {num_entries}"
            ));
        }
        Ok(UpdateTheta {
            table: HashTable::from_slots(lg_nom, lg_rf, theta, empty, num_entries, slots),
            seed,
            seed_hash: crate::hash::seed_hash(seed),
            p,
        })
    }
}
