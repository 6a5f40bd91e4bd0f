//! Count-Min sketch (Cormode & Muthukrishnan), as Apache DataSketches C++ builds it and
//! datasketches-python ships it (`count_min_sketch`, family 18).
//!
//! `num_hashes` rows of `num_buckets` counters; an item adds its weight to one counter
//! per row and its estimate is the smallest of those counters. With
//! `num_buckets = ceil(e / eps)` and `num_hashes = ceil(ln(1 / delta))`
//! ([`suggest_num_buckets`], [`suggest_num_hashes`]), for an item of true weight `f`:
//! `f <= estimate`, always, and `estimate <= f + eps * total_weight` with probability at
//! least `1 - delta` (over the choice of hash seeds). [`CountMin::upper_bound`] is
//! `estimate + (e / num_buckets) * total_weight`, [`CountMin::lower_bound`] the estimate.
//!
//! # Hashing and images: bit-compatible with datasketches-python
//!
//! * Row `r` hashes the item's bytes with MurmurHash3_x64_128 and seed `s_r`; the
//!   bucket is `h1 % num_buckets`. Items are hashed in [`crate::hash`]'s canonical
//!   forms: an int64 as its 8 little-endian bytes (as C++ `update(int64_t)`), a string
//!   as its UTF-8 bytes (empty strings are not items, as in C++), a float64 as the 8
//!   bytes of its canonical bits (an extension: datasketches-python has no float
//!   overload).
//! * The row seeds are those of datasketches-cpp built against GNU libstdc++ (the
//!   Linux wheels of datasketches-python): `std::default_random_engine` (minstd_rand0,
//!   seeded with `seed`) drawn through `std::uniform_int_distribution<uint64_t>` over
//!   the full range, each draw plus `seed` (see [`row_seeds`]). A C++ build on another
//!   standard library (libc++ on macOS, MSVC) draws other seeds, so its images do not
//!   cross with Linux ones; datasketches-java seeds its rows from `java.util.Random`,
//!   uses `floorMod` of the signed `h1`, and stores counters as longs: Java images
//!   share the header but not the counters, and do not cross either.
//! * datasketches-python's counters and total weight are doubles (`count_min_sketch<
//!   double>`), and so are ours: images hold them as IEEE-754 bits. Weights here are
//!   non-negative integers, exact below 2^53 as doubles; an image from Python with
//!   other weights (negative or fractional ones, which it accepts) reads and answers
//!   as Python does.
//! * Image: 16-byte preamble (preamble longs 2, serial version 1, family 18, flags with
//!   bit 0 "empty", 4 unused bytes; u32 `num_buckets`, u8 `num_hashes`, u16 seed hash,
//!   1 unused byte); when not empty, the total weight and then the counters row by row,
//!   as f64. The seed is not stored, only its 16-bit hash: reading needs the seed.

use crate::bulk::BySlice;
use crate::column::{Column, Numeric};
use crate::error::{corrupt, Error, Result};
use crate::hash::{canonical_f64_bits, checked_seed_hash, seed_hash, DEFAULT_SEED};
use bulk::{Buckets, Direct, Keys, Part, Rows, Source, StringItems, Unit, Weighted};
use serde_json::json;

mod bulk;

/// Family id of Count-Min images.
pub const FAMILY_ID: u8 = 18;
const SERIAL_VERSION: u8 = 1;
const PREAMBLE_LONGS: u8 = 2;
const FLAG_EMPTY: u8 = 1;
/// DataSketches' limit: fewer than 2^30 counters (Java indexes them with an `int`).
const MAX_COUNTERS: u64 = 1 << 30;

/// The default seed, DataSketches' 9001.
pub const DEFAULT_COUNTMIN_SEED: u64 = DEFAULT_SEED;

/// Buckets per row for a relative error `eps`: `ceil(e / eps)` (datasketches-cpp's
/// `suggest_num_buckets`), at least 3.
pub fn suggest_num_buckets(relative_error: f64) -> Result<u32> {
    if !(relative_error > 0.0 && relative_error.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "relative_error must be a positive number, got {relative_error}"
        )));
    }
    let b = (std::f64::consts::E / relative_error).ceil();
    if b > (MAX_COUNTERS - 1) as f64 {
        return Err(Error::InvalidArgument(format!(
            "relative_error {relative_error} needs {b} buckets, more than a sketch holds"
        )));
    }
    Ok((b as u32).max(3))
}

/// Rows for a confidence `1 - delta`: `ceil(ln(1 / delta))` (datasketches-cpp's
/// `suggest_num_hashes`), at least 1, at most 255.
pub fn suggest_num_hashes(confidence: f64) -> Result<u8> {
    if !(0.0..1.0).contains(&confidence) {
        return Err(Error::InvalidArgument(format!(
            "confidence must be in [0, 1), got {confidence}"
        )));
    }
    Ok((1.0 / (1.0 - confidence)).ln().ceil().clamp(1.0, 255.0) as u8)
}

/// `std::minstd_rand0`, which is libstdc++'s `std::default_random_engine`.
struct MinStdRand0(u64);

impl MinStdRand0 {
    const M: u64 = 2_147_483_647;

    fn new(seed: u64) -> Self {
        match seed % Self::M {
            0 => Self(1),
            x => Self(x),
        }
    }

    /// The next value, in `1..=M-1`.
    fn next(&mut self) -> u64 {
        self.0 = self.0 * 16807 % Self::M;
        self.0
    }
}

/// libstdc++'s `std::uniform_int_distribution<uint64_t>(0, range)` drawing from
/// minstd_rand0: a rejection-sampled division when the range is smaller than the
/// engine's, else a value built from a recursive draw for the high part and one engine
/// output for the low part, retried on wrap-around.
fn libstdcxx_uniform(rng: &mut MinStdRand0, range: u64) -> u64 {
    const ENGINE_RANGE: u64 = MinStdRand0::M - 2; // max - min = (M - 1) - 1
    if ENGINE_RANGE > range {
        let buckets = range + 1;
        let scaling = ENGINE_RANGE / buckets;
        let past = buckets * scaling;
        loop {
            let r = rng.next() - 1;
            if r < past {
                return r / scaling;
            }
        }
    } else if ENGINE_RANGE < range {
        let step = ENGINE_RANGE + 1;
        loop {
            let high = step.wrapping_mul(libstdcxx_uniform(rng, range / step));
            let r = high.wrapping_add(rng.next() - 1);
            if r <= range && r >= high {
                return r;
            }
        }
    } else {
        rng.next() - 1
    }
}

/// The MurmurHash3 seeds of the rows, as datasketches-cpp (on libstdc++) derives them.
pub fn row_seeds(seed: u64, num_hashes: u8) -> Vec<u64> {
    let mut rng = MinStdRand0::new(seed);
    (0..num_hashes)
        .map(|_| libstdcxx_uniform(&mut rng, u64::MAX).wrapping_add(seed))
        .collect()
}

/// Counters a sketch may have for the parallel bulk path to give each thread its own
/// integer copy (8 bytes each): above it, adding the copies would cost about as much
/// as hashing a part of a block.
const MAX_PARALLEL_COUNTERS: usize = 1 << 20;

/// Below 2^53 every integer is a double, so sums of integer weights are exact in any
/// order.
const EXACT_F64_INTEGERS: u64 = 1 << 53;

/// The largest weight of one item: counters are doubles (as datasketches-python's), which
/// hold every integer up to 2^53 exactly; a larger weight would be rounded, and could
/// then estimate below the item's true weight. Larger weights are an error.
pub const MAX_WEIGHT: u64 = EXACT_F64_INTEGERS;

fn weight_too_large(w: u64) -> Error {
    Error::InvalidArgument(format!(
        "weight {w} exceeds 2^53, the largest a Count-Min counter (a double) holds exactly"
    ))
}

/// An item's identity for hashing: [`crate::hash`]'s canonical bytes.
#[derive(Debug, Clone, Copy)]
pub enum CountMinItem<'a> {
    I64(i64),
    F64(f64),
    /// A string's UTF-8 bytes or any byte string; empty ones are not items.
    Bytes(&'a [u8]),
}

/// A Count-Min sketch of non-negative integer weights (kept as doubles, as
/// datasketches-python keeps them).
#[derive(Debug, Clone)]
pub struct CountMin {
    num_hashes: u8,
    num_buckets: u32,
    seed: u64,
    seed_hash: u16,
    row_seeds: Vec<u64>,
    /// `h1 % num_buckets`, the bucket of a row's hash.
    buckets: Buckets,
    total_weight: f64,
    /// Whether the total weight and every counter are integers in `0..=2^53` with no
    /// counter above the total: true unless an image said otherwise (datasketches-python
    /// accepts fractional and negative weights). While it holds, the parallel bulk path
    /// may add block sums in any order and get the per-item result exactly.
    integral: bool,
    /// Row-major: row `r`'s bucket `b` at `r * num_buckets + b`. Empty (all zero)
    /// until the first update or merge: a 16-byte empty image may name a shape of up
    /// to 2^30 counters, and reading it must not allocate them.
    counters: Vec<f64>,
}

fn check_shape(num_hashes: u8, num_buckets: u32) -> std::result::Result<(), String> {
    if num_hashes == 0 {
        return Err("num_hashes must be at least 1".into());
    }
    if num_buckets < 3 {
        return Err(format!(
            "num_buckets must be at least 3 (fewer gives a relative error above 1), got {num_buckets}"
        ));
    }
    if num_hashes as u64 * num_buckets as u64 >= MAX_COUNTERS {
        return Err(format!(
            "num_hashes * num_buckets = {} must be below 2^30",
            num_hashes as u64 * num_buckets as u64
        ));
    }
    Ok(())
}

fn f64_at(b: &[u8], at: usize) -> f64 {
    f64::from_bits(u64::from_le_bytes(
        b[at..at + 8].try_into().expect("8 bytes"),
    ))
}

impl CountMin {
    pub fn new(num_hashes: u8, num_buckets: u32, seed: u64) -> Result<Self> {
        check_shape(num_hashes, num_buckets).map_err(Error::InvalidArgument)?;
        let sh = checked_seed_hash(seed)?;
        Ok(Self {
            num_hashes,
            num_buckets,
            seed,
            seed_hash: sh,
            row_seeds: row_seeds(seed, num_hashes),
            buckets: Buckets::new(num_buckets),
            total_weight: 0.0,
            integral: true,
            counters: Vec::new(),
        })
    }

    pub fn num_hashes(&self) -> u8 {
        self.num_hashes
    }

    pub fn num_buckets(&self) -> u32 {
        self.num_buckets
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The sum of all weights.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    pub fn is_empty(&self) -> bool {
        self.total_weight == 0.0
    }

    /// `e / num_buckets`: estimates exceed true weights by at most this fraction of the
    /// total weight, with the confidence of `num_hashes`.
    pub fn relative_error(&self) -> f64 {
        std::f64::consts::E / self.num_buckets as f64
    }

    fn rows(&self) -> Rows<'_> {
        Rows {
            seeds: &self.row_seeds,
            buckets: self.buckets,
        }
    }

    /// The counter index of `item` in each row, in row order.
    #[inline(always)]
    fn for_each_bucket(&self, item: CountMinItem<'_>, mut f: impl FnMut(usize)) {
        let nb = self.num_buckets as usize;
        self.rows()
            .for_each(item, |row, b| f(row * nb + b as usize));
    }

    /// The counters, on first use. A shape may name up to 2^30 of them (8 GiB): a failed
    /// allocation is an error, not the end of the process.
    fn allocate(&mut self) -> Result<()> {
        if self.counters.is_empty() {
            let n = self.num_hashes as usize * self.num_buckets as usize;
            let mut counters = Vec::new();
            counters.try_reserve_exact(n).map_err(|_| {
                Error::InvalidArgument(format!(
                    "out of memory: cannot allocate the {n} counters ({} bytes) of a \
                     {} x {} Count-Min sketch",
                    n * 8,
                    self.num_hashes,
                    self.num_buckets
                ))
            })?;
            counters.resize(n, 0.0);
            self.counters = counters;
        }
        Ok(())
    }

    fn is_item(item: CountMinItem<'_>) -> bool {
        !matches!(item, CountMinItem::Bytes(b) if b.is_empty())
    }

    /// Adds `weight` occurrences of `item` (0 or an empty string: no update). Fails,
    /// changing nothing, on a weight above [`MAX_WEIGHT`] or if the counters cannot be
    /// allocated.
    #[inline]
    pub fn update(&mut self, item: CountMinItem<'_>, weight: u64) -> Result<()> {
        if weight == 0 || !Self::is_item(item) {
            return Ok(());
        }
        if weight > MAX_WEIGHT {
            return Err(weight_too_large(weight));
        }
        self.allocate()?;
        let w = weight as f64;
        self.total_weight += w;
        let mut idx = [0usize; 8];
        if self.num_hashes as usize <= idx.len() {
            // Hash every row first, then add: the adds do not wait on the hashes.
            let mut k = 0;
            self.for_each_bucket(item, |i| {
                idx[k] = i;
                k += 1;
            });
            for &i in &idx[..k] {
                self.counters[i] += w;
            }
        } else {
            let mut cells = Vec::with_capacity(self.num_hashes as usize);
            self.for_each_bucket(item, |i| cells.push(i));
            for i in cells {
                self.counters[i] += w;
            }
        }
        Ok(())
    }

    /// Bulk update of `n` items in input order (`item_at(i)`: `None` for a null;
    /// `weight_at(i)`: 0 for none). Equals `n` calls of [`Self::update`]; counters are
    /// sums, so the order never changes the result. `progress(done, n)` runs after
    /// every [`crate::bulk::BLOCK`] items; `false` stops with `Error::Cancelled`,
    /// leaving exactly the finished blocks applied.
    pub fn update_many<'a, I, W>(
        &mut self,
        n: usize,
        item_at: I,
        weight_at: W,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<CountMinItem<'a>>,
        W: Fn(usize) -> u64,
    {
        crate::bulk::in_blocks(n, progress, |block| {
            for i in block {
                if let Some(item) = item_at(i) {
                    self.update(item, weight_at(i))?;
                }
            }
            Ok(())
        })
    }

    /// Bulk update on every core, with exactly the result of [`Self::update_many`]
    /// (same arguments, progress, cancellation and prefix semantics). Each thread adds
    /// the weights of a part of a block into its own integer counters; the parts' sums
    /// are then added to the sketch's. Counters are doubles holding sums of integer
    /// weights, exact while at most 2^53, so the order of additions does not change
    /// them: a block is done this way when the total weight stays within 2^53 (and the
    /// sketch holds only integer counters, see `integral`), else item by item in input
    /// order, as are all blocks of sketches of more than 2^20 counters.
    pub fn update_many_parallel<'a, I, W>(
        &mut self,
        n: usize,
        item_at: I,
        weight_at: W,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        I: Fn(usize) -> Option<CountMinItem<'a>> + Sync,
        W: Fn(usize) -> u64 + Sync,
    {
        self.bulk(&bulk::ByIndex(n, item_at), &weight_at, false, progress)
    }

    /// The bulk update of [`Self::update_many_parallel`] and [`Self::update_column`]:
    /// item `i` of `source` weighs `weight(i)` (1 for every item when `unit`).
    fn bulk<S, W>(
        &mut self,
        source: &S,
        weight: W,
        unit: bool,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()>
    where
        S: Source,
        W: Fn(usize) -> u64 + Sync + Send + Copy,
    {
        let cells = self.num_hashes as usize * self.num_buckets as usize;
        crate::bulk::in_blocks(source.len(), progress, |block| {
            if !unit {
                if let Some(w) = block.clone().map(weight).find(|&w| w > MAX_WEIGHT) {
                    return Err(weight_too_large(w));
                }
            }
            if self.integral && cells <= MAX_PARALLEL_COUNTERS {
                let rows = self.rows();
                let added = if unit {
                    let parts = crate::bulk::par_parts(block.clone(), |part, out| {
                        let mut counts = Unit::new(rows);
                        source.feed(rows, part, &mut counts);
                        out.push(counts)
                    });
                    self.add_parts(parts)?
                } else {
                    let parts = crate::bulk::par_parts(block.clone(), |part, out| {
                        let mut counts = Weighted::new(rows, weight);
                        source.feed(rows, part, &mut counts);
                        out.push(counts)
                    });
                    self.add_parts(parts)?
                };
                if added {
                    return Ok(());
                }
            }
            self.allocate()?;
            let rows = Rows {
                seeds: &self.row_seeds,
                buckets: self.buckets,
            };
            let mut direct = Direct {
                nb: self.num_buckets as usize,
                counters: &mut self.counters,
                total: &mut self.total_weight,
                weight,
            };
            source.feed(rows, block, &mut direct);
            Ok(())
        })
    }

    /// Adds the threads' counts of a block to the sketch if the total stays within 2^53,
    /// where double sums of integers are exact in any order; else changes nothing and
    /// returns false.
    fn add_parts<P: Part>(&mut self, parts: Vec<P>) -> Result<bool> {
        let sum = parts.iter().fold(0u64, |s, p| s.saturating_add(p.sum()));
        // The total is an integer at most 2^53 here (`integral`).
        let fits = (self.total_weight as u64)
            .checked_add(sum)
            .is_some_and(|t| t <= EXACT_F64_INTEGERS);
        if fits && sum > 0 {
            self.allocate()?;
            for p in &parts {
                p.add_to(&mut self.counters);
            }
            self.total_weight += sum as f64;
        }
        Ok(fits)
    }

    /// Bulk update with a column (`weights[i]` for item `i`, 1 each without weights;
    /// nulls and empty strings are not items), on every core with the result of
    /// [`Self::update_many`] as [`Self::update_many_parallel`] describes: integers as
    /// int64 (uint64 above 2^63 by their bit pattern, bools as 0 and 1), floats as
    /// float64, each hashed with every row's seed a chunk at a time in vector registers;
    /// strings item by item. Progress and cancellation as [`Self::update_many`].
    pub fn update_column(
        &mut self,
        column: &Column<'_>,
        weights: Option<&[u64]>,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<()> {
        let n = column.len();
        if let Some(w) = weights {
            if w.len() != n {
                return Err(Error::InvalidArgument(format!(
                    "{} weights for {n} items",
                    w.len()
                )));
            }
            // All checked first: a bad weight leaves the sketch as it was.
            if let Some(&bad) = w.iter().find(|&&w| w > MAX_WEIGHT) {
                return Err(weight_too_large(bad));
            }
        }
        let unit = weights.is_none();
        let weight = |i: usize| weights.map_or(1, |w| w[i]);
        macro_rules! keys {
            ($s:expr, $v:ident => $key:expr) => {
                self.bulk(&Keys(BySlice::new($s, |$v| $key)), weight, unit, progress)
            };
        }
        match column {
            Column::Numeric(c) => match *c {
                Numeric::I8(s) => keys!(s, v => v as i64 as u64),
                Numeric::I16(s) => keys!(s, v => v as i64 as u64),
                Numeric::I32(s) => keys!(s, v => v as i64 as u64),
                Numeric::I64(s) => keys!(s, v => v as u64),
                Numeric::U8(s) => keys!(s, v => v as u64),
                Numeric::U16(s) => keys!(s, v => v as u64),
                Numeric::U32(s) => keys!(s, v => v as u64),
                Numeric::U64(s) => keys!(s, v => v),
                Numeric::F32(s) => keys!(s, v => canonical_f64_bits(v as f64)),
                Numeric::F64(s) => keys!(s, v => canonical_f64_bits(v)),
                Numeric::Bool(s) => keys!(s, v => (v != 0) as u64),
            },
            Column::Strings(c) => self.bulk(&StringItems(c), weight, unit, progress),
        }
    }

    /// The smallest counter of `item`: never below its true weight.
    pub fn estimate(&self, item: CountMinItem<'_>) -> f64 {
        if !Self::is_item(item) || self.counters.is_empty() {
            return 0.0;
        }
        let mut est = f64::INFINITY;
        self.for_each_bucket(item, |i| est = est.min(self.counters[i]));
        est
    }

    /// The estimate (a lower bound of it, as DataSketches defines it).
    pub fn lower_bound(&self, item: CountMinItem<'_>) -> f64 {
        self.estimate(item)
    }

    /// `estimate + relative_error * total_weight`.
    pub fn upper_bound(&self, item: CountMinItem<'_>) -> f64 {
        if !Self::is_item(item) {
            return 0.0;
        }
        self.estimate(item) + self.relative_error() * self.total_weight
    }

    /// Adds `other`'s counters. Both need the same `num_hashes`, `num_buckets` and seed.
    pub fn merge(&mut self, other: &CountMin) -> Result<()> {
        if (self.num_hashes, self.num_buckets, self.seed)
            != (other.num_hashes, other.num_buckets, other.seed)
        {
            return Err(Error::Incompatible(format!(
                "Count-Min sketches of {} hashes x {} buckets (seed {}) and {} x {} (seed {}) cannot merge",
                self.num_hashes, self.num_buckets, self.seed,
                other.num_hashes, other.num_buckets, other.seed
            )));
        }
        if other.counters.is_empty() {
            return Ok(());
        }
        self.allocate()?;
        for (a, b) in self.counters.iter_mut().zip(&other.counters) {
            *a += b;
        }
        self.total_weight += other.total_weight;
        // Integers stay integers; the bulk path checks the 2^53 bound itself.
        self.integral &= other.integral && self.total_weight <= EXACT_F64_INTEGERS as f64;
        Ok(())
    }

    /// The datasketches-python image (see the module documentation).
    pub fn serialize(&self) -> Vec<u8> {
        let empty = self.is_empty();
        let mut out = Vec::with_capacity(if empty {
            16
        } else {
            24 + 8 * self.counters.len()
        });
        out.extend_from_slice(&[
            PREAMBLE_LONGS,
            SERIAL_VERSION,
            FAMILY_ID,
            if empty { FLAG_EMPTY } else { 0 },
            0,
            0,
            0,
            0,
        ]);
        out.extend_from_slice(&self.num_buckets.to_le_bytes());
        out.push(self.num_hashes);
        out.extend_from_slice(&self.seed_hash.to_le_bytes());
        out.push(0);
        if !empty {
            // Not empty means updated, so the counters exist.
            out.extend_from_slice(&self.total_weight.to_le_bytes());
            for c in &self.counters {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        out
    }

    /// Reads a Count-Min image built with `seed` (the image holds only the seed's hash:
    /// another seed is `Error::Incompatible`). Sizes, lengths and values are checked:
    /// counters and total weight must be finite, the total weight non-negative.
    pub fn deserialize(bytes: &[u8], seed: u64) -> Result<Self> {
        if bytes.len() < 16 {
            return corrupt(format!(
                "a Count-Min image has at least 16 bytes, got {}",
                bytes.len()
            ));
        }
        if bytes[2] != FAMILY_ID {
            return corrupt(format!(
                "not a Count-Min image: family {}, expected {FAMILY_ID}",
                bytes[2]
            ));
        }
        if bytes[1] != SERIAL_VERSION || bytes[0] != PREAMBLE_LONGS {
            return corrupt(format!(
                "Count-Min serial version {} / preamble longs {} are not supported (expected 1 / 2)",
                bytes[1], bytes[0]
            ));
        }
        let flags = bytes[3];
        if flags & !FLAG_EMPTY != 0 {
            return corrupt(format!("Count-Min flags {flags:#04x} has unknown bits"));
        }
        let num_buckets = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let num_hashes = bytes[12];
        check_shape(num_hashes, num_buckets)
            .or_else(|m| corrupt(format!("Count-Min image: {m}")))?;
        let image_seed_hash = u16::from_le_bytes([bytes[13], bytes[14]]);
        let expected = seed_hash(seed);
        if image_seed_hash != expected {
            return Err(Error::Incompatible(format!(
                "Count-Min seed hash mismatch: the image has {image_seed_hash:#06x}, seed {seed} \
                 gives {expected:#06x} (the sketch was built with another seed)"
            )));
        }
        let cells = num_hashes as usize * num_buckets as usize;
        let want = if flags & FLAG_EMPTY != 0 {
            16
        } else {
            24 + 8 * cells
        };
        if bytes.len() != want {
            return corrupt(format!(
                "a Count-Min image of {num_hashes} x {num_buckets} counters has {want} bytes, got {}",
                bytes.len()
            ));
        }
        let mut sketch = Self::new(num_hashes, num_buckets, seed)?;
        if flags & FLAG_EMPTY != 0 {
            return Ok(sketch);
        }
        sketch.allocate()?;
        let total = f64_at(bytes, 16);
        if !(total.is_finite() && total >= 0.0) {
            return corrupt(format!(
                "Count-Min total weight {total} is not a finite non-negative number"
            ));
        }
        for (c, b) in sketch.counters.iter_mut().zip(bytes[24..].chunks_exact(8)) {
            *c = f64::from_bits(u64::from_le_bytes(b.try_into().expect("8 bytes")));
            if !c.is_finite() {
                return corrupt(format!("Count-Min counter {c} is not finite"));
            }
        }
        sketch.total_weight = total;
        let whole = |x: f64| x.fract() == 0.0 && (0.0..=EXACT_F64_INTEGERS as f64).contains(&x);
        sketch.integral = whole(total) && sketch.counters.iter().all(|&c| whole(c) && c <= total);
        Ok(sketch)
    }

    /// A JSON summary (shape, seed, weights, error).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "family": "count_min",
            "num_hashes": self.num_hashes,
            "num_buckets": self.num_buckets,
            "seed": self.seed,
            "empty": self.is_empty(),
            "total_weight": self.total_weight,
            "relative_error": self.relative_error(),
            "nonzero_counters": self.counters.iter().filter(|c| **c != 0.0).count(),
        })
    }
}

#[cfg(test)]
mod tests;
