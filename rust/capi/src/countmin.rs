//! C surface of the Count-Min sketch (`sketchbox_core::countmin`).

use crate::common::*;
use sketchbox_core::column::Column;
use sketchbox_core::countmin::{suggest_num_buckets, suggest_num_hashes, CountMin, CountMinItem};
use sketchbox_core::Error;
use std::ffi::c_void;
use std::sync::Mutex;

/// A Count-Min sketch of non-negative integer weights whose images are
/// datasketches-python's `count_min_sketch` (family 18; row seeds as its Linux wheels
/// draw them, so images do not cross with DataSketches Java). For an item of true
/// weight f: f <= estimate always, and estimate <= f + relative_error * total_weight
/// with the confidence sk_countmin_suggest_num_hashes was asked for. Counters are
/// doubles (as datasketches-python's): a weight is at most 2^53, which they hold
/// exactly; a larger one is SK_ERR_INVALID_ARGUMENT and a column holding one applies
/// none of its items. The counters (up to 2^30 of them, 8 GiB) are allocated on the
/// first update or merge; if memory runs out, that call fails with
/// SK_ERR_INVALID_ARGUMENT and changes nothing. Created by
/// sk_countmin_new, sk_countmin_copy, sk_countmin_deserialize or
/// sk_countmin_union_images; owned by the caller;
/// released by sk_countmin_free. Safe to share between threads: every call takes the
/// handle's internal lock.
pub struct SkCountMin(Mutex<CountMin>);

impl Handle for SkCountMin {
    type Inner = CountMin;
    fn wrap(value: CountMin) -> Self {
        SkCountMin(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<CountMin> {
        &self.0
    }
}

/// Creates an empty sketch of `num_hashes` rows (from 1 to 255) of `num_buckets` counters
/// (at least 3; num_hashes * num_buckets below 2^30) with hash `seed` (9001 is
/// DataSketches' default; sketches merge only with sketches of the same shape and
/// seed; one of seed hash 0 is refused, as sk_theta_new says). On success *out owns the
/// new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_new(
    num_hashes: i32,
    num_buckets: u32,
    seed: u64,
    out: *mut *mut SkCountMin,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let num_hashes = small_param(num_hashes, "num_hashes must be from 1 to 255")?;
        *out = SkCountMin::into_raw(CountMin::new(num_hashes, num_buckets, seed)?);
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_free(sketch: *mut SkCountMin) {
    let _ = guard(|| {
        SkCountMin::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_copy(
    sketch: *const SkCountMin,
    out: *mut *mut SkCountMin,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkCountMin::into_raw(SkCountMin::lock(sketch)?.clone());
        Ok(())
    })
}

/// Updates the sketch with the column `make_column` builds and the optional weights
/// (validated before the sketch is locked: an invalid input changes nothing).
unsafe fn update_column<'a>(
    sketch: *mut SkCountMin,
    make_column: impl FnOnce() -> Result<Column<'a>, Error>,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let column = make_column()?;
        let weights = if weights.is_null() {
            None
        } else {
            Some(in_slice(weights, column.len())?)
        };
        let mut sk = SkCountMin::lock(sketch)?;
        Ok(sk.update_column(&column, weights, &mut progress_fn(progress, user))?)
    })
}

/// Updates the sketch with `len` numbers of element type `dtype` (an SkDtype) at `data`
/// (aligned for that type), item i with weight weights[i] (`weights`: NULL for 1 each,
/// else `len` non-negative integers). Integers are items as int64 (uint64 values at or
/// above 2^63 by their bit pattern, bools as 0 and 1), floats as double. Large inputs
/// are counted on every core with the result of one-by-one updates. If `progress`
/// cancels, the sketch holds the items of every completed block (a prefix of the
/// input) and the call returns SK_ERR_CANCELLED.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_numeric(
    sketch: *mut SkCountMin,
    data: *const c_void,
    len: usize,
    dtype: i32,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || Ok(numeric_column(data, len, dtype)?.into());
    update_column(sketch, column, weights, progress, user)
}

/// Updates the sketch with `n` strings in Arrow layout (as sk_hll_update_strings
/// describes: offsets of `offset_width` 4 or 8 bytes, optional validity bitmap), item i
/// with weight weights[i] (NULL: 1 each, else `n` weights); null and empty items are
/// skipped. Cancellation as sk_countmin_update_numeric.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_countmin_update_strings(
    sketch: *mut SkCountMin,
    data: *const u8,
    data_len: usize,
    offsets: *const c_void,
    offset_width: i32,
    n: usize,
    validity: *const u8,
    validity_offset: usize,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || {
        arrow_column(
            data,
            data_len,
            offsets,
            offset_width,
            n,
            validity,
            validity_offset,
        )
    };
    update_column(sketch, column, weights, progress, user)
}

/// Updates the sketch with the items of `data` separated by the byte `delimiter`
/// (`len` bytes hold count(delimiter) + 1 items; empty ones are skipped), item i with
/// weight weights[i] (NULL: 1 each, else one weight per item, empty ones included).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_delimited(
    sketch: *mut SkCountMin,
    data: *const u8,
    len: usize,
    delimiter: u8,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || delimited_column(data, len, delimiter);
    update_column(sketch, column, weights, progress, user)
}

/// Updates the sketch with `n` fixed-width items of `itemsize` bytes (NumPy `S` or `U`
/// arrays) encoded as `encoding` (an SkFixedEncoding; trailing NULs are padding, empty
/// items are skipped), item i with weight weights[i] (NULL: 1 each, else `n` weights).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_countmin_update_fixed(
    sketch: *mut SkCountMin,
    data: *const c_void,
    itemsize: usize,
    n: usize,
    encoding: i32,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || fixed_column(data, itemsize, n, encoding);
    update_column(sketch, column, weights, progress, user)
}

unsafe fn update_one(sketch: *mut SkCountMin, item: CountMinItem<'_>, weight: u64) -> i32 {
    guard(|| Ok(SkCountMin::lock(sketch)?.update(item, weight)?))
}

/// Adds `weight` occurrences of the int64 `value`.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_one_i64(
    sketch: *mut SkCountMin,
    value: i64,
    weight: u64,
) -> i32 {
    update_one(sketch, CountMinItem::I64(value), weight)
}

/// Adds `weight` occurrences of the uint64 `value` (the int64 of its bit pattern).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_one_u64(
    sketch: *mut SkCountMin,
    value: u64,
    weight: u64,
) -> i32 {
    update_one(sketch, CountMinItem::I64(value as i64), weight)
}

/// Adds `weight` occurrences of the double `value`.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_one_f64(
    sketch: *mut SkCountMin,
    value: f64,
    weight: u64,
) -> i32 {
    update_one(sketch, CountMinItem::F64(value), weight)
}

/// Adds `weight` occurrences of the string or byte string of `len` bytes at `data`
/// (an empty one is not an item and is ignored).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_update_one_bytes(
    sketch: *mut SkCountMin,
    data: *const u8,
    len: usize,
    weight: u64,
) -> i32 {
    match in_slice(data, len) {
        Ok(b) => update_one(sketch, CountMinItem::Bytes(b), weight),
        Err(e) => guard(|| Err(e.into())),
    }
}

unsafe fn query(
    sketch: *const SkCountMin,
    item: CountMinItem<'_>,
    estimate: *mut f64,
    lower: *mut f64,
    upper: *mut f64,
) -> i32 {
    guard(|| {
        let (e, l, u) = (out_ref(estimate)?, out_ref(lower)?, out_ref(upper)?);
        let sk = SkCountMin::lock(sketch)?;
        (*e, *l, *u) = (
            sk.estimate(item),
            sk.lower_bound(item),
            sk.upper_bound(item),
        );
        Ok(())
    })
}

/// Writes the estimated weight of the int64 `value`, its lower bound (the estimate)
/// and its upper bound (estimate + relative_error * total_weight).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_query_i64(
    sketch: *const SkCountMin,
    value: i64,
    estimate: *mut f64,
    lower: *mut f64,
    upper: *mut f64,
) -> i32 {
    query(sketch, CountMinItem::I64(value), estimate, lower, upper)
}

/// sk_countmin_query_i64 for a double item.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_query_f64(
    sketch: *const SkCountMin,
    value: f64,
    estimate: *mut f64,
    lower: *mut f64,
    upper: *mut f64,
) -> i32 {
    query(sketch, CountMinItem::F64(value), estimate, lower, upper)
}

/// sk_countmin_query_i64 for a string or byte string of `len` bytes (an empty one is
/// not an item: 0, 0, 0).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_query_bytes(
    sketch: *const SkCountMin,
    data: *const u8,
    len: usize,
    estimate: *mut f64,
    lower: *mut f64,
    upper: *mut f64,
) -> i32 {
    match in_slice(data, len) {
        Ok(b) => query(sketch, CountMinItem::Bytes(b), estimate, lower, upper),
        Err(e) => guard(|| Err(e.into())),
    }
}

/// Writes the sum of all weights added to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_total_weight(sketch: *const SkCountMin, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkCountMin::lock(sketch)?.total_weight();
        Ok(())
    })
}

/// Writes the relative error e / num_buckets to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_relative_error(
    sketch: *const SkCountMin,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkCountMin::lock(sketch)?.relative_error();
        Ok(())
    })
}

/// Writes the sketch's shape and hash seed.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_params(
    sketch: *const SkCountMin,
    num_hashes: *mut u8,
    num_buckets: *mut u32,
    seed: *mut u64,
) -> i32 {
    guard(|| {
        let (h, b, s) = (out_ref(num_hashes)?, out_ref(num_buckets)?, out_ref(seed)?);
        let sk = SkCountMin::lock(sketch)?;
        (*h, *b, *s) = (sk.num_hashes(), sk.num_buckets(), sk.seed());
        Ok(())
    })
}

/// Adds `src`'s counters to `dst`'s. Both need the same num_hashes, num_buckets and
/// seed (else SK_ERR_INCOMPATIBLE, dst unchanged). `src` is unchanged; dst and src may
/// be the same sketch (which then counts everything twice).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_merge(dst: *mut SkCountMin, src: *const SkCountMin) -> i32 {
    guard(|| {
        // Copy src first so that two threads merging a->b and b->a cannot deadlock.
        let other = SkCountMin::lock(src)?.clone();
        Ok(SkCountMin::lock(dst)?.merge(&other)?)
    })
}

/// Writes the sketch's image (datasketches-python's count_min_sketch serialization) to
/// *out. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_serialize(
    sketch: *const SkCountMin,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        bytes_out(SkCountMin::lock(sketch)?.serialize(), out);
        Ok(())
    })
}

/// Reads a Count-Min image built with `seed` (images store only a 16-bit hash of it)
/// into a new sketch in *out. Bytes that are not a valid image give
/// SK_ERR_CORRUPT_DATA (never read out of bounds, no allocation beyond what the image
/// holds); an image of another seed SK_ERR_INCOMPATIBLE.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_deserialize(
    data: *const u8,
    len: usize,
    seed: u64,
    out: *mut *mut SkCountMin,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = in_slice(data, len)?;
        *out = SkCountMin::into_raw(CountMin::deserialize(bytes, seed)?);
        Ok(())
    })
}

/// Merges `n` images built with `seed` into a new sketch in *out, in one call: image i
/// is the lens[i] bytes at ptrs[i]. The result has the first image's shape and answers
/// as the images merged in order. An invalid image gives SK_ERR_CORRUPT_DATA, one of
/// another shape or seed SK_ERR_INCOMPATIBLE, each with its index in the message; no
/// image (n == 0: no shape to take) SK_ERR_INVALID_ARGUMENT. *out is then unchanged.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_union_images(
    ptrs: *const *const u8,
    lens: *const usize,
    n: usize,
    seed: u64,
    out: *mut *mut SkCountMin,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let images = image_slices(ptrs, lens, n)?;
        let mut union: Option<CountMin> = None;
        each_image(&images, |b| {
            let s = CountMin::deserialize(b, seed)?;
            match union.as_mut() {
                None => union = Some(s),
                Some(u) => u.merge(&s)?,
            }
            Ok(())
        })?;
        let union = union
            .ok_or_else(|| invalid("a union of no images has no shape: give at least one image"))?;
        *out = SkCountMin::into_raw(union);
        Ok(())
    })
}

/// Writes to *out the number of buckets, ceil(e / relative_error), that gives an
/// error of at most `relative_error` (a positive number) times the total weight.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_suggest_num_buckets(
    relative_error: f64,
    out: *mut u32,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = suggest_num_buckets(relative_error)?;
        Ok(())
    })
}

/// Writes to *out the number of hashes, ceil(ln(1 / (1 - confidence))), for which the
/// error bound holds with probability `confidence` (in [0, 1)).
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_suggest_num_hashes(confidence: f64, out: *mut u8) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = suggest_num_hashes(confidence)?;
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out: shape,
/// seed, total weight, relative error. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_countmin_to_json(sketch: *const SkCountMin, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let json = SkCountMin::lock(sketch)?.to_json();
        Ok(json_out(&json, out)?)
    })
}
