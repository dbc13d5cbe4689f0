//! The few ecCodes calls the GRIB reader needs, hand-declared (Debian's libeccodes 2.28;
//! the `eccodes` crate needs bindgen and a newer library). Every call goes through one
//! lock: ecCodes keeps process-wide state (definitions, caches) whose thread safety
//! depends on how it was built, and GRIB decoding is cheap next to the I/O around it.
//!
//! Messages are decoded from memory (bytes read through the storage layer), never
//! from a path, and only after `frame::message_len` has checked their framing: ecCodes
//! is handed exactly one complete message.

use std::ffi::{CStr, CString, c_char, c_double, c_int, c_long, c_void};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[repr(C)]
struct CodesHandle {
    _private: [u8; 0],
}

#[link(name = "eccodes")]
unsafe extern "C" {
    fn codes_handle_new_from_message_copy(
        c: *mut c_void,
        data: *const c_void,
        len: usize,
    ) -> *mut CodesHandle;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_grib_handle_new_from_samples(c: *mut c_void, name: *const c_char) -> *mut CodesHandle;
    fn codes_handle_delete(h: *mut CodesHandle) -> c_int;
    fn codes_get_long(h: *const CodesHandle, key: *const c_char, v: *mut c_long) -> c_int;
    fn codes_get_double(h: *const CodesHandle, key: *const c_char, v: *mut c_double) -> c_int;
    fn codes_get_string(
        h: *const CodesHandle,
        key: *const c_char,
        buf: *mut c_char,
        len: *mut usize,
    ) -> c_int;
    fn codes_get_size(h: *const CodesHandle, key: *const c_char, size: *mut usize) -> c_int;
    fn codes_get_double_array(
        h: *const CodesHandle,
        key: *const c_char,
        vals: *mut c_double,
        len: *mut usize,
    ) -> c_int;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_set_long(h: *mut CodesHandle, key: *const c_char, v: c_long) -> c_int;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_set_double(h: *mut CodesHandle, key: *const c_char, v: c_double) -> c_int;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_set_string(
        h: *mut CodesHandle,
        key: *const c_char,
        s: *const c_char,
        len: *mut usize,
    ) -> c_int;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_set_double_array(
        h: *mut CodesHandle,
        key: *const c_char,
        vals: *const c_double,
        len: usize,
    ) -> c_int;
    #[cfg(any(test, feature = "fixtures"))]
    fn codes_get_message(h: *const CodesHandle, msg: *mut *const c_void, len: *mut usize) -> c_int;
    fn codes_get_error_message(code: c_int) -> *const c_char;
    fn codes_set_codes_assertion_failed_proc(proc_: Option<extern "C" fn(*const c_char)>);
}

/// ecCodes' "key not found" code: an absent key, not an error.
const NOT_FOUND: c_int = -10;

/// The lock every ecCodes call holds.
static ECCODES: Mutex<()> = Mutex::new(());
/// Set by `on_assertion`: an ecCodes assertion failed during the current call.
static ASSERTION_FAILED: AtomicBool = AtomicBool::new(false);

/// ecCodes aborts the process on a failed internal assertion (damaged input can reach
/// some) unless a handler is installed; the handler notes it so the call's result is
/// turned into an error instead.
extern "C" fn on_assertion(message: *const c_char) {
    ASSERTION_FAILED.store(true, Ordering::SeqCst);
    if !message.is_null() {
        // SAFETY: ecCodes passes a NUL-terminated message string, valid for this call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        tracing::warn!("ecCodes assertion failed: {text}");
    }
}

fn error_text(code: c_int) -> String {
    // SAFETY: codes_get_error_message returns a static NUL-terminated string for any code.
    let p = unsafe { codes_get_error_message(code) };
    if p.is_null() {
        return format!("ecCodes error {code}");
    }
    // SAFETY: non-null, NUL-terminated, static (see above).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// One decoded message. Exists only inside `with_message`, under the lock.
pub(crate) struct Message {
    handle: *mut CodesHandle,
}

/// Runs `f` on the message `bytes` (one complete GRIB message) under the ecCodes lock.
pub(crate) fn with_message<T>(
    bytes: &[u8],
    f: impl FnOnce(&Message) -> Result<T, String>,
) -> Result<T, String> {
    let _guard = ECCODES.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: installing a handler function with the declared signature.
    unsafe { codes_set_codes_assertion_failed_proc(Some(on_assertion)) };
    ASSERTION_FAILED.store(false, Ordering::SeqCst);
    // SAFETY: `bytes` is valid for its length; ecCodes copies it (the _copy variant).
    let handle = unsafe {
        codes_handle_new_from_message_copy(std::ptr::null_mut(), bytes.as_ptr().cast(), bytes.len())
    };
    if handle.is_null() {
        return Err("ecCodes cannot decode the message".into());
    }
    let message = Message { handle };
    let result = f(&message);
    let failed = ASSERTION_FAILED.swap(false, Ordering::SeqCst);
    drop(message);
    if failed {
        return Err("ecCodes found the message inconsistent".into());
    }
    result
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: the handle was created by ecCodes and is deleted once, here.
        unsafe { codes_handle_delete(self.handle) };
    }
}

fn key_c(key: &str) -> Result<CString, String> {
    CString::new(key).map_err(|_| format!("bad key {key:?}"))
}

impl Message {
    fn checked(&self, key: &str, code: c_int) -> Result<Option<()>, String> {
        match code {
            0 => Ok(Some(())),
            NOT_FOUND => Ok(None),
            c => Err(format!("key {key}: {}", error_text(c))),
        }
    }

    /// An integer key; `None` if the message has no such key.
    pub(crate) fn long(&self, key: &str) -> Result<Option<i64>, String> {
        let k = key_c(key)?;
        let mut v: c_long = 0;
        // SAFETY: valid handle, NUL-terminated key, `v` a valid out pointer.
        let code = unsafe { codes_get_long(self.handle, k.as_ptr(), &mut v) };
        Ok(self.checked(key, code)?.map(|_| v as i64))
    }

    /// A floating-point key; `None` if absent.
    pub(crate) fn double(&self, key: &str) -> Result<Option<f64>, String> {
        let k = key_c(key)?;
        let mut v: c_double = 0.0;
        // SAFETY: as for `long`.
        let code = unsafe { codes_get_double(self.handle, k.as_ptr(), &mut v) };
        Ok(self.checked(key, code)?.map(|_| v))
    }

    /// A key as text; `None` if absent.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, String> {
        let k = key_c(key)?;
        // Keys' text values are short; ecCodes says "buffer too small" otherwise.
        let mut buf = vec![0u8; 1024];
        let mut len = buf.len();
        // SAFETY: `buf` holds `len` writable bytes; ecCodes writes at most `len`
        // (including the NUL) and sets `len` to the length written.
        let code =
            unsafe { codes_get_string(self.handle, k.as_ptr(), buf.as_mut_ptr().cast(), &mut len) };
        if self.checked(key, code)?.is_none() {
            return Ok(None);
        }
        let text = &buf[..len.min(buf.len())];
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        Ok(Some(String::from_utf8_lossy(&text[..end]).into_owned()))
    }

    /// An array key (`values`, `distinctLatitudes`...), at most `max` elements: the
    /// caller knows how many points the grid claims and refuses more.
    pub(crate) fn doubles(&self, key: &str, max: usize) -> Result<Option<Vec<f64>>, String> {
        let k = key_c(key)?;
        let mut size: usize = 0;
        // SAFETY: valid handle and key; `size` a valid out pointer.
        let code = unsafe { codes_get_size(self.handle, k.as_ptr(), &mut size) };
        if self.checked(key, code)?.is_none() {
            return Ok(None);
        }
        if size > max {
            return Err(format!(
                "key {key}: {size} values, more than the {max} expected"
            ));
        }
        let mut out = vec![0.0f64; size];
        let mut len = size;
        // SAFETY: `out` holds `len` doubles; ecCodes writes at most `len` and sets it to
        // the count written.
        let code =
            unsafe { codes_get_double_array(self.handle, k.as_ptr(), out.as_mut_ptr(), &mut len) };
        self.checked(key, code)?;
        out.truncate(len.min(size));
        Ok(Some(out))
    }
}

impl Message {
    /// An array key of at most `capacity` elements, read without asking its size
    /// first: for `distinctLatitudes` and `distinctLongitudes` ecCodes computes every
    /// point's coordinate and sorts them to answer the size, then again for the values.
    /// More than `capacity` values is an error.
    pub(crate) fn doubles_up_to(
        &self,
        key: &str,
        capacity: usize,
    ) -> Result<Option<Vec<f64>>, String> {
        let k = key_c(key)?;
        let mut out = vec![0.0f64; capacity];
        let mut len = capacity;
        // SAFETY: `out` holds `len` doubles; ecCodes writes at most `len` and sets it to
        // the count written (or fails with "array too small" and writes nothing).
        let code =
            unsafe { codes_get_double_array(self.handle, k.as_ptr(), out.as_mut_ptr(), &mut len) };
        if self.checked(key, code)?.is_none() {
            return Ok(None);
        }
        out.truncate(len.min(capacity));
        Ok(Some(out))
    }
}

/// A value to set when writing test messages.
#[cfg(any(test, feature = "fixtures"))]
#[derive(Debug, Clone)]
pub enum SetValue {
    Long(i64),
    Double(f64),
    Text(&'static str),
}

/// Writes one GRIB message: the ecCodes sample `sample` with `keys` set in order, then
/// `values` (if any). For tests and fixtures.
#[cfg(any(test, feature = "fixtures"))]
pub fn message_from_sample(
    sample: &str,
    keys: &[(&str, SetValue)],
    values: Option<&[f64]>,
) -> Result<Vec<u8>, String> {
    let _guard = ECCODES.lock().unwrap_or_else(|p| p.into_inner());
    let name = key_c(sample)?;
    // SAFETY: NUL-terminated sample name; the default context.
    let handle = unsafe { codes_grib_handle_new_from_samples(std::ptr::null_mut(), name.as_ptr()) };
    if handle.is_null() {
        return Err(format!("no ecCodes sample {sample}"));
    }
    let message = Message { handle };
    for (key, value) in keys {
        let k = key_c(key)?;
        // SAFETY: valid handle and NUL-terminated key and text; `len` valid.
        let code = unsafe {
            match value {
                SetValue::Long(v) => codes_set_long(handle, k.as_ptr(), *v as c_long),
                SetValue::Double(v) => codes_set_double(handle, k.as_ptr(), *v),
                SetValue::Text(s) => {
                    let s = key_c(s)?;
                    let mut len = s.as_bytes().len();
                    codes_set_string(handle, k.as_ptr(), s.as_ptr(), &mut len)
                }
            }
        };
        message.checked(key, code)?.ok_or(format!("no key {key}"))?;
    }
    if let Some(values) = values {
        let k = key_c("values")?;
        // SAFETY: `values` is valid for its length.
        let code =
            unsafe { codes_set_double_array(handle, k.as_ptr(), values.as_ptr(), values.len()) };
        message.checked("values", code)?;
    }
    let mut ptr: *const c_void = std::ptr::null();
    let mut len: usize = 0;
    // SAFETY: valid handle; ecCodes points `ptr` at its buffer of `len` bytes, owned by
    // the handle, which is alive until `message` drops after the copy below.
    let code = unsafe { codes_get_message(handle, &mut ptr, &mut len) };
    message.checked("message", code)?;
    if ptr.is_null() {
        return Err("ecCodes gave no message".into());
    }
    // SAFETY: see above: `len` bytes at `ptr`, alive while `message` is.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }.to_vec();
    drop(message);
    Ok(bytes)
}
