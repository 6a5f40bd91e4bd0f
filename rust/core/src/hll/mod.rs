//! HyperLogLog (in progress).
pub mod estimators;
