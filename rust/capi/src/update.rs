//! The bulk and one-item update surface of every hashing family, written once: a family
//! implements [`HashHandle`] and invokes [`hash_update_surface!`] once, which emits
//! `sk_<family>_update_numeric`, `_i64`, `_u64`, `_f64`, `_one_i64`, `_one_u64`,
//! `_one_f64`, `_one_bytes`, `_strings`, `_delimited` and `_fixed`. Their work is the
//! core's bulk driver ([`sketchbox_core::bulk::update_column`]); here pointers only
//! become column views.
//!
//! cbindgen sees the generated functions because the header test expands macros first
//! (cbindgen's `parse.expand`).

use crate::common::*;
use sketchbox_core::bulk::{self, HashSketch};
use sketchbox_core::column::Column;
use sketchbox_core::hash::hash_bytes;
use sketchbox_core::Error;
use std::ffi::c_void;

/// A handle whose sketch takes item hashes.
pub(crate) trait HashHandle: Handle {
    type Sketch: HashSketch;
    /// The sketch to update, or why it cannot be (a read-only sketch).
    fn updatable(inner: &mut Self::Inner) -> Result<&mut Self::Sketch, Error>;
}

/// Updates the sketch behind `sketch` with the column `make_column` builds (built, and so
/// validated, before the sketch is locked: an invalid input changes nothing).
pub(crate) unsafe fn update_column<'a, H: HashHandle>(
    sketch: *mut H,
    make_column: impl FnOnce() -> Result<Column<'a>, Error>,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let column = make_column()?;
        let mut inner = H::lock(sketch)?;
        let sk = H::updatable(&mut inner)?;
        Ok(bulk::update_column(
            sk,
            &column,
            &mut progress_fn(progress, user),
        )?)
    })
}

/// Updates the sketch behind `sketch` with one item, `hash(seed)` (`None`: not an item).
pub(crate) unsafe fn update_one<H: HashHandle>(
    sketch: *mut H,
    hash: impl FnOnce(u64) -> Option<(u64, u64)>,
) -> i32 {
    guard(|| {
        let mut inner = H::lock(sketch)?;
        let sk = H::updatable(&mut inner)?;
        if let Some(h) = hash(sk.seed()) {
            sk.apply(H::Sketch::key(h));
        }
        Ok(())
    })
}

/// Hash of one byte string (`None` for an empty one), checked as an input slice.
pub(crate) unsafe fn one_bytes(
    data: *const u8,
    len: usize,
) -> Result<impl FnOnce(u64) -> Option<(u64, u64)>, Error> {
    let item = in_slice(data, len)?;
    Ok(move |seed| hash_bytes(item, seed))
}

/// Emits the update surface of the hashing family whose handle is `$handle`, named
/// `sk_<$fam>_update_*`, in a module `$module`. `$target` names what is updated in the
/// docs ("the sketch"), `$note` (a line starting with a space) says what differs
/// between families.
///
/// A family whose items carry something more (a tuple sketch's keys carry values) names
/// its own two appliers and their extra parameters, which every generated function takes
/// after its items and before `progress`: `bulk: f[extra: T, ...]` is called as
/// `f(sketch, make_column, extra..., progress, user)`, `one: g[extra: T, ...]` as
/// `g(sketch, extra..., hash)`. Without them the appliers are [`update_column`] and
/// [`update_one`] of a [`HashHandle`].
macro_rules! hash_update_surface {
    ($module:ident, $handle:ty, $fam:literal, $target:literal, $note:literal) => {
        $crate::update::hash_update_surface!(
            $module, $handle, $fam, $target, $note,
            bulk: $crate::update::update_column[],
            one: $crate::update::update_one[]
        );
    };
    (
        $module:ident, $handle:ty, $fam:literal, $target:literal, $note:literal,
        bulk: $bulk:path [$($b:ident : $bt:ty),* $(,)?],
        one: $one:path [$($o:ident : $ot:ty),* $(,)?]
    ) => {
        pub mod $module {
            use super::*;
            use $crate::common::{
                arrow_column, delimited_column, fixed_column, numeric_column, SkDtype,
                SkProgressFn,
            };
            use $crate::update::one_bytes;
            use sketchbox_core::hash::{hash_f64, murmur3_u64};
            use std::ffi::c_void;

            #[doc = concat!(" Updates ", $target, " with `len` numbers of element type `dtype` (an SkDtype) at")]
            #[doc = " `data`, which must be aligned for that type (else SK_ERR_INVALID_ARGUMENT). Integers"]
            #[doc = " are hashed by value as 8-byte int64 (uint64 values at or above 2^63 by their bit"]
            #[doc = " pattern), floats as double with -0.0 and NaN canonicalised, as Apache DataSketches"]
            #[doc = " does. Large inputs are hashed on every core and applied in order, so the result"]
            #[doc = " equals one-by-one updates. If `progress` cancels, the sketch holds the items of"]
            #[doc = concat!(" every completed block (a prefix of the input) and the call returns SK_ERR_CANCELLED.")]
            #[doc = $note]
            #[export_name = concat!("sk_", $fam, "_update_numeric")]
            pub unsafe extern "C" fn update_numeric(
                sketch: *mut $handle,
                data: *const c_void,
                len: usize,
                dtype: i32,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                $bulk(sketch, || Ok(numeric_column(data, len, dtype)?.into()), $($b,)* progress, user)
            }

            #[doc = concat!(" sk_", $fam, "_update_numeric for int64 items.")]
            #[export_name = concat!("sk_", $fam, "_update_i64")]
            pub unsafe extern "C" fn update_i64(
                sketch: *mut $handle,
                data: *const i64,
                len: usize,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                let dtype = SkDtype::SK_DTYPE_I64 as i32;
                update_numeric(sketch, data.cast(), len, dtype, $($b,)* progress, user)
            }

            #[doc = concat!(" sk_", $fam, "_update_numeric for uint64 items.")]
            #[export_name = concat!("sk_", $fam, "_update_u64")]
            pub unsafe extern "C" fn update_u64(
                sketch: *mut $handle,
                data: *const u64,
                len: usize,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                let dtype = SkDtype::SK_DTYPE_U64 as i32;
                update_numeric(sketch, data.cast(), len, dtype, $($b,)* progress, user)
            }

            #[doc = concat!(" sk_", $fam, "_update_numeric for double items.")]
            #[export_name = concat!("sk_", $fam, "_update_f64")]
            pub unsafe extern "C" fn update_f64(
                sketch: *mut $handle,
                data: *const f64,
                len: usize,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                let dtype = SkDtype::SK_DTYPE_F64 as i32;
                update_numeric(sketch, data.cast(), len, dtype, $($b,)* progress, user)
            }

            #[doc = concat!(" Updates ", $target, " with one int64 item (the cheapest call for item-at-a-time")]
            #[doc = concat!(" use).")]
            #[doc = $note]
            #[export_name = concat!("sk_", $fam, "_update_one_i64")]
            pub unsafe extern "C" fn update_one_i64(sketch: *mut $handle, value: i64, $($o: $ot),*) -> i32 {
                $one(sketch, $($o,)* |seed| Some(murmur3_u64(value as u64, seed)))
            }

            #[doc = concat!(" Updates ", $target, " with one uint64 item (hashed by its bit pattern, like an int64).")]
            #[doc = $note]
            #[export_name = concat!("sk_", $fam, "_update_one_u64")]
            pub unsafe extern "C" fn update_one_u64(sketch: *mut $handle, value: u64, $($o: $ot),*) -> i32 {
                $one(sketch, $($o,)* |seed| Some(murmur3_u64(value, seed)))
            }

            #[doc = concat!(" Updates ", $target, " with one double item.")]
            #[doc = $note]
            #[export_name = concat!("sk_", $fam, "_update_one_f64")]
            pub unsafe extern "C" fn update_one_f64(sketch: *mut $handle, value: f64, $($o: $ot),*) -> i32 {
                $one(sketch, $($o,)* |seed| Some(hash_f64(value, seed)))
            }

            #[doc = concat!(" Updates ", $target, " with one string or byte string of `len` bytes; an empty one")]
            #[doc = concat!(" is not an item and is ignored.")]
            #[doc = $note]
            #[export_name = concat!("sk_", $fam, "_update_one_bytes")]
            pub unsafe extern "C" fn update_one_bytes(
                sketch: *mut $handle,
                data: *const u8,
                len: usize,
                $($o: $ot,)*
            ) -> i32 {
                match one_bytes(data, len) {
                    Ok(hash) => $one(sketch, $($o,)* hash),
                    Err(e) => $crate::common::guard(|| Err(e.into())),
                }
            }

            #[doc = concat!(" Updates ", $target, " with `n` strings in Arrow layout: item i is bytes data[offsets[i]")]
            #[doc = " .. offsets[i+1]] (offsets hold n+1 entries of `offset_width` bytes, 4 for Arrow"]
            #[doc = " string/binary, 8 for large_string/large_binary; aligned to that width; NULL is"]
            #[doc = " accepted when n is 0). `validity` is an optional Arrow validity bitmap (NULL: all"]
            #[doc = " valid) whose bit `validity_offset + i` says whether item i is present; null and"]
            #[doc = " empty items are skipped. The input is validated before any item is applied. Cancellation"]
            #[doc = concat!(" as sk_", $fam, "_update_numeric.")]
            #[export_name = concat!("sk_", $fam, "_update_strings")]
            #[allow(clippy::too_many_arguments)]
            pub unsafe extern "C" fn update_strings(
                sketch: *mut $handle,
                data: *const u8,
                data_len: usize,
                offsets: *const c_void,
                offset_width: i32,
                n: usize,
                validity: *const u8,
                validity_offset: usize,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                let column = || {
                    arrow_column(data, data_len, offsets, offset_width, n, validity, validity_offset)
                };
                $bulk(sketch, column, $($b,)* progress, user)
            }

            #[doc = concat!(" Updates ", $target, " with the items of `data` separated by the byte `delimiter`,")]
            #[doc = " which no item contains (e.g. strings joined with \"\\\\0\"): `len` bytes hold count(delimiter)"]
            #[doc = concat!(" + 1 items; empty ones are skipped. Cancellation as sk_", $fam, "_update_numeric.")]
            #[export_name = concat!("sk_", $fam, "_update_delimited")]
            pub unsafe extern "C" fn update_delimited(
                sketch: *mut $handle,
                data: *const u8,
                len: usize,
                delimiter: u8,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                $bulk(sketch, || delimited_column(data, len, delimiter), $($b,)* progress, user)
            }

            #[doc = concat!(" Updates ", $target, " with `n` fixed-width items of `itemsize` bytes each (NumPy")]
            #[doc = " `S` or `U` arrays), encoded as `encoding` (an SkFixedEncoding); trailing NULs are"]
            #[doc = concat!(" padding and empty items are skipped. Cancellation as sk_", $fam, "_update_numeric.")]
            #[export_name = concat!("sk_", $fam, "_update_fixed")]
            pub unsafe extern "C" fn update_fixed(
                sketch: *mut $handle,
                data: *const c_void,
                itemsize: usize,
                n: usize,
                encoding: i32,
                $($b: $bt,)*
                progress: SkProgressFn,
                user: *mut c_void,
            ) -> i32 {
                $bulk(sketch, || fixed_column(data, itemsize, n, encoding), $($b,)* progress, user)
            }
        }
    };
}
pub(crate) use hash_update_surface;
