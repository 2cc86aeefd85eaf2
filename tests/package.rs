//! `scripts/package` (`cargo scf package`, cargo-scf's packaging rules): the
//! zip it writes (one `bootstrap` at the root, mode 0755, fixed timestamp,
//! deflate, the same bytes every time, and the same deflate stream as
//! Python's zlib with the settings scripts/package had when it was Python)
//! and the binaries it refuses because they could not start on SCF.
//!
//! The zip is read twice: by the structure checks below, and by Python's
//! `zipfile`, an independent reader that also verifies the CRC. The
//! emulator's reader runs it in tests/examples.rs.

mod common;

use common::elf_fixture::elf;
use common::{run_package, scratch};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn package(args: &[&str], out: &Path) -> Vec<u8> {
    let o = run_package(args, out);
    assert!(o.status.success(), "scripts/package {args:?}:\n{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let zip = fs::read(out).unwrap();
    assert!(stdout.contains(&format!("{}: {} bytes", out.display(), zip.len())), "sizes: {stdout}");
    zip
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Checks the archive's records field by field and returns the compressed
/// size of its one member.
fn check_layout(zip: &[u8]) -> u32 {
    // End of central directory: no comment, so exactly 22 bytes at the end.
    let eocd = zip.len() - 22;
    assert_eq!(u32_at(zip, eocd), 0x0605_4b50, "end record at the very end (no comment)");
    assert_eq!(u16_at(zip, eocd + 8), 1, "one entry on this disk");
    assert_eq!(u16_at(zip, eocd + 10), 1, "one entry");
    let (cd_size, cd_at) = (u32_at(zip, eocd + 12) as usize, u32_at(zip, eocd + 16) as usize);
    assert_eq!(cd_at + cd_size, eocd);

    let cd = &zip[cd_at..eocd];
    assert_eq!(u32_at(cd, 0), 0x0201_4b50);
    assert_eq!(cd[5], 3, "made on Unix, so the external attributes hold a Unix mode");
    assert_eq!(u16_at(cd, 8) & 0x0009, 0, "no encryption, no data descriptor");
    assert_eq!(u16_at(cd, 10), 8, "deflate");
    assert_eq!((u16_at(cd, 12), u16_at(cd, 14)), (0, (1 << 5) | 1), "1980-01-01 00:00");
    let csize = u32_at(cd, 20);
    let (name_len, extra_len, comment_len) = (u16_at(cd, 28) as usize, u16_at(cd, 30), u16_at(cd, 32));
    assert_eq!((extra_len, comment_len), (0, 0), "no extra fields (no timestamps) and no comment");
    assert_eq!(u32_at(cd, 38) >> 16, 0o100755, "a regular file, rwxr-xr-x");
    assert_eq!(u32_at(cd, 42), 0, "its data starts the archive");
    assert_eq!(&cd[46..46 + name_len], b"bootstrap", "at the root, no directory");
    assert_eq!(46 + name_len, cd.len());

    // The local header agrees with the central one.
    assert_eq!(u32_at(zip, 0), 0x0403_4b50);
    assert_eq!(&zip[4..30], &cd[6..32], "local and central headers differ");
    assert_eq!(&zip[30..39], b"bootstrap");
    assert_eq!(30 + 9 + csize as usize, cd_at);
    csize
}

/// Unpacks with Python's zipfile (checking the CRC) and returns the
/// member's bytes.
fn python_unzip(zip: &Path, dest: &Path) -> Vec<u8> {
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  assert z.namelist() == ['bootstrap'], z.namelist()\n\
                  open(sys.argv[2], 'wb').write(z.read('bootstrap'))\n";
    let o = Command::new("python3").args(["-c", script]).arg(zip).arg(dest).output().expect("run python3");
    assert!(o.status.success(), "python zipfile: {}", String::from_utf8_lossy(&o.stderr));
    fs::read(dest).unwrap()
}

/// The raw deflate stream Python's zlib makes of `data` with the settings
/// scripts/package used when it was Python (level 9, memory level 9, the
/// smaller of the default and filtered strategies): the zips, and so the
/// sizes in the docs, are the same as before the port to Rust.
fn python_deflate(data: &[u8]) -> Vec<u8> {
    let script = "import sys, zlib\n\
                  data = open(sys.argv[1], 'rb').read()\n\
                  best = None\n\
                  for s in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED):\n\
                  \x20   c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, s)\n\
                  \x20   out = c.compress(data) + c.flush()\n\
                  \x20   best = out if best is None or len(out) < len(best) else best\n\
                  sys.stdout.buffer.write(best)\n";
    let path = std::env::temp_dir().join(format!("scf-package-test-{}", std::process::id()));
    fs::write(&path, data).unwrap();
    let o = Command::new("python3").args(["-c", script]).arg(&path).output().expect("run python3");
    let _ = fs::remove_file(&path);
    assert!(o.status.success(), "python zlib: {}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn zip_holds_one_executable_bootstrap_and_is_reproducible() {
    let dir = scratch("package-tests", "layout");
    let first = package(&["--handler", "examples/c/echo.c"], &dir.join("a.zip"));
    // Another build in between, so the second is rebuilt, not reused.
    package(&[], &dir.join("demo.zip"));
    let second = package(&["--handler", "examples/c/echo.c"], &dir.join("b.zip"));
    assert!(first == second, "two builds of the same input gave different zips");

    let csize = check_layout(&first);
    let binary = python_unzip(&dir.join("a.zip"), &dir.join("bootstrap"));
    assert_eq!(&first[30 + 9..30 + 9 + csize as usize], &python_deflate(&binary)[..], "not zlib's stream");
    assert_eq!(&binary[..4], b"\x7fELF");
    assert!(
        (csize as usize) < binary.len() * 3 / 4,
        "deflate at level 9 should do better than {csize} of {}",
        binary.len()
    );

    // The zip depends on the binary's bytes only: repackaging the unpacked
    // file (other name, other mtime, other mode) gives the same archive.
    let copy = dir.join("copy");
    fs::write(&copy, &binary).unwrap();
    let again = package(&["--bootstrap", copy.to_str().unwrap()], &dir.join("c.zip"));
    assert!(again == first, "repackaging the unpacked binary changed the zip");
}

/// --zopfli: a smaller stream that every unzip still reads, still the same
/// bytes every time, and as small as Google's Zopfli in C makes it
/// (Python's `zopfli` package, which scripts/package used before the port
/// to Rust). Not always the same bytes: the Rust port's stream of the
/// 34,052-B SCF demo (issue 19) differs from C's from byte 17,481 of
/// 19,618, at the same length; that of the 47,968-B demo before it was
/// the same.
#[test]
fn zopfli_zip_is_smaller_plain_deflate_and_reproducible() {
    let have = Command::new("python3").args(["-c", "import zopfli.zopfli"]).status();
    assert!(
        matches!(have, Ok(s) if s.success()),
        "the Zopfli compressor in C is missing, to compare with: `pip install zopfli` (tested with 0.4.3)"
    );
    let dir = scratch("package-tests", "zopfli");
    let plain = package(&[], &dir.join("plain.zip"));
    let binary = python_unzip(&dir.join("plain.zip"), &dir.join("bootstrap"));
    let bin = dir.join("bootstrap");
    let a = package(&["--zopfli", "--bootstrap", bin.to_str().unwrap()], &dir.join("a.zip"));
    let b = package(&["--zopfli", "--bootstrap", bin.to_str().unwrap()], &dir.join("b.zip"));
    assert!(a == b, "two Zopfli runs gave different zips");
    let csize = check_layout(&a) as usize;
    assert!(a.len() < plain.len(), "zopfli {} >= zlib {}", a.len(), plain.len());
    assert!(python_unzip(&dir.join("a.zip"), &dir.join("unpacked")) == binary);
    let script = "import sys\nfrom zopfli.zopfli import compress\n\
                  data = open(sys.argv[1], 'rb').read()\n\
                  sys.stdout.buffer.write(compress(data, numiterations=15, gzip_mode=0)[2:-4])\n";
    let o = Command::new("python3").args(["-c", script]).arg(&bin).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (ours, c) = (csize, o.stdout.len());
    assert!(ours <= c + c / 500, "the Rust Zopfli stream is {ours} B, the C Zopfli's {c} B");
}

fn dynamic(entries: &[(i64, u64)]) -> Vec<u8> {
    entries.iter().flat_map(|(t, v)| t.to_le_bytes().into_iter().chain(v.to_le_bytes())).collect()
}

#[test]
fn refuses_files_that_cannot_start_on_scf() {
    let dir = scratch("package-tests", "refuse");
    let load = (PT_LOAD, vec![0u8; 16]);
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        (
            "arm64",
            Some(elf(2, 183, 2, std::slice::from_ref(&load))),
            "is built for ELF machine 183 (aarch64), not x86_64 (62)",
        ),
        ("i386", Some(elf(1, 3, 2, std::slice::from_ref(&load))), "is not a 64-bit little-endian ELF file"),
        ("object", Some(elf(2, 62, 1, std::slice::from_ref(&load))), "is an ELF file of type 1, not an executable"),
        ("no-interpreter", Some(b"#!  \nexec ./handler\n".to_vec()), "starts with '#!' but names no interpreter"),
        ("text", Some(b"exec ./handler\n".to_vec()), "is neither an ELF executable nor a script starting with '#!'"),
        ("missing", None, "no bootstrap at"),
    ];
    for (name, bytes, message) in cases {
        let path = dir.join(name);
        if let Some(b) = bytes {
            fs::write(&path, b).unwrap();
        }
        let zip = dir.join(format!("{name}.zip"));
        let o = run_package(&["--bootstrap", path.to_str().unwrap()], &zip);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.starts_with("scripts/package: error: ") && err.contains(message), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line, not a traceback: {err}");
        assert!(!zip.exists(), "{name}: a zip was written");
    }
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

/// What SCF runs although this runtime never makes it (a dynamic binary,
/// a script) is packaged with a one-line warning; a static-PIE binary with
/// none. The entry is mode 0755 even when the file was not executable.
#[test]
fn packages_what_scf_runs_warning_about_dynamic_binaries_and_scripts() {
    let dir = scratch("package-tests", "accept");
    let load = (PT_LOAD, vec![0u8; 16]);

    // A real dynamically linked program, from the host's C compiler.
    fs::write(dir.join("hello.c"), "int main(void) { return 0; }\n").unwrap();
    let cc = Command::new("cc").arg(dir.join("hello.c")).arg("-o").arg(dir.join("dyn")).status().expect("run cc");
    assert!(cc.success());

    // (file, its bytes or None when made above, the warning expected)
    type Case<'a> = (&'a str, Option<Vec<u8>>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("dyn", None, Some("is dynamically linked (interpreter /lib")),
        (
            "interp",
            Some(elf(2, 62, 2, &[(PT_INTERP, b"/lib/ld-musl-x86_64.so.1\0".to_vec()), load.clone()])),
            Some("is dynamically linked (interpreter /lib/ld-musl-x86_64.so.1): it starts on SCF only if"),
        ),
        (
            "needed",
            Some(elf(2, 62, 3, &[load.clone(), (PT_DYNAMIC, dynamic(&[(1, 1), (0, 0)]))])),
            Some("needs shared libraries: it starts on SCF only if SCF's image has them"),
        ),
        (
            "script",
            Some(b"#!/bin/bash\nset -euo pipefail\n".to_vec()),
            Some("is a script for /bin/bash: SCF runs it only if its image has /bin/bash"),
        ),
        (
            "env-script",
            Some(b"#! /usr/bin/env python3\r\nprint()\n".to_vec()),
            Some("is a script for /usr/bin/env python3: SCF runs it only if its image has /usr/bin/env"),
        ),
        // Static PIE: a dynamic section for self-relocation, but no
        // interpreter and no library. It starts as it is.
        ("static-pie", Some(elf(2, 62, 3, &[load, (PT_DYNAMIC, dynamic(&[(0x6ffffffb, 0x08000000), (0, 0)]))])), None),
    ];
    for (name, bytes, warning) in cases {
        let path = dir.join(name);
        if let Some(b) = bytes {
            fs::write(&path, b).unwrap();
        }
        // Not executable on disk: the zip entry is 0755 all the same.
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let zip_path = dir.join(format!("{name}.zip"));
        let o = run_package(&["--bootstrap", path.to_str().unwrap()], &zip_path);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name} refused: {err}");
        match warning {
            Some(w) => {
                assert!(err.starts_with("scripts/package: warning: ") && err.contains(w), "{name}: {err}");
                assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
            }
            None => assert_eq!(err, "", "{name}"),
        }
        let zip = fs::read(&zip_path).unwrap();
        check_layout(&zip);
        assert!(python_unzip(&zip_path, &dir.join(format!("{name}.unpacked"))) == fs::read(&path).unwrap());
    }
}

#[test]
fn refuses_handlers_it_cannot_build() {
    let dir = scratch("package-tests", "bad-handler");
    for (args, message) in [
        (&["--handler", "Cargo.toml"][..], "expected a .c, .o, .a or .zig file, or a Rust crate directory"),
        (&["--handler", "examples/c/no-such.c"][..], "examples/c/no-such.c does not exist"),
        (&["--handler", "examples/c/apigw.c", "--handler", "examples/c"][..], "package it alone"),
        (&["--handler", "include"][..], "is a directory without a Cargo.toml"),
        (&["--handler", "examples/rust", "--handler", "examples/c/echo.c"][..], "package it alone"),
    ] {
        let zip = dir.join("f.zip");
        let o = run_package(args, &zip);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(message) && err.lines().count() == 1, "{args:?}: {err}");
        assert!(!zip.exists());
    }
}

/// A bootstrap the script builds is packaged without its section header
/// table, and it still starts: with an empty environment it says the
/// runtime API variable is missing and exits with status 1.
#[test]
fn the_packaged_bootstrap_has_no_section_headers_and_starts() {
    let dir = scratch("package-tests", "elfstrip");
    package(&["--handler", "examples/c/echo.c"], &dir.join("a.zip"));
    let binary = python_unzip(&dir.join("a.zip"), &dir.join("bootstrap"));
    let shoff = u64::from_le_bytes(binary[40..48].try_into().unwrap());
    assert_eq!((shoff, u16_at(&binary, 60), u16_at(&binary, 62)), (0, 0, 0), "e_shoff, e_shnum, e_shstrndx");
    let path = dir.join("run");
    fs::write(&path, &binary).unwrap();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = Command::new(&path).env_clear().output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "scf-bootstrap: SCF_RUNTIME_API is not set\n");
}

/// `--features lambda` on an SCF build: one bootstrap for either platform
/// (SCF's dialect and Lambda's, chosen at start), which answers on each;
/// the Lambda variant (`--platform lambda`) answers on Lambda only.
#[test]
fn the_bootstrap_for_both_platforms_answers_on_each() {
    use common::lambda::{Event, LambdaApi, LambdaConfig};
    let dir = scratch("package", "both");
    let unzip = |zip: &Path, into: &str| {
        let to = dir.join(into);
        let o = Command::new("unzip").arg("-oq").arg(zip).arg("-d").arg(&to).output().expect("run unzip");
        assert!(o.status.success(), "unzip: {}", String::from_utf8_lossy(&o.stderr));
        to.join("bootstrap")
    };
    let both = unzip(
        &{
            let z = dir.join("both.zip");
            package(&["--features", "lambda"], &z);
            z
        },
        "both",
    );
    let lambda = unzip(
        &{
            let z = dir.join("lambda.zip");
            package(&["--platform", "lambda"], &z);
            z
        },
        "lambda",
    );
    let scf = common::api(common::Quirks::default());
    let _p = common::spawn(&both, &scf, "index.main_handler");
    assert_eq!(common::invoke_ok(&scf, b"on scf"), common::echo_of(b"on scf"));
    for bin in [&both, &lambda] {
        let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
        let value = api.env_value();
        let _p = common::spawn_env(bin, &[("AWS_LAMBDA_RUNTIME_API", &value), ("_HANDLER", "index.main_handler")]);
        let posted = api.invoke(Event { id: "b1".into(), body: b"on lambda".to_vec(), headers: vec![] }, common::T);
        assert_eq!(posted.body, common::echo_of(b"on lambda"), "{}", bin.display());
    }
    // The Lambda variant has no SCF dialect: SCF's settings are not its own.
    let port = scf.addr().port().to_string();
    let (status, err, _) =
        common::spawn_env(&lambda, &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", &port)])
            .wait(common::T);
    assert_eq!((status.code(), err.as_str()), (Some(1), "scf-bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n"));
}

/// A Rust handler crate is built with the platform's features by name; one
/// that does not forward the feature a build needs is refused in one line
/// that says what to add.
#[test]
fn a_crate_without_the_platform_feature_is_refused_in_one_line() {
    let dir = scratch("package", "no-feature");
    let krate = dir.join("crate");
    fs::create_dir_all(krate.join("src")).unwrap();
    fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"no-lambda\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"bootstrap\"\n\
             path = \"src/main.rs\"\n\n[dependencies]\nscf-bootstrap = {{ path = {:?} }}\n\n[features]\ncrash = []\n\n[workspace]\n",
            common::root().display().to_string()
        ),
    )
    .unwrap();
    fs::write(krate.join("src/main.rs"), "fn main() {}\n").unwrap();
    let zip = dir.join("x.zip");
    let o = run_package(&["--platform", "lambda", "--handler", krate.to_str().unwrap()], &zip);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--platform lambda: package no-lambda has no `scf` and `lambda` features to choose its platform"),
        "{err}"
    );
    let o = run_package(&["--features", "resolve", "--handler", krate.to_str().unwrap()], &zip);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!((o.status.code(), err.lines().count()), (Some(1), 1), "{err}");
    assert!(
        err.contains(
            "--features resolve: package no-lambda has no `resolve` feature: add resolve = [\"scf-bootstrap/resolve\"]"
        ),
        "{err}"
    );
    assert!(!zip.exists());
}

/// A tool on PATH, or (with CI unset) a skip marker and `None`.
fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()));
    scf_emulator::testkit::require_tool(name, found, &format!("apt-get install {name}"))
}

/// `scripts/package --image`: the OCI image archive of the runtime built
/// with `serve`, the same bytes every time and from the unpacked binary
/// again; skopeo sees one amd64 layer and the config (Entrypoint
/// ["/bootstrap"], Cmd ["serve"], port 9000/tcp), umoci unpacks
/// `/bootstrap` (0755, no section headers), and the unpacked bootstrap
/// serves: `/bootstrap serve` answers a pushed event with the echo.
#[test]
fn image_archive_is_reproducible_read_by_skopeo_and_umoci_and_serves() {
    let (Some(skopeo), Some(umoci)) = (tool("skopeo"), tool("umoci")) else { return };
    let dir = scratch("package-tests", "image");
    let first = package(&["--image"], &dir.join("a.tar"));
    let second = package(&["--image"], &dir.join("b.tar"));
    assert!(first == second, "two packagings of the same build gave different archives");
    let image = scf_emulator::oci::read(&first).unwrap();
    let binary = image.file("/bootstrap").expect("/bootstrap in the image").to_vec();
    let copy = dir.join("copy");
    fs::write(&copy, &binary).unwrap();
    let again = package(&["--image", "--bootstrap", copy.to_str().unwrap()], &dir.join("c.tar"));
    assert!(again == first, "repackaging the unpacked binary changed the archive");

    let src = format!("oci-archive:{}", dir.join("a.tar").display());
    let json = |args: &[&str]| -> serde_json::Value {
        let o = Command::new(&skopeo).args(args).arg(&src).output().unwrap();
        assert!(o.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let info = json(&["inspect"]);
    assert_eq!((info["Architecture"].as_str(), info["Os"].as_str()), (Some("amd64"), Some("linux")), "{info}");
    assert_eq!(info["Layers"].as_array().map(Vec::len), Some(1), "{info}");
    let config = json(&["inspect", "--config"]);
    let c = &config["config"];
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bootstrap"]), "{config}");
    assert_eq!(c["Cmd"], serde_json::json!(["serve"]), "{config}");
    assert_eq!(c["ExposedPorts"], serde_json::json!({"9000/tcp": {}}), "{config}");

    let layout = dir.join("layout");
    let _ = fs::remove_dir_all(&layout);
    fs::create_dir_all(&layout).unwrap();
    assert!(Command::new("tar").arg("-xf").arg(dir.join("a.tar")).arg("-C").arg(&layout).status().unwrap().success());
    let bundle = dir.join("bundle");
    let _ = fs::remove_dir_all(&bundle);
    let o = Command::new(&umoci)
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "umoci unpack: {}", String::from_utf8_lossy(&o.stderr));
    let bin = bundle.join("rootfs/bootstrap");
    assert_eq!(fs::metadata(&bin).unwrap().permissions().mode() & 0o7777, 0o755);
    assert_eq!(fs::read(&bin).unwrap(), binary);
    let shoff = u64::from_le_bytes(binary[40..48].try_into().unwrap());
    assert_eq!((shoff, u16_at(&binary, 60)), (0, 0), "packaged without its section headers");

    // The unpacked command serves one pushed event.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = Command::new(&bin)
        .arg("serve")
        .env_clear()
        .env("SCF_BOOTSTRAP_LISTEN", addr.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut s = loop {
        match std::net::TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(20) => {
                std::thread::sleep(std::time::Duration::from_millis(5))
            }
            Err(e) => panic!("the unpacked /bootstrap serve is not listening on {addr}: {e}"),
        }
    };
    let event = br#"{"key1":"value1"}"#;
    let req = format!(
        "POST /event-invoke HTTP/1.1\r\nHost: x\r\nX-Scf-Request-Id: r1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        event.len()
    );
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    std::io::Write::write_all(&mut s, &[req.as_bytes(), event].concat()).unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut answer);
    let _ = child.kill();
    let _ = child.wait();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.ends_with(r#"Echoing request: '{"key1":"value1"}'"#), "{answer}");
}
