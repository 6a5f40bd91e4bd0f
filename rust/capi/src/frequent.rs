//! C surface of the frequent-items sketch (`sketchbox_core::frequent`).
//!
//! Bulk updates read the shared column views (numbers, Arrow strings, delimited and
//! fixed-width strings) with optional per-item weights and go through
//! `FrequentItems::update_bulk`: the combining path of the core, or item by item in
//! input order for a sketch set so (sk_frequent_set_in_order).

use crate::common::*;
use sketchbox_core::column::{Column, Numeric, Strings};
use sketchbox_core::frequent::{ErrorType, FrequentItem, FrequentItems, JavaLong, Row};
use sketchbox_core::Error;
use std::ffi::c_void;
use std::sync::Mutex;

/// A frequent-items ("heavy hitters") sketch of int64, double or UTF-8 string items,
/// chosen at creation (an SkFrequentItemType): the Apache DataSketches frequent-items
/// sketch (family 10; Misra-Gries / SpaceSaving with a purge). Created by
/// sk_frequent_new, sk_frequent_copy, sk_frequent_deserialize or
/// sk_frequent_union_images; owned by the caller; released by sk_frequent_free. Safe to
/// share between threads: every call takes the handle's internal lock, so concurrent
/// updates are applied one call after another and none is lost.
///
/// Guarantee: for every item x of true total weight f(x), lower(x) <= f(x) <= upper(x),
/// and upper(x) - lower(x) = maximum_error <= epsilon * total_weight, where epsilon =
/// 3.5 / 2^lg_max_map_size (merged from sketches of a smaller lg_max_map_size, their
/// larger epsilon). While fewer than 0.75 * 2^lg_max_map_size distinct items
/// were seen every count is exact. Images are DataSketches' (items in
/// datasketches-java's order: a sketch fed the stream a Java sketch was fed, in order
/// (sk_frequent_set_in_order), writes the same bytes; doubles but for -0.0, one item
/// with 0.0 here as in C++); images of Java, C++,
/// datasketches-python and Spark read here.
pub struct SkFrequent(Mutex<Frequent>);

/// What an SkFrequent holds: a sketch of one item type.
#[derive(Clone)]
pub(crate) enum Frequent {
    I64(FrequentItems<i64>),
    /// int64 items in the order of Java's generic ItemsSketch<Long> (Spark's bigint top-k).
    JavaI64(FrequentItems<JavaLong>),
    F64(FrequentItems<f64>),
    Str(FrequentItems<String>),
}

impl Handle for SkFrequent {
    type Inner = Frequent;
    fn wrap(value: Frequent) -> Self {
        SkFrequent(Mutex::new(value))
    }
    fn mutex(&self) -> &Mutex<Frequent> {
        &self.0
    }
}

/// Item type of a frequent-items sketch; images do not record it, so the reader names
/// it too.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkFrequentItemType {
    /// int64 items: DataSketches' frequent longs sketch (ArrayOfLongsSerDe).
    SK_FREQ_I64 = 0,
    /// double items (ArrayOfDoublesSerDe).
    SK_FREQ_F64 = 1,
    /// UTF-8 string items: frequent_strings_sketch (ArrayOfStringsSerDe).
    SK_FREQ_STR = 2,
    /// int64 items placed as Java's generic ItemsSketch<Long> places them (by
    /// Long.hashCode()): the sketch Spark SQL's approx_top_k keeps for bigint columns.
    /// Images are those of SK_FREQ_I64; the order of the hash map differs, and with it
    /// which of several items of equal count come first, the order of items in an
    /// image, and the sample a purge takes its median from. Read Spark's top-k states
    /// as this type to answer exactly as Spark does.
    SK_FREQ_JAVA_I64 = 3,
}

c_enum_from_i32!(
    SkFrequentItemType,
    "frequent items type",
    [SK_FREQ_I64, SK_FREQ_F64, SK_FREQ_STR, SK_FREQ_JAVA_I64]
);

/// The parameters and weights of a frequent-items sketch (see sk_frequent_stats).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SkFrequentStats {
    /// The sum of all weights (merged sketches' included).
    pub total_weight: u64,
    /// Items with a counter.
    pub num_active_items: u64,
    /// upper_bound - lower_bound of every item: the sum of what purges subtracted.
    pub maximum_error: u64,
    /// 3.5 / 2^lg_max_map_size: maximum_error <= epsilon * total_weight.
    pub epsilon: f64,
    pub lg_max_map_size: u8,
    /// The current table size (log2); it doubles up to lg_max_map_size.
    pub lg_cur_map_size: u8,
    pub item_type: SkFrequentItemType,
}

/// Runs `$body` with `$s` bound to the sketch inside a `Frequent`, whatever its type.
macro_rules! with_frequent {
    ($f:expr, $s:ident => $body:expr) => {
        match $f {
            Frequent::I64($s) => $body,
            Frequent::JavaI64($s) => $body,
            Frequent::F64($s) => $body,
            Frequent::Str($s) => $body,
        }
    };
}

impl Frequent {
    fn new(lg_max_map_size: u8, item_type: SkFrequentItemType) -> Result<Self, Error> {
        Ok(match item_type {
            SkFrequentItemType::SK_FREQ_I64 => Frequent::I64(FrequentItems::new(lg_max_map_size)?),
            SkFrequentItemType::SK_FREQ_JAVA_I64 => {
                Frequent::JavaI64(FrequentItems::new(lg_max_map_size)?)
            }
            SkFrequentItemType::SK_FREQ_F64 => Frequent::F64(FrequentItems::new(lg_max_map_size)?),
            SkFrequentItemType::SK_FREQ_STR => Frequent::Str(FrequentItems::new(lg_max_map_size)?),
        })
    }

    fn deserialize(bytes: &[u8], item_type: SkFrequentItemType) -> Result<Self, Error> {
        Ok(match item_type {
            SkFrequentItemType::SK_FREQ_I64 => Frequent::I64(FrequentItems::deserialize(bytes)?),
            SkFrequentItemType::SK_FREQ_JAVA_I64 => {
                Frequent::JavaI64(FrequentItems::deserialize(bytes)?)
            }
            SkFrequentItemType::SK_FREQ_F64 => Frequent::F64(FrequentItems::deserialize(bytes)?),
            SkFrequentItemType::SK_FREQ_STR => Frequent::Str(FrequentItems::deserialize(bytes)?),
        })
    }

    fn item_type(&self) -> SkFrequentItemType {
        match self {
            Frequent::I64(_) => SkFrequentItemType::SK_FREQ_I64,
            Frequent::JavaI64(_) => SkFrequentItemType::SK_FREQ_JAVA_I64,
            Frequent::F64(_) => SkFrequentItemType::SK_FREQ_F64,
            Frequent::Str(_) => SkFrequentItemType::SK_FREQ_STR,
        }
    }

    fn merge(&mut self, other: &Frequent) -> Result<(), Error> {
        match (self, other) {
            (Frequent::I64(d), Frequent::I64(s)) => d.merge(s),
            (Frequent::JavaI64(d), Frequent::JavaI64(s)) => d.merge(s),
            (Frequent::I64(d), Frequent::JavaI64(s)) => d.merge_java_longs(s),
            (Frequent::JavaI64(d), Frequent::I64(s)) => d.merge_longs(s),
            (Frequent::F64(d), Frequent::F64(s)) => d.merge(s),
            (Frequent::Str(d), Frequent::Str(s)) => d.merge(s),
            (d, s) => Err(Error::Incompatible(format!(
                "cannot merge a frequent items sketch of {} items into one of {} items",
                type_name(s.item_type()),
                type_name(d.item_type())
            ))),
        }
    }
}

fn type_name(t: SkFrequentItemType) -> &'static str {
    match t {
        SkFrequentItemType::SK_FREQ_I64 | SkFrequentItemType::SK_FREQ_JAVA_I64 => "int64",
        SkFrequentItemType::SK_FREQ_F64 => "float64",
        SkFrequentItemType::SK_FREQ_STR => "string",
    }
}

fn lg_param(lg_max_map_size: i32) -> Result<u8, Error> {
    small_param(lg_max_map_size, "lg_max_map_size must be from 3 to 26")
}

fn mismatch(f: &Frequent, given: &str) -> Error {
    invalid(format!(
        "this frequent items sketch holds {} items, not {given}",
        type_name(f.item_type())
    ))
}

// ---- bulk updates ----

/// Evaluates `$body` with `$w` the weight of item `i`: a constant 1 without a weight
/// array, else its entry. Two builds of the loops, not one that asks per item: the
/// constant lets the combining pass drop its weight loads and checks (zipf(1.1) int64:
/// 1.3-1.6x faster than one closure that matches on the Option).
macro_rules! with_weight_fn {
    ($weights:expr, |$w:ident| $body:expr) => {
        match $weights {
            None => {
                let $w = &|_: usize| 1u64;
                $body
            }
            Some(array) => {
                let $w = &move |i: usize| array[i];
                $body
            }
        }
    };
}

unsafe fn weights_slice<'a>(weights: *const u64, n: usize) -> Result<Option<&'a [u64]>, Error> {
    if weights.is_null() {
        Ok(None)
    } else {
        Ok(Some(in_slice(weights, n)?))
    }
}

/// Applies an integer column to an int64 sketch of either order (uint64 values beyond
/// int64's range refused before anything is applied).
fn update_ints<T>(
    s: &mut FrequentItems<T>,
    col: &Numeric,
    w: &(impl Fn(usize) -> u64 + Sync),
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<(), Error>
where
    T: for<'a> FrequentItem<Ref<'a> = i64>,
{
    let n = col.len();
    macro_rules! ints {
        ($v:expr, $conv:expr) => {{
            let v = $v;
            s.update_bulk(n, |i| Some($conv(v[i])), w, progress)
        }};
    }
    match *col {
        Numeric::I8(v) => ints!(v, i64::from),
        Numeric::I16(v) => ints!(v, i64::from),
        Numeric::I32(v) => ints!(v, i64::from),
        Numeric::I64(v) => ints!(v, |x: i64| x),
        Numeric::U8(v) => ints!(v, i64::from),
        Numeric::U16(v) => ints!(v, i64::from),
        Numeric::U32(v) => ints!(v, i64::from),
        Numeric::Bool(v) => ints!(v, |b: u8| (b != 0) as i64),
        Numeric::U64(v) => {
            if let Some(big) = v.iter().find(|&&x| x > i64::MAX as u64) {
                return Err(invalid(format!(
                    "uint64 item {big} is outside the int64 range of this sketch"
                )));
            }
            ints!(v, |x: u64| x as i64)
        }
        Numeric::F32(_) | Numeric::F64(_) => Err(invalid(
            "this frequent items sketch holds int64 items, not floating-point numbers: \
             use a float64 sketch, or convert the items to integers first",
        )),
    }
}

/// Applies a numeric column: integers to an int64 sketch (uint64 values beyond
/// int64's range refused before anything is applied), integers and floats to a double
/// sketch (converted as NumPy's astype), nothing to a string sketch.
fn update_numeric(
    f: &mut Frequent,
    col: &Numeric,
    weights: Option<&[u64]>,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<(), Error> {
    let n = col.len();
    with_weight_fn!(weights, |w| match f {
        Frequent::I64(s) => update_ints(s, col, w, progress),
        Frequent::JavaI64(s) => update_ints(s, col, w, progress),
        Frequent::F64(s) => {
            macro_rules! nums {
                ($v:expr, $conv:expr) => {{
                    let v = $v;
                    s.update_bulk(n, |i| Some($conv(v[i])), w, progress)
                }};
            }
            match *col {
                Numeric::I8(v) => nums!(v, f64::from),
                Numeric::I16(v) => nums!(v, f64::from),
                Numeric::I32(v) => nums!(v, f64::from),
                Numeric::I64(v) => nums!(v, |x: i64| x as f64),
                Numeric::U8(v) => nums!(v, f64::from),
                Numeric::U16(v) => nums!(v, f64::from),
                Numeric::U32(v) => nums!(v, f64::from),
                Numeric::U64(v) => nums!(v, |x: u64| x as f64),
                Numeric::F32(v) => nums!(v, f64::from),
                Numeric::F64(v) => nums!(v, |x: f64| x),
                Numeric::Bool(v) => nums!(v, |b: u8| (b != 0) as u8 as f64),
            }
        }
        Frequent::Str(_) => Err(mismatch(f, "numbers")),
    })
}

/// A string column as UTF-8 text: borrowed where the column holds UTF-8 bytes (Arrow,
/// delimited, `S`), transcoded once for UCS4 (`U`) columns.
enum Text<'a> {
    Borrowed(Strings<'a>),
    /// Items `data[ends[i-1]..ends[i]]` (ends[-1] = 0), from a UCS4 column.
    Owned {
        data: String,
        ends: Vec<usize>,
    },
}

impl Text<'_> {
    fn len(&self) -> usize {
        match self {
            Text::Borrowed(s) => s.len(),
            Text::Owned { ends, .. } => ends.len(),
        }
    }

    /// Item `i` as bytes (`None`: null), borrowed from the column.
    #[inline(always)]
    fn bytes(&self, i: usize) -> Option<&[u8]> {
        match self {
            Text::Borrowed(s) => match s {
                Strings::Offsets32 {
                    data,
                    offsets,
                    validity,
                } => (validity.is_none_or(|v| v.is_valid(i)))
                    .then(|| &data[offsets[i] as usize..offsets[i + 1] as usize]),
                Strings::Offsets64 {
                    data,
                    offsets,
                    validity,
                } => (validity.is_none_or(|v| v.is_valid(i)))
                    .then(|| &data[offsets[i] as usize..offsets[i + 1] as usize]),
                Strings::Delimited { data, starts } => Some(&data[starts[i]..starts[i + 1] - 1]),
                Strings::FixedBytes { data, width } => {
                    let item = &data[i * width..(i + 1) * width];
                    let end = item.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    Some(&item[..end])
                }
                // Transcoded into `Owned` by `Text::new`.
                Strings::FixedUcs4 { .. } => unreachable!("UCS4 columns are transcoded"),
            },
            Text::Owned { data, ends } => {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                Some(&data.as_bytes()[start..ends[i]])
            }
        }
    }
}

/// `data.is_ascii()`, on every core (it is a serial step of every update of strings).
fn is_ascii(data: &[u8]) -> bool {
    sketchbox_core::bulk::par_parts(0..data.len(), |part, bad: &mut Vec<()>| {
        if !data[part].is_ascii() {
            bad.push(());
        }
    })
    .is_empty()
}

impl<'a> Text<'a> {
    /// The column as text, after checking that every item is UTF-8 (so that a bad item
    /// fails the update before any item is applied).
    fn new(col: Strings<'a>) -> Result<Self, Error> {
        if let Strings::FixedUcs4 { .. } = col {
            let n = col.len();
            let (mut data, mut ends) = (String::new(), Vec::with_capacity(n));
            for i in 0..n {
                // Code points were checked by the column's constructor.
                col.with_item(i, |b| data.push_str(&String::from_utf8_lossy(b)));
                ends.push(data.len());
            }
            return Ok(Text::Owned { data, ends });
        }
        let whole: &[u8] = match &col {
            Strings::Offsets32 { data, .. }
            | Strings::Offsets64 { data, .. }
            | Strings::Delimited { data, .. }
            | Strings::FixedBytes { data, .. } => data,
            Strings::FixedUcs4 { .. } => &[],
        };
        let text = Text::Borrowed(col);
        // All-ASCII data (the common case) holds only valid items; else check each.
        if !is_ascii(whole) {
            for i in 0..text.len() {
                if let Some(b) = text.bytes(i) {
                    if let Err(e) = std::str::from_utf8(b) {
                        return Err(invalid(format!(
                            "item {i} is not valid UTF-8 ({e}): a string sketch holds text; \
                             decode binary items first"
                        )));
                    }
                }
            }
        }
        Ok(text)
    }

    /// Item `i` as text (`None`: null).
    #[inline(always)]
    fn item(&self, i: usize) -> Option<&str> {
        // SAFETY: `Text::new` checked every item of the column, which is borrowed
        // immutably for the Text's lifetime (or owned), so the bytes are still UTF-8.
        self.bytes(i)
            .map(|b| unsafe { std::str::from_utf8_unchecked(b) })
    }
}

fn update_strings(
    f: &mut Frequent,
    col: Strings,
    weights: Option<&[u64]>,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<(), Error> {
    let Frequent::Str(s) = f else {
        return Err(mismatch(f, "strings"));
    };
    let text = Text::new(col)?;
    let n = text.len();
    // Arrow strings without nulls (what pyarrow and pandas' Arrow strings hand over
    // most) get a build of their own: the general item closure, a match per item, is
    // not inlined into the combining pass (a tenth of its time).
    if let Text::Borrowed(Strings::Offsets32 {
        data,
        offsets,
        validity: None,
    }) = text
    {
        // SAFETY: as in `Text::item`: `Text::new` checked that every item is UTF-8.
        let item = |i: usize| unsafe {
            Some(std::str::from_utf8_unchecked(
                &data[offsets[i] as usize..offsets[i + 1] as usize],
            ))
        };
        return with_weight_fn!(weights, |w| s.update_bulk(n, item, w, progress));
    }
    with_weight_fn!(weights, |w| s.update_bulk(n, |i| text.item(i), w, progress))
}

/// Validates the column and weights, then applies them to the locked sketch.
unsafe fn update_column<'a>(
    sketch: *mut SkFrequent,
    make_column: impl FnOnce() -> Result<Column<'a>, Error>,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    guard(|| {
        let column = make_column()?;
        let weights = weights_slice(weights, column.len())?;
        let progress = &mut progress_fn(progress, user);
        let mut f = SkFrequent::lock(sketch)?;
        Ok(match column {
            Column::Numeric(c) => update_numeric(&mut f, &c, weights, progress),
            Column::Strings(c) => update_strings(&mut f, c, weights, progress),
        }?)
    })
}

/// Creates an empty sketch of at most 2^lg_max_map_size slots (from 3 to 26; 0.75 of them
/// counters; DataSketches' default is 10) holding items of type `item_type` (an
/// SkFrequentItemType). On success *out owns the new sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_new(
    lg_max_map_size: i32,
    item_type: i32,
    out: *mut *mut SkFrequent,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let t = SkFrequentItemType::try_from(item_type)?;
        *out = SkFrequent::into_raw(Frequent::new(lg_param(lg_max_map_size)?, t)?);
        Ok(())
    })
}

/// Releases a sketch; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_free(sketch: *mut SkFrequent) {
    let _ = guard(|| {
        SkFrequent::free(sketch);
        Ok(())
    });
}

/// Makes an independent copy of `sketch` in *out.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_copy(
    sketch: *const SkFrequent,
    out: *mut *mut SkFrequent,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let copy = SkFrequent::lock(sketch)?.clone();
        *out = SkFrequent::into_raw(copy);
        Ok(())
    })
}

/// Updates with `len` numbers of element type `dtype` (an SkDtype) at `data` (aligned
/// for that type), item i weighing weights[i] (`weights`: NULL for a weight of 1 each,
/// else `len` non-negative integers; a weight of 0 is no update). An int64 sketch
/// takes integers and bools (uint64 items above INT64_MAX give
/// SK_ERR_INVALID_ARGUMENT); a double sketch takes every dtype, converted to the
/// nearest double; floats into an int64 sketch and numbers into a string sketch give
/// SK_ERR_INVALID_ARGUMENT. Errors in the input are found before any item is applied.
///
/// Items are applied one by one in input order until one would make the sketch purge;
/// from there, spans of the input are combined at once on every core, with one purge
/// per span (the Misra-Gries merge of the span's counts: the result keeps the
/// guarantee of SkFrequent, with an error below 2.67 * total_weight /
/// 2^lg_max_map_size when every purge was a combining one, but is not that of one-item
/// updates once a purge happened).
/// After sk_frequent_set_in_order(sketch, true) every item is applied one by one in
/// input order: byte for byte the result of one-item updates, and of
/// datasketches-java fed the same stream (doubles: but for -0.0, which is 0.0 here
/// as in C++ and Python, and an item of its own in Java's `Double.equals`).
///
/// Items go SK_PROGRESS_BLOCK at a time with `progress` called between blocks; if it cancels,
/// the sketch holds the items of every completed block (a prefix of the input) and
/// the call returns SK_ERR_CANCELLED. A block whose weights would take the total
/// weight past INT64_MAX gives SK_ERR_INVALID_ARGUMENT, the sketch holding the blocks
/// before it.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_update_numeric(
    sketch: *mut SkFrequent,
    data: *const c_void,
    len: usize,
    dtype: i32,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || Ok(numeric_column(data, len, dtype)?.into());
    update_column(sketch, column, weights, progress, user)
}

/// Updates a string sketch with `n` strings in Arrow layout (as sk_hll_update_strings:
/// offsets of `offset_width` 4 or 8 bytes, an optional validity bitmap whose null items
/// are skipped), item i weighing weights[i] (NULL: 1 each; else `n` weights, nulls'
/// included). Every non-null item must be UTF-8 (an Arrow string column; a binary
/// column whose items are text), else SK_ERR_INVALID_ARGUMENT before any item is
/// applied. Empty strings are items, as in DataSketches. Order, blocks and cancellation
/// as sk_frequent_update_numeric.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_frequent_update_strings(
    sketch: *mut SkFrequent,
    data: *const u8,
    data_len: usize,
    offsets: *const c_void,
    offset_width: i32,
    n: usize,
    validity: *const u8,
    validity_offset: usize,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || {
        arrow_column(
            data,
            data_len,
            offsets,
            offset_width,
            n,
            validity,
            validity_offset,
        )
    };
    update_column(sketch, column, weights, progress, user)
}

/// Updates a string sketch with the UTF-8 items of `data` separated by the byte
/// `delimiter`, which no item contains: `len` bytes hold count(delimiter) + 1 items
/// (empty ones included), item i weighing weights[i] (NULL: 1 each; else one weight per
/// item). Errors, order and cancellation as sk_frequent_update_strings.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_update_delimited(
    sketch: *mut SkFrequent,
    data: *const u8,
    len: usize,
    delimiter: u8,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || delimited_column(data, len, delimiter);
    update_column(sketch, column, weights, progress, user)
}

/// Updates a string sketch with `n` fixed-width items of `itemsize` bytes (NumPy `S`
/// or `U` arrays, as sk_hll_update_fixed; trailing NULs are padding), item i weighing
/// weights[i] (NULL: 1 each). Errors, order and cancellation as
/// sk_frequent_update_strings.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sk_frequent_update_fixed(
    sketch: *mut SkFrequent,
    data: *const c_void,
    itemsize: usize,
    n: usize,
    encoding: i32,
    weights: *const u64,
    progress: SkProgressFn,
    user: *mut c_void,
) -> i32 {
    let column = || fixed_column(data, itemsize, n, encoding);
    update_column(sketch, column, weights, progress, user)
}

/// Adds `weight` occurrences of the int64 `item` to an int64 sketch, or of the item
/// converted to the nearest double to a double sketch; a string sketch gives
/// SK_ERR_INVALID_ARGUMENT. A weight of 0 is no update.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_update_one_i64(
    sketch: *mut SkFrequent,
    item: i64,
    weight: u64,
) -> i32 {
    guard(|| {
        let mut f = SkFrequent::lock(sketch)?;
        Ok(match &mut *f {
            Frequent::I64(s) => s.update(item, weight),
            Frequent::JavaI64(s) => s.update(item, weight),
            Frequent::F64(s) => s.update(item as f64, weight),
            other => Err(mismatch(other, "int64")),
        }?)
    })
}

/// Adds `weight` occurrences of the double `item` to a double sketch; other sketches
/// give SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_update_one_f64(
    sketch: *mut SkFrequent,
    item: f64,
    weight: u64,
) -> i32 {
    guard(|| {
        let mut f = SkFrequent::lock(sketch)?;
        Ok(match &mut *f {
            Frequent::F64(s) => s.update(item, weight),
            other => Err(mismatch(other, "doubles")),
        }?)
    })
}

fn utf8_item<'a>(data: *const u8, len: usize) -> Result<&'a str, Error> {
    let bytes = unsafe { in_slice(data, len)? };
    std::str::from_utf8(bytes).map_err(|e| invalid(format!("the item is not valid UTF-8: {e}")))
}

/// Adds `weight` occurrences of the UTF-8 string of `len` bytes at `data` (the empty
/// string is an item) to a string sketch; bytes that are not UTF-8 and other sketches
/// give SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_update_one_str(
    sketch: *mut SkFrequent,
    data: *const u8,
    len: usize,
    weight: u64,
) -> i32 {
    guard(|| {
        let item = utf8_item(data, len)?;
        let mut f = SkFrequent::lock(sketch)?;
        Ok(match &mut *f {
            Frequent::Str(s) => s.update(item, weight),
            other => Err(mismatch(other, "strings")),
        }?)
    })
}

// ---- queries ----

/// Writes an item's estimate and its guaranteed bounds; each out-pointer may be NULL.
unsafe fn write_bounds<T: FrequentItem>(
    s: &FrequentItems<T>,
    item: T::Ref<'_>,
    estimate: *mut u64,
    lower: *mut u64,
    upper: *mut u64,
) {
    if let Some(e) = estimate.as_mut() {
        *e = s.estimate(item);
    }
    if let Some(l) = lower.as_mut() {
        *l = s.lower_bound(item);
    }
    if let Some(u) = upper.as_mut() {
        *u = s.upper_bound(item);
    }
}

/// Writes the estimated total weight of the int64 `item` (its counter plus the maximum
/// error if it has one, else 0, as DataSketches), and guaranteed lower and upper
/// bounds of it, to the non-NULL out-pointers. A double sketch is queried with the item
/// converted to double; a string sketch gives SK_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_estimate_i64(
    sketch: *const SkFrequent,
    item: i64,
    estimate: *mut u64,
    lower_bound: *mut u64,
    upper_bound: *mut u64,
) -> i32 {
    guard(|| {
        match &*SkFrequent::lock(sketch)? {
            Frequent::I64(s) => write_bounds(s, item, estimate, lower_bound, upper_bound),
            Frequent::JavaI64(s) => write_bounds(s, item, estimate, lower_bound, upper_bound),
            Frequent::F64(s) => write_bounds(s, item as f64, estimate, lower_bound, upper_bound),
            other => return Err(mismatch(other, "int64").into()),
        }
        Ok(())
    })
}

/// sk_frequent_estimate_i64 for a double item of a double sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_estimate_f64(
    sketch: *const SkFrequent,
    item: f64,
    estimate: *mut u64,
    lower_bound: *mut u64,
    upper_bound: *mut u64,
) -> i32 {
    guard(|| {
        match &*SkFrequent::lock(sketch)? {
            Frequent::F64(s) => write_bounds(s, item, estimate, lower_bound, upper_bound),
            other => return Err(mismatch(other, "doubles").into()),
        }
        Ok(())
    })
}

/// sk_frequent_estimate_i64 for the UTF-8 string of `len` bytes at `data` in a string
/// sketch.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_estimate_str(
    sketch: *const SkFrequent,
    data: *const u8,
    len: usize,
    estimate: *mut u64,
    lower_bound: *mut u64,
    upper_bound: *mut u64,
) -> i32 {
    guard(|| {
        let item = utf8_item(data, len)?;
        match &*SkFrequent::lock(sketch)? {
            Frequent::Str(s) => write_bounds(s, item, estimate, lower_bound, upper_bound),
            other => return Err(mismatch(other, "strings").into()),
        }
        Ok(())
    })
}

/// Sets how bulk updates of this sketch apply their items (see
/// sk_frequent_update_numeric): one by one in input order (`in_order` true; slower, and
/// byte for byte what datasketches-java's sketch fed the same stream holds) or combined
/// (false, the default). Copies keep the choice; images do not record it.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_set_in_order(sketch: *mut SkFrequent, in_order: bool) -> i32 {
    guard(|| {
        with_frequent!(&mut *SkFrequent::lock(sketch)?, s => s.set_in_order(in_order));
        Ok(())
    })
}

/// Writes to *in_order whether bulk updates of this sketch apply items one by one in
/// input order (see sk_frequent_set_in_order).
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_in_order(
    sketch: *const SkFrequent,
    in_order: *mut bool,
) -> i32 {
    guard(|| {
        let out = out_ref(in_order)?;
        *out = with_frequent!(&*SkFrequent::lock(sketch)?, s => s.in_order());
        Ok(())
    })
}

/// Writes the sketch's parameters and weights to *out.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_stats(
    sketch: *const SkFrequent,
    out: *mut SkFrequentStats,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let f = SkFrequent::lock(sketch)?;
        *out = with_frequent!(&*f, s => SkFrequentStats {
            total_weight: s.total_weight(),
            num_active_items: s.num_active_items() as u64,
            maximum_error: s.maximum_error(),
            epsilon: s.epsilon(),
            lg_max_map_size: s.lg_max_map_size(),
            lg_cur_map_size: s.lg_cur_map_size(),
            item_type: f.item_type(),
        });
        Ok(())
    })
}

/// The rows of a top query in one buffer (see sk_frequent_top).
fn encode_rows<T: FrequentItem>(rows: &[Row<T>], item: impl Fn(&T, &mut Vec<u8>)) -> Vec<u8> {
    let n = rows.len();
    let mut out = Vec::with_capacity(8 + 32 * n);
    out.extend_from_slice(&(n as u64).to_le_bytes());
    let fields: [fn(&Row<T>) -> u64; 3] = [|r| r.estimate, |r| r.lower_bound, |r| r.upper_bound];
    for field in fields {
        for r in rows {
            out.extend_from_slice(&field(r).to_le_bytes());
        }
    }
    for r in rows {
        item(&r.item, &mut out);
    }
    out
}

/// Writes the frequent items to *out (free it with sk_bytes_free): the rows whose
/// lower bound (`no_false_negatives` false: no false positives) or upper bound
/// (`no_false_negatives` true: no false negatives) exceeds max(threshold,
/// maximum_error), heaviest estimate first (ties in datasketches-java's order).
///
/// Layout, all integers little-endian, for n rows: a u64 n; then n u64 estimates, n
/// u64 lower bounds, n u64 upper bounds; then the items: for an int64 sketch n int64,
/// for a double sketch n doubles (IEEE-754 bits), for a string sketch n + 1 u64 byte
/// offsets (starting at 0) into the UTF-8 bytes of the items that follow them.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_top(
    sketch: *const SkFrequent,
    no_false_negatives: bool,
    threshold: u64,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let error_type = if no_false_negatives {
            ErrorType::NoFalseNegatives
        } else {
            ErrorType::NoFalsePositives
        };
        let bytes = match &*SkFrequent::lock(sketch)? {
            Frequent::I64(s) => encode_rows(&s.top(error_type, Some(threshold)), |v, o| {
                o.extend_from_slice(&v.to_le_bytes())
            }),
            Frequent::JavaI64(s) => encode_rows(&s.top(error_type, Some(threshold)), |v, o| {
                o.extend_from_slice(&v.0.to_le_bytes())
            }),
            Frequent::F64(s) => encode_rows(&s.top(error_type, Some(threshold)), |v, o| {
                o.extend_from_slice(&v.to_le_bytes())
            }),
            Frequent::Str(s) => {
                let rows = s.top(error_type, Some(threshold));
                let mut out = encode_rows(&rows, |_, _| {});
                let mut end = 0u64;
                out.extend_from_slice(&end.to_le_bytes());
                for r in &rows {
                    end += r.item.len() as u64;
                    out.extend_from_slice(&end.to_le_bytes());
                }
                for r in &rows {
                    out.extend_from_slice(r.item.as_bytes());
                }
                out
            }
        };
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Merges `src` into `dst` as DataSketches does (src's counters applied as weighted
/// updates, then its total weight and error added; dst keeps its lg_max_map_size).
/// Both must hold the same item type (else SK_ERR_INCOMPATIBLE, dst unchanged). `src`
/// is unchanged; dst and src may be the same sketch (which then counts its items
/// twice).
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_merge(dst: *mut SkFrequent, src: *const SkFrequent) -> i32 {
    guard(|| {
        // Copy src first so that two threads merging a->b and b->a cannot deadlock.
        let other = SkFrequent::lock(src)?.clone();
        Ok(SkFrequent::lock(dst)?.merge(&other)?)
    })
}

/// Writes the sketch's Apache DataSketches frequent-items image (family 10; items in
/// datasketches-java's order) to *out. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_serialize(
    sketch: *const SkFrequent,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = with_frequent!(&*SkFrequent::lock(sketch)?, s => s.serialize());
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Reads a frequent-items image (sketchbox's, DataSketches' Java, C++, Python or
/// Spark's) of `len` bytes at `data` into a new sketch of item type `item_type` (an
/// SkFrequentItemType) in *out. Images do not record their item type: read longs
/// images as SK_FREQ_I64 and strings images as SK_FREQ_STR. Bytes that are not a valid
/// image give SK_ERR_CORRUPT_DATA; they are never read out of bounds, and a short image
/// cannot claim a large table.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_deserialize(
    data: *const u8,
    len: usize,
    item_type: i32,
    out: *mut *mut SkFrequent,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let bytes = in_slice(data, len)?;
        let t = SkFrequentItemType::try_from(item_type)?;
        *out = SkFrequent::into_raw(Frequent::deserialize(bytes, t)?);
        Ok(())
    })
}

/// Reads the `sketch` field of Spark SQL's top-k state (what approx_top_k_accumulate and
/// approx_top_k_combine return in Spark 4.x: the frequent-items image of the column's
/// items, then the number of nulls as 8 bytes big-endian) into a new sketch of
/// `item_type` in *out, and the null count into *null_count. bigint columns are
/// SK_FREQ_JAVA_I64 (Spark's order; SK_FREQ_I64 reads them in the longs sketch's
/// order), double SK_FREQ_F64, string SK_FREQ_STR. Invalid bytes give
/// SK_ERR_CORRUPT_DATA.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_deserialize_spark_top_k(
    data: *const u8,
    len: usize,
    item_type: i32,
    out: *mut *mut SkFrequent,
    null_count: *mut u64,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let null_count = out_ref(null_count)?;
        let bytes = in_slice(data, len)?;
        let (sketch, nulls) = match SkFrequentItemType::try_from(item_type)? {
            SkFrequentItemType::SK_FREQ_I64 => {
                let (s, n) = FrequentItems::deserialize_spark_top_k(bytes)?;
                (Frequent::I64(s), n)
            }
            SkFrequentItemType::SK_FREQ_JAVA_I64 => {
                let (s, n) = FrequentItems::deserialize_spark_top_k(bytes)?;
                (Frequent::JavaI64(s), n)
            }
            SkFrequentItemType::SK_FREQ_F64 => {
                let (s, n) = FrequentItems::deserialize_spark_top_k(bytes)?;
                (Frequent::F64(s), n)
            }
            SkFrequentItemType::SK_FREQ_STR => {
                let (s, n) = FrequentItems::deserialize_spark_top_k(bytes)?;
                (Frequent::Str(s), n)
            }
        };
        *out = SkFrequent::into_raw(sketch);
        *null_count = nulls;
        Ok(())
    })
}

/// Writes to *out the `sketch` field of Spark SQL's top-k state for this sketch and
/// `null_count` nulls (the image, then the count as 8 bytes big-endian), which Spark's
/// approx_top_k_estimate and approx_top_k_combine accept in the state struct. Free it
/// with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_serialize_spark_top_k(
    sketch: *const SkFrequent,
    null_count: u64,
    out: *mut SkBytes,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        if null_count > i64::MAX as u64 {
            return Err(invalid(format!("null count {null_count} exceeds 2^63 - 1")).into());
        }
        let bytes =
            with_frequent!(&*SkFrequent::lock(sketch)?, s => s.serialize_spark_top_k(null_count));
        bytes_out(bytes, out);
        Ok(())
    })
}

/// Merges `n` images into a new sketch in *out, in one call: image i is the lens[i]
/// bytes at ptrs[i], read as item type `item_type`. The result has
/// `lg_max_map_size` (from 3 to 26), or with 0 the largest of the images' (10 when n is 0),
/// and answers as the images merged in order into an empty sketch of that size. An
/// invalid image gives SK_ERR_CORRUPT_DATA with its index in the message; *out is then
/// unchanged.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_union_images(
    ptrs: *const *const u8,
    lens: *const usize,
    n: usize,
    item_type: i32,
    lg_max_map_size: i32,
    out: *mut *mut SkFrequent,
) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let t = SkFrequentItemType::try_from(item_type)?;
        let images = image_slices(ptrs, lens, n)?;
        let mut parts = Vec::with_capacity(n);
        each_image(&images, |b| {
            parts.push(Frequent::deserialize(b, t)?);
            Ok(())
        })?;
        let lg = match lg_max_map_size {
            0 => parts
                .iter()
                .map(|p| with_frequent!(p, s => s.lg_max_map_size()))
                .max()
                .unwrap_or(10),
            lg => lg_param(lg)?,
        };
        let mut union = Frequent::new(lg, t)?;
        for p in &parts {
            union.merge(p)?;
        }
        *out = SkFrequent::into_raw(union);
        Ok(())
    })
}

/// Writes a JSON summary (UTF-8, not NUL-terminated) of the sketch to *out: item type,
/// map sizes, total weight, active items, maximum error, epsilon and the
/// no-false-positives rows. Free it with sk_bytes_free.
#[no_mangle]
pub unsafe extern "C" fn sk_frequent_to_json(sketch: *const SkFrequent, out: *mut SkBytes) -> i32 {
    guard(|| {
        let out = out_ref(out)?;
        let json = with_frequent!(&*SkFrequent::lock(sketch)?, s => s.to_json());
        Ok(json_out(&json, out)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe fn new(t: SkFrequentItemType) -> *mut SkFrequent {
        let mut p = std::ptr::null_mut();
        assert_eq!(sk_frequent_new(6, t as i32, &mut p), 0);
        p
    }

    unsafe fn image(p: *const SkFrequent) -> Vec<u8> {
        let mut b = SkBytes {
            ptr: std::ptr::null_mut(),
            len: 0,
        };
        assert_eq!(sk_frequent_serialize(p, &mut b), 0);
        let v = std::slice::from_raw_parts(b.ptr, b.len).to_vec();
        sk_bytes_free(b);
        v
    }

    #[test]
    fn bulk_in_order_equals_one_by_one_with_weights() {
        unsafe {
            let items: Vec<i32> = (0..5000).map(|i| (i * i) % 97).collect();
            let weights: Vec<u64> = (0..5000).map(|i| i % 4).collect();
            let mut truth = [0u64; 97];
            for (&x, &w) in items.iter().zip(&weights) {
                truth[x as usize] += w;
            }
            let one = new(SkFrequentItemType::SK_FREQ_I64);
            for (&x, &w) in items.iter().zip(&weights) {
                assert_eq!(sk_frequent_update_one_i64(one, x.into(), w), 0);
            }
            for in_order in [true, false] {
                let bulk = new(SkFrequentItemType::SK_FREQ_I64);
                assert_eq!(sk_frequent_set_in_order(bulk, in_order), 0);
                let mut got = !in_order;
                assert_eq!(sk_frequent_in_order(bulk, &mut got), 0);
                assert_eq!(got, in_order);
                let rc = sk_frequent_update_numeric(
                    bulk,
                    items.as_ptr().cast(),
                    items.len(),
                    SkDtype::SK_DTYPE_I32 as i32,
                    weights.as_ptr(),
                    None,
                    std::ptr::null_mut(),
                );
                assert_eq!(rc, 0);
                if in_order {
                    assert_eq!(image(bulk), image(one));
                } else {
                    // Combined: another sketch of the same stream, within its bounds.
                    assert_ne!(image(bulk), image(one));
                    for (x, &t) in truth.iter().enumerate() {
                        let (mut e, mut lo, mut hi) = (0, 0, 0);
                        let rc = sk_frequent_estimate_i64(bulk, x as i64, &mut e, &mut lo, &mut hi);
                        assert_eq!(rc, 0);
                        assert!(lo <= t && t <= hi, "{x}: {lo} <= {t} <= {hi}");
                    }
                }
                sk_frequent_free(bulk);
            }
            sk_frequent_free(one);
        }
    }

    #[test]
    fn non_utf8_and_wrong_types_change_nothing() {
        unsafe {
            let s = new(SkFrequentItemType::SK_FREQ_STR);
            let data = b"ok\0\xff\xfe";
            let rc = sk_frequent_update_delimited(
                s,
                data.as_ptr(),
                data.len(),
                0,
                std::ptr::null(),
                None,
                std::ptr::null_mut(),
            );
            assert_eq!(rc, SkStatus::SK_ERR_INVALID_ARGUMENT as i32);
            let i = new(SkFrequentItemType::SK_FREQ_I64);
            let f = [1.5f64];
            let rc = sk_frequent_update_numeric(
                i,
                f.as_ptr().cast(),
                1,
                SkDtype::SK_DTYPE_F64 as i32,
                std::ptr::null(),
                None,
                std::ptr::null_mut(),
            );
            assert_eq!(rc, SkStatus::SK_ERR_INVALID_ARGUMENT as i32);
            assert_eq!(image(s).len(), 8);
            assert_eq!(image(i).len(), 8);
            assert_eq!(
                sk_frequent_merge(i, s),
                SkStatus::SK_ERR_INCOMPATIBLE as i32
            );
            sk_frequent_free(s);
            sk_frequent_free(i);
        }
    }
}
