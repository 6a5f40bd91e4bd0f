//! sketchbox core: mergeable data sketches with Apache DataSketches-compatible images.
//!
//! Pure, safe Rust, but for two measured `unsafe` calls of AVX-512 builds of the bulk
//! hashing loops (HLL's in [`bulk::chunked`], Theta's screen) on processors that have
//! it. Nothing here knows about FFI; `rust/capi` wraps it.

pub mod bulk;
mod bytes;
pub mod column;
pub mod error;
pub mod hash;

pub use error::{Error, Result};
pub mod hll;
pub mod kll;
pub mod theta;

#[cfg(test)]
mod test_fixtures;
