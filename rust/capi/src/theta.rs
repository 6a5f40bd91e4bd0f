//! C surface of the Theta sketch (`sketchbox_core::theta`).

use crate::common::*;
use sketchbox_core::hash::hash_bytes;
use sketchbox_core::theta::{
    a_not_b, jaccard, CompactTheta, ThetaIntersection, ThetaRead, ThetaUnion, UpdateTheta,
    DEFAULT_LG_K,
};
use sketchbox_core::Error;
use std::ffi::c_void;
use std::sync::Mutex;

/// A Theta sketch (Apache DataSketches-compatible) in one of two states: an update sketch
/// (from sk_theta_new, or a copy of one), which accepts items, or a compact sketch (the
/// result of a set operation or of sk_theta_deserialize), which is immutable: updating
/// it fails with SK_ERR_INVALID_ARGUMENT. Both answer every query, serialize, and enter
/// set operations. Owned by the caller; released by sk_theta_free. Safe to share
/// between threads: every call takes the handle's internal lock (set operations lock
/// their inputs one at a time, so they never deadlock, even on the same handle twice).
pub struct SkTheta(Mutex<Theta>);

/// What an SkTheta holds: the sketch and the hash seed it was built with.
pub(crate) enum Theta {
    Update(UpdateTheta),
    Compact(CompactTheta, u64),
}

impl Theta {
    fn read(&self) -> &dyn ThetaRead {
        match self {
            Theta::Update(u) => u,
            Theta::Compact(c, _) => c,
        }
    }
}

impl Handle for SkTheta {
    type Inner = Theta;
    fn wrap(value: Theta) -> Self {
        SkTheta(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<Theta> {
        &self.0
    }
}

impl Theta {
    fn update_sketch(&mut self) -> Result<&mut UpdateTheta, Error> {
        match self {
            Theta::Update(u) => Ok(u),
            Theta::Compact(..) => Err(invalid(
                "this Theta sketch is compact (the result of a set operation or of \
                 deserialization) and cannot be updated; union it with an update sketch",
            )),
        }
    }

    fn seed(&self) -> u64 {
        match self {
            Theta::Update(u) => u.seed(),
            Theta::Compact(_, seed) => *seed,
        }
    }

    /// Calls `f` with the sketch in compact form (ordered, for an update sketch).
    fn with_compact<R>(&self, f: impl FnOnce(&CompactTheta) -> R) -> R {
        match self {
            Theta::Update(u) => f(&u.compact(true)),
            Theta::Compact(c, _) => f(c),
        }
    }
}

/// A compact copy of the sketch behind `ptr`, taken under its lock.
unsafe fn snapshot(ptr: *const SkTheta) -> Result<CompactTheta, Error> {
    Ok(SkTheta::lock(ptr)?.with_compact(|c| c.clone()))
}

unsafe fn new_compact(out: *mut *mut SkTheta, sketch: CompactTheta, seed: u64) {
    *out = SkTheta::into_raw(Theta::Compact(sketch, seed));
}

/// Creates an empty update sketch of nominal size k = 2^lg_k (lg_k in 5..=26; 12 is
/// DataSketches' default) with up-front sampling probability `p` in (0, 1] (1: none)
/// and hash `seed` (DataSketches' default is 9001; sketches combine only with sketches
/// of the same seed). On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_new(lg_k: u8, p: f32, seed: u64, out: *mut *mut SkTheta) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::into_raw(Theta::Update(UpdateTheta::new(lg_k, p, seed)?));
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_free(sketch: *mut SkTheta) {
    let _ = guard(|| {
        SkTheta::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` (same state: update or compact) in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_copy(sketch: *const SkTheta, out: *mut *mut SkTheta) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let copy = match &*SkTheta::lock(sketch)? {
            Theta::Update(u) => Theta::Update(u.clone()),
            Theta::Compact(c, seed) => Theta::Compact(c.clone(), *seed),
        };
        *out = SkTheta::into_raw(copy);
        Ok(())
    })
}

/// Feeds hashed items to an update sketch's bulk path.
struct Bulk<'a> {
    sketch: &'a mut UpdateTheta,
    progress: &'a mut dyn FnMut(u64, u64) -> bool,
}

impl HashSink for Bulk<'_> {
    type Out = Result<(), Error>;
    fn feed<H: Fn(usize) -> (u64, u64) + Sync>(self, n: usize, hash_at: H) -> Self::Out {
        self.sketch
            .update_with(n, move |i| Some(hash_at(i).0), self.progress)
    }
}

/// Updates an update sketch with `len` numbers of element type `dtype` (an SkDtype) at
/// `data`, which must be aligned for that type (else SK_ERR_INVALID_ARGUMENT).
/// Integers are hashed by value as 8-byte int64 (uint64 values at or above 2^63 by
/// their bit pattern), floats as double with -0.0 and NaN canonicalised, as Apache
/// DataSketches does, with the sketch's seed. Large inputs are hashed on every core and
/// applied in order, so the result equals one-by-one updates. If `progress` cancels,
/// the sketch holds the items of every completed block (a prefix of the input) and the
/// call returns SK_ERR_CANCELLED. A compact sketch gives SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_numeric(
    sketch: *mut SkTheta,
    data: *const c_void,
    len: usize,
    dtype: i32,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let col = Numeric::from_raw(data, len, dtype)?;
        let mut guard = SkTheta::lock(sketch)?;
        let sk = guard.update_sketch()?;
        let seed = sk.seed();
        col.hashes(
            seed,
            Bulk {
                sketch: sk,
                progress: &mut progress_fn(progress, user),
            },
        )
    })
}

/// sk_theta_update_numeric for int64 items.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_i64(
    sketch: *mut SkTheta,
    data: *const i64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let dtype = SkDtype::SK_DTYPE_I64 as i32;
    sk_theta_update_numeric(sketch, data as *const c_void, len, dtype, progress, user)
}

/// sk_theta_update_numeric for uint64 items.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_u64(
    sketch: *mut SkTheta,
    data: *const u64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let dtype = SkDtype::SK_DTYPE_U64 as i32;
    sk_theta_update_numeric(sketch, data as *const c_void, len, dtype, progress, user)
}

/// sk_theta_update_numeric for double items.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_f64(
    sketch: *mut SkTheta,
    data: *const f64,
    len: usize,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let dtype = SkDtype::SK_DTYPE_F64 as i32;
    sk_theta_update_numeric(sketch, data as *const c_void, len, dtype, progress, user)
}

/// Updates an update sketch with one int64 item.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_one_i64(sketch: *mut SkTheta, value: i64) -> i32 {
    guard(|| {
        SkTheta::lock(sketch)?.update_sketch()?.update_i64(value);
        Ok(())
    })
}

/// Updates an update sketch with one uint64 item (hashed by its bit pattern, like an
/// int64).
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_one_u64(sketch: *mut SkTheta, value: u64) -> i32 {
    guard(|| {
        SkTheta::lock(sketch)?.update_sketch()?.update_u64(value);
        Ok(())
    })
}

/// Updates an update sketch with one double item.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_one_f64(sketch: *mut SkTheta, value: f64) -> i32 {
    guard(|| {
        SkTheta::lock(sketch)?.update_sketch()?.update_f64(value);
        Ok(())
    })
}

/// Updates an update sketch with one string or byte string of `len` bytes; an empty one
/// is not an item and is ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_one_bytes(
    sketch: *mut SkTheta,
    data: *const u8,
    len: usize,
) -> i32 {
    guard(|| {
        let item = in_slice(data, len)?;
        SkTheta::lock(sketch)?.update_sketch()?.update_bytes(item);
        Ok(())
    })
}

/// Updates an update sketch with `n` strings in Arrow layout, exactly as
/// sk_hll_update_strings reads them (offsets of `offset_width` 4 or 8 bytes, optional
/// validity bitmap; null and empty items are skipped). The input is validated before
/// any item is applied. Cancellation as sk_theta_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_strings(
    sketch: *mut SkTheta,
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

/// Updates an update sketch with `n` fixed-width items of `itemsize` bytes each (NumPy
/// `S` or `U` arrays), encoded as `encoding` (an SkFixedEncoding); trailing NULs are
/// padding and empty items are skipped. Cancellation as sk_theta_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_fixed(
    sketch: *mut SkTheta,
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

/// Updates an update sketch with the items of `data` separated by the byte `delimiter`,
/// which no item contains (e.g. strings joined with "\\0"): `len` bytes hold
/// count(delimiter) + 1 items; empty ones are skipped. Cancellation as
/// sk_theta_update_numeric.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_update_delimited(
    sketch: *mut SkTheta,
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

unsafe fn update_strings(
    sketch: *mut SkTheta,
    col: &Strings,
    progress: SkProgressFn,
    user: *mut c_void,
) -> Result<(), Error> {
    let mut guard = SkTheta::lock(sketch)?;
    let sk = guard.update_sketch()?;
    let seed = sk.seed();
    sk.update_with(
        col.len(),
        |i| {
            col.with_item(i, |b| hash_bytes(b, seed).map(|h| h.0))
                .flatten()
        },
        &mut progress_fn(progress, user),
    )
}

/// Writes the estimate of the number of distinct items (retained / theta) to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_estimate(sketch: *const SkTheta, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().estimate();
        Ok(())
    })
}

/// Writes the approximate lower confidence bound at `num_std` (1, 2 or 3) standard
/// deviations to *out (DataSketches' binomial bounds; the count itself while exact).
#[no_mangle]
pub unsafe extern "C" fn sk_theta_lower_bound(
    sketch: *const SkTheta,
    num_std: u8,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().lower_bound(num_std)?;
        Ok(())
    })
}

/// Writes the approximate upper confidence bound at `num_std` (1, 2 or 3) standard
/// deviations to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_upper_bound(
    sketch: *const SkTheta,
    num_std: u8,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().upper_bound(num_std)?;
        Ok(())
    })
}

/// Writes theta, the sampled fraction of the hash space, in (0, 1] to *out (1 while the
/// sketch is exact, and for an empty sketch).
#[no_mangle]
pub unsafe extern "C" fn sk_theta_theta(sketch: *const SkTheta, out: *mut f64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().theta();
        Ok(())
    })
}

/// Writes the number of retained hashes to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_num_retained(sketch: *const SkTheta, out: *mut u32) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().num_retained();
        Ok(())
    })
}

/// Writes true to *out if no item was ever presented to the sketch (or to the inputs of
/// the set operation that made it, as DataSketches defines it), else false. A sketch can
/// be non-empty and retain nothing (sampling with p < 1, an intersection or difference).
#[no_mangle]
pub unsafe extern "C" fn sk_theta_is_empty(sketch: *const SkTheta, out: *mut bool) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.read().is_empty();
        Ok(())
    })
}

/// Writes the hash seed the sketch was built (or read) with to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_seed(sketch: *const SkTheta, out: *mut u64) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = SkTheta::lock(sketch)?.seed();
        Ok(())
    })
}

/// The `n` handles at `sketches` (NULL is accepted when n is 0).
unsafe fn handles<'a>(
    sketches: *const *const SkTheta,
    n: usize,
) -> Result<&'a [*const SkTheta], Error> {
    in_slice(sketches, n)
}

fn union_of(lg_k: u8, seed: u64) -> Result<ThetaUnion, Error> {
    ThetaUnion::new(if lg_k == 0 { DEFAULT_LG_K } else { lg_k }, seed)
}

/// Writes to *out a new compact sketch, the union of the `n` sketches at `sketches`, as
/// a DataSketches theta_union(lg_k, seed) fed them in order computes it (an ordered
/// result; empty for n = 0). `lg_k` (5..=26) is the union's nominal size; 0 takes the
/// largest lg_k of the update sketches among the inputs, or 12 if there are none. Every
/// non-empty input must have been built with `seed` (else SK_ERR_INCOMPATIBLE). The
/// inputs are unchanged and may repeat.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_union_many(
    sketches: *const *const SkTheta,
    n: usize,
    lg_k: u8,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let inputs = handles(sketches, n)?;
        let mut lg_k = lg_k;
        if lg_k == 0 {
            for &h in inputs {
                if let Theta::Update(u) = &*SkTheta::lock(h)? {
                    lg_k = lg_k.max(u.lg_k());
                }
            }
        }
        let mut union = union_of(lg_k, seed)?;
        for &h in inputs {
            SkTheta::lock(h)?.with_compact(|c| union.update(c))?;
        }
        new_compact(out, union.result(), seed);
        Ok(())
    })
}

/// Writes to *out a new compact sketch, the union of the `n` compact Theta images at
/// `data[i]` (`lens[i]` bytes each; any serial version, from any DataSketches library),
/// read with `seed`: the same result as deserializing each and calling
/// sk_theta_union_many, in one call. `lg_k` 0 means 12. Ordered serial version 3
/// images (what DataSketches and sketchbox write by default) are read only as far as
/// the union needs: a union of many large images reads a few entries of each. Every
/// entry read is checked; entries past the union's theta are not read, so corruption
/// confined to them goes unnoticed (it cannot change the result). An invalid image gives
/// SK_ERR_CORRUPT_DATA, another seed SK_ERR_INCOMPATIBLE, and no result.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_union_images(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
    lg_k: u8,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let ptrs = in_slice(data, n)?;
        let lens = in_slice(lens, n)?;
        let mut union = union_of(lg_k, seed)?;
        for (i, (&ptr, &len)) in ptrs.iter().zip(lens).enumerate() {
            let image = in_slice(ptr, len)?;
            union.update_image(image).map_err(|e| match e {
                Error::CorruptData(m) => Error::CorruptData(format!("image {i}: {m}")),
                Error::Incompatible(m) => Error::Incompatible(format!("image {i}: {m}")),
                other => other,
            })?;
        }
        new_compact(out, union.result(), seed);
        Ok(())
    })
}

/// Writes to *out a new compact sketch, the intersection of the `n` (at least 1)
/// sketches at `sketches`, as a DataSketches theta_intersection(seed) fed them in order
/// computes it (ordered). Every non-empty input must have been built with `seed`.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_intersection_many(
    sketches: *const *const SkTheta,
    n: usize,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let inputs = handles(sketches, n)?;
        if inputs.is_empty() {
            return Err(invalid("the intersection of no sketches is undefined"));
        }
        let mut inter = ThetaIntersection::new(seed);
        for &h in inputs {
            SkTheta::lock(h)?.with_compact(|c| inter.update(c))?;
        }
        new_compact(out, inter.result()?, seed);
        Ok(())
    })
}

/// Writes to *out a new compact sketch of the items of `a` not in `b` (DataSketches'
/// theta_a_not_b with `seed`; ordered). `a` and `b` may be the same sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_a_not_b(
    a: *const SkTheta,
    b: *const SkTheta,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        // One lock at a time: copy `a` out before locking `b`.
        let a = snapshot(a)?;
        let result = SkTheta::lock(b)?.with_compact(|b| a_not_b(&a, b, seed))?;
        new_compact(out, result, seed);
        Ok(())
    })
}

/// Writes the Jaccard similarity of `a` and `b` (the size of their intersection over the
/// size of their union) as its lower bound, estimate and upper bound (about 95%
/// confidence; DataSketches' theta_jaccard_similarity with `seed`). Two empty sketches
/// give 1, 1, 1.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_jaccard(
    a: *const SkTheta,
    b: *const SkTheta,
    seed: u64,
    lower: *mut f64,
    estimate: *mut f64,
    upper: *mut f64,
) -> i32 {
    guard(|| {
        let (lower, estimate, upper) = (out_ref(lower)?, out_ref(estimate)?, out_ref(upper)?);
        let a = snapshot(a)?;
        let (lo, est, hi) = SkTheta::lock(b)?.with_compact(|b| jaccard(&a, b, seed))?;
        (*lower, *estimate, *upper) = (lo, est, hi);
        Ok(())
    })
}

/// Writes the sketch's compact DataSketches image to *out: serial version 3 (an update
/// sketch's entries sorted: the bytes of datasketches' compact().serialize()) or, if
/// `compressed`, serial version 4 where it applies (ordered, with entries; else version
/// 3, as DataSketches does). Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_serialize(
    sketch: *const SkTheta,
    compressed: bool,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = SkTheta::lock(sketch)?.with_compact(|c| {
            if compressed {
                c.serialize_compressed()
            } else {
                c.serialize()
            }
        });
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Reads a compact Theta image (serial versions 1 to 4, from sketchbox or any
/// DataSketches library) built with `seed` into a new compact sketch in *out. Bytes that
/// are not a valid image give SK_ERR_CORRUPT_DATA (they are never read out of bounds);
/// an image of another seed gives SK_ERR_INCOMPATIBLE.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_deserialize(
    data: *const u8,
    len: usize,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = in_slice(data, len)?;
        new_compact(out, CompactTheta::deserialize(bytes, seed)?, seed);
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out: its kind
/// ("update" or "compact"), parameters, theta, counts, estimate and 2-sd bounds.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_to_json(sketch: *const SkTheta, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let sk = SkTheta::lock(sketch)?;
        let mut json = match &*sk {
            Theta::Update(u) => u.to_json(),
            Theta::Compact(c, _) => c.to_json(),
        };
        json["seed"] = sk.seed().into();
        bytes_out(
            serde_json::to_vec(&json).map_err(|e| invalid(e.to_string()))?,
            out,
        );
        Ok(())
    })
}
