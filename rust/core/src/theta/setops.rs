//! Union, intersection, difference and Jaccard similarity with Apache DataSketches'
//! semantics, including its rules for empty sketches:
//!
//! * an empty input is the empty set with theta 1: it leaves a union unchanged, makes an
//!   intersection empty, and `a_not_b(empty, b)` is empty;
//! * a non-empty input without entries (theta < 1, nothing sampled) still lowers theta;
//! * a result with no entries and theta 1 is empty.
//!
//! Every non-empty input must carry the seed hash of the operation's seed
//! ([`Error::Incompatible`] otherwise); empty inputs are not checked (DataSketches does not
//! check them either, and Java writes seed hash 0 into empty images).

use super::compact::{serial_version, V3View, V4View};
use super::table::{starting_lg_size, starting_theta, HashTable};
use super::{bounds, check_lg_k, check_seed_hash_value, CompactTheta, LG_RESIZE_FACTOR};
use super::{MAX_LG_K, MAX_THETA, MIN_LG_K};
use crate::hash::{checked_seed_hash, seed_hash};
use crate::{Error, Result};

/// Union of Theta sketches: a QuickSelect table of nominal size `k = 2^lg_k`.
#[derive(Clone)]
pub struct ThetaUnion {
    table: HashTable,
    union_theta: u64,
    start_theta: u64,
    seed: u64,
    seed_hash: u16,
}

impl std::fmt::Debug for ThetaUnion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThetaUnion")
            .field("lg_k", &self.table.lg_nom)
            .field("empty", &self.table.is_empty)
            .field("union_theta", &self.union_theta)
            .field("num_entries", &self.table.num_entries)
            .finish()
    }
}

impl ThetaUnion {
    /// A union with nominal size `2^lg_k` (5..=26) for sketches built with `seed`.
    pub fn new(lg_k: u8, seed: u64) -> Result<Self> {
        Self::with_p(lg_k, 1.0, seed)
    }

    /// As [`Self::new`], with an up-front sampling probability `p` in (0, 1].
    pub fn with_p(lg_k: u8, p: f32, seed: u64) -> Result<Self> {
        check_lg_k(lg_k)?;
        if !(p > 0.0 && p <= 1.0) || starting_theta(p) == 0 {
            return Err(Error::InvalidArgument(format!(
                "sampling probability p must be in (0, 1] and at least 2^-63, got {p}"
            )));
        }
        let theta = starting_theta(p);
        Ok(ThetaUnion {
            table: HashTable::new(
                starting_lg_size(lg_k, LG_RESIZE_FACTOR),
                lg_k,
                LG_RESIZE_FACTOR,
                theta,
            ),
            union_theta: theta,
            start_theta: theta,
            seed,
            seed_hash: checked_seed_hash(seed)?,
        })
    }

    /// Adds a sketch. Fails only on a seed mismatch, leaving the union unchanged.
    pub fn update(&mut self, sketch: &CompactTheta) -> Result<()> {
        if sketch.is_empty() {
            return Ok(());
        }
        check_seed_hash_value(sketch.seed_hash(), self.seed_hash, "union input")?;
        self.table.is_empty = false;
        self.union_theta = self.union_theta.min(sketch.theta64());
        for &hash in sketch.entries() {
            if hash < self.union_theta && hash < self.table.theta {
                self.table.insert_if_absent(hash);
            } else if sketch.is_ordered() {
                break;
            }
        }
        self.union_theta = self.union_theta.min(self.table.theta);
        Ok(())
    }

    /// Adds the sketch of a compact image (any serial version) without building it
    /// when it is ordered: serial version 3 (the form DataSketches and sketchbox write)
    /// or 4 (compressed). Its entries are read only up to the union's theta, so a union
    /// of many large images reads a few entries of each. Each entry read is checked as
    /// [`CompactTheta::deserialize`] checks it; entries past the union's theta are not
    /// read, so an image corrupt only there is not noticed (and cannot change the
    /// result). Other images are deserialized in full, then added.
    ///
    /// Errors: [`Error::CorruptData`] for an invalid image (the union may then hold part
    /// of it), [`Error::Incompatible`] for another seed (the union is unchanged).
    pub fn update_image(&mut self, bytes: &[u8]) -> Result<()> {
        if super::update_image::is_update_image(bytes) {
            return self.update(&CompactTheta::deserialize(bytes, self.seed)?);
        }
        match serial_version(bytes)? {
            3 => {
                let view = V3View::parse(bytes, self.seed)?;
                if !view.ordered {
                    return self.update(&CompactTheta::deserialize(bytes, self.seed)?);
                }
                let entries = view.checked_entries()?;
                if view.empty {
                    return Ok(());
                }
                self.add_ordered(view.theta, entries)
            }
            4 => {
                let view = V4View::parse(bytes, self.seed)?;
                self.add_ordered(view.theta, view.checked_entries()?)
            }
            _ => self.update(&CompactTheta::deserialize(bytes, self.seed)?),
        }
    }

    /// Adds a non-empty ordered sketch given by its theta and checked entries, reading
    /// them only while they are below the union's theta.
    fn add_ordered(
        &mut self,
        theta: u64,
        entries: impl Iterator<Item = Result<u64>>,
    ) -> Result<()> {
        self.table.is_empty = false;
        self.union_theta = self.union_theta.min(theta);
        for hash in entries {
            let hash = hash?;
            if hash < self.union_theta && hash < self.table.theta {
                self.table.insert_if_absent(hash);
            } else {
                break;
            }
        }
        self.union_theta = self.union_theta.min(self.table.theta);
        Ok(())
    }

    /// The union so far, ordered.
    pub fn result(&self) -> CompactTheta {
        if self.table.is_empty {
            return CompactTheta::from_parts(true, true, self.seed_hash, self.union_theta, vec![]);
        }
        let mut theta = self.union_theta.min(self.table.theta);
        let mut entries: Vec<u64> = self.table.iter().filter(|&h| h < theta).collect();
        let k = 1usize << self.table.lg_nom;
        if entries.len() > k {
            let (_, nth, _) = entries.select_nth_unstable(k);
            theta = *nth;
            entries.truncate(k);
        }
        entries.sort_unstable();
        CompactTheta::from_parts(false, true, self.seed_hash, theta, entries)
    }

    /// Back to the freshly constructed state.
    pub fn reset(&mut self) {
        let lg_k = self.table.lg_nom;
        self.table = HashTable::new(
            starting_lg_size(lg_k, LG_RESIZE_FACTOR),
            lg_k,
            LG_RESIZE_FACTOR,
            self.start_theta,
        );
        self.union_theta = self.start_theta;
    }

    /// Nominal size exponent.
    pub fn lg_k(&self) -> u8 {
        self.table.lg_nom
    }

    /// The hash seed of the sketches this union accepts.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Intersection of Theta sketches.
#[derive(Clone, Debug)]
pub struct ThetaIntersection {
    seed_hash: u16,
    valid: bool,
    empty: bool,
    theta: u64,
    /// Sorted ascending.
    entries: Vec<u64>,
}

impl ThetaIntersection {
    pub fn new(seed: u64) -> Self {
        ThetaIntersection {
            seed_hash: seed_hash(seed),
            valid: false,
            empty: false,
            theta: MAX_THETA,
            entries: Vec::new(),
        }
    }

    /// Intersects the state with `sketch` (the first update sets the state to it). Fails
    /// only on a seed mismatch, leaving the intersection unchanged.
    pub fn update(&mut self, sketch: &CompactTheta) -> Result<()> {
        if !sketch.is_empty() {
            check_seed_hash_value(sketch.seed_hash(), self.seed_hash, "intersection input")?;
        }
        if self.empty {
            return Ok(());
        }
        self.empty |= sketch.is_empty();
        self.theta = self.theta.min(sketch.theta64());
        if self.valid && self.entries.is_empty() {
            return Ok(());
        }
        if sketch.num_retained() == 0 {
            self.valid = true;
            self.entries.clear();
            return Ok(());
        }
        if !self.valid {
            self.valid = true;
            self.entries = sketch.sorted_entries().into_owned();
            return Ok(());
        }
        let other = sketch.sorted_entries();
        let matched = intersect_sorted(&self.entries, &other, self.theta);
        if matched.is_empty() && self.theta == MAX_THETA {
            self.empty = true;
        }
        self.entries = matched;
        Ok(())
    }

    /// True once [`Self::update`] has been called.
    pub fn has_result(&self) -> bool {
        self.valid
    }

    /// The intersection so far, ordered; an error before the first update (the
    /// intersection of nothing is undefined).
    pub fn result(&self) -> Result<CompactTheta> {
        if !self.valid {
            return Err(Error::InvalidArgument(
                "intersection result requested before any update".into(),
            ));
        }
        Ok(CompactTheta::from_parts(
            self.empty,
            true,
            self.seed_hash,
            self.theta,
            self.entries.clone(),
        ))
    }
}

/// Entries of `a` also in `b` and below `theta` (both sorted ascending).
fn intersect_sorted(a: &[u64], b: &[u64], theta: u64) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x >= theta || y >= theta {
            break;
        }
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The set difference A \ B, ordered.
pub fn a_not_b(a: &CompactTheta, b: &CompactTheta, seed: u64) -> Result<CompactTheta> {
    let sh = seed_hash(seed);
    if a.is_empty() {
        // Nothing to take from: as in DataSketches, neither seed matters.
        return Ok(a.to_ordered());
    }
    check_seed_hash_value(a.seed_hash(), sh, "a_not_b input A")?;
    if !b.is_empty() {
        check_seed_hash_value(b.seed_hash(), sh, "a_not_b input B")?;
    }
    if a.is_empty() || (a.num_retained() > 0 && b.is_empty()) {
        return Ok(a.to_ordered());
    }
    let theta = a.theta64().min(b.theta64());
    let a_sorted = a.sorted_entries();
    let b_sorted = b.sorted_entries();
    let mut entries = Vec::with_capacity(a_sorted.len());
    let mut j = 0;
    for &x in a_sorted.iter() {
        if x >= theta {
            break;
        }
        while j < b_sorted.len() && b_sorted[j] < x {
            j += 1;
        }
        if j < b_sorted.len() && b_sorted[j] == x {
            continue;
        }
        entries.push(x);
    }
    let empty = entries.is_empty() && theta == MAX_THETA;
    Ok(CompactTheta::from_parts(empty, true, sh, theta, entries))
}

/// Jaccard similarity `|A ∩ B| / |A ∪ B|` as `(lower bound, estimate, upper bound)`, the
/// bounds at about 95% confidence (DataSketches' `theta_jaccard_similarity`): two empty
/// sketches are identical (1, 1, 1); one empty and one not are disjoint (0, 0, 0).
pub fn jaccard(a: &CompactTheta, b: &CompactTheta, seed: u64) -> Result<(f64, f64, f64)> {
    if std::ptr::eq(a, b) {
        return Ok((1.0, 1.0, 1.0));
    }
    if a.is_empty() && b.is_empty() {
        return Ok((1.0, 1.0, 1.0));
    }
    if a.is_empty() || b.is_empty() {
        // DataSketches returns before any seed check here; we still reject a foreign seed.
        let sh = seed_hash(seed);
        for s in [a, b] {
            if !s.is_empty() {
                check_seed_hash_value(s.seed_hash(), sh, "jaccard input")?;
            }
        }
        return Ok((0.0, 0.0, 0.0));
    }
    // A union large enough to keep everything: lg_k = log2(ceil_pow2(count_a + count_b)).
    let count = a.num_retained() as u64 + b.num_retained() as u64;
    let lg = if count <= 1 {
        0
    } else {
        64 - (count - 1).leading_zeros()
    };
    let lg_k = (lg as u8).clamp(MIN_LG_K, MAX_LG_K);
    let mut union = ThetaUnion::new(lg_k, seed)?;
    union.update(a)?;
    union.update(b)?;
    let union_ab = union.result();
    let identical = |s: &CompactTheta| {
        union_ab.num_retained() == s.num_retained() && union_ab.theta64() == s.theta64()
    };
    if identical(a) && identical(b) {
        return Ok((1.0, 1.0, 1.0));
    }
    let mut inter = ThetaIntersection::new(seed);
    inter.update(a)?;
    inter.update(b)?;
    inter.update(&union_ab)?;
    let inter_abu = inter.result()?;

    // Bounds on the ratio |inter| / |union|, sampled at the intersection's theta.
    let theta_b = inter_abu.theta64();
    let count_b = inter_abu.num_retained() as u64;
    let count_a = if union_ab.theta64() == theta_b {
        union_ab.num_retained() as u64
    } else {
        union_ab.entries().iter().filter(|&&h| h < theta_b).count() as u64
    };
    let f = inter_abu.theta();
    let lower = if count_a == 0 {
        0.0
    } else {
        bounds::ratio_lower_bound(count_a, count_b, f)
    };
    let upper = if count_a == 0 {
        1.0
    } else {
        bounds::ratio_upper_bound(count_a, count_b, f)
    };
    Ok((lower, bounds::ratio_estimate(count_a, count_b), upper))
}
