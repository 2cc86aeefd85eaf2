//! # scf-bootstrap
//!
//! A custom runtime for Tencent Cloud SCF "Custom Runtime" functions, small
//! enough to be a rounding error in the function's zip and quick enough
//! that its start-up is a handful of syscalls. The platform executes the
//! `bootstrap` file at the zip's root; this crate builds that file.
//!
//! The crate is `no_std` and allocates only to grow its two reused buffers.
//! Its public API is the handler side only: [`Context`], [`Response`],
//! [`WriteError`] (alias [`TooLarge`]), [`Message`], [`Platform`], [`handler!`],
//! [`entry!`], [`log`], [`MAX_RESPONSE`], [`VERSION`] and, with the cargo
//! feature `std`, `run`; C, Zig and other languages use the functions that
//! `include/scf_bootstrap.h` declares (`scf_write`, `scf_writer_reset`,
//! `scf_runtime_version`, `scf_runtime_version_number`,
//! `scf_runtime_abi_version`), exported by the binary. Everything else is
//! private to the crate. Its modules, each using only those above it:
//!
//! - `sys`: the operating system. Every libc call (sockets, files, the
//!   environment, clocks, signal actions, `mmap` for buffer growth) is
//!   wrapped here, and this module, `ffi` and `crash` are the only places
//!   where `unsafe` is allowed. Also the list of addresses to connect to (`Addrs`).
//! - `text`: pure byte-text helpers several layers share (blank trimming,
//!   decimal numbers, JSON string escaping, IPv4 and IPv6 literals).
//! - `diag`: the one-line messages on stderr (`Line`): templates with `{}`
//!   holes filled by typed arguments, rendered by one function; no
//!   allocation, no panic.
//! - `ffi`: the handler ABI of `include/scf_bootstrap.h`, the registry of
//!   handlers linked into the binary, and the safe Rust API over it.
//! - `resolve` (cargo feature `resolve`): host names for the runtime API,
//!   from `/etc/hosts` and DNS, parsed by pure functions; it fills an
//!   address list.
//! - `http::wire`, then `http`: a blocking HTTP/1.1 client for one peer over
//!   one keep-alive connection. Its framing half, `wire`, is pure functions
//!   over byte slices (requests as iovec pieces, response heads parsed
//!   zero-copy by `httparse`, their other fields offered to the caller,
//!   in-place de-chunking, and the policy that says what to read next);
//!   the other half moves bytes and applies the retry policy. Neither
//!   knows a dialect.
//! - `crash`: crash reports. A fault signal (cargo feature `crash`) or a
//!   panic while a handler runs is logged and written where the scene's
//!   post says (a message whose head and body a dialect made) before the
//!   process dies by the signal; signal plumbing, so it may use `unsafe`
//!   too. It knows no dialect and no transport.
//! - `address`: a host setting turned into addresses to try and a Host
//!   value.
//! - `fatal`: why the runtime stops (`Fatal`), built from each layer's own
//!   error, its one-line message, and handler selection.
//! - `invoke`: running user code and classifying the outcome, whatever
//!   transport brought the event (the init hook, the handler call with its
//!   crash scene, refused writes, failures without a message).
//! - `dialect`: the seam: what a runtime API dialect provides to the loop
//!   (`Dialect`), and the environment read by name (`Vars`).
//! - `scf` (cargo feature `scf`, on by default): Tencent Cloud SCF's
//!   dialect, complete.
//! - `lambda` (cargo feature `lambda`): the AWS Lambda dialect, complete,
//!   with its JSON strings (`lambda::json`).
//! - `choose`: the one place that chooses the dialect by the features
//!   (both on: at start, from the environment).
//! - `serve::wire`, then `serve` (cargo feature `serve`): push mode,
//!   `bootstrap serve`, the HTTP server of an SCF image function. Its
//!   framing half, `wire`, is pure functions over byte slices (request
//!   heads parsed zero-copy by `httparse`, bodies framed by the client's
//!   body framer, answers as iovec pieces); the other half accepts, reads,
//!   calls the handler through `invoke` and writes, one event at a time.
//! - `runtime`: the pull loop, init -> ready -> next -> handle ->
//!   response/error, written once, generic over the dialect.
//! - `std_api` (cargo feature `std`): `run`, for handler crates with std.
//!
//! A Rust handler crate depends on this one and writes:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use scf_bootstrap::{Context, Response, WriteError};
//! fn main_handler(event: &[u8], _: &Context, out: &mut Response) -> Result<(), WriteError> {
//!     out.write(event)
//! }
//! scf_bootstrap::handler!(main_handler);
//! scf_bootstrap::entry!();
//! ```
//!
//! A handler crate that wants std (an allocator, `serde_json`) enables the
//! cargo feature `std` and calls `run` from an ordinary `fn main`
//! instead of using `entry!` (see `examples/rust-serde`).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(clippy::missing_safety_doc)]

pub(crate) mod address;
pub(crate) mod choose;
pub(crate) mod crash;
pub(crate) mod diag;
pub(crate) mod dialect;
pub(crate) mod fatal;
pub(crate) mod ffi;
pub(crate) mod http;
pub(crate) mod invoke;
#[cfg(feature = "lambda")]
pub(crate) mod lambda;
#[cfg(feature = "resolve")]
pub(crate) mod resolve;
pub(crate) mod runtime;
// (Also without either dialect, for the compile error `choose` gives.)
#[cfg(any(feature = "scf", not(feature = "lambda")))]
pub(crate) mod scf;
#[cfg(feature = "serve")]
pub(crate) mod serve;
#[cfg(feature = "std")]
mod std_api;
// Without `resolve`, sys's UDP and file helpers have no caller.
#[cfg_attr(not(feature = "resolve"), allow(dead_code))]
pub(crate) mod sys;
pub(crate) mod text;

// The parsers' properties: run by the unit tests, and by the fuzz targets
// through `fuzzing`.
#[cfg(any(test, fuzzing))]
mod fuzz_tests;

pub use ffi::{Context, Message, Platform, Response, TooLarge, WriteError, MAX_RESPONSE, VERSION};
#[cfg(feature = "std")]
pub use std_api::run;

/// What the [`handler!`] and [`entry!`] macros expand to, and the
/// `bootstrap` binary's own `main`: public only so that code expanded in a
/// handler crate can name it. Not part of the API; it may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::crash::{panicked, panicked_plain};
    pub use crate::ffi::{
        write_error, Entry, InitFn, RawContext, Record, Str, ViaDisplay, ViaMessage, Writer, ABI_VERSION, OK,
    };
    pub use crate::runtime::main as runtime_main;
    pub use crate::sys::Args;
}

/// The parsers' property checks (`src/fuzz_tests.rs`) that the fuzz targets
/// in `fuzz/` drive, visible only in a build with `--cfg fuzzing` (what
/// `cargo fuzz` passes). Not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::fuzz_tests::*;
    #[cfg(feature = "lambda")]
    pub use crate::lambda::fuzz::{response_head as lambda_response_head, runtime_api as lambda_runtime_api};
    #[cfg(feature = "serve")]
    pub use crate::serve::wire as serve_wire;
}

/// An outside crate reaches neither the runtime's internals nor the raw
/// pieces of the ABI in safe code. Each of these fails to compile:
///
/// ```compile_fail
/// scf_bootstrap::sys::write_stderr(&[b"x"]);
/// ```
/// ```compile_fail
/// use scf_bootstrap::http::wire;
/// ```
/// ```compile_fail
/// use scf_bootstrap::runtime;
/// ```
/// ```compile_fail
/// // A Str from an arbitrary pointer: its fields are private...
/// let s = scf_bootstrap::__private::Str { ptr: 1 as _, len: 9 };
/// ```
/// ```compile_fail
/// // ...and its bytes are not readable from outside the crate.
/// let _ = scf_bootstrap::__private::Str::NONE.bytes();
/// ```
/// ```compile_fail
/// // An Entry whose name or function is arbitrary needs the unsafe constructor.
/// let e = scf_bootstrap::__private::Entry::new(1 as _, None, None);
/// ```
/// ```compile_fail
/// let e = scf_bootstrap::__private::Entry { abi_version: 1, reserved: 0, name: 1 as _, handle: None, init: None };
/// ```
///
/// The same things through their `unsafe` doors, whose contracts the caller
/// then keeps, do compile (so the failures above are about privacy and
/// safety, not typos):
///
/// ```
/// use scf_bootstrap::__private::{Entry, Str};
/// static NAME: &core::ffi::CStr = c"x";
/// // SAFETY: a static string of 1 byte.
/// let s = unsafe { Str::from_raw_parts(NAME.as_ptr(), 1) };
/// // SAFETY: as for s.
/// assert_eq!(unsafe { s.as_bytes() }, Some(&b"x"[..]));
/// // SAFETY: a static NUL-terminated name and no functions.
/// let _ = unsafe { Entry::new(NAME.as_ptr(), None, None) };
/// assert!(!scf_bootstrap::VERSION.is_empty());
/// ```
#[cfg(doctest)]
pub struct PublicSurface;

/// Writes `parts` to standard error in one write (for handlers that log).
pub fn log(parts: &[&[u8]]) {
    sys::write_stderr(parts)
}

/// Defines the process entry point (`main`) and the panic handler for a
/// `#![no_std]`, `#![no_main]` binary that uses this runtime. Use it once,
/// in the binary crate.
#[macro_export]
macro_rules! entry {
    () => {
        #[allow(unsafe_code)]
        #[no_mangle]
        /// The C start-up's `main`.
        ///
        /// # Safety
        /// `argv` holds `argc` NUL-terminated strings that live for the
        /// process, as the C start-up passes them.
        pub unsafe extern "C" fn main(
            argc: ::core::ffi::c_int,
            argv: *const *const ::core::ffi::c_char,
        ) -> ::core::ffi::c_int {
            // SAFETY: the C start-up's arguments to main (this function's contract).
            $crate::__private::runtime_main(unsafe { $crate::__private::Args::from_main(argc, argv) })
        }

        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::__private::panicked(info)
        }
    };
}

/// The module list in the crate docs above is the dependency order: each
/// module's code (its tests aside) names only itself and modules listed
/// before it.
#[cfg(test)]
#[test]
fn modules_use_only_those_listed_above_them() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");
    let docs = include_str!("lib.rs");
    // "//! - `a`, then `b` (feature `f`): ..." lists a, then b.
    let mut order: Vec<&str> = Vec::new();
    for line in docs.lines().filter_map(|l| l.strip_prefix("//! - ")) {
        let names = line.split([':', '(']).next().unwrap_or("");
        order.extend(names.split('`').skip(1).step_by(2));
    }
    assert!(order.len() >= 10, "module list not found: {order:?}");
    for (i, module) in order.iter().enumerate() {
        let file = match *module {
            "http" | "serve" => format!("{module}/mod.rs"),
            m => format!("{}.rs", m.replace("::", "/")),
        };
        let text = std::fs::read_to_string(format!("{root}{file}")).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let path = &line[at + "crate::".len()..];
                let end =
                    path.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(path.len());
                let path = path[..end].trim_end_matches(':');
                // The longest listed module that the path starts with.
                let used =
                    order.iter().filter(|m| path == **m || path.starts_with(&format!("{m}::"))).max_by_key(|m| m.len());
                if let Some(used) = used {
                    let j = order.iter().position(|m| m == used).unwrap();
                    assert!(j <= i, "{module} uses {used}, which is listed after it: {line}");
                }
            }
        }
    }
}
