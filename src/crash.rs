//! Crash reports: a handler that dies by a fault signal or panics is
//! reported in words, on stderr and where its scene says (an invocation's
//! error endpoint), before the process ends the way it would have without
//! this module. The module knows no dialect and no transport: what to
//! write, and where, comes in the scene's [`Post`].
//!
//! Before it calls user code the runtime publishes a [`Scene`] (which hook
//! or handler runs, for which request, and where a report goes) with
//! [`during`]. When SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP or
//! SIGSYS arrives (cargo feature `crash`; `signals`), the signal handler,
//! running on its own stack, takes that scene and:
//!
//! - during a handler: writes one line to stderr, `handler 'NAME' crashed:
//!   SIGSEGV (invalid memory access at address 0x0) while handling request
//!   ID`, and writes it as the post says: the head the dialect made, the
//!   body it makes of the line (SCF: the line; Lambda: its error object
//!   with the type `Runtime.Crash`), on the kept connection (a new one if
//!   it was closed), then waits up to a second for the API's answer, so
//!   that the post is read before the socket is reset;
//! - during the init hook: the line on stderr, and posted where the
//!   dialect has a route for it (Lambda's init/error; SCF has none);
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
//! lock, no `core::fmt`; the line is built in a fixed buffer ([`Line`]), the
//! body in a fixed room, and the message is `wire::message`'s pieces sent
//! with one `sendmsg`. The system calls are `sys`'s.
//!
//! A Rust panic ([`panicked`], the `#[panic_handler]` of [`crate::entry!`])
//! reports the same way with the panic's message and location (formatted
//! with `core::fmt` into the same fixed buffer: a panic is not a signal
//! handler), then aborts; the SIGABRT that follows is not reported again.
//! Without the feature `crash`, a panic is still named on stderr (not
//! posted), and a fault signal ends the process unreported.
//!
//! An action installed for one of these signals before the runtime arms
//! its own (std's SIGSEGV and SIGBUS handlers, installed before `main`; a
//! C constructor's) is called first, and what it declines is reported (see
//! `signals::on_signal`). A child that a handler forks without exec
//! inherits the signal handler, and is never reported from (see
//! `signals::PID`). Arming also catches SIGPIPE ([`sys::catch_sigpipe`]),
//! so that a log pipe whose reader has gone costs no invocation; std
//! handlers' panics are reported by a panic hook ([`panicked_std`],
//! installed by `std_api::run`).
//!
//! A transport that pushes events (a server in the bootstrap) makes its own
//! [`Post`]: a 5xx response's head, a body of its choosing, the request's
//! connection, nothing to reconnect to and no answer to wait for.
//!
//! Not reported: SIGKILL (the platform's timeout or memory limit), an
//! infinite loop (SCF's invocation timeout ends it), these signals while
//! a handler has installed its own action for them (its own handler takes
//! over) or blocked them (the kernel ends the process at once), and a
//! stack overflow in a thread without an alternate signal stack.
#![allow(unsafe_code)]

use crate::diag::{put, Arg, Line};
use crate::ffi::Entry;
use crate::sys::{self, Addrs, OwnedFd, SigAction};
use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

#[cfg(feature = "crash")]
mod signals;

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
    #[cfg_attr(not(feature = "crash"), allow(dead_code))]
    pub post: Option<Post<'a>>,
}

/// Where a crash report goes besides stderr, and how it is written,
/// prepared before user code is called: a message on a connection, whose
/// head and body the transport chose. Pulling from a runtime API, it is a
/// request to the invocation's error endpoint (the dialect's head, a body
/// made from the report's line), answered by the API; a server that was
/// pushed the event would make it a 5xx response on the request's own
/// connection, with no answer to wait for.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "crash"), allow(dead_code))]
pub struct Post<'a> {
    /// The connection to write on, if it is open.
    pub conn: Option<&'a OwnedFd>,
    /// Where to connect afresh when it is closed, or turns out to be
    /// (`None`: report on stderr only then).
    pub reconnect: Option<&'a Addrs>,
    /// The message's head up to its body's length, in pieces (empty ones
    /// skipped): the request or status line and any fields, the last of
    /// them `Content-Length: ` (see `wire::message`).
    pub head: &'a [&'a [u8]],
    /// The body, made from the report's line.
    pub body: Body,
    /// Whether the peer answers: the report then waits up to a second for
    /// its first bytes, so that it is read before the process, and its
    /// socket, go.
    pub answered: bool,
}

/// Makes a report's body of its line (at most 1 KiB), in pieces, in `room`
/// if it needs memory (a JSON-escaped copy): the line as it is (SCF), or a
/// dialect's error object around it (Lambda).
pub type Body = for<'l> fn(&'l [u8], &'l mut [u8; BODY_ROOM]) -> [&'l [u8]; 5];

/// Room for a body made of a report's line: most lines have nothing to
/// escape, and one made of control bytes only (6 bytes each) is cut short.
pub const BODY_ROOM: usize = 2048;

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

/// Arms crash reports: the signal handler (cargo feature `crash`; see
/// `signals::install`), and SIGPIPE caught ([`sys::catch_sigpipe`]), so
/// that a log pipe whose reader has gone costs no invocation, in every
/// build. Once per process, before the first user code runs (see
/// `invoke::start`).
pub fn arm() {
    #[cfg(feature = "crash")]
    signals::install();
    sys::catch_sigpipe();
}

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

/// The `#[panic_handler]` of a bootstrap (see [`crate::entry!`]).
pub fn panicked(info: &core::panic::PanicInfo) -> ! {
    report_panic(info)
}

/// The `#[panic_handler]` of a bootstrap whose only Rust code is the
/// runtime's (C and Zig handlers; src/main.rs): the panic's location is
/// reported, its message not read. A runtime panic is a bug in the runtime
/// or a dependency, and its location says where, and what: a message
/// given as a plain string is the one written at that location (httparse's
/// `unreachable!()`), and a formatted one was never formatted here.
/// Reading no message lets the optimiser drop every message the panic
/// sites build, and with them `core::fmt`'s number formatting that an
/// index check's message names: 1,192 bytes of the SCF build, where
/// reporting a plain-string message (`PanicMessage::as_str`) kept them.
pub fn panicked_plain(info: &core::panic::PanicInfo) -> ! {
    report_panic_at(info.location(), None, |_| {});
    abort()
}

#[inline(always)]
fn report_panic(info: &core::panic::PanicInfo) -> ! {
    report_panic_at(info.location(), None, |l| {
        let message = info.message();
        match message.as_str() {
            Some(s) => _ = put!(l, ": {}", Arg::Str(s)),
            None => _ = core::fmt::write(&mut Text(put!(l, ": ")), format_args!("{message}")),
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
    let tid = sys::gettid();
    sys::tkill(tid, libc::SIGABRT);
    // SAFETY: the default action runs no code.
    unsafe { sys::rt_sigaction(libc::SIGABRT, Some(&SigAction::DEFAULT)) };
    sys::tkill(tid, libc::SIGABRT);
    sys::unblock(libc::SIGABRT);
    // Not reached: the unblocked SIGABRT ends the process. As musl's abort
    // does last, exit with status 127.
    sys::exit_group(127)
}

/// `core::fmt` output into a line.
struct Text<'a>(&'a mut Line);

impl core::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.str(s);
        Ok(())
    }
}

pub(crate) fn take_scene() -> Option<&'static Scene<'static>> {
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
    #[cfg(feature = "crash")]
    if let Some(p) = s.post {
        signals::post(&p, l.message());
    }
    l.emit();
}
