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
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::CorruptData(m) => write!(f, "corrupt data: {m}"),
            Error::Incompatible(m) => write!(f, "incompatible sketches: {m}"),
            Error::Cancelled => write!(f, "cancelled by the progress callback"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for building a `CorruptData` error.
pub(crate) fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::CorruptData(msg.into()))
}
