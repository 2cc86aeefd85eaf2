//! The `scf-emulator` command: `invoke`, `run` and `--runtime-api-only`.

mod common;

use common::*;
use scf_emulator::http::client::Client;
use serde_json::Value;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(10));

fn output(args: &[&str]) -> Output {
    emulator_cmd(args).stdin(Stdio::null()).output().unwrap()
}

fn tmp_env(dir: &std::path::Path) -> String {
    format!("TMPDIR={}", dir.join("tmp").display())
}

/// `scf-emulator invoke DIR --event EVENT`, the bootstrap's temporary files
/// under DIR/tmp.
fn invoke_event(dir: &std::path::Path, event: &std::path::Path) -> Output {
    output(&[
        "invoke",
        dir.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
        "-e",
        &tmp_env(dir),
    ])
}

#[test]
fn invoke_prints_the_json_and_exits_0() {
    let dir = copy_fixture("bash-curl");
    let event = dir.path().join("event.json");
    std::fs::write(&event, EVENT).unwrap();
    let out = invoke_event(dir.path(), &event);
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
    let out = invoke_event(dir.path(), &event);
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
        (
            &["run", d, "--frobnicate"],
            "unknown option --frobnicate (see --help)",
        ),
        (
            &["run", d, "--timout", "1"],
            "unknown option --timout; did you mean --timeout?",
        ),
        (&["invoke", d, "--evnt=x.json"], "did you mean --event?"),
        (&["run", d, "--quiet=yes"], "--quiet takes no value"),
        (
            &["run", d, "--log-type=Full"],
            "--log-type: LogType must be None or Tail",
        ),
        (
            &["run", d, "--env-file", "/nonexistent/.env"],
            "--env-file: cannot read /nonexistent/.env",
        ),
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
    let emu = Running::serve(dir.path(), dir.path(), &[]);
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
    let emu = Running::serve(&zip_path, work.path(), &[]);
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

/// Runs `invoke` and returns (exit code, stdout, stderr).
fn invoke_cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = output(args);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn invoke_output_switches_env_file_and_several_events() {
    let index = "function main_handler () {\n\
                 echo \"log line for $1\" >&2\n\
                 case \"$1\" in *fail*) echo \"failed: $MY_VAR\"; return 1 ;; esac\n\
                 echo \"$MY_VAR|$OTHER|$1\"\n}\n";
    let dir = bash_error_function(index);
    let d = dir.path().to_str().unwrap();
    let env_file = dir.path().join("fn.env");
    fs::write(
        &env_file,
        "# settings\nMY_VAR=\"from file\"\n\nexport OTHER=two words\n",
    )
    .unwrap();
    let (e1, e2, bad) = (
        dir.path().join("e1.json"),
        dir.path().join("e2.json"),
        dir.path().join("bad.json"),
    );
    fs::write(&e1, r#"{"n":1}"#).unwrap();
    fs::write(&e2, r#"{"n":2}"#).unwrap();
    fs::write(&bad, r#"{"fail":1}"#).unwrap();
    let env_arg = format!("--env-file={}", env_file.display());
    let tmp = tmp_env(dir.path());
    let base = ["invoke", d, &env_arg, "-e", &tmp];

    // Two events, `--opt=value` form: one JSON line each, warm after the first,
    // and a summary line per invoke on stderr.
    let ev1 = format!("--event={}", e1.display());
    let ev2 = format!("--event={}", e2.display());
    let (code, out, err) = invoke_cli(&[&base[..], &[&ev1, &ev2]].concat());
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0]["Result"]["RetMsg"],
        r#"from file|two words|{"n":1}"#
    );
    assert_eq!(
        lines[1]["Result"]["RetMsg"],
        r#"from file|two words|{"n":2}"#
    );
    assert_eq!(
        (&lines[0]["Emulator"]["Cold"], &lines[1]["Emulator"]["Cold"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    let summaries: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("InvokeResult: "))
        .collect();
    assert_eq!(summaries.len(), 2, "{err}");
    assert!(
        summaries[0].contains("Cold")
            && summaries[0].contains("Init: ")
            && summaries[0].contains("MemUsage: "),
        "{}",
        summaries[0]
    );
    assert!(
        summaries[1].contains("Warm") && !summaries[1].contains("Init: "),
        "{}",
        summaries[1]
    );
    assert!(summaries.iter().all(|s| s.contains("Duration: ")));

    // --pretty: the same JSON, indented.
    let (code, out, _) =
        invoke_cli(&[&base[..], &["--pretty", "--event", e1.to_str().unwrap()]].concat());
    assert_eq!(code, Some(0));
    assert!(
        out.lines().count() > 10 && out.contains("\n  \"Result\": {\n"),
        "{out}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    check_shape(&v);

    // --raw: just the answer; a failure's ErrMsg on stderr, exit 1.
    let (code, out, _) =
        invoke_cli(&[&base[..], &["--raw", "--event", e1.to_str().unwrap()]].concat());
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "from file|two words|{\"n\":1}\n")
    );
    let (code, out, err) =
        invoke_cli(&[&base[..], &["--raw", "--event", bad.to_str().unwrap()]].concat());
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(
        err.contains(
            "scf-emulator: InvokeResult 430 (User code exception caught): failed: from file"
        ),
        "{err}"
    );

    // --log-type None empties Log; Tail (the default) keeps it.
    for (log_type, log) in [("None", ""), ("Tail", "log line for {\"n\":1}\n")] {
        let args = ["--log-type", log_type, "--event", e1.to_str().unwrap()];
        let (_, out, _) = invoke_cli(&[&base[..], &args].concat());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Result"]["Log"], log, "--log-type {log_type}");
    }

    // A bad env file line is named with its line number.
    fs::write(&env_file, "GOOD=1\nnot a setting\n").unwrap();
    let (code, _, err) = invoke_cli(&[&base[..], &["--event", e1.to_str().unwrap()]].concat());
    assert_eq!(code, Some(2));
    assert!(
        err.contains("fn.env:2: expected KEY=VALUE, got \"not a setting\""),
        "{err}"
    );
}

#[test]
fn run_watch_reloads_a_repackaged_zip() {
    let work = scf_emulator::code::TempDir::new("scf-emu-cli-watch").unwrap();
    std::fs::create_dir(work.path().join("tmp")).unwrap();
    let bootstrap = std::fs::read(fixture("bash-curl/bootstrap")).unwrap();
    let package = |answer: &str| {
        let index = format!("function main_handler () {{\necho \"{answer} $1\"\n}}\n");
        scf_emulator::zip::write_stored(&[
            ("bootstrap", 0o100755, &bootstrap),
            ("index.sh", 0o100644, index.as_bytes()),
        ])
    };
    let zip_path = work.path().join("fn.zip");
    std::fs::write(&zip_path, package("first version")).unwrap();
    let emu = Running::serve(&zip_path, work.path(), &["--watch"]);
    let addr = emu.endpoint();
    let v = invoke_over_http(addr, b"{}");
    assert_eq!(v["Result"]["RetMsg"], "first version {}");
    let v = invoke_over_http(addr, b"{}");
    assert_eq!(v["Emulator"]["Cold"], false, "unchanged code stays warm");

    std::fs::write(&zip_path, package("second, longer version")).unwrap();
    let v = invoke_over_http(addr, b"{}");
    assert_eq!(v["Result"]["RetMsg"], "second, longer version {}", "{v}");
    assert_eq!(v["Emulator"]["Cold"], true, "a cold start of the new code");
    let line = emu.wait_for("changed");
    assert!(
        line.ends_with("fn.zip changed: the next invocation cold-starts the new code"),
        "{line}"
    );
    let v = invoke_over_http(addr, b"{}");
    assert_eq!(v["Emulator"]["Cold"], false);
    assert_eq!(emu.terminate(), Some(128 + 15));
}

use std::fs;
