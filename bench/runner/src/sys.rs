//! The few Linux calls std does not wrap: `poll`, signals to a process
//! group, `waitpid` on a group, and the child-subreaper flag. Declared here
//! against the C library std already links; every `unsafe` block is in this
//! file.

use std::io;
use std::os::fd::RawFd;

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn prctl(option: i32, ...) -> i32;
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
}

/// `cpu_set_t`: 1024 bits.
const CPU_WORDS: usize = 16;

/// `struct rusage` of x86_64 Linux: two timevals, then fourteen longs.
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    ixrss: i64,
    idrss: i64,
    isrss: i64,
    minflt: i64,
    majflt: i64,
    rest: [i64; 8],
}

const POLLIN: i16 = 0x1;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;
const WNOHANG: i32 = 1;
const PR_SET_CHILD_SUBREAPER: i32 = 36;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

/// A reusable poll set: `fds` are watched for input; after [`Poller::wait`],
/// [`Poller::ready`] says which of them have input, EOF or an error.
#[derive(Default)]
pub struct Poller {
    set: Vec<PollFd>,
}

impl Poller {
    pub fn clear(&mut self) {
        self.set.clear();
    }

    pub fn add(&mut self, fd: RawFd) {
        self.set.push(PollFd { fd, events: POLLIN, revents: 0 });
    }

    /// Waits up to `timeout_ms` for input on any fd. Returns how many are
    /// ready (0 on timeout; an interrupted wait counts as a timeout).
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<usize> {
        // SAFETY: `set` is a live, initialised slice of `repr(C)` pollfd
        // records and its length is passed with it; poll writes only the
        // `revents` fields within it.
        let n = unsafe { poll(self.set.as_mut_ptr(), self.set.len() as u64, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted { Ok(0) } else { Err(err) };
        }
        Ok(n as usize)
    }

    /// Whether entry `i` (in the order added) has input, EOF or an error.
    pub fn ready(&self, i: usize) -> bool {
        self.set[i].revents & (POLLIN | POLLERR | POLLHUP) != 0
    }
}

/// Sends `sig` to every process of the process group `pgid`.
pub fn kill_group(pgid: u32, sig: i32) {
    // SAFETY: kill has no memory effects; a group that is already gone
    // yields ESRCH, which is fine here.
    unsafe { kill(-(pgid as i32), sig) };
}

/// Whether the process `pid` (a child of ours) has exited; reaps it if so
/// and returns its raw wait status.
pub fn try_reap(pid: u32) -> Option<i32> {
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer for the duration of the call.
    let r = unsafe { waitpid(pid as i32, &mut status, WNOHANG) };
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
        let mut ru = Rusage::default();
        // SAFETY: `status` and `ru` are valid out-pointers for the duration
        // of the call, and `Rusage` has the kernel's layout.
        let r = unsafe { wait4(-(pgid as i32), &mut status, 0, &mut ru) };
        if r < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return total; // ECHILD: nothing left in the group
        }
        total.minor += ru.minflt as u64;
        total.major += ru.majflt as u64;
    }
}

/// Makes this process the reaper of its orphaned descendants, so that the
/// helpers a contender spawns (bash's curl) are reaped here when their
/// parent is killed, instead of piling up as zombies.
pub fn become_subreaper() {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument and touches
    // no memory of ours.
    unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1u64) };
}

/// Restricts this process (and the children it spawns from now on) to the
/// highest-numbered CPU it may run on; returns that CPU.
pub fn pin_to_last_cpu() -> io::Result<usize> {
    let mut mask = [0u64; CPU_WORDS];
    // SAFETY: `mask` is a writable buffer of the size passed.
    if unsafe { sched_getaffinity(0, std::mem::size_of_val(&mask), mask.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let cpu = (0..CPU_WORDS * 64)
        .rev()
        .find(|&c| mask[c / 64] & (1 << (c % 64)) != 0)
        .ok_or_else(|| io::Error::other("empty CPU affinity mask"))?;
    let mut one = [0u64; CPU_WORDS];
    one[cpu / 64] = 1 << (cpu % 64);
    // SAFETY: `one` is a readable buffer of the size passed.
    if unsafe { sched_setaffinity(0, std::mem::size_of_val(&one), one.as_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cpu)
}

/// Decodes a raw wait status for messages: "exit 3" or "signal 9".
pub fn describe_status(status: i32) -> String {
    if status & 0x7f == 0 {
        format!("exit {}", (status >> 8) & 0xff)
    } else {
        format!("signal {}", status & 0x7f)
    }
}
