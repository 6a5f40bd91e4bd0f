//! C surface of tuple sketches (`sketchbox_core::tuple`): Theta sketches with a `double`
//! or an `integer` summary per key, whose images are Spark SQL's `tuple_sketch_agg_*`
//! images (DataSketches Java's `DoubleSummary` / `IntegerSummary` compact sketches).

use crate::common::*;
use crate::theta::SkTheta;
use crate::update::hash_update_surface;
use sketchbox_core::column::Column;
use sketchbox_core::theta::{default_union_lg_k, CompactTheta, UnionInputSize};
use sketchbox_core::tuple::{
    a_not_b, a_not_theta, CompactTuple, DoubleSummary, IntegerSummary, Summary, SummaryMode,
    TupleIntersection, TupleUnion, UpdateTuple, DEFAULT_LG_K,
};
use sketchbox_core::Error;
use std::ffi::c_void;
use std::sync::Mutex;

/// The summary a tuple sketch keeps per key.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkTupleSummary {
    /// A double per key (Java's DoubleSummary; Spark's tuple_sketch_*_double): values are
    /// double, summary aggregates double.
    SK_TUPLE_DOUBLE = 1,
    /// An int32 per key (Java's IntegerSummary; Spark's tuple_sketch_*_integer): values
    /// are int32 (a sum wraps as Java's int does), summary aggregates int64.
    SK_TUPLE_INTEGER = 2,
}

c_enum_from_i32!(
    SkTupleSummary,
    "tuple summary type",
    [SK_TUPLE_DOUBLE, SK_TUPLE_INTEGER]
);

/// How a key's summary combines its values (the mode byte of each summary in an image;
/// Spark's mode names "sum", "min", "max", "alwaysone").
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkTupleMode {
    /// Adds the values (from 0).
    SK_TUPLE_SUM = 0,
    /// Keeps the smallest (from +infinity, or INT32_MAX); a NaN value never enters.
    SK_TUPLE_MIN = 1,
    /// Keeps the largest (from -infinity, or INT32_MIN); a NaN value never enters.
    SK_TUPLE_MAX = 2,
    /// Always 1: the sketch counts keys.
    SK_TUPLE_ALWAYSONE = 3,
}

c_enum_from_i32!(
    SkTupleMode,
    "tuple summary mode",
    [SK_TUPLE_SUM, SK_TUPLE_MIN, SK_TUPLE_MAX, SK_TUPLE_ALWAYSONE]
);

fn mode_of(code: i32) -> Result<SummaryMode, Error> {
    let mode = SkTupleMode::try_from(code)?;
    Ok(SummaryMode::from_byte(mode as u8).expect("SkTupleMode values are mode bytes"))
}

/// A tuple sketch in one of two states: an update sketch (sk_tuple_new, or a copy of
/// one), which accepts (key, value) pairs, or a compact sketch (the result of a set
/// operation or of sk_tuple_deserialize), which is immutable: updating it fails with
/// SK_ERR_READ_ONLY. Both answer every query, serialize, and enter set operations.
/// Owned by the caller; released by sk_tuple_free. Safe to share between threads: every
/// call takes the handle's internal lock (set operations lock their inputs one at a
/// time, so they never deadlock, even on the same handle twice).
pub struct SkTuple(Mutex<Tuple>);

/// What an SkTuple holds: a sketch of either summary type.
pub(crate) enum Tuple {
    Double(State<DoubleSummary>),
    Integer(State<IntegerSummary>),
}

/// An update or a compact sketch, with the summary mode of its updates (a compact
/// sketch's: the set operation's, or the one its image was read with) and its seed.
#[derive(Clone)]
pub(crate) enum State<S: Summary> {
    Update(UpdateTuple<S>),
    Compact(CompactTuple<S>, SummaryMode, u64),
}

impl Handle for SkTuple {
    type Inner = Tuple;
    fn wrap(value: Tuple) -> Self {
        SkTuple(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<Tuple> {
        &self.0
    }
}

/// Runs `$body` with `$s` bound to the `State` of either summary type.
macro_rules! with_state {
    ($tuple:expr, $s:ident => $body:expr) => {
        match $tuple {
            Tuple::Double($s) => $body,
            Tuple::Integer($s) => $body,
        }
    };
}

/// Runs `$body` with the type `$s` standing for the summary type `$kind` names.
macro_rules! by_summary {
    ($kind:expr, $s:ident => $body:expr) => {
        match $kind {
            SkTupleSummary::SK_TUPLE_DOUBLE => {
                type $s = DoubleSummary;
                $body
            }
            SkTupleSummary::SK_TUPLE_INTEGER => {
                type $s = IntegerSummary;
                $body
            }
        }
    };
}

/// The summary type of a tuple handle's sketch.
fn summary_of(tuple: &Tuple) -> SkTupleSummary {
    match tuple {
        Tuple::Double(_) => SkTupleSummary::SK_TUPLE_DOUBLE,
        Tuple::Integer(_) => SkTupleSummary::SK_TUPLE_INTEGER,
    }
}

/// What the C surface needs of a summary type beyond the core's [`Summary`].
pub(crate) trait CSummary: Summary {
    const TYPE: SkTupleSummary;
    /// The dtype of a bulk update's values.
    const VALUE_DTYPE: SkDtype;
    /// A one-item update's value, given as a double.
    fn value_of(v: f64) -> Result<Self::Value, Error>;
    fn state(tuple: &Tuple) -> Option<&State<Self>>;
    fn into_tuple(state: State<Self>) -> Tuple;
}

impl CSummary for DoubleSummary {
    const TYPE: SkTupleSummary = SkTupleSummary::SK_TUPLE_DOUBLE;
    const VALUE_DTYPE: SkDtype = SkDtype::SK_DTYPE_F64;
    fn value_of(v: f64) -> Result<f64, Error> {
        Ok(v)
    }
    fn state(tuple: &Tuple) -> Option<&State<Self>> {
        match tuple {
            Tuple::Double(s) => Some(s),
            Tuple::Integer(_) => None,
        }
    }
    fn into_tuple(state: State<Self>) -> Tuple {
        Tuple::Double(state)
    }
}

impl CSummary for IntegerSummary {
    const TYPE: SkTupleSummary = SkTupleSummary::SK_TUPLE_INTEGER;
    const VALUE_DTYPE: SkDtype = SkDtype::SK_DTYPE_I32;
    fn value_of(v: f64) -> Result<i32, Error> {
        if v.fract() == 0.0 && (i32::MIN as f64..=i32::MAX as f64).contains(&v) {
            Ok(v as i32)
        } else {
            Err(invalid(format!(
                "an integer tuple sketch takes int32 values, got {v}"
            )))
        }
    }
    fn state(tuple: &Tuple) -> Option<&State<Self>> {
        match tuple {
            Tuple::Integer(s) => Some(s),
            Tuple::Double(_) => None,
        }
    }
    fn into_tuple(state: State<Self>) -> Tuple {
        Tuple::Integer(state)
    }
}

impl<S: CSummary> State<S> {
    fn update_sketch(&mut self) -> Result<&mut UpdateTuple<S>, Error> {
        match self {
            State::Update(u) => Ok(u),
            State::Compact(..) => Err(Error::ReadOnly(
                "this tuple sketch is compact (the result of a set operation or of \
                 deserialization) and cannot be updated; union it with an update sketch"
                    .into(),
            )),
        }
    }

    fn seed(&self) -> u64 {
        match self {
            State::Update(u) => u.seed(),
            State::Compact(_, _, seed) => *seed,
        }
    }

    fn mode(&self) -> SummaryMode {
        match self {
            State::Update(u) => u.mode(),
            State::Compact(_, mode, _) => *mode,
        }
    }

    /// Calls `f` with the sketch in compact form (an update sketch's entries in its slot
    /// order, as Java's compact() lists them).
    fn with_compact<R>(&self, f: impl FnOnce(&CompactTuple<S>) -> R) -> R {
        match self {
            State::Update(u) => f(&u.compact()),
            State::Compact(c, _, _) => f(c),
        }
    }
}

/// The compact form of a tuple handle of summary `S`, taken under its lock;
/// SK_ERR_INCOMPATIBLE for a sketch of the other summary type.
unsafe fn snapshot<S: CSummary>(ptr: *const SkTuple) -> Result<CompactTuple<S>, ApiError> {
    let guard = SkTuple::lock(ptr)?;
    let state = S::state(&guard).ok_or_else(|| {
        Error::Incompatible(format!(
            "a tuple sketch of {} summaries cannot combine with one of {} summaries",
            S::NAME,
            other_name::<S>()
        ))
    })?;
    Ok(state.with_compact(CompactTuple::clone))
}

fn other_name<S: CSummary>() -> &'static str {
    match S::TYPE {
        SkTupleSummary::SK_TUPLE_DOUBLE => IntegerSummary::NAME,
        SkTupleSummary::SK_TUPLE_INTEGER => DoubleSummary::NAME,
    }
}

/// The compact form of a Theta handle, taken under its lock.
unsafe fn theta_snapshot(ptr: *const SkTheta) -> Result<CompactTheta, ApiError> {
    Ok(SkTheta::lock(ptr)?.with_compact(CompactTheta::clone))
}

unsafe fn new_compact<S: CSummary>(
    out: *mut *mut SkTuple,
    sketch: CompactTuple<S>,
    mode: SummaryMode,
    seed: u64,
) {
    *out = SkTuple::into_raw(S::into_tuple(State::Compact(sketch, mode, seed)));
}

/// Creates an empty update sketch in *out: summaries of type `summary` (an
/// SkTupleSummary) combining values by `mode` (an SkTupleMode), nominal size
/// k = 2^lg_k (lg_k from 4 to 26; Spark's lgNomEntries, default 12), hash `seed` (9001 is
/// the only seed DataSketches Java and Spark use; sketches combine only with sketches of
/// the same seed; one of seed hash 0 is refused, as sk_theta_new says). Keys hash exactly
/// as a Theta sketch's items, so a tuple sketch and a
/// Theta sketch of the same keys retain the same hashes. On success *out owns the sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_new(
    summary: i32,
    lg_k: i32,
    mode: i32,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let lg_k = small_param(lg_k, "lg_k must be from 4 to 26")?;
        let mode = mode_of(mode)?;
        let tuple = by_summary!(SkTupleSummary::try_from(summary)?, S => {
            S::into_tuple(State::Update(UpdateTuple::<S>::new(lg_k, 1.0, mode, seed)?))
        });
        *out = SkTuple::into_raw(tuple);
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_free(sketch: *mut SkTuple) {
    let _ = guard(|| {
        SkTuple::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` (same state: update or compact) in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_copy(sketch: *const SkTuple, out: *mut *mut SkTuple) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let copy = match &*SkTuple::lock(sketch)? {
            Tuple::Double(s) => Tuple::Double(s.clone()),
            Tuple::Integer(s) => Tuple::Integer(s.clone()),
        };
        *out = SkTuple::into_raw(copy);
        Ok(())
    })
}

/// Applies the keys of the column `make_column` builds with their `values` (both
/// validated before the sketch is locked: an invalid input changes nothing).
unsafe fn update_pairs<'a>(
    sketch: *mut SkTuple,
    make_column: impl FnOnce() -> Result<Column<'a>, Error>,
    values: *const c_void,
    value_dtype: i32,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    unsafe fn apply<S: CSummary>(
        state: &mut State<S>,
        keys: &Column<'_>,
        values: *const c_void,
        value_dtype: SkDtype,
        progress: &mut dyn FnMut(u64, u64) -> bool,
    ) -> Result<(), Error> {
        if value_dtype != S::VALUE_DTYPE {
            return Err(invalid(format!(
                "a {} tuple sketch takes values of dtype {:?}, got {value_dtype:?}",
                S::NAME,
                S::VALUE_DTYPE
            )));
        }
        let values = in_slice(values.cast::<S::Value>(), keys.len())?;
        state.update_sketch()?.update_column(keys, values, progress)
    }
    guard(|| {
        let keys = make_column()?;
        let value_dtype = SkDtype::try_from(value_dtype)?;
        let mut progress = progress_fn(progress, user);
        let mut inner = SkTuple::lock(sketch)?;
        Ok(with_state!(&mut *inner, s => apply(s, &keys, values, value_dtype, &mut progress))?)
    })
}

/// Applies one key, `hash(seed)` (`None`: not a key), with `value`.
unsafe fn update_pair(
    sketch: *mut SkTuple,
    value: f64,
    hash: impl FnOnce(u64) -> Option<(u64, u64)>,
) -> i32 {
    fn apply<S: CSummary>(
        state: &mut State<S>,
        value: f64,
        hash: impl FnOnce(u64) -> Option<(u64, u64)>,
    ) -> Result<(), Error> {
        let value = S::value_of(value)?;
        let sketch = state.update_sketch()?;
        if let Some((h1, _)) = hash(sketch.seed()) {
            sketch.update_hash(h1, value);
        }
        Ok(())
    }
    guard(|| {
        let mut inner = SkTuple::lock(sketch)?;
        Ok(with_state!(&mut *inner, s => apply(s, value, hash))?)
    })
}

hash_update_surface!(
    tuple_update,
    SkTuple,
    "tuple",
    "an update tuple sketch",
    " Each item is a key, hashed with the sketch's seed as a Theta sketch hashes items; key\n \
     i carries values[i]: `values` holds one value per item (nulls and empty strings\n \
     included, skipped with their key) of `value_dtype`, SK_DTYPE_F64 for a double sketch,\n \
     SK_DTYPE_I32 for an integer one (else SK_ERR_INVALID_ARGUMENT). The one-item forms\n \
     take it as `key_value`, a double, which must be an int32 for an integer sketch. A\n \
     compact sketch gives SK_ERR_READ_ONLY.",
    bulk: update_pairs[values: *const c_void, value_dtype: i32],
    one: update_pair[key_value: f64]
);

/// Writes the sketch's summary type (an SkTupleSummary) to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_summary_type(sketch: *const SkTuple, out: *mut i32) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = summary_of(&*SkTuple::lock(sketch)?) as i32;
        Ok(())
    })
}

/// Writes the sketch's summary mode (an SkTupleMode) to *out: the mode of its updates,
/// of the set operation that made it, or the one its image was read with.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_mode(sketch: *const SkTuple, out: *mut i32) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => s.mode()) as i32;
        Ok(())
    })
}

/// Writes the estimate of the number of distinct keys to *out (Spark's
/// tuple_sketch_estimate_*: the retained count, divided by theta in estimation mode).
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_estimate(sketch: *const SkTuple, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => s.with_compact(|c| c.estimate()));
        Ok(())
    })
}

/// A confidence bound of the number of distinct keys (Theta's binomial bounds on the
/// retained count; the count itself while exact).
unsafe fn bound(sketch: *const SkTuple, num_std: i32, upper: bool, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let sd = small_param(num_std, "num_std_devs must be 1, 2 or 3")?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => s.with_compact(|c| {
            if upper { c.upper_bound(sd) } else { c.lower_bound(sd) }
        }))?;
        Ok(())
    })
}

/// Writes the approximate lower confidence bound of the number of distinct keys at
/// `num_std` (1, 2 or 3) standard deviations to *out (Theta's binomial bounds on the
/// retained count; the count itself while exact). Spark has no such function.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_lower_bound(
    sketch: *const SkTuple,
    num_std: i32,
    out: *mut f64,
) -> i32 {
    bound(sketch, num_std, false, out)
}

/// Writes the approximate upper confidence bound at `num_std` (1, 2 or 3) standard
/// deviations to *out (see sk_tuple_lower_bound).
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_upper_bound(
    sketch: *const SkTuple,
    num_std: i32,
    out: *mut f64,
) -> i32 {
    bound(sketch, num_std, true, out)
}

/// Writes theta, the sampled fraction of the hash space, in (0, 1] to *out (Spark's
/// tuple_sketch_theta_*; 1 while exact and for an empty sketch).
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_theta(sketch: *const SkTuple, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => s.with_compact(|c| c.theta()));
        Ok(())
    })
}

/// Writes the number of retained keys to *out (an update sketch retains up to 15/16 of
/// 2k before it rebuilds to k, as Java's does).
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_num_retained(sketch: *const SkTuple, out: *mut u32) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => match s {
            State::Update(u) => u.num_retained(),
            State::Compact(c, _, _) => c.num_retained(),
        });
        Ok(())
    })
}

/// Writes true to *out if no key was ever presented to the sketch (or to the inputs of
/// the set operation that made it, as DataSketches defines it), else false.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_is_empty(sketch: *const SkTuple, out: *mut bool) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => match s {
            State::Update(u) => u.is_empty(),
            State::Compact(c, _, _) => c.is_empty(),
        });
        Ok(())
    })
}

/// Writes the hash seed the sketch was built (or read) with to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_seed(sketch: *const SkTuple, out: *mut u64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => s.seed());
        Ok(())
    })
}

/// Writes the lg_k an update sketch was built with to *out (0 for a compact sketch,
/// whose image does not record it).
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_lg_k(sketch: *const SkTuple, out: *mut u8) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_state!(&*SkTuple::lock(sketch)?, s => match s {
            State::Update(u) => u.lg_k(),
            State::Compact(..) => 0,
        });
        Ok(())
    })
}

/// Writes Spark's tuple_sketch_summary_double(sketch, mode) of a double sketch to *out:
/// the retained summaries' values aggregated by `mode` (an SkTupleMode) in entry order,
/// not scaled by theta: their sum, minimum or maximum (a NaN wins; 0 with no entries), or
/// their number for SK_TUPLE_ALWAYSONE. An integer sketch gives SK_ERR_INCOMPATIBLE.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_summary_double(
    sketch: *const SkTuple,
    mode: i32,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = mode_of(mode)?;
        *out =
            match &*SkTuple::lock(sketch)? {
                Tuple::Double(s) => s.with_compact(|c| c.summary(mode)),
                Tuple::Integer(_) => return Err(Error::Incompatible(
                    "sk_tuple_summary_double of an integer sketch: use sk_tuple_summary_integer"
                        .into(),
                )
                .into()),
            };
        Ok(())
    })
}

/// Writes Spark's tuple_sketch_summary_integer(sketch, mode) of an integer sketch to
/// *out: as sk_tuple_summary_double, each value widened to int64 first (a sum wraps as
/// an int64). A double sketch gives SK_ERR_INCOMPATIBLE.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_summary_integer(
    sketch: *const SkTuple,
    mode: i32,
    out: *mut i64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = mode_of(mode)?;
        *out = match &*SkTuple::lock(sketch)? {
            Tuple::Integer(s) => s.with_compact(|c| c.summary(mode)),
            Tuple::Double(_) => {
                return Err(Error::Incompatible(
                    "sk_tuple_summary_integer of a double sketch: use sk_tuple_summary_double"
                        .into(),
                )
                .into())
            }
        };
        Ok(())
    })
}

/// A set operation fed its operands in order: Java's tuple Union or Intersection.
trait Combine<S: CSummary> {
    fn tuple(&mut self, sketch: &CompactTuple<S>) -> Result<(), Error>;
    /// A Theta operand, whose keys carry `summary`.
    fn theta(&mut self, sketch: &CompactTheta, summary: S) -> Result<(), Error>;
    fn result(&self) -> Result<CompactTuple<S>, Error>;
}

impl<S: CSummary> Combine<S> for TupleUnion<S> {
    fn tuple(&mut self, sketch: &CompactTuple<S>) -> Result<(), Error> {
        self.update(sketch)
    }
    fn theta(&mut self, sketch: &CompactTheta, summary: S) -> Result<(), Error> {
        self.update_theta(sketch, summary)
    }
    fn result(&self) -> Result<CompactTuple<S>, Error> {
        Ok(TupleUnion::result(self))
    }
}

impl<S: CSummary> Combine<S> for TupleIntersection<S> {
    fn tuple(&mut self, sketch: &CompactTuple<S>) -> Result<(), Error> {
        self.update(sketch)
    }
    fn theta(&mut self, sketch: &CompactTheta, summary: S) -> Result<(), Error> {
        self.update_theta(sketch, summary)
    }
    fn result(&self) -> Result<CompactTuple<S>, Error> {
        TupleIntersection::result(self)
    }
}

/// The input handles of a set operation: input `i` is `sketches[i]`, or `thetas[i]`
/// where that is NULL (or `sketches` is); exactly one of them must be a handle.
struct Operands<'a> {
    sketches: &'a [*const SkTuple],
    thetas: &'a [*const SkTheta],
    n: usize,
}

impl Operands<'_> {
    unsafe fn new(
        sketches: *const *const SkTuple,
        thetas: *const *const SkTheta,
        n: usize,
    ) -> Result<Self, Error> {
        let slice = |present: bool| if present { n } else { 0 };
        Ok(Operands {
            sketches: in_slice(sketches, slice(!sketches.is_null()))?,
            thetas: in_slice(thetas, slice(!thetas.is_null()))?,
            n,
        })
    }

    fn tuple(&self, i: usize) -> *const SkTuple {
        self.sketches.get(i).copied().unwrap_or(std::ptr::null())
    }

    fn theta(&self, i: usize) -> *const SkTheta {
        self.thetas.get(i).copied().unwrap_or(std::ptr::null())
    }

    /// The summary type of the first tuple input (double if there is none).
    unsafe fn summary(&self) -> Result<SkTupleSummary, ApiError> {
        match self.sketches.iter().find(|h| !h.is_null()) {
            Some(&h) => Ok(summary_of(&*SkTuple::lock(h)?)),
            None => Ok(SkTupleSummary::SK_TUPLE_DOUBLE),
        }
    }

    /// The largest lg_k of the update sketches among the inputs (0 if none).
    unsafe fn default_union_lg_k(&self) -> Result<u8, ApiError> {
        let mut sizes = Vec::with_capacity(self.n);
        for &h in self.sketches.iter().filter(|h| !h.is_null()) {
            sizes.push(with_state!(&*SkTuple::lock(h)?, s => match s {
                State::Update(u) => UnionInputSize::Update(u.lg_k()),
                State::Compact(c, _, _) => UnionInputSize::Compact(c.num_retained()),
            }));
        }
        Ok(default_union_lg_k(sizes))
    }

    /// Feeds every input to `op` in order (one lock at a time) and writes the result,
    /// of mode `mode`, to *out.
    unsafe fn combine<S: CSummary>(
        &self,
        mut op: impl Combine<S>,
        mode: SummaryMode,
        seed: u64,
        out: *mut *mut SkTuple,
    ) -> Result<(), ApiError> {
        for i in 0..self.n {
            let (tuple, theta) = (self.tuple(i), self.theta(i));
            match (tuple.is_null(), theta.is_null()) {
                (false, true) => op.tuple(&snapshot::<S>(tuple)?),
                (true, false) => op.theta(&theta_snapshot(theta)?, S::new(mode)),
                _ => {
                    return Err(invalid(format!(
                        "set operation input {i}: exactly one of sketches[{i}] and \
                         thetas[{i}] must be a handle"
                    ))
                    .into())
                }
            }
            .map_err(at_image(i))?;
        }
        new_compact(out, op.result()?, mode, seed);
        Ok(())
    }
}

/// Writes to *out a new compact sketch, the union of `n` inputs as DataSketches Java's
/// tuple Union(2^lg_k, mode) fed them in order computes it (Spark's tuple_union_* and
/// tuple_union_theta_*; empty for n = 0). Input i is the tuple sketch sketches[i] or,
/// where that is NULL (or `sketches` is NULL), the Theta sketch thetas[i], whose keys
/// enter with a fresh summary of `mode` (0, +inf, -inf or 1); exactly one of the two must
/// be given. A key in several inputs gets its summaries combined by `mode` (an
/// SkTupleMode); a key in one keeps that input's summary. `lg_k`: from 4 to 26, or 0 for the
/// size that keeps every tuple input's precision, as sk_theta_union_many chooses it. The
/// tuple inputs
/// must share one summary type, which the result has (double with none); every non-empty
/// input must have been built with `seed` (else SK_ERR_INCOMPATIBLE, naming the input).
/// The inputs are unchanged and may repeat.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_union_many(
    sketches: *const *const SkTuple,
    thetas: *const *const SkTheta,
    n: usize,
    lg_k: i32,
    mode: i32,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = mode_of(mode)?;
        let inputs = Operands::new(sketches, thetas, n)?;
        let lg = match small_param(lg_k, "lg_k must be 0 or from 4 to 26")? {
            0 => inputs.default_union_lg_k()?,
            lg => lg,
        };
        by_summary!(inputs.summary()?, S => {
            inputs.combine(TupleUnion::<S>::new(lg, mode, seed)?, mode, seed, out)
        })
    })
}

/// Writes to *out a new compact sketch, the union of the `n` compact tuple images at
/// `data[i]` (`lens[i]` bytes each) of summary type `summary`, read with `seed`: the same
/// result as deserializing each and calling sk_tuple_union_many, in one call (`lg_k` 0
/// means 12). An invalid image gives SK_ERR_CORRUPT_DATA, another seed
/// SK_ERR_INCOMPATIBLE, each naming the image, and no result.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_tuple_union_images(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
    summary: i32,
    lg_k: i32,
    mode: i32,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = mode_of(mode)?;
        let lg = small_param(lg_k, "lg_k must be 0 or from 4 to 26")?;
        let lg = if lg == 0 { DEFAULT_LG_K } else { lg };
        let summary = SkTupleSummary::try_from(summary)?;
        let images = image_slices(data, lens, n)?;
        by_summary!(summary, S => {
            let mut union = TupleUnion::<S>::new(lg, mode, seed)?;
            each_image(&images, |b| union.update(&CompactTuple::<S>::deserialize(b, seed)?))?;
            new_compact(out, union.result(), mode, seed);
        });
        Ok(())
    })
}

/// Writes to *out a new compact sketch, the intersection of the `n` (at least 1) inputs
/// as DataSketches Java's tuple Intersection(mode) fed them in order computes it
/// (Spark's tuple_intersection_* and tuple_intersection_theta_*): the keys in every
/// input, each with its summaries combined by `mode` (an SkTupleMode; a Theta input's
/// keys carry a fresh summary of `mode`). Inputs as sk_tuple_union_many's.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_intersection_many(
    sketches: *const *const SkTuple,
    thetas: *const *const SkTheta,
    n: usize,
    mode: i32,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = mode_of(mode)?;
        if n == 0 {
            return Err(invalid("the intersection of no sketches is undefined").into());
        }
        let inputs = Operands::new(sketches, thetas, n)?;
        by_summary!(inputs.summary()?, S => {
            inputs.combine(TupleIntersection::<S>::new(mode, seed), mode, seed, out)
        })
    })
}

/// Writes to *out a new compact sketch of the keys of `a` not in `b` (Java's tuple AnotB
/// with `seed`; Spark's tuple_difference_*), with a's summaries unchanged, in a's order.
/// `b` is the tuple sketch `b`, or the Theta sketch `b_theta` where `b` is NULL
/// (tuple_difference_theta_*); exactly one must be given. A tuple `b` must have a's
/// summary type. The result keeps a's mode.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_a_not_b(
    a: *const SkTuple,
    b: *const SkTuple,
    b_theta: *const SkTheta,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        if b.is_null() == b_theta.is_null() {
            return Err(invalid("exactly one of b and b_theta must be a handle").into());
        }
        // One lock at a time: copy `a` out before locking `b`.
        let (summary, mode) = {
            let a = SkTuple::lock(a)?;
            (summary_of(&a), with_state!(&*a, s => s.mode()))
        };
        by_summary!(summary, S => {
            let a = snapshot::<S>(a)?;
            let result = if b.is_null() {
                a_not_theta(&a, &theta_snapshot(b_theta)?, seed)?
            } else {
                a_not_b(&a, &snapshot::<S>(b)?, seed)?
            };
            new_compact(out, result, mode, seed);
        });
        Ok(())
    })
}

/// Writes the sketch's compact image to *out: family 9, serial version 3, entries in
/// hash-table order, the bytes DataSketches Java's compact().toByteArray() writes for the
/// same sketch (for an update sketch, what Spark's tuple_sketch_agg_* writes for a
/// partition of the same rows). Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_serialize(sketch: *const SkTuple, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = with_state!(&*SkTuple::lock(sketch)?, s => s.with_compact(|c| c.serialize()));
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Reads a compact tuple image (serial version 3, from sketchbox, DataSketches Java or
/// C++, or Spark) of summary type `summary` (an SkTupleSummary) built with `seed` into a
/// new compact sketch in *out, whose mode for later set operations is `mode` (an
/// SkTupleMode; -1: the mode the image's summaries share, sum if they share none).
/// Bytes that are not a valid image (an integer image read as double included) give
/// SK_ERR_CORRUPT_DATA (never read out of bounds); an image of another seed gives
/// SK_ERR_INCOMPATIBLE.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_deserialize(
    data: *const u8,
    len: usize,
    summary: i32,
    mode: i32,
    seed: u64,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let mode = if mode == -1 {
            None
        } else {
            Some(mode_of(mode)?)
        };
        let bytes = in_slice(data, len)?;
        by_summary!(SkTupleSummary::try_from(summary)?, S => {
            let sketch = CompactTuple::<S>::deserialize(bytes, seed)?;
            let mode = mode.or(sketch.common_mode()).unwrap_or(SummaryMode::Sum);
            new_compact(out, sketch, mode, seed);
        });
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out: its kind
/// ("update" or "compact"), summary type and mode, parameters, theta, counts, estimate,
/// 2-sd bounds and summary aggregates. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_to_json(sketch: *const SkTuple, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let sk = SkTuple::lock(sketch)?;
        let json = with_state!(&*sk, s => {
            // The compact form's JSON for both states: Spark's summary in every mode.
            let mut json = s.with_compact(|c| c.to_json());
            if let State::Update(u) = s {
                json["kind"] = "update".into();
                json["lg_k"] = u.lg_k().into();
            }
            json["summary_mode"] = s.mode().name().into();
            json["seed"] = s.seed().into();
            json
        });
        Ok(json_out(&json, out)?)
    })
}

/// Writes to *out a new update sketch of nominal size 2^lg_k (4 to 26) holding the
/// entries, theta, summary type, mode and seed of the compact sketch `sketch`: an update
/// sketch brought back from its compact image (tuple images have no updatable form), as
/// unpickling needs. It answers as `sketch` and later updates continue as in the sketch
/// the image came from, though its images may list entries in another order. `sketch`
/// is unchanged; on success *out owns the new sketch (release it with sk_tuple_free).
/// SK_ERR_INVALID_ARGUMENT if `sketch` is an update sketch or lg_k is out of range.
#[no_mangle]
pub unsafe extern "C" fn sk_tuple_restore_update(
    sketch: *const SkTuple,
    lg_k: i32,
    out: *mut *mut SkTuple,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let lg_k = small_param(lg_k, "lg_k must be from 4 to 26")?;
        let restored = with_state!(&*SkTuple::lock(sketch)?, s => match s {
            State::Update(_) => return Err(invalid("sketch is already an update sketch").into()),
            State::Compact(c, mode, seed) => {
                CSummary::into_tuple(State::Update(UpdateTuple::restore(c, lg_k, *mode, *seed)?))
            }
        });
        *out = SkTuple::into_raw(restored);
        Ok(())
    })
}
