//! Native C handlers linked into the real static bootstrap: the context
//! they see, failure paths, init hooks, handler selection, and the ABI
//! layout checked from the C side.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn c_build() -> std::path::PathBuf {
    build(&Build { name: "c-handlers", handlers: &["tests/c/handlers.c"], ..Default::default() })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn check_context(case: HeaderCase, extra_headers: usize) {
    let quirks = Quirks { header_case: case, extra_headers, ..Quirks::default() };
    let cfg = ApiConfig { quirks, memory_mb: 256, timeout_ms: 4500, ..ApiConfig::default() };
    let api = RuntimeApi::start(cfg).unwrap();
    let _p = spawn(&c_build(), &api, "index.context_report");
    let id = format!("req-{case:?}-{extra_headers}");
    let before = now_ms();
    let inv = api
        .invoke_with(b"12345", InvokeOptions { timeout: T, request_id: Some(id.clone()), ..InvokeOptions::default() })
        .expect("invoke");
    let after = now_ms();
    let Outcome::Response(body) = inv.outcome else { panic!("{:?}", inv.outcome) };
    let f = fields(&body);
    assert_eq!(f["size"], "184");
    assert_eq!(f["platform"], "1"); // SCF_PLATFORM_SCF
    for absent in ["arn", "trace", "client_context", "cognito"] {
        assert_eq!(f[absent], "(absent)", "{absent} on SCF");
    }
    assert_eq!(f["abi"], "1");
    assert_eq!(f["request_id"], id, "{case:?}");
    assert_eq!(f["memory"], "256");
    assert_eq!(f["time"], "4500");
    let deadline: u64 = f["deadline"].parse().unwrap();
    assert!(
        deadline >= before + 4500 && deadline <= after + 4500,
        "deadline {deadline} not in [{before}, {after}] + 4500"
    );
    assert_eq!(f["function"], "it-function");
    assert_eq!(f["namespace"], "default");
    assert_eq!(f["version"], "$LATEST");
    assert_eq!(f["region"], "ap-guangzhou");
    assert_eq!(f["event_len"], "5");
    assert_eq!(f["runtime"], env!("CARGO_PKG_VERSION"));
    assert_eq!(f["runtime_number"], version_number().to_string());
    assert_eq!(f["runtime_abi"], "1");
}

#[test]
fn context_headers_in_every_case_and_among_many_headers() {
    check_context(HeaderCase::Lower, 0);
    check_context(HeaderCase::Title, 0);
    check_context(HeaderCase::Upper, 0);
    // 128 filler headers plus a decoy `request_idx: wrong` before the real one.
    check_context(HeaderCase::Lower, 128);
    check_context(HeaderCase::Title, 200);
}

#[test]
fn absent_metadata_is_null_and_full_six_mib_event_arrives() {
    let api = api(Quirks::default());
    let port = api.addr().port().to_string();
    let _p = spawn_env(
        &c_build(),
        &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", &port), ("_HANDLER", "context_report")],
    );
    let event = vec![0u8; 6 << 20];
    let f = fields(&invoke_ok(&api, &event));
    assert_eq!(f["event_len"], (6 << 20).to_string());
    assert_eq!(f["function"], "(absent)");
    assert_eq!(f["region"], "(absent)");
}

#[test]
fn handler_failure_goes_to_the_error_endpoint_with_its_message() {
    let api = api(Quirks::default());
    let _p = spawn(&c_build(), &api, "index.fail_with_message");
    let event = b"{\"bad\":\0\xff}";
    match api.invoke(event, T).unwrap() {
        Outcome::Error(msg) => assert_eq!(msg, [&b"cannot handle event: "[..], event].concat()),
        other => panic!("{other:?}"),
    }
    let s = api.stats();
    assert_eq!((s.response_posts, s.error_posts), (0, 1));
}

#[test]
fn handlers_may_use_the_c_library() {
    let api = api(Quirks::default());
    let _p = spawn(&c_build(), &api, "index.uses_libc");
    assert_eq!(invoke_ok(&api, b"{\"hello\":1}"), b"11 bytes, first '{\"hello\"'");
}

#[test]
fn silent_failure_gets_a_default_message_naming_handler_and_status() {
    let api = api(Quirks::default());
    let _p = spawn(&c_build(), &api, "index.fail_silently");
    match api.invoke(b"x", T).unwrap() {
        Outcome::Error(msg) => {
            assert_eq!(String::from_utf8(msg).unwrap(), "handler 'fail_silently' failed with status 42 and no message")
        }
        other => panic!("{other:?}"),
    }
    // The loop goes on after a failure.
    assert!(matches!(api.invoke(b"y", T).unwrap(), Outcome::Error(_)));
}

#[test]
fn responses_over_six_mib_are_refused_to_the_handler() {
    let api = api(Quirks::default());
    let _p = spawn(&c_build(), &api, "index.too_big");
    match api.invoke(b"x", T).unwrap() {
        Outcome::Error(msg) => assert_eq!(String::from_utf8(msg).unwrap(), "scf_write refused block 6"),
        other => panic!("{other:?}"),
    }
}

/// A handler that ignores SCF_NOMEM and returns SCF_OK would have its body
/// cut at the limit and posted as a success: once a write was refused (and
/// the body not reset), the invocation is an error saying so.
#[test]
fn a_handler_that_ignores_a_refused_write_is_reported_as_an_error() {
    let api = api(Quirks::default());
    let _p = spawn(&c_build(), &api, "index.ignores_refusal");
    for _ in 0..2 {
        match api.invoke(b"x", T).unwrap() {
            Outcome::Error(msg) => assert_eq!(
                String::from_utf8(msg).unwrap(),
                format!(
                    "handler 'ignores_refusal' tried to write a {}-byte response; writes past SCF's 6 MB response \
                     limit (6291456 bytes) were refused, so the response was not sent",
                    (7 << 20) + 1
                )
            ),
            Outcome::Response(b) => panic!("posted as a response of {} bytes", b.len()),
        }
    }
    let s = api.stats();
    assert_eq!((s.response_posts, s.error_posts), (0, 2));
}

/// RFC 9112, 5.2: a client reads each obs-fold in a field as a space.
#[test]
fn folded_context_headers_are_unfolded() {
    let quirks = Quirks { fold_headers: true, ..Quirks::default() };
    let cfg = ApiConfig { quirks, memory_mb: 256, timeout_ms: 4500, ..ApiConfig::default() };
    let api = RuntimeApi::start(cfg).unwrap();
    let _p = spawn(&c_build(), &api, "index.context_report");
    let options = InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id: Some("req-folded".into()) };
    let Outcome::Response(body) = api.invoke_with(b"12345", options).expect("invoke").outcome else { panic!() };
    let body = String::from_utf8(body).unwrap();
    // The emulator sent the id's halves on two lines.
    assert!(body.contains(" request_id=req-f olded memory=256 time=4500 "), "{body}");
}

/// With stdout closed, the socket must not become fd 1, where a handler's
/// printf would write into the HTTP stream.
#[test]
fn a_handler_printing_to_a_closed_stdout_does_not_write_into_the_connection() {
    let api = api(Quirks::default());
    let _p = spawn_redirected(&c_build(), &api, "index.prints", ">&-");
    assert_eq!(invoke_ok(&api, b"hello"), b"hello");
    assert_eq!(invoke_ok(&api, b"again"), b"again");
    assert_eq!(api.stats().bad_requests, 0);
}

#[test]
fn init_hook_runs_before_ready_and_its_failure_stops_the_start() {
    let api = api(Quirks::default());
    let p = spawn(&c_build(), &api, "index.guarded");
    assert_eq!(invoke_ok(&api, b"ok"), b"guarded:ok");
    drop(p);

    let port = api.addr().port().to_string();
    let env = [
        ("SCF_RUNTIME_API", "127.0.0.1"),
        ("SCF_RUNTIME_API_PORT", port.as_str()),
        ("_HANDLER", "index.guarded"),
        ("SCF_FUNCTIONNAME", "fn1"),
        ("FAIL_INIT", "1"),
    ];
    let before = api.stats().ready_posts;
    let (status, stderr, _) = spawn_env(&c_build(), &env).wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr,
        "scf-bootstrap: init hook of handler 'guarded' failed with status 3: 'config missing for fn1'\n"
    );
    assert_eq!(api.stats().ready_posts, before, "ready was reported despite the failed init hook");
}

#[test]
fn handler_selection_by_function_part_of_handler_setting() {
    let api = api(Quirks::default());
    let port = api.addr().port().to_string();
    let base = [("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", port.as_str())];
    let run = |handler: Option<&str>| {
        let mut env = base.to_vec();
        if let Some(h) = handler {
            env.push(("_HANDLER", h));
        }
        let (status, stderr, _) = spawn_env(&c_build(), &env).wait(Duration::from_secs(5));
        assert_eq!(status.code(), Some(1), "{stderr}");
        stderr
    };
    // The list is in link order, which the compiler chooses: compare sets.
    let available = |line: String| {
        let (head, list) = line.trim_end().split_once("; available: ").unwrap();
        let mut names: Vec<String> = list.split(", ").map(String::from).collect();
        names.sort();
        (head.to_string(), names)
    };
    let all: Vec<String> = [
        "context_report",
        "fail_silently",
        "fail_with_message",
        "guarded",
        "ignores_refusal",
        "prints",
        "too_big",
        "uses_libc",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        available(run(Some("index.nope"))),
        (
            "scf-bootstrap: _HANDLER='index.nope' names handler 'nope', which is not linked into this bootstrap"
                .to_string(),
            all.clone()
        )
    );
    assert_eq!(
        available(run(None)),
        ("scf-bootstrap: _HANDLER is not set and more than one handler is linked in".to_string(), all)
    );
    // The demo build has exactly one handler, main_handler.
    let (status, stderr, _) =
        spawn_env(&demo(), &[base[0], base[1], ("_HANDLER", "index.handler")]).wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.contains("names handler 'handler', which is not linked into this bootstrap; available: main_handler"),
        "{stderr}"
    );
    assert_eq!(api.stats().ready_posts, 0);
}

#[test]
fn a_handler_built_for_another_abi_version_is_refused_at_start() {
    let bin =
        build(&Build { name: "abi-v2", handlers: &["tests/c/abi_layout.c", "tests/c/abi_v2.c"], ..Default::default() });
    let (status, stderr, _) =
        spawn_env(&bin, &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", "9"), ("_HANDLER", "index.noop")])
            .wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        stderr,
        "scf-bootstrap: a handler was compiled for ABI version 2, but this runtime implements version 1; \
                        rebuild it with this release's scf_bootstrap.h\n"
    );
}

fn compile(cc: &str, args: &[&str]) {
    let out = Command::new(cc)
        .args(args)
        .arg("-I")
        .arg(root().join("include"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(out.status.success(), "{cc} {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn abi_layout_is_checked_from_the_c_side_with_warnings_as_errors() {
    let dir = root().join("target/it");
    std::fs::create_dir_all(&dir).unwrap();
    let c = root().join("tests/c/abi_layout.c");
    let obj = dir.join("abi_layout.o");
    compile(
        "cc",
        &[
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-c",
            c.to_str().unwrap(),
            "-o",
            obj.to_str().unwrap(),
        ],
    );
    let h = root().join("tests/c/handlers.c");
    compile("cc", &["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", h.to_str().unwrap()]);
    // The header is also valid C++ (extern "C" guards).
    compile(
        "c++",
        &[
            "-x",
            "c++",
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            root().join("include/scf_bootstrap.h").to_str().unwrap(),
        ],
    );
}

/// `Cargo.toml`'s version as `major * 1000000 + minor * 1000 + patch`.
fn version_number() -> u32 {
    let part = |s: &str| s.parse::<u32>().unwrap();
    part(env!("CARGO_PKG_VERSION_MAJOR")) * 1_000_000
        + part(env!("CARGO_PKG_VERSION_MINOR")) * 1_000
        + part(env!("CARGO_PKG_VERSION_PATCH"))
}

#[test]
fn header_version_macros_equal_the_crate_version() {
    let header = std::fs::read_to_string(root().join("include/scf_bootstrap.h")).unwrap();
    let define = |name: &str| -> String {
        let line = header
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["#define", name]))
            .unwrap_or_else(|| panic!("include/scf_bootstrap.h has no #define {name}"));
        line.split_whitespace().nth(2).unwrap().to_string()
    };
    assert_eq!(define("SCF_BOOTSTRAP_VERSION"), format!("\"{}\"", env!("CARGO_PKG_VERSION")));
    assert_eq!(define("SCF_BOOTSTRAP_VERSION_NUMBER"), version_number().to_string());
}
