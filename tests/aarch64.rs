//! The aarch64 bootstrap (AWS Lambda arm64), built as a user builds it
//! (`cargo build --release --target aarch64-unknown-linux-musl`, with the
//! repository's `.cargo/config.toml`) and run under qemu-user against the
//! loopback runtime API: the protocol suite's core, a C and a Rust
//! handler, packaging, and its syscalls from exec to ready next to
//! x86_64's.
//!
//! Needs, besides what the x86_64 tests need: Rust's
//! aarch64-unknown-linux-musl target, Debian's `gcc-aarch64-linux-gnu` (the
//! link driver) and `qemu-user-static`, and Zig (`pip install ziglang`),
//! which compiles the C handlers for aarch64 musl. A missing tool fails its
//! test with a message naming it. Each binary is built once per test
//! process: qemu makes every run slower, so nothing is built twice.

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The echo demo, default build.
fn demo_arm() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build(&Build { name: "aarch64-demo", target: AARCH64, ..Default::default() }))
}

/// tests/c/handlers.c, compiled for aarch64 musl by build.rs.
fn c_arm() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        build(&Build {
            name: "aarch64-c-handlers",
            target: AARCH64,
            handlers: &["tests/c/handlers.c"],
            ..Default::default()
        })
    })
}

/// The `bootstrap` inside `zip`, unpacked next to it (with unzip, which
/// also checks the CRC).
fn unzip(zip: &Path) -> PathBuf {
    let dir = zip.with_extension("d");
    fs::create_dir_all(&dir).unwrap();
    let o = Command::new("unzip").arg("-oq").arg(zip).arg("-d").arg(&dir).output().expect("run unzip");
    assert!(o.status.success(), "unzip {}: {}", zip.display(), String::from_utf8_lossy(&o.stderr));
    dir.join("bootstrap")
}

#[test]
fn builds_a_static_aarch64_executable() {
    let bin = demo_arm();
    assert_eq!(elf_machine(bin), Some(183), "not an aarch64 ELF file");
    let o = Command::new("readelf").arg("-lW").arg(bin).output().expect("run readelf (binutils)");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Elf file type is EXEC"), "not a plain static executable:\n{text}");
    assert!(!text.contains("INTERP") && !text.contains("DYNAMIC"), "dynamically linked:\n{text}");
    // The linker script discarded the unwind tables, as on x86_64: what is
    // left is crtbegin.o's own (88 bytes; about 4 KiB without the script).
    let eh_frame = section_size(bin, ".eh_frame").unwrap_or(0);
    assert!(eh_frame <= 128, "the unwind tables were kept: .eh_frame of {eh_frame} bytes");
    assert_eq!(section_size(bin, ".comment"), None);
}

#[test]
fn echoes_the_guide_event_and_logs_it() {
    let api = api(Quirks::default());
    let p = spawn(demo_arm(), &api, "index.main_handler");
    assert!(api.wait_ready(T), "no init/ready");
    let event = GUIDE_EVENT;
    assert_eq!(invoke_ok(&api, event), echo_of(event));
    let stderr = p.stop();
    assert!(stderr.starts_with(scf_emulator::GUIDE_EVENT), "{stderr}");
}

#[test]
fn six_megabyte_event_then_a_small_one() {
    let api = api(Quirks::default());
    let _p = spawn(demo_arm(), &api, "index.main_handler");
    let event = six_mb_event();
    assert_eq!(invoke_ok(&api, &event), echo_of(&event));
    assert_eq!(invoke_ok(&api, b"small"), echo_of(b"small"));
}

#[test]
fn two_hundred_invocations_over_one_connection() {
    let api = api(Quirks::default());
    let _p = spawn(demo_arm(), &api, "index.main_handler");
    for i in 0..200 {
        let event = format!("{{\"n\":{i}}}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()));
    }
    let s = api.stats();
    assert_eq!((s.connections, s.events_sent, s.response_posts), (1, 200, 200), "{s:?}");
}

#[test]
fn platform_closing_idle_connections_loses_nothing() {
    for close in [CloseMode::AfterEachResponseSilently, CloseMode::AfterEachResponseWithHeader] {
        let api = api(Quirks { close, ..Quirks::default() });
        let _p = spawn(demo_arm(), &api, "index.main_handler");
        for i in 0..20 {
            let event = format!("event {i}");
            assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()), "{close:?}");
        }
        let s = api.stats();
        assert_eq!((s.events_sent, s.response_posts, s.ignored_results), (20, 20, 0), "{close:?}: {s:?}");
        assert!(s.connections >= 20, "{close:?}: {s:?}");
    }
}

#[test]
fn chunked_event_bodies() {
    let api = api(Quirks { chunked_events: true, ..Quirks::default() });
    let _p = spawn(demo_arm(), &api, "index.main_handler");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for event in [&b"x"[..], b"hello chunked world", &big] {
        assert_eq!(invoke_ok(&api, event), echo_of(event));
    }
}

#[test]
fn errors_500s_on_next_and_bad_environment() {
    let api = api(Quirks { fail_next: 2, ..Quirks::default() });
    let _p = spawn(demo_arm(), &api, "index.main_handler");
    assert_eq!(invoke_ok(&api, b"after 500s"), echo_of(b"after 500s"));
    assert_eq!(api.stats().server_errors, 2);
    // An echo over the response limit goes to the error endpoint.
    match api.invoke(&vec![b'x'; 6 << 20], T).unwrap() {
        Outcome::Error(msg) => assert_eq!(
            String::from_utf8(msg).unwrap(),
            "the echo of a 6291456-byte event exceeds SCF's 6 MB response limit"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(invoke_ok(&api, b"after"), echo_of(b"after"));

    let p = spawn_env(demo_arm(), &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", "0")]);
    let (status, stderr, _) = p.wait(T);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "scf-bootstrap: SCF_RUNTIME_API_PORT='0' is not a port number from 1 to 65535\n");
}

#[test]
fn c_handler_sees_its_context_uses_libc_and_fails_cleanly() {
    let bin = c_arm();
    assert_eq!(elf_machine(bin), Some(183));
    let cfg = ApiConfig { memory_mb: 256, timeout_ms: 4500, ..ApiConfig::default() };
    let limits = RuntimeApi::start(cfg).unwrap();
    let _p = spawn(bin, &limits, "index.context_report");
    let opts = InvokeOptions { timeout: T, request_id: Some("req-arm".into()), ..InvokeOptions::default() };
    let inv = limits.invoke_with(b"12345", opts).unwrap();
    let body = String::from_utf8(inv.outcome.body().to_vec()).unwrap();
    for field in [
        "size=184",
        "abi=1",
        "request_id=req-arm",
        "memory=256",
        "time=4500",
        "function=it-function",
        "region=ap-guangzhou",
        "event_len=5",
    ] {
        assert!(body.split(' ').any(|f| f == field), "{field} missing from {body}");
    }
    drop(limits);

    // snprintf and malloc from musl, the C library Rust bundles.
    let libc = api(Quirks::default());
    let _p = spawn(bin, &libc, "index.uses_libc");
    assert_eq!(invoke_ok(&libc, b"{\"hello\":1}"), b"11 bytes, first '{\"hello\"'");
    drop(libc);

    let failing = api(Quirks::default());
    let _p = spawn(bin, &failing, "index.fail_with_message");
    match failing.invoke(b"boom", T).unwrap() {
        Outcome::Error(msg) => assert_eq!(msg, b"cannot handle event: boom"),
        other => panic!("{other:?}"),
    }
    assert_eq!((failing.stats().response_posts, failing.stats().error_posts), (0, 1));
}

/// `bin` started as Lambda starts it, pointed at `api` (the Lambda peer).
fn spawn_on_lambda(bin: &Path, api: &common::lambda::LambdaApi) -> Proc {
    let value = api.env_value();
    let env = [
        ("AWS_LAMBDA_RUNTIME_API", value.as_str()),
        ("_HANDLER", "index.main_handler"),
        ("AWS_LAMBDA_FUNCTION_NAME", "it-lambda"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_REGION", "eu-west-1"),
    ];
    spawn_env(bin, &env)
}

fn lambda_event(id: &str, body: &[u8]) -> common::lambda::Event {
    common::lambda::Event { id: id.into(), body: body.to_vec(), headers: Vec::new() }
}

/// examples/rust, packaged for Lambda arm64 as a user would (the Lambda
/// variant), unpacked and run against the Lambda peer: the zip's bootstrap
/// is an aarch64 executable and answers with its context.
#[test]
fn rust_handler_packaged_for_lambda_arm64_answers() {
    let dir = scratch("aarch64", "rust");
    let zip = dir.join("rust.zip");
    let o = run_package(&["--target", AARCH64, "--platform", "lambda", "--handler", "examples/rust"], &zip);
    assert!(o.status.success(), "scripts/package: {}", String::from_utf8_lossy(&o.stderr));
    let bin = unzip(&zip);
    assert_eq!(elf_machine(&bin), Some(183));

    let api = common::lambda::LambdaApi::start("127.0.0.1:0", common::lambda::LambdaConfig::default());
    let _p = spawn_on_lambda(&bin, &api);
    let posted = api.invoke(lambda_event("req-rust-arm", b"{\"a\":1}"), T);
    assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-rust-arm/response");
    assert_eq!(
        String::from_utf8(posted.body).unwrap(),
        concat!(
            r#"{"function":"it-lambda","namespace":null,"version":"$LATEST","region":"eu-west-1","#,
            r#""requestId":"req-rust-arm","memoryLimitMb":256,"timeLimitMs":0,"eventBytes":7}"#
        )
    );
}

/// examples/zig, compiled by Zig for aarch64 musl and packaged for Lambda
/// arm64 (the Lambda variant): upper-cases the event.
#[test]
fn zig_handler_packaged_for_lambda_arm64_answers() {
    let dir = scratch("aarch64", "zig");
    let zip = dir.join("zig.zip");
    let o = run_package(&["--target", AARCH64, "--platform", "lambda", "--handler", "examples/zig/upper.zig"], &zip);
    assert!(o.status.success(), "scripts/package: {}", String::from_utf8_lossy(&o.stderr));
    let bin = unzip(&zip);
    assert_eq!(elf_machine(&bin), Some(183));
    let api = common::lambda::LambdaApi::start("127.0.0.1:0", common::lambda::LambdaConfig::default());
    let _p = spawn_on_lambda(&bin, &api);
    let event = GUIDE_EVENT;
    assert_eq!(api.invoke(lambda_event("zig-1", event), T).body, event.to_ascii_uppercase());
}

/// SCF runs x86_64 only: an aarch64 SCF zip is refused in one line, built
/// or given; the same binary packages for Lambda.
#[test]
fn aarch64_is_packaged_for_lambda_and_refused_for_scf() {
    let dir = scratch("aarch64", "platform");
    let bin = demo_arm().to_str().unwrap();
    let scf = "scripts/package: error: SCF runs x86_64 only, as far as its public documentation shows: \
               no aarch64-unknown-linux-musl zip for it (--platform lambda takes aarch64-unknown-linux-musl)\n";
    for args in [
        &["--target", AARCH64][..],
        &["--target", AARCH64, "--platform", "scf", "--handler", "tests/c/handlers.c"],
        &["--target", AARCH64, "--bootstrap", bin],
    ] {
        let zip = dir.join("scf.zip");
        let o = run_package(args, &zip);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), scf, "{args:?}");
        assert!(!zip.exists(), "{args:?}: a zip was written");
    }
    // Without --target, the binary is checked against x86_64.
    let zip = dir.join("x86.zip");
    let o = run_package(&["--platform", "lambda", "--bootstrap", bin], &zip);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is built for ELF machine 183 (aarch64), not x86_64 (62)") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!zip.exists());
    // And an x86_64 binary is not an aarch64 one.
    let x86 = demo();
    let o = run_package(&["--platform", "lambda", "--target", AARCH64, "--bootstrap", x86.to_str().unwrap()], &zip);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is built for ELF machine 62 (x86_64), not aarch64 (183)") && err.lines().count() == 1,
        "{err}"
    );

    let zip = dir.join("lambda.zip");
    let o = run_package(&["--target", AARCH64, "--platform", "lambda", "--bootstrap", bin], &zip);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::read(unzip(&zip)).unwrap() == fs::read(bin).unwrap(), "the zip does not hold the binary");
}

/// The syscalls from the first one qemu-user sees to the ready request,
/// traced by `qemu-* -strace` (which does not show execve: qemu itself
/// loads the binary).
fn qemu_syscalls_to_ready(bin: &Path, qemu: &str) -> Vec<String> {
    let api = api(Quirks::default());
    let log = root().join(format!("target/it/aarch64/qemu-strace-{}-{qemu}.txt", std::process::id()));
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    let port = api.addr().port().to_string();
    let mut cmd = Command::new(qemu);
    cmd.arg("-strace").arg("-D").arg(&log).arg(bin);
    cmd.env_clear().envs([
        ("SCF_RUNTIME_API", "127.0.0.1"),
        ("SCF_RUNTIME_API_PORT", &port),
        ("_HANDLER", "index.main_handler"),
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let p = Proc::spawn(cmd);
    assert!(api.wait_ready(T), "{qemu}: no init/ready");
    // One invocation, so the ready request is surely traced before qemu is
    // stopped.
    assert_eq!(invoke_ok(&api, b"x"), echo_of(b"x"));
    drop(p);
    let text = fs::read_to_string(&log).unwrap_or_else(|e| panic!("{qemu} -strace log {}: {e}", log.display()));
    let _ = fs::remove_file(&log);
    // Lines are `PID name(args) = result`.
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.split('(').next().unwrap_or("").to_string()))
        .collect();
    let until: Vec<String> = names.iter().take_while(|n| *n != "sendmsg").cloned().collect();
    assert!(until.len() < names.len(), "{qemu}: no sendmsg traced:\n{text}");
    until
}

#[test]
fn exec_to_ready_is_x86_64s_without_arch_prctl() {
    let arm = qemu_syscalls_to_ready(demo_arm(), "qemu-aarch64-static");
    let x86 = qemu_syscalls_to_ready(&demo(), "qemu-x86_64-static");
    // x86_64 sets its thread pointer with arch_prctl; aarch64 writes
    // TPIDR_EL0 from user space. aarch64 has no `poll` system call: musl's
    // poll is `ppoll` there. Otherwise the same calls, in order
    // (tests/footprint.rs pins x86_64's list, execve included, with strace).
    assert_eq!(x86.first().map(String::as_str), Some("arch_prctl"), "{x86:?}");
    let arm_as_x86: Vec<&str> = arm.iter().map(|n| if n == "ppoll" { "poll" } else { n.as_str() }).collect();
    assert_eq!(arm_as_x86, x86[1..], "aarch64 {arm:?} against x86_64 {x86:?}");
    assert_eq!(arm, ["set_tid_address", "ppoll", "socket", "setsockopt", "connect"]);
}
