//! One error type for every sketch family; the C ABI maps each variant to a status code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A parameter is out of its documented range.
    InvalidArgument(String),
    /// Bytes that are not a valid image of the expected sketch.
    CorruptData(String),
    /// Two sketches that cannot be combined (different seeds, item types, ...).
    Incompatible(String),
    /// A long operation stopped because its progress callback asked it to.
    Cancelled,
    /// A query that has no answer on an empty sketch (a KLL quantile, rank, min, ...).
    Empty(String),
    /// An update of a sketch that cannot change (a compact Theta sketch).
    ReadOnly(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::CorruptData(m) => write!(f, "corrupt data: {m}"),
            Error::Incompatible(m) => write!(f, "incompatible sketches: {m}"),
            Error::Cancelled => write!(f, "cancelled by the progress callback"),
            Error::Empty(m) => write!(f, "empty sketch: {m}"),
            Error::ReadOnly(m) => write!(f, "read-only sketch: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// The error of every image reader: `CorruptData` with `msg`.
pub(crate) fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::CorruptData(msg.into()))
}
