//! Crash reports: a handler that dies by a fault signal or panics is
//! reported in words, on the error endpoint and on stderr, before the
//! process ends the way it would have without this module.
//!
//! Before it calls user code the runtime publishes a [`Scene`] (which hook
//! or handler runs, for which request, and how to reach the runtime API)
//! with [`during`]. When SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP
//! or SIGSYS arrives, [`arm`]'s signal handler, running on its own stack,
//! takes that scene and:
//!
//! - during a handler: writes one line to stderr and posts it to the error
//!   endpoint, `handler 'NAME' crashed: SIGSEGV (invalid memory access at
//!   address 0x0) while handling request ID`, on the kept connection (a
//!   new one if it was closed), then waits up to [`ANSWER_WAIT_MS`] for the
//!   API's answer, so that the post is read before the socket is reset;
//! - during the init hook: the line on stderr only (there is no invocation
//!   to fail, and ready was not reported);
//! - at any other time (idle in the long poll, or a runtime bug): a line
//!   on stderr, no post.
//!
//! It then restores the default action and raises the signal again, so the
//! process still dies by that signal, with a core dump where enabled: the
//! signal is blocked while the handler runs, so it stays pending until the
//! handler returns, and is delivered then (for a fault, before the faulting
//! instruction runs again).
//!
//! Everything in the signal handler is async-signal-safe: no allocation, no
//! lock, no `core::fmt`; the line is built in a fixed buffer ([`Line`]) and
//! the request is [`wire::request`]'s pieces sent with one `sendmsg`.
//!
//! A Rust panic ([`panicked`], the `#[panic_handler]` of [`crate::entry!`])
//! reports the same way with the panic's message and location (formatted
//! with `core::fmt` into the same fixed buffer: a panic is not a signal
//! handler), then aborts; the SIGABRT that follows is not reported again.
//!
//! An action installed for one of these signals before [`arm`] runs (std's
//! SIGSEGV and SIGBUS handlers, installed before `main`; a C
//! constructor's) is called first, and what it declines is reported (see
//! [`on_signal`]). A child that a handler forks without exec inherits the
//! signal handler, and is never reported from (see [`PID`]). Arming also
//! catches SIGPIPE ([`sys::catch_sigpipe`]), so that a log pipe whose
//! reader has gone costs no invocation; std handlers' panics are reported
//! by a panic hook ([`panicked_std`], installed by `std_api::run`).
//!
//! Not reported: SIGKILL (the platform's timeout or memory limit), an
//! infinite loop (SCF's invocation timeout ends it), these signals while
//! a handler has installed its own action for them (its own handler takes
//! over) or blocked them (the kernel ends the process at once), and a
//! stack overflow in a thread without an alternate signal stack.
#![allow(unsafe_code)]

use crate::diag::{pick, put, Arg, Line};
use crate::ffi::Entry;
#[cfg(feature = "lambda")]
use crate::http::wire;
use crate::http::Peer;
use crate::sys::{self, OwnedFd, SigAction};
use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// How long the signal handler waits for the runtime API to answer its
/// post before the process goes.
pub const ANSWER_WAIT_MS: i32 = 1000;

/// The signals reported: every one whose default action is to dump core
/// and that a fault in user code raises (SIGQUIT, the other, is only ever
/// sent).
const SIGNALS: [c_int; 7] =
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT, libc::SIGTRAP, libc::SIGSYS];

/// What user code is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Init,
    Handler,
}

/// What a crash report needs, prepared before user code is called.
pub struct Scene<'a> {
    pub act: Act,
    /// The handler's record (its name is measured only for a report).
    pub handler: &'a Entry,
    /// The request being handled (empty in the init hook).
    pub request_id: &'a [u8],
    /// Where to post the report; `None` to report on stderr only (SCF's
    /// init hook: there is no invocation to fail and no init error route).
    pub post: Option<Post<'a>>,
}

/// A crash report's request, prepared before user code is called.
#[derive(Clone, Copy)]
pub struct Post<'a> {
    /// The runtime API: its kept connection, Host tail and addresses.
    pub peer: Peer<'a>,
    /// The request line and any fields before `Host: `, in pieces: SCF's
    /// error route's constant line; on Lambda the method, path prefix, path
    /// with the request id (its stack copy) and the error-type field.
    pub line: &'a [&'a [u8]],
    /// The body is Lambda's error object, `{"errorMessage": LINE,
    /// "errorType": "Runtime.Crash"}` (the line JSON-escaped), rather than
    /// the line itself.
    #[cfg(feature = "lambda")]
    pub json: bool,
}

/// The scene while user code runs; null otherwise, and null once a report
/// has taken it.
static SCENE: AtomicPtr<Scene<'static>> = AtomicPtr::new(core::ptr::null_mut());

/// Whether a report has been made: the first report (signal or panic)
/// takes [`REPORTING`]; [`REPORTED`] tells the SIGABRT of a reported panic
/// not to speak again.
static STATE: AtomicU8 = AtomicU8::new(QUIET);
const QUIET: u8 = 0;
const REPORTING: u8 = 1;
const REPORTED: u8 = 2;

/// Runs `f` with `scene` published to the crash reports.
pub fn during<R>(scene: &Scene, f: impl FnOnce() -> R) -> R {
    SCENE.store(scene as *const Scene as *mut Scene<'static>, Ordering::Release);
    let r = f();
    if SCENE.swap(core::ptr::null_mut(), Ordering::AcqRel).is_null() {
        // A crash in another thread of the handler's has taken the scene
        // and is reading it: it ends the process. Until then the scene
        // must stay alive, so this thread does not go on.
        loop {
            sys::sleep_ms(1000);
        }
    }
    r
}

/// The alternate signal stack. The kernel's signal frame takes up to about
/// 3.5 KiB on x86_64 with AVX-512 state (less without), and the handler
/// about 2 KiB (the 1 KiB line, the request's iovecs, a 64-byte read
/// buffer, the calls); 16 KiB leaves room for both with margin. It is
/// `.bss`: no bytes in the file, and no page touched unless a signal comes.
static mut ALT_STACK: [u8; 16 << 10] = [0; 16 << 10];

/// Installs the signal handler for the seven signals, on an alternate stack (so
/// that a stack overflow is reported too), and catches SIGPIPE
/// ([`sys::catch_sigpipe`]). Once per process: one `sigaltstack`, one
/// `getpid` (see [`PID`]), one `rt_sigaction` per signal and the SIGPIPE
/// one. An action found installed that calls a function (std's SIGSEGV and
/// SIGBUS handlers, installed before `main`; a C constructor's) is kept in
/// [`PREVIOUS`] and called first when its signal comes (see
/// [`on_signal`]); one found set to `SIG_IGN` is put back.
pub fn arm() {
    let ss = libc::stack_t {
        ss_sp: core::ptr::addr_of_mut!(ALT_STACK).cast::<c_void>(),
        ss_flags: 0,
        ss_size: core::mem::size_of::<[u8; 16 << 10]>(),
    };
    // SAFETY: ss describes a static buffer that nothing else uses; a
    // failure leaves the handler on the normal stack, which still reports
    // everything but a stack overflow.
    unsafe { syscall4(libc::SYS_sigaltstack, &ss as *const libc::stack_t as usize, 0, 0, 0) };
    PID.store(getpid(), Ordering::Relaxed);
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
    sys::catch_sigpipe();
}

/// The process that armed the reports. A child that a handler forks (and
/// that does not exec) inherits the signal handler and a copy of the
/// scene, but the runtime, and the connection it shares, are its parent's:
/// a report from it would post on the parent's connection, in the middle
/// of the parent's own requests. A crash in such a child ends it as it
/// would have without the runtime.
static PID: AtomicUsize = AtomicUsize::new(0);

/// An action installed before [`arm`] that calls a function.
struct Previous {
    /// The function; 0 for none.
    handler: AtomicUsize,
    flags: AtomicU64,
}

/// The actions found installed for [`SIGNALS`], in their order.
static PREVIOUS: [Previous; 7] = [const { Previous { handler: AtomicUsize::new(0), flags: AtomicU64::new(0) } }; 7];

fn getpid() -> usize {
    // SAFETY: getpid has no arguments and no effects.
    unsafe { syscall4(libc::SYS_getpid, 0, 0, 0, 0) }
}

fn gettid() -> usize {
    // SAFETY: as for getpid.
    unsafe { syscall4(libc::SYS_gettid, 0, 0, 0, 0) }
}

/// Installs the default action for `sig`.
fn set_default(sig: c_int) {
    // SAFETY: the default action runs no code.
    unsafe { sys::rt_sigaction(sig, Some(&SigAction::DEFAULT)) };
}

/// A system call with up to four arguments, inline (see [`sys::syscall`]):
/// musl's variadic `syscall()` would cost about 30 instructions a call,
/// and arming makes eight on the cold path. Returns the raw result (a
/// negative errno on failure).
///
/// # Safety
/// The arguments must be what system call `nr` expects.
#[inline(always)]
unsafe fn syscall4(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> usize {
    // SAFETY: forwarded from the caller.
    (unsafe { sys::syscall!(nr, a, b, c, d) }) as usize
}

/// The signal handler. With an action that was installed before [`arm`]
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
    let forked = getpid() != PID.load(Ordering::Relaxed);
    let previous = SIGNALS.iter().position(|&s| s == sig).and_then(|i| PREVIOUS.get(i));
    if let Some(p) = previous.filter(|p| p.handler.load(Ordering::Acquire) != 0) {
        let overflow = stack_overflow(sig, si, stack_pointer(uc));
        if (forked || !overflow || gettid() == PID.load(Ordering::Relaxed)) && chain(sig, p, info, uctx) {
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
    // SAFETY: gettid and tkill are plain system calls; the signal is
    // blocked until this handler returns, and then delivered.
    unsafe { syscall4(libc::SYS_tkill, gettid(), sig as usize, 0, 0) };
}

/// Calls `p`, the action installed for `sig` before [`arm`], as the kernel
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

/// The `#[panic_handler]` of a bootstrap (see [`crate::entry!`]).
pub fn panicked(info: &core::panic::PanicInfo) -> ! {
    report_panic(info, true)
}

/// The `#[panic_handler]` of a bootstrap whose only Rust code is the
/// runtime's (C and Zig handlers; src/main.rs): a message given as a plain
/// string is reported, a formatted one is not formatted. That leaves
/// `core::fmt`'s number and padding code, and what the runtime's own panic
/// sites would format, out of the binary (about 1 KiB); a runtime panic is
/// a bug, and its location says where.
pub fn panicked_plain(info: &core::panic::PanicInfo) -> ! {
    report_panic(info, false)
}

#[inline(always)]
fn report_panic(info: &core::panic::PanicInfo, format: bool) -> ! {
    report_panic_at(info.location(), None, |l| {
        let message = info.message();
        match message.as_str() {
            Some(s) => _ = put!(l, ": {}", Arg::Str(s)),
            None if format => _ = core::fmt::write(&mut Text(put!(l, ": ")), format_args!("{message}")),
            None => _ = put!(l, " (a formatted message, which this build does not format)"),
        }
    });
    abort()
}

/// A panic in a handler crate with std, from the panic hook that
/// `std_api::run` installs, when the panic ends the process (`panic =
/// "abort"`): reported as [`panicked`] reports one, with the message std
/// formatted (`None`: the payload is not a string), then back to std,
/// which aborts; the SIGABRT is not reported again. Outside any handler
/// the line names the thread (`thread` is its name, if it has one).
#[cfg(feature = "std")]
pub fn panicked_std(location: Option<&core::panic::Location>, message: Option<&str>, thread: Option<&str>) {
    report_panic_at(location, Some(thread.unwrap_or("<unnamed>")), |l| match message {
        Some(m) => _ = put!(l, ": {}", Arg::Str(m)),
        None => _ = put!(l, ": Box<dyn Any>"),
    });
}

/// The report of a panic at `at` whose message `message` appends; outside
/// any handler, from the thread named `thread` (std) or from the runtime.
#[inline(always)]
fn report_panic_at(at: Option<&core::panic::Location>, thread: Option<&str>, message: impl FnOnce(&mut Line)) {
    if STATE.swap(REPORTING, Ordering::AcqRel) == QUIET {
        let mut l = Line::new();
        let scene = take_scene();
        match (scene, thread) {
            (Some(s), _) => name(&mut l, s),
            (None, Some(t)) => _ = put!(l, "thread {}", Arg::Quoted(t.as_bytes())),
            (None, None) => _ = put!(l, "internal error: the runtime"),
        }
        put!(l, " panicked");
        if let Some(at) = at {
            let (line, column) = (at.line().into(), at.column().into());
            put!(l, " at {}:{}:{}", Arg::Str(at.file()), Arg::Num(line), Arg::Num(column));
        }
        message(&mut l);
        if scene.is_none() && thread.is_some() {
            put!(l, " outside any handler");
        }
        finish(&mut l, scene);
        STATE.store(REPORTED, Ordering::Release);
    }
}

/// Ends the process by SIGABRT, as `abort(3)` does: raised once (a handler
/// the program installed runs; the armed one stays quiet once a report is
/// made), then, if the process is still there (that handler returned, or
/// the signal was blocked or ignored), raised again with the default
/// action and unblocked. Not musl's `abort`, which brings `raise` and
/// signal-mask helpers with it (about 300 bytes) for the same system calls.
fn abort() -> ! {
    // SAFETY: plain system calls on this thread and its signal state; the
    // mask is the kernel's 8 bytes.
    unsafe {
        let tid = syscall4(libc::SYS_gettid, 0, 0, 0, 0);
        syscall4(libc::SYS_tkill, tid, libc::SIGABRT as usize, 0, 0);
        set_default(libc::SIGABRT);
        syscall4(libc::SYS_tkill, tid, libc::SIGABRT as usize, 0, 0);
        let abrt: u64 = 1 << (libc::SIGABRT - 1);
        syscall4(libc::SYS_rt_sigprocmask, libc::SIG_UNBLOCK as usize, &abrt as *const u64 as usize, 0, 8);
        // Not reached: the unblocked SIGABRT ends the process. As musl's
        // abort does last, exit with status 127.
        syscall4(libc::SYS_exit_group, 127, 0, 0, 0);
    }
    loop {
        sys::sleep_ms(1000);
    }
}

/// `core::fmt` output into a line.
struct Text<'a>(&'a mut Line);

impl core::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.str(s);
        Ok(())
    }
}

fn take_scene() -> Option<&'static Scene<'static>> {
    let p = SCENE.swap(core::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: a non-null pointer was published by `during`, whose scene
    // outlives its call and which, having found the pointer taken, never
    // returns; the scene is therefore alive for the rest of the process.
    unsafe { p.as_ref() }
}

fn name(l: &mut Line, s: &Scene) {
    let act = match s.act {
        Act::Init => "init hook of handler ",
        Act::Handler => "handler ",
    };
    put!(l, "{}{}", Arg::Str(act), Arg::Quoted(s.handler.name()));
}

/// Ends the line with the request, writes it to stderr and posts it.
fn finish(l: &mut Line, scene: Option<&Scene>) {
    let Some(s) = scene else { return l.emit() };
    if s.act == Act::Handler {
        put!(l, " while handling request {}", Arg::Bytes(s.request_id));
    }
    if let Some(p) = s.post {
        post(&p, l.message());
    }
    l.emit();
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

/// Posts `body` as `p` says: on the kept connection, or, if it is closed
/// (or turns out to be), once on a new one. Gives up, without resending,
/// when the API does not answer within [`ANSWER_WAIT_MS`].
fn post(p: &Post, body: &[u8]) {
    let mut digits = itoa::Buffer::new();
    #[cfg(feature = "lambda")]
    let mut escaped = [0u8; ESCAPED_MAX];
    #[cfg(feature = "lambda")]
    let json;
    #[cfg(feature = "lambda")]
    let body: &[&[u8]] = if p.json {
        let n = escape_into(body, &mut escaped);
        json = [JSON_HEAD, escaped.get(..n).unwrap_or_default(), JSON_TAIL];
        &json
    } else {
        &[body]
    };
    #[cfg(feature = "lambda")]
    let (pieces, n) = {
        let mut pieces: [&[u8]; wire::REQUEST_PIECES] = [b""; wire::REQUEST_PIECES];
        let n = wire::request_parts(&mut pieces, p.line, p.peer.tail, &mut digits, Some(body));
        (pieces, n)
    };
    #[cfg(not(feature = "lambda"))]
    let (pieces, n) = {
        let line = p.line.first().copied().unwrap_or_default();
        ([line, p.peer.tail, digits.format(body.len()).as_bytes(), b"\r\n\r\n", body], 5)
    };
    if let Some(fd) = p.peer.conn {
        if exchange(fd, pieces, n) != Some(false) {
            return;
        }
    }
    if let Some(fd) = p.peer.addrs.iter().find_map(|a| sys::connect(a).ok()) {
        exchange(&fd, pieces, n);
    }
}

/// Room for the JSON-escaped line: most lines have nothing to escape, and
/// one made of control bytes only (6 bytes each) is cut short.
#[cfg(feature = "lambda")]
const ESCAPED_MAX: usize = 2048;
#[cfg(feature = "lambda")]
const JSON_HEAD: &[u8] = b"{\"errorMessage\":\"";
#[cfg(feature = "lambda")]
const JSON_TAIL: &[u8] = b"\",\"errorType\":\"Runtime.Crash\"}";

/// JSON-escapes `s` into `out` (see [`crate::text::escape_json`]); what
/// does not fit is left out, cut at a whole escape and a whole UTF-8
/// sequence so the result stays a valid JSON string. Returns its length.
#[cfg(feature = "lambda")]
fn escape_into(s: &[u8], out: &mut [u8]) -> usize {
    let mut at = 0;
    let mut full = false;
    crate::text::escape_json(s, &mut |piece| {
        if full {
            return;
        }
        let mut k = piece.len().min(out.len() - at);
        if k < piece.len() {
            full = true;
            // An escape goes whole or not at all; raw text is cut before
            // the sequence that would be split.
            k = if piece.first() == Some(&b'\\') { 0 } else { utf8_floor(piece, k) };
        }
        let room = out.get_mut(at..).unwrap_or_default();
        room.iter_mut().zip(piece.iter().take(k)).for_each(|(d, &c)| *d = c);
        at += k;
    });
    at
}

/// The largest `k' <= k` at which `s` (valid UTF-8 up to its end) can be
/// cut without splitting a sequence.
#[cfg(feature = "lambda")]
fn utf8_floor(s: &[u8], mut k: usize) -> usize {
    while k > 0 && s.get(k).is_some_and(|c| c & 0xc0 == 0x80) {
        k -= 1;
    }
    k
}

/// Sends `request` and waits for the first bytes of the answer: `Some(true)`
/// answered, `Some(false)` the connection is closed, `None` no answer in time.
fn exchange<const N: usize>(fd: &OwnedFd, mut request: [&[u8]; N], n: usize) -> Option<bool> {
    if sys::send_all_in(fd, request.get_mut(..n).unwrap_or_default()).is_err() {
        return Some(false);
    }
    if !sys::poll_in(fd, ANSWER_WAIT_MS) {
        return None;
    }
    Some(matches!(sys::read(fd, &mut [0u8; 64]), Ok(n) if n > 0))
}

#[cfg(all(test, feature = "lambda"))]
mod tests {
    use super::*;

    #[test]
    fn an_escaped_line_is_cut_at_whole_escapes_and_whole_characters() {
        let cut = |s: &[u8]| {
            let mut out = [0u8; 8];
            let n = escape_into(s, &mut out);
            out[..n].to_vec()
        };
        // A quote's escape does not fit whole after seven letters.
        assert_eq!(cut(b"abcdefg\"x"), b"abcdefg");
        // A two-byte character does not fit after seven letters.
        assert_eq!(cut("abcdefg\u{e9}".as_bytes()), b"abcdefg");
        // Everything fits.
        assert_eq!(cut(b"a\"\n"), b"a\\\"\\n");
        let mut big = [0u8; ESCAPED_MAX];
        let n = escape_into(&[1u8; 1024], &mut big);
        assert_eq!(n, ESCAPED_MAX / 6 * 6, "only whole \\u0001 escapes");
    }
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
