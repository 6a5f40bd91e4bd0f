//! What every family's entry points share: status codes, the thread-local last error,
//! the panic guard, owned byte buffers, input views and the progress callback.

use sketchbox_core::Error;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Status codes returned by every fallible function.
#[repr(C)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkStatus {
    /// Success.
    SK_OK = 0,
    /// A parameter is out of range, a required pointer is NULL, or input is malformed
    /// (for example string offsets that are not monotonic).
    SK_ERR_INVALID_ARGUMENT = 1,
    /// Bytes given to a *_deserialize function are not a valid image.
    SK_ERR_CORRUPT_DATA = 2,
    /// Two sketches cannot be combined (different seeds, item types, ...).
    SK_ERR_INCOMPATIBLE = 3,
    /// The progress callback returned non-zero and the operation stopped.
    SK_ERR_CANCELLED = 4,
    /// An internal error (a Rust panic) was caught; the message says where.
    SK_ERR_PANIC = 5,
}

/// Items between two calls of a progress callback.
pub const SK_PROGRESS_BLOCK: u64 = 2_097_152;
const _: () = assert!(SK_PROGRESS_BLOCK == sketchbox_core::bulk::BLOCK as u64);

/// Progress callback of long bulk operations: `user` is passed through untouched;
/// `done` of `total` items are processed. Return 0 to go on, anything else to cancel.
///
/// It runs while the update holds its sketch's lock, so calls it makes on handles do
/// not wait for their lock: on the sketch being updated, or on one another call holds,
/// they fail at once with SK_ERR_INVALID_ARGUMENT ("a progress callback cannot use a
/// sketch that is being updated or locked by another call") instead of deadlocking.
/// Other, idle sketches may be used as usual.
pub type SkProgressFn =
    Option<unsafe extern "C" fn(user: *mut c_void, done: u64, total: u64) -> i32>;

/// A byte buffer owned by the caller, released with sk_bytes_free.
#[repr(C)]
pub struct SkBytes {
    pub ptr: *mut u8,
    pub len: usize,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// Set while this thread runs a progress callback (see [`progress_fn`]).
    static IN_PROGRESS_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// What a handle's lock reports to a progress callback instead of deadlocking.
pub(crate) const BUSY_IN_CALLBACK: &str =
    "a progress callback cannot use a sketch that is being updated or locked by another call";

/// Restores the thread's progress-callback flag when dropped (also on unwind).
struct CallbackFlag(bool);

impl Drop for CallbackFlag {
    fn drop(&mut self) {
        IN_PROGRESS_CALLBACK.with(|f| f.set(self.0));
    }
}

fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The message of the last failed call on this thread ("" before the first failure;
/// successful calls leave it unchanged). The pointer stays valid until the next
/// sketchbox call on the same thread; copy it to keep it.
#[no_mangle]
pub extern "C" fn sk_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The library version, e.g. "0.1.0"; a static string, never freed.
#[no_mangle]
pub extern "C" fn sk_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Releases a buffer returned in an SkBytes. Accepts an SkBytes whose ptr is NULL.
#[no_mangle]
pub unsafe extern "C" fn sk_bytes_free(bytes: SkBytes) {
    if !bytes.ptr.is_null() {
        let slice = std::ptr::slice_from_raw_parts_mut(bytes.ptr, bytes.len);
        drop(Box::from_raw(slice));
    }
}

/// Always fails with SK_ERR_PANIC after panicking inside the library: lets bindings
/// test that a panic turns into an error rather than an abort.
#[no_mangle]
pub extern "C" fn sk_debug_panic() -> i32 {
    // resume_unwind skips the panic hook, so this test path prints nothing to stderr.
    guard(|| -> Result<(), Error> {
        std::panic::resume_unwind(Box::new("sk_debug_panic: deliberate panic"))
    })
}

/// Error raised at the boundary itself.
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Runs an entry point's body: a panic or an error becomes a status code plus the
/// thread's last-error message.
pub(crate) fn guard<F: FnOnce() -> Result<(), Error>>(body: F) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => SkStatus::SK_OK as i32,
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            (match e {
                Error::InvalidArgument(_) => SkStatus::SK_ERR_INVALID_ARGUMENT,
                Error::CorruptData(_) => SkStatus::SK_ERR_CORRUPT_DATA,
                Error::Incompatible(_) => SkStatus::SK_ERR_INCOMPATIBLE,
                Error::Cancelled => SkStatus::SK_ERR_CANCELLED,
            }) as i32
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error (panic): {msg}"));
            SkStatus::SK_ERR_PANIC as i32
        }
    }
}

/// A native handle: an opaque struct around the sketch and a mutex, because cffi calls
/// arrive without the GIL. Each family declares `pub struct SkXxx(Mutex<Sketch>)`.
pub(crate) trait Handle: Sized + 'static {
    type Inner;
    fn wrap(value: Self::Inner) -> Self;
    fn mutex(&self) -> &Mutex<Self::Inner>;

    fn into_raw(value: Self::Inner) -> *mut Self {
        Box::into_raw(Box::new(Self::wrap(value)))
    }

    unsafe fn free(ptr: *mut Self) {
        if !ptr.is_null() {
            drop(Box::from_raw(ptr));
        }
    }

    /// Locks the handle's sketch. Inside a progress callback it does not wait: the
    /// sketch may be the one whose update called back, which holds the lock until the
    /// callback returns, so a busy lock is an error there (see [`SkProgressFn`]).
    unsafe fn lock<'a>(ptr: *const Self) -> Result<MutexGuard<'a, Self::Inner>, Error> {
        if ptr.is_null() {
            return Err(invalid("NULL sketch handle"));
        }
        if !ptr.is_aligned() {
            return Err(invalid("misaligned sketch handle"));
        }
        let m = (*ptr).mutex();
        let poisoned = || invalid("sketch is unusable: an earlier call panicked while updating it");
        if IN_PROGRESS_CALLBACK.with(Cell::get) {
            return match m.try_lock() {
                Ok(g) => Ok(g),
                Err(TryLockError::WouldBlock) => Err(invalid(BUSY_IN_CALLBACK)),
                Err(TryLockError::Poisoned(_)) => Err(poisoned()),
            };
        }
        m.lock().map_err(|_| poisoned())
    }
}

pub(crate) unsafe fn out_ref<'a, T>(ptr: *mut T) -> Result<&'a mut T, Error> {
    if !ptr.is_aligned() {
        return Err(invalid("misaligned output pointer"));
    }
    ptr.as_mut().ok_or_else(|| invalid("NULL output pointer"))
}

pub(crate) unsafe fn in_slice<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(invalid(format!(
            "NULL pointer to {len} {}",
            std::any::type_name::<T>()
        )));
    }
    if !ptr.is_aligned() {
        return Err(invalid("misaligned data pointer"));
    }
    // slice::from_raw_parts requires the slice to span at most isize::MAX bytes.
    if len
        .checked_mul(std::mem::size_of::<T>())
        .is_none_or(|bytes| bytes > isize::MAX as usize)
    {
        return Err(invalid(format!(
            "input of {len} {} is larger than isize::MAX bytes",
            std::any::type_name::<T>()
        )));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

pub(crate) fn bytes_out(v: Vec<u8>, out: &mut SkBytes) {
    let b = v.into_boxed_slice();
    out.len = b.len();
    out.ptr = Box::into_raw(b) as *mut u8;
}

/// Wraps an optional C callback as the core's `FnMut(done, total) -> keep_going`. While
/// the callback runs, the thread is marked as inside one, so that [`Handle::lock`] fails
/// rather than waits for a lock the update calling back may hold.
pub(crate) fn progress_fn(cb: SkProgressFn, user: *mut c_void) -> impl FnMut(u64, u64) -> bool {
    move |done, total| match cb {
        Some(f) => {
            let _restore = CallbackFlag(IN_PROGRESS_CALLBACK.with(|flag| flag.replace(true)));
            unsafe { f(user, done, total) == 0 }
        }
        None => true,
    }
}

/// Element types of a numeric input buffer.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkDtype {
    SK_DTYPE_I8 = 1,
    SK_DTYPE_I16 = 2,
    SK_DTYPE_I32 = 3,
    SK_DTYPE_I64 = 4,
    SK_DTYPE_U8 = 5,
    SK_DTYPE_U16 = 6,
    SK_DTYPE_U32 = 7,
    SK_DTYPE_U64 = 8,
    SK_DTYPE_F32 = 9,
    SK_DTYPE_F64 = 10,
    /// One byte per item, 0 or non-zero (NumPy bool); hashed as the integers 0 and 1.
    SK_DTYPE_BOOL = 11,
}

/// A numeric input column, each element read as DataSketches would hash it: integers
/// as their value (an i64, or the u64 bit pattern at and above 2^63), floats as f64.
pub(crate) enum Numeric<'a> {
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
    Bool(&'a [u8]),
}

impl<'a> Numeric<'a> {
    pub(crate) unsafe fn from_raw(
        data: *const c_void,
        len: usize,
        dtype: i32,
    ) -> Result<Self, Error> {
        Ok(match dtype {
            1 => Numeric::I8(in_slice(data as *const i8, len)?),
            2 => Numeric::I16(in_slice(data as *const i16, len)?),
            3 => Numeric::I32(in_slice(data as *const i32, len)?),
            4 => Numeric::I64(in_slice(data as *const i64, len)?),
            5 => Numeric::U8(in_slice(data as *const u8, len)?),
            6 => Numeric::U16(in_slice(data as *const u16, len)?),
            7 => Numeric::U32(in_slice(data as *const u32, len)?),
            8 => Numeric::U64(in_slice(data as *const u64, len)?),
            9 => Numeric::F32(in_slice(data as *const f32, len)?),
            10 => Numeric::F64(in_slice(data as *const f64, len)?),
            11 => Numeric::Bool(in_slice(data as *const u8, len)?),
            d => return Err(invalid(format!("unknown dtype code {d}"))),
        })
    }

    /// Gives `sink` the column's length and each item's MurmurHash3_x64_128 with `seed`,
    /// hashed as DataSketches hashes it: integers by value as an int64 (uint64 values at
    /// and above 2^63 by their bit pattern), bools as 0 and 1, floats as a canonical
    /// double. One monomorphic closure per element type, holding its slice and seed by
    /// value (not behind a reference the hashing loop would reload), keeps the loop tight.
    pub(crate) fn hashes<S: HashSink>(&self, seed: u64, sink: S) -> S::Out {
        use sketchbox_core::hash::{hash_f64, murmur3_u64};
        macro_rules! ints {
            ($s:expr) => {
                sink.feed($s.len(), move |i| murmur3_u64($s[i] as i64 as u64, seed))
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
            Numeric::U64(s) => sink.feed(s.len(), move |i| murmur3_u64(s[i], seed)),
            Numeric::Bool(s) => sink.feed(s.len(), move |i| murmur3_u64((s[i] != 0) as u64, seed)),
            Numeric::F32(s) => sink.feed(s.len(), move |i| hash_f64(s[i] as f64, seed)),
            Numeric::F64(s) => sink.feed(s.len(), move |i| hash_f64(s[i], seed)),
        }
    }
}

/// What [`Numeric::hashes`] feeds: `n` items, item `i` hashing to `hash_at(i)`.
pub(crate) trait HashSink {
    type Out;
    fn feed<H: Fn(usize) -> (u64, u64) + Sync>(self, n: usize, hash_at: H) -> Self::Out;
}

/// How the items of a fixed-width string buffer are encoded.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkFixedEncoding {
    /// Raw bytes per item (NumPy `S` dtype); trailing NUL bytes are padding.
    SK_FIXED_BYTES = 1,
    /// UTF-32 code points in native byte order (NumPy `U` dtype), hashed as their UTF-8
    /// encoding; trailing NUL code points are padding.
    SK_FIXED_UCS4 = 2,
}

/// A column of variable-length strings: Arrow layout, fixed-width NumPy items, or
/// items joined by a delimiter byte.
pub(crate) enum Strings<'a> {
    Offsets32 {
        data: &'a [u8],
        offsets: &'a [i32],
        validity: Option<(&'a [u8], usize)>,
    },
    Offsets64 {
        data: &'a [u8],
        offsets: &'a [i64],
        validity: Option<(&'a [u8], usize)>,
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

impl<'a> Strings<'a> {
    /// Validates an Arrow-style column up front, so that an update applies all of it or
    /// nothing: offsets non-decreasing and inside `data`, validity long enough.
    #[allow(clippy::too_many_arguments)]
    pub(crate) unsafe fn arrow(
        data: *const u8,
        data_len: usize,
        offsets: *const c_void,
        offset_width: u8,
        n: usize,
        validity: *const u8,
        validity_offset: usize,
    ) -> Result<Self, Error> {
        let data = in_slice(data, data_len)?;
        let validity = if validity.is_null() {
            None
        } else {
            let bits = validity_offset
                .checked_add(n)
                .ok_or_else(|| invalid("validity offset overflows"))?;
            Some((in_slice(validity, bits.div_ceil(8))?, validity_offset))
        };
        fn check<O: Copy + TryInto<usize>>(offs: &[O], data_len: usize) -> Result<(), Error> {
            let mut prev = 0usize;
            for (i, &o) in offs.iter().enumerate() {
                let o: usize = o
                    .try_into()
                    .map_err(|_| invalid("negative string offset"))?;
                if (i > 0 && o < prev) || o > data_len {
                    return Err(invalid(format!(
                        "string offset {i} ({o}) is decreasing or past the data ({data_len} bytes)"
                    )));
                }
                prev = o;
            }
            Ok(())
        }
        let count = n
            .checked_add(1)
            .ok_or_else(|| invalid("string count overflows"))?;
        match offset_width {
            4 => {
                let offsets = in_slice(offsets as *const i32, count)?;
                check(offsets, data.len())?;
                Ok(Strings::Offsets32 {
                    data,
                    offsets,
                    validity,
                })
            }
            8 => {
                let offsets = in_slice(offsets as *const i64, count)?;
                check(offsets, data.len())?;
                Ok(Strings::Offsets64 {
                    data,
                    offsets,
                    validity,
                })
            }
            w => Err(invalid(format!(
                "offset width must be 4 or 8 bytes, got {w}"
            ))),
        }
    }

    /// Items of `data` separated by `delimiter` (a byte no item contains).
    pub(crate) unsafe fn delimited(
        data: *const u8,
        len: usize,
        delimiter: u8,
    ) -> Result<Self, Error> {
        let data = in_slice(data, len)?;
        // starts[i]..starts[i + 1] - 1 is item i: the delimiter after each item is skipped.
        let mut starts = vec![0];
        starts.extend(sketchbox_core::bulk::par_parts(0..len, |part, found| {
            let lo = part.start;
            found.extend(memchr::memchr_iter(delimiter, &data[part]).map(|i| lo + i + 1));
        }));
        starts.push(len + 1);
        Ok(Strings::Delimited { data, starts })
    }

    pub(crate) unsafe fn fixed(
        data: *const c_void,
        itemsize: usize,
        n: usize,
        encoding: i32,
    ) -> Result<Self, Error> {
        let total = itemsize
            .checked_mul(n)
            .filter(|&bytes| bytes <= isize::MAX as usize)
            .ok_or_else(|| invalid("fixed-width buffer is larger than isize::MAX bytes"))?;
        match encoding {
            1 => Ok(Strings::FixedBytes {
                data: in_slice(data as *const u8, total)?,
                width: itemsize,
            }),
            2 => {
                if !itemsize.is_multiple_of(4) {
                    return Err(invalid("UCS4 item size must be a multiple of 4"));
                }
                let data = in_slice(data as *const u32, total / 4)?;
                if let Some(bad) = data.iter().find(|&&c| char::from_u32(c).is_none()) {
                    return Err(invalid(format!(
                        "invalid code point {bad:#x} in a UCS4 string"
                    )));
                }
                Ok(Strings::FixedUcs4 {
                    data,
                    width: itemsize / 4,
                })
            }
            e => Err(invalid(format!("unknown fixed-width encoding {e}"))),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Strings::Offsets32 { offsets, .. } => offsets.len() - 1,
            Strings::Offsets64 { offsets, .. } => offsets.len() - 1,
            Strings::Delimited { starts, .. } => starts.len() - 1,
            Strings::FixedBytes { data, width } => {
                if *width == 0 {
                    0
                } else {
                    data.len() / width
                }
            }
            Strings::FixedUcs4 { data, width } => {
                if *width == 0 {
                    0
                } else {
                    data.len() / width
                }
            }
        }
    }

    fn valid(validity: &Option<(&[u8], usize)>, i: usize) -> bool {
        match validity {
            None => true,
            Some((bits, off)) => {
                let b = off + i;
                bits[b >> 3] >> (b & 7) & 1 == 1
            }
        }
    }

    /// Calls `f` with item `i`'s bytes (UTF-8 for text); `None` for a null item.
    #[inline]
    pub(crate) fn with_item<R>(&self, i: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Strings::Offsets32 {
                data,
                offsets,
                validity,
            } => {
                if !Self::valid(validity, i) {
                    return None;
                }
                Some(f(&data[offsets[i] as usize..offsets[i + 1] as usize]))
            }
            Strings::Offsets64 {
                data,
                offsets,
                validity,
            } => {
                if !Self::valid(validity, i) {
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
                    // Validated in `fixed`.
                    let ch = char::from_u32(c).unwrap_or('\u{fffd}');
                    n += ch.encode_utf8(&mut out[n..]).len();
                }
                Some(f(&out[..n]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hll::SkHll;
    use sketchbox_core::hll::{HllSketch, HllType};

    fn invalid_message<T>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::InvalidArgument(msg)) => msg,
            Err(e) => panic!("expected InvalidArgument, got {e}"),
            Ok(_) => panic!("expected InvalidArgument, got Ok"),
        }
    }

    fn new_hll() -> *mut SkHll {
        SkHll::into_raw(HllSketch::new(10, HllType::Hll8).unwrap())
    }

    #[test]
    fn in_slice_rejects_more_than_isize_max_bytes() {
        let x = [7u64; 4];
        unsafe {
            assert_eq!(in_slice(x.as_ptr(), 4).unwrap(), &x);
            // The byte count overflows usize, or fits it but exceeds isize::MAX.
            for len in [usize::MAX, usize::MAX / 8 + 1, isize::MAX as usize / 8 + 1] {
                let msg = invalid_message(in_slice(x.as_ptr(), len));
                assert!(msg.contains("isize::MAX"), "{msg}");
            }
            let bytes = [0u8; 4];
            let msg = invalid_message(in_slice(bytes.as_ptr(), isize::MAX as usize + 1));
            assert!(msg.contains("isize::MAX"), "{msg}");
        }
    }

    #[test]
    fn fixed_rejects_more_than_isize_max_bytes() {
        let data = [0u32; 4];
        let ptr = data.as_ptr() as *const c_void;
        unsafe {
            assert_eq!(Strings::fixed(ptr, 8, 2, 2).unwrap().len(), 2);
            for encoding in [1, 2] {
                // 2^32 * 2^31 = 2^63 bytes: fits a usize, exceeds isize::MAX.
                let r = Strings::fixed(ptr, 1 << 32, 1 << 31, encoding);
                assert!(invalid_message(r).contains("isize::MAX"));
                let r = Strings::fixed(ptr, 1 << 40, 1 << 40, encoding);
                assert!(invalid_message(r).contains("isize::MAX"));
            }
        }
    }

    #[test]
    fn out_ref_rejects_null_and_misaligned_pointers() {
        let mut buf = [0u64; 2];
        unsafe {
            *out_ref(buf.as_mut_ptr()).unwrap() = 5;
            assert_eq!(buf[0], 5);
            let odd = (buf.as_mut_ptr() as *mut u8).add(1) as *mut u64;
            assert!(invalid_message(out_ref(odd)).contains("misaligned"));
            assert!(invalid_message(out_ref(std::ptr::null_mut::<u64>())).contains("NULL"));
        }
    }

    #[test]
    fn lock_rejects_null_and_misaligned_handles() {
        let h = new_hll();
        unsafe {
            assert!(SkHll::lock(h).is_ok());
            let odd = (h as *const u8).add(1) as *const SkHll;
            assert!(invalid_message(SkHll::lock(odd)).contains("misaligned"));
            assert!(invalid_message(SkHll::lock(std::ptr::null())).contains("NULL"));
            SkHll::free(h);
        }
    }

    /// Progress callback whose `user` is `[busy, idle, results]`: tries to lock both.
    unsafe extern "C" fn lock_both(user: *mut c_void, _done: u64, _total: u64) -> i32 {
        let (busy, idle, results) = &mut *(user as *mut (*mut SkHll, *mut SkHll, Vec<String>));
        results.push(invalid_message(SkHll::lock(*busy)));
        results.push(match SkHll::lock(*idle) {
            Ok(_) => "idle ok".into(),
            Err(e) => e.to_string(),
        });
        0
    }

    #[test]
    fn a_progress_callback_gets_an_error_instead_of_a_deadlock() {
        let (busy, idle) = (new_hll(), new_hll());
        let mut state = (busy, idle, Vec::<String>::new());
        unsafe {
            let guard = SkHll::lock(busy).unwrap();
            let user = &mut state as *mut _ as *mut c_void;
            assert!(progress_fn(Some(lock_both), user)(1, 2));
            drop(guard);
            assert_eq!(state.2, [BUSY_IN_CALLBACK, "idle ok"]);
            // Outside the callback the flag is cleared: locking waits again, and works.
            assert!(!IN_PROGRESS_CALLBACK.with(Cell::get));
            assert!(SkHll::lock(busy).is_ok());
            SkHll::free(busy);
            SkHll::free(idle);
        }
    }
}
