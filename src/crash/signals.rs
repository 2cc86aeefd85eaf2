//! The signal half of crash reports (cargo feature `crash`): the handler
//! for the fault signals, on its own stack, that names the signal and
//! makes the report, and the post of a report (see the parent module's
//! docs). Without the feature, a bootstrap reports panics on stderr only
//! and dies by a fault signal as it would without this runtime.
#![allow(unsafe_code)]

use super::{finish, name, take_scene, Post, BODY_ROOM, QUIET, REPORTED, REPORTING, STATE};
use crate::diag::{pick, put, Arg, Line};
use crate::http::wire;
use crate::sys::{self, OwnedFd, SigAction};
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How long a report waits for the runtime API to answer its post before
/// the process goes.
pub const ANSWER_WAIT_MS: i32 = 1000;

/// The signals reported: every one whose default action is to dump core
/// and that a fault in user code raises (SIGQUIT, the other, is only ever
/// sent).
const SIGNALS: [c_int; 7] =
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT, libc::SIGTRAP, libc::SIGSYS];

/// The alternate signal stack. The kernel's signal frame takes up to about
/// 3.5 KiB on x86_64 with AVX-512 state (less without), and the handler
/// about 2 KiB (the 1 KiB line, the request's iovecs, a 64-byte read
/// buffer, the calls); 16 KiB leaves room for both with margin. It is
/// `.bss`: no bytes in the file, and no page touched unless a signal comes.
static mut ALT_STACK: [u8; 16 << 10] = [0; 16 << 10];

/// Installs the signal handler for the seven signals, on an alternate
/// stack (so that a stack overflow is reported too). Once per process (see
/// [`super::arm`]): one `sigaltstack`, one `getpid` (see [`PID`]), one
/// `rt_sigaction` per signal. An action found installed that calls a
/// function (std's SIGSEGV and SIGBUS handlers, installed before `main`; a
/// C constructor's) is kept in [`PREVIOUS`] and called first when its
/// signal comes (see [`on_signal`]); one found set to `SIG_IGN` is put
/// back.
pub fn install() {
    // SAFETY: the one reference ever made to the static, here, once per
    // process (arming runs once: `super::arm`'s callers).
    sys::sigaltstack(unsafe { &mut *core::ptr::addr_of_mut!(ALT_STACK) });
    // (A failure leaves the handler on the normal stack, which still
    // reports everything but a stack overflow.)
    PID.store(sys::getpid(), Ordering::Relaxed);
    // Every signal blocked while the report is made: a fault inside the
    // handler then ends the process at once, with the default action.
    let act = SigAction::new(
        on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize,
        libc::SA_SIGINFO | libc::SA_ONSTACK,
        !0,
    );
    for (&sig, prev) in SIGNALS.iter().zip(&PREVIOUS) {
        // SAFETY: on_signal has the SA_SIGINFO signature and is
        // async-signal-safe.
        let old = unsafe { sys::rt_sigaction(sig, Some(&act)) };
        if old.calls() {
            prev.flags.store(old.flags, Ordering::Relaxed);
            prev.handler.store(old.handler, Ordering::Release);
        } else if old.handler == libc::SIG_IGN {
            // SAFETY: an action read back from the kernel.
            unsafe { sys::rt_sigaction(sig, Some(&old)) };
        }
    }
}

/// The process that armed the reports. A child that a handler forks (and
/// that does not exec) inherits the signal handler and a copy of the
/// scene, but the runtime, and the connection it shares, are its parent's:
/// a report from it would post on the parent's connection, in the middle
/// of the parent's own requests. A crash in such a child ends it as it
/// would have without the runtime.
static PID: AtomicUsize = AtomicUsize::new(0);

/// An action installed before [`install`] that calls a function.
struct Previous {
    /// The function; 0 for none.
    handler: AtomicUsize,
    flags: AtomicU64,
}

/// The actions found installed for [`SIGNALS`], in their order.
static PREVIOUS: [Previous; 7] = [const { Previous { handler: AtomicUsize::new(0), flags: AtomicU64::new(0) } }; 7];

/// Installs the default action for `sig`.
pub(super) fn set_default(sig: c_int) {
    // SAFETY: the default action runs no code.
    unsafe { sys::rt_sigaction(sig, Some(&SigAction::DEFAULT)) };
}

/// The signal handler. With an action that was installed before [`install`]
/// for the signal, that action is called first: a handler's runtime may
/// use the signal itself (a wasm engine or a garbage collector that
/// handles its own faults and goes on), and std's handler is there to
/// name a stack overflow. If it returns having set the default action,
/// it declined the signal (std's way for a fault that is not a stack
/// overflow it knows), and the report is made; if a function is still
/// installed (this one, or one it installed), it handled the signal, and
/// the handler returns.
///
/// One exception: a fault next to the stack pointer, on a thread other
/// than the main one, is reported first. It is a stack overflow, and
/// std's handler, the one a std thread's fault meets, prints its own line
/// for it and aborts, which would leave the report unmade.
extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo_t and ucontext_t for an
    // SA_SIGINFO handler.
    let (si, uc) = unsafe { (&*info, &*(uctx as *const libc::ucontext_t)) };
    let forked = sys::getpid() != PID.load(Ordering::Relaxed);
    let previous = SIGNALS.iter().position(|&s| s == sig).and_then(|i| PREVIOUS.get(i));
    if let Some(p) = previous.filter(|p| p.handler.load(Ordering::Acquire) != 0) {
        let overflow = stack_overflow(sig, si, stack_pointer(uc));
        if (forked || !overflow || sys::gettid() == PID.load(Ordering::Relaxed)) && chain(sig, p, info, uctx) {
            return;
        }
    }
    if !forked {
        match STATE.swap(REPORTING, Ordering::AcqRel) {
            QUIET => report_signal(sig, si, uc),
            // Another thread is reporting and will end the process; give
            // it the time it may need.
            REPORTING => sys::sleep_ms(3 * ANSWER_WAIT_MS as u64),
            _ => {}
        }
        STATE.store(REPORTED, Ordering::Release);
    }
    set_default(sig);
    // The signal is blocked until this handler returns, and then delivered.
    sys::tkill(sys::gettid(), sig);
}

/// Calls `p`, the action installed for `sig` before [`install`], as the kernel
/// would have; returns whether it handled the signal (see [`on_signal`]).
fn chain(sig: c_int, p: &Previous, info: *mut libc::siginfo_t, uctx: *mut c_void) -> bool {
    let (handler, flags) = (p.handler.load(Ordering::Acquire), p.flags.load(Ordering::Relaxed));
    if flags & libc::SA_RESETHAND as u64 != 0 {
        // A one-shot action: the kernel would have reset it before the call.
        set_default(sig);
    }
    // SAFETY: `handler` was installed for `sig` with `flags`, so it is a
    // function with the signature they say, made to be called for this
    // signal with the kernel's siginfo and context, which these are.
    unsafe {
        if flags & libc::SA_SIGINFO as u64 != 0 {
            let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) = core::mem::transmute(handler);
            f(sig, info, uctx);
        } else {
            let f: extern "C" fn(c_int) = core::mem::transmute(handler);
            f(sig);
        }
    }
    // SAFETY: reading the action back installs nothing.
    unsafe { sys::rt_sigaction(sig, None) }.calls()
}

fn report_signal(sig: c_int, info: &libc::siginfo_t, uctx: &libc::ucontext_t) {
    let mut l = Line::new();
    let scene = take_scene();
    if let Some(s) = scene {
        name(&mut l, s);
        put!(l, " crashed: ");
    }
    describe(&mut l, sig, info, stack_pointer(uctx));
    if scene.is_none() {
        put!(l, " outside any handler");
    }
    finish(&mut l, scene);
}

/// What the kernel says about the signal: its name and what caused it.
fn describe(l: &mut Line, sig: c_int, info: &libc::siginfo_t, sp: usize) {
    put!(l, "{} (", Arg::Bytes(signal_name(sig)));
    let code = info.si_code;
    // SAFETY: for these signals the kernel fills si_addr for a fault (code
    // > 0) and si_pid for a signal sent by a process (code <= 0); the
    // other field's bytes are still initialised memory of the union.
    let (addr, pid) = unsafe { (info.si_addr() as usize, info.si_pid()) };
    if code <= 0 {
        // SAFETY: getpid has no preconditions.
        if pid == unsafe { libc::getpid() } {
            l.str(if sig == libc::SIGABRT { "abort() called" } else { "raised by the process itself" });
        } else {
            put!(l, "sent by process {}", Arg::Int(pid.into()));
        }
    } else {
        let what = match sig {
            libc::SIGSEGV if stack_overflow(sig, info, sp) => "stack overflow",
            libc::SIGSEGV => "invalid memory access",
            libc::SIGBUS => "bus error",
            libc::SIGILL => "illegal instruction",
            libc::SIGFPE if code == FPE_INTDIV => "integer divide by zero",
            libc::SIGFPE if code == FPE_INTOVF => "integer overflow",
            libc::SIGFPE => "arithmetic exception",
            libc::SIGTRAP => "trace or breakpoint trap",
            libc::SIGSYS => "system call refused",
            _ => "abort",
        };
        if code != libc::SI_KERNEL {
            put!(l, "{} at address 0x{}", Arg::Str(what), Arg::Hex(addr as u64));
        } else if sig == libc::SIGSEGV {
            // A general protection fault (a non-canonical address, say):
            // the kernel gives no address. (A breakpoint, int3, comes as
            // SIGTRAP from the kernel too, with none to give.)
            put!(l, "{}, address not reported", Arg::Str(what));
        } else {
            l.str(what);
        }
    }
    put!(l, ")");
}

/// The name of a signal of [`SIGNALS`] (the last one's for any other).
fn signal_name(sig: c_int) -> &'static [u8] {
    // In the order of SIGNALS.
    const NAMES: &[u8] = b"SIGSEGV\0SIGBUS\0SIGILL\0SIGFPE\0SIGABRT\0SIGTRAP\0SIGSYS";
    pick(NAMES, SIGNALS.iter().position(|&s| s == sig).unwrap_or(SIGNALS.len() - 1))
}

/// Whether the signal is a fault within 64 KiB of the stack pointer `sp`,
/// which can only be the stack running into its guard page.
fn stack_overflow(sig: c_int, info: &libc::siginfo_t, sp: usize) -> bool {
    // SAFETY: for a fault (code > 0) the kernel fills si_addr; otherwise
    // the bytes read are still initialised memory of the union.
    let addr = unsafe { info.si_addr() } as usize;
    sig == libc::SIGSEGV && info.si_code > 0 && info.si_code != libc::SI_KERNEL && addr.abs_diff(sp) < 64 << 10
}

const FPE_INTDIV: c_int = 1;
const FPE_INTOVF: c_int = 2;

/// The interrupted code's stack pointer (0 where unknown).
fn stack_pointer(uctx: &libc::ucontext_t) -> usize {
    #[cfg(target_arch = "x86_64")]
    return uctx.uc_mcontext.gregs[libc::REG_RSP as usize] as usize;
    #[cfg(target_arch = "aarch64")]
    return uctx.uc_mcontext.sp as usize;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return 0;
}

/// Writes the report `line` as `p` says: the head, the length of the body
/// `p.body` makes of the line, the blank line and the body, on the kept
/// connection, or, if it is closed (or turns out to be), once on a new one
/// to `p.reconnect`. With `p.answered`, waits up to [`ANSWER_WAIT_MS`] for
/// the peer's first bytes, so that it reads the post before the process
/// (and its socket) goes, and gives up, without resending, when none come.
pub fn post(p: &Post, line: &[u8]) {
    let mut digits = itoa::Buffer::new();
    let mut room = [0u8; BODY_ROOM];
    let body = (p.body)(line, &mut room);
    let mut pieces: [&[u8]; wire::PIECES] = [b""; wire::PIECES];
    let n = wire::message(&mut pieces, p.head, &mut digits, &body);
    let message = pieces.get(..n).unwrap_or_default();
    if let Some(fd) = p.conn {
        if exchange(fd, message, p.answered) != Some(false) {
            return;
        }
    }
    if let Some(fd) = p.reconnect.and_then(|addrs| addrs.iter().find_map(|a| sys::connect(a).ok())) {
        exchange(&fd, message, p.answered);
    }
}

/// Sends `message` and, if `answered`, waits for the first bytes of the
/// answer: `Some(true)` sent (and answered), `Some(false)` the connection
/// is closed, `None` no answer in time.
fn exchange(fd: &OwnedFd, message: &[&[u8]], answered: bool) -> Option<bool> {
    if sys::send_all(fd, message).is_err() {
        return Some(false);
    }
    if !answered {
        return Some(true);
    }
    if !sys::poll_in(fd, ANSWER_WAIT_MS) {
        return None;
    }
    Some(matches!(sys::read(fd, &mut [0u8; 64]), Ok(n) if n > 0))
}

#[cfg(test)]
mod signal_names {
    use super::*;

    #[test]
    fn each_reported_signal_is_named() {
        let names = SIGNALS.map(|s| core::str::from_utf8(signal_name(s)).unwrap());
        assert_eq!(names, ["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS"]);
        assert_eq!(
            SIGNALS,
            [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT, libc::SIGTRAP, libc::SIGSYS]
        );
    }
}
