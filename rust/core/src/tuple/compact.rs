//! The compact (immutable) tuple sketch and its image (family 9, serial version 3).

use serde_json::{json, Map, Value};

use super::summary::{Summary, SummaryMode};
use super::{bound_of, estimate_of, FAMILY_ID, SERIAL_VERSION};
use crate::theta::{check_seed_hash, theta_fraction, MAX_THETA};
use crate::Result;

const FLAG_READ_ONLY: u8 = 1 << 1;
const FLAG_EMPTY: u8 = 1 << 2;
const FLAG_COMPACT: u8 = 1 << 3;
const FLAG_ORDERED: u8 = 1 << 4;

/// Sketch type byte of the compact form (Java's `SketchType.CompactSketch`).
const TYPE_COMPACT: u8 = 1;
/// Sketch type byte of Java's updatable `QuickSelectSketch` image (not read).
const TYPE_QUICK_SELECT: u8 = 0;

fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    crate::error::corrupt(format!("tuple image: {}", msg.into()))
}

/// An immutable tuple sketch: retained key hashes, each with its summary, and theta. The
/// result of [`super::UpdateTuple::compact`], of a set operation, or of reading an image.
///
/// Entries keep the order they were produced or read in (Java lists them in the slot
/// order of its hash table, and Spark's summaries add them up in that order), so a
/// sketch read from an image writes the same bytes back.
///
/// Invariants (checked when reading an image): every hash is non-zero, below theta and
/// distinct; entries flagged ordered are strictly increasing; an empty sketch has none.
#[derive(Clone, Debug, PartialEq)]
pub struct CompactTuple<S: Summary> {
    pub(crate) empty: bool,
    pub(crate) ordered: bool,
    pub(crate) seed_hash: u16,
    pub(crate) theta: u64,
    pub(crate) hashes: Vec<u64>,
    pub(crate) summaries: Vec<S>,
}

impl<S: Summary> CompactTuple<S> {
    pub(crate) fn from_parts(
        empty: bool,
        seed_hash: u16,
        theta: u64,
        hashes: Vec<u64>,
        summaries: Vec<S>,
    ) -> Self {
        debug_assert_eq!(hashes.len(), summaries.len());
        CompactTuple {
            empty,
            ordered: false,
            seed_hash,
            theta,
            hashes,
            summaries,
        }
    }

    /// True if no key was ever presented.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// True if the image flagged the entries as sorted (C++ writes sorted images; Java
    /// and sketchbox write them in hash-table order, unflagged).
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    pub fn is_estimation_mode(&self) -> bool {
        self.theta < MAX_THETA && !self.empty
    }

    /// Theta as a 63-bit threshold (`2^63 - 1` when empty).
    pub fn theta64(&self) -> u64 {
        if self.empty {
            MAX_THETA
        } else {
            self.theta
        }
    }

    /// Theta as a fraction in (0, 1] (Spark's `tuple_sketch_theta_*`).
    pub fn theta(&self) -> f64 {
        theta_fraction(self.theta64())
    }

    pub fn num_retained(&self) -> u32 {
        self.hashes.len() as u32
    }

    pub fn seed_hash(&self) -> u16 {
        self.seed_hash
    }

    /// The retained key hashes, in entry order.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// The summaries, in entry order (parallel to [`Self::hashes`]).
    pub fn summaries(&self) -> &[S] {
        &self.summaries
    }

    /// `(hash, summary)` pairs in entry order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &S)> + '_ {
        self.hashes.iter().copied().zip(&self.summaries)
    }

    /// Estimated number of distinct keys (Spark's `tuple_sketch_estimate_*`).
    pub fn estimate(&self) -> f64 {
        estimate_of(self.num_retained(), self.theta64(), self.empty)
    }

    /// Lower confidence bound on the number of distinct keys at `num_std_devs` (1, 2, 3).
    pub fn lower_bound(&self, num_std_devs: u8) -> Result<f64> {
        bound_of(
            self.num_retained(),
            self.theta64(),
            self.empty,
            num_std_devs,
            false,
        )
    }

    /// Upper confidence bound on the number of distinct keys at `num_std_devs` (1, 2, 3).
    pub fn upper_bound(&self, num_std_devs: u8) -> Result<f64> {
        bound_of(
            self.num_retained(),
            self.theta64(),
            self.empty,
            num_std_devs,
            true,
        )
    }

    /// Spark's `tuple_sketch_summary_*(sketch, mode)`: the retained summaries' values
    /// aggregated by `mode` in entry order (see [`Summary::aggregate`]).
    pub fn summary(&self, mode: SummaryMode) -> S::Aggregate {
        S::aggregate(self.summaries.iter().map(Summary::value), mode)
    }

    /// The image, as Java's `CompactSketch.toByteArray` writes it: preamble longs (1 for
    /// empty or a single exact entry, 2 exact, 3 estimation), serial version 3, family 9,
    /// sketch type 1, a zero byte, flags (read-only, compact, empty, ordered), the seed
    /// hash; then the u32 count and 4 zero bytes unless 1 preamble long, theta in
    /// estimation mode; then each entry as its u64 hash followed by its summary.
    pub fn serialize(&self) -> Vec<u8> {
        let count = self.hashes.len();
        let estimation = self.is_estimation_mode();
        let single = count == 1 && !estimation;
        let preamble_longs: u8 = if self.empty || single {
            1
        } else if estimation {
            3
        } else {
            2
        };
        let flags = FLAG_COMPACT
            | FLAG_READ_ONLY
            | if self.empty { FLAG_EMPTY } else { 0 }
            | if self.ordered { FLAG_ORDERED } else { 0 };
        let mut out =
            Vec::with_capacity(8 * preamble_longs as usize + count * (8 + S::SERIALIZED_SIZE));
        out.extend_from_slice(&[
            preamble_longs,
            SERIAL_VERSION,
            FAMILY_ID,
            TYPE_COMPACT,
            0,
            flags,
        ]);
        out.extend_from_slice(&self.seed_hash.to_le_bytes());
        if !self.empty && !single {
            out.extend_from_slice(&(count as u32).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            if estimation {
                out.extend_from_slice(&self.theta.to_le_bytes());
            }
        }
        for (hash, summary) in self.entries() {
            out.extend_from_slice(&hash.to_le_bytes());
            summary.write(&mut out);
        }
        out
    }

    /// Reads a compact image (serial version 3, Java's or C++'s). A non-empty image's seed
    /// hash must be `seed`'s ([`crate::Error::Incompatible`] otherwise; Java always writes
    /// that of the default seed 9001). Never panics; truncated or inconsistent images,
    /// unknown summary modes, and entries that are zero, not below theta, repeated, or
    /// unsorted when flagged ordered are [`crate::Error::CorruptData`]. Bytes after the
    /// last entry are ignored, as Java ignores them.
    pub fn deserialize(bytes: &[u8], seed: u64) -> Result<Self> {
        if bytes.len() < 8 {
            return corrupt(format!("{} bytes, the preamble alone needs 8", bytes.len()));
        }
        let (preamble_longs, serial_version, family, sketch_type, flags) =
            (bytes[0], bytes[1], bytes[2], bytes[3], bytes[5]);
        if family != FAMILY_ID {
            return corrupt(format!(
                "family {family} is not a tuple sketch (family {FAMILY_ID})"
            ));
        }
        if sketch_type == TYPE_QUICK_SELECT {
            return corrupt(
                "an updatable (QuickSelect) tuple image: only compact images are read \
                 (Spark writes compact ones)",
            );
        }
        if sketch_type != TYPE_COMPACT {
            return corrupt(format!("sketch type {sketch_type} (expected 1, compact)"));
        }
        if serial_version != SERIAL_VERSION {
            return corrupt(format!(
                "serial version {serial_version} (only {SERIAL_VERSION} is read)"
            ));
        }
        if !(1..=3).contains(&preamble_longs) {
            return corrupt(format!("{preamble_longs} preamble longs (expected 1 to 3)"));
        }
        let seed_hash = u16::from_le_bytes([bytes[6], bytes[7]]);
        let empty = flags & FLAG_EMPTY != 0;
        let ordered = flags & FLAG_ORDERED != 0;
        if empty {
            return Ok(CompactTuple {
                empty: true,
                ordered,
                seed_hash,
                theta: MAX_THETA,
                hashes: Vec::new(),
                summaries: Vec::new(),
            });
        }
        check_seed_hash(seed_hash, seed)?;
        let need = |needed: u64, what: &str| {
            if (bytes.len() as u64) < needed {
                corrupt(format!(
                    "{what} need {needed} bytes, the image has {}",
                    bytes.len()
                ))
            } else {
                Ok(())
            }
        };
        let (count, theta, start) = if preamble_longs == 1 {
            (1u64, MAX_THETA, 8usize)
        } else {
            need(8 * preamble_longs as u64, "the preamble longs")?;
            let count = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as u64;
            let theta = if preamble_longs == 3 {
                u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"))
            } else {
                MAX_THETA
            };
            (count, theta, 8 * preamble_longs as usize)
        };
        if theta == 0 || theta > MAX_THETA {
            return corrupt(format!("theta {theta} outside 1 to 2^63-1"));
        }
        let entry_size = 8 + S::SERIALIZED_SIZE;
        need(
            start as u64 + count * entry_size as u64,
            &format!("{count} entries of {entry_size} bytes"),
        )?;
        let count = count as usize;
        let mut hashes = Vec::with_capacity(count);
        let mut summaries = Vec::with_capacity(count);
        for entry in bytes[start..start + count * entry_size].chunks_exact(entry_size) {
            let hash = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
            if hash == 0 || hash >= theta {
                return corrupt(format!("entry {hash} is zero or not below theta {theta}"));
            }
            if ordered && hashes.last().is_some_and(|&last| hash <= last) {
                return corrupt("entries flagged ordered are not strictly increasing");
            }
            hashes.push(hash);
            summaries.push(S::read(&entry[8..])?);
        }
        if !ordered {
            let mut sorted = hashes.clone();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return corrupt("a key hash appears twice");
            }
        }
        Ok(CompactTuple {
            empty: false,
            ordered,
            seed_hash,
            theta,
            hashes,
            summaries,
        })
    }

    /// The summaries' mode when they all share one (`None` for no entries or a mix).
    pub fn common_mode(&self) -> Option<SummaryMode> {
        let first = self.summaries.first()?.mode();
        self.summaries
            .iter()
            .all(|s| s.mode() == first)
            .then_some(first)
    }

    /// A JSON summary: the estimate and bounds, theta, and Spark's summary aggregate in
    /// each mode (no entries).
    pub fn to_json(&self) -> Value {
        let mut aggregates = Map::new();
        for mode in SummaryMode::ALL {
            aggregates.insert(mode.name().into(), S::aggregate_json(self.summary(mode)));
        }
        json!({
            "family": "tuple",
            "kind": "compact",
            "summary_type": S::NAME,
            "summary_mode": self.common_mode().map(SummaryMode::name),
            "seed_hash": self.seed_hash,
            "empty": self.is_empty(),
            "ordered": self.ordered,
            "estimation_mode": self.is_estimation_mode(),
            "theta": self.theta(),
            "theta64": self.theta64(),
            "num_retained": self.num_retained(),
            "estimate": self.estimate(),
            "lower_bound_2sd": self.lower_bound(2).unwrap_or(f64::NAN),
            "upper_bound_2sd": self.upper_bound(2).unwrap_or(f64::NAN),
            "summary": Value::Object(aggregates),
        })
    }
}
