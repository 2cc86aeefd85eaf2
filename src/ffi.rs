//! The handler ABI: the `#[repr(C)]` mirror of `include/scf_bootstrap.h`, the
//! functions the header declares, the registry of linked handlers, and the
//! safe Rust face of all of it ([`Context`], [`Response`], [`crate::handler!`]).
//!
//! Handlers register a 32-byte [`Entry`] in the `scf_handlers` link section
//! (the C header's `SCF_HANDLER` macro, the [`crate::handler!`] macro, or Zig's
//! `linksection`). The linker collects them between `__start_scf_handlers`
//! and `__stop_scf_handlers`; [`entries`] walks that range. The runtime
//! itself puts one blank record there so the section, and with it those two
//! symbols, always exists.
#![allow(unsafe_code)]

use crate::sys::Buf;
use core::ffi::{c_char, c_int, CStr};
use core::marker::PhantomData;
use core::mem::{align_of, offset_of, size_of};

/// The ABI version this runtime implements (`SCF_ABI_VERSION`).
pub const ABI_VERSION: u32 = 1;
/// `SCF_OK`
pub const OK: c_int = 0;
/// `SCF_ERROR`
pub const ERROR: c_int = 1;
/// `SCF_NOMEM`
pub const NOMEM: c_int = 2;
/// The crate's version as the C ABI reports it: `Cargo.toml`'s, the one
/// source of truth (the header's `SCF_BOOTSTRAP_VERSION` is checked against
/// it by `tests/handlers.rs`).
pub const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("CARGO_PKG_VERSION contains NUL"),
};
/// The same version as one number, `major * 1000000 + minor * 1000 +
/// patch` (the header's `SCF_BOOTSTRAP_VERSION_NUMBER`).
pub const VERSION_NUMBER: u32 = decimal(env!("CARGO_PKG_VERSION_MAJOR")) * 1_000_000
    + decimal(env!("CARGO_PKG_VERSION_MINOR")) * 1_000
    + decimal(env!("CARGO_PKG_VERSION_PATCH"));

/// A version component at compile time; cargo guarantees plain digits.
const fn decimal(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit() && b.len() <= 3, "version component is not a number below 1000");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}
/// SCF's limit on a synchronous invocation's response, "6 MB" in its
/// documentation, enforced as 6 × 2^20 = 6291456 bytes: the larger reading
/// of "MB" (Tencent Cloud sizes memory in binary megabytes too, and its
/// platform refuses only what is over the limit, with status 407), so the
/// runtime never refuses a response SCF would accept. Every message and
/// document calls it "6 MB" and, where bytes matter, 6291456.
pub const MAX_RESPONSE: usize = 6 << 20;

/// `scf_str`: a pointer and a length, null when absent.
///
/// `'a` is the memory it points into: a `Str` made in this crate borrows
/// that memory (the environment, the receive buffer, a copy of the request
/// id), so while a context holding it lives, the borrow checker keeps the
/// memory from being reused, moved or grown. Its fields are private; from
/// outside, a `Str` comes from [`Str::NONE`] or [`Str::from_raw_parts`],
/// whose caller promises the same.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Str<'a> {
    ptr: *const c_char,
    len: usize,
    _borrow: PhantomData<&'a [u8]>,
}

impl<'a> Str<'a> {
    pub const NONE: Str<'static> = Str { ptr: core::ptr::null(), len: 0, _borrow: PhantomData };

    pub fn from_cstr(s: Option<&'a CStr>) -> Str<'a> {
        match s {
            Some(s) => Str { ptr: s.as_ptr(), len: s.to_bytes().len(), _borrow: PhantomData },
            None => Str::NONE,
        }
    }

    /// The bytes of `with_nul` before its last, which must be a NUL (the
    /// header promises C strings): absent if it is not, or if `with_nul` is
    /// empty.
    pub fn nul_terminated(with_nul: &'a [u8]) -> Str<'a> {
        match with_nul.split_last() {
            Some((0, s)) => Str { ptr: s.as_ptr().cast(), len: s.len(), _borrow: PhantomData },
            _ => Str::NONE,
        }
    }

    /// A `Str` of `len` bytes at `ptr` (null: absent).
    ///
    /// # Safety
    /// Unless `ptr` is null, it must point to `len` readable bytes that stay
    /// valid and unchanged for `'a`, as long as the `Str`, or any context
    /// holding it, is read.
    pub const unsafe fn from_raw_parts(ptr: *const c_char, len: usize) -> Str<'a> {
        Str { ptr, len, _borrow: PhantomData }
    }

    /// The bytes, or `None` when absent, for any lifetime the caller picks.
    ///
    /// # Safety
    /// The memory must still be valid for `'b` (the promise of
    /// [`Str::from_raw_parts`], or of the context the `Str` came from).
    pub unsafe fn as_bytes<'b>(&self) -> Option<&'b [u8]> {
        if self.ptr.is_null() {
            None
        } else {
            // SAFETY: the caller's promise; absent values are null and
            // handled above.
            Some(unsafe { core::slice::from_raw_parts(self.ptr as *const u8, self.len) })
        }
    }

    /// The bytes, or `None` when absent.
    pub(crate) fn bytes(&self) -> Option<&'a [u8]> {
        // SAFETY: every Str this crate builds is made from a borrow of `len`
        // readable bytes that lives for 'a (the safe constructors above),
        // and outside code can only make one through the unsafe
        // from_raw_parts, which promises the same.
        unsafe { self.as_bytes() }
    }
}

/// `scf_context`: `'a` is the memory its strings point into (see [`Str`]).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RawContext<'a> {
    pub size: u32,
    pub abi_version: u32,
    pub request_id: Str<'a>,
    pub memory_limit_mb: u64,
    pub time_limit_ms: u64,
    pub deadline_ms: u64,
    pub function_name: Str<'a>,
    pub function_namespace: Str<'a>,
    pub function_version: Str<'a>,
    pub region: Str<'a>,
    // Appended with the Lambda dialect (size 184); a runtime from before it
    // builds a 112-byte context.
    /// `SCF_PLATFORM_SCF` (1) or `SCF_PLATFORM_LAMBDA` (2).
    pub platform: u32,
    pub reserved: u32,
    pub function_arn: Str<'a>,
    pub trace_id: Str<'a>,
    pub client_context: Str<'a>,
    pub cognito_identity: Str<'a>,
}

/// `SCF_PLATFORM_SCF`: the context came from Tencent Cloud SCF's runtime API.
pub const PLATFORM_SCF: u32 = 1;
/// `SCF_PLATFORM_LAMBDA`: the context came from AWS Lambda's runtime API.
pub const PLATFORM_LAMBDA: u32 = 2;

/// `scf_handler_fn`
pub type HandlerFn = unsafe extern "C" fn(*const u8, usize, *const RawContext, *mut Writer) -> c_int;
/// `scf_init_fn`
pub type InitFn = unsafe extern "C" fn(*const RawContext, *mut Writer) -> c_int;

/// `scf_handler_entry`
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub(crate) abi_version: u32,
    pub(crate) reserved: u32,
    pub(crate) name: *const c_char,
    pub(crate) handle: Option<HandlerFn>,
    pub(crate) init: Option<InitFn>,
}

/// An [`Entry`] that may sit in a `static`: its pointers are to static
/// strings and functions, which any thread may read.
#[repr(transparent)]
pub struct Record(pub Entry);

// SAFETY: a Record is immutable and points only to 'static data and code.
unsafe impl Sync for Record {}

// The layout the C header promises, checked at compile time; the C side
// checks the same numbers with _Static_assert (tests/c/abi_layout.c).
const _: () = {
    assert!(size_of::<Str>() == 16 && align_of::<Str>() == 8);
    assert!(size_of::<Entry>() == 32 && align_of::<Entry>() == 8);
    assert!(offset_of!(Entry, abi_version) == 0);
    assert!(offset_of!(Entry, name) == 8);
    assert!(offset_of!(Entry, handle) == 16);
    assert!(offset_of!(Entry, init) == 24);
    assert!(size_of::<RawContext>() == 184 && align_of::<RawContext>() == 8);
    assert!(offset_of!(RawContext, request_id) == 8);
    assert!(offset_of!(RawContext, memory_limit_mb) == 24);
    assert!(offset_of!(RawContext, time_limit_ms) == 32);
    assert!(offset_of!(RawContext, deadline_ms) == 40);
    assert!(offset_of!(RawContext, function_name) == 48);
    assert!(offset_of!(RawContext, function_namespace) == 64);
    assert!(offset_of!(RawContext, function_version) == 80);
    assert!(offset_of!(RawContext, region) == 96);
    assert!(offset_of!(RawContext, platform) == 112);
    assert!(offset_of!(RawContext, function_arn) == 120);
    assert!(offset_of!(RawContext, trace_id) == 136);
    assert!(offset_of!(RawContext, client_context) == 152);
    assert!(offset_of!(RawContext, cognito_identity) == 168);
};

/// The blank record that guarantees the section exists.
#[used]
#[link_section = "scf_handlers"]
static BLANK: Record = Record(Entry { abi_version: 0, reserved: 0, name: core::ptr::null(), handle: None, init: None });

extern "C" {
    static __start_scf_handlers: Entry;
    static __stop_scf_handlers: Entry;
}

/// Every record in the `scf_handlers` section, blank ones included (callers
/// skip records whose `abi_version` is 0).
pub fn entries() -> &'static [Entry] {
    // SAFETY: the linker defines these symbols at the bounds of the
    // scf_handlers section, which holds only 32-byte, 8-aligned Entry records
    // (our BLANK plus SCF_HANDLER/handler! records, all made with the same
    // layout and alignment), so the range is a valid, immutable [Entry].
    // Every bit pattern of Entry's fields is a valid value (integers, raw
    // pointers, Option of fn pointer), so a record of another ABI version is
    // still safe to read; callers check abi_version before using the rest.
    unsafe {
        let start = core::ptr::addr_of!(__start_scf_handlers);
        let stop = core::ptr::addr_of!(__stop_scf_handlers);
        let n = (stop as usize - start as usize) / size_of::<Entry>();
        core::slice::from_raw_parts(start, n)
    }
}

impl Entry {
    /// A record of this ABI version (what [`crate::handler!`] puts in the
    /// `scf_handlers` section).
    ///
    /// # Safety
    /// `name` must be null or point to a NUL-terminated string that lives
    /// for the rest of the process; `handle` and `init` must keep the
    /// header's contract for `scf_handler_fn` and `scf_init_fn` when called
    /// with the runtime's valid event, context and writer.
    pub const unsafe fn new(name: *const c_char, handle: Option<HandlerFn>, init: Option<InitFn>) -> Entry {
        Entry { abi_version: ABI_VERSION, reserved: 0, name, handle, init }
    }

    /// The handler's name, for a record of this ABI version.
    pub(crate) fn name(&self) -> &'static [u8] {
        if self.name.is_null() {
            return b"";
        }
        // SAFETY: SCF_HANDLER and handler! (through Entry::new, whose
        // caller promises it) store a pointer to a static NUL-terminated
        // string literal.
        unsafe { CStr::from_ptr(self.name) }.to_bytes()
    }

    /// Calls the handler. Returns its status code.
    pub(crate) fn call(&self, event: &[u8], ctx: &RawContext, out: &mut Writer) -> c_int {
        let Some(f) = self.handle else { return ERROR };
        let ptr = if event.is_empty() { core::ptr::null() } else { event.as_ptr() };
        // SAFETY: the pointers are valid for the duration of the call, as
        // the header promises: event for event.len() bytes, ctx and out
        // exclusively borrowed here. What the handler does with them is its
        // contract with the header.
        unsafe { f(ptr, event.len(), ctx, out) }
    }

    /// Runs the init hook, if there is one.
    pub(crate) fn call_init(&self, ctx: &RawContext, msg: &mut Writer) -> c_int {
        match self.init {
            // SAFETY: as in `call`.
            Some(f) => unsafe { f(ctx, msg) },
            None => OK,
        }
    }
}

/// Why a write was refused. Both are `SCF_NOMEM` to C; the runtime's
/// messages say which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The body would grow past SCF's 6 MB response limit ([`MAX_RESPONSE`]).
    TooLarge,
    /// The body was within the limit but memory for it ran out.
    NoMemory,
}

/// The former name of [`WriteError`], kept so that handlers written as
/// `fn(..) -> Result<(), TooLarge>` still build.
pub type TooLarge = WriteError;

/// A write refused since the body was last reset: the handler's result is
/// then not a complete response, whatever it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub why: WriteError,
    /// Bytes the handler tried to write since the last reset: what the
    /// body would have been had every write been accepted (saturating).
    pub wanted: usize,
}

/// `scf_writer`: the response body being built. C sees it only as an
/// opaque pointer; Rust handlers see it through [`Response`].
pub struct Writer<'a, 'b> {
    buf: &'a mut Buf<'b>,
    refused: Option<Refusal>,
}

impl<'a, 'b> Writer<'a, 'b> {
    pub(crate) fn new(buf: &'a mut Buf<'b>) -> Self {
        Writer { buf, refused: None }
    }

    /// The first refusal since the body was last reset, with what the
    /// handler tried to write in all; `None` if every write was accepted.
    pub(crate) fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    fn write(&mut self, data: &[u8]) -> Result<(), WriteError> {
        let want = self.buf.len().saturating_add(data.len());
        let result = if want > MAX_RESPONSE {
            Err(WriteError::TooLarge)
        } else {
            // Grows to at most the limit: a body never needs more.
            self.buf.extend_within(data, MAX_RESPONSE).map_err(|_| WriteError::NoMemory)
        };
        if let Err(why) = result {
            // Later writes may be accepted (a small one after a refused big
            // one), so what the handler wanted keeps counting from here.
            let r = self.refused.get_or_insert(Refusal { why, wanted: self.buf.len() });
            r.wanted = r.wanted.saturating_add(data.len());
        } else if let Some(r) = self.refused.as_mut() {
            r.wanted = r.wanted.saturating_add(data.len());
        }
        result
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.refused = None;
    }
}

/// `scf_write`
///
/// # Safety
/// `out` must be the writer passed to the running handler or init hook, and
/// `data` must point to `len` readable bytes (or `len` must be 0).
#[no_mangle]
pub unsafe extern "C" fn scf_write(out: *mut Writer, data: *const core::ffi::c_void, len: usize) -> c_int {
    if out.is_null() || (data.is_null() && len != 0) {
        return ERROR;
    }
    if len == 0 {
        return OK;
    }
    // SAFETY: the caller passes the live writer it was given and a readable
    // range of len bytes (checked non-null above).
    match unsafe { (*out).write(core::slice::from_raw_parts(data as *const u8, len)) } {
        Ok(()) => OK,
        Err(_) => NOMEM,
    }
}

/// `scf_writer_reset`
///
/// # Safety
/// `out` must be the writer passed to the running handler or init hook.
#[no_mangle]
pub unsafe extern "C" fn scf_writer_reset(out: *mut Writer) {
    // SAFETY: the caller passes the live writer it was given (or null).
    if let Some(w) = unsafe { out.as_mut() } {
        w.reset();
    }
}

/// `scf_runtime_version`
#[no_mangle]
pub extern "C" fn scf_runtime_version() -> *const c_char {
    VERSION.as_ptr()
}

/// `scf_runtime_version_number`
#[no_mangle]
pub extern "C" fn scf_runtime_version_number() -> u32 {
    VERSION_NUMBER
}

/// `scf_runtime_abi_version`
#[no_mangle]
pub extern "C" fn scf_runtime_abi_version() -> u32 {
    ABI_VERSION
}

/// The platform whose runtime API the bootstrap is serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Tencent Cloud SCF (`SCF_RUNTIME_API`).
    Scf,
    /// AWS Lambda (`AWS_LAMBDA_RUNTIME_API`).
    Lambda,
}

/// The invocation context as a Rust handler sees it.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    raw: &'a RawContext<'a>,
}

impl<'a> Context<'a> {
    /// # Safety
    /// `raw` must point to a context built by this runtime (or one that
    /// keeps the header's promises) that outlives `'a`.
    pub unsafe fn from_raw(raw: *const RawContext) -> Context<'a> {
        // SAFETY: guaranteed by the caller: the context and the memory its
        // strings point into outlive 'a.
        Context { raw: unsafe { &*raw.cast::<RawContext<'a>>() } }
    }

    pub fn request_id(&self) -> &'a [u8] {
        self.str(self.raw.request_id)
    }
    pub fn memory_limit_mb(&self) -> u64 {
        self.raw.memory_limit_mb
    }
    pub fn time_limit_ms(&self) -> u64 {
        self.raw.time_limit_ms
    }
    /// Milliseconds since the Unix epoch by which the result is due (0: unknown).
    pub fn deadline_ms(&self) -> u64 {
        self.raw.deadline_ms
    }
    pub fn function_name(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.function_name)
    }
    pub fn function_namespace(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.function_namespace)
    }
    pub fn function_version(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.function_version)
    }
    pub fn region(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.region)
    }
    /// Which platform's runtime API the invocation came from.
    pub fn platform(&self) -> Platform {
        match self.raw.platform {
            PLATFORM_SCF => Platform::Scf,
            PLATFORM_LAMBDA => Platform::Lambda,
            _ => Platform::Scf,
        }
    }
    /// Lambda: `Lambda-Runtime-Invoked-Function-Arn`.
    pub fn function_arn(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.function_arn)
    }
    /// Lambda: `Lambda-Runtime-Trace-Id` (X-Ray).
    pub fn trace_id(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.trace_id)
    }
    /// Lambda: `Lambda-Runtime-Client-Context` (mobile SDK callers; JSON).
    pub fn client_context(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.client_context)
    }
    /// Lambda: `Lambda-Runtime-Cognito-Identity` (mobile SDK callers; JSON).
    pub fn cognito_identity(&self) -> Option<&'a [u8]> {
        self.opt(self.raw.cognito_identity)
    }

    fn opt(&self, s: Str<'a>) -> Option<&'a [u8]> {
        s.bytes()
    }
    fn str(&self, s: Str<'a>) -> &'a [u8] {
        self.opt(s).unwrap_or(b"")
    }
}

/// The response body (or error message) a Rust handler writes.
pub struct Response<'w> {
    w: *mut Writer<'w, 'w>,
    _life: core::marker::PhantomData<&'w mut ()>,
}

impl WriteError {
    fn text(self) -> &'static str {
        match self {
            WriteError::TooLarge => "the response would exceed SCF's 6 MB response limit",
            WriteError::NoMemory => "memory ran out for the response (it is within SCF's 6 MB limit)",
        }
    }
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.text())
    }
}

impl Message for WriteError {
    fn write_message(&self, out: &mut Response) {
        let _ = out.write(self.text().as_bytes());
    }
}

/// A handler's error that writes its own message, as bytes: what a Rust
/// handler's `Err` may be instead of a [`core::fmt::Display`] type.
/// [`handler!`](crate::handler!) writes an error that is a `Message` with
/// [`Message::write_message`], and any other through its `Display`, which
/// takes `core::fmt`'s formatting machinery (`core::fmt::write`, the
/// `Formatter`) into the binary the first time a handler needs it. [`WriteError`] is both, and
/// written as a `Message`, with the same text.
pub trait Message {
    /// Writes the message into `out`, whose body has been reset. A write
    /// past the response limit is refused, and ends the message there.
    fn write_message(&self, out: &mut Response);
}

/// How [`handler!`] turns an `Err(e)` into the error message: what was
/// written is discarded, then `(&e).__scf_error(out)` picks
/// [`ViaMessage`] when `e` is a [`Message`], [`ViaDisplay`] for any other
/// `Display` error (method resolution tries the receiver `&E`, which only
/// `ViaMessage` takes, before `&&E`).
#[doc(hidden)]
pub trait ViaMessage {
    fn __scf_error(&self, out: &mut Response) -> c_int;
}

impl<E: Message> ViaMessage for E {
    fn __scf_error(&self, out: &mut Response) -> c_int {
        out.reset();
        self.write_message(out);
        ERROR
    }
}

/// See [`ViaMessage`].
#[doc(hidden)]
pub trait ViaDisplay {
    fn __scf_error(&self, out: &mut Response) -> c_int;
}

impl<E: core::fmt::Display> ViaDisplay for &E {
    fn __scf_error(&self, out: &mut Response) -> c_int {
        write_error(out, *self)
    }
}

/// Writes what `e` displays, after discarding what was written so far.
#[doc(hidden)]
pub fn write_error(out: &mut Response, e: &dyn core::fmt::Display) -> c_int {
    out.reset();
    // Text past the response limit is cut; what fits is still posted.
    let _ = core::fmt::write(out, format_args!("{e}"));
    ERROR
}

impl core::fmt::Write for Response<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

impl<'w> Response<'w> {
    /// # Safety
    /// `w` must be the writer passed to the running handler; it must not be
    /// used through any other path while this value lives.
    pub unsafe fn from_raw(w: *mut Writer) -> Response<'w> {
        Response { w: w.cast(), _life: core::marker::PhantomData }
    }

    /// Appends bytes to the body; on failure the body is unchanged, and
    /// the invocation is reported as an error (saying why) unless the body
    /// is [`reset`](Response::reset) afterwards.
    pub fn write(&mut self, data: &[u8]) -> Result<(), WriteError> {
        // SAFETY: `w` is the live writer handed to this handler (from_raw's
        // contract), used through no other path while self lives.
        unsafe { (*self.w).write(data) }
    }

    /// Discards what was written so far.
    pub fn reset(&mut self) {
        // SAFETY: as in write.
        unsafe { scf_writer_reset(self.w.cast()) }
    }
}

/// Registers a Rust function as a handler under its own name:
///
/// ```ignore
/// fn main_handler(event: &[u8], ctx: &scf_bootstrap::Context, out: &mut scf_bootstrap::Response)
///     -> Result<(), scf_bootstrap::TooLarge> { out.write(event) }
/// scf_bootstrap::handler!(main_handler);
/// ```
///
/// The function returns `Ok(())` for a response, or `Err(e)` for an error:
/// what it wrote is discarded and `e`'s message is posted as the error
/// message: what it writes as a [`Message`], or else its `Display` text
/// (`E: core::fmt::Display`; a `&str` will do). Optionally
/// `handler!(name, init = init_fn)` with `fn init_fn(&Context, &mut Response)
/// -> Result<(), E>` adds an init hook, whose `Err(e)` is printed the same
/// way. A panic in either is reported with its message and location
/// (docs/handlers.md, "When a handler crashes") and aborts the process.
#[macro_export]
macro_rules! handler {
    ($name:ident $(, init = $init:path)?) => {
        const _: () = {
            #[allow(unsafe_code)]
            unsafe extern "C" fn __scf_call(
                event: *const u8,
                len: usize,
                ctx: *const $crate::__private::RawContext,
                out: *mut $crate::__private::Writer,
            ) -> ::core::ffi::c_int {
                // SAFETY: the runtime passes a valid event range, context and
                // writer that live for this call (the header's contract).
                let event = if len == 0 { &[][..] } else { unsafe { ::core::slice::from_raw_parts(event, len) } };
                let ctx = unsafe { $crate::Context::from_raw(ctx) };
                let mut out = unsafe { $crate::Response::from_raw(out) };
                match $name(event, &ctx, &mut out) {
                    Ok(()) => $crate::__private::OK,
                    Err(e) => {
                        #[allow(unused_imports)]
                        use $crate::__private::{ViaDisplay as _, ViaMessage as _};
                        (&e).__scf_error(&mut out)
                    }
                }
            }
            $crate::handler!(@init $($init)?);
            #[used]
            #[link_section = "scf_handlers"]
            // SAFETY: the name is a static C string literal; both functions
            // keep the header's contract (above).
            #[allow(unsafe_code)]
            static __SCF_ENTRY: $crate::__private::Record = $crate::__private::Record(unsafe {
                $crate::__private::Entry::new(
                    {
                        const N: &::core::ffi::CStr = match ::core::ffi::CStr::from_bytes_with_nul(
                            ::core::concat!(::core::stringify!($name), "\0").as_bytes()) {
                            Ok(n) => n,
                            Err(_) => panic!("handler name contains NUL"),
                        };
                        N.as_ptr()
                    },
                    Some(__scf_call),
                    __SCF_INIT,
                )
            });
        };
    };
    (@init) => {
        const __SCF_INIT: Option<$crate::__private::InitFn> = None;
    };
    (@init $init:path) => {
        #[allow(unsafe_code)]
        unsafe extern "C" fn __scf_init(ctx: *const $crate::__private::RawContext, msg: *mut $crate::__private::Writer) -> ::core::ffi::c_int {
            // SAFETY: as for the handler call above.
            let ctx = unsafe { $crate::Context::from_raw(ctx) };
            let mut msg = unsafe { $crate::Response::from_raw(msg) };
            match $init(&ctx, &mut msg) {
                Ok(()) => $crate::__private::OK,
                Err(e) => {
                    #[allow(unused_imports)]
                    use $crate::__private::{ViaDisplay as _, ViaMessage as _};
                    (&e).__scf_error(&mut msg)
                }
            }
        }
        const __SCF_INIT: Option<$crate::__private::InitFn> = Some(__scf_init);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Buf;
    use core::mem::MaybeUninit;

    struct Both;
    impl Message for Both {
        fn write_message(&self, out: &mut Response) {
            let _ = out.write(b"as a message");
        }
    }
    impl core::fmt::Display for Both {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("as displayed")
        }
    }

    /// What `handler!` makes of `Err(e)`, in a body that held `partial`.
    fn posted(partial: &[u8], call: impl FnOnce(&mut Response) -> c_int) -> (c_int, Vec<u8>) {
        let mut mem = [MaybeUninit::uninit(); 64];
        let mut buf = Buf::new(&mut mem);
        let mut w = Writer::new(&mut buf);
        // SAFETY: the writer lives for the call and is used through `out` only.
        let mut out = unsafe { Response::from_raw(&mut w) };
        out.write(partial).unwrap();
        let code = call(&mut out);
        (code, buf.as_slice().to_vec())
    }

    /// The autoref choice `handler!` relies on: a `Message` is written as
    /// one, even when it is also `Display`; any other error is displayed,
    /// in generic code too.
    #[test]
    // `(&e)` as `handler!` writes it: the borrow is what picks the trait.
    #[allow(clippy::needless_borrow)]
    fn an_error_is_written_as_a_message_if_it_is_one_else_displayed() {
        use crate::__private::{ViaDisplay as _, ViaMessage as _};
        fn generic<E: core::fmt::Display>(e: E, out: &mut Response) -> c_int {
            (&e).__scf_error(out)
        }
        assert_eq!(posted(b"cut", |out| (&Both).__scf_error(out)), (ERROR, b"as a message".to_vec()));
        assert_eq!(posted(b"cut", |out| (&"a str").__scf_error(out)), (ERROR, b"a str".to_vec()));
        assert_eq!(posted(b"cut", |out| generic(Both, out)), (ERROR, b"as displayed".to_vec()));
        let too_large = WriteError::TooLarge;
        let want = too_large.to_string().into_bytes();
        assert_eq!(posted(b"cut", |out| (&too_large).__scf_error(out)), (ERROR, want));
    }
}
