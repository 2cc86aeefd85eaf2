//! The measurements. Every one is a session between the peer and a freshly
//! started contender; they differ only in what the peer serves and in when
//! and how the contender is stopped.
//!
//! | figure | session | stop |
//! |---|---|---|
//! | cold start | one small event, waiting before exec | SIGKILL at the first response |
//! | warm path | warm-up + N 1 KiB events, back to back | SIGKILL at the last response |
//! | idle peak RSS | no event: the first `/next` finds nothing | read VmHWM, SIGKILL |
//! | 6 MB peak RSS | one 6,000,000-byte event | read VmHWM at the response, SIGKILL |
//! | instructions | N events under callgrind | SIGTERM at the N-th response |
//!
//! Under callgrind the N-th response is deliberately left unanswered: the
//! contender is then blocked reading the reply, having executed exactly
//! exec -> N-th response, when SIGTERM arrives; valgrind writes the profile
//! on the way out. Cold start is N = 1; per warm invocation is
//! (I(N2) - I(N1)) / (N2 - N1), which cancels start-up and the first
//! invocation.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::peer::{self, Dialect, Outcome, Peer, Plan, Timeline};
use crate::proc::{self, Started};
use crate::stats::{self, Summary};
use crate::sys;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Floor,
    Ours,
    TencentScf,
    BashCurl,
    /// AWS's Rust runtime, `lambda_runtime`.
    LambdaRuntime,
    /// AWS's Python runtime interface client, `awslambdaric`.
    PythonRic,
}

impl Role {
    /// Whether the contender's runtime sends the handler's result
    /// JSON-encoded (lambda_runtime and awslambdaric serialise every
    /// result; the echo, a string, arrives as a quoted JSON string).
    pub fn answers_json(self) -> bool {
        matches!(self, Role::LambdaRuntime | Role::PythonRic)
    }
}

/// A contender: a directory of the stage holding an executable `bootstrap`
/// (run with that directory as working directory, as SCF runs the unpacked
/// zip in /var/user and Lambda in /var/task) and the other files of its
/// zip.
#[derive(Clone, Copy)]
pub struct Contender {
    pub id: &'static str,
    pub label: &'static str,
    pub role: Role,
    /// What goes into the zip; empty: the whole directory.
    pub files: &'static [&'static str],
    /// Built for another architecture: only its size is measured.
    pub size_only: bool,
}

const fn contender(id: &'static str, label: &'static str, role: Role, files: &'static [&'static str]) -> Contender {
    Contender { id, label, role, files, size_only: false }
}

const fn size_only(id: &'static str, label: &'static str) -> Contender {
    Contender { id, label, role: Role::Ours, files: &["bootstrap"], size_only: true }
}

/// SCF's contenders.
pub const CONTENDERS: [Contender; 7] = [
    contender("floor", "floor (C, raw syscalls)", Role::Floor, &["bootstrap"]),
    contender("bootstrap", "scf-bootstrap, default", Role::Ours, &["bootstrap"]),
    contender("bootstrap-small", "scf-bootstrap, minimal (no crash reports)", Role::Ours, &["bootstrap"]),
    contender("tencent_scf", "tencent_scf 0.1.3", Role::TencentScf, &["bootstrap"]),
    contender("bash-curl", "guide's bash + curl", Role::BashCurl, &["bootstrap", "index.sh"]),
    size_only("bootstrap-aarch64", "scf-bootstrap, default, aarch64"),
    size_only("bootstrap-small-aarch64", "scf-bootstrap, minimal, aarch64"),
];

/// AWS Lambda's contenders. Ours is the Lambda variant (`--no-default-features
/// --features lambda,crash`); the minimal build is SCF's, so it is not one
/// of them.
pub const LAMBDA_CONTENDERS: [Contender; 5] = [
    contender("floor", "floor (C, raw syscalls, Lambda dialect)", Role::Floor, &["bootstrap"]),
    contender("bootstrap", "scf-bootstrap, Lambda variant", Role::Ours, &["bootstrap"]),
    contender("lambda_runtime", "lambda_runtime 0.14 (Rust, tokio)", Role::LambdaRuntime, &["bootstrap"]),
    contender("awslambdaric", "awslambdaric 4.2.2 (Python)", Role::PythonRic, &[]),
    size_only("bootstrap-aarch64", "scf-bootstrap, Lambda variant, aarch64"),
];

/// The contenders of a platform.
pub fn contenders(dialect: Dialect) -> &'static [Contender] {
    match dialect {
        Dialect::Scf => &CONTENDERS,
        Dialect::Lambda => &LAMBDA_CONTENDERS,
    }
}

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Settings {
    pub quick: bool,
    /// The platform whose runtime API the peer speaks.
    pub dialect: Dialect,
    /// Cold starts per contender (interleaved rounds).
    pub cold_runs: usize,
    /// Warm-path invocations measured per run, after `warm_warmup`
    /// unmeasured ones, in `warm_runs` interleaved runs.
    pub warm_n: usize,
    pub warm_warmup: usize,
    pub warm_runs: usize,
    /// The same for bash + curl, which forks several processes per call:
    /// one run only.
    pub bash_warm_n: usize,
    /// Invocation counts (N1, N2) of the two callgrind runs per contender.
    pub cg_warm: (usize, usize),
    pub cg_warm_bash: (usize, usize),
    pub callgrind: bool,
}

impl Settings {
    pub fn full() -> Settings {
        Settings {
            quick: false,
            dialect: Dialect::Scf,
            cold_runs: 300,
            warm_n: 2000,
            warm_warmup: 20,
            warm_runs: 21,
            bash_warm_n: 2000,
            cg_warm: (10, 1010),
            cg_warm_bash: (1, 4),
            callgrind: true,
        }
    }

    pub fn quick() -> Settings {
        Settings {
            quick: true,
            dialect: Dialect::Scf,
            cold_runs: 5,
            warm_n: 200,
            warm_warmup: 5,
            warm_runs: 2,
            bash_warm_n: 50,
            cg_warm: (2, 12),
            cg_warm_bash: (1, 2),
            callgrind: true,
        }
    }
}

/// One cold start.
#[derive(Clone, Copy, Debug)]
pub struct Cold {
    pub ready_us: f64,
    pub first_us: f64,
    pub minor_faults: u64,
}

/// Warm-path figures, over all runs.
#[derive(Clone, Debug)]
pub struct Warm {
    /// Invocations measured per run, and runs.
    pub n: usize,
    pub runs: usize,
    /// Peer starts writing the event -> response completely received, per
    /// invocation, in µs, pooled over the runs.
    pub latency: Summary,
    /// Invocations per second, back to back: the median over the runs.
    pub per_sec: f64,
}

/// One warm-path run: every measured latency (µs) and the rate.
pub struct WarmRun {
    pub latencies: Vec<f64>,
    pub per_sec: f64,
}

/// Peak resident memory of a contender's processes.
#[derive(Clone, Copy, Debug)]
pub struct Rss {
    pub kib: u64,
    pub processes: usize,
}

/// Everything measured for one contender. `Err` holds why a figure is
/// missing, for the report.
pub struct Measured {
    pub cold_ready_us: Vec<f64>,
    pub cold_first_us: Vec<f64>,
    pub cold_faults: Vec<f64>,
    pub cold_failures: Vec<String>,
    pub cold_ir: Result<u64, String>,
    pub warm: Result<Warm, String>,
    /// Every warm-path latency (µs), run after run.
    pub warm_latencies_us: Vec<f64>,
    /// Per warm invocation, with the (N1, N2) used.
    pub warm_ir: Result<(f64, usize, usize), String>,
    pub rss_idle: Result<Rss, String>,
    pub rss_big: Result<Rss, String>,
    /// Bytes of the files that go into the zip (the stripped binary, or
    /// the scripts), and of the zip.
    pub size: Result<u64, String>,
    pub zip: Result<u64, String>,
}

impl Measured {
    pub fn new() -> Measured {
        fn skipped<T>() -> Result<T, String> {
            Err("not measured".into())
        }
        Measured {
            cold_ready_us: Vec::new(),
            cold_first_us: Vec::new(),
            cold_faults: Vec::new(),
            cold_failures: Vec::new(),
            cold_ir: skipped(),
            warm: skipped(),
            warm_latencies_us: Vec::new(),
            warm_ir: skipped(),
            rss_idle: skipped(),
            rss_big: skipped(),
            size: skipped(),
            zip: skipped(),
        }
    }

    pub fn cold_ready(&self) -> Option<Summary> {
        stats::summarize(&self.cold_ready_us)
    }

    pub fn cold_first(&self) -> Option<Summary> {
        stats::summarize(&self.cold_first_us)
    }
}

/// A pre-serialised event and the echo it must come back as: as it is, or
/// as a JSON string (see [`Role::answers_json`]).
struct Event {
    reply: Vec<u8>,
    request_id: &'static str,
    expected: Vec<u8>,
    expected_json: Vec<u8>,
    len: usize,
}

impl Event {
    fn new(dialect: Dialect, body: &[u8], request_id: &'static str, deadline_ms: u64) -> Event {
        let mut expected = b"Echoing request: '".to_vec();
        expected.extend_from_slice(body);
        expected.push(b'\'');
        Event {
            reply: peer::event_reply(dialect, body, request_id, deadline_ms),
            request_id,
            expected_json: json_string(&expected),
            expected,
            len: body.len(),
        }
    }
}

/// `s` as a JSON string, escaped as serde_json and Python's `json.dumps`
/// both escape ASCII: `\"`, `\\`, the short forms of \b \f \n \r \t, and
/// `\u00XX` for the other control characters. (They differ on non-ASCII,
/// which the benchmark's events do not contain.)
pub fn json_string(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + s.len() / 8 + 2);
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
    out
}

/// The PATH every contender gets.
pub const CONTENDER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Pause before each timed cold start.
const SETTLE: Duration = Duration::from_millis(3);

/// The timer-trigger event of the SCF documentation: the cold-start event.
pub const COLD_EVENT: &str =
    r#"{"Type":"Timer","TriggerName":"EveryDay","Time":"2019-02-21T11:49:00Z","Message":"user define msg body"}"#;
pub const WARM_EVENT_LEN: usize = 1024;
pub const BIG_EVENT_LEN: usize = 6_000_000;

/// A JSON object of exactly `len` bytes. Letters and digits only inside
/// the string: the guide's bash handler echoes the event unquoted
/// (`echo $RESPONSE`), so spaces would be squeezed and `*?[` globbed.
pub fn json_event(len: usize) -> Vec<u8> {
    let mut v = b"{\"message\":\"".to_vec();
    let tail = b"\"}";
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut i = 0;
    while v.len() + tail.len() < len {
        v.push(alphabet[i % alphabet.len()]);
        i += 1;
    }
    v.extend_from_slice(tail);
    v
}

pub struct Bench {
    stage: PathBuf,
    scratch: PathBuf,
    valgrind: Option<PathBuf>,
    peer: Peer,
    tl: Timeline,
    cold: Event,
    warm: Event,
    big: Event,
    pub settings: Settings,
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done => "completed".into(),
        Outcome::Idle => "went idle before answering".into(),
        Outcome::Exited(s) => format!("exited ({})", sys::describe_status(*s)),
        Outcome::Timeout => "timed out".into(),
        Outcome::Failed(m) => m.clone(),
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

impl Bench {
    pub fn new(stage: &Path, scratch: &Path, settings: Settings) -> io::Result<Bench> {
        let d = settings.dialect;
        // Lambda's deadline: epoch milliseconds, a day after the run
        // starts (no contender enforces it; they only pass it on).
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_millis() as u64 + 86_400_000);
        // Absolute: contenders run in their own directories, and TMPDIR
        // (for bash's mktemp) must point here from there.
        fs::create_dir_all(scratch.join("tmp"))?;
        let scratch = fs::canonicalize(scratch)?;
        sys::become_subreaper();
        let valgrind = which("valgrind");
        Ok(Bench {
            stage: stage.to_path_buf(),
            scratch,
            valgrind,
            peer: Peer::new()?,
            tl: Timeline::default(),
            cold: Event::new(d, COLD_EVENT.as_bytes(), "c0ld5ta7-0000-4000-8000-000000000001", deadline_ms),
            warm: Event::new(d, &json_event(WARM_EVENT_LEN), "3a7m0000-0000-4000-8000-000000000002", deadline_ms),
            big: Event::new(d, &json_event(BIG_EVENT_LEN), "b1660000-0000-4000-8000-000000000003", deadline_ms),
            settings,
        })
    }

    /// The environment the platform gives a custom runtime, identical for
    /// every contender of the platform. SCF: tencent_scf refuses to start
    /// without the metadata variables; TMPDIR keeps bash's mktemp files out
    /// of /tmp. Lambda: lambda_runtime refuses to start without the
    /// function name, version, memory size and log group and stream;
    /// LAMBDA_TASK_ROOT is the contender's directory (Lambda's /var/task);
    /// PYTHONDONTWRITEBYTECODE stands for Lambda's read-only /var/task,
    /// where Python cannot leave compiled modules for the next cold start.
    fn env(&self, port: u16, dir: &Path) -> Vec<(String, String)> {
        let tmp = self.scratch.join("tmp");
        if self.settings.dialect == Dialect::Lambda {
            let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
            return [
                ("PATH", CONTENDER_PATH),
                ("AWS_LAMBDA_RUNTIME_API", &format!("127.0.0.1:{port}")),
                ("_HANDLER", "index.main_handler"),
                ("AWS_LAMBDA_FUNCTION_NAME", "bench-echo"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench-echo"),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[$LATEST]00000000000000000000000000000000"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("LAMBDA_TASK_ROOT", &dir.to_string_lossy()),
                ("TZ", ":UTC"),
                ("PYTHONDONTWRITEBYTECODE", "1"),
                ("TMPDIR", &tmp.to_string_lossy()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        }
        [
            ("PATH", CONTENDER_PATH),
            ("SCF_RUNTIME_API", "127.0.0.1"),
            ("SCF_RUNTIME_API_PORT", &port.to_string()),
            ("_HANDLER", "index.main_handler"),
            ("SCF_FUNCTIONNAME", "bench-echo"),
            ("SCF_FUNCTIONVERSION", "$LATEST"),
            ("SCF_NAMESPACE", "default"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_APPID", "1250000000"),
            ("TENCENTCLOUD_UIN", "100000000001"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TMPDIR", &tmp.to_string_lossy()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Starts `c` (wrapped in `wrapper`, e.g. valgrind) against a fresh
    /// listener and serves it. The contender is left running for the
    /// caller to measure and stop.
    #[allow(clippy::too_many_arguments)]
    fn session(
        &mut self,
        c: &Contender,
        wrapper: &[OsString],
        which: Which,
        events: usize,
        stop_after: usize,
        timeout: Duration,
        stderr: Stdio,
    ) -> Result<(Started, Outcome), String> {
        self.peer.reset().map_err(|e| format!("peer: {e}"))?;
        // bash's bootstrap leaves a mktemp file per invocation behind.
        let tmp = self.scratch.join("tmp");
        if fs::read_dir(&tmp).map_or(true, |mut d| d.next().is_some()) {
            let _ = fs::remove_dir_all(&tmp);
            fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        }
        let dir = self.stage.join(c.id);
        let env = self.env(self.peer.port(), &dir);
        let bootstrap = OsStr::new("./bootstrap");
        let mut argv: Vec<&OsStr> = wrapper.iter().map(OsString::as_os_str).collect();
        argv.push(bootstrap);
        let started =
            proc::start(&dir, &argv, &env, stderr).map_err(|e| format!("cannot start {}: {e}", dir.display()))?;
        let ev = match which {
            Which::Cold => &self.cold,
            Which::Warm => &self.warm,
            Which::Big => &self.big,
        };
        let plan = Plan {
            dialect: self.settings.dialect,
            request_id: ev.request_id.as_bytes(),
            event: &ev.reply,
            accepted: peer::accepted(self.settings.dialect),
            expected: if c.role.answers_json() { &ev.expected_json } else { &ev.expected },
            events,
            stop_after,
            deadline: started.at + timeout,
        };
        match self.peer.serve(&plan, &mut self.tl, Some(started.pid)) {
            Ok(outcome) => Ok((started, outcome)),
            Err(e) => {
                self.finish(started.pid, sys::SIGKILL);
                Err(format!("peer: {e}"))
            }
        }
    }

    /// Stops the contender (its whole process group, reaped) and closes
    /// the session's connections.
    fn finish(&mut self, pid: u32, sig: i32) -> sys::Faults {
        let faults = proc::stop(pid, sig);
        self.peer.close();
        faults
    }

    /// One cold start: exec -> ready and exec -> first response in µs, and
    /// the minor page faults of all its processes (counted up to the kill,
    /// which comes right after the first response).
    pub fn cold_once(&mut self, c: &Contender, stderr: Stdio) -> Result<Cold, String> {
        // Let deferred work of the previous session (the teardown of killed
        // processes and their sockets) finish before the clock starts.
        std::thread::sleep(SETTLE);
        let (s, outcome) = self.session(c, &[], Which::Cold, 1, 1, Duration::from_secs(10), stderr)?;
        let faults = self.finish(s.pid, sys::SIGKILL);
        match (outcome, self.tl.ready) {
            (Outcome::Done, Some(ready)) => Ok(Cold {
                ready_us: micros(ready - s.at),
                first_us: micros(self.tl.responses[0] - s.at),
                minor_faults: faults.minor,
            }),
            (Outcome::Done, None) => Err("answered without reporting ready".into()),
            (other, _) => Err(describe(&other)),
        }
    }

    /// A cold start with stderr kept, to tell a broken contender apart
    /// before the timed runs: the error and the last line it logged.
    pub fn check(&mut self, c: &Contender) -> Result<(), String> {
        let log = self.scratch.join(format!("{}-check.stderr", c.id));
        let file = File::create(&log).map_err(|e| e.to_string())?;
        self.cold_once(c, Stdio::from(file)).map(|_| ()).map_err(|e| with_log_tail(e, &log))
    }

    /// One warm-path run: `warmup` + `n` sequential 1 KiB echoes.
    pub fn warm(&mut self, c: &Contender, n: usize) -> Result<WarmRun, String> {
        let warmup = self.settings.warm_warmup;
        let total = warmup + n;
        let (s, outcome) = self.session(c, &[], Which::Warm, total, total, Duration::from_secs(300), Stdio::null())?;
        self.finish(s.pid, sys::SIGKILL);
        if outcome != Outcome::Done {
            return Err(format!("after {} of {total} invocations: {}", self.tl.responses.len(), describe(&outcome)));
        }
        let tl = &self.tl;
        let latencies = (warmup..total).map(|i| micros(tl.responses[i] - tl.sent[i])).collect();
        let span = tl.responses[total - 1] - tl.responses[warmup];
        Ok(WarmRun { latencies, per_sec: (n - 1) as f64 / span.as_secs_f64() })
    }

    /// Peak RSS with no event served yet (`big` false: measured when the
    /// first `/next` arrives), or after one 6 MB event (measured when its
    /// response has arrived).
    pub fn rss(&mut self, c: &Contender, big: bool) -> Result<Rss, String> {
        let log = self.scratch.join(format!("{}-rss.stderr", c.id));
        let file = File::create(&log).map_err(|e| e.to_string())?;
        let (which, events, want) = if big { (Which::Big, 1, Outcome::Done) } else { (Which::Cold, 0, Outcome::Idle) };
        let (s, outcome) = self.session(c, &[], which, events, events, Duration::from_secs(60), Stdio::from(file))?;
        let (kib, processes) = proc::group_peak_rss_kib(s.pid);
        self.finish(s.pid, sys::SIGKILL);
        let result =
            if outcome == want { Ok(Rss { kib, processes }) } else { Err(with_log_tail(describe(&outcome), &log)) };
        let _ = fs::remove_file(&log);
        result
    }

    /// User-space instructions from exec to the `n`-th response, counted by
    /// callgrind over every process of the contender.
    pub fn instructions(&mut self, c: &Contender, n: usize, warm: bool) -> Result<u64, String> {
        let Some(valgrind) = self.valgrind.clone() else { return Err("valgrind not found".into()) };
        let dir = self.scratch.join(format!("callgrind-{}-{n}", c.id));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let wrapper: Vec<OsString> = vec![
            valgrind.into(),
            "--tool=callgrind".into(),
            // Helpers (curl, cut, mktemp) are part of the contender's cost.
            "--trace-children=yes".into(),
            // A forked child inherits its parent's counters: dumping (which
            // zeroes them) just before fork makes each instruction counted
            // once; dumping before execve keeps a child's pre-exec share,
            // which the exec'd image would otherwise lose.
            "--dump-before=fork".into(),
            "--dump-before=execve".into(),
            format!("--callgrind-out-file={}/cg.%p", dir.display()).into(),
            format!("--log-file={}/valgrind.%p.log", dir.display()).into(),
        ];
        let which = if warm { Which::Warm } else { Which::Cold };
        // Valgrind runs code tens of times slower: the deadline only has to
        // catch a hang.
        let (s, outcome) = self.session(c, &wrapper, which, n, n, Duration::from_secs(600), Stdio::null())?;
        if outcome != Outcome::Done {
            self.finish(s.pid, sys::SIGKILL);
            return Err(describe(&outcome));
        }
        // Blocked on the unanswered response: SIGTERM ends every process of
        // the group and valgrind writes each one's profile.
        self.finish(s.pid, sys::SIGTERM);
        sum_callgrind(&dir)
    }

    /// Bytes of the zip's files, and of the zip (deflate, level 9).
    pub fn sizes(&self, c: &Contender) -> (Result<u64, String>, Result<u64, String>) {
        let dir = self.stage.join(c.id);
        let all = [".".to_string()];
        let owned: Vec<String> = c.files.iter().map(|f| f.to_string()).collect();
        let files = if c.files.is_empty() { &all[..] } else { &owned[..] };
        let mut size = 0;
        for f in files {
            match tree_bytes(&dir.join(f)) {
                Ok(n) => size += n,
                Err(e) => return (Err(format!("{f}: {e}")), Err("no files".into())),
            }
        }
        let zip = self.scratch.join(format!("{}.zip", c.id));
        let _ = fs::remove_file(&zip); // zip adds to an existing archive
        let status =
            Command::new("zip").args(["-q", "-r", "-9", "-X"]).arg(&zip).args(files).current_dir(&dir).status();
        let zipped = match status {
            Ok(s) if s.success() => fs::metadata(&zip).map(|m| m.len()).map_err(|e| e.to_string()),
            Ok(s) => Err(format!("zip failed ({s})")),
            Err(e) => Err(format!("cannot run zip: {e}")),
        };
        (Ok(size), zipped)
    }

    /// Runs every measurement on every contender, printing progress.
    pub fn run_all(&mut self, contenders: &[Contender]) -> Vec<Measured> {
        let st = self.settings.clone();
        let mut out: Vec<Measured> = contenders.iter().map(|_| Measured::new()).collect();
        let mut ok = vec![true; contenders.len()];
        for (i, c) in contenders.iter().enumerate() {
            (out[i].size, out[i].zip) = self.sizes(c);
            if c.size_only {
                ok[i] = false;
                continue;
            }
            if let Err(e) = self.check(c) {
                eprintln!("bench: {} does not work: {e}", c.id);
                out[i].cold_failures.push(e);
                ok[i] = false;
            }
        }

        // Interleaved: every contender once per round, so that drift in the
        // machine's state hits them alike; in a new order each round, so that
        // no contender always follows the same one (the one before leaves
        // work behind: bash's processes and sockets are torn down after it).
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        let mut rng = XorShift(0x5cf_b007_57a7);
        for round in 0..st.cold_runs {
            if round % 50 == 0 {
                eprintln!("bench: cold start, round {} of {}", round + 1, st.cold_runs);
            }
            rng.shuffle(&mut order);
            for &i in &order {
                let c = &contenders[i];
                if !ok[i] {
                    continue;
                }
                match self.cold_once(c, Stdio::null()) {
                    Ok(cold) => {
                        out[i].cold_ready_us.push(cold.ready_us);
                        out[i].cold_first_us.push(cold.first_us);
                        out[i].cold_faults.push(cold.minor_faults as f64);
                    }
                    Err(e) => out[i].cold_failures.push(e),
                }
            }
        }

        // Interleaved runs too, each of n invocations in a row, in a new
        // order each round.
        let mut runs: Vec<Vec<WarmRun>> = contenders.iter().map(|_| Vec::new()).collect();
        for run in 0..st.warm_runs {
            rng.shuffle(&mut order);
            for &i in &order {
                let c = &contenders[i];
                let bash = c.role == Role::BashCurl;
                if !ok[i] || out[i].warm.as_ref().is_err_and(|e| e != "not measured") || (bash && run > 0) {
                    continue;
                }
                let n = if bash { st.bash_warm_n } else { st.warm_n };
                if run % 5 == 0 {
                    let of = if bash { 1 } else { st.warm_runs };
                    eprintln!("bench: warm path, {} x {n}, run {} of {of}", c.id, run + 1);
                }
                match self.warm(c, n) {
                    Ok(r) => runs[i].push(r),
                    Err(e) => out[i].warm = Err(e),
                }
            }
        }
        for (i, c) in contenders.iter().enumerate() {
            if runs[i].is_empty() || out[i].warm.as_ref().is_err_and(|e| e != "not measured") {
                continue;
            }
            let lat: Vec<f64> = runs[i].iter().flat_map(|r| r.latencies.iter().copied()).collect();
            out[i].warm_latencies_us.clone_from(&lat);
            let rates: Vec<f64> = runs[i].iter().map(|r| r.per_sec).collect();
            out[i].warm = Ok(Warm {
                n: if c.role == Role::BashCurl { st.bash_warm_n } else { st.warm_n },
                runs: runs[i].len(),
                latency: stats::summarize(&lat).expect("runs have samples"),
                per_sec: stats::quantile(&rates, 0.5).expect("runs"),
            });
        }

        for (i, c) in contenders.iter().enumerate() {
            if !ok[i] {
                continue;
            }
            eprintln!("bench: peak RSS, {}", c.id);
            out[i].rss_idle = self.rss(c, false);
            out[i].rss_big = self.rss(c, true);
        }

        if st.callgrind {
            for (i, c) in contenders.iter().enumerate() {
                if !ok[i] {
                    continue;
                }
                eprintln!("bench: callgrind, {}", c.id);
                out[i].cold_ir = self.instructions(c, 1, false);
                let (n1, n2) = if c.role == Role::BashCurl { st.cg_warm_bash } else { st.cg_warm };
                out[i].warm_ir = match (self.instructions(c, n1, true), self.instructions(c, n2, true)) {
                    (Ok(a), Ok(b)) => Ok((b.saturating_sub(a) as f64 / (n2 - n1) as f64, n1, n2)),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
            }
        }
        out
    }

    pub fn event_sizes(&self) -> (usize, usize, usize) {
        (self.cold.len, self.warm.len, self.big.len)
    }
}

/// Bytes of a file, or of every file under a directory.
fn tree_bytes(path: &Path) -> io::Result<u64> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        total += tree_bytes(&entry?.path())?;
    }
    Ok(total)
}

/// A small deterministic generator for the run order (xorshift64), so
/// that a rerun uses the same orders.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fisher-Yates.
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

#[derive(Clone, Copy)]
enum Which {
    Cold,
    Warm,
    Big,
}

/// Sums the `summary:` (total Ir) lines of every profile part in `dir`.
fn sum_callgrind(dir: &Path) -> Result<u64, String> {
    let mut total = 0u64;
    let mut files = 0;
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("cg.") {
            continue;
        }
        let text = fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
        let summary = text
            .lines()
            .find_map(|l| l.strip_prefix("summary:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("{}: no summary line", entry.path().display()))?;
        total += summary;
        files += 1;
    }
    if files == 0 {
        return Err(format!("callgrind wrote no profile in {}", dir.display()));
    }
    Ok(total)
}

/// `msg` followed by the last line the contender wrote to stderr, if any.
fn with_log_tail(msg: String, log: &Path) -> String {
    let mut tail = Vec::new();
    if let Ok(mut f) = File::open(log) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(400)));
        let _ = f.read_to_end(&mut tail);
    }
    let text = String::from_utf8_lossy(&tail);
    match text.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => format!("{msg}; its last log line: {:?}", line.trim()),
        None => msg,
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The end-to-end tests spawn and reap process groups; one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn bench_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
    }

    /// A missing tool skips a test (or the part of it that needs the
    /// tool) with the test kit's marker line, which scripts/test counts,
    /// unless SCF_BENCH_REQUIRE_TOOLS=1 (what scripts/test sets) or CI
    /// makes it a failure.
    fn have(tool: &str) -> bool {
        if which(tool).is_some() {
            return true;
        }
        let required = std::env::var_os("SCF_BENCH_REQUIRE_TOOLS").is_some() || scf_emulator::testkit::tools_required();
        assert!(!required, "{tool} not found on PATH (SCF_BENCH_REQUIRE_TOOLS or CI is set)");
        scf_emulator::testkit::report_skip(tool, &format!("apt-get install {tool}, on PATH"));
        false
    }

    /// A fresh stage with the floor built from bench/floor/floor.c and the
    /// guide's bash + curl scripts.
    fn stage(name: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("scf-bench-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let stage = root.join("stage");
        fs::create_dir_all(stage.join("bash-curl")).unwrap();
        build_floor(&stage, false);
        for f in ["bootstrap", "index.sh"] {
            fs::copy(bench_dir().join("../emulator/tests/fixtures/bash-curl").join(f), stage.join("bash-curl").join(f))
                .unwrap();
        }
        (stage, root.join("results"))
    }

    /// floor.c built into `stage/floor/bootstrap`, in Lambda's dialect
    /// (`-DLAMBDA`) or SCF's.
    fn build_floor(stage: &Path, lambda: bool) {
        fs::create_dir_all(stage.join("floor")).unwrap();
        let cc = if which("musl-gcc").is_some() { "musl-gcc" } else { "cc" };
        let status = Command::new(cc)
            .args(["-static", "-Os", "-Wall", "-Wextra", "-Werror"])
            .args(lambda.then_some("-DLAMBDA"))
            .arg("-o")
            .arg(stage.join("floor/bootstrap"))
            .arg(bench_dir().join("floor/floor.c"))
            .status()
            .unwrap();
        assert!(status.success(), "{cc} could not build floor.c (lambda: {lambda})");
    }

    #[test]
    fn measures_the_lambda_floor_end_to_end() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let root = std::env::temp_dir().join(format!("scf-bench-test-{}-lambda", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let stage = root.join("stage");
        build_floor(&stage, true);
        let settings = Settings { dialect: Dialect::Lambda, ..Settings::quick() };
        let mut b = Bench::new(&stage, &root.join("results"), settings).unwrap();
        let floor = &LAMBDA_CONTENDERS[0];
        assert_eq!(floor.role, Role::Floor);

        // Ready is the first /next; the result must come back under the
        // event's request id (the peer checks it).
        b.check(floor).unwrap();
        let cold = b.cold_once(floor, Stdio::null()).unwrap();
        let (ready, first) = (cold.ready_us, cold.first_us);
        assert!(0.0 < ready && ready < first && first < 5e6, "first next {ready} µs, first response {first} µs");

        let run = b.warm(floor, 100).unwrap();
        assert_eq!(run.latencies.len(), 100);
        let idle = b.rss(floor, false).unwrap();
        let big = b.rss(floor, true).unwrap();
        assert!(big.kib > idle.kib + 5_000, "6 MB event: {} KiB, idle: {} KiB", big.kib, idle.kib);

        if have("valgrind") {
            let one = b.instructions(floor, 1, false).unwrap();
            assert!((1_000..100_000).contains(&one), "cold: {one}");
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn json_strings_escape_like_serde_json_and_python() {
        assert_eq!(json_string(b"Echoing request: '{\"a\":1}'"), b"\"Echoing request: '{\\\"a\\\":1}'\"");
        assert_eq!(json_string(b"a\\b\n\t\x01/"), b"\"a\\\\b\\n\\t\\u0001/\"");
    }

    #[test]
    fn measures_the_floor_end_to_end() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (stage, results) = stage("floor");
        let mut b = Bench::new(&stage, &results, Settings::quick()).unwrap();
        let floor = &CONTENDERS[0];
        assert_eq!(floor.role, Role::Floor);

        b.check(floor).unwrap();
        let cold = b.cold_once(floor, Stdio::null()).unwrap();
        let (ready, first) = (cold.ready_us, cold.first_us);
        assert!(0.0 < ready && ready < first && first < 5e6, "ready {ready} µs, first response {first} µs");
        assert!((5..1000).contains(&cold.minor_faults), "{} page faults", cold.minor_faults);

        let run = b.warm(floor, 300).unwrap();
        assert_eq!(run.latencies.len(), 300);
        assert!(run.per_sec > 0.0);

        let idle = b.rss(floor, false).unwrap();
        let big = b.rss(floor, true).unwrap();
        assert_eq!((idle.processes, big.processes), (1, 1));
        assert!(big.kib > idle.kib + 5_000, "6 MB event: {} KiB, idle: {} KiB", big.kib, idle.kib);

        let (size, zip) = b.sizes(floor);
        if have("zip") {
            assert!(zip.unwrap() < size.unwrap());
        }

        if have("valgrind") {
            let one = b.instructions(floor, 1, false).unwrap();
            let (a, c) = (b.instructions(floor, 2, true).unwrap(), b.instructions(floor, 4, true).unwrap());
            // The floor is a few thousand instructions from exec to its
            // first response, and each further echo adds a similar amount.
            assert!((1_000..100_000).contains(&one), "cold: {one}");
            assert!(a < c && (c - a) / 2 < 50_000, "warm: {a} then {c}");
        }
        let _ = fs::remove_dir_all(stage.parent().unwrap());
    }

    #[test]
    fn serves_the_guides_bash_and_curl_bootstrap() {
        if !(have("bash") && have("curl")) {
            return;
        }
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (stage, results) = stage("bash");
        let mut b = Bench::new(&stage, &results, Settings::quick()).unwrap();
        let bash = CONTENDERS.iter().find(|c| c.role == Role::BashCurl).unwrap();
        b.check(bash).unwrap();
        // Connection per request, `Expect: 100-continue` on the 1 KiB echo.
        let run = b.warm(bash, 3).unwrap();
        assert_eq!(run.latencies.len(), 3);
        let _ = fs::remove_dir_all(stage.parent().unwrap());
    }

    #[test]
    fn shuffles_into_every_order() {
        let mut rng = XorShift(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let mut v = vec![0, 1, 2];
            rng.shuffle(&mut v);
            let mut sorted = v.clone();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2]);
            seen.insert(v);
        }
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn json_events_have_the_exact_size_and_no_shell_specials() {
        for len in [16, WARM_EVENT_LEN, 100_000] {
            let e = json_event(len);
            assert_eq!(e.len(), len);
            assert!(e.starts_with(b"{\"message\":\"") && e.ends_with(b"\"}"));
            assert!(!e.iter().any(|b| b" \t\n*?[]$`\\'".contains(b)));
        }
    }
}
