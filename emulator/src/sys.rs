//! The few OS calls std does not offer: killing a process group, and waiting
//! for termination signals so a dying emulator can take its bootstrap down
//! with it. This is the only module allowed `unsafe`.

use std::io;
use std::sync::Mutex;

/// Process groups of live bootstrap instances, killed by [`cleanup`].
static LIVE_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Temporary directories (unpacked zips), removed by [`cleanup`].
static TEMP_DIRS: Mutex<Vec<std::path::PathBuf>> = Mutex::new(Vec::new());

fn registry<T>(m: &'static Mutex<Vec<T>>) -> std::sync::MutexGuard<'static, Vec<T>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers a live process group for [`cleanup`].
pub(crate) fn register_group(pgid: u32) {
    registry(&LIVE_GROUPS).push(pgid);
}

/// Forgets a process group (it has been killed and reaped).
pub(crate) fn unregister_group(pgid: u32) {
    registry(&LIVE_GROUPS).retain(|&g| g != pgid);
}

/// Remembers a temporary directory for [`cleanup`].
pub(crate) fn register_temp_dir(path: &std::path::Path) {
    registry(&TEMP_DIRS).push(path.to_path_buf());
}

/// Forgets a temporary directory (it has been removed).
pub(crate) fn unregister_temp_dir(path: &std::path::Path) {
    registry(&TEMP_DIRS).retain(|p| p != path);
}

/// Kills every live instance's process group and removes every temporary
/// directory. For a process about to exit without running destructors.
pub fn cleanup() {
    for pgid in registry(&LIVE_GROUPS).drain(..) {
        let _ = kill_group(pgid);
    }
    for dir in registry(&TEMP_DIRS).drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Sends SIGKILL to every process in group `pgid`.
pub fn kill_group(pgid: u32) -> io::Result<()> {
    // kill(0, ..) and kill(-1, ..) would hit our own group or every process
    // we may signal; a bootstrap's group id is its pid, always > 1.
    let Ok(pgid) = i32::try_from(pgid) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "process group id out of range",
        ));
    };
    if pgid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal process group 0 or 1",
        ));
    }
    // SAFETY: kill() takes plain integers and has no memory effects; the
    // negative pid addresses the group, checked above to be a real one.
    let rc = unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sends `signal` (e.g. `libc::SIGTERM`) to the single process `pid`.
///
/// Prefer this to running kill(1): procps-ng 4.0.2's `kill -KILL -PGID`
/// signals far more than the group.
pub fn signal_process(pid: u32, signal: i32) -> io::Result<()> {
    let Ok(pid) = i32::try_from(pid) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "process id out of range",
        ));
    };
    if pid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal process 0 or 1",
        ));
    }
    // SAFETY: kill() takes plain integers and has no memory effects; a pid
    // above 1 addresses exactly one process.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The termination signals a command-line emulator handles itself.
const TERMINATION: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// A signal set holding [`TERMINATION`].
struct SigSet(libc::sigset_t);

impl SigSet {
    fn termination() -> io::Result<SigSet> {
        // SAFETY: sigset_t is a plain bit array; all-zero is a valid value
        // that sigemptyset then initializes properly.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, exclusively borrowed sigset_t.
        if unsafe { libc::sigemptyset(&mut set) } != 0 {
            return Err(io::Error::last_os_error());
        }
        for sig in TERMINATION {
            // SAFETY: as above; `sig` is a valid signal number.
            if unsafe { libc::sigaddset(&mut set, sig) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(SigSet(set))
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so in every
/// thread it spawns afterwards) and starts a thread that waits for one of
/// them, runs [`cleanup`] and exits with 128 + the signal number.
///
/// Call it first thing in `main`, before spawning threads. Child processes
/// are unaffected: std resets the signal mask of every process it spawns.
pub fn exit_cleanly_on_termination_signals() -> io::Result<()> {
    let set = SigSet::termination()?;
    // SAFETY: `set.0` is initialized; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set.0, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new()
        .name("scf-signals".into())
        .spawn(move || {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set.0` is initialized and `sig` is a valid out-pointer;
            // the signals in the set are blocked in every thread, as sigwait
            // requires.
            let rc = unsafe { libc::sigwait(&set.0, &mut sig) };
            cleanup();
            let code = if rc == 0 { 128 + sig } else { 1 };
            std::process::exit(code);
        })?;
    Ok(())
}

/// How many bytes wait unread in pipe `fd` (`FIONREAD`); 0 when it cannot
/// be asked.
pub fn pipe_unread(fd: std::os::fd::RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points
    // at `n`; an fd that is not open makes the call fail with EBADF, it
    // touches no memory. Callers keep `fd` open while asking.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc == 0 {
        usize::try_from(n).unwrap_or(0)
    } else {
        0
    }
}

/// Peak resident set size of process `pid` in bytes (`VmHWM` in
/// `/proc/PID/status`), if the process is still there to ask.
pub fn peak_rss(pid: u32) -> Option<u64> {
    status_kb(pid, "VmHWM:")
}

/// Resident set size of `pid` and of every process descended from it (the
/// `children` lists under `/proc/PID/task/`), in bytes: what an instance
/// holds now, helpers such as a bash bootstrap's `curl` included.
pub fn tree_rss(pid: u32) -> u64 {
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        total += status_kb(p, "VmRSS:").unwrap_or(0);
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(t.path().join("children")) {
                todo.extend(
                    list.split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    total
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&status, field)
}

fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let mut it = line[field.len()..].split_whitespace();
    let n: u64 = it.next()?.parse().ok()?;
    match it.next() {
        Some("kB") | None => Some(n * 1024),
        Some(_) => None,
    }
}

/// The name of signal `sig` (`SIGSEGV`), or `signal N` for one without a
/// common name.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [(i32, &str); 16] = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGSYS, "SIGSYS"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == sig)
        .map_or_else(|| format!("signal {sig}"), |(_, name)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm() {
        let s = "Name:\tbash\nVmPeak:\t  10000 kB\nVmHWM:\t    3412 kB\nVmRSS:\t 3000 kB\n";
        assert_eq!(parse_status_kb(s, "VmHWM:"), Some(3412 * 1024));
        assert_eq!(parse_status_kb("Name: x\n", "VmHWM:"), None);
        assert!(peak_rss(std::process::id()).unwrap() > 0);
        let own = status_kb(std::process::id(), "VmRSS:").unwrap();
        assert!(tree_rss(std::process::id()) >= own);
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(99), "signal 99");
    }

    #[test]
    fn refuses_dangerous_groups() {
        assert!(kill_group(0).is_err());
        assert!(kill_group(1).is_err());
        assert!(kill_group(u32::MAX).is_err());
        assert!(signal_process(0, libc::SIGKILL).is_err());
        assert!(signal_process(1, libc::SIGKILL).is_err());
    }
}
