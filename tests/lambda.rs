//! The Lambda dialect against the project's own Lambda peer
//! (tests/common/lambda.rs), for what cargo-lambda cannot show: epoch
//! deadlines, the six context headers, init/error, the error-type header,
//! 204 from `/next`, IPv6, `Connection: close`, a 6 MB event. Every
//! bootstrap here is the Lambda variant (`--no-default-features --features
//! lambda,crash`, what `scripts/package --platform lambda` builds), but for
//! the ones that test the bootstrap for both platforms.
mod common;

use common::lambda::{Event, LambdaApi, LambdaConfig, Posted};
use common::*;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn c_build() -> PathBuf {
    lambda_build("lambda-c-handlers", &["tests/c/handlers.c"])
}

/// The Lambda variant of the demo.
fn demo() -> PathBuf {
    lambda_demo()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Starts `bin` as Lambda would, pointed at `api`, with `_HANDLER` and
/// `extra` variables.
fn spawn_lambda(bin: &std::path::Path, api: &LambdaApi, handler: &str, extra: &[(&str, &str)]) -> Proc {
    let value = api.env_value();
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API", value.as_str()),
        ("_HANDLER", handler),
        ("AWS_LAMBDA_FUNCTION_NAME", "it-lambda"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_REGION", "eu-west-1"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
    ];
    env.extend_from_slice(extra);
    spawn_env(bin, &env)
}

fn event(id: &str, body: &[u8], headers: &[(&str, &str)]) -> Event {
    Event {
        id: id.into(),
        body: body.to_vec(),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    }
}

fn ok_body(p: &Posted, id: &str) -> Vec<u8> {
    assert_eq!(
        (p.method.as_str(), p.path.as_str()),
        ("POST", &*format!("/2018-06-01/runtime/invocation/{id}/response"))
    );
    p.body.clone()
}

#[test]
fn the_six_context_headers_and_the_environment_reach_the_handler() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&c_build(), &api, "index.context_report", &[]);
    let deadline = now_ms() + 5000;
    let d = deadline.to_string();
    let headers = [
        ("Lambda-Runtime-Deadline-Ms", d.as_str()),
        ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:it-lambda"),
        ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"),
        ("lambda-runtime-client-context", r#"{"client":{"app_title":"t"}}"#),
        ("LAMBDA-RUNTIME-COGNITO-IDENTITY", r#"{"cognitoIdentityId":"x"}"#),
        ("Lambda-Runtime-Aws-Request-Idx", "decoy"),
    ];
    let id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    let received = now_ms();
    let f = fields(&ok_body(&api.invoke(event(id, b"12345", &headers), T), id));
    assert_eq!(f["size"], "184");
    assert_eq!(f["platform"], "2"); // SCF_PLATFORM_LAMBDA
    assert_eq!(f["request_id"], id);
    assert_eq!(f["deadline"], d, "an epoch deadline is passed on as it is");
    let time: u64 = f["time"].parse().unwrap();
    assert!(time <= 5000 && time + 2000 >= deadline - received, "time limit {time} is what is left of 5000 ms");
    assert_eq!(f["memory"], "512");
    assert_eq!(f["function"], "it-lambda");
    assert_eq!(f["namespace"], "(absent)");
    assert_eq!(f["version"], "$LATEST");
    assert_eq!(f["region"], "eu-west-1");
    assert_eq!(f["arn"], headers[1].1);
    assert_eq!(f["trace"], headers[2].1);
    assert_eq!(f["client_context"], headers[3].1);
    assert_eq!(f["cognito"], headers[4].1);
    assert_eq!(f["event_len"], "5");
    // No init/ready: the first request is the first `next`.
    let log = api.log();
    assert_eq!((log[0].method.as_str(), log[0].path.as_str()), ("GET", "/2018-06-01/runtime/invocation/next"));
}

#[test]
fn a_deadline_that_is_not_an_epoch_time_is_taken_as_a_duration() {
    // cargo-lambda sends the constant 600000.
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&c_build(), &api, "index.context_report", &[]);
    let before = now_ms();
    let f = fields(&ok_body(&api.invoke(event("d1", b"", &[("Lambda-Runtime-Deadline-Ms", "600000")]), T), "d1"));
    let after = now_ms();
    assert_eq!(f["time"], "600000");
    let deadline: u64 = f["deadline"].parse().unwrap();
    assert!((before + 600000..=after + 600000).contains(&deadline), "{deadline} not now + 600000");
    // Absent, both are 0 (unknown).
    let f = fields(&ok_body(&api.invoke(event("d2", b"", &[]), T), "d2"));
    assert_eq!((f["time"].as_str(), f["deadline"].as_str()), ("0", "0"));
    for absent in ["arn", "trace", "client_context", "cognito"] {
        assert_eq!(f[absent], "(absent)");
    }
}

#[test]
fn a_handler_error_is_posted_as_json_with_the_error_type_header() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&c_build(), &api, "index.fail_with_message", &[]);
    // The handler echoes the event into its message: quotes, a backslash,
    // control bytes, UTF-8 and a byte that is not UTF-8 must all come out
    // as one valid JSON string.
    let ev = "say \"hi\" \\ \n\t\u{1} h\u{e9}".as_bytes().iter().copied().chain([0xff]).collect::<Vec<u8>>();
    let p = api.invoke(event("e1", &ev, &[]), T);
    assert_eq!((p.method.as_str(), p.path.as_str()), ("POST", "/2018-06-01/runtime/invocation/e1/error"));
    assert_eq!(p.header("Lambda-Runtime-Function-Error-Type"), Some("Handler.Error"));
    let want = "{\"errorMessage\":\"cannot handle event: say \\\"hi\\\" \\\\ \\n\\t\\u0001 h\u{e9}\\ufffd\",\"errorType\":\"Handler.Error\"}";
    assert_eq!(String::from_utf8(p.body.clone()).unwrap(), want);
    assert_eq!(p.header("content-length"), Some(&*want.len().to_string()));

    // With no message, the runtime's default one.
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&c_build(), &api, "index.fail_silently", &[]);
    let p = api.invoke(event("e2", b"x", &[]), T);
    assert_eq!(
        String::from_utf8(p.body).unwrap(),
        r#"{"errorMessage":"handler 'fail_silently' failed with status 42 and no message","errorType":"Handler.Error"}"#
    );
}

#[test]
fn an_invalid_deadline_header_is_reported_without_calling_the_handler() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&c_build(), &api, "index.context_report", &[]);
    let p = api.invoke(event("bad", b"", &[("Lambda-Runtime-Deadline-Ms", "soon")]), T);
    assert_eq!(p.path, "/2018-06-01/runtime/invocation/bad/error");
    assert_eq!(p.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.InvalidContext"));
    assert!(String::from_utf8_lossy(&p.body).contains("invalid Lambda-Runtime-Deadline-Ms header"), "{p:?}");
    // The loop goes on.
    let f = fields(&ok_body(&api.invoke(event("good", b"", &[]), T), "good"));
    assert_eq!(f["request_id"], "good");
}

#[test]
fn start_up_failures_are_posted_to_init_error_and_stop_the_start() {
    // An unknown handler.
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let p = spawn_lambda(&c_build(), &api, "index.nope", &[]);
    let (status, err, _) = p.wait(T);
    assert_eq!(status.code(), Some(1));
    let post = api.init_error(Duration::ZERO).expect("init/error posted");
    assert_eq!(post.path, "/2018-06-01/runtime/init/error");
    assert_eq!(post.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.HandlerNotFound"));
    let body = String::from_utf8(post.body).unwrap();
    assert!(body.starts_with(r#"{"errorMessage":"_HANDLER='index.nope' names handler 'nope'"#), "{body}");
    assert!(body.ends_with(r#"","errorType":"Runtime.HandlerNotFound"}"#), "{body}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("_HANDLER='index.nope' names handler 'nope'"), "{err}");
    assert!(api.log().iter().all(|r| !r.path.ends_with("/next")), "no event asked for after a failed start");

    // A failing init hook: its message and status.
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let p = spawn_lambda(&c_build(), &api, "index.guarded", &[("FAIL_INIT", "1")]);
    let (status, _, _) = p.wait(T);
    assert_eq!(status.code(), Some(1));
    let post = api.init_error(Duration::ZERO).expect("init/error posted");
    assert_eq!(post.header("Lambda-Runtime-Function-Error-Type"), Some("Handler.InitError"));
    assert_eq!(
        String::from_utf8(post.body).unwrap(),
        r#"{"errorMessage":"init hook of handler 'guarded' failed with status 3: 'config missing for it-lambda'","errorType":"Handler.InitError"}"#
    );

    // A bad variable, once the API's address is known.
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let p = spawn_lambda(&c_build(), &api, "index.guarded", &[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots")]);
    assert_eq!(p.wait(T).0.code(), Some(1));
    let post = api.init_error(Duration::ZERO).expect("init/error posted");
    assert_eq!(post.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.InvalidEnvironment"));
    assert!(String::from_utf8_lossy(&post.body).contains("AWS_LAMBDA_FUNCTION_MEMORY_SIZE='lots'"));
}

#[test]
fn bad_and_conflicting_settings_are_one_line_errors() {
    // Both platforms' settings: a conflict for the bootstrap that serves
    // either; the Lambda variant reads only its own.
    let both = [("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"), ("SCF_RUNTIME_API", "127.0.0.1")];
    let (status, err, _) = spawn_env(&both_demo(), &both).wait(T);
    assert_eq!((status.code(), err.lines().count()), (Some(1), 1), "{err}");
    assert!(
        err.contains("AWS_LAMBDA_RUNTIME_API='127.0.0.1:9001' is set, and so is SCF_RUNTIME_API: unset one"),
        "{err}"
    );
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let value = api.env_value();
    let _p = spawn_env(&demo(), &[("AWS_LAMBDA_RUNTIME_API", &value), ("SCF_RUNTIME_API", "127.0.0.1")]);
    assert_eq!(ok_body(&api.invoke(event("l1", b"x", &[]), T), "l1"), echo_of(b"x"));

    let bin = demo();
    for (env, want) in [
        (vec![("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", "9001")], "AWS_LAMBDA_RUNTIME_API is not set"),
        (vec![("AWS_LAMBDA_RUNTIME_API", "127.0.0.1")], "AWS_LAMBDA_RUNTIME_API='127.0.0.1' is not HOST:PORT"),
        (vec![("AWS_LAMBDA_RUNTIME_API", "::1:9001")], "AWS_LAMBDA_RUNTIME_API='::1:9001' is not HOST:PORT"),
        (vec![("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:0")], "AWS_LAMBDA_RUNTIME_API='127.0.0.1:0' is not HOST:PORT"),
        (vec![("AWS_LAMBDA_RUNTIME_API", "https://h:1")], "AWS_LAMBDA_RUNTIME_API='https://h:1' is not HOST:PORT"),
        (vec![("AWS_LAMBDA_RUNTIME_API", "[::g]:1")], "AWS_LAMBDA_RUNTIME_API='[::g]:1' is not HOST:PORT"),
    ] {
        let (status, err, _) = spawn_env(&bin, &env).wait(T);
        assert_eq!(status.code(), Some(1), "{env:?}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{env:?}: {err}");
    }
}

#[test]
fn an_event_without_a_request_id_stops_with_one_line() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let p = spawn_lambda(&demo(), &api, "index.main_handler", &[]);
    // An id that cannot go into a path as it is.
    api.queue(event("a/b", b"x", &[]));
    let (status, err, _) = p.wait(T);
    assert_eq!(status.code(), Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("without a valid Lambda-Runtime-Aws-Request-Id"), "{err}");
}

#[test]
fn no_content_from_next_means_poll_again() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig { no_content: 3, ..LambdaConfig::default() });
    let _p = spawn_lambda(&demo(), &api, "index.main_handler", &[]);
    assert_eq!(ok_body(&api.invoke(event("n1", b"after 204s", &[]), T), "n1"), echo_of(b"after 204s"));
    let nexts = api.log().iter().filter(|r| r.path.ends_with("/next")).count();
    assert!(nexts >= 4, "three 204s, then the event: {nexts} polls");
}

#[test]
fn ipv6_a_path_prefix_and_connection_close_on_every_answer() {
    let cfg = LambdaConfig { prefix: "/.rt".into(), close_each: true, ..LambdaConfig::default() };
    let api = LambdaApi::start("[::1]:0", cfg);
    assert!(api.env_value().starts_with("http://[::1]:"));
    let _p = spawn_lambda(&demo(), &api, "index.main_handler", &[]);
    for i in 0..5 {
        let id = format!("v6-{i}");
        let p = api.invoke(event(&id, format!("event {i}").as_bytes(), &[]), T);
        assert_eq!(p.path, format!("/.rt/2018-06-01/runtime/invocation/{id}/response"));
        assert_eq!(p.body, echo_of(format!("event {i}").as_bytes()));
        assert_eq!(p.header("host"), Some(&*api.addr().to_string()));
    }
}

#[test]
fn the_unspecified_address_cargo_lambda_hands_out_means_this_host() {
    // cargo-lambda's AWS_LAMBDA_RUNTIME_API is http://[::]:PORT/.rt.
    let api = LambdaApi::start("[::1]:0", LambdaConfig { prefix: "/.rt".into(), ..LambdaConfig::default() });
    let value = format!("http://[::]:{}/.rt", api.addr().port());
    let _p = spawn_lambda(&demo(), &api, "index.main_handler", &[("AWS_LAMBDA_RUNTIME_API", &value)]);
    let p = api.invoke(event("u1", b"hi", &[]), T);
    assert_eq!((p.path.as_str(), &p.body), ("/.rt/2018-06-01/runtime/invocation/u1/response", &echo_of(b"hi")));
    assert_eq!(p.header("host"), Some(&value[7..value.len() - 4]), "the Host header is the setting's");
}

#[test]
fn a_six_mb_event_is_echoed() {
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&demo(), &api, "index.main_handler", &[]);
    let big = six_mb_event();
    assert!(ok_body(&api.invoke(event("big", &big, &[]), T), "big") == echo_of(&big));
    // And the loop goes on.
    assert_eq!(ok_body(&api.invoke(event("small", b"s", &[]), T), "small"), echo_of(b"s"));
}

#[test]
fn a_warm_lambda_invocation_makes_the_same_five_syscalls_and_no_memory_ones() {
    let ok = std::process::Command::new("strace").arg("-V").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "strace is required for this test (apt-get install strace)");
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig { prefix: "/.rt".into(), ..LambdaConfig::default() });
    let log = root().join(format!("target/it/strace-lambda-{}.txt", std::process::id()));
    let value = api.env_value();
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-qq", "-e", "trace=all", "-e", "signal=none", "-o"]).arg(&log).arg(demo());
    cmd.env_clear().envs([("AWS_LAMBDA_RUNTIME_API", value.as_str()), ("_HANDLER", "index.main_handler")]);
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let n = 50;
    for i in 0..=n {
        let id = format!("{i:08}-e9f4-11e8-9739-2dfe598c3fcd");
        let deadline = (now_ms() + 3000).to_string();
        let headers = [
            ("Lambda-Runtime-Deadline-Ms", deadline.as_str()),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:f"),
            ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1"),
        ];
        let e = format!("{{\"i\":{i}}}");
        let p = api.invoke(event(&id, e.as_bytes(), &headers), T);
        assert_eq!(p.body, echo_of(e.as_bytes()));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<&str> = text.lines().collect();
    let name = |l: &str| l.split('(').next().unwrap_or("").to_string();
    // No ready: the first sendmsg is `next`, the second the first response.
    let sends: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| name(l) == "sendmsg").map(|(i, _)| i).collect();
    let first = lines[sends[0]];
    assert!(first.contains(r#"iov_base="GET ""#) && first.contains(r#"iov_base="/.rt""#), "{first}");
    // Anchored on the responses (the runtime may already have asked for
    // the next event before strace stops): after the first response's
    // sendmsg up to the last one's lie exactly `n` warm invocations.
    let responses: Vec<usize> =
        sends.iter().copied().filter(|&i| lines[i].contains(r#"iov_base="/response HTTP/1.1"#)).collect();
    assert_eq!(responses.len(), n + 1, "one response per invocation");
    let warm = &lines[responses[0] + 1..=responses[n]];
    let mut counts = std::collections::BTreeMap::new();
    for l in warm.iter().filter(|l| !l.starts_with("+++") && !l.starts_with("---")) {
        *counts.entry(name(l)).or_insert(0) += 1;
    }
    // As on SCF: read the response's answer, sendmsg next, read the event,
    // clock_gettime (the time left before the deadline), writev (the demo's
    // log line), sendmsg the response. No mmap, mremap, munmap or brk.
    let want: std::collections::BTreeMap<String, usize> =
        [("clock_gettime".into(), n), ("read".into(), 2 * n), ("sendmsg".into(), 2 * n), ("writev".into(), n)].into();
    assert_eq!(counts, want, "{warm:#?}");
}

#[test]
fn a_handler_built_against_the_old_112_byte_context_works_on_both_platforms() {
    // The bootstrap for both platforms, one binary on each.
    let bin = build(&Build {
        name: "old-abi-both",
        handlers: &["tests/c/old_abi.c"],
        features: "lambda",
        ..Default::default()
    });
    let want = |id: &str, function: &str, region: &str| {
        format!("size_at_least_112=yes request_id={id} function={function} region={region} event=ping").into_bytes()
    };
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let _p = spawn_lambda(&bin, &api, "index.old_report", &[]);
    assert_eq!(ok_body(&api.invoke(event("old-1", b"ping", &[]), T), "old-1"), want("old-1", "it-lambda", "eu-west-1"));

    let scf = api_on("127.0.0.1:0", Quirks::default());
    let _q = spawn(&bin, &scf, "index.old_report");
    let inv = scf
        .invoke_with(
            b"ping",
            InvokeOptions { timeout: T, request_id: Some("old-2".into()), ..InvokeOptions::default() },
        )
        .expect("invoke");
    assert_eq!(inv.outcome, Outcome::Response(want("old-2", "it-function", "ap-guangzhou")));
}

/// Starts `bin` as [`spawn_lambda`] does, without core dumps (a crash is
/// the point).
fn spawn_lambda_no_core(bin: &std::path::Path, api: &LambdaApi, handler: &str) -> Proc {
    let mut cmd = std::process::Command::new(bin);
    cmd.env_clear()
        .envs([("AWS_LAMBDA_RUNTIME_API", api.env_value().as_str()), ("_HANDLER", handler)])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    no_core_dumps(&mut cmd);
    Proc::spawn(cmd)
}

fn crashes_build() -> PathBuf {
    lambda_build("lambda-crashes", &["tests/c/crashes.c"])
}

#[test]
fn a_crashing_handler_posts_one_json_error_and_dies_by_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    for (handler, signal, want) in [
        ("null_deref", libc::SIGSEGV, "SIGSEGV (invalid memory access at address 0x0)"),
        ("calls_abort", libc::SIGABRT, "SIGABRT (abort() called)"),
    ] {
        let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
        let p = spawn_lambda_no_core(&crashes_build(), &api, &format!("index.{handler}"));
        let id = format!("c-{handler}");
        let post = api.invoke(event(&id, b"{}", &[]), T);
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", &*format!("/2018-06-01/runtime/invocation/{id}/error"))
        );
        let msg = post.crash_message();
        assert_eq!(msg, format!("handler '{handler}' crashed: {want} while handling request {id}"));
        let (status, stderr, _) = p.wait(T);
        assert_eq!(status.signal(), Some(signal), "{handler}: {status:?} {stderr}");
        assert_eq!(stderr, format!("scf-bootstrap: {msg}\n"));
        let posts: Vec<_> = api.log().into_iter().filter(|r| r.method == "POST").collect();
        assert_eq!(posts.len(), 1, "exactly one post: {posts:?}");
    }
}

#[test]
fn a_crashing_init_hook_posts_to_init_error_and_dies_by_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let p = spawn_lambda_no_core(&crashes_build(), &api, "index.crashing_init");
    let (status, stderr, _) = p.wait(T);
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status:?} {stderr}");
    let post = api.init_error(Duration::ZERO).expect("init/error posted");
    assert_eq!(post.path, "/2018-06-01/runtime/init/error");
    let msg = post.crash_message();
    assert_eq!(msg, "init hook of handler 'crashing_init' crashed: SIGSEGV (invalid memory access at address 0x0)");
    assert_eq!(stderr, format!("scf-bootstrap: {msg}\n"));
    let log = api.log();
    assert_eq!(log.len(), 1, "init/error only, no next: {log:?}");
}

/// SCF_BOOTSTRAP_PIPELINE=1 is SCF's: on Lambda it is refused with one
/// warning at start, and requests go one at a time.
#[test]
fn pipelining_is_refused_on_lambda_with_one_warning() {
    // Pipelining is SCF's: only a bootstrap for both platforms has it and
    // can be started on Lambda (the feature brings `scf`).
    let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
    let bin = build(&Build { name: "demo-both-pipeline", features: "lambda,pipeline", ..Default::default() });
    let p = spawn_lambda(&bin, &api, "index.main_handler", &[("SCF_BOOTSTRAP_PIPELINE", "1")]);
    for id in ["p1", "p2"] {
        assert_eq!(ok_body(&api.invoke(event(id, id.as_bytes(), &[]), T), id), echo_of(id.as_bytes()));
    }
    let stderr = p.stop();
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("scf-bootstrap: ")).collect();
    assert_eq!(
        ours,
        ["scf-bootstrap: warning: SCF_BOOTSTRAP_PIPELINE=1 is for SCF only; requests to Lambda go one at a time"]
    );
}
