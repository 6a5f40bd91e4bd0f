//! C surface of the Theta sketch (`sketchbox_core::theta`).

use crate::common::*;
use crate::update::{hash_update_surface, HashHandle};
use sketchbox_core::theta::{
    a_not_b, default_union_lg_k, is_update_image, jaccard, CompactTheta, ThetaIntersection,
    ThetaRead, ThetaUnion, UnionInputSize, UpdateTheta, DEFAULT_LG_K,
};
use sketchbox_core::Error;
use std::sync::Mutex;

/// A Theta sketch (Apache DataSketches-compatible) in one of two states: an update sketch
/// (from sk_theta_new, a copy of one, or sk_theta_deserialize of an updatable image),
/// which accepts items, or a compact sketch (the result of a set operation or of
/// sk_theta_deserialize of a compact image), which is immutable: updating
/// it fails with SK_ERR_READ_ONLY. Both answer every query, serialize, and enter
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
            Theta::Compact(..) => Err(Error::ReadOnly(
                "this Theta sketch is compact (the result of a set operation or read from a \
                 compact image) and cannot be updated; union it with an update sketch"
                    .into(),
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
    pub(crate) fn with_compact<R>(&self, f: impl FnOnce(&CompactTheta) -> R) -> R {
        match self {
            Theta::Update(u) => f(&u.compact(true)),
            Theta::Compact(c, _) => f(c),
        }
    }
}

/// A compact copy of the sketch behind `ptr`, taken under its lock.
unsafe fn snapshot(ptr: *const SkTheta) -> Result<CompactTheta, ApiError> {
    Ok(SkTheta::lock(ptr)?.with_compact(|c| c.clone()))
}

unsafe fn new_compact(out: *mut *mut SkTheta, sketch: CompactTheta, seed: u64) {
    *out = SkTheta::into_raw(Theta::Compact(sketch, seed));
}

/// Creates an empty update sketch of nominal size k = 2^lg_k (lg_k from 5 to 26; 12 is
/// DataSketches' default) with up-front sampling probability `p` in (0, 1] (1: none)
/// and hash `seed` (DataSketches' default is 9001; sketches combine only with sketches
/// of the same seed; a seed whose 16-bit seed hash is 0, which DataSketches reserves and
/// refuses to read, is SK_ERR_INVALID_ARGUMENT). On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_new(lg_k: i32, p: f32, seed: u64, out: *mut *mut SkTheta) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let lg_k = small_param(lg_k, "lg_k must be from 5 to 26")?;
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

impl HashHandle for SkTheta {
    type Sketch = UpdateTheta;
    fn updatable(inner: &mut Theta) -> Result<&mut UpdateTheta, Error> {
        inner.update_sketch()
    }
}

hash_update_surface!(
    theta_update,
    SkTheta,
    "theta",
    "an update sketch",
    " Items are hashed with the sketch's seed. A compact sketch gives SK_ERR_READ_ONLY."
);

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
    num_std: i32,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let num_std = small_param(num_std, "num_std_devs must be 1, 2 or 3")?;
        *out = SkTheta::lock(sketch)?.read().lower_bound(num_std)?;
        Ok(())
    })
}

/// Writes the approximate upper confidence bound at `num_std` (1, 2 or 3) standard
/// deviations to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_upper_bound(
    sketch: *const SkTheta,
    num_std: i32,
    out: *mut f64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let num_std = small_param(num_std, "num_std_devs must be 1, 2 or 3")?;
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

/// A union's lg_k: 0 (chosen for the caller) or from 5 to 26.
fn union_lg_k(lg_k: i32) -> Result<u8, Error> {
    small_param(lg_k, "lg_k must be 0 or from 5 to 26")
}

/// Writes to *out a new compact sketch, the union of the `n` sketches at `sketches`, as
/// a DataSketches theta_union(lg_k, seed) fed them in order computes it (an ordered
/// result; empty for n = 0). `lg_k` (from 5 to 26) is the union's nominal size; 0 takes the
/// largest lg_k of the update sketches among the inputs and, for a compact input, of the
/// lg_k its entries imply (log2 of their count, rounded down: the lg_k it was built with
/// if it is in estimation mode), at least 12 if no input is an update sketch. Every
/// non-empty input must have been built with `seed` (else SK_ERR_INCOMPATIBLE). The
/// inputs are unchanged and may repeat.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_union_many(
    sketches: *const *const SkTheta,
    n: usize,
    lg_k: i32,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let inputs = handles(sketches, n)?;
        let mut lg_k = union_lg_k(lg_k)?;
        if lg_k == 0 {
            let mut sizes = Vec::with_capacity(inputs.len());
            for &h in inputs {
                sizes.push(match &*SkTheta::lock(h)? {
                    Theta::Update(u) => UnionInputSize::Update(u.lg_k()),
                    Theta::Compact(c, _) => UnionInputSize::Compact(c.num_retained()),
                });
            }
            lg_k = default_union_lg_k(sizes);
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
/// images (what DataSketches and sketchbox write by default) and compressed serial
/// version 4 images are read only as far as
/// the union needs: a union of many large images reads a few entries of each. Every
/// entry read is checked; entries past the union's theta are not read, so corruption
/// confined to them goes unnoticed (it cannot change the result). An invalid image gives
/// SK_ERR_CORRUPT_DATA, another seed SK_ERR_INCOMPATIBLE, and no result.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_union_images(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
    lg_k: i32,
    seed: u64,
    out: *mut *mut SkTheta,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let images = image_slices(data, lens, n)?;
        let mut union = union_of(union_lg_k(lg_k)?, seed)?;
        each_image(&images, |b| union.update_image(b))?;
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
            return Err(invalid("the intersection of no sketches is undefined").into());
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

/// Reads a Theta image built with `seed` into a new sketch in *out: a compact image
/// (serial versions 1 to 4, from sketchbox or any DataSketches library) gives a compact
/// sketch; an updatable image (family 2: sk_theta_serialize_updatable's, or
/// datasketches-java's UpdateSketch.toByteArray()) gives an update sketch that keeps
/// accepting items exactly as the writer would have (sk_theta_is_updatable tells which).
/// Bytes that are not a valid image give SK_ERR_CORRUPT_DATA (they are never read out of
/// bounds); an image of another seed gives SK_ERR_INCOMPATIBLE.
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
        let sketch = if is_update_image(bytes) {
            Theta::Update(UpdateTheta::deserialize_updatable(bytes, seed)?)
        } else {
            Theta::Compact(CompactTheta::deserialize(bytes, seed)?, seed)
        };
        *out = SkTheta::into_raw(sketch);
        Ok(())
    })
}

/// Writes the sketch's updatable image to *out: datasketches-java's UpdateSketch image
/// (family 2, serial version 3: the preamble, then the whole hash table), which
/// sk_theta_deserialize and Java's UpdateSketch.heapify/wrap read back as an update
/// sketch that continues as this one would. Larger than the compact image (8 bytes per
/// hash table slot, up to 2k slots). A compact sketch has none: SK_ERR_READ_ONLY. Free it
/// with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_serialize_updatable(
    sketch: *const SkTheta,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = match &*SkTheta::lock(sketch)? {
            Theta::Update(u) => u.serialize_updatable(),
            Theta::Compact(..) => {
                return Err(Error::ReadOnly(
                    "a compact Theta sketch has no updatable image; serialize it compact".into(),
                )
                .into())
            }
        };
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Writes to *out whether the sketch is an update sketch (accepts items: from
/// sk_theta_new, a copy of one, or an updatable image) rather than a compact one.
#[no_mangle]
pub unsafe extern "C" fn sk_theta_is_updatable(sketch: *const SkTheta, out: *mut bool) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        *out = matches!(&*SkTheta::lock(sketch)?, Theta::Update(_));
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
        Ok(json_out(&json, out)?)
    })
}
