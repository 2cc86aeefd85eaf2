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
//! unwind tables): [`run`]'s panic hook posts the panic's message and
//! location as the invocation's error and writes the same line to stderr,
//! which SCF keeps in the invocation's log, and SCF starts a new instance
//! for the next event. Return `Err` for failures a caller should see as
//! the error message. std's own SIGSEGV and SIGBUS handlers (for stack
//! overflows) are called before the runtime's crash report, which reports
//! what they decline.
//!
//! std ignores SIGPIPE, so a write to a log pipe whose reader has gone
//! fails with `EPIPE`; its `println!` and `eprintln!` panic on that error.
//! A handler that must not fail for its logging writes with `writeln!` to
//! `std::io::stderr()` and ignores the result, or with
//! [`crate::log`].
extern crate std;

use crate::{Response, TooLarge};
use std::io;

/// Runs the runtime on the current thread until it stops; exits the
/// process with the runtime's status (1, after a one-line message on
/// stderr, when the start fails or the runtime API goes away). Call it as
/// the whole body of `main`, after any one-time set-up the handlers need
/// (or do that in an init hook: `handler!(name, init = hook)`).
pub fn run() -> ! {
    report_panics();
    // The first argument, leaked: the runtime keeps it for the process.
    let mut args = std::env::args_os().skip(1);
    let first = args.next().map(|a| {
        let c = std::ffi::CString::new(std::os::unix::ffi::OsStringExt::into_vec(a)).unwrap_or_default();
        &*std::boxed::Box::leak(c.into_boxed_c_str())
    });
    let args = crate::sys::Args::new(args.count() + usize::from(first.is_some()), first);
    std::process::exit(crate::runtime::main(args))
}

/// With `panic = "abort"` (the templates' release profile), a panic ends
/// the process: a hook reports it as the `no_std` runtime's panic handler
/// does, its message and location in the line posted to the error
/// endpoint and written to stderr (instead of std's two lines there),
/// before std aborts. With unwinding, a panic may be caught (by
/// `catch_unwind`, or by a thread's join) and the process go on: std's
/// own hook stays, and a panic that unwinds out of a handler, which ends
/// the process with an abort, is reported as that SIGABRT.
fn report_panics() {
    if cfg!(panic = "abort") {
        std::panic::set_hook(std::boxed::Box::new(|info| {
            let thread = std::thread::current();
            crate::crash::panicked_std(info.location(), info.payload_as_str(), thread.name());
        }));
    }
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
