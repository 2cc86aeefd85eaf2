//! `scripts/new-function`: a project made outside the repository, in each
//! language, builds with a plain `cargo build --release` in its directory,
//! is packaged by `scripts/package` and answers under `scf-emulator invoke`.
//!
//! The projects live in the system's temporary directory, so that nothing
//! of this repository's `.cargo/config.toml` applies to them: what the
//! runtime's link needs must come from the `scf-bootstrap` dependency (its
//! build script's published link arguments) or the generated files. The
//! binary is checked for each of those settings.
//!
//! Needs what tests/examples.rs needs (musl-gcc, python3, the Zig
//! toolchain), and binutils' readelf.

mod common;

use common::{emulator_bin, root, run_package};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A fresh directory under the system's temporary directory, outside the
/// repository, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("scf-new-function-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        assert!(!dir.starts_with(root()), "{} is inside the repository", dir.display());
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The project `made` (by scripts/new-function), copied into a directory
/// that is kept between runs, also outside the repository: only the files
/// that differ are written, and files the project no longer has are
/// removed, so the kept copy is always what new-function makes now. A
/// fresh directory each run would make its builds start over (cargo keys
/// a package's build on its path: the Zig handler, the runtime built with
/// the C handler, the std project's LTO), some two minutes of the test
/// suite; on the kept copy cargo rebuilds what the generated files change.
fn kept_copy(made: &Path, tag: &str) -> PathBuf {
    let checkout: String = root().display().to_string().chars().map(|c| if c == '/' { '_' } else { c }).collect();
    let kept = std::env::temp_dir().join(format!("scf-new-function-kept{checkout}")).join(tag);
    let dest = kept.join(made.file_name().unwrap());
    assert!(!dest.starts_with(root()), "{} is inside the repository", dest.display());
    fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                files(&path, base, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut want = Vec::new();
    files(made, made, &mut want);
    for rel in &want {
        let (from, to) = (made.join(rel), dest.join(rel));
        let text = fs::read(&from).unwrap();
        if fs::read(&to).ok().as_ref() != Some(&text) {
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::write(&to, &text).unwrap();
        }
    }
    if dest.is_dir() {
        let mut have = Vec::new();
        files(&dest, &dest, &mut have);
        // Cargo.lock: written by cargo build in the project, not by new-function.
        for rel in have.iter().filter(|r| !want.contains(r) && r.as_os_str() != "Cargo.lock") {
            fs::remove_file(dest.join(rel)).unwrap();
        }
    }
    dest
}

fn new_function(args: &[&str], cwd: &Path) -> Output {
    Command::new(root().join("scripts/new-function"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run scripts/new-function (needs python3)")
}

/// `readelf -hSW` of `bin`.
fn readelf(bin: &Path) -> String {
    let o = Command::new("readelf").arg("-hSW").arg(bin).output().expect("run readelf (binutils)");
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

/// The size of section `name` in `readelf -SW` output, if it is there.
fn section_size(elf: &str, name: &str) -> Option<u64> {
    elf.lines().find_map(|l| {
        let l = l.split_once(']').map(|(_, rest)| rest)?;
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&name)).then(|| u64::from_str_radix(f[4], 16).unwrap())
    })
}

/// The settings of the runtime's own build, each visible in the binary:
/// non-PIE (relocation-model=static), no build-id note, no .comment and
/// only crtbegin's few bytes of .eh_frame (the runtime's linker script).
fn assert_built_like_the_runtime(bin: &Path, what: &str) {
    let elf = readelf(bin);
    assert!(elf.contains("Type:                              EXEC"), "{what}: not a plain static executable:\n{elf}");
    assert_eq!(section_size(&elf, ".note.gnu.build-id"), None, "{what}: has a build-id note");
    assert_eq!(section_size(&elf, ".comment"), None, "{what}: has .comment (the linker script did not apply)");
    let eh = section_size(&elf, ".eh_frame").unwrap_or(0);
    assert!(eh < 0x100, "{what}: {eh} bytes of .eh_frame: the unwind tables were not discarded");
    assert!(!elf.contains("INTERP"), "{what}: dynamically linked");
}

struct Invoked {
    ret_msg: String,
    request_id: String,
}

fn invoke(zip: &Path, event: &Path) -> Invoked {
    let out = Command::new(emulator_bin()).arg("invoke").arg(zip).arg("--event").arg(event).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "invoke {} failed:\n{text}{}", zip.display(), String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = &v["Result"];
    assert_eq!(r["InvokeResult"], 0, "{text}");
    Invoked {
        ret_msg: r["RetMsg"].as_str().unwrap().into(),
        request_id: r["FunctionRequestId"].as_str().unwrap().into(),
    }
}

fn package(args: &[&str], zip: &Path) {
    let o = run_package(args, zip);
    assert!(o.status.success(), "scripts/package {args:?}:\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "a warning for a bootstrap of this runtime: {}", String::from_utf8_lossy(&o.stderr));
}

/// One language end to end: create (with `extra` arguments), `cargo build
/// --release` in the project, check the binary, package, invoke, and
/// compare the answer with `expected(event, request id)`.
fn project_builds_packages_and_answers(lang: &str, extra: &[&str], expected: impl Fn(&str, &str) -> String) {
    let tag = if extra.is_empty() { lang.to_string() } else { format!("{lang}-std") };
    let tmp = TempDir::new(&tag);
    let name = format!("hello-{tag}");
    let o = new_function(&[&[&name, "--lang", lang][..], extra].concat(), &tmp.0);
    assert!(o.status.success(), "new-function: {}", String::from_utf8_lossy(&o.stderr));
    let made = tmp.0.join(&name);
    let dir = kept_copy(&made, &tag);
    let what = if extra.is_empty() { lang.to_string() } else { format!("{lang} (std)") };
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(&format!("created {what} function {name} in {name}\n")));

    // As a user builds it: in its directory, no target or flags given. The
    // target directory is kept, one per kind of project, only to reuse the
    // compiled dependencies (the runtime is built with other features or
    // handlers for each kind).
    let target = root().join("target/it/new-function").join(&tag);
    // The binary's path is the same for every language: build and copy
    // under one lock.
    static BUILD: Mutex<()> = Mutex::new(());
    let guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let b = Command::new(cargo())
        .current_dir(&dir)
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("SCF_HANDLER_LIBS")
        .output()
        .expect("run cargo");
    assert!(b.status.success(), "cargo build in the {lang} project:\n{}", String::from_utf8_lossy(&b.stderr));
    let built = target.join("x86_64-unknown-linux-musl/release/bootstrap");
    let bin = tmp.0.join("bootstrap");
    fs::copy(&built, &bin).unwrap();
    drop(guard);
    assert_built_like_the_runtime(&bin, lang);

    let zip = tmp.0.join("function.zip");
    package(&["--bootstrap", bin.to_str().unwrap()], &zip);
    let event = dir.join("event.json");
    let inv = invoke(&zip, &event);
    assert_eq!(inv.ret_msg, expected(&fs::read_to_string(&event).unwrap(), &inv.request_id));
    // (The handlers' log line is not compared: the emulator gives a line
    // written just before the response only 5 ms to arrive, which a loaded
    // machine can miss; tests/examples.rs checks logging.)

    // scripts/package --handler DIR builds the project in its directory,
    // so the project's .cargo/config.toml applies there too.
    let zip2 = tmp.0.join("function2.zip");
    package(&["--handler", dir.to_str().unwrap()], &zip2);
    let again = invoke(&zip2, &event);
    assert_eq!(again.ret_msg, expected(&fs::read_to_string(&event).unwrap(), &again.request_id));
}

#[test]
fn rust_project_builds_packages_and_answers() {
    project_builds_packages_and_answers("rust", &[], |event, _| format!("Hello from Rust! You sent: {event}"));
}

#[test]
fn c_project_builds_packages_and_answers() {
    project_builds_packages_and_answers("c", &[], |event, _| format!("Hello from C! You sent: {event}"));
}

#[test]
fn zig_project_builds_packages_and_answers() {
    let zig = Command::new("python3").args(["-m", "ziglang", "version"]).output();
    assert!(
        matches!(zig, Ok(ref o) if o.status.success()),
        "the Zig toolchain is missing: `pip install ziglang` (tested with 0.17.1), or set ZIG=/path/to/zig"
    );
    project_builds_packages_and_answers("zig", &[], |event, _| format!("Hello from Zig! You sent: {event}"));
}

/// --std: serde_json reads the typed event (`{"name":"SCF"}`) and writes
/// the answer; the same link settings hold for the std binary.
#[test]
fn rust_std_project_reads_typed_events() {
    project_builds_packages_and_answers("rust", &["--std"], |event, id| {
        assert_eq!(event, r#"{"name":"SCF"}"#);
        format!(r#"{{"message":"Hello, SCF!","requestId":"{id}"}}"#)
    });
}

/// The dependency's source: this checkout by default, or a git repository
/// or a registry version, as cargo reads the manifest.
#[test]
fn scf_bootstrap_source_can_be_a_path_a_git_repository_or_a_version() {
    let tmp = TempDir::new("sources");
    let cases: [(&[&str], &str, &str); 4] = [
        (&["by-path"], "by-path", "path"),
        (&["by-git", "--git", "https://example.com/scf-bootstrap.git", "--rev", "0123abc"], "by-git", "git"),
        (&["by-tag", "--git", "https://example.com/scf-bootstrap.git", "--tag", "v0.1.0"], "by-tag", "git"),
        (&["by-version", "--version", "0.1"], "by-version", "version"),
    ];
    for (args, name, kind) in cases {
        let o = new_function(args, &tmp.0);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        let m = Command::new(cargo())
            .current_dir(tmp.0.join(name))
            .args(["metadata", "--no-deps", "--offline", "--format-version", "1"])
            .output()
            .unwrap();
        assert!(m.status.success(), "{args:?}: {}", String::from_utf8_lossy(&m.stderr));
        let v: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
        let dep = &v["packages"][0]["dependencies"][0];
        assert_eq!(dep["name"], "scf-bootstrap");
        assert_eq!(dep["uses_default_features"], false, "the project's `resolve` feature chooses");
        match kind {
            "path" => assert_eq!(dep["path"].as_str(), root().to_str(), "{dep}"),
            "git" => {
                let reference = if name == "by-git" { "rev=0123abc" } else { "tag=v0.1.0" };
                assert_eq!(dep["source"], format!("git+https://example.com/scf-bootstrap.git?{reference}"), "{dep}");
            }
            _ => {
                assert_eq!(dep["req"], "^0.1", "{dep}");
                assert!(dep["source"].as_str().unwrap().starts_with("registry+"), "{dep}");
            }
        }
    }
}

#[test]
fn bad_names_taken_directories_and_mixed_sources_are_refused() {
    let tmp = TempDir::new("refused");
    fs::create_dir_all(tmp.0.join("taken")).unwrap();
    fs::write(tmp.0.join("taken/file"), "").unwrap();
    for (args, message) in [
        (&["1fn"][..], "NAME '1fn': must start with a letter"),
        (&["fn_"][..], "NAME 'fn_': must end with a letter or a digit"),
        (&["taken"][..], "already exists and is not an empty directory"),
        (&["fn", "--git", "u", "--version", "1"][..], "name one source for scf-bootstrap"),
        (&["fn", "--rev", "1"][..], "--rev, --branch and --tag go with --git"),
        (&["fn", "--path", "/"][..], "--path /: no Cargo.toml there"),
        (&["fn", "--lang", "c", "--std"][..], "--std is for --lang rust"),
    ] {
        let o = new_function(args, &tmp.0);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("scripts/new-function: error: ") && err.contains(message), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    assert!(!tmp.0.join("fn").exists(), "a refused project left a directory");
}
