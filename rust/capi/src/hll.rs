//! C surface of the HyperLogLog sketch (`sketchbox_core::hll`).

use crate::common::*;
use crate::update::{hash_update_surface, HashHandle};
use sketchbox_core::hll::{HllSketch, HllType, HllUnion};
use sketchbox_core::Error;
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

c_enum_from_i32!(SkHllType, "HLL type", [SK_HLL_4, SK_HLL_6, SK_HLL_8]);

fn parse_hll_type(t: i32) -> Result<HllType, Error> {
    Ok(match SkHllType::try_from(t)? {
        SkHllType::SK_HLL_4 => HllType::Hll4,
        SkHllType::SK_HLL_6 => HllType::Hll6,
        SkHllType::SK_HLL_8 => HllType::Hll8,
    })
}

/// Creates an empty sketch of 2^lg_k registers (lg_k from 4 to 21) and target type
/// `hll_type` (an SkHllType). On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_new(lg_k: i32, hll_type: i32, out: *mut *mut SkHll) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let lg_k = small_param(lg_k, "lg_k must be from 4 to 21")?;
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

impl HashHandle for SkHll {
    type Sketch = HllSketch;
    fn updatable(inner: &mut HllSketch) -> Result<&mut HllSketch, Error> {
        Ok(inner)
    }
}

hash_update_surface!(
    hll_update,
    SkHll,
    "hll",
    "the sketch",
    " Items are hashed with DataSketches' default seed, 9001."
);

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
    num_std: i32,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let num_std = small_param(num_std, "num_std must be 1, 2 or 3")?;
        *out = SkHll::lock(sketch)?.lower_bound(num_std)?;
        Ok(())
    })
}

/// Writes the upper bound at `num_std` (1, 2 or 3) standard deviations to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_upper_bound(
    sketch: *const SkHll,
    num_std: i32,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let num_std = small_param(num_std, "num_std must be 1, 2 or 3")?;
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
        Ok(json_out(&json, out)?)
    })
}

/// A union's lg_max_k: 0 (chosen for the caller) or from 4 to 21.
fn union_lg_max_k(lg_max_k: i32) -> Result<u8, Error> {
    small_param(lg_max_k, "lg_max_k must be 0 or from 4 to 21")
}

/// An HLL image's lg_k, read from its preamble without validating the rest (the union
/// reads the image fully afterwards); None for bytes too short or out of range.
fn image_lg_k(image: &[u8]) -> Option<u8> {
    image.get(3).copied().filter(|lg_k| (4..=21).contains(lg_k))
}

/// Writes to *out a new sketch of type `hll_type` (an SkHllType), the union of the `n`
/// sketches at `sketches`, as a DataSketches hll_union(lg_max_k) fed them in order
/// computes it. `lg_max_k` 0 takes the largest lg_k of the inputs (12 for n = 0). The
/// inputs are unchanged and may repeat; they are locked one at a time.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_union_many(
    sketches: *const *const SkHll,
    n: usize,
    lg_max_k: i32,
    hll_type: i32,
    out: *mut *mut SkHll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let inputs = in_slice(sketches, n)?;
        let tgt = parse_hll_type(hll_type)?;
        let mut lg = union_lg_max_k(lg_max_k)?;
        if lg == 0 {
            for &h in inputs {
                lg = lg.max(SkHll::lock(h)?.lg_k());
            }
        }
        let mut union = HllUnion::new(if lg == 0 { 12 } else { lg })?;
        for &h in inputs {
            union.update(&*SkHll::lock(h)?);
        }
        *out = SkHll::into_raw(union.result(tgt));
        Ok(())
    })
}

/// Writes to *out a new sketch of type `hll_type` (an SkHllType), the union of the `n`
/// HLL images at `data[i]` (`lens[i]` bytes each; compact or updatable, from any
/// DataSketches library), as a DataSketches hll_union(lg_max_k) fed them in order
/// computes it: the result of deserializing each and calling sk_hll_union_many, in one
/// call. HLL-mode images are merged from their packed registers without building a
/// sketch (after the checks sk_hll_deserialize makes); others are read one at a time.
/// `lg_max_k` 0 takes the largest lg_k of the images (12 for n = 0). An invalid image
/// gives SK_ERR_CORRUPT_DATA naming its index, and no result.
#[no_mangle]
pub unsafe extern "C" fn sk_hll_union_images(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
    lg_max_k: i32,
    hll_type: i32,
    out: *mut *mut SkHll,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let tgt = parse_hll_type(hll_type)?;
        let images = image_slices(data, lens, n)?;
        let mut lg = union_lg_max_k(lg_max_k)?;
        if lg == 0 {
            lg = images
                .iter()
                .filter_map(|b| image_lg_k(b))
                .max()
                .unwrap_or(12);
        }
        let mut union = HllUnion::new(lg)?;
        union
            .update_images(&images)
            .map_err(|(i, e)| at_image(i)(e))?;
        *out = SkHll::into_raw(union.result(tgt));
        Ok(())
    })
}
