//! The runtime for handler crates that want std (cargo feature `std`).
//!
//! Such a crate is an ordinary std binary: std supplies the process entry
//! point, the panic handler and the allocator (musl's `malloc`), and its
//! `main` hands the process to the runtime:
//!
//! ```ignore
//! fn main_handler(event: &[u8], ctx: &scf_bootstrap::Context, out: &mut scf_bootstrap::Response)
//!     -> Result<(), scf_bootstrap::TooLarge> { out.write(event) }
//! scf_bootstrap::handler!(main_handler);
//!
//! fn main() {
//!     scf_bootstrap::run()
//! }
//! ```
//!
//! Handlers are registered with the same [`crate::handler!`] and see the
//! same [`Context`] and [`Response`]; [`Response`] is also an
//! [`std::io::Write`], so `serde_json::to_writer(&mut *out, &value)`
//! serialises straight into the runtime's buffer. The runtime itself is the
//! same `no_std` code: the feature adds this module and nothing else, and
//! the runtime's own `bootstrap` never enables it.
//!
//! A handler that panics ends the process (release profiles of handler
//! crates use `panic = "abort"`; the runtime's linker script drops the
//! unwind tables): std prints the panic message on stderr, which SCF keeps
//! in the invocation's log, the invocation fails, and SCF starts a new
//! instance for the next event. Return `Err` for failures a caller should
//! see as the error message.
extern crate std;

use crate::{Response, TooLarge};
use std::io;

/// Runs the runtime on the current thread until it stops; exits the
/// process with the runtime's status (1, after a one-line message on
/// stderr, when the start fails or the runtime API goes away). Call it as
/// the whole body of `main`, after any one-time set-up the handlers need
/// (or do that in an init hook: `handler!(name, init = hook)`).
pub fn run() -> ! {
    std::process::exit(crate::runtime::main())
}

/// Appends to the response body, as [`Response::write`] does; a write past
/// SCF's 6 MB response limit fails with [`io::ErrorKind::OutOfMemory`] and
/// leaves the body as it was.
impl io::Write for Response<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Response::write(self, buf).map(|()| buf.len()).map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::error::Error for TooLarge {}
