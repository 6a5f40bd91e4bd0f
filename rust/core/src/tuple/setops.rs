//! Union, intersection and difference of tuple sketches, each also with a Theta sketch as
//! the second operand (as Spark's `tuple_*_theta_*` functions allow).
//!
//! Each follows Java's `tuple.Union`, `tuple.Intersection` and `tuple.AnotB` step for
//! step, including the order of the result's entries (the slot order of Java's hash
//! tables, or A's order for a difference), so results serialize to Spark's bytes.

use super::summary::{combine, Summary, SummaryMode};
use super::table::TupleTable;
use super::{check_lg_k, CompactTuple};
use crate::hash::{checked_seed_hash, seed_hash};
use crate::theta::table::HashTable;
use crate::theta::{check_seed_hash_value, CompactTheta, MAX_THETA};
use crate::{Error, Result};

fn check_tuple_seed<S: Summary>(s: &CompactTuple<S>, expected: u16, what: &str) -> Result<()> {
    if s.is_empty() {
        Ok(())
    } else {
        check_seed_hash_value(s.seed_hash(), expected, what)
    }
}

fn check_theta_seed(s: &CompactTheta, expected: u16, what: &str) -> Result<()> {
    if s.is_empty() {
        Ok(())
    } else {
        check_seed_hash_value(s.seed_hash(), expected, what)
    }
}

/// Union of tuple sketches (and Theta sketches, whose keys enter with a given summary).
/// Keys present in several inputs get their summaries combined by the union's mode;
/// a key from one input keeps that input's summary (mode included).
#[derive(Clone, Debug)]
pub struct TupleUnion<S: Summary> {
    table: TupleTable<S>,
    union_theta: u64,
    empty: bool,
    mode: SummaryMode,
    seed_hash: u16,
}

impl<S: Summary> TupleUnion<S> {
    /// A union keeping up to `2^lg_k` keys (4..=26), combining summaries by `mode`, for
    /// sketches of `seed` (Spark: `tuple_union_*(a, b, lgNomEntries, mode)`).
    pub fn new(lg_k: u8, mode: SummaryMode, seed: u64) -> Result<Self> {
        check_lg_k(lg_k)?;
        Ok(TupleUnion {
            table: TupleTable::new(lg_k, 1.0),
            union_theta: MAX_THETA,
            empty: true,
            mode,
            seed_hash: checked_seed_hash(seed)?,
        })
    }

    /// Adds a tuple sketch. Fails only on a seed mismatch (the union is then unchanged).
    pub fn update(&mut self, sketch: &CompactTuple<S>) -> Result<()> {
        check_tuple_seed(sketch, self.seed_hash, "union input")?;
        if sketch.is_empty() {
            return Ok(());
        }
        self.empty = false;
        self.union_theta = self.union_theta.min(sketch.theta64());
        for (hash, summary) in sketch.entries() {
            self.table.merge(hash, summary, self.mode);
        }
        self.union_theta = self.union_theta.min(self.table.theta);
        Ok(())
    }

    /// Adds a Theta sketch: each of its keys enters with `summary` (Spark passes a fresh
    /// summary of the union's mode: 0 for sum, +inf for min, -inf for max, 1 for
    /// alwaysone).
    pub fn update_theta(&mut self, sketch: &CompactTheta, summary: S) -> Result<()> {
        check_theta_seed(sketch, self.seed_hash, "union input")?;
        if sketch.is_empty() {
            return Ok(());
        }
        self.empty = false;
        self.union_theta = self.union_theta.min(sketch.theta64());
        for &hash in sketch.entries() {
            self.table.merge(hash, &summary, self.mode);
        }
        self.union_theta = self.union_theta.min(self.table.theta);
        Ok(())
    }

    /// The union so far: at most `k` keys, below the smallest theta seen.
    pub fn result(&self) -> CompactTuple<S> {
        let table = &self.table;
        let k = 1usize << table.lg_nom;
        let all = |theta: u64, empty: bool| {
            let (hashes, summaries) = table
                .iter()
                .filter(|&(h, _)| h < theta)
                .map(|(h, s)| (h, *s))
                .unzip();
            CompactTuple::from_parts(empty, self.seed_hash, theta, hashes, summaries)
        };
        if self.empty || (self.union_theta >= table.theta && table.num_entries as usize <= k) {
            // Java: the table's own compact form.
            if table.num_entries == 0 {
                let theta = if table.is_empty {
                    MAX_THETA
                } else {
                    table.theta
                };
                return CompactTuple::from_parts(
                    table.is_empty,
                    self.seed_hash,
                    theta,
                    vec![],
                    vec![],
                );
            }
            return all(table.theta, table.is_empty);
        }
        let mut theta = self.union_theta.min(table.theta);
        let mut below: Vec<u64> = table.iter_hashes().filter(|&h| h < theta).collect();
        if below.len() > k {
            let (_, nth, _) = below.select_nth_unstable(k);
            theta = *nth;
        }
        all(theta, false)
    }

    /// Back to the freshly constructed state.
    pub fn reset(&mut self) {
        self.table = TupleTable::new(self.table.lg_nom, 1.0);
        self.union_theta = MAX_THETA;
        self.empty = true;
    }

    pub fn lg_k(&self) -> u8 {
        self.table.lg_nom
    }

    pub fn mode(&self) -> SummaryMode {
        self.mode
    }
}

/// Java's `HashTables` of the intersection: an open-addressing table sized for `count`
/// entries (at least 32 slots, at most 3/4 full).
#[derive(Clone, Debug)]
struct MatchTable<S: Summary> {
    lg_size: u8,
    slots: Vec<u64>,
    summaries: Vec<S>,
    count: usize,
}

impl<S: Summary> MatchTable<S> {
    fn from_entries(entries: impl Iterator<Item = (u64, S)>, count: usize) -> Self {
        // max(ceilingPowerOf2(ceil(count / 0.75)), 32)
        let target = ((count as f64) / 0.75).ceil() as usize;
        let size = target.next_power_of_two().max(32);
        let lg_size = size.trailing_zeros() as u8;
        let mut slots = vec![0u64; size];
        let mut summaries = vec![S::new(SummaryMode::Sum); size];
        let mut n = 0;
        for (hash, summary) in entries {
            let (index, _) = HashTable::find(&slots, lg_size, hash);
            slots[index] = hash;
            summaries[index] = summary;
            n += 1;
        }
        MatchTable {
            lg_size,
            slots,
            summaries,
            count: n,
        }
    }

    fn empty() -> Self {
        MatchTable {
            lg_size: 0,
            slots: Vec::new(),
            summaries: Vec::new(),
            count: 0,
        }
    }

    fn get(&self, hash: u64) -> Option<&S> {
        if self.count == 0 {
            return None;
        }
        match HashTable::find(&self.slots, self.lg_size, hash) {
            (index, true) => Some(&self.summaries[index]),
            _ => None,
        }
    }

    /// Keeps the entries of `other` (in `other`'s order) below `theta` that are present,
    /// their summaries combined by `mode`, in a new table.
    fn intersect<'a>(
        &self,
        other: impl Iterator<Item = (u64, &'a S)>,
        other_count: usize,
        theta: u64,
        mode: SummaryMode,
    ) -> Self {
        let mut matched = Vec::with_capacity(self.count.min(other_count));
        for (hash, summary) in other {
            if hash >= theta {
                continue;
            }
            if let Some(mine) = self.get(hash) {
                matched.push((hash, combine(mode, mine, summary)));
            }
        }
        let n = matched.len();
        Self::from_entries(matched.into_iter(), n)
    }
}

/// Intersection of tuple sketches (and Theta sketches, whose keys carry a given summary).
/// Summaries of a key are combined by the intersection's mode.
#[derive(Clone, Debug)]
pub struct TupleIntersection<S: Summary> {
    mode: SummaryMode,
    seed_hash: u16,
    first_call: bool,
    empty: bool,
    theta: u64,
    table: MatchTable<S>,
}

impl<S: Summary> TupleIntersection<S> {
    /// An intersection combining summaries by `mode` (Spark: `tuple_intersection_*(a, b,
    /// mode)`), for sketches of `seed`.
    pub fn new(mode: SummaryMode, seed: u64) -> Self {
        TupleIntersection {
            mode,
            seed_hash: seed_hash(seed),
            first_call: true,
            empty: false,
            theta: MAX_THETA,
            table: MatchTable::empty(),
        }
    }

    fn intersect_entries<'a>(
        &mut self,
        empty_in: bool,
        theta_in: u64,
        entries: impl Iterator<Item = (u64, &'a S)>,
        count: usize,
    ) {
        let first_call = std::mem::replace(&mut self.first_call, false);
        if self.empty || empty_in {
            self.empty = true;
            self.theta = MAX_THETA;
            self.table = MatchTable::empty();
            return;
        }
        self.theta = self.theta.min(theta_in);
        if count == 0 {
            self.table = MatchTable::empty();
            return;
        }
        if first_call {
            self.table = MatchTable::from_entries(entries.map(|(h, s)| (h, *s)), count);
        } else if self.table.count > 0 {
            self.table = self.table.intersect(entries, count, self.theta, self.mode);
        }
    }

    /// Intersects with a tuple sketch. Fails only on a seed mismatch (unchanged then).
    pub fn update(&mut self, sketch: &CompactTuple<S>) -> Result<()> {
        check_tuple_seed(sketch, self.seed_hash, "intersection input")?;
        self.intersect_entries(
            sketch.is_empty(),
            sketch.theta64(),
            sketch.entries(),
            sketch.hashes().len(),
        );
        Ok(())
    }

    /// Intersects with a Theta sketch whose keys all carry `summary` (Spark passes a fresh
    /// summary of the intersection's mode, which leaves the other side's values as they
    /// are, but for `alwaysone`).
    pub fn update_theta(&mut self, sketch: &CompactTheta, summary: S) -> Result<()> {
        check_theta_seed(sketch, self.seed_hash, "intersection input")?;
        let entries = sketch.entries();
        self.intersect_entries(
            sketch.is_empty(),
            sketch.theta64(),
            entries.iter().map(|&h| (h, &summary)),
            entries.len(),
        );
        Ok(())
    }

    /// True once an update has been made.
    pub fn has_result(&self) -> bool {
        !self.first_call
    }

    /// The intersection so far; an error before the first update. As Java's, a result
    /// without entries at theta 1 from non-empty inputs is non-empty (its image has 2
    /// preamble longs and a count of 0).
    pub fn result(&self) -> Result<CompactTuple<S>> {
        if self.first_call {
            return Err(Error::InvalidArgument(
                "intersection result requested before any update".into(),
            ));
        }
        let (hashes, summaries) = self
            .table
            .slots
            .iter()
            .zip(&self.table.summaries)
            .filter(|(&h, _)| h != 0 && h <= self.theta)
            .map(|(&h, s)| (h, *s))
            .unzip();
        Ok(CompactTuple::from_parts(
            self.empty,
            self.seed_hash,
            self.theta,
            hashes,
            summaries,
        ))
    }

    pub fn mode(&self) -> SummaryMode {
        self.mode
    }
}

/// The state of a set-operation operand as Java's `SetOperationCornerCases` sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Operand {
    /// No key seen, or (sketchbox's reading of Java's illegal state) non-empty with no
    /// entries at theta 1: either way the empty set, known exactly.
    Empty,
    /// Theta 1, entries.
    Exact,
    /// Theta below 1, entries.
    Estimation,
    /// Theta below 1, no entries.
    Degenerate,
}

fn operand(empty: bool, count: usize, theta: u64) -> Operand {
    match (empty || theta == MAX_THETA, count > 0) {
        (true, false) => Operand::Empty,
        (true, true) if empty => Operand::Empty,
        (true, true) => Operand::Exact,
        (false, true) => Operand::Estimation,
        (false, false) => Operand::Degenerate,
    }
}

/// A \ B where B is a set of hashes with theta `theta_b`; `contains_b` tests membership.
fn difference<S: Summary>(
    a: &CompactTuple<S>,
    b_empty: bool,
    b_count: usize,
    b_theta: u64,
    contains_b: impl Fn(u64) -> bool,
    sh: u16,
) -> CompactTuple<S> {
    let theta_a = a.theta64();
    let state_a = operand(a.is_empty(), a.hashes().len(), theta_a);
    let state_b = operand(b_empty, b_count, b_theta);
    let min_theta = theta_a.min(b_theta);
    let empty_result = || CompactTuple::from_parts(true, sh, MAX_THETA, vec![], vec![]);
    let degenerate =
        |theta: u64| CompactTuple::from_parts(theta == MAX_THETA, sh, theta, vec![], vec![]);
    let keep = |theta: u64, f: &dyn Fn(u64) -> bool| {
        let (hashes, summaries): (Vec<u64>, Vec<S>) = a
            .entries()
            .filter(|&(h, _)| h < theta && f(h))
            .map(|(h, s)| (h, *s))
            .unzip();
        if hashes.is_empty() {
            degenerate(theta)
        } else {
            CompactTuple::from_parts(false, sh, theta, hashes, summaries)
        }
    };
    use Operand::*;
    match (state_a, state_b) {
        (Empty, _) => empty_result(),
        (Exact | Estimation, Empty) => keep(theta_a, &|_| true),
        (Exact | Estimation, Degenerate) => keep(min_theta, &|_| true),
        (Exact | Estimation, Exact | Estimation) => keep(min_theta, &|h| !contains_b(h)),
        (Degenerate, Empty | Exact) => degenerate(theta_a),
        (Degenerate, Estimation | Degenerate) => degenerate(min_theta),
    }
}

/// The set difference A \ B of tuple sketches: A's entries (in A's order, summaries
/// unchanged) whose keys are not in B, below the smaller theta. Java's (and Spark's
/// `tuple_difference_*`) corner cases: an empty A gives an empty result, an empty B gives
/// A, a degenerate operand (theta < 1, no entries) lowers theta.
pub fn a_not_b<S: Summary>(
    a: &CompactTuple<S>,
    b: &CompactTuple<S>,
    seed: u64,
) -> Result<CompactTuple<S>> {
    let sh = seed_hash(seed);
    check_tuple_seed(a, sh, "a_not_b input A")?;
    check_tuple_seed(b, sh, "a_not_b input B")?;
    let mut b_keys: Vec<u64> = b.hashes().to_vec();
    b_keys.sort_unstable();
    Ok(difference(
        a,
        b.is_empty(),
        b.hashes().len(),
        b.theta64(),
        |h| b_keys.binary_search(&h).is_ok(),
        sh,
    ))
}

/// The set difference A \ B with a Theta sketch B (Spark's `tuple_difference_theta_*`).
pub fn a_not_theta<S: Summary>(
    a: &CompactTuple<S>,
    b: &CompactTheta,
    seed: u64,
) -> Result<CompactTuple<S>> {
    let sh = seed_hash(seed);
    check_tuple_seed(a, sh, "a_not_b input A")?;
    check_theta_seed(b, sh, "a_not_b input B")?;
    let mut b_keys: Vec<u64> = b.entries().to_vec();
    if !b.is_ordered() {
        b_keys.sort_unstable();
    }
    Ok(difference(
        a,
        b.is_empty(),
        b_keys.len(),
        b.theta64(),
        |h| b_keys.binary_search(&h).is_ok(),
        sh,
    ))
}
