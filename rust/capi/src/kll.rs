//! C surface of the KLL quantiles sketch (`sketchbox_core::kll`).

use crate::common::*;
use sketchbox_core::bulk::update_values;
use sketchbox_core::column::Numeric;
use sketchbox_core::kll::{KllItem, KllSketch};
use sketchbox_core::Error;
use std::ffi::c_void;
use std::sync::Mutex;

/// A KLL quantiles sketch (Apache DataSketches-compatible) of double, float or int64
/// items, chosen at creation (an SkKllType). Double and float sketches take and answer
/// items through the functions on `double`; int64 sketches through the `_i64` functions
/// on `int64_t` (exact over the whole range), and the other calls to them give
/// SK_ERR_INVALID_ARGUMENT naming the call to use. Created by sk_kll_new, sk_kll_new_seeded,
/// sk_kll_copy or sk_kll_deserialize; owned by the caller; released by sk_kll_free.
/// Safe to share between threads: every call takes the handle's internal lock, so
/// concurrent updates are applied one call after another and none is lost.
///
/// Accuracy: with parameter k the normalized rank error of every rank, quantile and
/// CDF answer of one sketch stays below 2.296 / k^0.9723 (k = 200: 1.33%), and of
/// every PMF bucket below 2.446 / k^0.9433 (1.65%), with 99% confidence; up to k
/// items the sketch is exact. Queries follow DataSketches: `inclusive` true is its
/// INCLUSIVE search criterion (rank(x) is the fraction of items <= x; quantile(r) is
/// the smallest item of the sorted view whose inclusive rank is >= r), false is
/// EXCLUSIVE (items < x; the smallest whose inclusive rank is > r). The answers are
/// Java DataSketches' (Spark's, Druid's), which differ from C++/Python's in two ways:
/// r * n is rounded to 7 decimals before its ceiling or floor while n <= 10^7, and
/// the sorted view holds the exact min and max (ranks 0 and 1 answer them; the
/// largest retained item has rank (n - 1) / n when the max was not retained). Queries
/// on an empty sketch fail with SK_ERR_EMPTY, as DataSketches throws. NaN items are
/// ignored by updates (as in DataSketches) and are not counted.
pub struct SkKll(Mutex<Kll>);

/// What an SkKll holds: a sketch of one item type.
pub(crate) enum Kll {
    F64(KllSketch<f64>),
    F32(KllSketch<f32>),
    I64(KllSketch<i64>),
}

impl Handle for SkKll {
    type Inner = Kll;
    fn wrap(value: Kll) -> Self {
        SkKll(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<Kll> {
        &self.0
    }
}

/// Item type of a KLL sketch; images do not record it, so the reader names it too.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkKllType {
    /// double items: DataSketches' kll_doubles_sketch / KllDoublesSketch.
    SK_KLL_F64 = 0,
    /// float items: DataSketches' kll_floats_sketch / KllFloatsSketch.
    SK_KLL_F32 = 1,
    /// int64 items: Java DataSketches' KllLongsSketch (Spark's kll_sketch_agg_bigint).
    SK_KLL_I64 = 2,
}

/// Runs `$body` with `$s` bound to the sketch inside a `Kll`, whatever its item type.
macro_rules! with_kll {
    ($kll:expr, $s:ident => $body:expr) => {
        match $kll {
            Kll::F64($s) => $body,
            Kll::F32($s) => $body,
            Kll::I64($s) => $body,
        }
    };
}

/// Runs `$body` with `$s` bound to the sketch of a double or float `Kll`, the sketches
/// the `double` functions serve; an int64 sketch gives an error naming `$i64_call`.
macro_rules! with_float_kll {
    ($kll:expr, $i64_call:literal, $s:ident => $body:expr) => {
        match $kll {
            Kll::F64($s) => $body,
            Kll::F32($s) => $body,
            Kll::I64(_) => Err(invalid(concat!(
                "this KLL sketch holds int64 items: use ",
                $i64_call
            ))
            .into()),
        }
    };
}

/// The int64 sketch of a `Kll`, which the `_i64` functions serve; another item type
/// gives an error naming `$double_call`.
fn int_kll<'a>(kll: &'a Kll, double_call: &str) -> Result<&'a KllSketch<i64>, Error> {
    match kll {
        Kll::I64(s) => Ok(s),
        other => Err(invalid(format!(
            "this KLL sketch holds {} items, not int64: use {double_call}",
            type_name(other.item_type())
        ))),
    }
}

impl Kll {
    fn new(k: u32, item_type: i32, seed: Option<u64>) -> Result<Self, Error> {
        let k = u16::try_from(k)
            .ok()
            .filter(|&k| k >= 8)
            .ok_or_else(|| invalid(format!("k must be from 8 to 65535, got {k}")))?;
        fn make<T: KllItem>(k: u16, seed: Option<u64>) -> Result<KllSketch<T>, Error> {
            match seed {
                Some(s) => KllSketch::with_seed(k, s),
                None => KllSketch::new(k),
            }
        }
        match parse_type(item_type)? {
            SkKllType::SK_KLL_F64 => Ok(Kll::F64(make(k, seed)?)),
            SkKllType::SK_KLL_F32 => Ok(Kll::F32(make(k, seed)?)),
            SkKllType::SK_KLL_I64 => Ok(Kll::I64(make(k, seed)?)),
        }
    }

    fn item_type(&self) -> SkKllType {
        match self {
            Kll::F64(_) => SkKllType::SK_KLL_F64,
            Kll::F32(_) => SkKllType::SK_KLL_F32,
            Kll::I64(_) => SkKllType::SK_KLL_I64,
        }
    }

    fn clone_sketch(&self) -> Kll {
        match self {
            Kll::F64(s) => Kll::F64(s.clone()),
            Kll::F32(s) => Kll::F32(s.clone()),
            Kll::I64(s) => Kll::I64(s.clone()),
        }
    }
}

c_enum_from_i32!(
    SkKllType,
    "KLL item type",
    [SK_KLL_F64, SK_KLL_F32, SK_KLL_I64]
);

fn parse_type(t: i32) -> Result<SkKllType, Error> {
    SkKllType::try_from(t)
}

/// How items of a sketch cross the C ABI: doubles and floats as `double` (a double
/// given to a float sketch is rounded to the nearest float, as DataSketches'
/// kll_floats_sketch takes it), int64 as `int64_t`.
trait AbiItem: KllItem {
    type C: Copy;
    fn from_c(x: Self::C) -> Self;
    fn to_c(self) -> Self::C;
}

impl AbiItem for f64 {
    type C = f64;
    #[inline]
    fn from_c(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_c(self) -> f64 {
        self
    }
}

impl AbiItem for f32 {
    type C = f64;
    #[inline]
    fn from_c(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_c(self) -> f64 {
        f64::from(self)
    }
}

impl AbiItem for i64 {
    type C = i64;
    #[inline]
    fn from_c(x: i64) -> Self {
        x
    }
    #[inline]
    fn to_c(self) -> i64 {
        self
    }
}

/// Query arguments converted to the sketch's item type.
fn items_from_c<T: AbiItem>(xs: &[T::C]) -> Vec<T> {
    xs.iter().map(|&x| T::from_c(x)).collect()
}

fn type_mismatch(kll: &Kll, given: &str) -> Error {
    let call = match kll {
        Kll::F64(_) => "sk_kll_update_f64",
        Kll::F32(_) => "sk_kll_update_f32",
        Kll::I64(_) => "sk_kll_update_i64",
    };
    invalid(format!(
        "this KLL sketch holds {} items, not {given}: use {call}",
        type_name(kll.item_type())
    ))
}

/// Creates an empty sketch with parameter `k` (from 8 to 65535; DataSketches' default is 200)
/// holding items of type `item_type` (an SkKllType). Its compaction coin flips come from
/// a seed that differs between sketches. On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_new(k: u32, item_type: i32, out: *mut *mut SkKll) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkKll::into_raw(Kll::new(k, item_type, None)?);
        Ok(())
    })
}

/// sk_kll_new with a fixed `seed` for the compaction coin flips: the sketch's state is
/// then a function of its input, for reproducible tests. Sketches that will be merged
/// should not share a seed (their errors would add up rather than cancel); copies of
/// a seeded sketch draw their own coin flips.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_new_seeded(
    k: u32,
    item_type: i32,
    seed: u64,
    out: *mut *mut SkKll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkKll::into_raw(Kll::new(k, item_type, Some(seed))?);
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_free(sketch: *mut SkKll) {
    let _ = guard(|| {
        SkKll::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_copy(sketch: *const SkKll, out: *mut *mut SkKll) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let copy = SkKll::lock(sketch)?.clone_sketch();
        *out = SkKll::into_raw(copy);
        Ok(())
    })
}

/// Writes the sketch's k, min_k (the smallest k among the sketches merged into it,
/// which sets its error bound; both of the type sk_kll_new takes) and item type. Any
/// out-pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_params(
    sketch: *const SkKll,
    k: *mut u32,
    min_k: *mut u32,
    item_type: *mut SkKllType,
) -> i32 {
    guard(|| {
        let kll = SkKll::lock(sketch)?;
        let (sk_k, sk_min_k) = with_kll!(&*kll, s => (s.k(), s.min_k()));
        if let Some(k) = k.as_mut() {
            *k = sk_k.into();
        }
        if let Some(m) = min_k.as_mut() {
            *m = sk_min_k.into();
        }
        if let Some(t) = item_type.as_mut() {
            *t = kll.item_type();
        }
        Ok(())
    })
}

/// Updates a double sketch with `len` items at `data` (aligned; NULL when len is 0);
/// NaN items are ignored. The result equals updating item by item. The items are
/// applied BLOCK = SK_PROGRESS_BLOCK at a time with `progress` called between blocks;
/// if it cancels, the sketch holds the items of every completed block (a prefix of the
/// input) and the call returns SK_ERR_CANCELLED. A float or int64 sketch gives
/// SK_ERR_INVALID_ARGUMENT (use sk_kll_update_f32 / sk_kll_update_i64) and is left
/// unchanged.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_f64(
    sketch: *mut SkKll,
    data: *const f64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let items = Numeric::F64(in_slice(data, len)?);
        let mut kll = SkKll::lock(sketch)?;
        match &mut *kll {
            Kll::F64(s) => Ok(update_values(s, &items, &mut progress_fn(progress, user))?),
            other => Err(type_mismatch(other, "double").into()),
        }
    })
}

/// sk_kll_update_f64 for a float sketch and float items.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_f32(
    sketch: *mut SkKll,
    data: *const f32,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let items = Numeric::F32(in_slice(data, len)?);
        let mut kll = SkKll::lock(sketch)?;
        match &mut *kll {
            Kll::F32(s) => Ok(update_values(s, &items, &mut progress_fn(progress, user))?),
            other => Err(type_mismatch(other, "float").into()),
        }
    })
}

/// Updates with `len` numbers of element type `dtype` (an SkDtype) at `data`, aligned
/// for that type, converted to the sketch's item type: for a double or float sketch as
/// NumPy's astype converts them (to the nearest double or float, beyond a float's range
/// to an infinity; bools to 0 and 1), NaN items ignored; for an int64 sketch exactly
/// (integers and bools only: a float column, or a uint64 one holding a value of 2^63
/// or more, gives SK_ERR_INVALID_ARGUMENT before any item is applied). A column of the
/// sketch's own type is read in place. Blocks, progress and cancellation as
/// sk_kll_update_f64.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_numeric(
    sketch: *mut SkKll,
    data: *const c_void,
    len: usize,
    dtype: i32,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let column = numeric_column(data, len, dtype)?;
        let progress = &mut progress_fn(progress, user);
        Ok(with_kll!(&mut *SkKll::lock(sketch)?, s => update_values(s, &column, progress))?)
    })
}

/// sk_kll_update_f64 for an int64 sketch and int64 items (every value kept exactly).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_i64(
    sketch: *mut SkKll,
    data: *const i64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let items = Numeric::I64(in_slice(data, len)?);
        let mut kll = SkKll::lock(sketch)?;
        match &mut *kll {
            Kll::I64(s) => Ok(update_values(s, &items, &mut progress_fn(progress, user))?),
            other => Err(type_mismatch(other, "int64").into()),
        }
    })
}

/// Updates a double or float sketch with one item (rounded to the nearest float for a
/// float sketch); NaN is ignored. For many items one sk_kll_update_f64/_f32 call is
/// much cheaper. An int64 sketch gives SK_ERR_INVALID_ARGUMENT (use
/// sk_kll_update_one_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_one(sketch: *mut SkKll, value: f64) -> i32 {
    guard(|| {
        with_float_kll!(&mut *SkKll::lock(sketch)?, "sk_kll_update_one_i64", s => {
            s.update(AbiItem::from_c(value));
            Ok(())
        })
    })
}

/// Updates an int64 sketch with one item. Another item type gives
/// SK_ERR_INVALID_ARGUMENT (use sk_kll_update_one).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_update_one_i64(sketch: *mut SkKll, value: i64) -> i32 {
    guard(|| {
        match &mut *SkKll::lock(sketch)? {
            Kll::I64(s) => s.update(value),
            other => return Err(type_mismatch(other, "int64").into()),
        }
        Ok(())
    })
}

/// Merges `src` into `dst` as DataSketches does: dst keeps its k, and its min_k (error
/// bound) becomes the smaller of the two if src had compacted. Both must hold the same
/// item type (else SK_ERR_INCOMPATIBLE, dst unchanged). `src` is unchanged; dst and src
/// may be the same sketch (which then counts its items twice).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_merge(dst: *mut SkKll, src: *const SkKll) -> i32 {
    guard(|| {
        // Copy src first so that two threads merging a->b and b->a cannot deadlock.
        let other = SkKll::lock(src)?.clone_sketch();
        Ok(SkKll::lock(dst)?.merge(&other)?)
    })
}

impl Kll {
    /// Merges `other` into this sketch (same item type, else Error::Incompatible).
    fn merge(&mut self, other: &Kll) -> Result<(), Error> {
        match (self, other) {
            (Kll::F64(d), Kll::F64(s)) => d.merge(s),
            (Kll::F32(d), Kll::F32(s)) => d.merge(s),
            (Kll::I64(d), Kll::I64(s)) => d.merge(s),
            (d, _) => Err(Error::Incompatible(format!(
                "cannot merge a KLL sketch of {} items into one of {} items",
                type_name(other.item_type()),
                type_name(d.item_type())
            ))),
        }
    }

    fn deserialize(bytes: &[u8], item_type: SkKllType) -> Result<Kll, Error> {
        Ok(match item_type {
            SkKllType::SK_KLL_F64 => Kll::F64(KllSketch::deserialize(bytes)?),
            SkKllType::SK_KLL_F32 => Kll::F32(KllSketch::deserialize(bytes)?),
            SkKllType::SK_KLL_I64 => Kll::I64(KllSketch::deserialize(bytes)?),
        })
    }

    fn k(&self) -> u16 {
        with_kll!(self, s => s.k())
    }
}

/// The union's sketch: parameter `k` (0: `inputs_k`, the largest k of the inputs, or
/// 200 without any), seeded from *seed unless `seed` is NULL.
unsafe fn union_sketch(
    k: u32,
    inputs_k: Option<u16>,
    item_type: i32,
    seed: *const u64,
) -> Result<Kll, Error> {
    let k = if k == 0 {
        u32::from(inputs_k.unwrap_or(KllSketch::<f64>::DEFAULT_K))
    } else {
        k
    };
    let seed = if seed.is_null() {
        None
    } else {
        Some(*in_slice(seed, 1)?.first().expect("one seed"))
    };
    Kll::new(k, item_type, seed)
}

/// Writes to *out a new sketch of item type `item_type` (an SkKllType) and parameter
/// `k` (from 8 to 65535, or 0 for the largest k of the inputs, 200 for n = 0): an empty
/// sketch into which the `n` sketches at `sketches` are merged in order, as
/// sk_kll_merge does. `seed` (NULL: a varying one) fixes the result's compaction coin
/// flips as sk_kll_new_seeded does. Every input must hold `item_type` items (else
/// SK_ERR_INCOMPATIBLE). The inputs are unchanged and may repeat; they are locked one
/// at a time.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_union_many(
    sketches: *const *const SkKll,
    n: usize,
    k: u32,
    item_type: i32,
    seed: *const u64,
    out: *mut *mut SkKll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let inputs = in_slice(sketches, n)?;
        let mut inputs_k = None;
        if k == 0 {
            for &h in inputs {
                inputs_k = inputs_k.max(Some(SkKll::lock(h)?.k()));
            }
        }
        let mut union = union_sketch(k, inputs_k, item_type, seed)?;
        for &h in inputs {
            union.merge(&*SkKll::lock(h)?)?;
        }
        *out = SkKll::into_raw(union);
        Ok(())
    })
}

/// A KLL image's k, read from its preamble without validating the rest (the union
/// reads the image fully afterwards); None for bytes too short.
/// The k an image states, if it can be a KLL image's (family 15, k at least 8): a
/// damaged image must not decide the union's k (k 0 failed as a bad argument, not as
/// the bad image it is, which the union then names).
fn image_k(image: &[u8]) -> Option<u16> {
    const KLL_FAMILY: u8 = 15;
    const MIN_K: u16 = 8;
    match image.get(..6)? {
        &[_, _, KLL_FAMILY, _, lo, hi] => {
            Some(u16::from_le_bytes([lo, hi])).filter(|&k| k >= MIN_K)
        }
        _ => None,
    }
}

/// Writes to *out the union of the `n` KLL images at `data[i]` (`lens[i]` bytes each;
/// from sketchbox or any DataSketches library, read as `item_type` items), in one call;
/// each image's items are checked and merged straight from its bytes, without a sketch
/// per image. Fewer than 64 images give the result of deserializing each and calling
/// sk_kll_union_many (same `k`, `item_type` and `seed`); from 64 on, they are merged as
/// one batch on two threads (each level pooled across the images and compacted in
/// groups of at least its capacity): the same error bound, deterministic for a `seed`,
/// not the same bytes.
/// `k` 0 takes the largest k of the images. An invalid image gives SK_ERR_CORRUPT_DATA
/// naming its index, and no result.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_union_images(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
    k: u32,
    item_type: i32,
    seed: *const u64,
    out: *mut *mut SkKll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let images = image_slices(data, lens, n)?;
        let inputs_k = images.iter().filter_map(|b| image_k(b)).max();
        let mut union = union_sketch(k, inputs_k, item_type, seed)?;
        with_kll!(&mut union, s => s.merge_images(&images)).map_err(|(i, e)| at_image(i)(e))?;
        *out = SkKll::into_raw(union);
        Ok(())
    })
}

fn type_name(t: SkKllType) -> &'static str {
    match t {
        SkKllType::SK_KLL_F64 => "double",
        SkKllType::SK_KLL_F32 => "float",
        SkKllType::SK_KLL_I64 => "int64",
    }
}

/// Writes the number of items seen (NaN excluded) to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_n(sketch: *const SkKll, out: *mut u64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_kll!(&*SkKll::lock(sketch)?, s => s.n());
        Ok(())
    })
}

/// Writes the number of items the sketch retains (its size is about that many items).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_num_retained(sketch: *const SkKll, out: *mut u32) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_kll!(&*SkKll::lock(sketch)?, s => s.num_retained());
        Ok(())
    })
}

/// Writes true to *out if the sketch has compacted, i.e. answers are approximate.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_is_estimation_mode(sketch: *const SkKll, out: *mut bool) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_kll!(&*SkKll::lock(sketch)?, s => s.is_estimation_mode());
        Ok(())
    })
}

fn empty() -> Error {
    Error::Empty("min and max are undefined for an empty KLL sketch".into())
}

/// The exact min (`max` false) or max of a sketch, in its C type.
fn extreme<T: AbiItem>(s: &KllSketch<T>, max: bool) -> Result<T::C, Error> {
    let item = if max { s.max_item() } else { s.min_item() };
    item.map(T::to_c).ok_or_else(empty)
}

/// Writes the smallest item seen by a double or float sketch to *out (exact, whatever
/// the mode); an empty sketch gives SK_ERR_EMPTY, an int64 sketch
/// SK_ERR_INVALID_ARGUMENT (use sk_kll_min_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_min(sketch: *const SkKll, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_float_kll!(&*SkKll::lock(sketch)?, "sk_kll_min_i64", s => extreme(s, false))?;
        Ok(())
    })
}

/// Writes the largest item seen to *out; errors as sk_kll_min.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_max(sketch: *const SkKll, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_float_kll!(&*SkKll::lock(sketch)?, "sk_kll_max_i64", s => extreme(s, true))?;
        Ok(())
    })
}

/// sk_kll_min for an int64 sketch (another item type gives SK_ERR_INVALID_ARGUMENT).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_min_i64(sketch: *const SkKll, out: *mut i64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = extreme(int_kll(&*SkKll::lock(sketch)?, "sk_kll_min")?, false)?;
        Ok(())
    })
}

/// sk_kll_max for an int64 sketch (another item type gives SK_ERR_INVALID_ARGUMENT).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_max_i64(sketch: *const SkKll, out: *mut i64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = extreme(int_kll(&*SkKll::lock(sketch)?, "sk_kll_max")?, true)?;
        Ok(())
    })
}

/// Writes the normalized rank error at 99% confidence for the sketch's min_k to *out:
/// double-sided (PMF buckets) if `pmf`, single-sided (ranks, quantiles, CDF) otherwise.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_normalized_rank_error(
    sketch: *const SkKll,
    pmf: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = with_kll!(&*SkKll::lock(sketch)?, s => s.normalized_rank_error(pmf));
        Ok(())
    })
}

/// Copies `values`, converted by `to_c`, into the caller's `out` of `len` entries.
unsafe fn write_out<V: Copy, C>(
    values: &[V],
    to_c: impl Fn(V) -> C,
    out: *mut C,
    len: usize,
) -> Result<(), Error> {
    if len == 0 {
        return Ok(());
    }
    if out.is_null() {
        return Err(invalid("NULL output array"));
    }
    if !out.is_aligned() {
        return Err(invalid("misaligned output array"));
    }
    let out = std::slice::from_raw_parts_mut(out, len);
    for (o, v) in out.iter_mut().zip(values) {
        *o = to_c(*v);
    }
    Ok(())
}

/// The bodies the `double` and `_i64` query functions share, over a sketch of any item
/// type and arguments in its C type.
unsafe fn quantiles_out<T: AbiItem>(
    s: &KllSketch<T>,
    ranks: &[f64],
    inclusive: bool,
    out: *mut T::C,
) -> Result<(), Error> {
    write_out(&s.quantiles(ranks, inclusive)?, T::to_c, out, ranks.len())
}

unsafe fn ranks_out<T: AbiItem>(
    s: &KllSketch<T>,
    items: &[T::C],
    inclusive: bool,
    out: *mut f64,
) -> Result<(), Error> {
    let r = s.ranks(&items_from_c::<T>(items), inclusive)?;
    write_out(&r, |x| x, out, items.len())
}

/// The CDF (`pmf` false) or PMF at `split` into out[0 .. split.len() + 1].
unsafe fn distribution_out<T: AbiItem>(
    s: &KllSketch<T>,
    split: &[T::C],
    inclusive: bool,
    pmf: bool,
    out: *mut f64,
) -> Result<(), Error> {
    let split = items_from_c::<T>(split);
    let r = if pmf {
        s.pmf(&split, inclusive)?
    } else {
        s.cdf(&split, inclusive)?
    };
    write_out(&r, |x| x, out, r.len())
}

/// Writes the quantile at normalized `rank` (in [0, 1]) of a double or float sketch to
/// *out; see SkKll for the meaning of `inclusive`. Ranks 0 and 1 give the exact min and
/// max (Java DataSketches' answers; C++ gives the smallest and largest retained items).
/// A rank outside [0, 1] or NaN gives SK_ERR_INVALID_ARGUMENT, an empty sketch
/// SK_ERR_EMPTY, an int64 sketch SK_ERR_INVALID_ARGUMENT (use sk_kll_quantiles_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_quantile(
    sketch: *const SkKll,
    rank: f64,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    sk_kll_quantiles(sketch, &rank, 1, inclusive, out)
}

/// Writes the quantiles at the `len` normalized ranks `ranks` to out[0 .. len] (an array
/// the caller allocates), searching the sketch once. Errors as sk_kll_quantile; on
/// error `out` is left unchanged.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_quantiles(
    sketch: *const SkKll,
    ranks: *const f64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let ranks = in_slice(ranks, len)?;
        with_float_kll!(&*SkKll::lock(sketch)?, "sk_kll_quantiles_i64", s => {
            Ok(quantiles_out(s, ranks, inclusive, out)?)
        })
    })
}

/// sk_kll_quantiles for an int64 sketch: the quantiles, exact int64 items, to
/// out[0 .. len]. Another item type gives SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_quantiles_i64(
    sketch: *const SkKll,
    ranks: *const f64,
    len: usize,
    inclusive: bool,
    out: *mut i64,
) -> i32 {
    guard(|| {
        let ranks = in_slice(ranks, len)?;
        let kll = SkKll::lock(sketch)?;
        Ok(quantiles_out(
            int_kll(&kll, "sk_kll_quantiles")?,
            ranks,
            inclusive,
            out,
        )?)
    })
}

/// Writes the normalized rank of `item` (the fraction of items <= item if `inclusive`,
/// < item otherwise) in a double or float sketch to *out. A float sketch compares
/// `item` rounded to the nearest float. A NaN item gives SK_ERR_INVALID_ARGUMENT, an
/// empty sketch SK_ERR_EMPTY, an int64 sketch SK_ERR_INVALID_ARGUMENT (use
/// sk_kll_ranks_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_rank(
    sketch: *const SkKll,
    item: f64,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    sk_kll_ranks(sketch, &item, 1, inclusive, out)
}

/// Writes the ranks of the `len` items at `items` to out[0 .. len], searching the
/// sketch once. Errors as sk_kll_rank; on error `out` is left unchanged.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_ranks(
    sketch: *const SkKll,
    items: *const f64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let items = in_slice(items, len)?;
        with_float_kll!(&*SkKll::lock(sketch)?, "sk_kll_ranks_i64", s => {
            Ok(ranks_out(s, items, inclusive, out)?)
        })
    })
}

/// sk_kll_ranks for an int64 sketch and int64 items. Another item type gives
/// SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_ranks_i64(
    sketch: *const SkKll,
    items: *const i64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let items = in_slice(items, len)?;
        let kll = SkKll::lock(sketch)?;
        Ok(ranks_out(
            int_kll(&kll, "sk_kll_ranks")?,
            items,
            inclusive,
            out,
        )?)
    })
}

/// The body of sk_kll_cdf / sk_kll_pmf (`pmf`) for a double or float sketch.
unsafe fn float_distribution(
    sketch: *const SkKll,
    split_points: *const f64,
    len: usize,
    inclusive: bool,
    pmf: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let split = in_slice(split_points, len)?;
        let kll = SkKll::lock(sketch)?;
        let i64_call = if pmf {
            "sk_kll_pmf_i64"
        } else {
            "sk_kll_cdf_i64"
        };
        match &*kll {
            Kll::F64(s) => Ok(distribution_out(s, split, inclusive, pmf, out)?),
            Kll::F32(s) => Ok(distribution_out(s, split, inclusive, pmf, out)?),
            Kll::I64(_) => {
                Err(invalid(format!("this KLL sketch holds int64 items: use {i64_call}")).into())
            }
        }
    })
}

/// The body of sk_kll_cdf_i64 / sk_kll_pmf_i64 (`pmf`).
unsafe fn int_distribution(
    sketch: *const SkKll,
    split_points: *const i64,
    len: usize,
    inclusive: bool,
    pmf: bool,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let split = in_slice(split_points, len)?;
        let kll = SkKll::lock(sketch)?;
        let s = int_kll(&kll, if pmf { "sk_kll_pmf" } else { "sk_kll_cdf" })?;
        Ok(distribution_out(s, split, inclusive, pmf, out)?)
    })
}

/// Writes the cumulative distribution of a double or float sketch at the `len` split
/// points (unique, increasing, not NaN; rounded to float for a float sketch) to
/// out[0 .. len + 1]: the rank of each split point (inclusive or exclusive), then 1.
/// Bad split points give SK_ERR_INVALID_ARGUMENT, an empty sketch SK_ERR_EMPTY,
/// leaving `out` unchanged; an int64 sketch SK_ERR_INVALID_ARGUMENT (use
/// sk_kll_cdf_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_cdf(
    sketch: *const SkKll,
    split_points: *const f64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    float_distribution(sketch, split_points, len, inclusive, false, out)
}

/// Writes the probability mass of the `len + 1` intervals the split points delimit to
/// out[0 .. len + 1]: (-inf, s0], (s0, s1], ..., (s_last, +inf) if `inclusive`, else
/// (-inf, s0), [s0, s1), ..., [s_last, +inf). Errors as sk_kll_cdf (an int64 sketch:
/// use sk_kll_pmf_i64).
#[no_mangle]
pub unsafe extern "C" fn sk_kll_pmf(
    sketch: *const SkKll,
    split_points: *const f64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    float_distribution(sketch, split_points, len, inclusive, true, out)
}

/// sk_kll_cdf for an int64 sketch and int64 split points. Another item type gives
/// SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_cdf_i64(
    sketch: *const SkKll,
    split_points: *const i64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    int_distribution(sketch, split_points, len, inclusive, false, out)
}

/// sk_kll_pmf for an int64 sketch and int64 split points. Another item type gives
/// SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_pmf_i64(
    sketch: *const SkKll,
    split_points: *const i64,
    len: usize,
    inclusive: bool,
    out: *mut f64,
) -> i32 {
    int_distribution(sketch, split_points, len, inclusive, true, out)
}

/// Writes the sketch's Apache DataSketches KLL image (what kll_doubles_sketch /
/// kll_floats_sketch / KllLongsSketch serialize) to *out. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_serialize(sketch: *const SkKll, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = with_kll!(&*SkKll::lock(sketch)?, s => s.serialize());
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Reads a KLL image (from sketchbox, or DataSketches' Java, C++ or Python) into a new
/// sketch of item type `item_type` (an SkKllType) in *out. Images do not record their
/// item type: read double images (KllDoublesSketch) as SK_KLL_F64, float images as
/// SK_KLL_F32 and Java's KllLongsSketch images (Spark's bigint sketches) as SK_KLL_I64. Bytes that are not a valid image give SK_ERR_CORRUPT_DATA; they are
/// never read out of bounds.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_deserialize(
    data: *const u8,
    len: usize,
    item_type: i32,
    out: *mut *mut SkKll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = in_slice(data, len)?;
        *out = SkKll::into_raw(Kll::deserialize(bytes, parse_type(item_type)?)?);
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out: k, min_k,
/// n, item type, retained items, min/max, levels and error bounds. Free it with
/// sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_kll_to_json(sketch: *const SkKll, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let json = with_kll!(&*SkKll::lock(sketch)?, s => s.to_json());
        Ok(json_out(&json, out)?)
    })
}
