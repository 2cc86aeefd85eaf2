//! One function instance: a `bootstrap` process with its own runtime API
//! server (or, for an image function, the address its own server listens
//! on) and captured output.
//!
//! The bootstrap runs in a process group of its own, so ending the instance
//! (timeout, drop, Ctrl-C of the emulator) also ends whatever it started,
//! such as the bash bootstrap's `curl` children.

use crate::api::{ApiConfig, RuntimeApi};
use crate::logs::LogSink;
use crate::sys;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How to start an instance.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// The executable, normally `<root>/bootstrap`.
    pub program: PathBuf,
    /// Its arguments (an image's `serve`).
    pub args: Vec<String>,
    /// Working directory: the code root.
    pub cwd: PathBuf,
    /// The complete environment (nothing is inherited), without the
    /// runtime API variables, which are added per instance.
    pub env: Vec<(String, String)>,
    /// The runtime API server's settings (bind address, limits, quirks);
    /// `None` for an image function, which is pushed its events and gets
    /// no runtime API.
    pub api: Option<ApiConfig>,
    /// Copy the function's output to this process's stderr.
    pub echo_logs: bool,
    /// End the instance when its processes hold more than this many bytes
    /// resident (SCF's memory size); `None`: no limit.
    pub memory_limit: Option<u64>,
}

/// How often the memory limit is checked. SCF does not say how it
/// measures; a sample every 10 ms catches any allocation that is held,
/// and costs a few `/proc` reads.
const MEMORY_SAMPLE: Duration = Duration::from_millis(10);

/// What became of init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// `init/ready` arrived this long after exec.
    Ready(Duration),
    /// The process exited first.
    Exited(ExitStatus),
    /// Neither within the init timeout.
    TimedOut,
}

#[derive(Default)]
struct Exit {
    status: Mutex<Option<(ExitStatus, Instant)>>,
    cond: Condvar,
}

/// A running bootstrap. Dropping it kills the process group.
pub struct Instance {
    api: Option<Arc<RuntimeApi>>,
    push: Option<crate::push::Pusher>,
    pid: u32,
    logs: Arc<LogSink>,
    exit: Arc<Exit>,
    spawned_at: Instant,
    peak_rss: u64,
    /// Set when the memory watcher ended the instance for exceeding the
    /// limit (with the resident bytes it saw).
    over_memory: Arc<Mutex<Option<u64>>>,
}

/// Describes an exit status the way a shell user reads it.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("signal {sig} ({})", sys::signal_name(sig)),
        _ => "unknown status".to_string(),
    }
}

/// `cmd.spawn()`, tried again for up to a second while the program is
/// "text file busy" (ETXTBSY): a bootstrap that was just written (a test's
/// fixture, `run --watch`'s rebuild) can still be open for writing in a
/// child forked meanwhile by another thread of this process, until that
/// child execs. The condition passes by itself; any other error is final.
fn spawn_retrying_busy(cmd: &mut Command) -> io::Result<std::process::Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

impl Instance {
    /// Starts the runtime API server (if the spec has one), then the
    /// bootstrap.
    pub fn spawn(spec: &InstanceSpec) -> io::Result<Instance> {
        let api = match &spec.api {
            Some(cfg) => Some(Arc::new(RuntimeApi::start(cfg.clone())?)),
            None => None,
        };
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .current_dir(&spec.cwd)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(api) = &api {
            let addr = api.addr();
            let host = match addr.ip() {
                ip if ip.is_unspecified() => "127.0.0.1".to_string(),
                ip => ip.to_string(),
            };
            cmd.env("SCF_RUNTIME_API", host)
                .env("SCF_RUNTIME_API_PORT", addr.port().to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let logs = LogSink::new(spec.echo_logs);
        // The init clock starts before the fork: it includes process
        // creation, as the platform's would, and can never read negative.
        let spawned_at = Instant::now();
        let mut child = spawn_retrying_busy(&mut cmd)?;
        let pid = child.id();
        sys::register_group(pid);
        if let Some(out) = child.stdout.take() {
            let fd = out.as_raw_fd();
            logs.attach(out, Some(fd));
        }
        if let Some(err) = child.stderr.take() {
            let fd = err.as_raw_fd();
            logs.attach(err, Some(fd));
        }
        let exit = Arc::new(Exit::default());
        let (exit2, api2) = (exit.clone(), api.clone());
        thread::Builder::new()
            .name("scf-bootstrap-wait".into())
            .spawn(move || {
                let status = child.wait();
                let now = Instant::now();
                if let Ok(status) = status {
                    *exit2.status.lock().unwrap_or_else(|e| e.into_inner()) = Some((status, now));
                }
                exit2.cond.notify_all();
                // Whatever is pending on the runtime API can no longer finish.
                if let Some(api) = api2 {
                    api.abort();
                }
            })?;
        let over_memory = Arc::new(Mutex::new(None));
        if let Some(limit) = spec.memory_limit {
            let (exit3, over) = (exit.clone(), over_memory.clone());
            thread::Builder::new()
                .name("scf-memory-watch".into())
                .spawn(move || loop {
                    let st = exit3.status.lock().unwrap_or_else(|e| e.into_inner());
                    let (st, _) = exit3
                        .cond
                        .wait_timeout_while(st, MEMORY_SAMPLE, |s| s.is_none())
                        .unwrap_or_else(|e| e.into_inner());
                    if st.is_some() {
                        return;
                    }
                    drop(st);
                    let rss = sys::tree_rss(pid);
                    if rss > limit {
                        *over.lock().unwrap_or_else(|e| e.into_inner()) = Some(rss);
                        let _ = sys::kill_group(pid);
                        return;
                    }
                })?;
        }
        Ok(Instance {
            api,
            push: None,
            pid,
            logs,
            exit,
            spawned_at,
            peak_rss: 0,
            over_memory,
        })
    }

    /// The instance's runtime API server (`None` for an image function).
    pub fn api(&self) -> Option<&RuntimeApi> {
        self.api.as_deref()
    }

    /// How an image function's events reach its server, once it listens.
    pub fn pusher(&mut self) -> Option<&mut crate::push::Pusher> {
        self.push.as_mut()
    }

    /// Records where the image function's server listens.
    pub fn set_pusher(&mut self, p: crate::push::Pusher) {
        self.push = Some(p);
    }

    /// The bootstrap's process id (and process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn logs(&self) -> &LogSink {
        &self.logs
    }

    /// When the bootstrap was started.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// The resident bytes seen when the memory watcher ended this instance
    /// for exceeding its limit.
    pub fn over_memory(&self) -> Option<u64> {
        *self.over_memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for `init/ready`, the process's exit or the timeout, whichever
    /// comes first (an instance without a runtime API waits for its exit
    /// or the timeout).
    pub fn wait_ready(&mut self, timeout: Duration) -> Init {
        let deadline = self.spawned_at + timeout;
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(api) = self.api.clone() else {
            return match self.wait_exit(left) {
                Some((status, _)) => Init::Exited(status),
                None => Init::TimedOut,
            };
        };
        if api.wait_ready(left) {
            let ready_at = api.ready_at().unwrap_or_else(Instant::now);
            self.sample_peak_rss();
            return Init::Ready(ready_at.saturating_duration_since(self.spawned_at));
        }
        match self.exit_status() {
            Some((status, _)) => Init::Exited(status),
            None => Init::TimedOut,
        }
    }

    /// The exit status and when it was seen, once the process has exited.
    pub fn exit_status(&self) -> Option<(ExitStatus, Instant)> {
        *self.exit.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the process has exited. Besides the reaper thread's record,
    /// this looks at the process itself: between its death and the reaper's
    /// `waitpid` it is a zombie, and an invocation must not be dispatched to
    /// it in that window. A zombie is given a moment to be reaped, so that
    /// its exit status is known.
    pub fn has_exited(&self) -> bool {
        if self.exit_status().is_some() {
            return true;
        }
        let zombie_or_gone = match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            // The state follows the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => true,
        };
        zombie_or_gone && {
            self.wait_exit(Duration::from_millis(500));
            true
        }
    }

    /// Waits up to `max` for the process to exit.
    pub fn wait_exit(&self, max: Duration) -> Option<(ExitStatus, Instant)> {
        let end = Instant::now() + max;
        let mut st = self.exit.status.lock().unwrap_or_else(|e| e.into_inner());
        while st.is_none() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .exit
                .cond
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *st
    }

    /// Reads the bootstrap's peak RSS now (it only grows) and returns the
    /// highest value seen, in bytes.
    pub fn sample_peak_rss(&mut self) -> u64 {
        if self.exit_status().is_none() {
            if let Some(v) = sys::peak_rss(self.pid) {
                self.peak_rss = self.peak_rss.max(v);
            }
        }
        self.peak_rss
    }

    /// Kills the whole process group and waits (briefly) for the exit and
    /// for the output pipes to close.
    pub fn kill(&self) {
        let _ = sys::kill_group(self.pid);
        self.wait_exit(Duration::from_secs(2));
        self.logs.wait_closed(Duration::from_millis(500));
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // The group may outlive its leader (orphaned children): always kill.
        let _ = sys::kill_group(self.pid);
        self.wait_exit(Duration::from_secs(2));
        sys::unregister_group(self.pid);
    }
}
