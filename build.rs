//! Links the user's native handlers into the `bootstrap` binary.
//!
//! `SCF_HANDLER_LIBS` is a `:`-separated list of paths:
//! - `*.o`: an object file, linked as is;
//! - `*.a`: a static archive, linked whole (`--whole-archive`), because its
//!   handlers are found through their `scf_handlers` section records, which
//!   no symbol reference would pull in;
//! - `*.c`: a C source, compiled here for the target being built, against
//!   musl and `include/scf_bootstrap.h`, with `SCF_HANDLER_CFLAGS`. The
//!   compiler is the first of: `CC_<target>` (`CC_aarch64_unknown_linux_musl`
//!   or `CC_aarch64-unknown-linux-musl`, as the `cc` crate spells it);
//!   `<arch>-linux-musl-gcc` (a musl cross toolchain); `musl-gcc` when it
//!   compiles for the target's architecture (Debian's musl-tools wraps the
//!   host's gcc); `zig cc -target <arch>-linux-musl`, with Zig found as
//!   scripts/package finds it (`ZIG`, then `python3 -m ziglang` from PyPI's
//!   ziglang, then `zig` on the PATH). Nothing else: the host's `cc` would
//!   compile against glibc's headers, and the link would fail later, or
//!   not, on glibc-only symbols (`__snprintf_chk` under `_FORTIFY_SOURCE`).
//!   With none of them, the build stops with one line saying what to
//!   install. Every object linked in (compiled here, given as `.o`, or the
//!   first in a `.a`) must be an ELF object for the target's machine.
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
    let target = env::var("TARGET").expect("TARGET");
    for var in ["SCF_HANDLER_LIBS", "SCF_HANDLER_CFLAGS", "SCF_HANDLER_DIR", "ZIG"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    for var in cc_vars(&target) {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=include/scf_bootstrap.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=SCF_KEEP_UNWIND_TABLES");
    // SCF_KEEP_UNWIND_TABLES=1 keeps them (for scripts/size --ablate).
    if target.contains("musl") && env::var_os("SCF_KEEP_UNWIND_TABLES").is_none() {
        trim_unwind_tables(&out);
    }
    let libs = env::var("SCF_HANDLER_LIBS").unwrap_or_default();
    let paths: Vec<&str> = libs.split(':').filter(|s| !s.trim().is_empty()).collect();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("CARGO_CFG_TARGET_ARCH");
    if paths.is_empty() {
        println!("cargo:rustc-cfg=scf_demo");
        // On aarch64, compiler_builtins' outline atomics (used by the crash
        // reports' atomic swap) ask the C library's getauxval whether the
        // CPU has LSE atomics, and rustc names libc before compiler_builtins:
        // name it again after.
        if arch == "aarch64" && target.contains("musl") {
            link_arg("-lc");
        }
        return;
    }
    let base =
        env::var_os("SCF_HANDLER_DIR").map(PathBuf::from).unwrap_or_else(|| env::current_dir().expect("current dir"));
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut cc = None;
    for (i, p) in paths.iter().enumerate() {
        let path = base.join(p.trim());
        if !path.exists() {
            fail(&format!("SCF_HANDLER_LIBS names {}, which does not exist", path.display()));
        }
        if !path.is_file() {
            fail(&format!("SCF_HANDLER_LIBS names {}, which is not a file", path.display()));
        }
        println!("cargo:rerun-if-changed={}", path.display());
        match path.extension().and_then(|e| e.to_str()) {
            Some("o") => {
                check_machine(&path, &arch, &target);
                link_arg(&path.display().to_string());
            }
            Some("a") => {
                check_archive(&path, &arch, &target);
                link_arg("-Wl,--whole-archive");
                link_arg(&path.display().to_string());
                link_arg("-Wl,--no-whole-archive");
            }
            Some("c") => {
                let obj = out.join(format!("handler{i}.o"));
                let cc = cc.get_or_insert_with(|| find_cc(&target, &arch, &out));
                compile_c(cc, &path, &obj, &manifest.join("include"));
                check_machine(&obj, &arch, &target);
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
    // On aarch64, `long double` is IEEE binary128 in software, and musl's
    // printf family converts through it (__addtf3, __extenddftf2, ...).
    // Those come from the compiler's support library, which rustc put before
    // the `-lc` above: name libgcc again after it (the cross gcc that links
    // aarch64 has it). x86_64's long double is the x87 type, in hardware.
    if arch == "aarch64" {
        link_arg("-lgcc");
    }
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
/// crates), what `scripts/size --ablate` measures as "build.rs: discard
/// unwind tables" (docs/size.md, "What each build setting saves"). This linker-script
/// fragment, added to (not replacing) the default script, discards them,
/// except in crtbegin*.o/crtend*.o (crtbeginS.o for static-PIE), whose
/// start-up code refers to its own frame table by symbol. It also drops the
/// `.comment` section.
fn trim_unwind_tables(out: &Path) {
    let script = out.join("discard-unwind-tables.ld");
    let text = "SECTIONS {\n  /DISCARD/ : { *(EXCLUDE_FILE(*crtbegin*.o *crtend*.o) .eh_frame) *(.comment) }\n}\nINSERT AFTER .text;\n";
    std::fs::write(&script, text).expect("write linker script");
    // For every linked target of this package, and for the binaries of the
    // crates that depend on it (published). `-T<file>`, joined: the C
    // compiler drivers (gcc, clang, zig cc) pass it on to the linker, and GNU
    // ld and lld, called directly, take it as it is (`-Wl,-T,<file>` works
    // only through a driver; rust-lld as the linker refuses it).
    let arg = format!("-T{}", script.display());
    println!("cargo:rustc-link-arg={arg}");
    publish(&arg);
}

/// The C compiler settings `cc` reads for `target`, both spellings.
fn cc_vars(target: &str) -> [String; 2] {
    [format!("CC_{target}"), format!("CC_{}", target.replace('-', "_"))]
}

/// A C compiler command: the program, its leading arguments, and settings
/// for its environment.
struct Cc {
    words: Vec<String>,
    env: Vec<(&'static str, PathBuf)>,
}

impl Cc {
    fn new(words: Vec<String>) -> Cc {
        Cc { words, env: Vec::new() }
    }
}

/// A C compiler that produces musl objects for `arch` (see the module doc
/// for the order).
fn find_cc(target: &str, arch: &str, out: &Path) -> Cc {
    for var in cc_vars(target) {
        if let Ok(cc) = env::var(&var) {
            let words: Vec<String> = cc.split_whitespace().map(String::from).collect();
            if words.is_empty() {
                fail(&format!("{var} is set but empty"));
            }
            return Cc::new(words);
        }
    }
    let cross = format!("{arch}-linux-musl-gcc");
    if runs(&cross, &["--version"]) {
        return Cc::new(vec![cross]);
    }
    // musl-gcc is the host's gcc with musl's headers and libraries: it
    // compiles for the architecture it prints.
    if let Some(machine) = output_of("musl-gcc", &["-dumpmachine"]) {
        if machine.split('-').next() == Some(arch) {
            return Cc::new(vec!["musl-gcc".into()]);
        }
    }
    if let Some(mut words) = find_zig() {
        words.extend(["cc".into(), "-target".into(), format!("{arch}-linux-musl")]);
        // Zig keeps a cache beside the sources unless told otherwise.
        let env = [("ZIG_LOCAL_CACHE_DIR", "zig-cache"), ("ZIG_GLOBAL_CACHE_DIR", "zig-global-cache")]
            .into_iter()
            .filter(|(var, _)| env::var_os(var).is_none())
            .map(|(var, dir)| (var, out.join(dir)))
            .collect();
        return Cc { words, env };
    }
    let musl_tools = if env::var("HOST").is_ok_and(|h| h.starts_with(&format!("{arch}-"))) {
        "musl-gcc (Debian/Ubuntu: apt-get install musl-tools), "
    } else {
        ""
    };
    fail(&format!(
        "no C compiler for {target} to build the C handlers: install {musl_tools}Zig (pip install ziglang) \
         or {arch}-linux-musl-gcc, or set CC_{}",
        target.replace('-', "_")
    ))
}

/// The Zig compiler, looked for as scripts/package does: `ZIG` (a command,
/// split on spaces), PyPI's ziglang (`python3 -m ziglang`), `zig`.
fn find_zig() -> Option<Vec<String>> {
    if let Ok(zig) = env::var("ZIG") {
        let words: Vec<String> = zig.split_whitespace().map(String::from).collect();
        if words.is_empty() {
            fail("ZIG is set but empty");
        }
        return Some(words);
    }
    [&["python3", "-m", "ziglang"][..], &["zig"]].into_iter().find_map(|cmd| {
        runs(cmd[0], &[&cmd[1..], &["version"]].concat()).then(|| cmd.iter().map(|s| s.to_string()).collect())
    })
}

/// Whether `program args` runs and exits with success.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// What `program args` prints, if it runs and succeeds.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(program).args(args).output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn compile_c(cc: &Cc, src: &Path, obj: &Path, include: &Path) {
    let mut cmd = Command::new(&cc.words[0]);
    cmd.args(&cc.words[1..]).envs(cc.env.iter().map(|(k, v)| (k, v)));
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
    let shown = cc.words.join(" ");
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{shown} failed ({s}) compiling {}", src.display())),
        Err(e) => fail(&format!("cannot run the C compiler {shown}: {e}")),
    }
}

/// Stops the build unless `obj` is a 64-bit little-endian ELF file for
/// `arch`: an object for another machine would otherwise fail later, in
/// the linker, with a message about relocations or file formats.
fn check_machine(obj: &Path, arch: &str, target: &str) {
    let mut head = [0u8; 20];
    let read = std::fs::File::open(obj).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    if read.is_err() {
        fail(&format!("{} is not a 64-bit little-endian ELF object, as {target} needs", obj.display()));
    }
    check_elf_head(&head, &obj.display().to_string(), arch, target);
}

/// The same check for the first ELF member of the static archive `lib`
/// (a Unix `ar` file: an 8-byte magic, then members, each after a 60-byte
/// header whose bytes 48..58 give its size in decimal, padded to even).
fn check_archive(lib: &Path, arch: &str, target: &str) {
    let data = std::fs::read(lib).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", lib.display())));
    if !data.starts_with(b"!<arch>\n") {
        fail(&format!("{} is not a static archive (no `!<arch>` header)", lib.display()));
    }
    let mut at = 8;
    while at + 60 <= data.len() {
        let size = std::str::from_utf8(&data[at + 48..at + 58]).ok().and_then(|s| s.trim().parse::<usize>().ok());
        let Some(size) = size.filter(|n| at + 60 + n <= data.len()) else {
            fail(&format!("{} is a damaged archive (bad member header at byte {at})", lib.display()))
        };
        let member = &data[at + 60..at + 60 + size];
        if member.starts_with(b"\x7fELF") && member.len() >= 20 {
            return check_elf_head(member, &lib.display().to_string(), arch, target);
        }
        at += 60 + size + size % 2;
    }
}

/// The ELF identification and machine of an object's first 20 bytes.
fn check_elf_head(head: &[u8], name: &str, arch: &str, target: &str) {
    let want: u16 = match arch {
        "x86_64" => 62,
        "aarch64" => 183,
        _ => return,
    };
    if &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        fail(&format!("{name} is not a 64-bit little-endian ELF object, as {target} needs"));
    }
    let machine = u16::from_le_bytes([head[18], head[19]]);
    if machine != want {
        let what = match machine {
            62 => "x86_64",
            183 => "aarch64",
            _ => "another architecture",
        };
        fail(&format!("{name} is built for ELF machine {machine} ({what}), not {arch} ({want}) as {target} needs"));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: scf-bootstrap build: {msg}");
    exit(1)
}
