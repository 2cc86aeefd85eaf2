//! What a build needs beyond cargo, each found here or named in one line:
//! the Rust musl target (installed with `rustup target add`, saying so,
//! whatever rustup's auto-install setting), the Zig compiler, the aarch64
//! link driver.

use crate::elf::Arch;
use crate::{Fatal, Msg};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `program` on the PATH, if it is there.
pub fn on_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|p| p.is_file());
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// Whether `program args` runs and succeeds.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// The rustc that cargo in `dir` would use: `RUSTC`, else `rustc` (with
/// rustup, the toolchain chosen for `dir`).
fn rustc() -> String {
    std::env::var("RUSTC").ok().filter(|r| !r.is_empty()).unwrap_or_else(|| "rustc".into())
}

/// Whether the Rust standard library for `triple` is in rustc's sysroot.
fn has_target(dir: &Path, triple: &str) -> Result<bool, Fatal> {
    let out = Command::new(rustc()).args(["--print", "sysroot"]).current_dir(dir).output();
    let sysroot = match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("no output");
            return Err(Fatal::new(format!("`{} --print sysroot` failed: {first}", rustc())));
        }
        Err(e) => return Err(Fatal::new(format!("cannot run {}: {e} (install Rust: https://rustup.rs)", rustc()))),
    };
    let lib = sysroot.join("lib/rustlib").join(triple).join("lib");
    let has_core = std::fs::read_dir(&lib)
        .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
        .unwrap_or(false);
    Ok(has_core)
}

/// Makes sure rustc has the standard library for `arch`'s musl target,
/// installing it with `rustup target add` (one line says so) when it is
/// missing. rustup installs the targets a rust-toolchain.toml names only
/// when its auto-install is on; outside such a directory, and with
/// `RUSTUP_AUTO_INSTALL=0`, nothing does, and the build would fail with
/// "can't find crate for `core`".
pub fn ensure_target(dir: &Path, arch: Arch, msg: &Msg) -> Result<(), Fatal> {
    let triple = arch.triple();
    if has_target(dir, triple)? {
        return Ok(());
    }
    if !runs("rustup", &["--version"]) {
        return Err(Fatal::new(format!(
            "the Rust target {triple} is not installed, and there is no rustup to install it: \
             add the target to your Rust toolchain (with rustup: rustup target add {triple})"
        )));
    }
    msg.say(&format!("the Rust target {triple} is not installed: running `rustup target add {triple}`"));
    let status = Command::new("rustup").args(["target", "add", triple]).current_dir(dir).status();
    match status {
        Ok(s) if s.success() && has_target(dir, triple)? => Ok(()),
        Ok(s) if s.success() => Err(Fatal::new(format!(
            "`rustup target add {triple}` succeeded but {} still has no {triple} library \
             (is RUSTC set to another toolchain?)",
            rustc()
        ))),
        Ok(s) => Err(Fatal::new(format!("`rustup target add {triple}` failed ({s}): its output is above"))),
        Err(e) => Err(Fatal::new(format!("cannot run rustup: {e}"))),
    }
}

/// The link driver the aarch64 build names (the runtime's
/// .cargo/config.toml: Rust brings musl, Debian's cross gcc links it), when
/// this host is not aarch64 itself.
pub fn ensure_link_driver(arch: Arch) -> Result<(), Fatal> {
    if arch != Arch::Aarch64 || std::env::consts::ARCH == "aarch64" || on_path("aarch64-linux-gnu-gcc").is_some() {
        return Ok(());
    }
    Err(Fatal::new(
        "the aarch64 build links with aarch64-linux-gnu-gcc, which is not on PATH: \
         apt-get install gcc-aarch64-linux-gnu (Rust brings the musl C library)",
    ))
}

/// Where the Zig compiler is looked for, in order.
pub const ZIG_PLACES: &str = "$ZIG, `zig` on PATH, `python3 -m ziglang` (PyPI's ziglang)";

/// The Zig compiler as a command (program and leading arguments): `ZIG` (a
/// command, split on spaces), else `zig` on the PATH, else PyPI's
/// (`python3 -m ziglang`).
pub fn zig_command() -> Result<Vec<String>, Fatal> {
    if let Ok(z) = std::env::var("ZIG") {
        let words: Vec<String> = z.split_whitespace().map(String::from).collect();
        if words.is_empty() {
            return Err(Fatal::new("ZIG is set but empty: set it to the Zig compiler (e.g. ZIG=/opt/zig/zig)"));
        }
        return Ok(words);
    }
    if runs("zig", &["version"]) {
        return Ok(vec!["zig".into()]);
    }
    if runs("python3", &["-m", "ziglang", "version"]) {
        return Ok(vec!["python3".into(), "-m".into(), "ziglang".into()]);
    }
    Err(Fatal::new(format!("a Zig handler needs the Zig compiler: pip install ziglang (looked for {ZIG_PLACES})")))
}
