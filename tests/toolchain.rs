//! How build.rs builds a bootstrap with C handlers: a C compiler for the
//! target's musl or a one-line error saying what to install (never the
//! host's glibc `cc`), objects checked for the target's machine, and a
//! linker-script argument that GNU ld and lld both take.

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `cargo build --release --target TARGET` of the bootstrap in its own
/// target directory (these builds must not disturb target/it's), with
/// `SCF_HANDLER_LIBS=handlers` and the C compiler and Zig settings of the
/// caller's environment removed.
fn cargo_build(dir: &str, target: &str, handlers: &str, env: &[(&str, &str)]) -> (Output, PathBuf) {
    let target_dir = root().join("target/it").join(dir);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root())
        .args(["build", "--quiet", "--release", "--target", target, "-p", "scf-bootstrap", "--bin", "bootstrap"])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("SCF_HANDLER_LIBS", handlers)
        .env_remove("ZIG");
    for t in [X86_64, AARCH64] {
        cmd.env_remove(format!("CC_{t}")).env_remove(format!("CC_{}", t.replace('-', "_")));
    }
    cmd.envs(env.iter().copied());
    (cmd.output().expect("run cargo"), target_dir.join(target).join("release/bootstrap"))
}

/// A PATH with cargo, rustc and the host's `cc`, `as` and `ld` (which build
/// the build scripts, and would compile a C handler against glibc if
/// build.rs let them), and nothing else: no musl-gcc, no python3 (so no
/// PyPI Zig), no zig.
fn bare_path() -> String {
    let bin = root().join("target/it/bare-path");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["cc", "as", "ld"] {
        let real = fs::canonicalize(Path::new("/usr/bin").join(tool))
            .expect("the host's cc, as and ld (Debian: gcc, binutils)");
        let link = bin.join(tool);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(real, &link).unwrap();
    }
    let cargo = PathBuf::from(std::env::var("CARGO").expect("CARGO is set by cargo test"));
    let tools = cargo.parent().unwrap();
    assert!(tools.join("rustc").exists(), "no rustc next to {}", cargo.display());
    for tool in ["musl-gcc", "python3", "zig", "x86_64-linux-musl-gcc", "aarch64-linux-musl-gcc"] {
        assert!(!tools.join(tool).exists(), "{tool} is next to cargo in {}", tools.display());
    }
    format!("{}:{}", bin.display(), tools.display())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The line build.rs printed (cargo wraps it in its own report).
fn build_error(o: &Output) -> Vec<String> {
    assert!(!o.status.success(), "the build succeeded:\n{}", stderr(o));
    stderr(o).lines().filter(|l| l.contains("error: scf-bootstrap build: ")).map(|l| l.trim().to_string()).collect()
}

#[test]
fn without_a_musl_c_compiler_the_build_stops_with_what_to_install() {
    let path = bare_path();
    let (o, _) = cargo_build("bare-x86_64", X86_64, "tests/c/handlers.c", &[("PATH", &path)]);
    assert_eq!(
        build_error(&o),
        [concat!(
            "error: scf-bootstrap build: no C compiler for x86_64-unknown-linux-musl to build the C handlers: ",
            "install musl-gcc (Debian/Ubuntu: apt-get install musl-tools), Zig (pip install ziglang) ",
            "or x86_64-linux-musl-gcc, or set CC_x86_64_unknown_linux_musl"
        )],
        "{}",
        stderr(&o)
    );
    // musl-tools is for the host's architecture only: not offered for aarch64.
    let (o, _) = cargo_build("bare-aarch64", AARCH64, "tests/c/handlers.c", &[("PATH", &path)]);
    assert_eq!(
        build_error(&o),
        [concat!(
            "error: scf-bootstrap build: no C compiler for aarch64-unknown-linux-musl to build the C handlers: ",
            "install Zig (pip install ziglang) or aarch64-linux-musl-gcc, or set CC_aarch64_unknown_linux_musl"
        )],
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_object_for_another_machine_is_refused_by_name() {
    // CC_<target> comes first, even when it is wrong: musl-gcc compiles for
    // x86_64, and the object is refused before the link.
    let (o, _) =
        cargo_build("wrong-machine", AARCH64, "tests/c/handlers.c", &[("CC_aarch64_unknown_linux_musl", "musl-gcc")]);
    let lines = build_error(&o);
    assert_eq!(lines.len(), 1, "{}", stderr(&o));
    assert!(
        lines[0].ends_with(
            "handler0.o is built for ELF machine 62 (x86_64), not aarch64 (183) as aarch64-unknown-linux-musl needs"
        ),
        "{}",
        lines[0]
    );
    // A ready-made .o is checked the same way.
    let obj = root().join("target/it/wrong-machine/x86.o");
    let cc = Command::new("musl-gcc")
        .args(["-c", "-I"])
        .arg(root().join("include"))
        .arg(root().join("tests/c/handlers.c"))
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("run musl-gcc (Debian package musl-tools)");
    assert!(cc.success());
    // And a static archive, by its first object.
    let lib = obj.with_extension("a");
    let _ = fs::remove_file(&lib);
    let ar = Command::new("ar").arg("rcs").arg(&lib).arg(&obj).status().expect("run ar (binutils)");
    assert!(ar.success());
    for given in [&obj, &lib] {
        let (o, _) = cargo_build("wrong-machine", AARCH64, given.to_str().unwrap(), &[]);
        assert_eq!(
            build_error(&o),
            [format!(
                "error: scf-bootstrap build: {} is built for ELF machine 62 (x86_64), not aarch64 (183) as \
                 aarch64-unknown-linux-musl needs",
                given.display()
            )]
        );
    }
    // The same archive is what an x86_64 build takes.
    let (o, _) = cargo_build("right-machine", X86_64, lib.to_str().unwrap(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A handler path that is not there is said to be missing, not "not a
/// file" (which a directory gets).
#[test]
fn a_missing_handler_does_not_exist() {
    for (given, what) in [("tests/c/no-such.c", "does not exist"), ("tests/c", "is not a file")] {
        let (o, _) = cargo_build("missing-handler", X86_64, given, &[]);
        let path = root().join(given);
        assert_eq!(
            build_error(&o),
            [format!("error: scf-bootstrap build: SCF_HANDLER_LIBS names {}, which {what}", path.display())]
        );
    }
}

fn answers_the_guide_echo(bin: &Path) {
    let api = api(Quirks::default());
    let _p = spawn(bin, &api, "index.main_handler");
    let event = GUIDE_EVENT;
    assert_eq!(invoke_ok(&api, event), echo_of(event));
}

/// rust-lld as the linker itself, not behind a C compiler driver: it takes
/// the unwind-table script (as `-T<file>`), and the binary answers.
#[test]
fn links_with_rust_lld_called_directly() {
    // RUSTFLAGS replaces .cargo/config.toml's flags, which are written for a
    // gcc driver (-Wl,...): the same settings in lld's own spelling.
    let flags = "-C linker=rust-lld -C linker-flavor=ld.lld -C relocation-model=static \
                 -C link-arg=--build-id=none -C link-arg=-znoseparate-code -C link-arg=-znorelro";
    let (o, bin) = cargo_build("rust-lld", X86_64, "", &[("RUSTFLAGS", flags)]);
    assert!(o.status.success(), "linking with rust-lld failed:\n{}", stderr(&o));
    let eh_frame = section_size(&bin, ".eh_frame").unwrap_or(0);
    assert!(eh_frame <= 128, "the unwind tables were kept: .eh_frame of {eh_frame} bytes");
    answers_the_guide_echo(&bin);
}
