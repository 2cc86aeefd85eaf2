//! The `scf-emulator` command: `invoke`, `run` and `--runtime-api-only`.

mod common;

use common::*;
use scf_emulator::http::client::Client;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_scf-emulator");
const T: Option<Duration> = Some(Duration::from_secs(10));

fn emulator_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    cmd
}

fn output(args: &[&str]) -> Output {
    emulator_cmd(args).stdin(Stdio::null()).output().unwrap()
}

fn tmp_env(dir: &std::path::Path) -> String {
    format!("TMPDIR={}", dir.join("tmp").display())
}

#[test]
fn invoke_prints_the_json_and_exits_0() {
    let dir = copy_fixture("bash-curl");
    let event = dir.path().join("event.json");
    std::fs::write(&event, EVENT).unwrap();
    let out = output(&[
        "invoke",
        dir.path().to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "-e",
        &tmp_env(dir.path()),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one line of JSON");
    assert!(
        text.starts_with("{\"Result\":{\"RetMsg\":"),
        "SCF's key order: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    check_shape(&v);
    assert_eq!(v["Result"]["RetMsg"], format!("Echoing request: '{EVENT}'"));
    assert_eq!(v["Result"]["InvokeResult"], 0);
    assert_eq!(v["Emulator"]["Cold"], true);
}

#[test]
fn invoke_reads_the_event_from_stdin() {
    let dir = copy_fixture("bash-curl");
    let mut child = emulator_cmd(&[
        "invoke",
        dir.path().to_str().unwrap(),
        "--event",
        "-",
        "-e",
        &tmp_env(dir.path()),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"from":"stdin"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["Result"]["RetMsg"],
        r#"Echoing request: '{"from":"stdin"}'"#
    );
}

#[test]
fn failed_invocation_exits_1_with_the_json() {
    let dir = copy_fixture("bash-curl-error");
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"x":"fail"}"#).unwrap();
    let out = output(&[
        "invoke",
        dir.path().to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "-e",
        &tmp_env(dir.path()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Result"]["InvokeResult"], 430);
    assert_eq!(v["Result"]["ErrMsg"], "parse event error");

    std::fs::remove_file(dir.path().join("bootstrap")).unwrap();
    let out = output(&[
        "invoke",
        dir.path().to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Result"]["InvokeResult"], 445);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = copy_fixture("bash-curl");
    let d = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&[], "no command given"),
        (&["invoke", d], "invoke needs --event"),
        (
            &["invoke", d, "--event", "/nonexistent/event.json"],
            "cannot read the event file",
        ),
        (
            &["invoke", "/nonexistent/fn", "--event", "-"],
            "cannot read function code",
        ),
        (&["run"], "missing FUNCTION"),
        (
            &["run", d, "--timeout", "soon"],
            "--timeout: expected a positive number",
        ),
        (&["run", d, "--memory"], "--memory needs a value"),
        (&["run", d, "-e", "NOEQUALS"], "expected KEY=VALUE"),
        (&["run", d, "--frobnicate"], "unknown option --frobnicate"),
        (&["--runtime-api-only"], "needs --port"),
    ];
    for (args, want) in cases {
        let out = output(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(
            err.starts_with("scf-emulator: ") && err.contains(want),
            "{args:?}: {err}"
        );
    }
    let help = output(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--runtime-api-only --port N"));
}

/// A running `scf-emulator` with its stderr lines on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
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

    /// The address printed on the "invoke endpoint http://ADDR/invoke" line.
    fn endpoint(&self) -> SocketAddr {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("the emulator announces its endpoint");
            if let Some(rest) = line.split("invoke endpoint http://").nth(1) {
                return rest.split('/').next().unwrap().parse().unwrap();
            }
        }
    }

    fn terminate(mut self) -> Option<i32> {
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

fn invoke_over_http(addr: SocketAddr, event: &[u8]) -> Value {
    let resp = Client::connect(addr, T)
        .unwrap()
        .request("POST", "/invoke", event)
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    check_shape(&v);
    assert_eq!(
        resp.header("x-scf-invoke-result").unwrap(),
        v["Result"]["InvokeResult"].to_string()
    );
    v
}

#[test]
fn run_serves_invoke_requests_one_at_a_time_and_cleans_up_on_sigterm() {
    let index = "function main_handler () {\nsleep 0.1\necho \"pid $$ got $1\"\n}\n";
    let dir = bash_function(index);
    let emu = Running::start(&[
        "run",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "-e",
        &tmp_env(dir.path()),
    ]);
    let addr = emu.endpoint();
    let handles: Vec<_> = (0..3)
        .map(|i| thread::spawn(move || invoke_over_http(addr, format!("{{\"n\":{i}}}").as_bytes())))
        .collect();
    let results: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut pids = Vec::new();
    for (i, v) in results.iter().enumerate() {
        let ret = v["Result"]["RetMsg"].as_str().unwrap();
        assert!(ret.ends_with(&format!("got {{\"n\":{i}}}")), "{ret}");
        pids.push(ret.split(' ').nth(1).unwrap().parse::<u32>().unwrap());
    }
    assert!(
        pids.windows(2).all(|w| w[0] == w[1]),
        "one instance served all: {pids:?}"
    );
    assert_eq!(
        results
            .iter()
            .filter(|v| v["Emulator"]["Cold"] == true)
            .count(),
        1
    );

    // The endpoint's other answers.
    let mut c = Client::connect(addr, T).unwrap();
    assert_eq!(c.request("GET", "/", b"").unwrap().status(), 200);
    assert_eq!(c.request("GET", "/invoke", b"").unwrap().status(), 405);
    assert_eq!(c.request("POST", "/nope", b"{}").unwrap().status(), 404);
    let v = invoke_over_http(addr, b"not json");
    assert_eq!(v["Result"]["InvokeResult"], 400);

    assert!(process_alive(pids[0]));
    assert_eq!(
        emu.terminate(),
        Some(128 + 15),
        "exits as killed by SIGTERM, after cleaning up"
    );
    assert!(
        wait_gone(pids[0]),
        "the bootstrap's process group was killed"
    );
}

#[test]
fn run_unpacks_a_zip_and_removes_it_on_exit() {
    let work = scf_emulator::code::TempDir::new("scf-emu-cli-zip").unwrap();
    let zip = scf_emulator::zip::write_stored(&[
        (
            "bootstrap",
            0o100755,
            &std::fs::read(fixture("bash-curl/bootstrap")).unwrap(),
        ),
        (
            "index.sh",
            0o100644,
            &std::fs::read(fixture("bash-curl/index.sh")).unwrap(),
        ),
    ]);
    let zip_path = work.path().join("demo.zip");
    std::fs::write(&zip_path, zip).unwrap();
    std::fs::create_dir(work.path().join("tmp")).unwrap();
    let emu = Running::start(&[
        "run",
        zip_path.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "-e",
        &tmp_env(work.path()),
    ]);
    let mut root = None;
    let addr = loop {
        let line = emu.lines.recv_timeout(Duration::from_secs(10)).unwrap();
        if let Some(r) = line.split("(root ").nth(1) {
            root = Some(std::path::PathBuf::from(r.split(')').next().unwrap()));
        }
        if let Some(rest) = line.split("invoke endpoint http://").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    let root = root.expect("the emulator names the unpacked root");
    assert!(root.join("bootstrap").is_file());
    let v = invoke_over_http(addr, EVENT.as_bytes());
    assert_eq!(v["Result"]["RetMsg"], format!("Echoing request: '{EVENT}'"));
    assert_eq!(emu.terminate(), Some(128 + 15));
    assert!(!root.exists(), "the unpacked copy is removed on exit");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn runtime_api_only_serves_a_bootstrap_started_by_hand() {
    let port = free_port();
    let port_s = port.to_string();
    let emu = Running::start(&[
        "--runtime-api-only",
        "--port",
        &port_s,
        "--listen",
        "127.0.0.1:0",
        "--timeout",
        "2",
    ]);
    let addr = emu.endpoint();
    // Start the guide's bootstrap ourselves, as a user would under a debugger.
    let dir = copy_fixture("bash-curl");
    let mut bootstrap = Command::new("./bootstrap")
        .current_dir(dir.path())
        .env("SCF_RUNTIME_API", "127.0.0.1")
        .env("SCF_RUNTIME_API_PORT", &port_s)
        .env("_HANDLER", "index.main_handler")
        .env("TMPDIR", dir.path().join("tmp"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let v = invoke_over_http(addr, EVENT.as_bytes());
    assert_eq!(
        v["Result"]["RetMsg"],
        format!("Echoing request: '{EVENT}'"),
        "{v}"
    );
    assert_eq!(v["Emulator"]["Cold"], true);
    assert_eq!(
        v["Result"]["MemUsage"], 0,
        "not measured: the emulator did not start it"
    );
    let v = invoke_over_http(addr, br#"{"again":1}"#);
    assert_eq!(v["Result"]["RetMsg"], r#"Echoing request: '{"again":1}'"#);
    assert_eq!(v["Emulator"]["Cold"], false);
    // Never `kill -KILL -PGID` through the kill(1) binary: procps-ng 4.0.2
    // misparses a negative pid after a signal name and signals far more than
    // the group. The library's kill_group calls kill(2) directly.
    scf_emulator::sys::kill_group(bootstrap.id()).unwrap();
    let _ = bootstrap.wait();
    assert_eq!(emu.terminate(), Some(128 + 15));
}

use std::os::unix::process::CommandExt;
