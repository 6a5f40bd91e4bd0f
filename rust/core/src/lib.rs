//! sketchbox core: mergeable data sketches with Apache DataSketches-compatible images.
//!
//! Pure, safe Rust (one measured `unsafe`: calling the AVX-512 build of the Theta bulk
//! kernel on processors that have it). Nothing here knows about FFI; `rust/capi` wraps it.

pub mod bulk;
pub mod error;
pub mod hash;

pub use error::{Error, Result};
pub mod hll;
pub mod kll;
pub mod theta;
