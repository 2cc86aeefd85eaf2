//! Compiles src/handler.zig to an object for the target's musl and links it
//! into `bootstrap`, then passes on the link arguments of the runtime
//! crate, scf-bootstrap (its build script publishes them as
//! `DEP_SCF_BOOTSTRAP_LINK_ARG_<n>`: a dependency's link arguments never
//! reach a dependent's binary by themselves).
//!
//! The Zig compiler: $ZIG (a command, split on spaces), else `zig` on the
//! PATH, else the one from PyPI (`python3 -m ziglang`; pip install ziglang).
//! The flags are cargo-scf's for Zig handlers, written here by `cargo scf
//! new`: no stack probes, no UBSan calls and no PIC, each of which would
//! leave symbols or relocations the static link cannot take.
use std::env;
use std::path::PathBuf;
use std::process::{exit, Command};

const ZIG_FLAGS: &[&str] = &[
@ZIG_FLAGS@
];

fn main() {
    println!("cargo:rerun-if-changed=src/handler.zig");
    println!("cargo:rerun-if-changed=src/scf_bootstrap.zig");
    println!("cargo:rerun-if-env-changed=ZIG");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH");
    let obj = out.join("handler.o");
    let mut zig = zig_command();
    let program = zig.remove(0);
    let status = Command::new(&program)
        .args(&zig)
        .arg("build-obj")
        .args(["-target", &format!("{arch}-linux-musl")])
        .args(ZIG_FLAGS)
        .arg(format!("-femit-bin={}", obj.display()))
        .arg("src/handler.zig")
        // Zig's caches in the target directory, not beside the source.
        .env("ZIG_LOCAL_CACHE_DIR", out.join("zig-cache"))
        .env("ZIG_GLOBAL_CACHE_DIR", out.join("zig-global-cache"))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{program} build-obj src/handler.zig failed ({s}); its output is above")),
        Err(e) => fail(&format!("cannot run the Zig compiler {program}: {e} (pip install ziglang, or set ZIG)")),
    }
    println!("cargo:rustc-link-arg-bins={}", obj.display());
    // The C library again, after the object, for what it calls in libc.
    println!("cargo:rustc-link-arg-bins=-lc");
    for i in 0.. {
        match env::var(format!("DEP_SCF_BOOTSTRAP_LINK_ARG_{i}")) {
            Ok(arg) => println!("cargo:rustc-link-arg-bins={arg}"),
            Err(_) => break,
        }
    }
}

/// Whether `program args` runs and succeeds.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

fn zig_command() -> Vec<String> {
    if let Some(z) = env::var("ZIG").ok().filter(|z| !z.trim().is_empty()) {
        return z.split_whitespace().map(String::from).collect();
    }
    if runs("zig", &["version"]) {
        return vec!["zig".into()];
    }
    if runs("python3", &["-m", "ziglang", "version"]) {
        return vec!["python3".into(), "-m".into(), "ziglang".into()];
    }
    fail("no Zig compiler to build src/handler.zig: pip install ziglang (looked for $ZIG, `zig` on PATH, `python3 -m ziglang`)")
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1)
}
