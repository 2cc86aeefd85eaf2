//! Shared by the integration tests: building real static `bootstrap`
//! binaries (with chosen handlers and features) and running them against a
//! loopback runtime-API peer.
#![allow(dead_code, unused_imports)]

pub mod lambda;
// The ELF fixtures cargo-scf's unit tests build too.
#[path = "../../cargo-scf/src/elf_fixture.rs"]
pub mod elf_fixture;

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use scf_emulator::{ApiConfig, CloseMode, HeaderCase, InvokeOptions, Outcome, Quirks, RuntimeApi};

/// The guide's test event (the emulator's [`scf_emulator::GUIDE_EVENT`]).
pub const GUIDE_EVENT: &[u8] = scf_emulator::GUIDE_EVENT.as_bytes();

/// A 6,000,000-byte event of the letters a to z repeated: near SCF's
/// 6 MB limit, so it makes the runtime grow its buffer to the largest size.
pub fn six_mb_event() -> Vec<u8> {
    (0..6_000_000u32).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/it: the integration tests' shared target dir (builds, zips,
/// scratch directories).
pub fn target_it() -> PathBuf {
    root().join("target/it")
}

/// An emptied directory target/it/`group`/`name`.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = target_it().join(group).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The target directory of one build configuration (`key`) under
/// target/it/builds. Each configuration (handlers, features, target,
/// profile) keeps its own: in a shared one, every build of another
/// configuration would rebuild the runtime (its build script reruns when
/// SCF_HANDLER_LIBS changes, and the release build is one LTO unit), so
/// test files that build different bootstraps would rebuild each other's
/// on every run. Apart, a build already made is fresh and takes no time.
pub fn build_dir(key: &str) -> PathBuf {
    let key: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.+".contains(c) { c } else { '_' }).collect();
    target_it().join("builds").join(key)
}

/// The target directory `run_package(args, ..)` builds in: one per set of
/// build arguments (handlers, --minimal, --target), see [`build_dir`].
pub fn package_target_dir(args: &[&str]) -> PathBuf {
    let mut key = String::from("package");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--handler" | "--target" | "--platform" | "--features" => {
                key.push('-');
                key.push_str(it.next().unwrap_or(&""));
            }
            "--minimal" | "--no-default-features" => key.push_str("-minimal"),
            "--pipeline" => key.push_str("-pipeline"),
            "--image" => key.push_str("-image"),
            _ => {}
        }
    }
    build_dir(&key)
}

/// Runs `scripts/package --quiet --target-dir DIR ARGS -o OUT` from the
/// repository root, DIR being [`package_target_dir`]`(ARGS)`.
pub fn run_package(args: &[&str], out: &Path) -> std::process::Output {
    Command::new(root().join("scripts/package"))
        .current_dir(root())
        .args(["--quiet", "--target-dir"])
        .arg(package_target_dir(args))
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run scripts/package (needs python3)")
}

/// `cargo build` of the host binary `bin` of `package` into target/it;
/// returns its path.
fn host_bin(package: &str, bin: &str) -> PathBuf {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args(["build", "--quiet", "-p", package, "--bin", bin, "--target-dir"])
        .arg(target_it())
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "building {bin} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    target_it().join("debug").join(bin)
}

/// The `scf-emulator` binary, built once per test process into target/it.
pub fn emulator_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| host_bin("scf-emulator", "scf-emulator"))
}

/// The `cargo-scf` binary (`cargo scf`), built once per test process into
/// target/it.
pub fn cargo_scf_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| host_bin("cargo-scf", "cargo-scf"))
}

/// A test handler's `key=value key=value ...` report as a map.
pub fn fields(report: &[u8]) -> std::collections::HashMap<String, String> {
    String::from_utf8(report.to_vec())
        .unwrap()
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// How one bootstrap binary is built.
#[derive(Clone, Debug, Default)]
pub struct Build<'a> {
    /// Names the output: target/it/bin/<name>/bootstrap.
    pub name: &'a str,
    /// SCF_HANDLER_LIBS entries, relative to the repository root.
    pub handlers: &'a [&'a str],
    /// Build with `--no-default-features`.
    pub no_default_features: bool,
    /// Cargo features to add (`--features`), comma-separated; empty for none.
    pub features: &'a str,
    /// Cargo profile: "release" (stripped, as shipped) or "symbols".
    pub profile: &'a str,
    /// Rust target triple; empty means `x86_64-unknown-linux-musl`.
    pub target: &'a str,
}

/// The target the tests build for unless told otherwise.
pub const X86_64: &str = "x86_64-unknown-linux-musl";
/// 64-bit Arm (AWS Lambda arm64), run under qemu-user by these tests.
pub const AARCH64: &str = "aarch64-unknown-linux-musl";

static BUILD: Mutex<()> = Mutex::new(());

/// Builds the static musl `bootstrap` described by `b` with the real
/// `cargo build --release --target <target>` path and
/// returns the path of a private copy. Each `name` builds in its own
/// target dir (see [`build_dir`]), so one name must always mean the same
/// handlers and features. Builds are serialised: in this process by a
/// mutex, across test processes by a file lock (target/it/.build-lock).
pub fn build(b: &Build) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = root();
    fs::create_dir_all(target_it()).unwrap();
    let lock = File::create(target_it().join(".build-lock")).unwrap();
    lock.lock().unwrap();

    let profile = if b.profile.is_empty() { "release" } else { b.profile };
    let triple = if b.target.is_empty() { X86_64 } else { b.target };
    let target = build_dir(&format!("{}-{profile}-{triple}", b.name));
    let libs: Vec<String> = b.handlers.iter().map(|h| root.join(h).display().to_string()).collect();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--profile",
            profile,
            "--target",
            triple,
            "-p",
            "scf-bootstrap",
            "--bin",
            "bootstrap",
        ])
        .arg("--target-dir")
        .arg(&target)
        .env("SCF_HANDLER_LIBS", libs.join(":"));
    if b.no_default_features {
        cmd.arg("--no-default-features");
    }
    if !b.features.is_empty() {
        cmd.args(["--features", b.features]);
    }
    let out = cmd.output().expect("run cargo");
    assert!(out.status.success(), "building bootstrap {:?} failed:\n{}", b, String::from_utf8_lossy(&out.stderr));
    let built = target.join(triple).join(profile).join("bootstrap");
    let dir = target_it().join("bin").join(b.name);
    fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("bootstrap");
    let tmp = dir.join("bootstrap.tmp");
    fs::copy(&built, &tmp).unwrap();
    fs::rename(&tmp, &dest).unwrap();
    dest
}

/// The default (echo demo) release build: SCF's bootstrap.
pub fn demo() -> PathBuf {
    build(&Build { name: "demo", ..Default::default() })
}

/// The image build (what `scripts/package --image` builds, with the echo
/// demo): push mode alone, `--no-default-features --features serve,crash`.
pub fn image_demo() -> PathBuf {
    build(&Build { name: "image-demo", no_default_features: true, features: "serve,crash", ..Default::default() })
}

/// The cargo features of the Lambda variant (what `scripts/package
/// --platform lambda` builds): Lambda's dialect and crash reports alone.
pub const LAMBDA: &str = "lambda,crash";

/// The Lambda variant of the build `name` with `handlers`.
pub fn lambda_build(name: &str, handlers: &[&str]) -> PathBuf {
    build(&Build { name, handlers, no_default_features: true, features: LAMBDA, ..Default::default() })
}

/// The echo demo, Lambda variant.
pub fn lambda_demo() -> PathBuf {
    lambda_build("lambda-demo", &[])
}

/// The echo demo with both dialects (`--features lambda` on top of the
/// default): the one bootstrap for either platform, chosen at start.
pub fn both_demo() -> PathBuf {
    build(&Build { name: "demo-both", features: "lambda", ..Default::default() })
}

/// The demo built with the cargo feature `pipeline` as well (docs/platforms.md,
/// "Pipelining").
pub fn pipelined_demo() -> PathBuf {
    build(&Build { name: "demo-pipeline", features: "pipeline", ..Default::default() })
}

/// A loopback runtime API with `quirks`, on 127.0.0.1.
pub fn api(quirks: Quirks) -> RuntimeApi {
    api_on("127.0.0.1:0", quirks)
}

pub fn api_on(bind: &str, quirks: Quirks) -> RuntimeApi {
    let cfg = ApiConfig { bind: bind.parse().unwrap(), quirks, ..ApiConfig::default() };
    RuntimeApi::start(cfg).expect("start runtime API")
}

/// A running bootstrap process. Its stderr is drained by a thread (a
/// handler that logs a 6 MB event must not block on a full pipe).
pub struct Proc {
    pub child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Proc {
    /// Waits up to `limit` for the process to exit; kills it and fails the
    /// test if it does not.
    /// Kills the process and returns what it wrote on stderr: for a test
    /// that has seen what it came for (letting the runtime notice a peer
    /// that went away would wait out its 10 s retry budget, which
    /// tests/faults.rs and the unit tests of the retry policy cover).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default()
    }

    pub fn wait(mut self, limit: Duration) -> (ExitStatus, String, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let took = start.elapsed();
                let err = self.stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
                return (status, err, took);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("bootstrap did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ELF machine of `bin` (`e_machine`: 62 x86_64, 183 aarch64), or
/// None if it is not an ELF file.
pub fn elf_machine(bin: &Path) -> Option<u16> {
    let mut head = [0u8; 20];
    File::open(bin).and_then(|mut f| f.read_exact(&mut head)).ok()?;
    (head[..4] == *b"\x7fELF").then(|| u16::from_le_bytes([head[18], head[19]]))
}

/// The size of `bin`'s section `name` (from `readelf -S`), or None if it
/// has none.
pub fn section_size(bin: &Path, name: &str) -> Option<usize> {
    let o = Command::new("readelf").arg("-SW").arg(bin).output().expect("run readelf (binutils)");
    assert!(o.status.success(), "readelf -S {}: {}", bin.display(), String::from_utf8_lossy(&o.stderr));
    // `[Nr] Name Type Address Off Size ...`
    String::from_utf8_lossy(&o.stdout).lines().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().skip_while(|w| *w != name).collect();
        w.get(4).map(|size| usize::from_str_radix(size, 16).unwrap())
    })
}

/// The qemu-user emulator that runs `bin` on this machine, if it needs one
/// (an aarch64 binary on an x86_64 host).
pub fn emulator_for(bin: &Path) -> Option<&'static str> {
    match (elf_machine(bin)?, std::env::consts::ARCH) {
        (183, "aarch64") | (62, "x86_64") => None,
        (183, _) => Some("qemu-aarch64-static"),
        (62, _) => Some("qemu-x86_64-static"),
        _ => None,
    }
}

/// A command that runs `bin`: directly, or under qemu-user when it is built
/// for another architecture (Debian's qemu-user-static).
pub fn command(bin: &Path) -> Command {
    match emulator_for(bin) {
        None => Command::new(bin),
        Some(qemu) => {
            let ok = Command::new(qemu).arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
            assert!(ok, "{qemu} is required to run {} (apt-get install qemu-user-static)", bin.display());
            let mut cmd = Command::new(qemu);
            cmd.arg(bin);
            cmd
        }
    }
}

/// Starts `bin` with exactly the environment given (nothing inherited).
/// Makes `cmd`'s process start with a core-file limit of 0, so the tests
/// that crash a bootstrap on purpose leave no core files behind.
pub fn no_core_dumps(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(|| {
            let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            if libc::setrlimit(libc::RLIMIT_CORE, &none) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn spawn_env(bin: &Path, env: &[(&str, &str)]) -> Proc {
    let mut cmd = command(bin);
    cmd.env_clear().envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    Proc::spawn(cmd)
}

/// Starts `bin` with exactly the environment `env`, stdin and stdout on
/// `/dev/null`, stderr piped, and no core dumps (for a bootstrap that is
/// to crash).
pub fn spawn_no_core(bin: &Path, env: &[(&str, &str)]) -> Proc {
    let mut cmd = command(bin);
    cmd.env_clear().envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    no_core_dumps(&mut cmd);
    Proc::spawn(cmd)
}

/// The Rust handler crate in `dir` (a workspace of its own under tests/,
/// such as tests/rust-crash), built as a user builds one: `cargo build
/// --release` for x86_64 musl, in target/it/<its folder name>. Returns
/// its `bootstrap`.
pub fn build_crate(dir: &str) -> PathBuf {
    build_crate_as(dir, "", &[])
}

/// [`build_crate`] with cargo arguments `args` (features), in a target
/// directory of its own named after `tag`.
pub fn build_crate_as(dir: &str, tag: &str, args: &[&str]) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let name = Path::new(dir).file_name().unwrap().to_string_lossy().into_owned() + tag;
    let target = target_it().join(name);
    fs::create_dir_all(target_it()).unwrap();
    let lock = File::create(target_it().join(".build-lock")).unwrap();
    lock.lock().unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args(["build", "--quiet", "--release", "--target", X86_64, "--manifest-path"])
        .arg(root().join(dir).join("Cargo.toml"))
        .args(args)
        .arg("--target-dir")
        .arg(&target)
        .env_remove("SCF_HANDLER_LIBS")
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "building {dir} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    target.join(X86_64).join("release/bootstrap")
}

impl Proc {
    /// A process started by the caller, whose stderr is not read here.
    pub fn from_child(child: Child) -> Proc {
        Proc { child, stderr: None }
    }

    /// Starts `cmd`, which must have stderr piped.
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd.spawn().expect("spawn bootstrap");
        let mut pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
        Proc { child, stderr: Some(stderr) }
    }
}

/// Starts `bin` pointed at `api` as SCF would, with `_HANDLER` set.
pub fn spawn(bin: &Path, api: &RuntimeApi, handler: &str) -> Proc {
    let env = scf_env(api, handler);
    spawn_env(bin, &env.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
}

/// As [`spawn`], but through `/bin/sh -c 'exec BIN REDIRECTS'`, so that the
/// bootstrap starts with the descriptors the redirections leave (`2>&-`:
/// stderr closed), as a platform's own wrapper script might start it.
pub fn spawn_redirected(bin: &Path, api: &RuntimeApi, handler: &str, redirects: &str) -> Proc {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(format!("exec \"$0\" {redirects}")).arg(bin);
    cmd.env_clear().envs(scf_env(api, handler)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    Proc::spawn(cmd)
}

/// The environment SCF gives a bootstrap pointed at `api`.
pub fn scf_env(api: &RuntimeApi, handler: &str) -> Vec<(&'static str, String)> {
    let addr = api.addr();
    vec![
        ("SCF_RUNTIME_API", addr.ip().to_string()),
        ("SCF_RUNTIME_API_PORT", addr.port().to_string()),
        ("_HANDLER", handler.to_string()),
        ("SCF_FUNCTIONNAME", "it-function".into()),
        ("SCF_NAMESPACE", "default".into()),
        ("SCF_FUNCTIONVERSION", "$LATEST".into()),
        ("TENCENTCLOUD_REGION", "ap-guangzhou".into()),
        ("TENCENTCLOUD_RUNENV", "SCF".into()),
    ]
}

pub const T: Duration = Duration::from_secs(20);

/// Invokes once and returns the response body, failing on anything else.
pub fn invoke_ok(api: &RuntimeApi, event: &[u8]) -> Vec<u8> {
    match api.invoke(event, T).expect("invoke") {
        Outcome::Response(b) => b,
        other => panic!("expected a response, got {other:?}"),
    }
}

pub fn echo_of(event: &[u8]) -> Vec<u8> {
    [&b"Echoing request: '"[..], event, b"'"].concat()
}

/// What the scripted peer does with a request.
pub enum Reply {
    Answer(Vec<u8>),
    /// Answer, then close without reading what else the client sent.
    AnswerThenClose(Vec<u8>),
    /// Close without answering.
    Close,
}

/// A raw TCP peer: answers each request with the next reply of the script
/// and records it as `METHOD TARGET HTTP/1.x <body>`, with ` +` appended
/// when the next request's bytes had already arrived behind it (sent
/// before this one was answered). After the last reply it closes the
/// connection and stops listening.
pub fn scripted_peer(replies: Vec<Reply>) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut replies = replies.into_iter().peekable();
        'conns: while let Ok((s, _)) = l.accept() {
            let mut conn = scf_emulator::http::Conn::new(s);
            loop {
                let Ok(Some(raw)) = conn.read_head_bytes() else { continue 'conns };
                let head = scf_emulator::http::parse_request_head(&raw).expect("a request head");
                let body = conn.read_body(head.framing().expect("framed"), 1 << 20).expect("a body");
                seen.push(format!(
                    "{} {} HTTP/1.{}{}{}",
                    head.method,
                    head.target,
                    head.minor_version,
                    if body.is_empty() { String::new() } else { format!(" <{}>", String::from_utf8_lossy(&body)) },
                    if conn.has_buffered() { " +" } else { "" }
                ));
                match replies.next() {
                    Some(Reply::Answer(r)) => conn.send(&r).unwrap(),
                    Some(Reply::AnswerThenClose(r)) => {
                        conn.send(&r).unwrap();
                        continue 'conns;
                    }
                    Some(Reply::Close) => continue 'conns,
                    None => break 'conns,
                }
                if replies.peek().is_none() {
                    break 'conns;
                }
            }
        }
        seen
    });
    (port, t)
}
