//! Helpers shared by the emulator's integration tests.
#![allow(dead_code)]

use scf_emulator::code::TempDir;
use scf_emulator::{Emulator, FunctionCode, FunctionConfig, InvokeReport};
use serde_json::Value;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

// Shared with deploy/tests/common (included there by path).
mod tools;
#[allow(unused_imports)]
pub use tools::{require_tool, sdk_python};

/// The guide's example event.
pub const EVENT: &str = scf_emulator::GUIDE_EVENT;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A function directory: the guide's bash `bootstrap`, verbatim, next to an
/// `index.sh` written by the test (the bootstrap sources the file named by
/// `_HANDLER`'s part before the dot, so top-level code in it runs during
/// init and `main_handler` runs per event).
pub fn bash_function(index_sh: &str) -> TempDir {
    let dir = TempDir::new("scf-emu-test").unwrap();
    fs::copy(fixture("bash-curl/bootstrap"), dir.path().join("bootstrap")).unwrap();
    fs::set_permissions(
        dir.path().join("bootstrap"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(dir.path().join("index.sh"), index_sh).unwrap();
    fs::create_dir(dir.path().join("tmp")).unwrap();
    dir
}

/// [`bash_function`] with the error-pushing variant of the guide's
/// bootstrap (fixtures/bash-curl-error: a handler that returns non-zero
/// has its output posted to the error endpoint).
pub fn bash_error_function(index_sh: &str) -> TempDir {
    let dir = bash_function(index_sh);
    fs::copy(
        fixture("bash-curl-error/bootstrap"),
        dir.path().join("bootstrap"),
    )
    .unwrap();
    dir
}

/// Test defaults: short timeouts, and `TMPDIR` inside the function
/// directory, because the guide's bootstrap leaves a `mktemp` file behind
/// for every event.
pub fn config(dir: &Path) -> FunctionConfig {
    let tmp = dir.join("tmp");
    let _ = fs::create_dir_all(&tmp);
    FunctionConfig {
        timeout: Duration::from_secs(1),
        init_timeout: Duration::from_secs(2),
        env: vec![("TMPDIR".into(), tmp.display().to_string())],
        ..FunctionConfig::default()
    }
}

pub fn emulator(dir: &Path, cfg: FunctionConfig) -> Emulator {
    Emulator::new(FunctionCode::load(dir).unwrap(), cfg)
}

/// The report as a caller sees it: parsed from the JSON, with the shape of
/// `Result` checked field by field.
pub fn json(report: &InvokeReport) -> Value {
    let v: Value = serde_json::from_str(&report.to_json()).expect("the report is valid JSON");
    check_shape(&v);
    v
}

/// Every Invoke API field is present with SCF's type (Tencent Cloud SDK,
/// scf v20180416 `Result`), and the ids agree.
pub fn check_shape(v: &Value) {
    let r = &v["Result"];
    let obj = r.as_object().expect("Result is an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "BillDuration",
            "Duration",
            "ErrMsg",
            "FunctionRequestId",
            "InvokeResult",
            "Log",
            "MemUsage",
            "RetMsg"
        ]
    );
    for k in ["RetMsg", "ErrMsg", "Log", "FunctionRequestId"] {
        assert!(r[k].is_string(), "{k} is a string");
    }
    assert!(
        r["Duration"].as_f64().is_some_and(|d| d >= 0.0),
        "Duration is a number of ms"
    );
    assert!(
        r["BillDuration"].is_u64(),
        "BillDuration is an integer of ms"
    );
    assert!(r["MemUsage"].is_u64(), "MemUsage is an integer of bytes");
    assert!(r["InvokeResult"].is_i64());
    assert_eq!(v["RequestId"], r["FunctionRequestId"]);
    let id = v["RequestId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "UUID-shaped request id: {id}");
    assert!(
        r["Log"].as_str().unwrap().len() <= 4096 + 3,
        "Log is at most 4 KB"
    );
    let bill = r["BillDuration"].as_u64().unwrap() as f64;
    let dur = r["Duration"].as_f64().unwrap();
    assert!(
        bill >= dur && bill < dur + 1.0,
        "BillDuration {bill} is Duration {dur} rounded up"
    );
    let e = &v["Emulator"];
    assert!(e["Cold"].is_boolean());
    assert!(e["InitDurationUs"].is_null() || e["InitDurationUs"].is_u64());
    assert_eq!(
        e["StatusCode"].as_u64().unwrap() == 200,
        r["InvokeResult"] == 0
    );
}

pub fn process_alive(pid: u32) -> bool {
    // A zombie has a /proc entry but state Z; count it as gone.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits up to 2 s for `pid` to disappear.
pub fn wait_gone(pid: u32) -> bool {
    for _ in 0..200 {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// This project's bootstrap, for the tests that host it.
///
/// `SCF_BOOTSTRAP_BIN` names a built `bootstrap`. Unset, it is built here
/// once, into `target/it` (a separate target directory, so the outer cargo
/// build's lock is not contended):
/// `cargo build --release --target x86_64-unknown-linux-musl -p scf-bootstrap --bin bootstrap`.
pub fn own_bootstrap() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("SCF_BOOTSTRAP_BIN") {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "SCF_BOOTSTRAP_BIN={} is not a file",
                p.display()
            );
            return p;
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let target = root.join("target/it");
        fs::create_dir_all(&target).unwrap();
        // The root package's integration tests build other variants (with C
        // handlers) into the same directory: take the lock they take, and
        // keep a private copy of this build, so that a test runner running
        // both suites at once cannot hand this one the wrong binary.
        let lock = fs::File::create(target.join(".build-lock")).unwrap();
        lock.lock().unwrap();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "--target",
                "x86_64-unknown-linux-musl",
                "-p",
                "scf-bootstrap",
                "--bin",
                "bootstrap",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("SCF_HANDLER_LIBS")
            .status()
            .expect("run cargo to build the bootstrap");
        assert!(status.success(), "building the project's bootstrap failed");
        let copy = target.join("bin/emulator-demo");
        fs::create_dir_all(&copy).unwrap();
        fs::copy(
            target.join("x86_64-unknown-linux-musl/release/bootstrap"),
            copy.join("bootstrap"),
        )
        .unwrap();
        copy.join("bootstrap")
    })
    .clone()
}

/// A function directory holding only a copy of this project's bootstrap.
pub fn own_function() -> TempDir {
    let dir = TempDir::new("scf-emu-own").unwrap();
    fs::copy(own_bootstrap(), dir.path().join("bootstrap")).unwrap();
    fs::set_permissions(
        dir.path().join("bootstrap"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    dir
}

/// A copy of fixture directory `name` in a fresh temporary directory (with
/// an empty `tmp/`), modes kept, so tests never write into the source tree.
pub fn copy_fixture(name: &str) -> TempDir {
    let dir = TempDir::new("scf-emu-fixture").unwrap();
    for entry in fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.file_name());
        fs::copy(entry.path(), &to).unwrap();
    }
    fs::create_dir(dir.path().join("tmp")).unwrap();
    dir
}

/// The `scf-emulator` command, with `args`.
pub fn emulator_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scf-emulator"));
    cmd.args(args);
    cmd
}

/// A running `scf-emulator` with its stderr lines on a channel.
pub struct Running {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl Running {
    pub fn start(args: &[&str]) -> Running {
        let mut child = emulator_cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // Keep draining so the emulator never blocks on stderr.
                    continue;
                }
            }
        });
        Running { child, lines }
    }

    /// `scf-emulator run CODE --listen 127.0.0.1:0 --quiet -e
    /// TMPDIR=<work>/tmp` and then `extra`: a server on a free loopback
    /// port whose bootstrap keeps its temporary files under `work`.
    pub fn serve(code: &Path, work: &Path, extra: &[&str]) -> Running {
        let tmp = format!("TMPDIR={}", work.join("tmp").display());
        let code = code.to_str().unwrap();
        let base = [
            "run",
            code,
            "--listen",
            "127.0.0.1:0",
            "--quiet",
            "-e",
            &tmp,
        ];
        Running::start(&[&base[..], extra].concat())
    }

    /// The address printed on the "invoke endpoint http://ADDR/invoke" (or
    /// "API gateway endpoint http://ADDR/") line.
    pub fn endpoint(&self) -> SocketAddr {
        loop {
            let line = self.line();
            if let Some(rest) = line.split(" endpoint http://").nth(1) {
                return rest.split('/').next().unwrap().parse().unwrap();
            }
        }
    }

    /// The next stderr line (waiting up to 10 s).
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the emulator printed a line")
    }

    /// Skips stderr lines until one contains `text`; returns it.
    pub fn wait_for(&self, text: &str) -> String {
        loop {
            let line = self.line();
            if line.contains(text) {
                return line;
            }
        }
    }

    pub fn terminate(mut self) -> Option<i32> {
        scf_emulator::sys::signal_process(self.child.id(), 15).unwrap();
        let status = self.child.wait().unwrap();
        status.code()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's `chromium`, for the browser test (`CHROMIUM` names another).
pub fn chromium() -> Option<PathBuf> {
    let bin = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("chromium"), PathBuf::from);
    let works = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    require_tool(
        "chromium",
        works.then_some(bin),
        "apt-get install chromium, or set CHROMIUM",
    )
}
