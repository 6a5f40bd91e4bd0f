//! sketchbox core: mergeable data sketches with Apache DataSketches-compatible images.
//!
//! * Families: [`hll`] (HyperLogLog distinct counts), [`theta`] (distinct counts with
//!   set operations), [`kll`] (quantiles). Each reads and writes DataSketches images.
//! * Inputs: [`column`] views read buffers in place (every NumPy numeric width, Arrow
//!   strings with 32- or 64-bit offsets and a validity bitmap, fixed-width bytes and
//!   UCS4, delimited bytes) and define how each item is hashed ([`hash`]).
//! * Bulk updates: [`bulk`] drives every family over a column in blocks, with progress
//!   reports and cancellation between blocks, hashing on every core and applying in
//!   order, so a bulk update equals one-by-one updates.
//!
//! Pure, safe Rust, but for two measured `unsafe` calls: the AVX-512 build of the bulk
//! hashing loop ([`bulk::chunked`]) on processors that have it, and the prefetch hint
//! that loop gives for the input ahead of it ([`bulk::BySlice`]). Nothing here knows
//! about FFI; `rust/capi` wraps it for C.
//!
//! # Example
//!
//! Count distinct items of two columns, merge, and move the result as bytes; summarise a
//! column of integers as quantiles:
//!
//! ```
//! use sketchbox_core::bulk::{update_column, update_values};
//! use sketchbox_core::column::{Column, Numeric, Strings};
//! use sketchbox_core::hll::{HllSketch, HllType};
//! use sketchbox_core::kll::KllSketch;
//! use sketchbox_core::theta::{ThetaUnion, UpdateTheta};
//!
//! # fn main() -> sketchbox_core::Result<()> {
//! let ids: Vec<i64> = (0..100_000).collect();
//! let names = Strings::delimited(b"alice\nbob\ncarol\nbob", b'\n');
//! let mut no_progress = |_done: u64, _total: u64| true;
//!
//! // HyperLogLog: two sketches over two columns, then a merge.
//! let mut a = HllSketch::new(12, HllType::Hll8)?;
//! update_column(&mut a, &Column::from(Numeric::I64(&ids)), &mut no_progress)?;
//! let mut b = HllSketch::new(12, HllType::Hll8)?;
//! update_column(&mut b, &Column::from(names.clone()), &mut no_progress)?;
//! a.merge(&b);
//! assert!((a.estimate() - 100_003.0).abs() < 0.05 * 100_003.0);
//!
//! // The image is DataSketches' own: any DataSketches library reads it.
//! let image = a.serialize(true);
//! assert_eq!(HllSketch::deserialize(&image)?.estimate(), a.estimate());
//!
//! // Theta: the same columns, and a union of the two.
//! let mut t = UpdateTheta::new(12, 1.0, 9001)?;
//! update_column(&mut t, &Column::from(names), &mut no_progress)?;
//! assert_eq!(t.estimate(), 3.0); // exact below k items
//! let mut union = ThetaUnion::new(12, 9001)?;
//! union.update(&t.compact(true))?;
//! assert_eq!(union.result().estimate(), 3.0);
//!
//! // KLL: integers converted to the sketch's item type while they are read.
//! let mut q = KllSketch::<f64>::new(200)?;
//! update_values(&mut q, &Numeric::I64(&ids), &mut no_progress)?;
//! let median = q.quantile(0.5, true)?;
//! assert!((median - 50_000.0).abs() < 0.0133 * 100_000.0);
//! # Ok(())
//! # }
//! ```

pub mod bulk;
mod bytes;
pub mod column;
pub mod error;
pub mod hash;

pub use error::{Error, Result};

/// A double in a JSON summary: a number, or, as JSON has no such numbers, the string
/// "inf", "-inf" or "NaN" (every family writes them alike).
pub(crate) fn json_f64(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or_else(|| serde_json::Value::String(f.to_string()))
}
pub mod countmin;
pub mod frequent;
pub mod hll;
pub mod kll;
pub mod theta;
pub mod tuple;

#[cfg(test)]
mod test_fixtures;
