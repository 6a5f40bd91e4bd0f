//! What every family's entry points share: status codes, the ABI version, the
//! thread-local last error, the panic guard, handles and their locks, pointer checks,
//! owned byte buffers, the C enums and the progress callback. Columns are the core's
//! ([`sketchbox_core::column`]); this module only turns pointers into its slices.

use sketchbox_core::column::{Column, Numeric, Strings, Validity};
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
    /// The query is undefined on an empty sketch (a KLL quantile, rank, min, max, CDF or
    /// PMF before any item).
    SK_ERR_EMPTY = 6,
    /// A progress callback used a handle that is locked: the sketch whose update called
    /// it back, or one another call holds (see SkProgressFn). Nothing was done.
    SK_ERR_BUSY = 7,
    /// An update of a sketch that cannot change (a compact Theta sketch: the result of a
    /// set operation or of deserialization).
    SK_ERR_READ_ONLY = 8,
}

/// The ABI version of this header and library: the N of the SONAME libsketchbox.so.N.
/// It changes when an existing function's signature or meaning, a struct's layout or an
/// existing enum value changes; additions (functions, enum values, status codes) keep
/// it. A program may compare sk_abi_version() with SK_ABI_VERSION at start-up.
pub const SK_ABI_VERSION: u32 = 0;

/// The ABI version of the loaded library (see SK_ABI_VERSION).
#[no_mangle]
pub extern "C" fn sk_abi_version() -> u32 {
    SK_ABI_VERSION
}

/// Items between two calls of a progress callback.
pub const SK_PROGRESS_BLOCK: u64 = 2_097_152;
const _: () = assert!(SK_PROGRESS_BLOCK == sketchbox_core::bulk::BLOCK as u64);
const _: () = assert!(std::mem::size_of::<usize>() >= 4);

/// Progress callback of long bulk operations: `user` is passed through untouched;
/// `done` of `total` items are processed. Return 0 to go on, anything else to cancel.
///
/// It runs while the update holds its sketch's lock, so calls it makes on handles do
/// not wait for their lock: on the sketch being updated, or on one another call holds,
/// they fail at once with SK_ERR_BUSY instead of deadlocking.
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
/// test that a panic turns into an error rather than an abort. Only in builds with the
/// cargo feature `debug-entry-points` (never in the released library or header).
#[cfg(feature = "debug-entry-points")]
#[no_mangle]
pub extern "C" fn sk_debug_panic() -> i32 {
    // resume_unwind skips the panic hook, so this test path prints nothing to stderr.
    guard(|| -> Result<(), ApiError> {
        std::panic::resume_unwind(Box::new("sk_debug_panic: deliberate panic"))
    })
}

/// Error raised at the boundary itself.
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Why an entry point failed: a core error, or a handle busy inside a progress callback
/// (a property of handles and their locks, which the core does not have).
#[derive(Debug)]
pub(crate) enum ApiError {
    Core(Error),
    Busy,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

/// The message of [`SkStatus::SK_ERR_BUSY`].
pub(crate) const BUSY_IN_CALLBACK: &str =
    "a progress callback cannot use a sketch that is being updated or locked by another call";

impl ApiError {
    fn status(&self) -> SkStatus {
        match self {
            ApiError::Busy => SkStatus::SK_ERR_BUSY,
            ApiError::Core(e) => match e {
                Error::InvalidArgument(_) => SkStatus::SK_ERR_INVALID_ARGUMENT,
                Error::CorruptData(_) => SkStatus::SK_ERR_CORRUPT_DATA,
                Error::Incompatible(_) => SkStatus::SK_ERR_INCOMPATIBLE,
                Error::Cancelled => SkStatus::SK_ERR_CANCELLED,
                Error::Empty(_) => SkStatus::SK_ERR_EMPTY,
                Error::ReadOnly(_) => SkStatus::SK_ERR_READ_ONLY,
            },
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Busy => BUSY_IN_CALLBACK.into(),
            ApiError::Core(e) => e.to_string(),
        }
    }
}

/// Runs an entry point's body: a panic or an error becomes a status code plus the
/// thread's last-error message.
pub(crate) fn guard<F: FnOnce() -> Result<(), ApiError>>(body: F) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => SkStatus::SK_OK as i32,
        Ok(Err(e)) => {
            set_last_error(&e.message());
            e.status() as i32
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

/// The `n` byte strings (serialized sketches) at `data[i]`, `lens[i]` bytes each.
pub(crate) unsafe fn image_slices<'a>(
    data: *const *const u8,
    lens: *const usize,
    n: usize,
) -> Result<Vec<&'a [u8]>, Error> {
    let ptrs = in_slice(data, n)?;
    let lens = in_slice(lens, n)?;
    ptrs.iter()
        .zip(lens)
        .map(|(&p, &len)| in_slice(p, len))
        .collect()
}

/// Calls `f` on each image in order (prefetching ahead, see
/// `sketchbox_core::bulk::for_each_image`); the first error stops it, naming its image.
pub(crate) fn each_image(
    images: &[&[u8]],
    f: impl FnMut(&[u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    sketchbox_core::bulk::for_each_image(images, f).map_err(|(i, e)| at_image(i)(e))
}

/// Names image `i` in a format or compatibility error.
pub(crate) fn at_image(i: usize) -> impl FnOnce(Error) -> Error {
    move |e| match e {
        Error::CorruptData(m) => Error::CorruptData(format!("image {i}: {m}")),
        Error::Incompatible(m) => Error::Incompatible(format!("image {i}: {m}")),
        other => other,
    }
}

/// Writes a JSON value to *out as UTF-8 bytes.
pub(crate) fn json_out(json: &serde_json::Value, out: &mut SkBytes) -> Result<(), Error> {
    bytes_out(
        serde_json::to_vec(json).map_err(|e| invalid(e.to_string()))?,
        out,
    );
    Ok(())
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
    unsafe fn lock<'a>(ptr: *const Self) -> Result<MutexGuard<'a, Self::Inner>, ApiError> {
        if ptr.is_null() {
            return Err(invalid("NULL sketch handle").into());
        }
        if !ptr.is_aligned() {
            return Err(invalid("misaligned sketch handle").into());
        }
        let m = (*ptr).mutex();
        let poisoned = || invalid("sketch is unusable: an earlier call panicked while updating it");
        if IN_PROGRESS_CALLBACK.with(Cell::get) {
            return match m.try_lock() {
                Ok(g) => Ok(g),
                Err(TryLockError::WouldBlock) => Err(ApiError::Busy),
                Err(TryLockError::Poisoned(_)) => Err(poisoned().into()),
            };
        }
        Ok(m.lock().map_err(|_| poisoned())?)
    }
}

/// A small integer parameter (lg_k, num_std) given as `int32_t`: checked, never
/// truncated (260 is out of range, not 4); `rule` says the range in the error.
pub(crate) fn small_param(value: i32, rule: &str) -> Result<u8, Error> {
    u8::try_from(value).map_err(|_| invalid(format!("{rule}, got {value}")))
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

/// `TryFrom<i32>` for a C enum: a code is one of the variants' values, or an
/// SK_ERR_INVALID_ARGUMENT naming them. C callers pass enums as `int32_t`; this is the
/// one place a code becomes a variant.
macro_rules! c_enum_from_i32 {
    ($t:ident, $what:literal, [$($v:ident),+ $(,)?]) => {
        impl TryFrom<i32> for $t {
            type Error = sketchbox_core::Error;
            fn try_from(code: i32) -> Result<Self, Self::Error> {
                [$($t::$v),+]
                    .into_iter()
                    .find(|v| *v as i32 == code)
                    .ok_or_else(|| {
                        $crate::common::invalid(format!(
                            "{} {code} is not one of {}",
                            $what,
                            [$(stringify!($v)),+].join(", ")
                        ))
                    })
            }
        }
    };
}
pub(crate) use c_enum_from_i32;

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

c_enum_from_i32!(
    SkDtype,
    "dtype code",
    [
        SK_DTYPE_I8,
        SK_DTYPE_I16,
        SK_DTYPE_I32,
        SK_DTYPE_I64,
        SK_DTYPE_U8,
        SK_DTYPE_U16,
        SK_DTYPE_U32,
        SK_DTYPE_U64,
        SK_DTYPE_F32,
        SK_DTYPE_F64,
        SK_DTYPE_BOOL,
    ]
);

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

c_enum_from_i32!(
    SkFixedEncoding,
    "fixed-width encoding",
    [SK_FIXED_BYTES, SK_FIXED_UCS4]
);

/// `len` numbers of type `dtype` at `data` (aligned for that type).
pub(crate) unsafe fn numeric_column<'a>(
    data: *const c_void,
    len: usize,
    dtype: i32,
) -> Result<Numeric<'a>, Error> {
    use SkDtype::*;
    Ok(match SkDtype::try_from(dtype)? {
        SK_DTYPE_I8 => Numeric::I8(in_slice(data.cast(), len)?),
        SK_DTYPE_I16 => Numeric::I16(in_slice(data.cast(), len)?),
        SK_DTYPE_I32 => Numeric::I32(in_slice(data.cast(), len)?),
        SK_DTYPE_I64 => Numeric::I64(in_slice(data.cast(), len)?),
        SK_DTYPE_U8 => Numeric::U8(in_slice(data.cast(), len)?),
        SK_DTYPE_U16 => Numeric::U16(in_slice(data.cast(), len)?),
        SK_DTYPE_U32 => Numeric::U32(in_slice(data.cast(), len)?),
        SK_DTYPE_U64 => Numeric::U64(in_slice(data.cast(), len)?),
        SK_DTYPE_F32 => Numeric::F32(in_slice(data.cast(), len)?),
        SK_DTYPE_F64 => Numeric::F64(in_slice(data.cast(), len)?),
        SK_DTYPE_BOOL => Numeric::Bool(in_slice(data.cast(), len)?),
    })
}

/// An Arrow string/binary column of `n` items (see sk_hll_update_strings).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn arrow_column<'a>(
    data: *const u8,
    data_len: usize,
    offsets: *const c_void,
    offset_width: i32,
    n: usize,
    validity: *const u8,
    validity_offset: usize,
) -> Result<Column<'a>, Error> {
    let data = in_slice(data, data_len)?;
    let validity = if validity.is_null() {
        None
    } else {
        let bytes = Validity::byte_len(validity_offset, n)?;
        Some(Validity::new(
            in_slice(validity, bytes)?,
            validity_offset,
            n,
        )?)
    };
    let count = n
        .checked_add(1)
        .ok_or_else(|| invalid("string count overflows"))?;
    // An empty Arrow array may come without an offsets buffer.
    let no_offsets = n == 0 && offsets.is_null();
    Ok(match offset_width {
        4 if no_offsets => Strings::arrow32(data, &[0], validity)?,
        8 if no_offsets => Strings::arrow64(data, &[0], validity)?,
        4 => Strings::arrow32(data, in_slice(offsets.cast(), count)?, validity)?,
        8 => Strings::arrow64(data, in_slice(offsets.cast(), count)?, validity)?,
        w => {
            return Err(invalid(format!(
                "offset width must be 4 or 8 bytes, got {w}"
            )))
        }
    }
    .into())
}

/// `n` fixed-width items of `itemsize` bytes at `data`, encoded as `encoding`.
pub(crate) unsafe fn fixed_column<'a>(
    data: *const c_void,
    itemsize: usize,
    n: usize,
    encoding: i32,
) -> Result<Column<'a>, Error> {
    if itemsize == 0 && n > 0 {
        // Such a buffer could not say how many items it holds.
        return Err(invalid(format!(
            "{n} items of size 0: an item size must be positive"
        )));
    }
    let total = itemsize
        .checked_mul(n)
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .ok_or_else(|| invalid("fixed-width buffer is larger than isize::MAX bytes"))?;
    Ok(match SkFixedEncoding::try_from(encoding)? {
        SkFixedEncoding::SK_FIXED_BYTES => {
            Strings::fixed_bytes(in_slice(data.cast(), total)?, itemsize)
        }
        SkFixedEncoding::SK_FIXED_UCS4 => {
            if !itemsize.is_multiple_of(4) {
                return Err(invalid("UCS4 item size must be a multiple of 4"));
            }
            Strings::fixed_ucs4(in_slice(data.cast(), total / 4)?, itemsize / 4)?
        }
    }
    .into())
}

/// The items of `len` bytes at `data` separated by `delimiter`.
pub(crate) unsafe fn delimited_column<'a>(
    data: *const u8,
    len: usize,
    delimiter: u8,
) -> Result<Column<'a>, Error> {
    Ok(Strings::delimited(in_slice(data, len)?, delimiter).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hll::SkHll;
    use sketchbox_core::hll::{HllSketch, HllType};

    fn invalid_message<T, E: Into<ApiError>>(r: Result<T, E>) -> String {
        match r.map_err(Into::into) {
            Err(ApiError::Core(Error::InvalidArgument(msg))) => msg,
            Err(e) => panic!("expected InvalidArgument, got {}", e.message()),
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
            assert_eq!(fixed_column(ptr, 8, 2, 2).unwrap().len(), 2);
            for encoding in [1, 2] {
                // 2^32 * 2^31 = 2^63 bytes: fits a usize, exceeds isize::MAX.
                let r = fixed_column(ptr, 1 << 32, 1 << 31, encoding);
                assert!(invalid_message(r).contains("isize::MAX"));
                let r = fixed_column(ptr, 1 << 40, 1 << 40, encoding);
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
        results.push(match SkHll::lock(*busy) {
            Err(ApiError::Busy) => "busy".into(),
            _ => "not busy".into(),
        });
        results.push(match SkHll::lock(*idle) {
            Ok(_) => "idle ok".into(),
            Err(e) => e.message(),
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
            assert_eq!(state.2, ["busy", "idle ok"]);
            // Outside the callback the flag is cleared: locking waits again, and works.
            assert!(!IN_PROGRESS_CALLBACK.with(Cell::get));
            assert!(SkHll::lock(busy).is_ok());
            SkHll::free(busy);
            SkHll::free(idle);
        }
    }

    #[test]
    fn enums_are_parsed_through_their_types() {
        assert_eq!(SkDtype::try_from(4).unwrap(), SkDtype::SK_DTYPE_I64);
        assert_eq!(SkDtype::try_from(11).unwrap(), SkDtype::SK_DTYPE_BOOL);
        for bad in [0, 12, -1, i32::MAX] {
            let msg = invalid_message(SkDtype::try_from(bad));
            assert!(
                msg.contains("dtype code") && msg.contains("SK_DTYPE_BOOL"),
                "{msg}"
            );
        }
        assert!(SkFixedEncoding::try_from(3).is_err());
        assert_eq!(
            SkFixedEncoding::try_from(2).unwrap(),
            SkFixedEncoding::SK_FIXED_UCS4
        );
    }

    /// A panic inside an entry point's body: a status and a message, not an abort.
    extern "C" fn panicking_entry_point() -> i32 {
        guard(|| -> Result<(), ApiError> {
            std::panic::resume_unwind(Box::new("deliberate panic"))
        })
    }

    #[test]
    fn the_guard_turns_panics_and_errors_into_status_codes() {
        assert_eq!(panicking_entry_point(), SkStatus::SK_ERR_PANIC as i32);
        let msg = unsafe { std::ffi::CStr::from_ptr(sk_last_error()) };
        assert_eq!(
            msg.to_str().unwrap(),
            "internal error (panic): deliberate panic"
        );
        let cases = [
            (ApiError::Busy, SkStatus::SK_ERR_BUSY),
            (Error::Empty("q".into()).into(), SkStatus::SK_ERR_EMPTY),
            (
                Error::ReadOnly("r".into()).into(),
                SkStatus::SK_ERR_READ_ONLY,
            ),
            (Error::Cancelled.into(), SkStatus::SK_ERR_CANCELLED),
        ];
        for (e, status) in cases {
            assert_eq!(guard(|| Err(e)), status as i32);
        }
        let msg = unsafe { std::ffi::CStr::from_ptr(sk_last_error()) };
        assert_eq!(msg.to_str().unwrap(), "cancelled by the progress callback");
        assert_eq!(sk_abi_version(), SK_ABI_VERSION);
    }
}
