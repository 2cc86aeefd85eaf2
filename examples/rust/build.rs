//! Link settings that the runtime's own build script applies to its
//! `bootstrap`, repeated here because a dependency's link arguments do not
//! reach its dependents' binaries.
//!
//! With `panic = "abort"` nothing unwinds, yet the precompiled `core` and
//! musl's `libc.a` bring `.eh_frame` tables for every function they
//! contribute (`-C force-unwind-tables=no` covers only the crates built
//! here). This fragment, added to the linker's default script rather than
//! replacing it, discards them (except in crtbegin.o/crtend.o, whose
//! start-up code names its frame table) and the `.comment` section: about
//! 4 KiB of the binary.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if !env::var("TARGET").is_ok_and(|t| t.contains("musl")) {
        return;
    }
    let script = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("discard-unwind-tables.ld");
    let text = "SECTIONS {\n  /DISCARD/ : { *(EXCLUDE_FILE(*crtbegin.o *crtend.o) .eh_frame) *(.comment) }\n}\nINSERT AFTER .text;\n";
    fs::write(&script, text).expect("write linker script");
    // Joined `-T<file>`: gcc, clang and zig cc pass it to the linker, and
    // GNU ld and lld take it directly (lld refuses `-Wl,-T,<file>`).
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
}
