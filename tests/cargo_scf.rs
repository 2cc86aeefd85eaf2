//! `cargo scf` as a new user meets it: run through cargo itself (`cargo
//! scf ...`, cargo-scf found on PATH as `cargo install` would put it), from
//! directories outside this repository, with no path into it in any command.
//!
//! - The tour: a locally invoked C, Rust and Zig function, and a Lambda
//!   build that runs under a Lambda runtime API, each in at most five
//!   commands (counted here; the README's tour is checked to be the same
//!   commands).
//! - The projects build with a plain `cargo build --release` too, with
//!   every link setting of the runtime's own build (checked in the binary).
//! - The runtime crate as `cargo package` ships it builds a project.
//! - Every error on the way is one line that names the fix: a missing musl
//!   target (installed with rustup, saying so), Zig, a C compiler; a C
//!   compile error is shown without cargo's build-script noise.
//! - `run --watch` rebuilds on an edit; every help fits on one screen.
//!
//! The projects are made fresh by `cargo scf new` each run and copied onto
//! a kept copy in the system's temporary directory (only the files that
//! differ), so their own target/ directories survive between runs: a fresh
//! directory would rebuild the runtime (one LTO unit) each time. The copy
//! of the runtime crate cargo-scf unpacks goes to a kept directory too
//! (CARGO_SCF_CACHE; a user's is ~/.cache/cargo-scf).
//!
//! Needs what tests/examples.rs needs (musl-gcc, python3, the Zig
//! toolchain in .venv), and binutils' readelf.

mod common;

use common::lambda::{Event, LambdaApi, LambdaConfig};
use common::{cargo_scf_bin, root, spawn_env};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The guide's event, what event.json holds.
const GUIDE_EVENT: &str = scf_emulator::GUIDE_EVENT;

/// Kept between runs, outside the repository: one per checkout.
fn kept_root() -> PathBuf {
    let checkout: String = root().display().to_string().chars().map(|c| if c == '/' { '_' } else { c }).collect();
    let dir = std::env::temp_dir().join(format!("scf-cargo-scf-kept{checkout}"));
    assert!(!dir.starts_with(root()), "{} is inside the repository", dir.display());
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory outside the repository, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("scf-cargo-scf-{}-{name}", std::process::id()));
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

/// The directories PATH gets in front, as a user's would have them:
/// cargo-scf (where `cargo install` puts it) and the Python tools of .venv
/// (PyPI's ziglang).
fn tool_path() -> String {
    let bin = cargo_scf_bin().parent().unwrap().to_path_buf();
    let venv = root().join(".venv/bin");
    format!("{}:{}:{}", bin.display(), venv.display(), std::env::var("PATH").unwrap_or_default())
}

/// `cargo ARGS` in `dir` (ARGS starting with `scf` for cargo-scf), with
/// `path` as PATH.
fn cargo_in(dir: &Path, args: &[&str], path: &str) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(dir)
        .args(args)
        .env("PATH", path)
        .env("CARGO_SCF_CACHE", kept_root().join("cache"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("SCF_HANDLER_LIBS")
        .env_remove("ZIG")
        .output()
        .expect("run cargo")
}

/// The commands a user types, in order; each is checked for paths into the
/// repository.
#[derive(Default)]
struct Typed(Vec<String>);

impl Typed {
    /// Runs `cargo scf ARGS` in `dir`, recording it.
    fn scf(&mut self, dir: &Path, args: &[&str]) -> Output {
        let line = format!("cargo scf {}", args.join(" "));
        assert!(!line.contains(root().to_str().unwrap()), "a path into the repository: {line}");
        self.0.push(line);
        let mut all = vec!["scf"];
        all.extend_from_slice(args);
        cargo_in(dir, &all, &tool_path())
    }

    fn cd(&mut self, to: &str) {
        self.0.push(format!("cd {to}"));
    }
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Makes every file of `made` appear at the kept copy `tag/NAME`, writing
/// only those that differ and removing what `made` no longer has, and
/// returns the kept copy.
fn kept_copy(made: &Path, tag: &str) -> PathBuf {
    let dest = kept_root().join("projects").join(tag);
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
        for e in fs::read_dir(&dest).unwrap().flatten() {
            let name = e.file_name();
            // What cargo writes into a project is not the project's source.
            if name != "target" && name != "Cargo.lock" {
                let p = e.path();
                if p.is_dir() {
                    files(&p, &dest, &mut have);
                } else {
                    have.push(p.strip_prefix(&dest).unwrap().to_path_buf());
                }
            }
        }
        for rel in have.iter().filter(|r| !want.contains(r)) {
            fs::remove_file(dest.join(rel)).unwrap();
        }
    }
    dest
}

/// `cargo scf new NAME ARGS` in a fresh directory, as typed; returns the
/// kept copy of the project (standing for the directory the user then
/// enters) and what new printed.
fn new_project(typed: &mut Typed, name: &str, args: &[&str]) -> (PathBuf, String) {
    let tmp = TempDir::new(name);
    let mut all = vec!["new", name];
    all.extend_from_slice(args);
    let out = ok(&typed.scf(&tmp.0, &all), "cargo scf new");
    (kept_copy(&tmp.0.join(name), name), out)
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

/// The Invoke JSON's Result of a successful invocation: RetMsg and the
/// request id.
fn invoked(stdout: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no Invoke JSON ({e}): {stdout}"));
    let r = &v["Result"];
    assert_eq!(r["InvokeResult"], 0, "{stdout}");
    (r["RetMsg"].as_str().unwrap().into(), r["FunctionRequestId"].as_str().unwrap().into())
}

/// The plain `cargo build --release` of a project: built like the runtime.
fn plain_cargo_build_is_like_the_runtime(dir: &Path, what: &str) {
    let o = cargo_in(dir, &["build", "--release", "--quiet"], &tool_path());
    ok(&o, &format!("cargo build --release in the {what} project"));
    assert_built_like_the_runtime(&dir.join("target/x86_64-unknown-linux-musl/release/bootstrap"), what);
}

/// The `bootstrap` of a zip, unpacked into `dir`.
fn unzip(zip: &Path, dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    scf_emulator::zip::unpack(&fs::read(zip).unwrap(), dir).unwrap();
    dir.join("bootstrap")
}

/// The README's tour: for C, Rust and Zig, `cargo scf new`, `cd`, `cargo
/// scf invoke` (it builds); for Lambda, `cargo scf new --platform lambda`,
/// `cd`, `cargo scf build`, and `cargo scf invoke`. Each flow is at most
/// five commands, none with a path into the repository; the hint new
/// prints is the command that works next; the README shows exactly these
/// commands.
#[test]
fn a_new_user_reaches_local_c_rust_and_zig_functions_and_a_lambda_build() {
    let mut flows = Vec::new();
    for (lang, greeting) in [("c", "Hello from C!"), ("rust", "Hello from Rust!"), ("zig", "Hello from Zig!")] {
        let name = format!("hello-{lang}");
        let mut typed = Typed::default();
        let (dir, said) = new_project(&mut typed, &name, &["--lang", lang]);
        let title = match lang {
            "c" => "C",
            "rust" => "Rust",
            _ => "Zig",
        };
        assert!(said.starts_with(&format!("created {title} function {name} for SCF in {name}\n")), "{said}");
        assert!(said.contains(&format!("  cd {name} && cargo scf invoke ")), "the hint: {said}");
        typed.cd(&name);
        let out = ok(&typed.scf(&dir, &["invoke"]), &format!("cargo scf invoke ({lang})"));
        let (ret, _) = invoked(&out);
        assert_eq!(ret, format!("{greeting} You sent: {GUIDE_EVENT}"), "{lang}");
        assert!(dir.join(format!("target/scf/{name}.zip")).is_file(), "{lang}: no zip in the project's own target/");
        plain_cargo_build_is_like_the_runtime(&dir, lang);
        flows.push((lang, typed.0));
    }

    // Lambda: the build runs under Lambda's runtime API, with no SCF
    // variable set.
    let mut typed = Typed::default();
    let (dir, said) = new_project(&mut typed, "hello-lambda", &["--platform", "lambda"]);
    assert!(said.starts_with("created Rust function hello-lambda for Lambda in hello-lambda\n"), "{said}");
    typed.cd("hello-lambda");
    let out = ok(&typed.scf(&dir, &["build"]), "cargo scf build (lambda)");
    let zip = dir.join("target/lambda/hello-lambda.zip");
    assert!(out.contains(&format!("{}: ", zip.display())), "{out}");
    let tmp = TempDir::new("lambda-zip");
    let bin = unzip(&zip, &tmp.0);
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let runtime_api = api.env_value();
    let _p = spawn_env(&bin, &[("AWS_LAMBDA_RUNTIME_API", &runtime_api), ("_HANDLER", "index.main_handler")]);
    let deadline = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 5000).to_string();
    let ev = Event {
        id: "req-cargo-scf".into(),
        body: GUIDE_EVENT.as_bytes().to_vec(),
        headers: vec![("Lambda-Runtime-Deadline-Ms".into(), deadline)],
    };
    let posted = api.invoke(ev, Duration::from_secs(10));
    assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-cargo-scf/response");
    assert_eq!(String::from_utf8_lossy(&posted.body), format!("Hello from Rust! You sent: {GUIDE_EVENT}"));
    // And locally, under the (SCF) emulator.
    let out = ok(&typed.scf(&dir, &["invoke"]), "cargo scf invoke (lambda)");
    assert_eq!(invoked(&out).0, format!("Hello from Rust! You sent: {GUIDE_EVENT}"));
    flows.push(("lambda", typed.0));

    for (what, commands) in &flows {
        assert!(commands.len() <= 5, "{what}: {} commands: {commands:?}", commands.len());
        eprintln!("{what}: {} commands: {}", commands.len(), commands.join(" ; "));
    }
    // The README's tour is what this test proves: the same commands, in
    // the same order, and no others.
    let ran: Vec<String> = flows.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
    assert_eq!(readme_tour(), ran, "README.md's tour is not the commands this test runs");
}

/// The commands of the README's tour: the lines of the code blocks between
/// `<!-- tour:begin -->` and `<!-- tour:end -->`, comments dropped.
fn readme_tour() -> Vec<String> {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let (_, rest) = readme.split_once("<!-- tour:begin -->").expect("README.md has no <!-- tour:begin --> line");
    let (tour, _) = rest.split_once("<!-- tour:end -->").expect("README.md has no <!-- tour:end --> line");
    let mut in_code = false;
    let mut commands = Vec::new();
    for line in tour.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if in_code {
            let command = line.split('#').next().unwrap_or_default().trim();
            if !command.is_empty() {
                commands.push(command.to_string());
            }
        }
    }
    commands
}

/// --std: serde_json reads the typed event (`{"name":"SCF"}`) and writes
/// the answer; the same link settings hold for the std binary.
#[test]
fn a_std_project_reads_typed_events() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-std", &["--std"]);
    assert_eq!(fs::read_to_string(dir.join("event.json")).unwrap(), r#"{"name":"SCF"}"#);
    let out = ok(&typed.scf(&dir, &["invoke"]), "cargo scf invoke (std)");
    let (ret, id) = invoked(&out);
    assert_eq!(ret, format!(r#"{{"message":"Hello, SCF!","requestId":"{id}"}}"#));
    plain_cargo_build_is_like_the_runtime(&dir, "rust --std");
}

/// Every sample event of a project answers (the handler echoes it).
#[test]
fn each_sample_event_is_invoked() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-events", &[]);
    let mut events: Vec<String> = fs::read_dir(dir.join("events"))
        .unwrap()
        .map(|e| format!("events/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    events.sort();
    assert_eq!(
        events,
        ["events/apigw.json", "events/ckafka.json", "events/cmq.json", "events/cos.json", "events/timer.json"]
    );
    let mut args = vec!["invoke", "-q"];
    for e in &events {
        args.extend(["--event", e.as_str()]);
    }
    let out = ok(&typed.scf(&dir, &args), "cargo scf invoke --event ...");
    assert_eq!(out.lines().count(), events.len(), "{out}");
    for (line, e) in out.lines().zip(&events) {
        let sent = fs::read_to_string(dir.join(e)).unwrap();
        assert_eq!(invoked(line).0, format!("Hello from Rust! You sent: {sent}"), "{e}");
    }
}

/// The runtime as `cargo package` ships it: what cargo-scf carries (its
/// cache holds the same files), without tests, benchmarks, scripts,
/// deploy, emulator or fuzz targets, and a project built against the
/// unpacked .crate with `--runtime-path` links like the runtime and answers.
#[test]
fn the_packaged_runtime_crate_builds_a_handler_project() {
    let tmp = TempDir::new("package");
    let o = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args([
            "package",
            "--no-verify",
            "--allow-dirty",
            "--offline",
            "--quiet",
            "-p",
            "scf-bootstrap",
            "--target-dir",
        ])
        .arg(tmp.0.join("target"))
        .output()
        .unwrap();
    ok(&o, "cargo package");
    let dir = tmp.0.join("target/package");
    let krate =
        fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "crate"));
    let krate = krate.expect("a .crate");
    let o = Command::new("tar").arg("-xzf").arg(&krate).arg("-C").arg(&tmp.0).output().expect("run tar");
    ok(&o, "tar");
    let unpacked = tmp.0.join(krate.file_stem().unwrap());
    let mut files = Vec::new();
    list(&unpacked, &unpacked, &mut files);
    files.retain(|f| f != ".cargo_vcs_info.json");
    for need in ["build.rs", "src/lib.rs", "include/scf_bootstrap.h", ".cargo/config.toml"] {
        assert!(files.iter().any(|f| f == need), "{need} is not packaged: {files:?}");
    }
    for f in &files {
        for not in ["tests/", "bench/", "scripts/", "deploy/", "emulator/", "fuzz/", "examples/", "cargo-scf/"] {
            assert!(!f.starts_with(not), "{f} is packaged");
        }
    }

    // A project made with the carried crate has it unpacked in the cache:
    // the same files, byte for byte.
    let mut typed = Typed::default();
    let (_, _) = new_project(&mut typed, "hello-carried", &[]);
    let version = krate.file_stem().unwrap().to_str().unwrap().trim_start_matches("scf-bootstrap-").to_string();
    let cache = kept_root().join("cache").join(format!("scf-bootstrap-{version}"));
    let mut cached = Vec::new();
    list(&cache, &cache, &mut cached);
    assert_eq!(cached, files, "the cache is not what cargo package ships");
    for f in &files {
        assert!(fs::read(cache.join(f)).unwrap() == fs::read(unpacked.join(f)).unwrap(), "{f} differs");
    }

    // The project against the unpacked .crate: plain cargo, then cargo scf.
    let made = TempDir::new("packaged-project");
    let o = cargo_in(
        &made.0,
        &["scf", "new", "hello-packaged", "--runtime-path", unpacked.to_str().unwrap()],
        &tool_path(),
    );
    ok(&o, "cargo scf new --runtime-path");
    let dir = made.0.join("hello-packaged");
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("scf-bootstrap = {{ path = {:?} }}", unpacked.to_str().unwrap())), "{manifest}");
    plain_cargo_build_is_like_the_runtime(&dir, "packaged crate");
    let out = ok(&cargo_in(&dir, &["scf", "invoke", "-q", "--raw"], &tool_path()), "cargo scf invoke");
    assert_eq!(out, format!("Hello from Rust! You sent: {GUIDE_EVENT}\n"));
}

/// The files under `dir`, relative, sorted.
fn list(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            list(&p, base, out);
        } else {
            out.push(p.strip_prefix(base).unwrap().to_str().unwrap().to_string());
        }
    }
    out.sort();
}

/// The dependency is by version, as a published crate's; its source while
/// unpublished is the `[patch.crates-io]`: the carried copy (in the cache,
/// not in the repository), a path, or a git repository.
#[test]
fn the_runtime_is_named_by_version_and_patched_while_unpublished() {
    let tmp = TempDir::new("sources");
    let version = {
        let m = fs::read_to_string(root().join("Cargo.toml")).unwrap();
        m.lines().find_map(|l| l.strip_prefix("version = \"")).unwrap().trim_end_matches('"').to_string()
    };
    let cache = kept_root().join("cache").join(format!("scf-bootstrap-{version}"));
    for (args, patch) in [
        (vec!["new", "by-cache"], format!("{{ path = {:?} }}", cache.to_str().unwrap())),
        (
            vec!["new", "by-path", "--runtime-path", root().to_str().unwrap()],
            format!("{{ path = {:?} }}", root().to_str().unwrap()),
        ),
        (
            vec!["new", "by-git", "--runtime-git", "https://example.com/scf-bootstrap.git"],
            r#"{ git = "https://example.com/scf-bootstrap.git" }"#.into(),
        ),
    ] {
        let mut all = vec!["scf"];
        all.extend(args.iter().copied());
        ok(&cargo_in(&tmp.0, &all, &tool_path()), &format!("{args:?}"));
        let dir = tmp.0.join(args[1]);
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let dep = format!("scf-bootstrap = {{ version = \"{version}\", default-features = false }}");
        assert!(manifest.contains(&format!("\n{dep}\n")), "{args:?}: {manifest}");
        assert!(manifest.contains(&format!("\n[patch.crates-io]\nscf-bootstrap = {patch}\n")), "{args:?}: {manifest}");
        if args[1] == "by-cache" {
            assert!(!manifest.contains(root().to_str().unwrap()), "a path into the repository: {manifest}");
        }
        if args[1] != "by-git" {
            // Cargo resolves the dependency to the patch, offline.
            let o = cargo_in(&dir, &["metadata", "--offline", "--format-version", "1"], &tool_path());
            let v: serde_json::Value = serde_json::from_str(&ok(&o, "cargo metadata")).unwrap();
            let runtime = v["packages"].as_array().unwrap().iter().find(|p| p["name"] == "scf-bootstrap").unwrap();
            let at = Path::new(runtime["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf();
            let want = if args[1] == "by-cache" { cache.clone() } else { root() };
            assert_eq!(at, want, "{args:?}");
            let dep =
                &v["packages"].as_array().unwrap().iter().find(|p| p["name"] == args[1]).unwrap()["dependencies"][0];
            assert_eq!(dep["req"], format!("^{version}"), "{dep}");
            assert!(dep["source"].as_str().unwrap().starts_with("registry+"), "{dep}");
        }
    }
}

/// Refusals: one line on stderr, `cargo scf: error: ...`, naming what was
/// wrong and the fix; nothing written.
#[test]
fn refusals_are_one_line_that_names_the_fix() {
    let tmp = TempDir::new("refused");
    fs::create_dir_all(tmp.0.join("taken")).unwrap();
    fs::write(tmp.0.join("taken/file"), "").unwrap();
    let cases: &[(&[&str], &str, i32)] = &[
        (&["new", "1fn"], "function name '1fn': must start with a letter", 1),
        (&["new", "fn_"], "function name 'fn_': must end with a letter or a digit", 1),
        (&["new", "taken"], "taken already exists and is not an empty directory", 1),
        (&["new", "fn", "--runtime-git", "u", "--runtime-path", "/"], "name one source for scf-bootstrap", 2),
        (&["new", "fn", "--runtime-path", "/"], "--runtime-path /: no scf-bootstrap crate there", 1),
        (&["new", "fn", "--lang", "c", "--std"], "--std is for --lang rust", 1),
        (&["new", "fn", "--lang", "go"], "--lang: expected rust, c or zig, got \"go\"", 2),
        (&["new", "fn", "--langg", "c"], "unknown option --langg; did you mean --lang?", 2),
        (&["new"], "cargo scf new needs a PATH: cargo scf new hello", 2),
        (&["biuld"], "unknown command \"biuld\"; did you mean build?", 2),
        (&["build"], "no Cargo.toml in", 1),
        (&["build", "--manifest-path", "nope/Cargo.toml"], "--manifest-path nope/Cargo.toml: does not exist", 1),
        (
            &["build", "--arch", "aarch64", "--platform", "scf", "--manifest-path", "x"],
            "--manifest-path x: does not exist",
            1,
        ),
    ];
    for (args, want, code) in cases {
        let mut all = vec!["scf"];
        all.extend_from_slice(args);
        let o = cargo_in(&tmp.0, &all, &tool_path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {err}");
        assert!(err.starts_with("cargo scf: error: ") && err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    assert!(!tmp.0.join("fn").exists(), "a refused project left a directory");

    // In a project: SCF runs no aarch64, nor a Lambda image; an invoke
    // without event.json says which file to give; a Lambda project is not
    // deployed to SCF.
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-refusals", &[]);
    fs::remove_file(dir.join("event.json")).unwrap();
    for (args, want) in [
        (&["build", "--arch", "aarch64", "--platform", "scf"][..], "SCF runs x86_64 only, as far as its public documentation shows: no aarch64 zip for it (--platform lambda takes aarch64)"),
        (&["build", "--image", "--platform", "lambda"], "--image makes an SCF image function"),
        (&["invoke", "-q"], "event.json does not exist: cargo scf invoke --event FILE"),
    ] {
        let o = typed.scf(&dir, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
        assert!(errors.len() == 1 && errors[0].starts_with("cargo scf: error: ") && errors[0].contains(want), "{args:?}: {err}");
    }
    // --image: the project's `serve` feature (cargo scf new wrote it) on,
    // the OCI image archive in target/scf/, the same bytes when built
    // again, its command `/bootstrap serve` (tests/package.rs runs one).
    ok(&typed.scf(&dir, &["build", "--image", "-q"]), "cargo scf build --image");
    let archive = dir.join("target/scf/hello-refusals-image.tar");
    let first = fs::read(&archive).unwrap();
    ok(&typed.scf(&dir, &["build", "--image", "-q"]), "cargo scf build --image, again");
    assert!(fs::read(&archive).unwrap() == first, "two builds of the same project gave different archives");
    let image = scf_emulator::oci::read(&first).unwrap();
    assert_eq!(image.run.command(), ["/bootstrap", "serve"]);
    // Push mode alone: without `serve` it does not start a pull loop.
    let bin = dir.join("target/image-bootstrap");
    fs::write(&bin, image.file("/bootstrap").expect("/bootstrap in the image")).unwrap();
    fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = Command::new(&bin).env_clear().output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("scf-bootstrap: this bootstrap has push mode only"), "{err}");
    // ...and the emulator runs it: its command listens, the event is pushed.
    fs::write(dir.join("event.json"), "{\"key1\":\"value1\"}").unwrap();
    let out = ok(&typed.scf(&dir, &["invoke", "--image", "-q"]), "cargo scf invoke --image");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["Result"]["InvokeResult"], 0, "{out}");
    assert_eq!(report["Emulator"]["Cold"], true, "{out}");
    let (lambda, _) = new_project(&mut typed, "hello-refusals-lambda", &["--platform", "lambda"]);
    let o = typed.scf(&lambda, &["deploy", "--dry-run"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "cargo scf: error: cargo scf deploy deploys to SCF, and hello-refusals-lambda is a Lambda project: its zip \
         (cargo scf build: target/lambda/hello-refusals-lambda.zip) deploys with aws lambda create-function (see its \
         README.md)\n"
    );
}

/// `cargo scf deploy` in a project: the deployer (scf-deploy, a library
/// of cargo-scf) gets the zip `cargo scf build` wrote and the project's
/// name as its defaults; its dry run sends nothing and needs no keys. A
/// project not built yet gets one line naming `cargo scf build`.
#[test]
fn deploy_takes_the_project_s_zip_and_name() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-deploy", &[]);
    let _ = fs::remove_file(dir.join("target/scf/hello-deploy.zip"));
    let o = typed.scf(&dir, &["deploy", "--dry-run"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cargo scf build") && err.lines().count() == 1, "{err}");
    ok(&typed.scf(&dir, &["build", "-q"]), "cargo scf build");
    let out = ok(&typed.scf(&dir, &["deploy", "--dry-run"]), "cargo scf deploy --dry-run");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let zip = fs::read(dir.join("target/scf/hello-deploy.zip")).unwrap();
    assert_eq!(doc["ZipBytes"].as_u64(), Some(zip.len() as u64), "{out}");
    let create = &doc["Requests"][1]["Request"];
    assert_eq!(create["FunctionName"], "hello-deploy", "{out}");
    assert_eq!(create["Runtime"], "CustomRuntime", "{out}");
    let help = ok(&typed.scf(&dir, &["deploy", "--help"]), "cargo scf deploy --help");
    assert!(help.contains("default target/scf/hello-deploy.zip") && help.contains("default hello-deploy"), "{help}");
}

/// A directory holding links to the programs a build needs and nothing
/// else: cargo and rustc (rustup's), the host's C driver and binutils, a
/// python3 without ziglang; not musl-gcc, Zig or cargo-scf's .venv.
fn bare_path(tmp: &Path) -> String {
    let bin = tmp.join("bare-bin");
    fs::create_dir_all(&bin).unwrap();
    let find = |name: &str| -> Option<PathBuf> {
        std::env::var("PATH").ok()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
    };
    for tool in ["cargo", "rustc", "rustup", "cc", "gcc", "ld", "as", "ar", "tar", "readelf"] {
        if let Some(p) = find(tool) {
            let _ = std::os::unix::fs::symlink(&p, bin.join(tool));
        }
    }
    if Path::new("/usr/bin/python3").is_file() {
        let _ = std::os::unix::fs::symlink("/usr/bin/python3", bin.join("python3"));
    }
    format!("{}:{}", cargo_scf_bin().parent().unwrap().display(), bin.display())
}

/// Without Zig, a Zig project's build stops with one line that names the
/// package and where Zig is looked for; without a C compiler for musl, a C
/// project's names what to install. Nothing else is printed (cargo's
/// build-script report is left out).
#[test]
fn a_missing_zig_or_c_compiler_is_one_line_naming_what_to_install() {
    let tmp = TempDir::new("missing");
    let path = bare_path(&tmp.0);
    let zig = Command::new("/usr/bin/python3").args(["-c", "import ziglang"]).output();
    assert!(!matches!(zig, Ok(o) if o.status.success()), "/usr/bin/python3 has ziglang: the test would prove nothing");
    let mut typed = Typed::default();
    for (lang, source, want) in [
        (
            "zig",
            "src/handler.zig",
            "error: no Zig compiler to build src/handler.zig: pip install ziglang (looked for $ZIG, `zig` on PATH, `python3 -m ziglang`)",
        ),
        (
            "c",
            "src/handler.c",
            "error: scf-bootstrap build: no C compiler for x86_64-unknown-linux-musl to build the C handlers: install musl-gcc \
             (Debian/Ubuntu: apt-get install musl-tools), Zig (pip install ziglang) or x86_64-linux-musl-gcc, or set \
             CC_x86_64_unknown_linux_musl",
        ),
    ] {
        let name = format!("hello-no-{lang}");
        let (dir, _) = new_project(&mut typed, &name, &["--lang", lang]);
        // The build script runs again when the handler changes.
        let text = fs::read_to_string(dir.join(source)).unwrap();
        fs::write(dir.join(source), format!("{text}\n")).unwrap();
        let o = cargo_in(&dir, &["scf", "build", "-q"], &path);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{lang}: {err}");
        assert_eq!(err.trim_end(), want, "{lang}");
        fs::write(dir.join(source), text).unwrap();
    }
}

/// A C compile error is the compiler's diagnostics and the runtime's one
/// line, not under cargo's twenty `cargo:` lines of the build script.
#[test]
fn a_c_compile_error_is_shown_on_its_own() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-broken", &["--lang", "c"]);
    let source = dir.join("src/handler.c");
    let text = fs::read_to_string(&source).unwrap();
    fs::write(&source, text.replace("int rc = scf_write", "int rc = = scf_write")).unwrap();
    let o = typed.scf(&dir, &["build", "-q"]);
    fs::write(&source, &text).unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("handler.c:") && err.contains("error: expected expression"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("error: scf-bootstrap build: ") && last.contains("compiling"), "{err}");
    for noise in ["cargo:", "--- stdout", "Caused by", "failed to run custom build command"] {
        assert!(!err.contains(noise), "{noise:?} in:\n{err}");
    }
}

/// A missing musl target is installed with `rustup target add`, and one
/// line says so; with no rustup to do it, one line says what to do. rustup
/// and rustc are stand-ins here (the real install downloads the target:
/// scripts/first-run-check does that), the rest of the build is real.
#[test]
fn a_missing_musl_target_is_installed_with_rustup_saying_so() {
    let tmp = TempDir::new("target");
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-target", &[]);
    ok(&typed.scf(&dir, &["build", "-q"]), "the first build");
    let real = Command::new("rustc").current_dir(&dir).args(["--print", "sysroot"]).output().unwrap();
    let real_rustc = Path::new(String::from_utf8_lossy(&real.stdout).trim()).join("bin/rustc");
    let fake = tmp.0.join("fake-bin");
    fs::create_dir_all(&fake).unwrap();
    let marker = tmp.0.join("installed");
    let log = tmp.0.join("rustup.log");
    let script = |name: &str, body: String| {
        let p = fake.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    script(
        "rustc",
        format!(
            "if [ \"$1 $2\" = '--print sysroot' ] && [ ! -e {m} ]; then echo {t}/no-sysroot; exit 0; fi\nexec {r} \"$@\"\n",
            m = marker.display(),
            t = tmp.0.display(),
            r = real_rustc.display()
        ),
    );
    let fake_rustup = |works: bool| {
        let body = if works {
            format!(
                "echo \"$@\" >>{}\n[ \"$1 $2\" = 'target add' ] && touch {}\nexit 0\n",
                log.display(),
                marker.display()
            )
        } else {
            "exit 127\n".to_string()
        };
        script("rustup", body);
    };
    let path = format!("{}:{}", fake.display(), tool_path());

    fake_rustup(false);
    let o = cargo_in(&dir, &["scf", "build", "-q"], &path);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "cargo scf: error: the Rust target x86_64-unknown-linux-musl is not installed, and there is no rustup to install \
         it: add the target to your Rust toolchain (with rustup: rustup target add x86_64-unknown-linux-musl)\n"
    );

    fake_rustup(true);
    let o = cargo_in(&dir, &["scf", "build", "-q"], &path);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        err,
        "cargo scf: the Rust target x86_64-unknown-linux-musl is not installed: running `rustup target add \
         x86_64-unknown-linux-musl`\n"
    );
    assert_eq!(fs::read_to_string(&log).unwrap(), "--version\ntarget add x86_64-unknown-linux-musl\n");
    assert!(marker.exists());
}

/// `run --watch`: an edit of the handler is rebuilt and the next
/// invocation answers with the new code.
#[test]
fn run_watch_rebuilds_on_an_edit() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-watch", &[]);
    let source = dir.join("src/main.rs");
    let text = fs::read_to_string(&source).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .args(["scf", "run", "--watch", "-q", "--listen", &listen])
        .env("PATH", tool_path())
        .env("CARGO_SCF_CACHE", kept_root().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().unwrap();
    let _child = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |what: &str, limit: Duration| {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.contains(what) {
                return;
            }
            seen.push(line);
        }
        panic!("no {what:?} within {limit:?}; stderr:\n{}", seen.join("\n"));
    };
    let invoke = || {
        let addr = listen.parse().unwrap();
        let mut c = scf_emulator::http::client::Client::connect(addr, Some(Duration::from_secs(30))).unwrap();
        let r = c.request("POST", "/invoke", GUIDE_EVENT.as_bytes()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["Result"]["RetMsg"].as_str().unwrap().to_string()
    };
    wait_for("invoke endpoint", Duration::from_secs(300));
    assert_eq!(invoke(), format!("Hello from Rust! You sent: {GUIDE_EVENT}"));
    fs::write(&source, text.replace("Hello from Rust!", "Hello again!")).unwrap();
    wait_for("src/main.rs changed: rebuilding", Duration::from_secs(30));
    wait_for("rebuilt: the next invocation cold-starts the new code", Duration::from_secs(300));
    let answer = invoke();
    fs::write(&source, &text).unwrap();
    assert_eq!(answer, format!("Hello again! You sent: {GUIDE_EVENT}"));
}

/// `cargo scf --help` and each command's fit on one screen: 24 lines, 80
/// columns (deploy's too: the deployer's own text, every default and
/// option, and what a deployment does not create; deploy/src/command.rs
/// holds it to 24).
#[test]
fn every_help_fits_on_one_screen() {
    let tmp = TempDir::new("help");
    for cmd in [&[][..], &["new"], &["build"], &["invoke"], &["run"], &["deploy"], &["package"], &["emulator"]] {
        let mut args = vec!["scf"];
        args.extend_from_slice(cmd);
        args.push("--help");
        let out = ok(&cargo_in(&tmp.0, &args, &tool_path()), &format!("{args:?}"));
        let most = 24;
        assert!(out.lines().count() <= most, "{cmd:?}: {} lines:\n{out}", out.lines().count());
        assert!(out.lines().all(|l| l.chars().count() <= 80), "{cmd:?}: a line over 80 columns:\n{out}");
        assert!(out.lines().count() >= 2, "{cmd:?}: {out}");
    }
}

/// `scripts/package --handler DIR` builds a project once, in the project's
/// own target directory (not a second time inside this repository), so
/// the project's own build is what gets packaged.
#[test]
fn scripts_package_builds_a_crate_in_its_own_target_dir() {
    let mut typed = Typed::default();
    let (dir, _) = new_project(&mut typed, "hello-package", &[]);
    let own = dir.join("target/x86_64-unknown-linux-musl/release/bootstrap");
    let _ = fs::remove_file(&own);
    let tmp = TempDir::new("package-crate");
    let zip = tmp.0.join("function.zip");
    let o = Command::new(root().join("scripts/package"))
        .arg("--quiet")
        .arg("--handler")
        .arg(&dir)
        .arg("-o")
        .arg(&zip)
        .env("PATH", tool_path())
        .env("CARGO_SCF_CACHE", kept_root().join("cache"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    ok(&o, "scripts/package --handler DIR");
    assert!(own.is_file(), "not built in the project's own target/");
    let unpacked = unzip(&zip, &tmp.0.join("unpacked"));
    let stripped = tmp.0.join("stripped");
    ok(&Command::new(cargo_scf_bin()).arg("elfstrip").arg(&own).arg(&stripped).output().unwrap(), "cargo scf elfstrip");
    assert!(fs::read(&unpacked).unwrap() == fs::read(&stripped).unwrap(), "the zip is not the project's own build");
}
