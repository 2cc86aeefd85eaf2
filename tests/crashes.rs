//! Handlers that crash, panic or fail, in C, Zig and Rust, linked into the
//! real static bootstrap: the runtime API receives exactly one error post
//! naming the handler, the signal (or the panic or error text) and the
//! request, and the process still ends by the signal. Also an init hook
//! that crashes, and a signal sent from outside while the runtime is idle.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The Zig handler object, built as scripts/package builds a .zig handler
/// (ReleaseSmall, no stack probes, no UBSan, no PIC), plus `-fcompiler-rt`:
/// Zig's default panic handler, which a `@panic` brings in, calls
/// compiler-rt functions (`__divti3`, `__lshrti3`) that nothing else in
/// the static link provides.
fn zig_object() -> PathBuf {
    static OBJ: OnceLock<PathBuf> = OnceLock::new();
    OBJ.get_or_init(|| {
        let dir = root().join("target/it/zig-crash");
        std::fs::create_dir_all(&dir).unwrap();
        let obj = dir.join("panics.o");
        let out = Command::new("python3")
            .args(["-m", "ziglang", "build-obj", "-target", "x86_64-linux-musl", "-O", "ReleaseSmall"])
            .args(["-fno-stack-check", "-fno-sanitize-c", "-fno-PIC", "-fstrip", "-fcompiler-rt"])
            .arg(format!("-femit-bin={}", obj.display()))
            .args(["--dep", "scf_bootstrap"])
            .arg(format!("-Mroot={}", root().join("tests/zig/panics.zig").display()))
            .arg(format!("-Mscf_bootstrap={}", root().join("include/scf_bootstrap.zig").display()))
            .env("ZIG_LOCAL_CACHE_DIR", dir.join("cache"))
            .env("ZIG_GLOBAL_CACHE_DIR", dir.join("global-cache"))
            .output()
            .expect("run python3 -m ziglang (pip install ziglang)");
        assert!(out.status.success(), "zig build-obj failed:\n{}", String::from_utf8_lossy(&out.stderr));
        obj
    })
    .clone()
}

fn native_build() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let zig = zig_object().display().to_string();
        build(&Build { name: "crashes", handlers: &["tests/c/crashes.c", &zig], ..Default::default() })
    })
    .clone()
}

/// The Rust handler crate tests/rust-crash, built as a user builds one.
fn rust_build() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build_crate("tests/rust-crash")).clone()
}

/// The same with std: tests/rust-std-crash (std's own SIGSEGV and SIGBUS
/// handlers, its panic machinery).
fn rust_std_build() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build_crate("tests/rust-std-crash")).clone()
}

/// The same, the Lambda variant (as `scripts/package --platform lambda`
/// builds a handler crate).
fn rust_std_lambda_build() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build_crate_as("tests/rust-std-crash", "-lambda", &["--no-default-features", "--features", "lambda,crash"])
    })
    .clone()
}

/// Starts `bin` against `api` with `_HANDLER=index.<handler>`, without core
/// dumps (a crash is the point of these tests).
fn start(bin: &Path, api: &RuntimeApi, handler: &str) -> Proc {
    let port = api.addr().port().to_string();
    let handler = format!("index.{handler}");
    spawn_no_core(bin, &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", &port), ("_HANDLER", &handler)])
}

/// Invokes `handler` once with `event` and returns the error message it
/// posted, after checking that it was the one result posted; then the
/// process must end by `signal` with that message as its one stderr line.
fn crash(bin: &Path, handler: &str, event: &[u8], signal: i32) -> String {
    crash_with(Quirks::default(), bin, handler, event, signal)
}

fn crash_with(quirks: Quirks, bin: &Path, handler: &str, event: &[u8], signal: i32) -> String {
    let api = api(quirks);
    let p = start(bin, &api, handler);
    let id = format!("crash-{handler}-{}", std::process::id());
    let opts = InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id: Some(id.clone()) };
    let inv = api.invoke_with(event, opts).expect("invoke");
    let Outcome::Error(msg) = inv.outcome else { panic!("{handler}: expected an error, got {:?}", inv.outcome) };
    let msg = String::from_utf8(msg).unwrap();
    let (status, stderr, _) = p.wait(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(signal), "{handler}: {status:?}, stderr {stderr:?}");
    let s = api.stats();
    assert_eq!((s.error_posts, s.response_posts), (1, 0), "{handler}: {s:?}");
    let suffix = format!(" while handling request {id}");
    assert!(msg.starts_with(&format!("handler '{handler}' ")), "{msg}");
    assert!(msg.ends_with(&suffix), "{msg}");
    assert!(stderr.ends_with(&format!("scf-bootstrap: {msg}\n")), "{handler}: stderr {stderr:?}");
    msg.strip_suffix(&suffix).unwrap().to_string()
}

fn is_hex_address(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The address in a crash message `<prefix><address>)`; fails the test if
/// `msg` has another form or the address is not a hexadecimal number.
fn address_after<'a>(msg: &'a str, prefix: &str) -> &'a str {
    let addr = msg.strip_prefix(prefix).and_then(|r| r.strip_suffix(')')).unwrap_or_else(|| panic!("{msg}"));
    assert!(is_hex_address(addr), "{msg}");
    addr
}

#[test]
fn null_dereference_is_reported_as_sigsegv_at_address_zero() {
    let msg = crash(&native_build(), "null_deref", b"{}", libc::SIGSEGV);
    assert_eq!(msg, "handler 'null_deref' crashed: SIGSEGV (invalid memory access at address 0x0)");
}

/// The platform closed the kept connection after `/next` (announced, or
/// silently, so the first send finds it dead): the report goes out on a
/// new connection, once.
#[test]
fn a_crash_after_the_platform_closed_the_connection_is_posted_on_a_new_one() {
    for close in [CloseMode::AfterEachResponseWithHeader, CloseMode::AfterEachResponseSilently] {
        let quirks = Quirks { close, ..Quirks::default() };
        let msg = crash_with(quirks, &native_build(), "null_deref", b"{}", libc::SIGSEGV);
        assert_eq!(msg, "handler 'null_deref' crashed: SIGSEGV (invalid memory access at address 0x0)", "{close:?}");
    }
}

#[test]
fn stack_overflow_is_reported_from_the_alternate_stack() {
    let msg = crash(&native_build(), "stack_overflow", b"{}", libc::SIGSEGV);
    address_after(&msg, "handler 'stack_overflow' crashed: SIGSEGV (stack overflow at address ");
}

#[test]
fn abort_is_reported_as_sigabrt() {
    let msg = crash(&native_build(), "calls_abort", b"{}", libc::SIGABRT);
    assert_eq!(msg, "handler 'calls_abort' crashed: SIGABRT (abort() called)");
}

#[test]
fn integer_division_by_zero_is_reported_as_sigfpe() {
    let msg = crash(&native_build(), "divides_by_zero", b"{}", libc::SIGFPE);
    let addr = address_after(&msg, "handler 'divides_by_zero' crashed: SIGFPE (integer divide by zero at address ");
    assert_ne!(addr, "0x0", "{msg}");
}

#[test]
fn builtin_trap_is_reported_as_sigill() {
    let msg = crash(&native_build(), "traps", b"{}", libc::SIGILL);
    let addr = address_after(&msg, "handler 'traps' crashed: SIGILL (illegal instruction at address ");
    assert_ne!(addr, "0x0", "{msg}");
}

#[test]
fn breakpoint_is_reported_as_sigtrap_without_an_address() {
    let msg = crash(&native_build(), "breakpoint", b"{}", libc::SIGTRAP);
    assert_eq!(msg, "handler 'breakpoint' crashed: SIGTRAP (trace or breakpoint trap)");
}

#[test]
fn a_non_canonical_pointer_is_a_sigsegv_whose_address_the_kernel_does_not_report() {
    let msg = crash(&native_build(), "wild_pointer", b"{}", libc::SIGSEGV);
    assert_eq!(msg, "handler 'wild_pointer' crashed: SIGSEGV (invalid memory access, address not reported)");
}

/// A ReleaseSmall Zig @panic runs Zig's default panic handler, which prints
/// the message to stderr and aborts: the post names SIGABRT, and the Zig
/// message is in the log just before the runtime's line.
#[test]
fn zig_panic_is_reported_as_sigabrt_with_zig_s_message_in_the_log() {
    let api = api(Quirks::default());
    let p = start(&native_build(), &api, "zig_panics");
    let inv = api
        .invoke_with(b"[1,2,3]", InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id: None })
        .expect("invoke");
    let Outcome::Error(msg) = inv.outcome else { panic!("{:?}", inv.outcome) };
    let msg = String::from_utf8(msg).unwrap();
    assert_eq!(
        msg,
        format!("handler 'zig_panics' crashed: SIGABRT (abort() called) while handling request {}", inv.request_id)
    );
    let (status, stderr, _) = p.wait(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert!(stderr.contains("event too long for this handler"), "{stderr}");
    assert!(stderr.ends_with(&format!("scf-bootstrap: {msg}\n")), "{stderr}");
    assert_eq!(api.stats().error_posts, 1);
}

#[test]
fn rust_panic_posts_its_message_and_location_once() {
    let api = api(Quirks::default());
    let p = start(&rust_build(), &api, "panics");
    let inv = api
        .invoke_with(b"[1,2,3]", InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id: None })
        .expect("invoke");
    let Outcome::Error(msg) = inv.outcome else { panic!("{:?}", inv.outcome) };
    let msg = String::from_utf8(msg).unwrap();
    assert_eq!(
        msg,
        format!(
            "handler 'panics' panicked at src/main.rs:20:5: event of 7 bytes is too long (limit 2) \
             while handling request {}",
            inv.request_id
        )
    );
    let (status, stderr, _) = p.wait(Duration::from_secs(10));
    // The abort after the report is not reported again.
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert_eq!(stderr, format!("scf-bootstrap: {msg}\n"));
    assert_eq!(api.stats().error_posts, 1);
}

/// std installs SIGSEGV and SIGBUS handlers of its own before `main` (to
/// name stack overflows); the runtime calls std's first, and reports what
/// std declines.
#[test]
fn a_std_handler_s_null_read_is_reported_though_std_handles_sigsegv_first() {
    let msg = crash(&rust_std_build(), "null_read", b"{}", libc::SIGSEGV);
    assert_eq!(msg, "handler 'null_read' crashed: SIGSEGV (invalid memory access at address 0x0)");
}

/// The line of tests/rust-std-crash's `panic!`.
fn std_panic_line() -> usize {
    let src = std::fs::read_to_string(root().join("tests/rust-std-crash/src/main.rs")).unwrap();
    1 + src.lines().position(|l| l.trim_start().starts_with("panic!(\"{} words")).expect("the panic! line")
}

/// The panic hook that `run()` installs formats the message and location
/// into the post; the log has that line only (not std's two), and the
/// abort that follows is not reported again.
#[test]
fn a_std_handler_s_panic_posts_its_formatted_message_and_location_once() {
    let api = api(Quirks::default());
    let p = start(&rust_std_build(), &api, "panics");
    let inv = api
        .invoke_with(b"a,b,c", InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id: None })
        .expect("invoke");
    let Outcome::Error(msg) = inv.outcome else { panic!("{:?}", inv.outcome) };
    let msg = String::from_utf8(msg).unwrap();
    assert_eq!(
        msg,
        format!(
            "handler 'panics' panicked at src/main.rs:{}:5: 3 words is 2 too many while handling request {}",
            std_panic_line(),
            inv.request_id
        )
    );
    let (status, stderr, _) = p.wait(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert_eq!(stderr, format!("scf-bootstrap: {msg}\n"));
    assert_eq!(api.stats().error_posts, 1);
}

/// A stack overflow in a std handler: on the main thread std declines
/// the fault (it knows no guard page for it under musl), and in a thread
/// the handler started (where std would print its own line and abort)
/// the runtime reports first; either way the line says so.
#[test]
fn a_std_handler_s_stack_overflow_is_reported_on_the_main_thread_and_in_a_thread() {
    for handler in ["overflows", "overflows_in_a_thread"] {
        let msg = crash(&rust_std_build(), handler, b"{}", libc::SIGSEGV);
        address_after(&msg, &format!("handler '{handler}' crashed: SIGSEGV (stack overflow at address "));
    }
}

#[test]
fn a_std_handler_s_crash_is_posted_as_lambda_expects_too() {
    use common::lambda::{Event, LambdaApi, LambdaConfig};
    for (handler, signal, event, want) in [
        ("null_read", libc::SIGSEGV, "{}", "crashed: SIGSEGV (invalid memory access at address 0x0)"),
        (
            "panics",
            libc::SIGABRT,
            "a,b",
            &*format!("panicked at src/main.rs:{}:5: 2 words is 1 too many", std_panic_line()),
        ),
    ] {
        let api = LambdaApi::start("127.0.0.1:0", LambdaConfig::default());
        let env = api.env_value();
        let h = format!("index.{handler}");
        let p = spawn_no_core(&rust_std_lambda_build(), &[("AWS_LAMBDA_RUNTIME_API", &env), ("_HANDLER", &h)]);
        let id = format!("std-{handler}");
        let post = api.invoke(Event { id: id.clone(), body: event.into(), headers: vec![] }, T);
        assert_eq!(post.path, format!("/2018-06-01/runtime/invocation/{id}/error"), "{post:?}");
        let msg = format!("handler '{handler}' {want} while handling request {id}");
        assert_eq!(post.crash_message(), msg);
        let (status, stderr, _) = p.wait(T);
        assert_eq!(status.signal(), Some(signal), "{handler}: {status:?} {stderr}");
        assert_eq!(stderr, format!("scf-bootstrap: {msg}\n"));
    }
}

#[test]
fn rust_err_posts_its_display_text_not_the_partial_response_and_the_loop_goes_on() {
    let api = api(Quirks::default());
    let mut p = start(&rust_build(), &api, "fails");
    match api.invoke(b"[1,2,3]", T).unwrap() {
        Outcome::Error(msg) => assert_eq!(String::from_utf8(msg).unwrap(), "event too long"),
        other => panic!("{other:?}"),
    }
    assert_eq!(invoke_ok(&api, b"[]"), b"{\"partial\":true}");
    assert!(p.child.try_wait().unwrap().is_none(), "the runtime exited after an Err");
    assert_eq!(api.stats().error_posts, 1);
}

#[test]
fn init_hook_crash_is_one_stderr_line_and_no_ready() {
    let api = api(Quirks::default());
    let (status, stderr, _) = start(&native_build(), &api, "crashing_init").wait(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{stderr}");
    assert_eq!(
        stderr,
        "scf-bootstrap: init hook of handler 'crashing_init' crashed: SIGSEGV (invalid memory access at address 0x0)\n"
    );
    let s = api.stats();
    assert_eq!((s.ready_posts, s.error_posts, s.connections), (0, 0, 0), "{s:?}");
}

/// Waits until `f` holds, for up to 10 s.
fn until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigsegv_sent_while_idle_is_one_stderr_line_and_no_post() {
    let api = api(Quirks::default());
    let p = start(&native_build(), &api, "answers");
    assert_eq!(invoke_ok(&api, b"{\"a\":1}"), b"{\"a\":1}");
    // Back in the long poll for the next event.
    until("the second /next", || api.stats().next_requests >= 2);
    let pid = p.child.id() as i32;
    // SAFETY: sends a signal to the child this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSEGV) }, 0);
    let (status, stderr, _) = p.wait(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{stderr}");
    assert_eq!(
        stderr,
        format!("scf-bootstrap: SIGSEGV (sent by process {}) outside any handler\n", std::process::id())
    );
    let s = api.stats();
    assert_eq!((s.error_posts, s.response_posts), (0, 1), "{s:?}");
}
