//! The `bootstrap` executable: the runtime plus whatever handlers the build
//! linked in (see build.rs). With none, it is the SCF guide's echo demo.
#![no_std]
#![no_main]

scf_bootstrap::entry!();

/// The demo handler of Tencent's Custom Runtime guide: logs the event to
/// stderr and answers `Echoing request: '<event>'`.
#[cfg(scf_demo)]
fn main_handler(
    event: &[u8],
    _ctx: &scf_bootstrap::Context,
    out: &mut scf_bootstrap::Response,
) -> Result<(), scf_bootstrap::TooLarge> {
    scf_bootstrap::log(&[event, b"\n"]);
    out.write(b"Echoing request: '")?;
    out.write(event)?;
    out.write(b"'")
}

#[cfg(scf_demo)]
scf_bootstrap::handler!(main_handler);
