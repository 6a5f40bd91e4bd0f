//! Columns: typed, borrowed views of the inputs a bulk update reads in place, and the
//! canonical DataSketches form of each item.
//!
//! * [`Numeric`]: a slice of any NumPy numeric width (8- to 64-bit integers, signed and
//!   unsigned, `f32`, `f64`, and bool as one byte per item).
//! * [`Strings`]: variable-length items in Arrow layout (int32 or int64 offsets, an
//!   optional validity bitmap), fixed-width NumPy `S` (bytes) and `U` (UCS4) items, or
//!   items joined by a delimiter byte.
//!
//! Constructors check everything an item access relies on (offsets monotonic and inside
//! the data, a validity bitmap long enough, UCS4 code points valid), so a column that
//! exists can be read without a failure, and an update applies all of it or nothing.
//!
//! Hashing ([`Column::visit_hashes`]) follows [`crate::hash`]: integers by value as an
//! `i64` (`u64` values at and above 2^63 by their bit pattern), bools as 0 and 1, floats
//! as a canonical `f64`, strings as their UTF-8 bytes (empty ones and nulls are not
//! items). Sketches of values instead read numbers converted to their item type
//! ([`NumericItem`]).

use crate::bulk::{ByIndex, BySlice, Items};
use crate::hash::{hash_bytes, hash_f64, murmur3_u64};
use crate::{Error, Result};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// A numeric column, read in place.
#[derive(Debug, Clone, Copy)]
pub enum Numeric<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    /// One byte per item, 0 (false) or anything else (true), as NumPy stores bools.
    Bool(&'a [u8]),
}

/// Calls `$body` with `$s` bound to the slice of a [`Numeric`], whatever its type.
macro_rules! with_numeric {
    ($col:expr, $s:ident => $body:expr) => {
        match $col {
            Numeric::I8($s) => $body,
            Numeric::I16($s) => $body,
            Numeric::I32($s) => $body,
            Numeric::I64($s) => $body,
            Numeric::U8($s) => $body,
            Numeric::U16($s) => $body,
            Numeric::U32($s) => $body,
            Numeric::U64($s) => $body,
            Numeric::F32($s) => $body,
            Numeric::F64($s) => $body,
            Numeric::Bool($s) => $body,
        }
    };
}

impl<'a> Numeric<'a> {
    pub fn len(&self) -> usize {
        with_numeric!(*self, s => s.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items `range` of the column, as a column of the same type.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Numeric<'a> {
        match *self {
            Numeric::I8(s) => Numeric::I8(&s[range]),
            Numeric::I16(s) => Numeric::I16(&s[range]),
            Numeric::I32(s) => Numeric::I32(&s[range]),
            Numeric::I64(s) => Numeric::I64(&s[range]),
            Numeric::U8(s) => Numeric::U8(&s[range]),
            Numeric::U16(s) => Numeric::U16(&s[range]),
            Numeric::U32(s) => Numeric::U32(&s[range]),
            Numeric::U64(s) => Numeric::U64(&s[range]),
            Numeric::F32(s) => Numeric::F32(&s[range]),
            Numeric::F64(s) => Numeric::F64(&s[range]),
            Numeric::Bool(s) => Numeric::Bool(&s[range]),
        }
    }

    /// Gives `visitor` the column's items, each one's MurmurHash3_x64_128 with `seed`,
    /// hashed as DataSketches hashes it. The slice itself goes to the bulk driver, which
    /// reads it contiguously and prefetches it ([`BySlice`]); the hash is one monomorphic
    /// closure per element type holding only the seed.
    pub fn visit_hashes<V: HashVisitor>(&self, seed: u64, visitor: V) -> V::Out {
        macro_rules! ints {
            ($s:expr) => {
                visitor.visit(BySlice::new($s, move |v| {
                    murmur3_u64(v as i64 as u64, seed)
                }))
            };
        }
        match *self {
            Numeric::I8(s) => ints!(s),
            Numeric::I16(s) => ints!(s),
            Numeric::I32(s) => ints!(s),
            Numeric::I64(s) => ints!(s),
            Numeric::U8(s) => ints!(s),
            Numeric::U16(s) => ints!(s),
            Numeric::U32(s) => ints!(s),
            Numeric::U64(s) => visitor.visit(BySlice::new(s, move |v| murmur3_u64(v, seed))),
            Numeric::Bool(s) => {
                visitor.visit(BySlice::new(s, move |v| murmur3_u64((v != 0) as u64, seed)))
            }
            Numeric::F32(s) => visitor.visit(BySlice::new(s, move |v| hash_f64(v as f64, seed))),
            Numeric::F64(s) => visitor.visit(BySlice::new(s, move |v| hash_f64(v, seed))),
        }
    }
}

/// What [`Column::visit_hashes`] feeds: the column's items as their hashes
/// (MurmurHash3_x64_128 `(h1, h2)`; `None` for what is not an item, e.g. a null or an
/// empty string).
pub trait HashVisitor {
    type Out;
    fn visit<I: Items<Item = (u64, u64)>>(self, items: I) -> Self::Out;
}

/// A number type sketches of values hold (KLL's `f64`, `f32` and `i64`): what every
/// numeric column converts to. Floats convert as NumPy's `astype` does (integers and
/// floats rounded to the nearest value of the type, beyond its range to an infinity;
/// bools to 0 and 1); `i64` takes integer and bool columns exactly and refuses the rest
/// ([`check_column`](NumericItem::check_column)).
pub trait NumericItem: Copy + Send + Sync + 'static {
    /// The column itself when it already holds this type (no conversion, no copy).
    fn as_items<'a>(col: &Numeric<'a>) -> Option<&'a [Self]>;
    /// Whether every item of `col` converts to this type; checked before any item is
    /// applied, so that an update takes all of a column or none of it.
    fn check_column(_col: &Numeric) -> Result<()> {
        Ok(())
    }
    /// Appends items `range` of `col`, converted, to `out` (`col` passed
    /// [`check_column`](NumericItem::check_column)).
    fn extend_converted(col: &Numeric, range: std::ops::Range<usize>, out: &mut Vec<Self>);
}

macro_rules! numeric_item {
    ($t:ty, $variant:ident) => {
        impl NumericItem for $t {
            fn as_items<'a>(col: &Numeric<'a>) -> Option<&'a [Self]> {
                match *col {
                    Numeric::$variant(s) => Some(s),
                    _ => None,
                }
            }

            fn extend_converted(col: &Numeric, range: std::ops::Range<usize>, out: &mut Vec<Self>) {
                match *col {
                    Numeric::Bool(s) => {
                        out.extend(s[range].iter().map(|&b| (b != 0) as u8 as $t));
                    }
                    _ => with_numeric!(*col, s => out.extend(s[range].iter().map(|&x| x as $t))),
                }
            }
        }
    };
}

numeric_item!(f64, F64);
numeric_item!(f32, F32);

/// Integers are kept exactly: every integer width converts without loss except `u64`
/// values of 2^63 and more, which (like floats, whose conversion would round or
/// truncate) [`check_column`](NumericItem::check_column) refuses.
impl NumericItem for i64 {
    fn as_items<'a>(col: &Numeric<'a>) -> Option<&'a [Self]> {
        match *col {
            Numeric::I64(s) => Some(s),
            _ => None,
        }
    }

    fn check_column(col: &Numeric) -> Result<()> {
        match *col {
            Numeric::F32(_) | Numeric::F64(_) => Err(invalid(
                "an int64 sketch takes integers, not floating-point numbers: convert them first",
            )),
            Numeric::U64(s) => match s.iter().position(|&x| i64::try_from(x).is_err()) {
                Some(i) => Err(invalid(format!(
                    "item {i} ({}) is beyond the int64 range of the sketch",
                    s[i]
                ))),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn extend_converted(col: &Numeric, range: std::ops::Range<usize>, out: &mut Vec<Self>) {
        match *col {
            Numeric::I8(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            Numeric::I16(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            Numeric::I32(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            Numeric::I64(s) => out.extend_from_slice(&s[range]),
            Numeric::U8(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            Numeric::U16(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            Numeric::U32(s) => out.extend(s[range].iter().map(|&x| i64::from(x))),
            // checked to be below 2^63
            Numeric::U64(s) => out.extend(s[range].iter().map(|&x| x as i64)),
            Numeric::Bool(s) => out.extend(s[range].iter().map(|&b| i64::from(b != 0))),
            // refused by check_column
            Numeric::F32(_) | Numeric::F64(_) => {}
        }
    }
}

/// An Arrow validity bitmap: bit `offset + i` (least significant bit first) says
/// whether item `i` is present.
#[derive(Debug, Clone, Copy)]
pub struct Validity<'a> {
    bits: &'a [u8],
    offset: usize,
}

impl<'a> Validity<'a> {
    /// A bitmap for `n` items; fails if `bits` is too short for `offset + n` bits.
    pub fn new(bits: &'a [u8], offset: usize, n: usize) -> Result<Self> {
        let needed = offset
            .checked_add(n)
            .ok_or_else(|| invalid("validity offset overflows"))?
            .div_ceil(8);
        if bits.len() < needed {
            return Err(invalid(format!(
                "validity bitmap of {} bytes is shorter than the {needed} bytes {n} items need",
                bits.len()
            )));
        }
        Ok(Validity { bits, offset })
    }

    /// The number of bytes a bitmap of `n` items from bit `offset` spans.
    pub fn byte_len(offset: usize, n: usize) -> Result<usize> {
        Ok(offset
            .checked_add(n)
            .ok_or_else(|| invalid("validity offset overflows"))?
            .div_ceil(8))
    }

    /// Whether item `i` is present (not null).
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        let b = self.offset + i;
        self.bits[b >> 3] >> (b & 7) & 1 == 1
    }
}

/// A column of variable-length byte strings (UTF-8 for text).
#[derive(Debug, Clone)]
pub enum Strings<'a> {
    Offsets32 {
        data: &'a [u8],
        offsets: &'a [i32],
        validity: Option<Validity<'a>>,
    },
    Offsets64 {
        data: &'a [u8],
        offsets: &'a [i64],
        validity: Option<Validity<'a>>,
    },
    FixedBytes {
        data: &'a [u8],
        width: usize,
    },
    FixedUcs4 {
        data: &'a [u32],
        width: usize,
    },
    Delimited {
        data: &'a [u8],
        starts: Vec<usize>,
    },
}

/// Checks Arrow offsets: non-negative, non-decreasing, inside `data_len`, at least one.
fn check_offsets<O: Copy + Into<i64> + Sync>(offs: &[O], data_len: usize) -> Result<()> {
    let Some(&first) = offs.first() else {
        return Err(invalid("Arrow offsets need n + 1 entries, got none"));
    };
    let last: i64 = offs[offs.len() - 1].into();
    // Non-decreasing from a non-negative first to a last inside the data: one pass
    // without a branch per offset (it vectorises), on every core; a tenth of the bulk
    // time of a frequent-items update of short strings as a loop of checked steps.
    let unordered = crate::bulk::par_parts(0..offs.len() - 1, |part, bad: &mut Vec<()>| {
        let (a, b) = (
            &offs[part.start..part.end],
            &offs[part.start + 1..part.end + 1],
        );
        let ordered = a
            .iter()
            .zip(b)
            .fold(true, |ok, (&x, &y)| ok & (x.into() <= y.into()));
        if !ordered {
            bad.push(());
        }
    });
    if unordered.is_empty() && first.into() >= 0 && last <= data_len as i64 {
        return Ok(());
    }
    // The first offending offset, for the message.
    let mut prev = 0i64;
    for (i, &o) in offs.iter().enumerate() {
        let o: i64 = o.into();
        if o < 0 {
            return Err(invalid("negative string offset"));
        }
        if (i > 0 && o < prev) || o > data_len as i64 {
            return Err(invalid(format!(
                "string offset {i} ({o}) is decreasing or past the data ({data_len} bytes)"
            )));
        }
        prev = o;
    }
    unreachable!("the offsets failed the check above")
}

impl<'a> Strings<'a> {
    /// Arrow string/binary: item `i` is `data[offsets[i]..offsets[i + 1]]`
    /// (`offsets.len()` is the item count plus one).
    pub fn arrow32(
        data: &'a [u8],
        offsets: &'a [i32],
        validity: Option<Validity<'a>>,
    ) -> Result<Self> {
        check_offsets(offsets, data.len())?;
        Ok(Strings::Offsets32 {
            data,
            offsets,
            validity,
        })
    }

    /// Arrow large_string/large_binary: [`Self::arrow32`] with 64-bit offsets.
    pub fn arrow64(
        data: &'a [u8],
        offsets: &'a [i64],
        validity: Option<Validity<'a>>,
    ) -> Result<Self> {
        check_offsets(offsets, data.len())?;
        Ok(Strings::Offsets64 {
            data,
            offsets,
            validity,
        })
    }

    /// Items of `width` bytes each (NumPy `S`): trailing NUL bytes are padding. A width
    /// of 0 holds no item.
    pub fn fixed_bytes(data: &'a [u8], width: usize) -> Self {
        Strings::FixedBytes { data, width }
    }

    /// Items of `width` UTF-32 code points each (NumPy `U`), read as their UTF-8
    /// encoding; trailing NUL code points are padding. Fails on an invalid code point.
    pub fn fixed_ucs4(data: &'a [u32], width: usize) -> Result<Self> {
        if let Some(bad) = data.iter().find(|&&c| char::from_u32(c).is_none()) {
            return Err(invalid(format!(
                "invalid code point {bad:#x} in a UCS4 string"
            )));
        }
        Ok(Strings::FixedUcs4 { data, width })
    }

    /// The items of `data` separated by `delimiter` (a byte no item contains):
    /// count(delimiter) + 1 items. The delimiters are found on every core.
    pub fn delimited(data: &'a [u8], delimiter: u8) -> Self {
        let len = data.len();
        // starts[i]..starts[i + 1] - 1 is item i: the delimiter after each item is skipped.
        let mut starts = vec![0];
        starts.extend(crate::bulk::par_parts(0..len, |part, found| {
            let lo = part.start;
            found.extend(memchr::memchr_iter(delimiter, &data[part]).map(|i| lo + i + 1));
        }));
        starts.push(len + 1);
        Strings::Delimited { data, starts }
    }

    pub fn len(&self) -> usize {
        match self {
            Strings::Offsets32 { offsets, .. } => offsets.len() - 1,
            Strings::Offsets64 { offsets, .. } => offsets.len() - 1,
            Strings::Delimited { starts, .. } => starts.len() - 1,
            Strings::FixedBytes { data, width } => data.len().checked_div(*width).unwrap_or(0),
            Strings::FixedUcs4 { data, width } => data.len().checked_div(*width).unwrap_or(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with item `i`'s bytes (UTF-8 for text); `None` for a null item.
    #[inline]
    pub fn with_item<R>(&self, i: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Strings::Offsets32 {
                data,
                offsets,
                validity,
            } => {
                if validity.is_some_and(|v| !v.is_valid(i)) {
                    return None;
                }
                Some(f(&data[offsets[i] as usize..offsets[i + 1] as usize]))
            }
            Strings::Offsets64 {
                data,
                offsets,
                validity,
            } => {
                if validity.is_some_and(|v| !v.is_valid(i)) {
                    return None;
                }
                Some(f(&data[offsets[i] as usize..offsets[i + 1] as usize]))
            }
            Strings::Delimited { data, starts } => Some(f(&data[starts[i]..starts[i + 1] - 1])),
            Strings::FixedBytes { data, width } => {
                let item = &data[i * width..(i + 1) * width];
                let end = item.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                Some(f(&item[..end]))
            }
            Strings::FixedUcs4 { data, width } => {
                let item = &data[i * width..(i + 1) * width];
                let end = item.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                let mut buf = [0u8; 256];
                let mut heap = Vec::new();
                let out: &mut [u8] = if end * 4 <= buf.len() {
                    &mut buf
                } else {
                    heap.resize(end * 4, 0);
                    &mut heap
                };
                let mut n = 0;
                for &c in &item[..end] {
                    // Checked by `fixed_ucs4`.
                    let ch = char::from_u32(c).unwrap_or('\u{fffd}');
                    n += ch.encode_utf8(&mut out[n..]).len();
                }
                Some(f(&out[..n]))
            }
        }
    }

    /// [`Column::visit_hashes`] for strings: empty items and nulls are not items.
    pub fn visit_hashes<V: HashVisitor>(&self, seed: u64, visitor: V) -> V::Out {
        visitor.visit(ByIndex::new(self.len(), move |i| {
            self.with_item(i, |b| hash_bytes(b, seed)).flatten()
        }))
    }
}

/// Any column a bulk update reads.
#[derive(Debug, Clone)]
pub enum Column<'a> {
    Numeric(Numeric<'a>),
    Strings(Strings<'a>),
}

impl Column<'_> {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(c) => c.len(),
            Column::Strings(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives `visitor` each item's MurmurHash3_x64_128 with `seed`, as DataSketches
    /// hashes it (see the module docs).
    pub fn visit_hashes<V: HashVisitor>(&self, seed: u64, visitor: V) -> V::Out {
        match self {
            Column::Numeric(c) => c.visit_hashes(seed, visitor),
            Column::Strings(c) => c.visit_hashes(seed, visitor),
        }
    }
}

impl<'a> From<Numeric<'a>> for Column<'a> {
    fn from(c: Numeric<'a>) -> Self {
        Column::Numeric(c)
    }
}

impl<'a> From<Strings<'a>> for Column<'a> {
    fn from(c: Strings<'a>) -> Self {
        Column::Strings(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{hash_i64, DEFAULT_SEED};

    /// Every item's hash, as the visitor sees it.
    struct Collect;
    impl HashVisitor for Collect {
        type Out = Vec<Option<(u64, u64)>>;
        fn visit<I: Items<Item = (u64, u64)>>(self, items: I) -> Self::Out {
            (0..items.len()).map(|i| items.get(i)).collect()
        }
    }

    fn hashes(col: impl Into<Column<'static>>) -> Vec<Option<(u64, u64)>> {
        col.into().visit_hashes(DEFAULT_SEED, Collect)
    }

    fn ints(values: &[i64]) -> Vec<Option<(u64, u64)>> {
        values
            .iter()
            .map(|&v| Some(hash_i64(v, DEFAULT_SEED)))
            .collect()
    }

    fn strs(items: &[&[u8]]) -> Vec<Option<(u64, u64)>> {
        items.iter().map(|b| hash_bytes(b, DEFAULT_SEED)).collect()
    }

    #[test]
    fn every_integer_width_hashes_by_value() {
        let expected = ints(&[0, 1, 100, 127]);
        assert_eq!(hashes(Numeric::I8(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::I16(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::I32(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::I64(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::U8(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::U16(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::U32(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::U64(&[0, 1, 100, 127])), expected);
        assert_eq!(hashes(Numeric::I8(&[-1, -128])), ints(&[-1, -128]));
        // uint64 at and above 2^63: the bit pattern, the same 8 bytes as the int64.
        assert_eq!(
            hashes(Numeric::U64(&[u64::MAX, 1 << 63])),
            ints(&[-1, i64::MIN])
        );
        assert_eq!(hashes(Numeric::Bool(&[0, 1, 7])), ints(&[0, 1, 1]));
    }

    #[test]
    fn floats_hash_as_canonical_doubles() {
        let f64s = [1.5, -0.0, f64::NAN, f64::INFINITY];
        let expected: Vec<_> = f64s
            .iter()
            .map(|&v| Some(hash_f64(v, DEFAULT_SEED)))
            .collect();
        assert_eq!(
            hashes(Numeric::F64(&[1.5, -0.0, f64::NAN, f64::INFINITY])),
            expected
        );
        assert_eq!(
            hashes(Numeric::F32(&[1.5, -0.0, f32::NAN, f32::INFINITY])),
            expected
        );
        assert_eq!(expected[1], Some(hash_f64(0.0, DEFAULT_SEED)));
    }

    #[test]
    fn every_string_layout_reads_the_same_items() {
        let want = strs(&[b"ab", b"", b"caf\xc3\xa9", b"x"]);
        static DATA: &[u8] = b"abcaf\xc3\xa9x";
        assert_eq!(
            hashes(Strings::arrow32(DATA, &[0, 2, 2, 7, 8], None).unwrap()),
            want
        );
        assert_eq!(
            hashes(Strings::arrow64(DATA, &[0, 2, 2, 7, 8], None).unwrap()),
            want
        );
        assert_eq!(hashes(Strings::delimited(b"ab\0\0caf\xc3\xa9\0x", 0)), want);
        static FIXED: &[u8] = b"ab\0\0\0\0\0\0\0\0caf\xc3\xa9x\0\0\0\0";
        assert_eq!(hashes(Strings::fixed_bytes(FIXED, 5)), want);
        static UCS4: &[u32] = &[
            0x61, 0x62, 0, 0, 0, 0, 0, 0, 0x63, 0x61, 0x66, 0xe9, 0x78, 0, 0, 0,
        ];
        assert_eq!(hashes(Strings::fixed_ucs4(UCS4, 4).unwrap()), want);
    }

    #[test]
    fn validity_bitmaps_skip_nulls_from_their_offset() {
        static DATA: &[u8] = b"abc";
        // Bits 3.. of 0b1010_1000: items 0 and 2 present, 1 null.
        let v = Validity::new(&[0b0010_1000], 3, 3).unwrap();
        let col = Strings::arrow32(DATA, &[0, 1, 2, 3], Some(v)).unwrap();
        assert_eq!(hashes(col), [strs(&[b"a"])[0], None, strs(&[b"c"])[0]]);
        assert!(Validity::new(&[0], 6, 3).is_err(), "9 bits need 2 bytes");
        assert_eq!(Validity::byte_len(6, 3).unwrap(), 2);
        assert!(Validity::byte_len(usize::MAX, 1).is_err());
    }

    #[test]
    fn malformed_offsets_are_rejected_up_front() {
        let bad = |r: Result<Strings>| match r {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        };
        assert!(bad(Strings::arrow32(b"abc", &[0, 2, 1], None)).contains("decreasing"));
        assert!(bad(Strings::arrow32(b"abc", &[0, 4], None)).contains("past the data"));
        assert!(bad(Strings::arrow64(b"abc", &[-1, 2], None)).contains("negative"));
        assert!(bad(Strings::arrow64(b"abc", &[], None)).contains("n + 1"));
        assert!(bad(Strings::fixed_ucs4(&[0xd800], 1)).contains("code point"));
        assert_eq!(Strings::fixed_bytes(b"abc", 0).len(), 0);
        // Long columns are checked on every core: an offset out of order anywhere,
        // at the seam of two parts included, is found and named.
        let data = vec![b'x'; 300_000];
        let good: Vec<i32> = (0..=300_000).collect();
        assert!(Strings::arrow32(&data, &good, None).is_ok());
        for at in [2, 100_000, 150_000, 150_001, 299_999] {
            let mut offs = good.clone();
            offs[at] = offs[at - 1] - 1;
            let m = bad(Strings::arrow32(&data, &offs, None));
            assert!(m.contains(&format!("string offset {at} ")), "{m}");
        }
        let mut past: Vec<i64> = (0..=300_000).collect();
        past[300_000] = 300_001;
        assert!(bad(Strings::arrow64(&data, &past, None)).contains("past the data"));
    }

    #[test]
    fn numbers_convert_as_numpy_astype() {
        let conv64 = |c: Numeric| {
            let mut out = Vec::new();
            f64::extend_converted(&c, 0..c.len(), &mut out);
            out
        };
        let conv32 = |c: Numeric| {
            let mut out = Vec::new();
            f32::extend_converted(&c, 0..c.len(), &mut out);
            out
        };
        assert_eq!(conv64(Numeric::I8(&[-3, 4])), [-3.0, 4.0]);
        assert_eq!(conv64(Numeric::U64(&[u64::MAX])), [1.8446744073709552e19]);
        assert_eq!(conv64(Numeric::Bool(&[0, 2])), [0.0, 1.0]);
        assert_eq!(conv32(Numeric::F64(&[1e300, 0.1])), [f32::INFINITY, 0.1f32]);
        // int64 to float32 rounds once, to the nearest float (not via a double).
        let v = (1i64 << 40) + (1 << 16) + 1;
        assert_eq!(conv32(Numeric::I64(&[v])), [v as f32]);
        assert_eq!(conv32(Numeric::I64(&[v])), [(1i64 << 40) as f32 + 131072.0]);
        // A column of the item type itself is read in place.
        let xs = [1.0f32, 2.0];
        assert!(std::ptr::eq(
            f32::as_items(&Numeric::F32(&xs)).unwrap(),
            &xs[..]
        ));
        assert!(f64::as_items(&Numeric::F32(&xs)).is_none());
        assert_eq!(Numeric::I16(&[1, 2, 3, 4]).slice(1..3).len(), 2);
    }
}
