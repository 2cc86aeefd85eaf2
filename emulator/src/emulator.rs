//! A function as SCF runs it: code, configuration, at most one instance,
//! and invocations served strictly one at a time.
//!
//! ```text
//! invoke(event) ── size/JSON checks ── instance? ──no──▶ check bootstrap, spawn,
//!                                         │               wait init/ready (InitTimeout)
//!                                         ▼ yes
//!                  dispatch on /next ── first result (Timeout) ── report
//! ```
//!
//! A timeout, a crash or a failed init ends the instance; the next
//! invocation cold-starts a new one.
//!
//! An image function (an OCI image archive or layout, or any code with
//! [`FunctionConfig::image`]) runs the same way with another channel: its
//! command (`/bootstrap serve`) is started with `SCF_BOOTSTRAP_LISTEN`, the
//! instance is up when that address accepts connections (within
//! [`FunctionConfig::start_timeout`], SCF's 30 s), and each event is
//! posted to its `/event-invoke` ([`crate::push`]).

use crate::api::{ApiConfig, Fifo, InvokeError, InvokeOptions, Outcome, Quirks};
use crate::code::FunctionCode;
use crate::instance::{describe_exit, Init, Instance, InstanceSpec};
use crate::oci::RunSpec;
use crate::push::{self, Listen, PushError, Pusher};
use crate::report::{InvokeReport, Refusal, Status, SYNC_LIMIT};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::process::ExitStatusExt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long to wait for output still in flight after a result arrives: the
/// log is final once the pipes hold nothing unread and output has been
/// quiet this long...
const LOG_QUIET: Duration = Duration::from_millis(5);
/// ...or after this long at most (a function that keeps writing).
const LOG_SETTLE_MAX: Duration = Duration::from_millis(500);

/// A function's configuration, as SCF would hold it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `_HANDLER`.
    pub handler: String,
    /// `SCF_FUNCTIONNAME`.
    pub name: String,
    /// `SCF_FUNCTIONVERSION`.
    pub version: String,
    /// `SCF_NAMESPACE`.
    pub namespace: String,
    /// `TENCENTCLOUD_REGION`.
    pub region: String,
    /// `TENCENTCLOUD_APPID`.
    pub appid: String,
    /// `TENCENTCLOUD_UIN`.
    pub uin: String,
    /// Memory size in MB (sent as `memory_limit_in_mb`).
    pub memory_mb: u32,
    /// `Timeout`: dispatch to result.
    pub timeout: Duration,
    /// `InitTimeout`: exec to `init/ready`.
    pub init_timeout: Duration,
    /// User environment variables, applied after SCF's.
    pub env: Vec<(String, String)>,
    /// Refuse events that are not JSON, as the Invoke API does (400).
    pub require_json: bool,
    /// Copy the function's output to stderr as it arrives.
    pub echo_logs: bool,
    /// Runtime API misbehaviour, for robustness tests.
    pub quirks: Quirks,
    /// Before each invocation, look for a changed code package; when it
    /// changed, end the instance and load the new code (one line on
    /// stderr says so).
    pub watch: bool,
    /// Run a directory or zip as an image function's root: start its
    /// `/bootstrap serve` and push it the events. (An OCI image archive or
    /// layout is an image function anyway, with its own command.)
    pub image: bool,
    /// An image function's start limit: its server must accept
    /// connections this soon after exec, or the invocation fails with 446
    /// PortBindingFailed. SCF's is 30 s.
    pub start_timeout: Duration,
    /// Where an image function's server is told to listen
    /// (`SCF_BOOTSTRAP_LISTEN`); `None`: a free loopback port per
    /// instance. On SCF it is 0.0.0.0:9000.
    pub image_listen: Option<SocketAddr>,
    /// Post each event on a connection of its own, with `Connection:
    /// close` (as the one captured SCF request shows), instead of keeping
    /// one connection open between events.
    pub push_close: bool,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        FunctionConfig {
            handler: "index.main_handler".into(),
            name: "function".into(),
            version: "$LATEST".into(),
            namespace: "default".into(),
            region: "ap-guangzhou".into(),
            appid: "1250000000".into(),
            uin: "100000000001".into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            init_timeout: Duration::from_secs(60),
            env: Vec::new(),
            require_json: true,
            echo_logs: false,
            quirks: Quirks::default(),
            watch: false,
            image: false,
            start_timeout: Duration::from_secs(30),
            image_listen: None,
            push_close: false,
        }
    }
}

impl FunctionConfig {
    /// The environment a bootstrap starts with (the runtime API address is
    /// added per instance): SCF's variables, `PATH` from this process so the
    /// function finds its tools, then the user's.
    pub fn environment(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env: Vec<(String, String)> = [
            ("PATH", path.as_str()),
            ("_HANDLER", &self.handler),
            ("SCF_FUNCTIONNAME", &self.name),
            ("SCF_FUNCTIONVERSION", &self.version),
            ("SCF_NAMESPACE", &self.namespace),
            ("TENCENTCLOUD_REGION", &self.region),
            ("TENCENTCLOUD_APPID", &self.appid),
            ("TENCENTCLOUD_UIN", &self.uin),
            ("TENCENTCLOUD_RUNENV", "SCF"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in &self.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }

    /// The environment an image function's command starts with: `PATH`
    /// from this process, then the image's `Env`, then the variables SCF
    /// sets in an image's container (the "WebServer Image Function" page's
    /// table), then the user's, and last `SCF_BOOTSTRAP_LISTEN`, the
    /// address to serve. There is no runtime API: events are pushed.
    pub fn image_environment(
        &self,
        image_env: &[String],
        listen: SocketAddr,
    ) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env = vec![("PATH".to_string(), path)];
        let mut set = |k: &str, v: &str| {
            env.retain(|(ek, _)| ek != k);
            env.push((k.to_string(), v.to_string()));
        };
        for kv in image_env {
            if let Some((k, v)) = kv.split_once('=') {
                set(k, v);
            }
        }
        for (k, v) in [
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("USER_CODE_ROOT", "/var/user/"),
            ("USER", "qcloud"),
            ("SCF_FUNCTIONNAME", &self.name),
            ("SCF_FUNCTIONVERSION", &self.version),
            ("TENCENTCLOUD_REGION", &self.region),
            ("TENCENTCLOUD_APPID", &self.appid),
            ("TENCENTCLOUD_UIN", &self.uin),
        ] {
            set(k, v);
        }
        for (k, v) in &self.env {
            set(k, v);
        }
        set("SCF_BOOTSTRAP_LISTEN", &listen.to_string());
        env
    }

    /// The context headers of one pushed event, in the order of SCF's
    /// captured request; the temporary credentials (`X-Scf-Secret-Id`,
    /// `-Secret-Key`, `-Session-Token`) only when the function's
    /// environment has them (`TENCENTCLOUD_SECRETID`, `..._SECRETKEY`,
    /// `..._SESSIONTOKEN`), as a role would give it.
    pub fn push_headers(&self, request_id: &str) -> Vec<(&'static str, String)> {
        let mut h: Vec<(&'static str, String)> = vec![
            ("X-Scf-Appid", self.appid.clone()),
            ("X-Scf-Memory", self.memory_mb.to_string()),
            ("X-Scf-Name", self.name.clone()),
            ("X-Scf-Namespace", self.namespace.clone()),
            ("X-Scf-Region", self.region.clone()),
            ("X-Scf-Request-Id", request_id.to_string()),
            ("X-Scf-Timeout", self.timeout.as_millis().to_string()),
            ("X-Scf-Uin", self.uin.clone()),
            ("X-Scf-Version", self.version.clone()),
        ];
        for (var, header) in [
            ("TENCENTCLOUD_SECRETID", "X-Scf-Secret-Id"),
            ("TENCENTCLOUD_SECRETKEY", "X-Scf-Secret-Key"),
            ("TENCENTCLOUD_SESSIONTOKEN", "X-Scf-Session-Token"),
        ] {
            if let Some((_, v)) = self.env.iter().rev().find(|(k, _)| k == var) {
                h.push((header, v.clone()));
            }
        }
        h
    }
}

/// What SCF checks before an invocation reaches a function: the event's
/// size and, unless allowed otherwise, that it is JSON. `Some` is the
/// refusal to return.
pub fn check_event(cfg: &FunctionConfig, request_id: &str, event: &[u8]) -> Option<InvokeReport> {
    let refuse = |why, msg| Some(InvokeReport::refused(request_id.to_string(), why, msg));
    if event.len() > SYNC_LIMIT {
        return refuse(
            Refusal::RequestTooLarge,
            format!(
                "RequestTooLarge: the event is {} bytes; synchronous invocations accept at most 6 MB ({SYNC_LIMIT} bytes)",
                event.len()
            ),
        );
    }
    if cfg.require_json {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(event) {
            return refuse(
                Refusal::InvalidParameterValue,
                format!("InvalidParameterValue: the event is not JSON ({e})"),
            );
        }
    }
    None
}

/// A fingerprint of a code package's files (names, sizes, modification
/// times), to notice a repackaged zip or an edited directory.
fn fingerprint(path: &std::path::Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut todo = vec![path.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        p.hash(&mut h);
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
                names.sort();
                todo.extend(names);
            }
        }
    }
    h.finish()
}

/// A function that can be invoked; owns its current instance.
pub struct Emulator {
    code: Mutex<(Arc<FunctionCode>, u64)>,
    cfg: FunctionConfig,
    turn: Fifo,
    instance: Mutex<Option<Instance>>,
    /// Where each new instance's runtime API listens (port 0: any).
    api_bind: SocketAddr,
}

impl Emulator {
    pub fn new(code: FunctionCode, cfg: FunctionConfig) -> Emulator {
        let stamp = fingerprint(code.source());
        Emulator {
            code: Mutex::new((Arc::new(code), stamp)),
            cfg,
            turn: Fifo::default(),
            instance: Mutex::new(None),
            api_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.cfg
    }

    /// The code now served.
    pub fn code(&self) -> Arc<FunctionCode> {
        self.code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    fn slot(&self) -> MutexGuard<'_, Option<Instance>> {
        self.instance.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current instance's bootstrap pid, if one is running.
    pub fn instance_pid(&self) -> Option<u32> {
        self.slot().as_ref().map(Instance::pid)
    }

    /// Ends the current instance, if any (the next invocation is cold).
    pub fn shutdown_instance(&self) {
        let _turn = self.turn.lock();
        self.slot().take();
    }

    /// When the code package changed since it was loaded: loads it again
    /// and ends the instance, so the next invocation cold-starts the new
    /// code. Returns the line that says so, or why the new code could not
    /// be loaded (the old code is then kept).
    fn reload_if_changed(&self) -> Option<String> {
        let mut code = self.code.lock().unwrap_or_else(|e| e.into_inner());
        let source = code.0.source().to_path_buf();
        let now = fingerprint(&source);
        if now == code.1 {
            return None;
        }
        code.1 = now;
        match FunctionCode::load(&source) {
            Ok(new) => {
                let old = std::mem::replace(&mut code.0, Arc::new(new));
                drop(code);
                // The old instance ends before its unpacked code is removed.
                self.slot().take();
                drop(old);
                Some(format!(
                    "{} changed: the next invocation cold-starts the new code",
                    source.display()
                ))
            }
            Err(e) => Some(format!(
                "{} changed but cannot be loaded ({e}); still serving the previous code",
                source.display()
            )),
        }
    }

    /// Runs one invocation, waiting for earlier ones to finish first.
    pub fn invoke(&self, event: &[u8]) -> InvokeReport {
        let _turn = self.turn.lock();
        if self.cfg.watch {
            if let Some(line) = self.reload_if_changed() {
                eprintln!("scf-emulator: {line}");
            }
        }
        let request_id = crate::api::new_request_id();
        if let Some(refused) = check_event(&self.cfg, &request_id, event) {
            return refused;
        }
        let mut slot = self.slot();
        let mut previous_exit = None;
        if let Some(gone) = slot.as_ref().filter(|i| i.has_exited()) {
            // Exited between invocations: recycled, as SCF does, and said
            // (on stderr and in the report), since nothing else would.
            let how = match gone.exit_status().map(|(s, _)| (s.signal(), s.code())) {
                Some((Some(sig), _)) => crate::sys::signal_name(sig),
                Some((None, Some(code))) => format!("code {code}"),
                _ => "unknown".to_string(),
            };
            eprintln!(
                "scf-emulator: the bootstrap ended while idle between invocations (exit: {how}); \
                 this invocation starts a new instance"
            );
            previous_exit = Some(how);
            *slot = None;
        }
        let mut cold = false;
        let mut init_duration = None;
        if slot.is_none() {
            cold = true;
            match self.cold_start(&request_id) {
                Ok((instance, init)) => {
                    *slot = Some(instance);
                    init_duration = Some(init);
                }
                Err(mut report) => {
                    report.previous_exit = previous_exit;
                    return *report;
                }
            }
        }
        let instance = slot.as_mut().expect("an instance was started above");
        let mut report = if instance.pusher().is_some() {
            self.dispatch_image(instance, event, request_id)
        } else {
            self.dispatch(instance, event, request_id)
        };
        report.cold = cold;
        report.init_duration = init_duration;
        report.previous_exit = previous_exit;
        if report.status.ends_instance() {
            *slot = None;
        }
        report
    }

    /// Starts an instance and waits for init; on failure, the report to
    /// return (the failed instance is already gone).
    fn cold_start(&self, request_id: &str) -> Result<(Instance, Duration), Box<InvokeReport>> {
        let fail = |why, msg: String, log: String, init: Option<Duration>| {
            let mut r = InvokeReport::refused(request_id.to_string(), why, msg);
            r.log = log;
            r.cold = true;
            r.init_duration = init;
            Box::new(r)
        };
        let fail: &Fail = &fail;
        let code = self.code();
        if let Some(run) = self.image_run(&code) {
            return self.cold_start_image(&code, &run, &fail);
        }
        let program = code.check_bootstrap().map_err(|why| {
            fail(
                Refusal::ContainerInitError,
                format!("ContainerInitError: {why}"),
                String::new(),
                None,
            )
        })?;
        let spec = InstanceSpec {
            program,
            args: Vec::new(),
            cwd: code.root().to_path_buf(),
            env: self.cfg.environment(),
            api: Some(ApiConfig {
                bind: self.api_bind,
                memory_mb: self.cfg.memory_mb,
                timeout_ms: self.cfg.timeout.as_millis() as u64,
                quirks: self.cfg.quirks.clone(),
                ..ApiConfig::default()
            }),
            echo_logs: self.cfg.echo_logs,
            memory_limit: Some(u64::from(self.cfg.memory_mb) << 20),
        };
        let mut instance = Instance::spawn(&spec).map_err(|e| {
            fail(
                Refusal::ContainerInitError,
                format!("ContainerInitError: cannot execute bootstrap: {e}"),
                String::new(),
                None,
            )
        })?;
        match instance.wait_ready(self.cfg.init_timeout) {
            Init::Ready(d) => Ok((instance, d)),
            Init::Exited(status) => Err(self.exited_at_start(
                &instance,
                status,
                "before reporting ready (POST /runtime/init/ready)",
                &fail,
            )),
            Init::TimedOut => {
                let ran = instance.spawned_at().elapsed();
                instance.kill();
                let log = instance.logs().take();
                let msg = format!(
                    "InitContainerTimeout: no POST /runtime/init/ready within the initialization timeout of {}",
                    seconds(self.cfg.init_timeout)
                );
                Err(fail(Refusal::InitContainerTimeout, msg, log, Some(ran)))
            }
        }
    }

    /// The report of an instance that exited during its start, `when`
    /// saying before what; with its output, exit status and the time it
    /// ran.
    fn exited_at_start(
        &self,
        instance: &Instance,
        status: std::process::ExitStatus,
        when: &str,
        fail: &Fail,
    ) -> Box<InvokeReport> {
        let ran = instance
            .exit_status()
            .map(|(_, at)| at.saturating_duration_since(instance.spawned_at()));
        instance.logs().wait_closed(Duration::from_millis(500));
        let log = instance.logs().take();
        let mut r = match instance.over_memory() {
            Some(rss) => fail(
                Refusal::MemoryLimitReached,
                self.memory_message(rss, "initializing"),
                log,
                ran,
            ),
            None => fail(
                Refusal::ContainerStateExited,
                format!(
                    "ContainerStateExited: {} exited with {} {when}",
                    self.started_what(),
                    describe_exit(status)
                ),
                log,
                ran,
            ),
        };
        r.exit_code = status.code();
        r.exit_signal = status.signal();
        r
    }

    /// What an instance runs, for messages: `bootstrap`, or an image's
    /// command (`/bootstrap serve`).
    fn started_what(&self) -> String {
        match self.image_run(&self.code()) {
            Some(run) => run.command().join(" "),
            None => "bootstrap".into(),
        }
    }

    /// How the code starts as an image function, if it is one: the
    /// image's own config, or for a directory or zip run with
    /// [`FunctionConfig::image`], `/bootstrap serve`.
    fn image_run(&self, code: &FunctionCode) -> Option<RunSpec> {
        match code.image() {
            Some(run) => Some(run.clone()),
            None if self.cfg.image => Some(RunSpec {
                entrypoint: vec!["/bootstrap".into()],
                cmd: vec!["serve".into()],
                ..RunSpec::default()
            }),
            None => None,
        }
    }

    /// Starts an image function's command and waits for its server to
    /// accept connections; on failure, the report to return.
    fn cold_start_image(
        &self,
        code: &FunctionCode,
        run: &RunSpec,
        fail: &Fail,
    ) -> Result<(Instance, Duration), Box<InvokeReport>> {
        let init_error = |why: String| {
            fail(
                Refusal::ContainerInitError,
                format!("ContainerInitError: {why}"),
                String::new(),
                None,
            )
        };
        let (program, args, cwd) = code.image_command(run).map_err(init_error)?;
        let listen = match self.cfg.image_listen {
            Some(a) => a,
            None => free_loopback_port().map_err(|e| {
                fail(
                    Refusal::InternalError,
                    format!("InternalError: no free port for the instance: {e}"),
                    String::new(),
                    None,
                )
            })?,
        };
        // An unspecified address (0.0.0.0:9000, as on SCF) is reached on
        // the loopback address of its family.
        let connect = match listen {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from((Ipv4Addr::LOCALHOST, a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((Ipv6Addr::LOCALHOST, a.port()))
            }
            a => a,
        };
        let spec = InstanceSpec {
            program,
            args,
            cwd,
            env: self.cfg.image_environment(&run.env, listen),
            api: None,
            echo_logs: self.cfg.echo_logs,
            memory_limit: Some(u64::from(self.cfg.memory_mb) << 20),
        };
        let mut instance = Instance::spawn(&spec)
            .map_err(|e| init_error(format!("cannot execute {}: {e}", run.command().join(" "))))?;
        let limit = self.cfg.start_timeout;
        match push::wait_listening(connect, instance.spawned_at(), limit, || {
            instance.has_exited()
        }) {
            Listen::Up(d) => {
                instance.sample_peak_rss();
                instance.set_pusher(Pusher::new(connect, self.cfg.push_close));
                Ok((instance, d))
            }
            Listen::Exited => match instance.wait_exit(Duration::from_secs(2)) {
                Some((status, _)) => Err(self.exited_at_start(
                    &instance,
                    status,
                    &format!("before listening on {listen}"),
                    fail,
                )),
                // Seen gone in /proc, but never reaped: nothing to report
                // but the fact.
                None => Err(fail(
                    Refusal::ContainerStateExited,
                    format!(
                        "ContainerStateExited: {} ended before listening on {listen}",
                        self.started_what()
                    ),
                    instance.logs().take(),
                    Some(instance.spawned_at().elapsed()),
                )),
            },
            Listen::TimedOut => {
                let ran = instance.spawned_at().elapsed();
                instance.kill();
                let log = instance.logs().take();
                // SCF's health check message, with this instance's address.
                let msg = format!(
                    "PortBindingFailed: The request timed out in {}ms.Please confirm your http server have enabled \
                     listening on port 9000. (The emulator's instance was told SCF_BOOTSTRAP_LISTEN={listen}.)",
                    limit.as_millis()
                );
                Err(fail(Refusal::PortBindingFailed, msg, log, Some(ran)))
            }
        }
    }

    /// Posts the event to an image function's server and reads its
    /// answer: 2xx is the result; any other status is the function's
    /// error, its body the message, unless the process dies right after
    /// (a crash report, then death by the signal: 439 with that message).
    fn dispatch_image(
        &self,
        instance: &mut Instance,
        event: &[u8],
        request_id: String,
    ) -> InvokeReport {
        let mut report = InvokeReport::dispatched(request_id.clone());
        let headers = self.cfg.push_headers(&request_id);
        let headers: Vec<(&'static str, &str)> =
            headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let pusher = instance
            .pusher()
            .expect("an image function's instance has a pusher");
        let addr = pusher.addr();
        let result = pusher.push(event, &headers, self.cfg.timeout, SYNC_LIMIT);
        report.mem_usage = instance.sample_peak_rss();
        let what = self.started_what();
        let gone = |instance: &Instance,
                    report: &mut InvokeReport,
                    started_at: Option<std::time::Instant>| {
            let exit = instance.wait_exit(Duration::from_secs(2));
            if let (Some(t), Some((_, at))) = (started_at, exit) {
                report.duration = at.saturating_duration_since(t);
            }
            instance.logs().wait_closed(Duration::from_millis(500));
            report.log = instance.logs().take();
            if let Some(rss) = instance.over_memory() {
                report.fail(
                    Status::MemoryLimitReached,
                    self.memory_message(rss, "invoked"),
                );
            } else {
                let how = exit.map_or_else(
                    || "an unknown status".to_string(),
                    |(s, _)| describe_exit(s),
                );
                report.fail(
                    Status::UserProcessExit,
                    format!(
                        "{}: {what} exited with {how} during the invocation",
                        Status::UserProcessExit.message()
                    ),
                );
            }
            if let Some((status, _)) = exit {
                report.exit_code = status.code();
                report.exit_signal = status.signal();
            }
        };
        match result {
            Ok(p) => {
                report.duration = p.done_at.saturating_duration_since(p.started_at);
                instance.logs().settle(LOG_QUIET, LOG_SETTLE_MAX);
                if (200..300).contains(&p.status) {
                    report.ret_msg = String::from_utf8_lossy(&p.body).into_owned();
                } else {
                    let text = match String::from_utf8_lossy(&p.body).trim_end() {
                        "" => format!(
                            "the function answered POST {} with status {} and no body",
                            push::PATH,
                            p.status
                        ),
                        t => t.to_string(),
                    };
                    // Only a server that closes after its answer may be
                    // about to die; one that keeps the connection goes on.
                    match p.closed.then(|| died_after_error(instance)).flatten() {
                        Some(status) => {
                            instance.logs().wait_closed(Duration::from_millis(500));
                            report.fail(Status::UserProcessExit, text);
                            report.exit_code = status.code();
                            report.exit_signal = status.signal();
                        }
                        None => report.fail(Status::UserCodeException, text),
                    }
                }
                report.log = instance.logs().take();
            }
            Err(PushError::Timeout { started_at }) => {
                report.duration = started_at.elapsed();
                instance.kill();
                report.log = instance.logs().take();
                report.fail(
                    Status::TimeLimitReached,
                    format!(
                        "Invoking task timed out after {}",
                        seconds(self.cfg.timeout)
                    ),
                );
            }
            Err(PushError::Closed { started_at }) if died_after_error(instance).is_some() => {
                gone(instance, &mut report, Some(started_at))
            }
            Err(PushError::Connect(_)) if instance.has_exited() => {
                gone(instance, &mut report, None)
            }
            Err(PushError::TooLarge(n)) => {
                instance.logs().settle(LOG_QUIET, LOG_SETTLE_MAX);
                report.log = instance.logs().take();
                let size = n.map_or_else(|| "more than 6 MB".into(), |n| format!("{n} bytes"));
                let msg = format!(
                    "{}: the function returned {size}",
                    Status::ResponseTooLarge.message()
                );
                report.fail(Status::ResponseTooLarge, msg);
            }
            Err(e) => {
                instance.logs().settle(LOG_QUIET, LOG_SETTLE_MAX);
                report.log = instance.logs().take();
                if let PushError::Closed { started_at } = &e {
                    report.duration = started_at.elapsed();
                }
                let server = "the function's HTTP server";
                let msg = match e {
                    PushError::Malformed(e) => {
                        format!(
                            "{server} answered POST {} with a malformed response: {e}",
                            push::PATH
                        )
                    }
                    PushError::Connect(e) => format!("cannot connect to {server} at {addr}: {e}"),
                    _ => format!(
                        "{server} closed the connection without answering POST {}",
                        push::PATH
                    ),
                };
                report.fail(Status::UserCodeException, msg);
            }
        }
        report
    }

    fn memory_message(&self, rss: u64, when: &str) -> String {
        format!(
            "MemoryLimitReached: the instance held {} MB while {when}, over its memory size of {} MB",
            rss >> 20,
            self.cfg.memory_mb
        )
    }

    fn dispatch(&self, instance: &mut Instance, event: &[u8], request_id: String) -> InvokeReport {
        let opts = InvokeOptions {
            timeout: self.cfg.timeout,
            // A runtime that never polls is as late as one that never answers.
            dispatch_timeout: Some(self.cfg.timeout),
            request_id: Some(request_id.clone()),
        };
        let mut report = InvokeReport::dispatched(request_id);
        let api = instance
            .api()
            .expect("a zip function's instance has a runtime API");
        let result = api.invoke_with(event, opts);
        report.mem_usage = instance.sample_peak_rss();
        match result {
            Ok(inv) => {
                report.duration = inv.duration();
                report.polls = inv.polls;
                instance.logs().settle(LOG_QUIET, LOG_SETTLE_MAX);
                match inv.outcome {
                    Outcome::Response(body) if body.len() > SYNC_LIMIT => report.fail(
                        Status::ResponseTooLarge,
                        format!(
                            "{}: the function returned {} bytes",
                            Status::ResponseTooLarge.message(),
                            body.len()
                        ),
                    ),
                    Outcome::Response(body) => {
                        report.ret_msg = String::from_utf8_lossy(&body).into_owned()
                    }
                    Outcome::Error(body) => {
                        let text = String::from_utf8_lossy(&body).into_owned();
                        match died_after_error(instance) {
                            Some(status) => {
                                instance.logs().wait_closed(Duration::from_millis(500));
                                report.fail(Status::UserProcessExit, text);
                                report.exit_code = status.code();
                                report.exit_signal = status.signal();
                            }
                            None => report.fail(Status::UserCodeException, text),
                        }
                    }
                }
                report.log = instance.logs().take();
            }
            Err(InvokeError::Timeout { dispatched_at, .. }) => {
                report.duration = dispatched_at.elapsed();
                instance.kill();
                report.log = instance.logs().take();
                report.fail(
                    Status::TimeLimitReached,
                    format!(
                        "Invoking task timed out after {}",
                        seconds(self.cfg.timeout)
                    ),
                );
            }
            Err(InvokeError::NotDispatched { .. }) => {
                instance.kill();
                report.log = instance.logs().take();
                report.fail(
                    Status::TimeLimitReached,
                    format!(
                        "Invoking task timed out after {} (the runtime never fetched the event with GET /runtime/invocation/next)",
                        seconds(self.cfg.timeout)
                    ),
                );
            }
            Err(InvokeError::Aborted { dispatched_at, .. }) => {
                let exit = instance.wait_exit(Duration::from_secs(2));
                if let (Some(t), Some((_, at))) = (dispatched_at, exit) {
                    report.duration = at.saturating_duration_since(t);
                }
                instance.logs().wait_closed(Duration::from_millis(500));
                report.log = instance.logs().take();
                if let Some(rss) = instance.over_memory() {
                    report.fail(
                        Status::MemoryLimitReached,
                        self.memory_message(rss, "invoked"),
                    );
                } else {
                    let how = exit.map_or_else(
                        || "an unknown status".to_string(),
                        |(s, _)| describe_exit(s),
                    );
                    report.fail(
                        Status::UserProcessExit,
                        format!(
                            "{}: bootstrap process exited with {how} during the invocation",
                            Status::UserProcessExit.message()
                        ),
                    );
                }
                if let Some((status, _)) = exit {
                    report.exit_code = status.code();
                    report.exit_signal = status.signal();
                }
            }
            Err(InvokeError::Closed) => report.fail(
                Status::InternalError,
                "InternalError: the runtime API server stopped".into(),
            ),
        }
        report
    }
}

/// Makes the report of a failed cold start: why, the message, the output,
/// and how long init ran.
type Fail<'a> = dyn Fn(Refusal, String, String, Option<Duration>) -> Box<InvokeReport> + 'a;

/// A free TCP port on 127.0.0.1, for an image function's server (bound,
/// read and released: the instance binds it a moment later).
fn free_loopback_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// How long to wait, after an error was pushed, for the runtime either to
/// die or to poll for the next event.
const ERROR_GRACE: Duration = Duration::from_secs(1);

/// After an error push: a runtime that reports its own crash (a signal in
/// a native handler) posts the error and then dies by the signal, and then
/// the instance is gone; one that merely reported a handler's failure polls
/// `/next` again. Waits (at most [`ERROR_GRACE`]) to see which; the exit
/// status when it died.
fn died_after_error(instance: &Instance) -> Option<std::process::ExitStatus> {
    let end = std::time::Instant::now() + ERROR_GRACE;
    loop {
        if instance.has_exited() {
            return instance.exit_status().map(|(status, _)| status);
        }
        let polling = instance.api().is_some_and(|a| a.is_polling());
        if polling || std::time::Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// "3 seconds", "1 second", "0.5 seconds".
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == 1.0 {
        "1 second".into()
    } else if s.fract() == 0.0 {
        format!("{} seconds", s as u64)
    } else {
        format!("{s} seconds")
    }
}
