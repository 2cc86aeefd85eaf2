//! The few Linux calls std does not wrap: `poll`, signals to a process
//! group, `waitpid` on a group, the child-subreaper flag and CPU affinity,
//! through the `libc` crate's declarations; every `unsafe` block is in this
//! file.

use std::io;
use std::os::fd::RawFd;

pub use libc::{SIGKILL, SIGTERM};

/// A reusable poll set: `fds` are watched for input; after [`Poller::wait`],
/// [`Poller::ready`] says which of them have input, EOF or an error.
#[derive(Default)]
pub struct Poller {
    set: Vec<libc::pollfd>,
}

impl Poller {
    pub fn clear(&mut self) {
        self.set.clear();
    }

    pub fn add(&mut self, fd: RawFd) {
        self.set.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
    }

    /// Waits up to `timeout_ms` for input on any fd. Returns how many are
    /// ready (0 on timeout; an interrupted wait counts as a timeout).
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<usize> {
        // SAFETY: `set` is a live, initialised slice of `repr(C)` pollfd
        // records and its length is passed with it; poll writes only the
        // `revents` fields within it.
        let n = unsafe { libc::poll(self.set.as_mut_ptr(), self.set.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted { Ok(0) } else { Err(err) };
        }
        Ok(n as usize)
    }

    /// Whether entry `i` (in the order added) has input, EOF or an error.
    pub fn ready(&self, i: usize) -> bool {
        self.set[i].revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0
    }
}

/// Sends `sig` to every process of the process group `pgid`.
pub fn kill_group(pgid: u32, sig: i32) {
    // SAFETY: kill has no memory effects; a group that is already gone
    // yields ESRCH, which is fine here.
    unsafe { libc::kill(-(pgid as i32), sig) };
}

/// Whether the process `pid` (a child of ours) has exited; reaps it if so
/// and returns its raw wait status.
pub fn try_reap(pid: u32) -> Option<i32> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer for the duration of the call.
    let r = unsafe { libc::waitpid(pid as i32, &mut status, libc::WNOHANG) };
    (r == pid as i32).then_some(status)
}

/// Page faults of the processes reaped by [`reap_group`]: each process's
/// own, plus those of the children it had reaped itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub minor: u64,
    pub major: u64,
}

/// Reaps every process of group `pgid` that is (or becomes, by
/// re-parenting to this subreaper) a child of ours, blocking until none is
/// left, and adds up their page faults. Call after killing the group.
pub fn reap_group(pgid: u32) -> Faults {
    let mut status = 0;
    let mut total = Faults::default();
    loop {
        // SAFETY: rusage is plain integers, for which all-zero is valid.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `ru` are valid out-pointers for the duration
        // of the call, and `libc::rusage` has the C library's layout.
        let r = unsafe { libc::wait4(-(pgid as i32), &mut status, 0, &mut ru) };
        if r < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return total; // ECHILD: nothing left in the group
        }
        total.minor += ru.ru_minflt as u64;
        total.major += ru.ru_majflt as u64;
    }
}

/// Makes this process the reaper of its orphaned descendants, so that the
/// helpers a contender spawns (bash's curl) are reaped here when their
/// parent is killed, instead of piling up as zombies.
pub fn become_subreaper() {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument and touches
    // no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) };
}

/// Restricts this process (and the children it spawns from now on) to the
/// highest-numbered CPU it may run on; returns that CPU.
pub fn pin_to_last_cpu() -> io::Result<usize> {
    // SAFETY: cpu_set_t is a plain bit array, for which all-zero is valid.
    let mut mask: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `mask` is a writable cpu_set_t of the size passed.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&mask), &mut mask) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let cpu = (0..libc::CPU_SETSIZE as usize)
        .rev()
        // SAFETY: CPU_ISSET reads one bit of the set; `c` is below CPU_SETSIZE.
        .find(|&c| unsafe { libc::CPU_ISSET(c, &mask) })
        .ok_or_else(|| io::Error::other("empty CPU affinity mask"))?;
    // SAFETY: as for `mask`.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit of the set; `cpu` is below CPU_SETSIZE.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    // SAFETY: `one` is a readable cpu_set_t of the size passed.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&one), &one) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cpu)
}

/// Decodes a raw wait status for messages: "exit 3" or "signal 9".
pub fn describe_status(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit {}", libc::WEXITSTATUS(status))
    } else {
        format!("signal {}", libc::WTERMSIG(status))
    }
}
