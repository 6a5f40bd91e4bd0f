//! Theta sketches: distinct counting with set operations, compatible with Apache
//! DataSketches (Java, C++, Python) images and semantics.
//!
//! A Theta sketch keeps the hashes of the items that fall below a threshold `theta`
//! (a fraction of the 63-bit hash space); the number of distinct items is estimated as
//! `retained / theta`. Sketches built with the same seed can be combined: [`ThetaUnion`],
//! [`ThetaIntersection`], [`a_not_b`], and [`jaccard`] similarity.
//!
//! * [`UpdateTheta`] accepts items (QuickSelect update sketch, nominal entries
//!   `k = 2^lg_k`, `lg_k` 5..=26, default 12; resize factor x8; optional up-front sampling
//!   probability `p`; seed default 9001). Items are hashed with MurmurHash3_x64_128 over
//!   their canonical bytes ([`crate::hash`]), and the theta hash is `h1 >> 1`.
//!   [`UpdateTheta::update_with`] is the bulk path: hashed and screened against theta on
//!   every core, applied in order, with progress reports and cancellation between blocks.
//! * [`UpdateTheta::serialize_updatable`] / [`UpdateTheta::deserialize_updatable`] write
//!   and read the updatable image (family 2), datasketches-java's `UpdateSketch` image:
//!   a sketch read from it keeps accepting items, in sketchbox or in Java.
//! * [`CompactTheta`] is the immutable form: the result of [`UpdateTheta::compact`], of a
//!   set operation, or of reading an image. It writes the compact image (serial version 3)
//!   and the compressed image (serial version 4) exactly as DataSketches does, and reads
//!   serial versions 1 to 4 (and, compacting it, the updatable image).
//!   [`ThetaUnion::update_image`] unions an image without
//!   building it, reading an ordered image only up to the union's theta.
//!
//! # Accuracy
//!
//! The relative standard error of the estimate is about `1/sqrt(k)`: at the default
//! `k = 4096`, ±1.56% at 68% confidence (one standard deviation) and ±3.1% at 95.4%
//! (two). Until the sketch has seen about `k` distinct items it is exact (theta = 1).
//! [`UpdateTheta::lower_bound`] / [`UpdateTheta::upper_bound`] give DataSketches'
//! approximate binomial confidence bounds for 1, 2 or 3 standard deviations. Set
//! operations keep the same error relative to the union; intersections and differences of
//! small fractions of large sets have a much larger relative error.
//!
//! # Empty vs. non-empty without entries
//!
//! *Empty* means no item was ever presented: the estimate is 0 and theta is 1, and the
//! image is 8 bytes. A sketch can also be *non-empty with no entries*: with `p < 1`, items
//! were seen but none fell below theta (estimate 0, theta < 1, upper bound > 0), or an
//! intersection / difference left nothing below theta. The distinction matters for set
//! operations: intersecting with an empty sketch gives an empty result, intersecting with
//! a non-empty sketch without entries gives a non-empty result without entries whose theta
//! is lowered; a result with no entries and theta = 1 is empty.
//!
//! # Robustness
//!
//! [`CompactTheta::deserialize`] never panics on arbitrary bytes: every count is checked
//! against the image length before anything is allocated, and the decoded sketch is
//! validated (entries non-zero, below theta, distinct, sorted when flagged ordered).

pub(crate) mod bounds;
mod compact;
mod setops;
pub(crate) mod table;
mod update;
mod update_image;

#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod update_image_tests;

pub use compact::CompactTheta;
pub use setops::{a_not_b, jaccard, ThetaIntersection, ThetaUnion};
pub use update::UpdateTheta;
pub use update_image::is_update_image;

use crate::hash::seed_hash;
use crate::{Error, Result};

/// Theta of 1: `2^63 - 1` (Java's `Long.MAX_VALUE`).
pub const MAX_THETA: u64 = i64::MAX as u64;
/// Smallest `lg_k` accepted (as datasketches-python 5.x).
pub const MIN_LG_K: u8 = 5;
/// Largest `lg_k` accepted.
pub const MAX_LG_K: u8 = 26;
/// Default `lg_k` (k = 4096).
pub const DEFAULT_LG_K: u8 = 12;

/// What a union's default size depends on: an update sketch's lg_k, or a compact
/// sketch's retained entries (a compact image does not record its lg_k).
#[derive(Debug, Clone, Copy)]
pub enum UnionInputSize {
    Update(u8),
    Compact(u32),
}

/// The lg_k of a union when the caller names none: the largest of its update sketches'
/// lg_k and of the lg_k each compact sketch's entries imply, log2 of their count rounded
/// down (a compact sketch in estimation mode holds from k to 2k entries, so this is the
/// lg_k it was built with: `a | b` of compact sketches of lg_k 16 stays at 16); at least
/// [`DEFAULT_LG_K`] when no input is an update sketch; at most [`MAX_LG_K`].
pub fn default_union_lg_k(inputs: impl IntoIterator<Item = UnionInputSize>) -> u8 {
    let (mut lg, mut any_update) = (0u8, false);
    for input in inputs {
        lg = lg.max(match input {
            UnionInputSize::Update(lg_k) => {
                any_update = true;
                lg_k
            }
            UnionInputSize::Compact(retained) => retained.max(1).ilog2() as u8,
        });
    }
    if !any_update {
        lg = lg.max(DEFAULT_LG_K);
    }
    lg.clamp(MIN_LG_K, MAX_LG_K)
}
/// log2 of the hash table's resize factor (x8, DataSketches' default).
pub(crate) const LG_RESIZE_FACTOR: u8 = 3;
/// DataSketches family id of the compact Theta sketch.
pub(crate) const FAMILY_ID: u8 = 3;

pub(crate) fn theta_fraction(theta64: u64) -> f64 {
    theta64 as f64 / MAX_THETA as f64
}

pub(crate) fn check_lg_k(lg_k: u8) -> Result<()> {
    if !(MIN_LG_K..=MAX_LG_K).contains(&lg_k) {
        return Err(Error::InvalidArgument(format!(
            "lg_k must be from {MIN_LG_K} to {MAX_LG_K}, got {lg_k}"
        )));
    }
    Ok(())
}

pub(crate) fn check_num_std_devs(num_std_devs: u8) -> Result<()> {
    if !(1..=3).contains(&num_std_devs) {
        return Err(Error::InvalidArgument(format!(
            "num_std_devs must be 1, 2 or 3, got {num_std_devs}"
        )));
    }
    Ok(())
}

/// Checks an image's seed hash against the seed the caller expects.
pub(crate) fn check_seed_hash(image_seed_hash: u16, seed: u64) -> Result<()> {
    let expected = seed_hash(seed);
    if image_seed_hash != expected {
        return Err(Error::Incompatible(format!(
            "Theta seed hash mismatch: the image has {image_seed_hash:#06x}, seed {seed} \
             gives {expected:#06x} (the sketch was built with a different seed)"
        )));
    }
    Ok(())
}

/// Checks a sketch's seed hash against an operation's.
pub(crate) fn check_seed_hash_value(actual: u16, expected: u16, what: &str) -> Result<()> {
    if actual != expected {
        return Err(Error::Incompatible(format!(
            "Theta seed hash mismatch: {what} has {actual:#06x}, the operation expects \
             {expected:#06x} (sketches built with different seeds cannot be combined)"
        )));
    }
    Ok(())
}

/// The questions every Theta sketch answers, update or compact alike.
pub trait ThetaRead {
    fn estimate(&self) -> f64;
    fn lower_bound(&self, num_std_devs: u8) -> crate::Result<f64>;
    fn upper_bound(&self, num_std_devs: u8) -> crate::Result<f64>;
    fn theta(&self) -> f64;
    fn num_retained(&self) -> u32;
    fn is_empty(&self) -> bool;
}

macro_rules! theta_read_by_inherent_methods {
    ($t:ty) => {
        impl ThetaRead for $t {
            fn estimate(&self) -> f64 {
                <$t>::estimate(self)
            }
            fn lower_bound(&self, num_std_devs: u8) -> crate::Result<f64> {
                <$t>::lower_bound(self, num_std_devs)
            }
            fn upper_bound(&self, num_std_devs: u8) -> crate::Result<f64> {
                <$t>::upper_bound(self, num_std_devs)
            }
            fn theta(&self) -> f64 {
                <$t>::theta(self)
            }
            fn num_retained(&self) -> u32 {
                <$t>::num_retained(self)
            }
            fn is_empty(&self) -> bool {
                <$t>::is_empty(self)
            }
        }
    };
}

theta_read_by_inherent_methods!(UpdateTheta);
theta_read_by_inherent_methods!(CompactTheta);
