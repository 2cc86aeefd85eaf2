//! The `bootstrap` executable: the runtime plus whatever handlers the build
//! linked in (see build.rs). With none, it is the SCF guide's echo demo.
//!
//! The deployable build is the musl one, `no_std` and `no_main`. Built for
//! any other target (as `cargo test` does for the host, with dev-dependencies
//! that link std into everything), it is the same runtime under std's `main`.
#![cfg_attr(target_env = "musl", no_std, no_main)]

// What `scf_bootstrap::entry!()` defines, with the panic handler that does
// not format messages: the only Rust code here that can panic is the
// runtime's own (see `crash::panicked_plain`).
#[cfg(target_env = "musl")]
#[allow(unsafe_code)]
#[no_mangle]
/// The C start-up's `main`.
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings that live for the process, as
/// the C start-up passes them.
pub unsafe extern "C" fn main(argc: core::ffi::c_int, argv: *const *const core::ffi::c_char) -> core::ffi::c_int {
    // SAFETY: the C start-up's arguments to main (this function's contract).
    scf_bootstrap::__private::runtime_main(unsafe { scf_bootstrap::__private::Args::from_main(argc, argv) })
}

#[cfg(target_env = "musl")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    scf_bootstrap::__private::panicked_plain(info)
}

#[cfg(not(target_env = "musl"))]
fn main() {
    let mut args = std::env::args_os().skip(1);
    let first = args.next().map(|a| {
        let c = std::ffi::CString::new(std::os::unix::ffi::OsStringExt::into_vec(a)).unwrap_or_default();
        &*Box::leak(c.into_boxed_c_str())
    });
    let args = scf_bootstrap::__private::Args::new(args.count() + usize::from(first.is_some()), first);
    std::process::exit(scf_bootstrap::__private::runtime_main(args))
}

/// The demo handler of Tencent's Custom Runtime guide: logs the event to
/// stderr and answers `Echoing request: '<event>'`. An event too big to
/// echo within SCF's 6 MB response limit, or with the memory there is, gets
/// an error saying which.
#[cfg(scf_demo)]
fn main_handler(
    event: &[u8],
    _ctx: &scf_bootstrap::Context,
    out: &mut scf_bootstrap::Response,
) -> Result<(), TooBigToEcho> {
    scf_bootstrap::log(&[event, b"\n"]);
    out.write(b"Echoing request: '")
        .and_then(|()| out.write(event))
        .and_then(|()| out.write(b"'"))
        .map_err(|why| TooBigToEcho(event.len(), why))
}

/// The demo's error: the echo of an event of this many bytes was refused.
/// A [`scf_bootstrap::Message`], which writes its own text, rather than a
/// `Display` type: `core::fmt` stays out of the binary.
#[cfg(scf_demo)]
struct TooBigToEcho(usize, scf_bootstrap::WriteError);

#[cfg(scf_demo)]
impl scf_bootstrap::Message for TooBigToEcho {
    // Out of line: inlined into the handler, the error path's registers
    // cost every successful call a push and a pop.
    #[inline(never)]
    fn write_message(&self, out: &mut scf_bootstrap::Response) {
        let _ = out
            .write(b"the echo of a ")
            .and_then(|()| out.write(itoa::Buffer::new().format(self.0).as_bytes()))
            .and_then(|()| {
                out.write(match self.1 {
                    scf_bootstrap::WriteError::TooLarge => b"-byte event exceeds SCF's 6 MB response limit",
                    scf_bootstrap::WriteError::NoMemory => {
                        b"-byte event ran out of memory (it is within SCF's 6 MB limit)"
                    }
                })
            });
    }
}

#[cfg(scf_demo)]
scf_bootstrap::handler!(main_handler);
