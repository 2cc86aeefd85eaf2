//! The Lambda dialect against a runtime API nobody here wrote: cargo-lambda's
//! emulator (PyPI `cargo-lambda`, installed by .ci/run). `cargo lambda watch
//! --only-lambda-apis` serves the runtime API; this bootstrap runs under it
//! with the AWS_LAMBDA_RUNTIME_API value cargo-lambda prints, and the
//! answers are checked through `cargo lambda invoke` and through the HTTP
//! invoke endpoint `POST /2015-03-31/functions/_/invocations`.
//!
//! Without cargo-lambda each test is skipped with a marker line that
//! scripts/test counts in its closing line, except under CI (`CI` set),
//! where a missing cargo-lambda fails them (`scf_emulator::testkit`).
mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// cargo-lambda on PATH or in the repository's .venv.
fn cargo_lambda() -> Option<PathBuf> {
    let venv = root().join(".venv/bin/cargo-lambda");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join("cargo-lambda")).find(|p| p.is_file())
}

fn require_cargo_lambda() -> Option<PathBuf> {
    let install = "pip install cargo-lambda, on PATH or in .venv; .ci/run installs it";
    scf_emulator::testkit::require_tool("cargo-lambda", cargo_lambda(), install)
}

/// A running `cargo lambda watch --only-lambda-apis`, killed (by its pid)
/// when dropped.
struct Watch {
    child: Child,
    port: u16,
    /// The AWS_LAMBDA_RUNTIME_API value cargo-lambda printed.
    runtime_api: String,
    cl: PathBuf,
}

impl Watch {
    fn start(cl: &Path, name: &str) -> Watch {
        // watch reads a Cargo manifest (cargo metadata) even when it builds
        // nothing: a tiny package with no dependencies, so nothing is fetched.
        let dir = root().join("target/it/cargo-lambda").join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"peer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(cl)
            .args(["lambda", "watch", "--only-lambda-apis", "-P", &port.to_string()])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo lambda watch");
        // Its log names the runtime API; read it until it says it serves.
        let (tx, rx) = std::sync::mpsc::channel();
        for pipe in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let start = Instant::now();
        let mut runtime_api = None;
        let mut seen = Vec::new();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if let Some(v) = line.split("AWS_LAMBDA_RUNTIME_API=").nth(1) {
                    runtime_api = Some(v.trim().to_string());
                }
                seen.push(line);
            }
            if runtime_api.is_some() && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
        }
        let Some(runtime_api) = runtime_api else {
            let _ = child.kill();
            panic!("cargo lambda watch did not start:\n{}", seen.join("\n"));
        };
        Watch { child, port, runtime_api, cl: cl.to_path_buf() }
    }

    /// Runs `bin` under it, as Lambda would.
    fn run(&self, bin: &Path, handler: &str) -> Proc {
        spawn_env(
            bin,
            &[
                ("AWS_LAMBDA_RUNTIME_API", &self.runtime_api),
                ("_HANDLER", handler),
                ("AWS_LAMBDA_FUNCTION_NAME", "_"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096"),
            ],
        )
    }

    /// `cargo lambda invoke -P PORT --data-ascii DATA`: (success, stdout + stderr).
    fn invoke_cli(&self, data: &str) -> (bool, String) {
        let out = Command::new(&self.cl)
            .args(["lambda", "invoke", "-P", &self.port.to_string(), "--data-ascii", data])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run cargo lambda invoke");
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    /// `POST /2015-03-31/functions/_/invocations`: (status, body).
    fn invoke_http(&self, body: &[u8]) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        let head = format!(
            "POST /2015-03-31/functions/_/invocations HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&raw).expect("an HTTP response") {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("truncated response: {raw:?}"),
        };
        (resp.code.unwrap(), raw[n..].to_vec())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_lambda_build_echoes_under_cargo_lambda() {
    let Some(cl) = require_cargo_lambda() else { return };
    let watch = Watch::start(&cl, "demo");
    assert!(watch.runtime_api.starts_with("http://[::]:"), "cargo-lambda's form: {}", watch.runtime_api);
    let _p = watch.run(&lambda_demo(), "index.main_handler");
    let (ok, out) = watch.invoke_cli(r#"{"hello":"lambda"}"#);
    assert!(ok, "{out}");
    assert_eq!(out.trim_end(), r#"Echoing request: '{"hello":"lambda"}'"#);
    for i in 0..3 {
        let ev = format!(r#"{{"n":{i},"s":"quote \" and \\ back"}}"#);
        assert_eq!(watch.invoke_http(ev.as_bytes()), (200, echo_of(ev.as_bytes())));
    }
}

#[test]
fn a_c_handler_echoes_under_cargo_lambda() {
    let Some(cl) = require_cargo_lambda() else { return };
    let watch = Watch::start(&cl, "c-echo");
    let bin = lambda_build("lambda-c-echo", &["examples/c/echo.c"]);
    let _p = watch.run(&bin, "index.main_handler");
    assert_eq!(watch.invoke_http(br#"{"from":"c"}"#), (200, echo_of(br#"{"from":"c"}"#)));
    let (ok, out) = watch.invoke_cli(r#"{"cli":1}"#);
    assert!(ok, "{out}");
    assert_eq!(out.trim_end(), r#"Echoing request: '{"cli":1}'"#);
}

#[test]
fn a_handler_error_reaches_the_invoker_with_its_type_and_message() {
    let Some(cl) = require_cargo_lambda() else { return };
    let watch = Watch::start(&cl, "error");
    let bin = lambda_build("lambda-c-handlers", &["tests/c/handlers.c"]);
    let _p = watch.run(&bin, "index.fail_with_message");
    // cargo-lambda answers a function error with status 500 and the body the
    // runtime posted, so the JSON must be valid for it to pass it on.
    let (status, body) = watch.invoke_http(br#"{"k":"v"}"#);
    assert_eq!(status, 500);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"errorMessage":"cannot handle event: {\"k\":\"v\"}","errorType":"Handler.Error"}"#
    );
    let (ok, out) = watch.invoke_cli(r#""x""#);
    assert!(!ok, "an error is a failed invoke: {out}");
    assert!(out.contains("Handler.Error") && out.contains(r#"cannot handle event: "x""#), "{out}");
    // The instance lives on.
    let (status, _) = watch.invoke_http(b"{}");
    assert_eq!(status, 500);
}

#[test]
fn a_crashing_handler_is_reported_to_the_invoker() {
    let Some(cl) = require_cargo_lambda() else { return };
    let watch = Watch::start(&cl, "crash");
    let bin = lambda_build("lambda-crash", &["tests/c/crash.c"]);
    let p = watch.run(&bin, "index.crash");
    let (status, body) = watch.invoke_http(b"{}");
    assert_eq!(status, 500);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("crash") && body.contains("SIGSEGV"), "{body}");
    let (exit, err, _) = p.wait(T);
    assert!(!exit.success(), "{err}");
}
