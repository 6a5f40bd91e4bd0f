//! The summaries a tuple sketch keeps per key: Java DataSketches' `DoubleSummary` and
//! `IntegerSummary`, with their four modes and their 9- and 5-byte images.

use std::fmt;

use serde_json::{json, Value};

use crate::{Error, Result};

/// How a summary combines the values it is given (Java's `DoubleSummary.Mode` and
/// `IntegerSummary.Mode`; the discriminant is the mode byte of the image).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SummaryMode {
    /// Adds the values (starts at 0).
    Sum = 0,
    /// Keeps the smallest value (starts at +infinity, or `i32::MAX`).
    Min = 1,
    /// Keeps the largest value (starts at -infinity, or `i32::MIN`).
    Max = 2,
    /// Always 1: the sketch counts keys, like a Theta sketch.
    AlwaysOne = 3,
}

impl SummaryMode {
    pub const ALL: [SummaryMode; 4] = [
        SummaryMode::Sum,
        SummaryMode::Min,
        SummaryMode::Max,
        SummaryMode::AlwaysOne,
    ];

    /// The mode of an image's mode byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.get(b as usize).copied()
    }

    /// Spark's names: `sum`, `min`, `max`, `alwaysone` (any case, as Spark parses them).
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sum" => Ok(SummaryMode::Sum),
            "min" => Ok(SummaryMode::Min),
            "max" => Ok(SummaryMode::Max),
            "alwaysone" => Ok(SummaryMode::AlwaysOne),
            _ => Err(Error::InvalidArgument(format!(
                "summary mode must be sum, min, max or alwaysone, got {name:?}"
            ))),
        }
    }

    /// The lower-case name Spark uses.
    pub fn name(self) -> &'static str {
        match self {
            SummaryMode::Sum => "sum",
            SummaryMode::Min => "min",
            SummaryMode::Max => "max",
            SummaryMode::AlwaysOne => "alwaysone",
        }
    }
}

impl fmt::Display for SummaryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A summary kept per retained key. Every summary carries its own mode (written in its
/// image), as Java's do: an entry copied by a union from an input keeps the input's mode.
pub trait Summary: Copy + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// What an update adds: `f64` or `i32`.
    type Value: Copy + fmt::Debug + Send + Sync;
    /// What Spark's `tuple_sketch_summary_*` returns: `f64` (double) or `i64` (integer).
    type Aggregate: Copy + fmt::Debug + PartialEq;
    /// Bytes of one summary in an image.
    const SERIALIZED_SIZE: usize;
    /// `"double"` or `"integer"`, as in Spark's function names.
    const NAME: &'static str;

    /// A fresh summary: the identity of `mode`.
    fn new(mode: SummaryMode) -> Self;
    fn mode(&self) -> SummaryMode;
    fn value(&self) -> Self::Value;
    /// Combines `value` into the summary, by its mode.
    fn update(&mut self, value: Self::Value);
    /// Appends the image of the summary ([`Self::SERIALIZED_SIZE`] bytes).
    fn write(&self, out: &mut Vec<u8>);
    /// Reads a summary from exactly [`Self::SERIALIZED_SIZE`] bytes; an unknown mode byte
    /// is corrupt data.
    fn read(bytes: &[u8]) -> Result<Self>;
    /// Spark's `tuple_sketch_summary_*(sketch, mode)` over the values, in entry order:
    /// the sum, the minimum or the maximum of the retained summaries (0 when there are
    /// none), or their number for `alwaysone`. Not scaled by theta.
    fn aggregate<I: Iterator<Item = Self::Value>>(values: I, mode: SummaryMode) -> Self::Aggregate;
    /// The value as JSON.
    fn value_json(&self) -> Value;
    /// The aggregate as JSON.
    fn aggregate_json(a: Self::Aggregate) -> Value;
}

/// Java's `SummarySetOperations`: a fresh summary of `mode` updated with `a`'s value, then
/// `b`'s (so `Sum` gives `(0 + a) + b`).
pub(crate) fn combine<S: Summary>(mode: SummaryMode, a: &S, b: &S) -> S {
    let mut out = S::new(mode);
    out.update(a.value());
    out.update(b.value());
    out
}

fn mode_at(bytes: &[u8], at: usize) -> Result<SummaryMode> {
    SummaryMode::from_byte(bytes[at]).ok_or_else(|| {
        Error::CorruptData(format!(
            "tuple image: summary mode byte {} (expected 0 to 3)",
            bytes[at]
        ))
    })
}

/// A `double` summary (Java's `DoubleSummary`): 8 bytes of little-endian `f64`, then the
/// mode byte.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DoubleSummary {
    pub value: f64,
    pub mode: SummaryMode,
}

/// Java's `Math.min` for doubles: NaN if either is NaN, and -0.0 below 0.0.
fn java_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// Java's `Math.max` for doubles: NaN if either is NaN, and 0.0 above -0.0.
fn java_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else if a > b {
        a
    } else {
        b
    }
}

impl Summary for DoubleSummary {
    type Value = f64;
    type Aggregate = f64;
    const SERIALIZED_SIZE: usize = 9;
    const NAME: &'static str = "double";

    fn new(mode: SummaryMode) -> Self {
        let value = match mode {
            SummaryMode::Sum => 0.0,
            SummaryMode::Min => f64::INFINITY,
            SummaryMode::Max => f64::NEG_INFINITY,
            SummaryMode::AlwaysOne => 1.0,
        };
        DoubleSummary { value, mode }
    }

    fn mode(&self) -> SummaryMode {
        self.mode
    }

    fn value(&self) -> f64 {
        self.value
    }

    /// As Java: `Min` and `Max` replace only on a strict comparison, so NaN never enters.
    fn update(&mut self, value: f64) {
        match self.mode {
            SummaryMode::Sum => self.value += value,
            SummaryMode::Min => {
                if value < self.value {
                    self.value = value
                }
            }
            SummaryMode::Max => {
                if value > self.value {
                    self.value = value
                }
            }
            SummaryMode::AlwaysOne => self.value = 1.0,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value.to_le_bytes());
        out.push(self.mode as u8);
    }

    fn read(bytes: &[u8]) -> Result<Self> {
        let value = f64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        Ok(DoubleSummary {
            value,
            mode: mode_at(bytes, 8)?,
        })
    }

    /// Scala's `Numeric[Double]`: `plus` from 0.0 in entry order, `min`/`max` as Java's
    /// `Math.min`/`Math.max`.
    fn aggregate<I: Iterator<Item = f64>>(values: I, mode: SummaryMode) -> f64 {
        match mode {
            SummaryMode::Sum => values.fold(0.0, |s, v| s + v),
            SummaryMode::Min => values.reduce(java_min).unwrap_or(0.0),
            SummaryMode::Max => values.reduce(java_max).unwrap_or(0.0),
            SummaryMode::AlwaysOne => values.fold(0.0, |s, _| s + 1.0),
        }
    }

    fn value_json(&self) -> Value {
        json!(self.value)
    }

    fn aggregate_json(a: f64) -> Value {
        crate::json_f64(a)
    }
}

/// An `integer` summary (Java's `IntegerSummary`): 4 bytes of little-endian `i32`, then
/// the mode byte. `Sum` wraps on overflow, as Java's `int` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntegerSummary {
    pub value: i32,
    pub mode: SummaryMode,
}

impl Summary for IntegerSummary {
    type Value = i32;
    type Aggregate = i64;
    const SERIALIZED_SIZE: usize = 5;
    const NAME: &'static str = "integer";

    fn new(mode: SummaryMode) -> Self {
        let value = match mode {
            SummaryMode::Sum => 0,
            SummaryMode::Min => i32::MAX,
            SummaryMode::Max => i32::MIN,
            SummaryMode::AlwaysOne => 1,
        };
        IntegerSummary { value, mode }
    }

    fn mode(&self) -> SummaryMode {
        self.mode
    }

    fn value(&self) -> i32 {
        self.value
    }

    fn update(&mut self, value: i32) {
        match self.mode {
            SummaryMode::Sum => self.value = self.value.wrapping_add(value),
            SummaryMode::Min => self.value = self.value.min(value),
            SummaryMode::Max => self.value = self.value.max(value),
            SummaryMode::AlwaysOne => self.value = 1,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value.to_le_bytes());
        out.push(self.mode as u8);
    }

    fn read(bytes: &[u8]) -> Result<Self> {
        let value = i32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        Ok(IntegerSummary {
            value,
            mode: mode_at(bytes, 4)?,
        })
    }

    /// Spark widens each value to a `Long` first; the sum wraps as a `Long` would.
    fn aggregate<I: Iterator<Item = i32>>(values: I, mode: SummaryMode) -> i64 {
        let values = values.map(i64::from);
        match mode {
            SummaryMode::Sum => values.fold(0, |s, v| s.wrapping_add(v)),
            SummaryMode::Min => values.min().unwrap_or(0),
            SummaryMode::Max => values.max().unwrap_or(0),
            SummaryMode::AlwaysOne => values.fold(0, |s, _| s + 1),
        }
    }

    fn value_json(&self) -> Value {
        json!(self.value)
    }

    fn aggregate_json(a: i64) -> Value {
        json!(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_their_names_and_bytes() {
        for m in SummaryMode::ALL {
            assert_eq!(SummaryMode::parse(m.name()).unwrap(), m);
            assert_eq!(SummaryMode::from_byte(m as u8), Some(m));
        }
        assert_eq!(
            SummaryMode::parse("AlwaysOne").unwrap(),
            SummaryMode::AlwaysOne
        );
        assert!(SummaryMode::parse("avg").is_err());
        assert_eq!(SummaryMode::from_byte(4), None);
    }

    #[test]
    fn double_updates_follow_java() {
        let mut s = DoubleSummary::new(SummaryMode::Min);
        s.update(f64::NAN);
        assert_eq!(s.value, f64::INFINITY);
        s.update(2.0);
        s.update(-1.0);
        assert_eq!(s.value, -1.0);
        let mut m = DoubleSummary::new(SummaryMode::Max);
        m.update(-3.0);
        assert_eq!(m.value, -3.0);
        let c = combine(SummaryMode::Sum, &s, &m);
        assert_eq!((c.value, c.mode), (-4.0, SummaryMode::Sum));
        let mut out = Vec::new();
        c.write(&mut out);
        assert_eq!(out.len(), DoubleSummary::SERIALIZED_SIZE);
        assert_eq!(DoubleSummary::read(&out).unwrap(), c);
        out[8] = 4;
        assert!(DoubleSummary::read(&out).is_err());
    }

    #[test]
    fn aggregates_follow_spark() {
        let v = [1.0, f64::NAN, -2.0];
        assert!(DoubleSummary::aggregate(v.iter().copied(), SummaryMode::Min).is_nan());
        assert_eq!(
            DoubleSummary::aggregate([0.0, -0.0].into_iter(), SummaryMode::Min).to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(
            DoubleSummary::aggregate(std::iter::empty(), SummaryMode::Max),
            0.0
        );
        assert_eq!(
            DoubleSummary::aggregate([5.0, 6.0].into_iter(), SummaryMode::AlwaysOne),
            2.0
        );
        let ints = [i32::MAX, i32::MAX, -3];
        assert_eq!(
            IntegerSummary::aggregate(ints.into_iter(), SummaryMode::Sum),
            2 * i32::MAX as i64 - 3
        );
        let mut s = IntegerSummary::new(SummaryMode::Sum);
        s.update(i32::MAX);
        s.update(1);
        assert_eq!(s.value, i32::MIN);
    }
}
