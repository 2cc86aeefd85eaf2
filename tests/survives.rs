//! What a handler, or the platform, can do to the process the runtime
//! lives in (docs/survives.md): a log pipe whose reader goes away,
//! descriptors closed or exhausted, the environment rewritten, signal
//! dispositions and masks changed, children and threads that outlive the
//! invocation, SIGTERM, a shifted monotonic clock. For each, no event is
//! lost and nothing hangs: the runtime goes on, or stops within a bounded
//! time with one line naming the cause. Real pipes, descriptors, signals
//! and processes; on SCF's dialect and, where the behaviour applies, on
//! Lambda's.

mod common;
use common::lambda::{Event, LambdaApi, LambdaConfig};
use common::*;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The bootstrap with tests/c/survives.c's handlers (default build: SCF's).
fn survives_build() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build(&Build { name: "survives", handlers: &["tests/c/survives.c"], ..Default::default() }))
        .clone()
}

/// The same for `platform`: on Lambda, its variant (`--no-default-features
/// --features lambda,crash`).
fn survives_for(platform: Platform) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    match platform {
        Scf => survives_build(),
        Lambda => BIN.get_or_init(|| lambda_build("lambda-survives", &["tests/c/survives.c"])).clone(),
    }
}

/// The echo demo for `platform` (on Lambda, its variant).
fn demo_for(platform: Platform) -> PathBuf {
    match platform {
        Scf => demo(),
        Lambda => lambda_demo(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Platform {
    Scf,
    Lambda,
}
use Platform::{Lambda, Scf};

/// A runtime API of either dialect, with the one interface these tests
/// need: the environment to start a bootstrap with, an invocation's result,
/// and how many results were posted.
enum Api {
    Scf(RuntimeApi),
    Lambda(LambdaApi, std::sync::atomic::AtomicU32),
}

/// An invocation's result: the response body, or the error message.
#[derive(Debug, PartialEq)]
enum Result_ {
    Ok(String),
    Err(String),
}

impl Api {
    /// A peer of `platform`; with `close_each`, every answer closes its
    /// connection (so that each request needs a new one).
    fn start(platform: Platform, close_each: bool) -> Api {
        match platform {
            Scf => {
                let close = if close_each { CloseMode::AfterEachResponseWithHeader } else { CloseMode::Never };
                Api::Scf(api(Quirks { close, ..Quirks::default() }))
            }
            Lambda => Api::Lambda(
                LambdaApi::start("127.0.0.1:0", LambdaConfig { close_each, ..LambdaConfig::default() }),
                0.into(),
            ),
        }
    }

    /// The environment the platform gives a bootstrap, `_HANDLER` naming
    /// `handler`.
    fn env(&self, handler: &str) -> Vec<(String, String)> {
        let h = ("_HANDLER".to_string(), format!("index.{handler}"));
        match self {
            Api::Scf(a) => {
                let mut env: Vec<(String, String)> = scf_env(a, "").into_iter().map(|(k, v)| (k.into(), v)).collect();
                env.retain(|(k, _)| k != "_HANDLER");
                env.push(h);
                env
            }
            Api::Lambda(a, _) => vec![
                ("AWS_LAMBDA_RUNTIME_API".into(), a.env_value()),
                ("AWS_LAMBDA_FUNCTION_NAME".into(), "it-lambda".into()),
                h,
            ],
        }
    }

    /// Invokes with `event` (and, on SCF, `request_id` if given) and
    /// returns the result; fails the test if none comes within 20 s.
    fn invoke_id(&self, event: &[u8], request_id: Option<String>) -> Result_ {
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        match self {
            Api::Scf(a) => {
                let opts = InvokeOptions { timeout: T, dispatch_timeout: Some(T), request_id };
                match a.invoke_with(event, opts).expect("invoke").outcome {
                    Outcome::Response(b) => Result_::Ok(text(b)),
                    Outcome::Error(b) => Result_::Err(text(b)),
                }
            }
            Api::Lambda(a, n) => {
                let id = request_id.unwrap_or_else(|| format!("ev-{}", n.fetch_add(1, Ordering::Relaxed)));
                let p = a.invoke(Event { id: id.clone(), body: event.to_vec(), headers: vec![] }, T);
                let base = format!("/2018-06-01/runtime/invocation/{id}/");
                match p.path.strip_prefix(&base) {
                    Some("response") => Result_::Ok(text(p.body)),
                    Some("error") if p.header("Lambda-Runtime-Function-Error-Type") == Some("Runtime.Crash") => {
                        Result_::Err(p.crash_message())
                    }
                    Some("error") => Result_::Err(text(p.body)),
                    _ => panic!("not a result: {p:?}"),
                }
            }
        }
    }

    fn invoke(&self, event: &[u8]) -> Result_ {
        self.invoke_id(event, None)
    }

    /// Invokes and returns the response, failing the test on an error.
    fn ok(&self, event: &[u8]) -> String {
        match self.invoke(event) {
            Result_::Ok(b) => b,
            Result_::Err(e) => panic!("an error for {:?}: {e}", String::from_utf8_lossy(event)),
        }
    }

    /// (responses, errors) posted so far, and requests the peer could not
    /// read as HTTP (SCF's peer counts them; Lambda's stops reading that
    /// connection, and the result is then missing).
    fn posts(&self) -> (u64, u64, u64) {
        match self {
            Api::Scf(a) => {
                let s = a.stats();
                (s.response_posts, s.error_posts, s.bad_requests)
            }
            Api::Lambda(a, _) => {
                let log = a.log();
                let count = |end: &str| log.iter().filter(|p| p.method == "POST" && p.path.ends_with(end)).count();
                (count("/response") as u64, count("/error") as u64, 0)
            }
        }
    }
}

use std::sync::atomic::Ordering;

/// A command that starts `bin` for `api` with `handler` and `extra`
/// variables, stdin on /dev/null, and no core dumps; the caller sets
/// stdout and stderr.
fn command_for(bin: &Path, api: &Api, handler: &str, extra: &[(&str, &str)]) -> Command {
    let mut cmd = command(bin);
    cmd.env_clear().envs(api.env(handler)).envs(extra.iter().copied()).stdin(Stdio::null());
    no_core_dumps(&mut cmd);
    cmd
}

/// Starts `bin` for `api` with stdout on /dev/null and stderr read by the
/// test kit.
fn start(bin: &Path, api: &Api, handler: &str, extra: &[(&str, &str)]) -> Proc {
    let mut cmd = command_for(bin, api, handler, extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    Proc::spawn(cmd)
}

/// Fails the test if `p` has ended.
fn alive(p: &mut Proc, what: &str) {
    if let Some(status) = p.child.try_wait().unwrap() {
        panic!("{what}: the bootstrap ended: {status:?}");
    }
}

/// Runs `check` against a survives.c bootstrap with `handler` (and `extra`
/// variables), started for a peer of each platform (`close_each`: see
/// [`Api::start`]); then the bootstrap must still run, its stderr free of
/// lines of the runtime's, and every result `check` expects (responses,
/// errors) must have been posted, with no request the peer could not read.
fn goes_on(close_each: bool, handler: &str, extra: &[(&str, &str)], check: impl Fn(Platform, &Api) -> (u64, u64)) {
    for platform in [Scf, Lambda] {
        let api = Api::start(platform, close_each);
        let mut p = start(&survives_for(platform), &api, handler, extra);
        let (responses, errors) = check(platform, &api);
        assert_eq!(api.posts(), (responses, errors, 0), "{platform:?} {handler}");
        alive(&mut p, &format!("{platform:?} {handler}"));
        let stderr = p.stop();
        assert!(!stderr.contains("scf-bootstrap: "), "{platform:?} {handler}: {stderr}");
    }
}

/// [`goes_on`] for a handler that must answer each event of `exchanges`
/// with its response.
fn answers(handler: &str, exchanges: &[(&str, &str)]) {
    goes_on(false, handler, &[], |platform, api| {
        for (event, want) in exchanges {
            assert_eq!(api.ok(event.as_bytes()), *want, "{platform:?} {handler}");
        }
        (exchanges.len() as u64, 0)
    });
}

// ---- Logging ----

/// The log collector goes away: stdout and stderr are one pipe, its reader
/// reads the first invocation's lines and closes. Every write after that,
/// the runtime's or the handler's (the demo's `scf_bootstrap::log`; C's
/// stdio on both streams and a raw `write`; a thread of the handler's
/// that writes every millisecond), meets a pipe without a reader: the
/// writes fail with EPIPE (which the C handler reports in its answer), and
/// the process neither dies of SIGPIPE nor loses the three queued events.
#[test]
fn a_log_pipe_whose_reader_goes_away_costs_no_invocation() {
    for platform in [Scf, Lambda] {
        for (bin, handler) in [(demo_for(platform), "main_handler"), (survives_for(platform), "logs")] {
            let api = Api::start(platform, false);
            let (mut reader, writer) = std::io::pipe().unwrap();
            let mut cmd = command_for(&bin, &api, handler, &[]);
            cmd.stdout(writer.try_clone().unwrap()).stderr(writer);
            let mut p = Proc::from_child(cmd.spawn().unwrap());
            drop(cmd);
            let first = api.ok(b"first");
            let mut seen = [0u8; 64];
            assert!(reader.read(&mut seen).unwrap() > 0, "{platform:?} {handler}: nothing was logged");
            drop(reader);
            for event in ["second", "third", "fourth"] {
                let answer = api.ok(event.as_bytes());
                if handler == "logs" {
                    assert_eq!(answer, "logged; write returned -1 errno 32", "{platform:?}: {first}");
                } else {
                    assert_eq!(answer.as_bytes(), echo_of(event.as_bytes()));
                }
            }
            alive(&mut p, &format!("{platform:?} {handler}"));
        }
    }
}

/// The same for std handlers. std ignores SIGPIPE itself, so a write to
/// the broken pipe fails with EPIPE: a handler that logs with `writeln!`
/// and ignores the error (as the std template does) goes on; `eprintln!`
/// panics on the error, and that invocation fails with the panic's text,
/// posted as for any panic (no invocation is lost without a word).
#[test]
fn a_log_pipe_whose_reader_goes_away_in_a_std_handler() {
    for platform in [Scf, Lambda] {
        let bin = match platform {
            Scf => build_crate("tests/rust-std-crash"),
            Lambda => build_crate_as(
                "tests/rust-std-crash",
                "-lambda",
                &["--no-default-features", "--features", "lambda,crash"],
            ),
        };
        for handler in ["logs", "eprintlns"] {
            let api = Api::start(platform, false);
            let (mut reader, writer) = std::io::pipe().unwrap();
            let mut cmd = command_for(&bin, &api, handler, &[]);
            cmd.stdout(Stdio::null()).stderr(writer);
            let mut p = Proc::from_child(cmd.spawn().unwrap());
            drop(cmd);
            assert_eq!(
                api.invoke(b"first"),
                Result_::Ok(if handler == "logs" { "logged: true" } else { "logged" }.into())
            );
            assert!(reader.read(&mut [0u8; 64]).unwrap() > 0, "{platform:?} {handler}: nothing was logged");
            drop(reader);
            if handler == "logs" {
                for event in ["second", "third", "fourth"] {
                    assert_eq!(api.ok(event.as_bytes()), "logged: false", "{platform:?}");
                }
                alive(&mut p, &format!("{platform:?} {handler}"));
                continue;
            }
            let Result_::Err(msg) = api.invoke(b"second") else { panic!("{platform:?}: eprintln! did not fail") };
            assert!(
                msg.starts_with("handler 'eprintlns' panicked at ")
                    && msg.contains(": failed printing to stderr: Broken pipe (os error 32) while handling request "),
                "{platform:?}: {msg}"
            );
            let (status, _, _) = p.wait(T);
            assert_eq!(status.signal(), Some(libc::SIGABRT), "{platform:?}");
        }
    }
}

/// The runtime's own line before ready (here the warning that this build
/// ignores SCF_BOOTSTRAP_PIPELINE), written to a stderr whose reader is
/// already gone: the start goes on, and the events are answered.
#[test]
fn a_warning_before_ready_to_a_broken_pipe_does_not_end_the_start() {
    for platform in [Scf, Lambda] {
        let api = Api::start(platform, false);
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = command_for(&demo_for(platform), &api, "main_handler", &[("SCF_BOOTSTRAP_PIPELINE", "1")]);
        cmd.stdout(Stdio::null()).stderr(writer);
        let mut p = Proc::from_child(cmd.spawn().unwrap());
        drop(cmd);
        assert_eq!(api.ok(b"x").as_bytes(), echo_of(b"x"), "{platform:?}");
        alive(&mut p, &format!("{platform:?}"));
    }
}

// ---- Descriptors ----

/// A handler closes every descriptor it did not open, the runtime's
/// connection among them (from 3 up, or from 0 up, standard ones too),
/// then opens a file of its own, which takes the connection's number (or
/// 0). The runtime's next send fails (ENOTSOCK, EBADF): it opens a new
/// connection, without closing the handler's file, and never puts it at
/// 0, 1 or 2 (the handler's `printf` would go into the HTTP stream). The
/// next invocation writes to its file and to stdout: the file has both
/// writes, and every request the peer got was well-formed.
#[test]
fn a_handler_that_closes_every_descriptor_it_did_not_open_keeps_the_files_it_opens_then() {
    for (how, first_fd) in [("open", 3), ("open-all", 0)] {
        goes_on(false, "closes_descriptors", &[], |platform, api| {
            let file = scratch("survives", &format!("closes-{platform:?}-{how}")).join("own");
            let opened = api.ok(format!("{how} {}", file.display()).as_bytes());
            assert_eq!(opened, format!("opened fd {first_fd}, wrote 1"), "{platform:?} {how}");
            let again = api.ok(b"again");
            assert_eq!(again, format!("fd {first_fd}: wrote 1, closed 0"), "{platform:?} {how}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "AB", "{platform:?} {how}");
            assert_eq!(api.ok(b"again"), format!("fd {first_fd}: wrote -1, closed -1"), "{platform:?} {how}");
            (3, 0)
        });
    }
}

/// A handler that takes every free descriptor: while the connection stays
/// open the runtime needs none, and goes on. When a thread of the
/// handler's also takes every one that comes free, and the platform
/// closes the connection after each answer, the runtime cannot open a new
/// one: it retries for its 10 s budget and stops with one line naming
/// "too many open files", rather than retrying for ever.
#[test]
fn a_handler_that_holds_every_descriptor() {
    goes_on(false, "holds_descriptors", &[], |platform, api| {
        let held = api.ok(b"once");
        assert!(held.starts_with("held ") && held.ends_with(" more, then errno 24"), "{platform:?}: {held}");
        assert!(api.ok(b"twice").ends_with(", then errno 24"), "{platform:?}");
        (2, 0)
    });
    let runs: Vec<_> = [Scf, Lambda]
        .into_iter()
        .map(|platform| {
            std::thread::spawn(move || {
                let api = Api::start(platform, true);
                let p = start(&survives_for(platform), &api, "holds_descriptors", &[]);
                // The result of this invocation cannot go out: the process
                // has no descriptor for a connection.
                match &api {
                    Api::Scf(a) => _ = a.invoke(b"forever", Duration::from_millis(300)),
                    Api::Lambda(a, _) => {
                        a.queue(Event { id: "forever".into(), body: b"forever".to_vec(), headers: vec![] })
                    }
                }
                let (status, stderr, took) = p.wait(Duration::from_secs(20));
                assert_eq!((status.code(), status.signal()), (Some(1), None), "{platform:?}: {stderr}");
                let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("scf-bootstrap: ")).collect();
                assert_eq!(ours.len(), 1, "{platform:?}: {stderr}");
                assert!(
                    ours[0].contains("unreachable for 10 s") && ours[0].contains("too many open files"),
                    "{stderr}"
                );
                assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(15), "{platform:?}: {took:?}");
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
}

// ---- Environment ----

/// A handler rewrites the environment the runtime read at start (its API
/// address to nowhere, `_HANDLER` away, 4,000 variables more, then all of
/// it cleared), and the platform closes the connection after each answer,
/// so every request needs a new one: the runtime keeps what it read at
/// start, and the context keeps its values. It started with 4,000 extra
/// variables too, and on SCF each event has a 3,000-byte request id.
#[test]
fn a_handler_that_rewrites_the_environment_changes_nothing_the_runtime_uses() {
    let filler: Vec<(String, String)> = (0..4000).map(|i| (format!("EXTRA_{i}"), "y".repeat(i % 50))).collect();
    let extra: Vec<(&str, &str)> = filler.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    goes_on(true, "rewrites_environment", &extra, |platform, api| {
        for i in 0..3 {
            let (id, name) = match platform {
                Scf => (format!("{i}{}", "r".repeat(2999)), "it-function"),
                Lambda => (format!("lambda-{i}"), "it-lambda"),
            };
            let want = Result_::Ok(format!("name={name} id_len={}", id.len()));
            assert_eq!(api.invoke_id(b"{}", Some(id)), want, "{platform:?}");
        }
        (3, 0)
    });
}

// ---- Signals ----

/// A fault handler installed before `main` (as std's is, or a garbage
/// collector's; here a C constructor's) is called first: a fault it
/// handles (a page it guards, made writable) lets the handler go on, and
/// the invocations are answered; a fault it declines (it sets the default
/// action and returns, as std does) is reported as any crash.
#[test]
fn a_fault_handler_installed_before_main_is_called_first_and_what_it_declines_is_reported() {
    answers("touches_guarded_page", &[("1", "faults handled: 1"), ("2", "faults handled: 2")]);
    for platform in [Scf, Lambda] {
        let api = Api::start(platform, false);
        let p = start(&survives_for(platform), &api, "null_deref", &[]);
        let id = "declined-1".to_string();
        let want = format!(
            "handler 'null_deref' crashed: SIGSEGV (invalid memory access at address 0x0) while handling request {id}"
        );
        assert_eq!(api.invoke_id(b"{}", Some(id)), Result_::Err(want.clone()), "{platform:?}");
        let (status, stderr, _) = p.wait(T);
        assert_eq!(status.signal(), Some(libc::SIGSEGV), "{platform:?}: {stderr}");
        assert_eq!(stderr, format!("scf-bootstrap: {want}\n"), "{platform:?}");
    }
}

/// A handler that blocks every signal, sets SIGCHLD to SIG_IGN and runs a
/// child, and leaves it so: the runtime needs none of them, and goes on.
#[test]
fn a_handler_that_blocks_signals_and_ignores_sigchld_leaves_the_runtime_going() {
    goes_on(false, "changes_signals", &[], |platform, api| {
        for _ in 0..3 {
            assert!(api.ok(b"{}").starts_with("system returned "), "{platform:?}");
        }
        (3, 0)
    });
}

/// SIGTERM from the platform while the runtime waits for an event: it is
/// left at its default action, so the process ends at once, by SIGTERM,
/// with nothing in flight and nothing posted (see docs/survives.md).
#[test]
fn sigterm_while_idle_ends_the_process_at_once() {
    let a = api(Quirks::default());
    let p = spawn(&demo(), &a, "index.main_handler");
    assert_eq!(invoke_ok(&a, b"x"), echo_of(b"x"));
    let start = Instant::now();
    while a.stats().next_requests < 2 {
        assert!(start.elapsed() < T, "no second /next");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: sends a signal to the child this test started and still owns.
    assert_eq!(unsafe { libc::kill(p.child.id() as i32, libc::SIGTERM) }, 0);
    let (status, stderr, took) = p.wait(Duration::from_secs(5));
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{stderr}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let s = a.stats();
    assert_eq!((s.response_posts, s.error_posts), (1, 0));
}

// ---- Children ----

/// What a child of the handler inherits: none of the runtime's
/// descriptors (its sockets are close-on-exec), and SIGPIPE at its
/// default action (the runtime catches SIGPIPE rather than ignoring it,
/// and exec resets a caught signal: `yes | head` ends quietly in a child).
/// A child that outlives its invocation changes nothing for the next one.
#[test]
fn children_inherit_no_runtime_descriptor_and_sigpipe_at_its_default() {
    goes_on(false, "runs", &[], |platform, api| {
        let fds = api.ok(b"ls -l /proc/self/fd");
        assert!(fds.lines().count() >= 4, "{platform:?}: {fds}");
        assert!(!fds.contains("socket:"), "{platform:?}: a runtime socket leaked into a child:\n{fds}");
        let status = api.ok(b"grep SigIgn /proc/self/status");
        let mask = u64::from_str_radix(status.trim().strip_prefix("SigIgn:").unwrap().trim(), 16).unwrap();
        assert_eq!(mask & (1 << (libc::SIGPIPE - 1)), 0, "{platform:?}: SIGPIPE is ignored in a child: {status}");
        assert_eq!(api.ok(b"sh -c 'yes | head -n 1; echo status $?'"), "y\nstatus 0\n", "{platform:?}");
        let pid = api.ok(b"sh -c 'sleep 3 </dev/null >/dev/null 2>&1 & echo $!'");
        assert_eq!(api.ok(b"echo next"), "next\n", "{platform:?}");
        let pid: i32 = pid.trim().parse().unwrap();
        // SAFETY: signal 0 only asks whether the process exists.
        assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "{platform:?}: the child that outlives its invocation");
        (5, 0)
    });
}

/// A child the handler forks (and that does not exec) inherits the
/// runtime's signal handler and the connection: its crash must end it
/// alone, as it would without the runtime, and post nothing on its
/// parent's connection; the parent answers, and goes on.
#[test]
fn a_forked_child_that_crashes_posts_nothing_and_ends_alone() {
    let ended = "child ended by signal 11";
    answers("forks_a_crashing_child", &[("1", ended), ("2", ended)]);
}

// ---- Threads ----

/// A thread of the handler's that crashes after the handler returned,
/// while the runtime waits for the next event: the invocation's response
/// was posted; the process ends by the signal, with one line saying the
/// crash was outside any handler, and nothing is posted for it.
#[test]
fn a_thread_that_crashes_after_the_handler_returned_is_one_line_and_no_post() {
    for platform in [Scf, Lambda] {
        let api = Api::start(platform, false);
        let p = start(&survives_for(platform), &api, "starts_a_crashing_thread", &[]);
        assert_eq!(api.ok(b"{}"), "started", "{platform:?}");
        let (status, stderr, _) = p.wait(Duration::from_secs(10));
        assert_eq!(status.signal(), Some(libc::SIGSEGV), "{platform:?}: {stderr}");
        assert_eq!(stderr, "scf-bootstrap: SIGSEGV (invalid memory access at address 0x0) outside any handler\n");
        assert_eq!(api.posts(), (1, 0, 0), "{platform:?}");
    }
}

// ---- Clocks ----

/// CLOCK_MONOTONIC shifted by a time namespace (`unshare --time`), 126
/// years ahead of the epoch or to just after zero: the context's deadline
/// is still the time since the epoch plus the limit (it is read on
/// CLOCK_REALTIME), and the retry budget, on CLOCK_MONOTONIC, still gives
/// up after 10 s when the API goes away.
#[test]
fn a_shifted_monotonic_clock_moves_no_deadline_and_no_retry_budget() {
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").unwrap().split(' ').next().unwrap().parse().unwrap();
    let runs: Vec<_> = ["4000000000".to_string(), format!("-{}", uptime as u64)]
        .into_iter()
        .map(|offset| {
            std::thread::spawn(move || {
                let a = api(Quirks::default());
                let mut cmd = Command::new("unshare");
                cmd.args(["--time", "--monotonic", &offset, "--fork"]).arg(survives_build());
                cmd.env_clear().envs(scf_env(&a, "index.reports_deadline"));
                cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
                let p = Proc::spawn(cmd);
                let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
                let answer = String::from_utf8(invoke_ok(&a, b"{}")).unwrap();
                let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
                let f: std::collections::HashMap<&str, u64> = answer
                    .split(' ')
                    .map(|kv| kv.split_once('=').unwrap())
                    .map(|(k, v)| (k, v.parse().unwrap()))
                    .collect();
                let limit = f["limit"];
                assert_eq!(limit, a.config().timeout_ms, "{answer}");
                let range = before.as_millis() as u64 + limit..=after.as_millis() as u64 + limit;
                assert!(range.contains(&f["deadline"]), "offset {offset}: {answer}, not in {range:?}");
                drop(a);
                let (status, stderr, took) = p.wait(Duration::from_secs(20));
                assert_eq!(status.code(), Some(1), "offset {offset} (unshare --time needs root): {stderr}");
                assert!(stderr.contains("unreachable for 10 s"), "{stderr}");
                assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(15), "offset {offset}: {took:?}");
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
}
