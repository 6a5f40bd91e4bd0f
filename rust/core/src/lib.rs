//! sketchbox core: mergeable data sketches with Apache DataSketches-compatible images.
//!
//! Pure, safe Rust. Nothing here knows about FFI; `rust/capi` wraps it.

pub mod error;
pub mod bulk;
pub mod hash;

pub use error::{Error, Result};
pub mod hll;
pub mod kll;
pub mod theta;
