//! What the bootstrap costs, checked as facts rather than timings: the
//! syscalls from exec to init/ready, no memory syscalls on warm
//! invocations, no allocator linked in, and the dependency tree.

mod common;
use common::*;
use std::process::{Command, Stdio};

fn strace_available() {
    let ok = Command::new("strace").arg("-V").stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "strace is required for this test (apt-get install strace)");
}

/// Runs the demo bootstrap under strace against `api` and returns the
/// trace lines after `work` has run and the process was stopped.
fn traced(api: &RuntimeApi, syscalls: &str, work: impl FnOnce(&RuntimeApi)) -> Vec<String> {
    traced_bin(&demo(), "index.main_handler", api, syscalls, work)
}

/// [`traced`] for any bootstrap and handler.
fn traced_bin(
    bin: &std::path::Path,
    handler: &str,
    api: &RuntimeApi,
    syscalls: &str,
    work: impl FnOnce(&RuntimeApi),
) -> Vec<String> {
    traced_env(bin, handler, &[], api, syscalls, work)
}

/// [`traced_bin`] with `extra` added to the environment.
fn traced_env(
    bin: &std::path::Path,
    handler: &str,
    extra: &[(&str, &str)],
    api: &RuntimeApi,
    syscalls: &str,
    work: impl FnOnce(&RuntimeApi),
) -> Vec<String> {
    strace_available();
    let dir = root().join("target/it");
    // Tests in this file run in parallel in one process: the pid alone
    // would let one test read, or delete, another's trace.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = dir.join(format!("strace-{}-{seq}.txt", std::process::id()));
    let port = api.addr().port().to_string();
    let env = [("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", port.as_str()), ("_HANDLER", handler)];
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-e", &format!("trace={syscalls}"), "-e", "signal=none", "-o"]).arg(&log).arg(bin);
    cmd.env_clear().envs(env).envs(extra.iter().copied()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    assert!(api.wait_ready(T));
    work(api);
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    text.lines().map(String::from).collect()
}

fn name(line: &str) -> &str {
    line.split('(').next().unwrap_or("")
}

#[test]
fn exec_to_ready_takes_eight_syscalls() {
    let api = api(Quirks::default());
    let lines = traced(&api, "all", |_| {});
    let until_ready: Vec<&str> = lines.iter().map(|l| name(l)).take_while(|n| *n != "sendmsg").collect();
    // execve; musl's start-up (TLS pointer, tid address); one poll to check
    // that fds 0-2 are open (they are here: no open of /dev/null); one
    // socket with TCP_NODELAY, connected; then the ready request goes out
    // in one sendmsg.
    assert_eq!(
        until_ready,
        ["execve", "arch_prctl", "set_tid_address", "poll", "socket", "setsockopt", "connect"],
        "{lines:#?}"
    );
    assert!(lines[7].contains("POST /runtime/init/ready"), "{}", lines[7]);
}

/// The crash reports' signal handling is armed once, before the first
/// handler call: right after ready (off the path to ready) when there is
/// no init hook, with one sigaltstack, one getpid (a forked child must
/// not report) and one rt_sigaction per signal, SIGPIPE's included (caught
/// by a handler that does nothing, with SA_RESTART: not SIG_IGN, which a
/// child would inherit).
#[test]
fn crash_reports_are_armed_after_ready_with_ten_syscalls() {
    let api = api(Quirks::default());
    let lines = traced(&api, "all", |api| {
        let e = b"{}";
        assert_eq!(invoke_ok(api, e), echo_of(e));
    });
    let sends: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| name(l) == "sendmsg").map(|(i, _)| i).collect();
    // Between the ready request and the first /next: ready's answer, then
    // the arming.
    let between: Vec<&str> = lines[sends[0] + 1..sends[1]].iter().map(|l| name(l)).collect();
    let mut want = vec!["read", "sigaltstack", "getpid"];
    want.extend(["rt_sigaction"; 8]);
    assert_eq!(between, want, "{lines:#?}");
    for sig in ["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS", "SIGPIPE"] {
        assert!(
            lines[sends[0]..sends[1]].iter().any(|l| l.starts_with(&format!("rt_sigaction({sig}, {{sa_handler=0x"))),
            "{sig} is not armed: {lines:#?}"
        );
    }
    let pipe = lines[sends[0]..sends[1]].iter().find(|l| l.starts_with("rt_sigaction(SIGPIPE")).unwrap();
    assert!(pipe.contains("SA_RESTART"), "{pipe}");
    // Once: nothing signal-related afterwards.
    let later: Vec<&String> =
        lines[sends[1]..].iter().filter(|l| name(l).starts_with("rt_sig") || name(l) == "sigaltstack").collect();
    assert!(later.is_empty(), "{later:#?}");
}

/// With an init hook, the arming comes before it, and so before ready.
#[test]
fn with_an_init_hook_crash_reports_are_armed_before_it() {
    let api = api(Quirks::default());
    let bin = build(&Build { name: "c-handlers", handlers: &["tests/c/handlers.c"], ..Default::default() });
    let lines = traced_bin(&bin, "index.guarded", &api, "all", |_| {});
    let until_ready: Vec<&str> = lines.iter().map(|l| name(l)).take_while(|n| *n != "sendmsg").collect();
    let mut want = vec!["execve", "arch_prctl", "set_tid_address", "poll", "sigaltstack", "getpid"];
    want.extend(["rt_sigaction"; 8]);
    want.extend(["socket", "setsockopt", "connect"]);
    assert_eq!(until_ready, want, "{lines:#?}");
}

/// The syscalls of `n` warm invocations of the demo build `bin` against
/// `api`, by name, with `extra` in the environment.
fn warm_syscalls(
    bin: &std::path::Path,
    api: &RuntimeApi,
    extra: &[(&str, &str)],
    n: usize,
) -> std::collections::BTreeMap<String, usize> {
    let lines = traced_env(bin, "index.main_handler", extra, api, "all", |api| {
        for i in 0..=n {
            let e = format!("{{\"i\":{i}}}");
            assert_eq!(invoke_ok(api, e.as_bytes()), echo_of(e.as_bytes()));
        }
    });
    // Skip start-up and the first invocation: after the first response's
    // sendmsg up to the last response's lie exactly `n` warm invocations.
    // (Anchored on the responses: the runtime may already have asked for the
    // next event before strace stops.)
    let responses: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| name(l) == "sendmsg" && l.contains("POST /runtime/invocation/respons"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(responses.len(), n + 1, "{lines:#?}");
    let warm = &lines[responses[0] + 1..=responses[n]];
    let mut counts = std::collections::BTreeMap::new();
    for l in warm.iter().filter(|l| !l.starts_with("+++") && !l.starts_with("---")) {
        *counts.entry(name(l).to_string()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_warm_invocation_is_five_syscalls_plus_the_demo_s_log_line() {
    let api = api(Quirks::default());
    let n = 50;
    let counts = warm_syscalls(&demo(), &api, &[], n);
    // Per invocation: read the /response answer, sendmsg /next, read the
    // event, clock_gettime (the deadline), writev (the demo logs the event),
    // sendmsg the response.
    let want: std::collections::BTreeMap<String, usize> = [
        ("clock_gettime".to_string(), n),
        ("read".to_string(), 2 * n),
        ("sendmsg".to_string(), 2 * n),
        ("writev".to_string(), n),
    ]
    .into();
    assert_eq!(counts, want);
}

/// With SCF_BOOTSTRAP_PIPELINE=1 the response and the next /next go out
/// in one sendmsg: one syscall less. The platform here holds each /next
/// 20 ms before answering, so that the response's answer is always read
/// alone (when the event is already waiting, both answers can come in one
/// read, and the invocation takes three syscalls).
#[test]
fn a_pipelined_warm_invocation_is_four_syscalls_plus_the_demo_s_log_line() {
    let api = api(Quirks { next_delay: Some(std::time::Duration::from_millis(20)), ..Quirks::default() });
    let n = 50;
    let counts = warm_syscalls(&pipelined_demo(), &api, &[("SCF_BOOTSTRAP_PIPELINE", "1")], n);
    // Per invocation: read the /response answer, read the event,
    // clock_gettime, writev (the demo's log), sendmsg the response with
    // the next /next.
    let want: std::collections::BTreeMap<String, usize> = [
        ("clock_gettime".to_string(), n),
        ("read".to_string(), 2 * n),
        ("sendmsg".to_string(), n),
        ("writev".to_string(), n),
    ]
    .into();
    assert_eq!(counts, want);
}

#[test]
fn warm_invocations_make_no_memory_syscalls() {
    let api = api(Quirks::default());
    let big = vec![b'b'; 1 << 20];
    let small = vec![b's'; 1024];
    let lines = traced(&api, "mmap,mremap,munmap,brk,sendmsg", |api| {
        // The first, largest event grows the buffers; nothing after it may.
        assert_eq!(invoke_ok(api, &big).len(), big.len() + 19);
        for i in 0..200 {
            let e = if i % 2 == 0 { &small } else { &big };
            assert_eq!(invoke_ok(api, e).len(), e.len() + 19);
        }
    });
    let sends: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| name(l) == "sendmsg").map(|(i, _)| i).collect();
    // ready, next, response #1, next, response #2, ...
    assert!(sends.len() >= 3 + 2 * 200, "only {} sendmsg calls traced", sends.len());
    let growth: Vec<&String> =
        lines[..sends[2]].iter().filter(|l| name(l) != "sendmsg" && name(l) != "execve").collect();
    assert!(!growth.is_empty(), "the 1 MiB event should have grown the buffers: {lines:#?}");
    let warm: Vec<&String> = lines[sends[2]..].iter().filter(|l| name(l) != "sendmsg").collect();
    assert!(warm.is_empty(), "memory syscalls on warm invocations: {warm:#?}");
}

/// The runtime's buffers come from mmap/mremap and its resolver needs no
/// heap, so no build links an allocator (push mode's included).
#[test]
fn no_allocator_is_linked_into_the_runtime() {
    for (name, minimal, features) in
        [("default-symbols", false, ""), ("minimal-symbols", true, "scf"), ("serve-symbols", false, "serve")]
    {
        let bin =
            build(&Build { name, profile: "symbols", no_default_features: minimal, features, ..Default::default() });
        let out = Command::new("nm").arg(&bin).output().expect("nm (binutils) is required");
        let syms = String::from_utf8_lossy(&out.stdout);
        let defined: Vec<&str> = syms.lines().filter_map(|l| l.split_whitespace().nth(2)).collect();
        assert!(defined.contains(&"main"), "nm found no symbols in {name}");
        for f in ["malloc", "realloc", "calloc", "free"] {
            assert!(!defined.contains(&f), "{f} is linked into the {name} bootstrap");
        }
    }
}

/// The minimal build's own code reaches its buffers through checked
/// slices (`get`, `split_at_checked`, zips), so none of its index checks
/// can panic, and the panic entries that format an index and a length are
/// not linked in. (httparse's own checks still keep `slice_index_fail`,
/// and with it `core::fmt`'s number formatting: docs/size.md, "Where the
/// bytes go".)
#[test]
fn the_minimal_build_has_no_index_panics_of_its_own() {
    let bin = build(&Build {
        name: "minimal-symbols",
        profile: "symbols",
        no_default_features: true,
        features: "scf",
        ..Default::default()
    });
    let out = Command::new("nm").arg("-C").arg(&bin).output().expect("nm (binutils) is required");
    let syms = String::from_utf8_lossy(&out.stdout);
    assert!(syms.lines().any(|l| l.ends_with(" main")), "nm found no symbols");
    for f in ["core::panicking::panic_bounds_check", "core::slice::copy_from_slice_impl::len_mismatch_fail"] {
        assert!(!syms.contains(f), "{f} is linked into the minimal bootstrap");
    }
}

/// The default build, resolver included, has none of its own either: by
/// the line tables, every call to an index or slice panic entry comes from
/// a dependency (httparse's header trimming and token checks are what is
/// left), none from src/. A call from an out-of-line copy of a core slice
/// function counts where that copy is called from.
#[test]
fn the_default_build_has_no_index_panics_of_its_own() {
    let bin = build(&Build { name: "default-lines", profile: "lines", ..Default::default() });
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "-C"])
        .arg(&bin)
        .output()
        .expect("objdump (binutils) is required");
    let dis = String::from_utf8_lossy(&out.stdout);
    const ENTRIES: [&str; 6] = [
        "core::panicking::panic_bounds_check",
        "core::slice::index::slice_index_fail",
        "core::slice::index::slice_start_index_len_fail",
        "core::slice::index::slice_end_index_len_fail",
        "core::slice::index::slice_index_order_fail",
        "core::slice::copy_from_slice_impl::len_mismatch_fail",
    ];
    // (address, start of the function it is in, called address, called name)
    let mut calls = Vec::new();
    let mut func = 0u64;
    for line in dis.lines() {
        if let Some(head) = line.strip_suffix(">:") {
            func = u64::from_str_radix(head.split(' ').next().unwrap(), 16).unwrap();
        } else if let Some((addr, insn)) = line.trim_start().split_once(":\t") {
            if !(insn.starts_with("call") || insn.starts_with("jmp")) {
                continue;
            }
            let Some((target, name)) = insn.split_whitespace().nth(1).zip(insn.split_once(" <")) else { continue };
            let (Ok(a), Ok(t)) = (u64::from_str_radix(addr, 16), u64::from_str_radix(target, 16)) else { continue };
            calls.push((a, func, t, name.1.trim_end_matches('>').to_string()));
        }
    }
    assert!(calls.len() > 100, "objdump found {} calls", calls.len());
    let frames = |addrs: &[u64]| -> Vec<Vec<String>> {
        let out = Command::new("addr2line")
            .args(["-a", "-i", "-e"])
            .arg(&bin)
            .args(addrs.iter().map(|a| format!("{a:#x}")))
            .output()
            .expect("addr2line (binutils) is required");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut groups: Vec<Vec<String>> = Vec::new();
        for l in text.lines() {
            match l.starts_with("0x") {
                true => groups.push(Vec::new()),
                false => groups.last_mut().unwrap().push(l.to_string()),
            }
        }
        groups
    };
    let src = root().join("src").display().to_string();
    let (mut sites, mut own, mut theirs) =
        (calls.iter().filter(|c| ENTRIES.iter().any(|e| c.3.starts_with(e))).collect::<Vec<_>>(), Vec::new(), 0);
    assert!(!sites.is_empty() || !ENTRIES.iter().any(|e| dis.contains(&format!("<{e}>:"))));
    let mut seen = std::collections::HashSet::new();
    while !sites.is_empty() {
        let addrs: Vec<u64> = sites.iter().map(|c| c.0).collect();
        let mut next = Vec::new();
        for (site, f) in sites.iter().zip(frames(&addrs)) {
            assert!(f.iter().any(|l| !l.starts_with("??")), "no line for the call at {:#x}", site.0);
            // The innermost frame outside core says whose index it is.
            match f.iter().find(|l| !l.starts_with("/rustc/") && !l.starts_with("??")) {
                Some(l) if l.starts_with(&src) => own.push(format!("{:#x} -> {}: {}", site.0, site.3, f.join(" <- "))),
                Some(_) => theirs += 1,
                None if seen.insert(site.1) => {
                    // In core's own code: whoever calls that function.
                    next.extend(calls.iter().filter(|c| c.2 == site.1));
                }
                None => {}
            }
        }
        sites = next;
    }
    assert!(own.is_empty(), "index panics of the bootstrap's own:\n{}", own.join("\n"));
    eprintln!("{theirs} index panic call(s), all in dependencies");
}

#[test]
fn dependency_tree_is_exactly_httparse_itoa_memchr_libc() {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args([
            "tree",
            "-p",
            "scf-bootstrap",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--target",
            "x86_64-unknown-linux-musl",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["httparse", "itoa", "libc", "memchr", "scf-bootstrap"]);
}

/// The image build (push mode alone: tests/common), the echo demo.
fn demo_serve() -> std::path::PathBuf {
    image_demo()
}

/// Runs `bootstrap serve` from the image build under strace, on a free
/// loopback port, and returns the trace lines after `work` has run on its
/// address and the server was stopped (by its own PID: strace's child).
fn traced_serve(syscalls: &str, work: impl FnOnce(std::net::SocketAddr)) -> Vec<String> {
    strace_available();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = root().join(format!("target/it/strace-serve-{}-{seq}.txt", std::process::id()));
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-e", &format!("trace={syscalls}"), "-e", "signal=none", "-o"]).arg(&log).arg(demo_serve());
    cmd.arg("serve").env_clear().env("SCF_BOOTSTRAP_LISTEN", addr.to_string());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Listening, seen without connecting (a connection is traced): the
    // port in the LISTEN state (0A) of /proc/net/tcp.
    let port = format!(":{:04X} 00000000:0000 0A", addr.port());
    let started = std::time::Instant::now();
    while !std::fs::read_to_string("/proc/net/tcp").unwrap().contains(&port) {
        assert!(started.elapsed() < T, "not listening on {addr}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    work(addr);
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    let traced: i32 = std::fs::read_to_string(children).unwrap().trim().parse().unwrap();
    // SAFETY: kill(2) of strace's child, the server this test started.
    unsafe { libc::kill(traced, libc::SIGKILL) };
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    text.lines().map(String::from).collect()
}

/// `n` events of `event` (bytes) POSTed on one kept connection to `addr`,
/// each answer read and checked to be the demo's echo.
fn push_events(addr: std::net::SocketAddr, events: impl Iterator<Item = Vec<u8>>) {
    let mut conn = scf_emulator::http::Conn::new(std::net::TcpStream::connect(addr).unwrap());
    for e in events {
        let head = format!(
            "POST /event-invoke HTTP/1.1\r\nHost: {addr}\r\nX-Scf-Request-Id: r\r\nX-Scf-Timeout: 3000\r\n\
             Content-Length: {}\r\n\r\n",
            e.len()
        );
        conn.send(&[head.as_bytes(), &e].concat()).unwrap();
        let raw = conn.read_head_bytes().unwrap().unwrap();
        let head = scf_emulator::http::parse_response_head(&raw).unwrap();
        let body = conn.read_body(head.framing().unwrap(), 8 << 20).unwrap();
        assert_eq!((head.status, body.len()), (200, e.len() + 19));
    }
}

/// Push mode opens its listener first: after musl's start-up, `socket`,
/// `setsockopt(SO_REUSEADDR)`, `bind` and `listen`, before anything else
/// (the standard descriptors' check, the options connections inherit, the
/// crash reports' arming come after).
#[test]
fn exec_to_listening_takes_seven_syscalls() {
    let lines = traced_serve("all", |_| {});
    let until: Vec<&str> = lines.iter().map(|l| name(l)).take_while(|n| *n != "poll").collect();
    assert_eq!(
        until,
        ["execve", "arch_prctl", "set_tid_address", "socket", "setsockopt", "bind", "listen"],
        "{lines:#?}"
    );
    assert!(lines[4].contains("SO_REUSEADDR") && lines[6].starts_with("listen(3, "), "{lines:#?}");
}

/// A warm pushed invocation on a kept connection: `poll` (the connection
/// has a request), `read` (all of it), `clock_gettime` (the deadline),
/// the demo's `writev` (its log line), `sendmsg` (the answer): one syscall
/// fewer than a pulled one.
#[test]
fn a_warm_pushed_invocation_is_four_syscalls_plus_the_demo_s_log_line() {
    let n = 50;
    let lines = traced_serve("all", |addr| push_events(addr, (0..=n).map(|i| format!("{{\"i\":{i}}}").into_bytes())));
    let answers: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| name(l) == "sendmsg").map(|(i, _)| i).collect();
    assert_eq!(answers.len(), n + 1, "{lines:#?}");
    let mut counts = std::collections::BTreeMap::new();
    for l in &lines[answers[0] + 1..=answers[n]] {
        *counts.entry(name(l).to_string()).or_insert(0) += 1;
    }
    let want: std::collections::BTreeMap<String, usize> = [
        ("clock_gettime".to_string(), n),
        ("poll".to_string(), n),
        ("read".to_string(), n),
        ("sendmsg".to_string(), n),
        ("writev".to_string(), n),
    ]
    .into();
    assert_eq!(counts, want, "{lines:#?}");
}

/// Zero allocations per warm pushed invocation: the first, largest event
/// grows the receive and answer buffers; 200 events after it, small and
/// large in turn, make no memory syscall.
#[test]
fn warm_pushed_invocations_make_no_memory_syscalls() {
    let (big, small) = (vec![b'b'; 1 << 20], vec![b's'; 1024]);
    let events =
        std::iter::once(big.clone()).chain((0..200).map(|i| if i % 2 == 0 { small.clone() } else { big.clone() }));
    let lines = traced_serve("mmap,mremap,munmap,brk,sendmsg", |addr| push_events(addr, events));
    let sends: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| name(l) == "sendmsg").map(|(i, _)| i).collect();
    assert_eq!(sends.len(), 201, "{lines:#?}");
    let growth: Vec<&String> = lines[..sends[0]].iter().filter(|l| name(l) != "execve").collect();
    assert!(!growth.is_empty(), "the 1 MiB event should have grown the buffers: {lines:#?}");
    let warm: Vec<&String> = lines[sends[0]..].iter().filter(|l| name(l) != "sendmsg").collect();
    assert!(warm.is_empty(), "memory syscalls on warm pushed invocations: {warm:#?}");
}
