//! Shared by the integration tests: building real static `bootstrap`
//! binaries (with chosen handlers and features) and running them against a
//! loopback runtime-API peer.
#![allow(dead_code, unused_imports)]

pub mod lambda;

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use scf_emulator::{ApiConfig, CloseMode, HeaderCase, InvokeOptions, Outcome, Quirks, RuntimeApi};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
    /// Cargo profile: "release" (stripped, as shipped) or "symbols".
    pub profile: &'a str,
}

static BUILD: Mutex<()> = Mutex::new(());

/// Builds the static musl `bootstrap` described by `b` with the real
/// `cargo build --release --target x86_64-unknown-linux-musl` path and
/// returns the path of a private copy. Builds share one target dir
/// (target/it) and are serialised: in this process by a mutex, across test
/// processes by a file lock.
pub fn build(b: &Build) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let root = root();
    let target = root.join("target/it");
    fs::create_dir_all(&target).unwrap();
    let lock = File::create(target.join(".build-lock")).unwrap();
    lock.lock().unwrap();

    let profile = if b.profile.is_empty() { "release" } else { b.profile };
    let libs: Vec<String> = b.handlers.iter().map(|h| root.join(h).display().to_string()).collect();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--profile",
            profile,
            "--target",
            "x86_64-unknown-linux-musl",
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
    let out = cmd.output().expect("run cargo");
    assert!(out.status.success(), "building bootstrap {:?} failed:\n{}", b, String::from_utf8_lossy(&out.stderr));
    let built = target.join("x86_64-unknown-linux-musl").join(profile).join("bootstrap");
    let dir = target.join("bin").join(b.name);
    fs::create_dir_all(&dir).unwrap();
    let dest = dir.join("bootstrap");
    let tmp = dir.join("bootstrap.tmp");
    fs::copy(&built, &tmp).unwrap();
    fs::rename(&tmp, &dest).unwrap();
    dest
}

/// The default (echo demo) release build.
pub fn demo() -> PathBuf {
    build(&Build { name: "demo", ..Default::default() })
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

/// Starts `bin` with exactly the environment given (nothing inherited).
pub fn spawn_env(bin: &Path, env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.env_clear().envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    Proc::spawn(cmd)
}

impl Proc {
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
    let addr = api.addr();
    let host = addr.ip().to_string();
    let port = addr.port().to_string();
    spawn_env(
        bin,
        &[
            ("SCF_RUNTIME_API", &host),
            ("SCF_RUNTIME_API_PORT", &port),
            ("_HANDLER", handler),
            ("SCF_FUNCTIONNAME", "it-function"),
            ("SCF_NAMESPACE", "default"),
            ("SCF_FUNCTIONVERSION", "$LATEST"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
        ],
    )
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
