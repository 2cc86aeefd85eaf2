//! The examples end to end, as a user runs them: each handler is built into
//! a static bootstrap and packaged by `scripts/package`, the zip is run by
//! `scf-emulator invoke`, and the Invoke API answer is compared byte for
//! byte with what the function must return.
//!
//! Needs, besides Rust's musl target: musl-gcc, python3, and the Zig
//! toolchain (`pip install ziglang`); a missing tool fails its test with a
//! message naming the package, it never skips.

mod common;

use common::{emulator_bin, package_target_dir, root, run_package, target_it};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/examples").join(name)
}

/// Runs `scripts/package ARGS -o target/it/zips/NAME.zip` and returns the
/// zip's path.
fn package(name: &str, args: &[&str]) -> PathBuf {
    let dir = target_it().join("zips");
    fs::create_dir_all(&dir).unwrap();
    let zip = dir.join(format!("{name}.zip"));
    let out = run_package(args, &zip);
    assert!(
        out.status.success(),
        "scripts/package {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bootstrap: ") && text.contains(" bytes"), "no sizes printed: {text}");
    zip
}

/// What `scf-emulator invoke` printed: the Invoke API's `Result`.
struct Invoked {
    ret_msg: String,
    err_msg: String,
    log: String,
    request_id: String,
    invoke_result: f64,
}

fn invoke(zip: &Path, event: &Path, extra: &[&str]) -> Invoked {
    let out = Command::new(emulator_bin())
        .arg("invoke")
        .arg(zip)
        .arg("--event")
        .arg(event)
        .args(extra)
        .output()
        .expect("run scf-emulator");
    let text = String::from_utf8(out.stdout).expect("UTF-8 JSON");
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "scf-emulator could not invoke {} (status {code:?}):\n{text}{}",
        zip.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = parse(&text).unwrap_or_else(|e| panic!("invoke printed bad JSON ({e}): {text}"));
    let r = v.at("Result");
    let inv = Invoked {
        ret_msg: r.at("RetMsg").str().to_string(),
        err_msg: r.at("ErrMsg").str().to_string(),
        log: r.at("Log").str().to_string(),
        request_id: r.at("FunctionRequestId").str().to_string(),
        invoke_result: r.at("InvokeResult").num(),
    };
    assert_eq!(code == Some(0), inv.invoke_result == 0.0, "exit status vs InvokeResult: {text}");
    inv
}

fn ok(inv: &Invoked) -> &str {
    assert_eq!(inv.invoke_result, 0.0, "the invocation failed: ErrMsg {:?}, Log {:?}", inv.err_msg, inv.log);
    assert_eq!(inv.err_msg, "");
    &inv.ret_msg
}

fn guide_echo(event: &[u8]) -> String {
    format!("Echoing request: '{}'", std::str::from_utf8(event).unwrap())
}

/// The guide's echo, as the built-in demo and as examples/c/echo.c, in the
/// default and the minimal build: same answer, same log.
#[test]
fn echo_demo_and_c_echo_answer_like_the_guide() {
    let event = fixture("guide-event.json");
    let bytes = fs::read(&event).unwrap();
    assert_eq!(bytes, common::GUIDE_EVENT, "the fixture is the guide's event");
    for (name, args) in [
        ("demo", &[][..]),
        ("c-echo", &["--handler", "examples/c/echo.c"][..]),
        ("c-echo-minimal", &["--minimal", "--handler", "examples/c/echo.c"][..]),
    ] {
        let inv = invoke(&package(name, args), &event, &[]);
        assert_eq!(ok(&inv), guide_echo(&bytes), "{name}");
        // The event, then a newline, on stderr: the invocation's log.
        let logged = format!("{}\n", std::str::from_utf8(&bytes).unwrap());
        assert!(inv.log.contains(&logged), "{name}: log {:?}", inv.log);
    }
}

#[test]
fn c_apigw_answers_with_an_integrated_response() {
    let zip = package("c-apigw", &["--handler", "examples/c/apigw.c"]);
    let inv = invoke(&zip, &fixture("apigw-get.json"), &[]);
    let expected = concat!(
        r#"{"isBase64Encoded":false,"statusCode":200,"headers":{"Content-Type":"application/json"},"#,
        r#""body":"{\"path\":\"/hello/世界\",\"queryString\":{\"lang\": \"zh-CN\", \"q\": \"say \\\"hi\\\"\\\\n\"}}"}"#
    );
    assert_eq!(ok(&inv), expected);

    // And what the gateway makes of it: the body is a JSON document.
    let resp = parse(&inv.ret_msg).unwrap();
    assert_eq!(resp.at("statusCode").num(), 200.0);
    assert_eq!(resp.at("isBase64Encoded"), &Value::Bool(false));
    assert_eq!(resp.at("headers").at("Content-Type").str(), "application/json");
    let body = parse(resp.at("body").str()).unwrap();
    assert_eq!(body.at("path").str(), "/hello/世界");
    assert_eq!(body.at("queryString").at("q").str(), "say \"hi\"\\n");
    assert_eq!(body.at("queryString").at("lang").str(), "zh-CN");
}

/// A bad request is a handler error: the error endpoint gets the message
/// whole, and no response is posted.
#[test]
fn c_apigw_bad_requests_are_handler_errors() {
    let zip = package("c-apigw-bad-requests", &["--handler", "examples/c/apigw.c"]);
    let not_json = target_it().join("zips/not-json.txt");
    fs::write(&not_json, "GET / HTTP/1.1").unwrap();
    for (event, message) in [
        (fixture("apigw-no-path.json"), "bad request: the event has no \"path\" member"),
        (fixture("apigw-truncated.json"), "bad request: unexpected end of the event at byte 35"),
        (not_json, "bad request: the event is not a JSON object at byte 0"),
    ] {
        // SCF itself refuses events that are not JSON; --allow-non-json
        // lets them through to show what the handler does.
        let inv = invoke(&zip, &event, &["--allow-non-json"]);
        assert_ne!(inv.invoke_result, 0.0, "{}", event.display());
        assert_eq!(inv.err_msg, message, "{}", event.display());
        assert_eq!(inv.ret_msg, "", "{}", event.display());
    }
}

/// The JSON scanner under AddressSanitizer and UBSan, on the host: the
/// fixtures, every prefix of each, single-byte mutations, deep nesting.
#[test]
fn c_apigw_scanner_is_safe_on_any_input() {
    let dir = target_it().join("apigw-harness");
    fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("harness");
    let out = Command::new("cc")
        .args(["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(fixture("apigw_harness.c"))
        .arg("-o")
        .arg(&bin)
        .output()
        .expect("run cc (the host C compiler, with libasan and libubsan: Debian's gcc)");
    assert!(out.status.success(), "compiling the harness failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let events = ["apigw-get.json", "apigw-no-path.json", "apigw-truncated.json", "guide-event.json"];
    let out = Command::new(&bin)
        .args(events.iter().map(|e| fixture(e)))
        .env("ASAN_OPTIONS", "detect_leaks=1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "harness failed:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = |name: &str| {
        stdout.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name}: {stdout}")).to_string()
    };
    assert!(line("apigw-get.json").contains(": ok: {\"isBase64Encoded\":false"));
    assert!(line("apigw-no-path.json").ends_with(": error: bad request: the event has no \"path\" member"));
    assert!(line("guide-event.json").contains(": error: bad request: the event has no \"path\" member"));
    assert!(line("deep:").ends_with("bad request: nested too deeply at byte 68"));
}

/// The C examples and scripts/new-function's C template are clean under
/// strict warnings, as users will build them.
#[test]
fn c_examples_compile_without_warnings() {
    for src in ["examples/c/echo.c", "examples/c/apigw.c", "cargo-scf/templates/c/src/handler.c"] {
        let out = Command::new("musl-gcc")
            .args([
                "-c",
                "-Os",
                "-std=c11",
                "-pedantic",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-Wshadow",
                "-Wconversion",
                "-o",
                "/dev/null",
            ])
            .arg("-I")
            .arg(root().join("include"))
            .arg(root().join(src))
            .output()
            .expect("run musl-gcc (Debian package musl-tools)");
        assert!(out.status.success(), "{src}:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn zig_handler_links_and_answers() {
    let zig = Command::new("python3").args(["-m", "ziglang", "version"]).output();
    match zig {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "the Zig toolchain is missing: `pip install ziglang` (tested with 0.17.1), \
             or set ZIG=/path/to/zig for scripts/package"
        ),
    }
    let zip = package("zig-upper", &["--handler", "examples/zig/upper.zig"]);

    // The object leaves only the runtime's own functions to the linker:
    // no compiler_rt, stack-probe or sanitizer symbols.
    let nm = Command::new("nm")
        .arg("-u")
        .arg(
            package_target_dir(&["--handler", "examples/zig/upper.zig"])
                .join("zig-handlers/x86_64-unknown-linux-musl/upper.o"),
        )
        .output()
        .expect("run nm (binutils)");
    let undefined = String::from_utf8_lossy(&nm.stdout);
    let names: Vec<&str> = undefined.split_whitespace().filter(|w| *w != "U").collect();
    assert_eq!(names, ["scf_write", "scf_writer_reset"], "undefined symbols in the Zig object");

    let event = fixture("guide-event.json");
    let bytes = fs::read(&event).unwrap();
    let inv = invoke(&zip, &event, &[]);
    assert_eq!(ok(&inv), String::from_utf8(bytes.to_ascii_uppercase()).unwrap());
    assert!(inv.log.contains(&format!("request {}: {} bytes\n", inv.request_id, bytes.len())), "log: {:?}", inv.log);
}

#[test]
fn rust_handler_crate_answers_with_its_context() {
    let zip = package("rust-hello", &["--handler", "examples/rust"]);
    let event = fixture("guide-event.json");
    let len = fs::metadata(&event).unwrap().len();
    let inv =
        invoke(&zip, &event, &["--name", "hello", "--memory", "256", "--timeout", "5", "--region", "ap-shanghai"]);
    let expected = format!(
        concat!(
            r#"{{"function":"hello","namespace":"default","version":"$LATEST","region":"ap-shanghai","#,
            r#""requestId":"{}","memoryLimitMb":256,"timeLimitMs":5000,"eventBytes":{}}}"#
        ),
        inv.request_id, len
    );
    assert_eq!(ok(&inv), expected);
}

/// examples/rust-serde: std, serde_json and typed events. The guide's own
/// API-gateway event, a path parameter, a POST body, a refused method, a
/// bad body, and an event that is not from the gateway at all.
#[test]
fn rust_serde_apigw_answers_typed_integrated_responses() {
    let zip = package("rust-serde", &["--handler", "examples/rust-serde"]);
    let dir = target_it().join("zips/rust-serde-events");
    fs::create_dir_all(&dir).unwrap();
    let guide = fs::read_to_string(fixture("apigw-guide.json")).unwrap();
    let delete = dir.join("delete.json");
    // The first "httpMethod" is the event's own (requestContext's comes later).
    let deleted = guide.replacen(r#""httpMethod":"GET""#, r#""httpMethod":"DELETE""#, 1);
    assert_ne!(deleted, guide);
    fs::write(&delete, deleted).unwrap();
    let post = fs::read_to_string(fixture("apigw-post.json")).unwrap();
    let bad_body = dir.join("bad-body.json");
    let bad = post.replace(r#"{\"name\": \"Tencent\"}"#, r#"{\"nom\": 1}"#);
    assert_ne!(bad, post);
    fs::write(&bad_body, bad).unwrap();

    // (event, status, Allow header, body members expected, log line)
    type Case<'a> = (PathBuf, f64, Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            fixture("apigw-guide.json"),
            200.0,
            None,
            &[
                ("message", "Hello, world!"),
                ("method", "GET"),
                ("path", "/"),
                ("stage", "release"),
                ("sourceIp", "10.10.10.1"),
            ],
            "GET / from 10.10.10.1\nuser agent: Mozilla/5.0 (Windows NT 10.0;",
        ),
        (
            fixture("apigw-get.json"),
            200.0,
            None,
            &[("message", "Hello, 世界!"), ("path", "/hello/世界")],
            "GET /hello/世界 from 10.10.10.1\n",
        ),
        (
            fixture("apigw-post.json"),
            200.0,
            None,
            &[("message", "Hello, Tencent!"), ("stage", "test")],
            "POST /hello from 10.10.10.2\n",
        ),
        (delete, 405.0, Some("GET, POST"), &[("error", "method DELETE is not allowed")], "DELETE / from 10.10.10.1\n"),
        (
            bad_body,
            400.0,
            None,
            &[("error", "the body is not {\"name\": \"...\"}: missing field `name` at line 1 column 10")],
            "POST /hello from 10.10.10.2\n",
        ),
    ];
    for (event, status, allow, members, log) in cases {
        let inv = invoke(&zip, &event, &[]);
        let resp = parse(ok(&inv)).unwrap_or_else(|e| panic!("{}: {e}: {}", event.display(), inv.ret_msg));
        assert_eq!(resp.at("statusCode").num(), status, "{}", event.display());
        assert_eq!(resp.at("isBase64Encoded"), &Value::Bool(false));
        assert_eq!(resp.at("headers").at("Content-Type").str(), "application/json; charset=utf-8");
        match (allow, &resp.at("headers")) {
            (Some(a), h) => assert_eq!(h.at("Allow").str(), a),
            (None, Value::Object(h)) => assert_eq!(h.len(), 1, "{}: {:?}", event.display(), h),
            (None, h) => panic!("headers: {h:?}"),
        }
        let body = parse(resp.at("body").str()).unwrap();
        for (k, v) in members {
            assert_eq!(body.at(k).str(), *v, "{}: {k}", event.display());
        }
        if status == 200.0 {
            assert_eq!(body.at("requestId").str(), inv.request_id);
        }
        assert!(inv.log.contains(log), "{}: log {:?}", event.display(), inv.log);
    }

    // Not an API-gateway event: the invocation fails with serde's message.
    let inv = invoke(&zip, &fixture("guide-event.json"), &[]);
    assert_eq!(inv.invoke_result, 430.0, "{}", inv.ret_msg);
    assert_eq!(inv.err_msg, "not an API gateway event: missing field `httpMethod` at line 1 column 45");
    assert_eq!(inv.ret_msg, "");
}

/// Reading the emulator's Invoke answer and the gateway responses with
/// serde_json: a member that is missing, or of the wrong type, panics with
/// what was there.
trait Member {
    fn at(&self, key: &str) -> &Value;
    fn str(&self) -> &str;
    fn num(&self) -> f64;
}

impl Member for Value {
    fn at(&self, key: &str) -> &Value {
        self.get(key).unwrap_or_else(|| panic!("no member {key:?} in {self}"))
    }
    fn str(&self) -> &str {
        self.as_str().unwrap_or_else(|| panic!("not a string: {self}"))
    }
    fn num(&self) -> f64 {
        self.as_f64().unwrap_or_else(|| panic!("not a number: {self}"))
    }
}

fn parse(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text)
}
