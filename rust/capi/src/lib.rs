//! The C ABI of sketchbox: `extern "C"` wrappers over `sketchbox-core` and nothing else.
//! The header `include/sketchbox.h` is generated from this crate by cbindgen.
#![allow(clippy::missing_safety_doc)]

mod common;
mod hll;
mod kll;
mod theta;

pub use common::*;
pub use hll::*;
pub use kll::*;
pub use theta::*;
