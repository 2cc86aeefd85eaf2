//! Links the user's native handlers into the `bootstrap` binary.
//!
//! `SCF_HANDLER_LIBS` is a `:`-separated list of paths:
//! - `*.o`: an object file, linked as is;
//! - `*.a`: a static archive, linked whole (`--whole-archive`), because its
//!   handlers are found through their `scf_handlers` section records, which
//!   no symbol reference would pull in;
//! - `*.c`: a C source, compiled here with the musl-targeting C compiler
//!   (`CC_x86_64_unknown_linux_musl`, else `musl-gcc`, else `cc`) and
//!   `SCF_HANDLER_CFLAGS`, against `include/scf_bootstrap.h`.
//!
//! Relative paths are taken from the directory `cargo` was started in
//! (`SCF_HANDLER_DIR` overrides it). With the variable unset or empty, the
//! built-in echo demo (src/main.rs, `cfg(scf_demo)`) is the handler.
//!
//! Every link argument meant for the `bootstrap` binary is also passed on
//! to the crates that depend on this one (a handler crate building its own
//! `bootstrap`), since a dependency's link arguments never reach them: the
//! package declares `links = "scf_bootstrap"`, and [`link_arg`] publishes
//! each argument as `DEP_SCF_BOOTSTRAP_LINK_ARG_<n>` to their build scripts,
//! which re-emit them (examples/rust/build.rs, the file scripts/new-function
//! writes).
//!
//! This script uses only std, so it adds nothing to the dependency tree.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

fn main() {
    println!("cargo:rustc-check-cfg=cfg(scf_demo)");
    for var in ["SCF_HANDLER_LIBS", "SCF_HANDLER_CFLAGS", "SCF_HANDLER_DIR", "CC_x86_64_unknown_linux_musl"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=include/scf_bootstrap.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=SCF_KEEP_UNWIND_TABLES");
    // SCF_KEEP_UNWIND_TABLES=1 keeps them (for scripts/size --ablate).
    if env::var("TARGET").is_ok_and(|t| t.contains("musl")) && env::var_os("SCF_KEEP_UNWIND_TABLES").is_none() {
        trim_unwind_tables(&out);
    }
    let libs = env::var("SCF_HANDLER_LIBS").unwrap_or_default();
    let paths: Vec<&str> = libs.split(':').filter(|s| !s.trim().is_empty()).collect();
    if paths.is_empty() {
        println!("cargo:rustc-cfg=scf_demo");
        return;
    }
    let base =
        env::var_os("SCF_HANDLER_DIR").map(PathBuf::from).unwrap_or_else(|| env::current_dir().expect("current dir"));
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    for (i, p) in paths.iter().enumerate() {
        let path = base.join(p.trim());
        if !path.is_file() {
            fail(&format!("SCF_HANDLER_LIBS names {}, which is not a file", path.display()));
        }
        println!("cargo:rerun-if-changed={}", path.display());
        match path.extension().and_then(|e| e.to_str()) {
            Some("o") => link_arg(&path.display().to_string()),
            Some("a") => {
                link_arg("-Wl,--whole-archive");
                link_arg(&path.display().to_string());
                link_arg("-Wl,--no-whole-archive");
            }
            Some("c") => {
                let obj = out.join(format!("handler{i}.o"));
                compile_c(&path, &obj, &manifest.join("include"));
                link_arg(&obj.display().to_string());
            }
            _ => fail(&format!("SCF_HANDLER_LIBS names {}: expected a .o, .a or .c file", path.display())),
        }
    }
    // The C library again, after the handlers: rustc puts `-lc` before
    // these link arguments, and a static archive only supplies what is
    // missing when the linker reaches it, so a handler calling something the
    // runtime itself does not (malloc, snprintf, getenv, ...) would
    // otherwise not link.
    link_arg("-lc");
}

/// Passes `arg` to the linker of this package's binaries and publishes it
/// for dependents (`DEP_SCF_BOOTSTRAP_LINK_ARG_0`, `_1`, ...; numbered, so
/// a path may hold any character but a newline).
fn link_arg(arg: &str) {
    println!("cargo:rustc-link-arg-bins={arg}");
    publish(arg);
}

/// Publishes `arg` for dependents only.
fn publish(arg: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    println!("cargo:link_arg_{}={arg}", N.fetch_add(1, Ordering::Relaxed));
}

/// With `panic = "abort"` nothing ever unwinds, yet the precompiled `core`
/// and musl's `libc.a` bring `.eh_frame` unwind tables for every function
/// they contribute (`-C force-unwind-tables=no` would cover only our own
/// crates): 4,920 bytes of the default build (scripts/size --ablate). This linker-script
/// fragment, added to (not replacing) the default script, discards them,
/// except in crtbegin*.o/crtend*.o (crtbeginS.o for static-PIE), whose
/// start-up code refers to its own frame table by symbol. It also drops the
/// `.comment` section.
fn trim_unwind_tables(out: &Path) {
    let script = out.join("discard-unwind-tables.ld");
    let text = "SECTIONS {\n  /DISCARD/ : { *(EXCLUDE_FILE(*crtbegin*.o *crtend*.o) .eh_frame) *(.comment) }\n}\nINSERT AFTER .text;\n";
    std::fs::write(&script, text).expect("write linker script");
    // For every linked target of this package, and for the binaries of the
    // crates that depend on it.
    let arg = format!("-Wl,-T,{}", script.display());
    println!("cargo:rustc-link-arg={arg}");
    publish(&arg);
}

fn compile_c(src: &Path, obj: &Path, include: &Path) {
    let cc = env::var("CC_x86_64_unknown_linux_musl").ok().unwrap_or_else(|| {
        if Command::new("musl-gcc").arg("--version").output().is_ok() {
            "musl-gcc".into()
        } else {
            "cc".into()
        }
    });
    let mut cmd = Command::new(&cc);
    cmd.args([
        "-c",
        "-Os",
        "-fno-asynchronous-unwind-tables",
        "-ffunction-sections",
        "-fdata-sections",
        "-fno-stack-protector",
        "-fno-pie",
        "-Wall",
        "-Wextra",
    ]);
    cmd.arg("-I").arg(include);
    if let Ok(flags) = env::var("SCF_HANDLER_CFLAGS") {
        cmd.args(flags.split_whitespace());
    }
    cmd.arg(src).arg("-o").arg(obj);
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{cc} failed ({s}) compiling {}", src.display())),
        Err(e) => fail(&format!("cannot run the C compiler {cc}: {e}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: scf-bootstrap build: {msg}");
    exit(1)
}
