//! C surface of the HyperLogLog sketch (`sketchbox_core::hll`).

use crate::common::*;
use sketchbox_core::hash::{hash_bytes, DEFAULT_SEED};
use sketchbox_core::hll::{coupon, HllSketch, HllType};
use std::ffi::c_void;
use std::sync::Mutex;

/// A HyperLogLog sketch (Apache DataSketches-compatible). Created by sk_hll_new,
/// sk_hll_copy or sk_hll_deserialize; owned by the caller; released by sk_hll_free.
/// Safe to share between threads: every call takes the handle's internal lock.
pub struct SkHll(Mutex<HllSketch>);

impl Handle for SkHll {
    type Inner = HllSketch;
    fn wrap(value: HllSketch) -> Self {
        SkHll(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<HllSketch> {
        &self.0
    }
}

/// Register width of an HLL sketch's images (estimates do not depend on it).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkHllType {
    SK_HLL_4 = 0,
    SK_HLL_6 = 1,
    SK_HLL_8 = 2,
}

fn parse_hll_type(t: i32) -> Result<HllType, sketchbox_core::Error> {
    if !(0..=2).contains(&t) {
        return Err(invalid(format!(
            "HLL type {t} is not SK_HLL_4, SK_HLL_6 or SK_HLL_8"
        )));
    }
    HllType::from_u8(t as u8)
}

/// Creates an empty sketch of 2^lg_k registers (lg_k in 4..=21) and target type
/// `hll_type` (an SkHllType). On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_new(lg_k: u8, hll_type: i32, out: *mut *mut SkHll) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkHll::into_raw(HllSketch::new(lg_k, parse_hll_type(hll_type)?)?);
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_free(sketch: *mut SkHll) {
    let _ = guard(|| {
        SkHll::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_copy(sketch: *const SkHll, out: *mut *mut SkHll) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let copy = SkHll::lock(sketch)?.clone();
        *out = SkHll::into_raw(copy);
        Ok(())
    })
}

/// Same as sk_hll_copy but with another target type (registers are replayed).
#[no_mangle]
pub unsafe extern "C" fn sk_hll_convert(
    sketch: *const SkHll,
    hll_type: i32,
    out: *mut *mut SkHll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let t = parse_hll_type(hll_type)?;
        let copy = SkHll::lock(sketch)?.convert(t);
        *out = SkHll::into_raw(copy);
        Ok(())
    })
}

/// Feeds hashed items to an HLL's bulk path as coupons.
struct Bulk<'a> {
    sketch: &'a mut HllSketch,
    progress: &'a mut dyn FnMut(u64, u64) -> bool,
}

impl HashSink for Bulk<'_> {
    type Out = Result<(), sketchbox_core::Error>;
    fn feed<H: Fn(usize) -> (u64, u64) + Sync>(self, n: usize, hash_at: H) -> Self::Out {
        self.sketch
            .update_with(n, move |i| Some(coupon(hash_at(i))), self.progress)
    }
}

/// Updates with `len` numbers of element type `dtype` (an SkDtype) at `data`, which
/// must be aligned for that type (else SK_ERR_INVALID_ARGUMENT).
/// Integers are hashed by value as 8-byte int64 (uint64 values at or above 2^63 by
/// their bit pattern), floats as double with -0.0 and NaN canonicalised, as Apache
/// DataSketches does. Large inputs are hashed on every core and applied in order, so
/// the result equals one-by-one updates. If `progress` cancels, the sketch holds the
/// items of every completed block (a prefix of the input) and the call returns
/// SK_ERR_CANCELLED.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_numeric(
    sketch: *mut SkHll,
    data: *const c_void,
    len: usize,
    dtype: i32,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let col = Numeric::from_raw(data, len, dtype)?;
        let mut sk = SkHll::lock(sketch)?;
        let progress = &mut progress_fn(progress, user);
        col.hashes(
            DEFAULT_SEED,
            Bulk {
                sketch: &mut sk,
                progress,
            },
        )
    })
}

/// sk_hll_update_numeric for int64 items.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_i64(
    sketch: *mut SkHll,
    data: *const i64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    sk_hll_update_numeric(
        sketch,
        data as *const c_void,
        len,
        SkDtype::SK_DTYPE_I64 as i32,
        progress,
        user,
    )
}

/// sk_hll_update_numeric for uint64 items.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_u64(
    sketch: *mut SkHll,
    data: *const u64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    sk_hll_update_numeric(
        sketch,
        data as *const c_void,
        len,
        SkDtype::SK_DTYPE_U64 as i32,
        progress,
        user,
    )
}

/// sk_hll_update_numeric for double items.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_f64(
    sketch: *mut SkHll,
    data: *const f64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    sk_hll_update_numeric(
        sketch,
        data as *const c_void,
        len,
        SkDtype::SK_DTYPE_F64 as i32,
        progress,
        user,
    )
}

/// Updates with one int64 item (the cheapest call for item-at-a-time use).
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_one_i64(sketch: *mut SkHll, value: i64) -> i32 {
    guard(|| {
        SkHll::lock(sketch)?.update_i64(value);
        Ok(())
    })
}

/// Updates with one uint64 item (hashed by its bit pattern, like an int64).
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_one_u64(sketch: *mut SkHll, value: u64) -> i32 {
    guard(|| {
        SkHll::lock(sketch)?.update_i64(value as i64);
        Ok(())
    })
}

/// Updates with one double item.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_one_f64(sketch: *mut SkHll, value: f64) -> i32 {
    guard(|| {
        SkHll::lock(sketch)?.update_f64(value);
        Ok(())
    })
}

/// Updates with one string or byte string of `len` bytes; an empty one is ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_one_bytes(
    sketch: *mut SkHll,
    data: *const u8,
    len: usize,
) -> i32 {
    guard(|| {
        let item = in_slice(data, len)?;
        SkHll::lock(sketch)?.update_bytes(item);
        Ok(())
    })
}

/// Updates with `n` strings in Arrow layout: item i is bytes
/// data[offsets[i] .. offsets[i+1]] (offsets hold n+1 entries of `offset_width` bytes,
/// 4 for Arrow string/binary, 8 for large_string/large_binary; aligned to that width;
/// NULL is accepted when n is 0). `validity` is an
/// optional Arrow validity bitmap (NULL: all valid) whose bit `validity_offset + i`
/// says whether item i is present; null and empty items are skipped. The input is
/// validated before any item is applied. Cancellation as sk_hll_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_strings(
    sketch: *mut SkHll,
    data: *const u8,
    data_len: usize,
    offsets: *const c_void,
    offset_width: u8,
    n: usize,
    validity: *const u8,
    validity_offset: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let col = Strings::arrow(
            data,
            data_len,
            offsets,
            offset_width,
            n,
            validity,
            validity_offset,
        )?;
        update_strings(sketch, &col, progress, user)
    })
}

/// Updates with the items of `data` separated by the byte `delimiter`, which no item
/// contains (e.g. strings joined with "\\0"): `len` bytes hold count(delimiter) + 1
/// items; empty ones are skipped. Cancellation as sk_hll_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_delimited(
    sketch: *mut SkHll,
    data: *const u8,
    len: usize,
    delimiter: u8,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let col = Strings::delimited(data, len, delimiter)?;
        update_strings(sketch, &col, progress, user)
    })
}

/// Updates with `n` fixed-width items of `itemsize` bytes each (NumPy `S` or `U`
/// arrays), encoded as `encoding` (an SkFixedEncoding); trailing NULs are padding and
/// empty items are skipped. Cancellation as sk_hll_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_update_fixed(
    sketch: *mut SkHll,
    data: *const c_void,
    itemsize: usize,
    n: usize,
    encoding: i32,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let col = Strings::fixed(data, itemsize, n, encoding)?;
        update_strings(sketch, &col, progress, user)
    })
}

unsafe fn update_strings(
    sketch: *mut SkHll,
    col: &Strings,
    progress: SkProgressFn,
    user: *mut c_void,
) -> Result<(), sketchbox_core::Error> {
    let mut sk = SkHll::lock(sketch)?;
    sk.update_with(
        col.len(),
        |i| {
            col.with_item(i, |b| hash_bytes(b, DEFAULT_SEED).map(coupon))
                .flatten()
        },
        &mut progress_fn(progress, user),
    )
}

/// Writes the estimate of the number of distinct items to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_estimate(sketch: *const SkHll, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkHll::lock(sketch)?.estimate();
        Ok(())
    })
}

/// Writes the lower bound at `num_std` (1, 2 or 3) standard deviations to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_lower_bound(
    sketch: *const SkHll,
    num_std: u8,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkHll::lock(sketch)?.lower_bound(num_std)?;
        Ok(())
    })
}

/// Writes the upper bound at `num_std` (1, 2 or 3) standard deviations to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_upper_bound(
    sketch: *const SkHll,
    num_std: u8,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkHll::lock(sketch)?.upper_bound(num_std)?;
        Ok(())
    })
}

/// Writes true to *out if the sketch has seen no item, else false.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_is_empty(sketch: *const SkHll, out: *mut bool) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkHll::lock(sketch)?.is_empty();
        Ok(())
    })
}

/// Writes the sketch's lg_k to *lg_k and its SkHllType to *hll_type.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_params(
    sketch: *const SkHll,
    lg_k: *mut u8,
    hll_type: *mut i32,
) -> i32 {
    guard(|| {
        let lg_k = out_ref(lg_k)?;
        let t = out_ref(hll_type)?;
        let sk = SkHll::lock(sketch)?;
        *lg_k = sk.lg_k();
        *t = sk.hll_type() as i32;
        Ok(())
    })
}

/// Merges `src` into `dst` as an Apache DataSketches union with lg_max_k = dst's lg_k
/// would: dst keeps its type; if src is in HLL mode with a smaller lg_k, dst is
/// downsampled to it (a LIST/SET-mode src, exact coupons, never lowers dst's lg_k).
/// `src` is unchanged; dst and src may be the same sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_merge(dst: *mut SkHll, src: *const SkHll) -> i32 {
    guard(|| {
        // Copy src first so that two threads merging a->b and b->a cannot deadlock.
        let other = SkHll::lock(src)?.clone();
        SkHll::lock(dst)?.merge(&other);
        Ok(())
    })
}

/// Writes the sketch's Apache DataSketches HLL image to *out: the compact form if
/// `compact`, else the updatable form. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_serialize(
    sketch: *const SkHll,
    compact: bool,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = SkHll::lock(sketch)?.serialize(compact);
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Reads an HLL image (compact or updatable, from sketchbox, DataSketches' Java, C++,
/// Go or Python, Spark, Druid...) into a new sketch in *out. Bytes that are not a valid
/// image give SK_ERR_CORRUPT_DATA; they are never read out of bounds.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_deserialize(
    data: *const u8,
    len: usize,
    out: *mut *mut SkHll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = in_slice(data, len)?;
        *out = SkHll::into_raw(HllSketch::deserialize(bytes)?);
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_to_json(sketch: *const SkHll, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let json = SkHll::lock(sketch)?.to_json();
        bytes_out(
            serde_json::to_vec(&json).map_err(|e| invalid(e.to_string()))?,
            out,
        );
        Ok(())
    })
}
