//! The measurements of the size and instruction budgets: callgrind
//! instruction counts from exec to the first response and per warm
//! invocation (bench/'s method, environment and events), and zip sizes.
mod common;

use common::*;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The event of the cold-start measurement (bench/'s COLD_EVENT: the guide's
/// timer event).
const COLD_EVENT: &[u8] =
    br#"{"Type":"Timer","TriggerName":"EveryDay","Time":"2019-02-21T11:49:00Z","Message":"user define msg body"}"#;

/// A JSON object of exactly `len` bytes (bench/'s `json_event`).
fn json_event(len: usize) -> Vec<u8> {
    let mut v = b"{\"message\":\"".to_vec();
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut i = 0;
    while v.len() + 2 < len {
        v.push(alphabet[i % alphabet.len()]);
        i += 1;
    }
    v.extend_from_slice(b"\"}");
    v
}

/// Which runtime API a measured build is pointed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Scf,
    Lambda,
}

/// The environment the platform gives the bootstrap (bench/'s, so that the
/// figures are the benchmark's).
fn env(api: Api, port: u16) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match api {
        Api::Scf => vec![
            ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
            ("SCF_RUNTIME_API", "127.0.0.1".into()),
            ("SCF_RUNTIME_API_PORT", port.to_string()),
            ("_HANDLER", "index.main_handler".into()),
            ("SCF_FUNCTIONNAME", "bench-echo".into()),
            ("SCF_FUNCTIONVERSION", "$LATEST".into()),
            ("SCF_NAMESPACE", "default".into()),
            ("TENCENTCLOUD_REGION", "ap-guangzhou".into()),
            ("TENCENTCLOUD_APPID", "1250000000".into()),
            ("TENCENTCLOUD_UIN", "100000000001".into()),
            ("TENCENTCLOUD_RUNENV", "SCF".into()),
        ],
        Api::Lambda => vec![
            ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
            ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}")),
            ("_HANDLER", "index.main_handler".into()),
            ("AWS_LAMBDA_FUNCTION_NAME", "bench-echo".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench-echo".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("TZ", ":UTC".into()),
        ],
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The answer to `/next` that hands out `event` as invocation `n`
/// (bench/'s `event_reply`, with a fixed Lambda deadline).
fn event_reply(api: Api, event: &[u8], n: usize) -> Vec<u8> {
    let id = format!("3a7m0000-0000-4000-8000-{n:012}");
    let mut r = match api {
        Api::Scf => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nrequest_id: {id}\r\n\
             memory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: {}\r\n\r\n",
            event.len()
        ),
        Api::Lambda => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
             Lambda-Runtime-Deadline-Ms: 4102444800000\r\n\
             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench-echo\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5e1b4151-43a0913a12345678901234567;Parent=53995c3f42cd8ad8;Sampled=0\r\n\
             Content-Length: {}\r\n\r\n",
            event.len()
        ),
    }
    .into_bytes();
    r.extend_from_slice(event);
    r
}

const OK_EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
const LAMBDA_ACCEPTED: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";

/// User-space instructions of `bin` from exec to its `n`-th response to
/// `event`, counted by callgrind: the `n`-th response is left unanswered,
/// so the process is blocked reading the answer, having executed exactly
/// that, when SIGTERM makes valgrind write the profile (bench/'s method).
fn instructions(bin: &Path, api: Api, event: &[u8], n: usize, scratch: &Path) -> u64 {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done_tx, done_rx) = mpsc::channel::<Result<(), String>>();
    let event = event.to_vec();
    let peer = std::thread::spawn(move || {
        let (s, _) = match listener.accept() {
            Ok(c) => c,
            Err(e) => return done_tx.send(Err(format!("accept: {e}"))).unwrap(),
        };
        let mut conn = scf_emulator::http::Conn::new(s);
        let (mut sent, mut answered) = (0, 0);
        loop {
            let raw = match conn.read_head_bytes() {
                Ok(Some(raw)) => raw,
                other => return done_tx.send(Err(format!("the bootstrap closed the connection: {other:?}"))).unwrap(),
            };
            let head = scf_emulator::http::parse_request_head(&raw).expect("a request head");
            let body = conn.read_body(head.framing().expect("framed"), 1 << 20).expect("a body");
            let path = head.path().to_string();
            let reply: Vec<u8> = if path.ends_with("/init/ready") {
                OK_EMPTY.to_vec()
            } else if path.ends_with("/invocation/next") {
                sent += 1;
                event_reply(api, &event, sent)
            } else if path.ends_with("/response") {
                answered += 1;
                let want = [&b"Echoing request: '"[..], &event, b"'"].concat();
                if body != want {
                    let got = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                    return done_tx.send(Err(format!("response {answered} is not the echo: {got:?}"))).unwrap();
                }
                if answered == n {
                    // Left unanswered: the process is measured now.
                    done_tx.send(Ok(())).unwrap();
                    // Hold the connection until the process is gone.
                    let _ = conn.read_head_bytes();
                    return;
                }
                if api == Api::Lambda {
                    LAMBDA_ACCEPTED.to_vec()
                } else {
                    OK_EMPTY.to_vec()
                }
            } else {
                return done_tx.send(Err(format!("unexpected request {} {path}", head.method))).unwrap();
            };
            conn.send(&reply).unwrap();
        }
    });
    // Without address-space randomisation: where the stack and the
    // environment fall decides how many bytes memchr's and memcpy's
    // alignment prologues take, a few dozen instructions either way.
    let mut cmd = Command::new("setarch");
    cmd.args(["-R", "valgrind", "--tool=callgrind"])
        .arg(format!("--callgrind-out-file={}/cg.%p", scratch.display()))
        .arg(format!("--log-file={}/valgrind.%p.log", scratch.display()))
        // Run as ./bootstrap from its directory (as the platforms run it):
        // the path is on the initial stack, and a longer one moves
        // everything after it.
        .arg("./bootstrap")
        .current_dir(bin.parent().unwrap())
        .env_clear()
        .envs(env(api, port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A file, not a pipe: the demo logs every event.
        .stderr(std::fs::File::create(scratch.join("stderr")).unwrap());
    let child = cmd.spawn().expect("run valgrind (apt-get install valgrind)");
    let result = done_rx.recv_timeout(Duration::from_secs(300));
    // The peer has the response, but the process may still be on its way
    // from the send to the read of the answer: it is stopped only once it
    // is blocked in that `read` (Linux's /proc/PID/syscall: the number of
    // the call it waits in, 0 on x86_64), or the count would depend on how
    // far it got.
    let syscall = format!("/proc/{}/syscall", child.id());
    let waited = std::time::Instant::now();
    while result.is_ok() && waited.elapsed() < Duration::from_secs(10) {
        let now = std::fs::read_to_string(&syscall).unwrap_or_default();
        if now.starts_with("0 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait_with_output().unwrap();
    let _ = peer.join();
    let stderr = || {
        let text = std::fs::read_to_string(scratch.join("stderr")).unwrap_or_default();
        text.lines().rev().find(|l| !l.starts_with('{') && !l.starts_with("==")).unwrap_or("").to_string()
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{}: {e}; its last line: {}", bin.display(), stderr()),
        Err(_) => panic!("{}: no {n}-th response within 300 s; its last line: {}", bin.display(), stderr()),
    }
    let mut total = 0;
    let mut files = 0;
    for e in std::fs::read_dir(scratch).unwrap().flatten() {
        if !e.file_name().to_string_lossy().starts_with("cg.") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        let summary = text.lines().find_map(|l| l.strip_prefix("summary:")).expect("a summary line");
        total += summary.trim().parse::<u64>().unwrap();
        files += 1;
    }
    assert_eq!(files, 1, "callgrind profiles in {}", scratch.display());
    total
}

/// Exec -> first response, and per warm 1 KiB echo ((I(N2) - I(N1)) /
/// (N2 - N1), which cancels start-up and the first invocation).
fn cold_and_warm(bin: &Path, api: Api, name: &str) -> (u64, u64) {
    let dir = target_it().join("budgets").join(name);
    let cold = instructions(bin, api, COLD_EVENT, 1, &dir.join("cold"));
    let warm_event = json_event(1024);
    let (n1, n2) = (10, 1010);
    let a = instructions(bin, api, &warm_event, n1, &dir.join("warm1"));
    let b = instructions(bin, api, &warm_event, n2, &dir.join("warm2"));
    (cold, (b - a) / (n2 - n1) as u64)
}

/// `SCF_BUDGETS_BIN=path [SCF_BUDGETS_API=lambda] cargo test --test budgets
/// -- --ignored measure_one`: the instruction counts of one binary, its
/// callgrind profiles kept in target/it/budgets/one/ for callgrind_annotate.
#[test]
#[ignore]
fn measure_one() {
    let bin = PathBuf::from(std::env::var("SCF_BUDGETS_BIN").expect("SCF_BUDGETS_BIN"));
    let api = match std::env::var("SCF_BUDGETS_API").as_deref() {
        Ok("lambda") => Api::Lambda,
        _ => Api::Scf,
    };
    let (cold, warm) = cold_and_warm(&bin, api, "one");
    eprintln!("{}: cold {cold}, warm {warm}", bin.display());
}
