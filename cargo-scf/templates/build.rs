//! Passes on the link arguments of the runtime crate, `scf-bootstrap`, to
//! this crate's `bootstrap`: a dependency's link arguments never reach its
//! dependents' binaries by themselves, so the runtime's build script
//! publishes them (`DEP_SCF_BOOTSTRAP_LINK_ARG_0`, `_1`, ...) and this one
//! re-emits them. Today they are the linker script that discards unwind
//! tables (about 4 KiB) and, when `SCF_HANDLER_LIBS` names C handlers or
//! objects, those and the C library after them; what they are is decided in
//! the runtime's build.rs alone.
//!
//! `cargo scf new` writes this file into every Rust and C project.
fn main() {
    for i in 0.. {
        match std::env::var(format!("DEP_SCF_BOOTSTRAP_LINK_ARG_{i}")) {
            Ok(arg) => println!("cargo:rustc-link-arg-bins={arg}"),
            Err(_) => break,
        }
    }
}
