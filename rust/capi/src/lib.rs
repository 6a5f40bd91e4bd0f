//! The C ABI of sketchbox: `extern "C"` wrappers over `sketchbox-core` and nothing else
//! (pointer and length checks into the core's column views, the panic guard, handles
//! and their locks, status codes). The header `include/sketchbox.h` is generated from
//! this crate by cbindgen, with macros expanded (see `update.rs`).
#![allow(clippy::missing_safety_doc)]

mod common;
mod countmin;
mod frequent;
mod hll;
mod kll;
mod theta;
mod tuple;
mod update;

pub use common::*;
pub use countmin::*;
pub use frequent::*;
pub use hll::*;
pub use kll::*;
pub use theta::*;
pub use tuple::*;
