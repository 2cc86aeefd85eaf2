//! # scf-bootstrap
//!
//! A custom runtime for Tencent Cloud SCF "Custom Runtime" functions, small
//! enough to be a rounding error in the function's zip and quick enough
//! that its start-up is a handful of syscalls. The platform executes the
//! `bootstrap` file at the zip's root; this crate builds that file.
//!
//! The crate is `no_std` and allocates only to grow its two reused buffers.
//! It is layered like this, bottom up:
//!
//! - [`sys`]: the operating system. Every libc call (sockets, files, the
//!   environment, clocks, `mmap` for buffer growth) is wrapped here, and this
//!   module, [`crash`] and [`ffi`] are the only places where `unsafe` is
//!   allowed.
//! - [`http`]: a blocking HTTP/1.1 client for one peer over one keep-alive
//!   connection. Its framing half, [`http::wire`], is pure functions over byte
//!   slices (requests as iovec pieces, response heads parsed zero-copy by
//!   `httparse`, in-place de-chunking); the other half moves bytes and
//!   applies the retry policy.
//! - `resolve` (cargo feature `resolve`): host names for `SCF_RUNTIME_API`,
//!   from `/etc/hosts` and DNS, parsed by pure functions.
//! - [`runtime`]: the SCF protocol loop, init -> ready -> next -> handle ->
//!   response/error, and the environment it reads.
//! - `lambda` (cargo feature `lambda`, on by default): the AWS Lambda
//!   dialect of the same loop, chosen when `AWS_LAMBDA_RUNTIME_API` is set.
//! - [`ffi`]: the handler ABI of `include/scf_bootstrap.h`, the registry of
//!   handlers linked into the binary, and the safe Rust API over it
//!   ([`Context`], [`Response`], [`handler!`]).
//! - [`crash`]: crash reports. A fault signal or a panic while a handler
//!   runs is posted to the error endpoint and logged before the process
//!   dies by the signal; signal plumbing, so it may use `unsafe` too.
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
//! cargo feature `std` and calls [`run`] from an ordinary `fn main`
//! instead of using `entry!` (see `examples/rust-serde`).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(clippy::missing_safety_doc)]

pub mod crash;
pub mod diag;
pub mod ffi;
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "resolve")]
pub mod resolve;
pub mod runtime;
#[cfg(feature = "std")]
mod std_api;
pub mod sys;

#[cfg(test)]
mod fuzz_tests;

pub use ffi::{Context, Platform, Response, TooLarge, WriteError};
#[cfg(feature = "std")]
pub use std_api::run;

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
        pub extern "C" fn main(
            _argc: ::core::ffi::c_int,
            _argv: *const *const ::core::ffi::c_char,
        ) -> ::core::ffi::c_int {
            $crate::runtime::main()
        }

        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo) -> ! {
            $crate::crash::panicked(info)
        }
    };
}
