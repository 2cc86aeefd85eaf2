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

use crate::api::{ApiConfig, InvokeError, InvokeOptions, Outcome, Quirks};
use crate::code::FunctionCode;
use crate::instance::{describe_exit, Init, Instance, InstanceSpec};
use crate::report::{InvokeReport, Status, SYNC_LIMIT};
use std::net::SocketAddr;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long to wait for output still in flight after a result arrives: the
/// log is final once output has been quiet this long...
const LOG_QUIET: Duration = Duration::from_millis(5);
/// ...or after this long at most.
const LOG_SETTLE_MAX: Duration = Duration::from_millis(100);

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
}

/// Serves callers in arrival order (std's `Mutex` promises no order).
#[derive(Default)]
pub(crate) struct FifoLock {
    tickets: Mutex<(u64, u64)>,
    cond: Condvar,
}

pub(crate) struct FifoGuard<'a>(&'a FifoLock);

impl FifoLock {
    pub fn lock(&self) -> FifoGuard<'_> {
        let mut t = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let mine = t.0;
        t.0 += 1;
        while t.1 != mine {
            t = self.cond.wait(t).unwrap_or_else(|e| e.into_inner());
        }
        FifoGuard(self)
    }
}

impl Drop for FifoGuard<'_> {
    fn drop(&mut self) {
        self.0.tickets.lock().unwrap_or_else(|e| e.into_inner()).1 += 1;
        self.0.cond.notify_all();
    }
}

/// A function that can be invoked; owns its current instance.
pub struct Emulator {
    code: FunctionCode,
    cfg: FunctionConfig,
    turn: FifoLock,
    instance: Mutex<Option<Instance>>,
    /// Where each new instance's runtime API listens (port 0: any).
    api_bind: SocketAddr,
}

impl Emulator {
    pub fn new(code: FunctionCode, cfg: FunctionConfig) -> Emulator {
        Emulator {
            code,
            cfg,
            turn: FifoLock::default(),
            instance: Mutex::new(None),
            api_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.cfg
    }

    pub fn code(&self) -> &FunctionCode {
        &self.code
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

    /// Runs one invocation, waiting for earlier ones to finish first.
    pub fn invoke(&self, event: &[u8]) -> InvokeReport {
        let _turn = self.turn.lock();
        let request_id = crate::api::new_request_id();
        if event.len() > SYNC_LIMIT {
            return InvokeReport::refused(
                request_id,
                Status::RequestTooLarge,
                format!(
                    "RequestTooLarge: the event is {} bytes; synchronous invocations accept at most 6 MB ({SYNC_LIMIT} bytes)",
                    event.len()
                ),
            );
        }
        if self.cfg.require_json {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(event) {
                return InvokeReport::refused(
                    request_id,
                    Status::InvalidParameterValue,
                    format!("InvalidParameterValue: the event is not JSON ({e})"),
                );
            }
        }
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|i| i.has_exited()) {
            // Exited between invocations: recycled, as SCF does.
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
                Err(report) => return *report,
            }
        }
        let instance = slot.as_mut().expect("an instance was started above");
        let mut report = self.dispatch(instance, event, request_id);
        report.cold = cold;
        report.init_duration = init_duration;
        if report.status.ends_instance() {
            *slot = None;
        }
        report
    }

    /// Starts an instance and waits for init; on failure, the report to
    /// return (the failed instance is already gone).
    fn cold_start(&self, request_id: &str) -> Result<(Instance, Duration), Box<InvokeReport>> {
        let fail = |status, msg: String, log: String, init: Option<Duration>| {
            let mut r = InvokeReport::refused(request_id.to_string(), status, msg);
            r.log = log;
            r.cold = true;
            r.init_duration = init;
            Box::new(r)
        };
        let program = self.code.check_bootstrap().map_err(|why| {
            fail(
                Status::ContainerInitError,
                format!("ContainerInitError: {why}"),
                String::new(),
                None,
            )
        })?;
        let spec = InstanceSpec {
            program,
            cwd: self.code.root().to_path_buf(),
            env: self.cfg.environment(),
            api: ApiConfig {
                bind: self.api_bind,
                memory_mb: self.cfg.memory_mb,
                timeout_ms: self.cfg.timeout.as_millis() as u64,
                quirks: self.cfg.quirks.clone(),
            },
            echo_logs: self.cfg.echo_logs,
        };
        let mut instance = Instance::spawn(&spec).map_err(|e| {
            fail(
                Status::ContainerInitError,
                format!("ContainerInitError: cannot execute bootstrap: {e}"),
                String::new(),
                None,
            )
        })?;
        match instance.wait_ready(self.cfg.init_timeout) {
            Init::Ready(d) => Ok((instance, d)),
            Init::Exited(status) => {
                let ran = instance
                    .exit_status()
                    .map(|(_, at)| at.saturating_duration_since(instance.spawned_at()));
                instance.logs().wait_closed(Duration::from_millis(500));
                let log = instance.logs().take();
                let msg = format!(
                    "ContainerStateExited: bootstrap exited with {} before reporting ready (POST /runtime/init/ready)",
                    describe_exit(status)
                );
                Err(fail(Status::ContainerStateExited, msg, log, ran))
            }
            Init::TimedOut => {
                let ran = instance.spawned_at().elapsed();
                instance.kill();
                let log = instance.logs().take();
                let msg = format!(
                    "InitContainerTimeout: no POST /runtime/init/ready within the initialization timeout of {}",
                    seconds(self.cfg.init_timeout)
                );
                Err(fail(Status::InitContainerTimeout, msg, log, Some(ran)))
            }
        }
    }

    fn dispatch(&self, instance: &mut Instance, event: &[u8], request_id: String) -> InvokeReport {
        let opts = InvokeOptions {
            timeout: self.cfg.timeout,
            // A runtime that never polls is as late as one that never answers.
            dispatch_timeout: Some(self.cfg.timeout),
            request_id: Some(request_id.clone()),
        };
        let mut report = InvokeReport::refused(request_id, Status::Success, String::new());
        match instance.api().invoke_with(event, opts) {
            Ok(inv) => {
                report.mem_usage = instance.sample_peak_rss();
                report.duration = inv.duration();
                report.polls = inv.polls;
                instance.logs().settle(LOG_QUIET, LOG_SETTLE_MAX);
                report.log = instance.logs().take();
                match inv.outcome {
                    Outcome::Response(body) if body.len() > SYNC_LIMIT => {
                        report.status = Status::ResponseTooLarge;
                        report.err_msg = format!(
                            "{}: the function returned {} bytes",
                            Status::ResponseTooLarge.message(),
                            body.len()
                        );
                    }
                    Outcome::Response(body) => {
                        report.ret_msg = String::from_utf8_lossy(&body).into_owned()
                    }
                    Outcome::Error(body) => {
                        report.status = Status::UserCodeException;
                        report.err_msg = String::from_utf8_lossy(&body).into_owned();
                    }
                }
            }
            Err(InvokeError::Timeout { dispatched_at, .. }) => {
                report.mem_usage = instance.sample_peak_rss();
                report.duration = dispatched_at.elapsed();
                instance.kill();
                report.log = instance.logs().take();
                report.status = Status::TimeLimitReached;
                report.err_msg = format!(
                    "Invoking task timed out after {}",
                    seconds(self.cfg.timeout)
                );
            }
            Err(InvokeError::NotDispatched { .. }) => {
                report.mem_usage = instance.sample_peak_rss();
                instance.kill();
                report.log = instance.logs().take();
                report.status = Status::TimeLimitReached;
                report.err_msg = format!(
                    "Invoking task timed out after {} (the runtime never fetched the event with GET /runtime/invocation/next)",
                    seconds(self.cfg.timeout)
                );
            }
            Err(InvokeError::Aborted { dispatched_at, .. }) => {
                report.mem_usage = instance.sample_peak_rss();
                let exit = instance.wait_exit(Duration::from_secs(2));
                if let (Some(t), Some((_, at))) = (dispatched_at, exit) {
                    report.duration = at.saturating_duration_since(t);
                }
                instance.logs().wait_closed(Duration::from_millis(500));
                report.log = instance.logs().take();
                report.status = Status::UserProcessExit;
                let how = exit.map_or_else(
                    || "an unknown status".to_string(),
                    |(s, _)| describe_exit(s),
                );
                report.err_msg = format!(
                    "{}: bootstrap process exited with {how} during the invocation",
                    Status::UserProcessExit.message()
                );
            }
            Err(InvokeError::Closed) => {
                report.status = Status::InternalError;
                report.err_msg = "InternalError: the runtime API server stopped".into();
            }
        }
        report
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
