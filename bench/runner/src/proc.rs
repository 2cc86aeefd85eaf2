//! Starting a contender the way SCF does, stopping it, and reading its
//! memory high-water mark.
//!
//! Each contender runs in its own process group, so that one signal stops
//! it together with any helper it spawned (bash's curl, cut, mktemp), and
//! the runner is the subreaper of those helpers so none is left behind.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::sys;

/// A started contender: the pid of its first process (also its process
/// group id) and the time taken just before it was spawned.
pub struct Started {
    pub pid: u32,
    pub at: Instant,
}

/// Spawns `argv` in `dir` with exactly the environment `env`, stdin from
/// /dev/null, stdout to /dev/null and stderr to `stderr`. Everything that
/// can be prepared is prepared before the clock is read; the timestamp is
/// taken immediately before the spawn (fork + exec).
pub fn start(dir: &Path, argv: &[&OsStr], env: &[(String, String)], stderr: Stdio) -> io::Result<Started> {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0);
    let at = Instant::now();
    let child = cmd.spawn()?;
    // The child is reaped by pid through `sys`, not through `Child`.
    Ok(Started { pid: child.id(), at })
}

/// Sends `sig` to the contender's whole process group, reaps all of it,
/// and returns the page faults of its processes.
pub fn stop(pid: u32, sig: i32) -> sys::Faults {
    sys::kill_group(pid, sig);
    sys::reap_group(pid)
}

/// The sum of `VmHWM` (peak resident set) over the live processes of
/// process group `pgid`, in KiB, and how many processes that was.
pub fn group_peak_rss_kib(pgid: u32) -> (u64, usize) {
    let mut total = 0;
    let mut count = 0;
    let Ok(dir) = fs::read_dir("/proc") else { return (0, 0) };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if process_group(pid) != Some(pgid) {
            continue;
        }
        if let Some(kib) = peak_rss_kib(pid) {
            total += kib;
            count += 1;
        }
    }
    (total, count)
}

/// `VmHWM` of one process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// The process group of `pid`, from /proc/PID/stat (the fifth field; the
/// command name in parentheses may itself contain spaces and parentheses,
/// so fields are counted from the last ')').
fn process_group(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // state, ppid, pgrp
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_peak_rss_and_group() {
        let me = std::process::id();
        assert!(peak_rss_kib(me).unwrap() > 100);
        assert!(process_group(me).is_some());
    }

    #[test]
    fn starts_and_stops_a_process_group_with_a_grandchild() {
        sys::become_subreaper();
        let sh = OsStr::new("/bin/sh");
        let argv = [sh, OsStr::new("-c"), OsStr::new("sleep 30 & sleep 30; exit 0")];
        let started = start(Path::new("/"), &argv, &[("PATH".into(), "/usr/bin:/bin".into())], Stdio::null()).unwrap();
        // Wait until the group has its three processes (sh and two sleeps).
        let t = Instant::now();
        while group_peak_rss_kib(started.pid).1 < 3 {
            assert!(t.elapsed().as_secs() < 10, "the group never had three processes");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(group_peak_rss_kib(started.pid).0 > 0);
        stop(started.pid, sys::SIGKILL);
        assert_eq!(group_peak_rss_kib(started.pid).1, 0, "a process of the group survived");
    }
}
