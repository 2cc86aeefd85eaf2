//! Push mode (cargo feature `serve`): `bootstrap serve` as the HTTP server
//! of an SCF image-deployed event function. The platform starts the image's
//! command, waits for port 9000 to accept, then POSTs each event to
//! `/event-invoke` with the context in `X-Scf-*` request headers, and takes
//! the response body as the result (docs/image-functions.md, "Platform
//! facts", with sources).
//!
//! ```text
//!  exec ──► SCF_BOOTSTRAP_LISTEN ──► listen ──► handler + init hook ──► poll (listener, connections)
//!                                                                          │
//!            ┌─────────────────────────────────────────────────────────────┘
//!            ▼
//!   accept, or read a request ──► handler(event, ctx, out) ──► 200 result / 500 error
//!            ▲                                                        │
//!            └──────────── kept connection, or close ◄────────────────┘
//! ```
//!
//! The module is the server-side mirror of [`crate::http`]: its framing
//! half, [`wire`], is pure functions over byte slices (request heads parsed
//! zero-copy by `httparse`, bodies by the client's own body framer and
//! in-place de-chunker, answers as iovec pieces); this module is the thin
//! I/O driver that accepts, reads and writes, and calls the handler through
//! [`crate::invoke`] as the pull loop does.
//!
//! The listener is the first thing made after exec: the environment is
//! read (no system call), then `socket`, `setsockopt(SO_REUSEADDR)`,
//! `bind`, `listen`. Only then come the standard descriptors' check, the
//! options the connections inherit, the handler and its init hook, and the
//! crash reports' arming: a connection that arrives meanwhile waits in the
//! kernel's queue (the platform's health check is a TCP connection).
//!
//! Failure policy (decided by [`wire`], applied here):
//! - exactly one event at a time; up to [`MAX_CONNS`] connections are kept
//!   open at once and watched with one `poll`, and a request is read, run
//!   and answered before the next is looked at, so an idle keep-alive
//!   connection never holds up another connection's request (a proxy's
//!   pool of upstream connections works); with all of them open, a new
//!   connection closes the one idle longest. Requests pipelined behind one
//!   are served in order, after it;
//! - a request that cannot be served gets one answer, a 4xx or 5xx whose
//!   body is a one-line reason ([`wire::Refusal`]), and then the connection
//!   is closed, never read again for a request: after a framing error the
//!   bytes that follow cannot be trusted to start one. The close is a
//!   lingering one, so that the answer is not lost to a reset from unread
//!   data: the write side is shut at once, and the connection stays in the
//!   table, what the client still sends read and dropped as it comes (as
//!   any connection is read, between events), until the client closes (or
//!   the slot is needed: a draining connection is the first to go); the
//!   server goes on at once;
//! - a client that closes before its request is complete gets no answer;
//! - `Expect: 100-continue` is answered `100 Continue` only when the request
//!   is acceptable and none of its body has arrived yet
//!   ([`wire::send_continue`]); a refusal is sent instead of it;
//! - a handler's result is `200`, its error `500` with the message as the
//!   body, both on a connection kept open as the request allows; a crash is
//!   `500` with the crash line and `Connection: close` (the crash report's
//!   post, written on the request's connection), then the process dies by
//!   its signal;
//! - a connection is read only once `poll` says it has bytes (or has
//!   closed), so a client that connects and sends nothing holds nobody up;
//!   a head that has started must be complete within
//!   [`wire::HEAD_TIMEOUT_MS`], a body may not pause for longer than
//!   [`wire::BODY_IDLE_MS`], and an answer may not stall for longer than
//!   [`SEND_IDLE_MS`] (past either, `408` or the connection is dropped);
//!   the handler's own time is not bounded here: the platform's timeout
//!   bounds it;
//! - credentials in the context (`X-Scf-Secret-Id`, `X-Scf-Secret-Key`,
//!   `X-Scf-Session-Token`, [`wire::Field::is_secret`]) are never logged:
//!   nothing here logs a header, and no refusal quotes one.

pub mod wire;

#[cfg(test)]
mod mutation_tests;

use crate::crash::{Post, BODY_ROOM};
use crate::diag::{msg, Arg};
use crate::dialect::{self, Settings, Var, Vars};
use crate::fatal::{self, Fatal};
use crate::ffi::{self, Entry, RawContext, Str};
use crate::http::wire::Host;
use crate::invoke::{self, Outcome};
use crate::sys::{self, Buf, Errno, OwnedFd, SockAddr};
use crate::{address, text};
use core::convert::Infallible;
use core::ffi::{c_int, CStr};
use wire::{Answer, BodyStep, Context, Field, Refusal, Request};

/// Where `bootstrap serve` listens unless `SCF_BOOTSTRAP_LISTEN` says
/// otherwise: SCF's port on every address ("0.0.0.0:9000 or *:9000").
pub const DEFAULT_LISTEN: &[u8] = b"0.0.0.0:9000";

/// The most connections kept open at once (a proxy's keep-alive pool to
/// one instance is a few; SCF sends one event at a time).
pub const MAX_CONNS: usize = 32;

/// How long an answer's write may make no progress (a client that stopped
/// reading) before the connection is dropped.
pub const SEND_IDLE_MS: u64 = 5000;

/// The kernel's queue of connections not yet accepted.
const BACKLOG: c_int = 128;

/// The variables push mode reads besides the loop's [`Settings`]: where to
/// listen, and the function's metadata as SCF sets it in an image's
/// container (the headers of each event override it).
#[derive(Default)]
struct Env {
    listen: Option<&'static CStr>,
    function_name: Option<&'static CStr>,
    namespace: Option<&'static CStr>,
    version: Option<&'static CStr>,
    region: Option<&'static CStr>,
}

impl Vars for Env {
    fn vars(&mut self) -> impl AsMut<[Var<'_>]> {
        [
            (&b"SCF_BOOTSTRAP_LISTEN"[..], &mut self.listen),
            (b"SCF_FUNCTIONNAME", &mut self.function_name),
            (b"SCF_NAMESPACE", &mut self.namespace),
            (b"SCF_FUNCTIONVERSION", &mut self.version),
            (b"TENCENTCLOUD_REGION", &mut self.region),
        ]
    }
}

/// Why `bootstrap serve` stops.
enum Stop {
    Fatal(Fatal),
    /// The listener (at the address given) could not be made.
    Listen(&'static [u8], Errno),
}

/// `bootstrap serve`: serves until the process is ended; a failure to
/// start is one line on stderr and status 1.
pub fn main() -> c_int {
    // As the pull loop's: typical events and answers never touch the heap.
    // (In .bss rather than on the stack: a 12 KiB frame is probed a page
    // at a time on entry, page faults before listening.)
    let (rx_mem, tx_mem) = sys::server_memory();
    let mut tx = Buf::new(tx_mem);
    let Err(stop) = start(Buf::new(rx_mem), &mut tx);
    match stop {
        Stop::Fatal(f) => fatal::describe(f, &Host::none(), tx.as_slice()).emit(),
        Stop::Listen(at, e) => msg!("cannot listen on {}: {}", Arg::Quoted(at), Arg::Errno(e)).emit(),
    }
    1
}

fn start(rx: Buf, tx: &mut Buf) -> Result<Infallible, Stop> {
    let (mut settings, mut env) = (Settings::default(), Env::default());
    dialect::read(&mut settings, &mut env);
    let at = env.listen.map_or(DEFAULT_LISTEN, CStr::to_bytes);
    let addr = listen_addr(at).ok_or(Stop::Fatal(Fatal::EnvInvalid {
        var: "SCF_BOOTSTRAP_LISTEN",
        value: at,
        why: "is not an IPv4 address and port (0.0.0.0:9000) or a bracketed IPv6 address and port ([::]:9000)",
    }))?;
    let listener = sys::listen(&addr, BACKLOG).map_err(|e| Stop::Listen(at, e))?;
    // Listening: the rest is off the path to it.
    sys::open_stdio().map_err(|e| Stop::Fatal(Fatal::Stdio(e)))?;
    sys::set_options(&listener, wire::BODY_IDLE_MS, SEND_IDLE_MS).map_err(|e| Stop::Listen(at, e))?;
    let meta = Meta { name: env.function_name, namespace: env.namespace, version: env.version, region: env.region };
    let ctx = context(&meta, None);
    let entry = invoke::start(settings.handler.map(CStr::to_bytes), &ctx, tx, None).map_err(Stop::Fatal)?;
    invoke::arm_after_ready(entry);
    let mut server = Server {
        listener,
        conns: [const { None }; MAX_CONNS],
        used: [0; MAX_CONNS],
        tick: 0,
        high: 0,
        warned: false,
        rx,
        tx,
        entry,
        meta,
    };
    server.run()
}

/// A listening address: `A.B.C.D:PORT` or `[IPv6]:PORT`, IP literals and a
/// port from 1 to 65535.
fn listen_addr(v: &[u8]) -> Option<SockAddr> {
    let colon = v.iter().rposition(|&b| b == b':')?;
    let port = address::parse_port(v.get(colon + 1..)?)?;
    match v.get(..colon)? {
        [b'[', inner @ .., b']'] => text::parse_ipv6(inner).map(|a| SockAddr::v6(a, port)),
        host => text::parse_ipv4(host).map(|a| SockAddr::v4(a, port)),
    }
}

/// The function's metadata from the environment, for what an event's
/// headers leave out.
struct Meta {
    name: Option<&'static CStr>,
    namespace: Option<&'static CStr>,
    version: Option<&'static CStr>,
    region: Option<&'static CStr>,
}

/// What became of a connection once its requests so far are served.
enum After {
    /// Open, nothing of it buffered: watch it for the next request.
    Keep,
    /// Done with: close it.
    Close,
    /// Refused: the answer is sent; shut its write side and drain it
    /// until the client closes.
    Linger,
}

/// Why a request ends without the handler.
enum End {
    /// The client closed, failed, or stalled an answer: nothing to say.
    Close,
    /// Answer with the refusal, then close lingeringly.
    Refuse(Refusal),
}

struct Server<'b, 't, 'u> {
    listener: OwnedFd,
    conns: [Option<OwnedFd>; MAX_CONNS],
    /// When each connection was last served (`tick`), to close the idle
    /// longest when all are open; 0 for one being drained (the first to
    /// go), which is never read for a request again.
    used: [u64; MAX_CONNS],
    tick: u64,
    /// The slots in use so far: `conns[high..]` have never held a
    /// connection, and `poll` watches only the ones before.
    high: usize,
    /// An accept failure was told on stderr.
    warned: bool,
    /// The request being served: its head, its body (de-chunked in place),
    /// and what its client sent after it.
    rx: Buf<'b>,
    /// The handler's answer.
    tx: &'t mut Buf<'u>,
    entry: &'static Entry,
    meta: Meta,
}

impl Server<'_, '_, '_> {
    fn run(&mut self) -> ! {
        loop {
            let used = self.conns.get(..self.high).unwrap_or_default();
            let ready = sys::poll_readable(&self.listener, used);
            // The readable connections, lowest slot first.
            let mut conns = ready >> 1;
            while conns != 0 {
                let i = conns.trailing_zeros() as usize;
                conns &= conns - 1;
                self.serve_conn(i);
            }
            if ready & 1 != 0 {
                self.accept_all();
            }
        }
    }

    /// Serves connection `i`, which `poll` found readable: its requests,
    /// or, for one being drained, what it sent, dropped.
    fn serve_conn(&mut self, i: usize) {
        let Some(conn) = self.conns.get_mut(i).and_then(Option::take) else { return };
        self.rx.clear();
        let draining = self.used.get(i) == Some(&0);
        let used = match draining {
            true => match self.rx.read_from(&conn) {
                Ok(n) if n > 0 => 0,
                _ => return,
            },
            false => match self.exchange(&conn) {
                After::Keep => {
                    self.tick += 1;
                    self.tick
                }
                After::Close => return,
                After::Linger => {
                    sys::shutdown_write(&conn);
                    0
                }
            },
        };
        if let (Some(slot), Some(u)) = (self.conns.get_mut(i), self.used.get_mut(i)) {
            *slot = Some(conn);
            *u = used;
        }
    }

    /// Serves the requests `conn` has sent, until it needs to wait for
    /// more (or is done with).
    fn exchange(&mut self, conn: &OwnedFd) -> After {
        // `poll` said it is readable: its first read does not wait.
        let mut fresh = true;
        loop {
            let served = self.head(conn, &mut fresh).and_then(|req| self.request(conn, &req));
            match served {
                Ok(true) if self.rx.is_empty() => return After::Keep,
                // Pipelined: the next request now, from what is buffered.
                Ok(true) => {}
                // Bytes pipelined behind a request that closes may not all
                // have been read: drain them rather than reset.
                Ok(false) if self.rx.is_empty() => return After::Close,
                Ok(false) => return After::Linger,
                Err(End::Close) => return After::Close,
                Err(End::Refuse(r)) => {
                    let mut digits = itoa::Buffer::new();
                    let _ = sys::send_all(conn, &wire::refusal(r, None, &mut digits));
                    return After::Linger;
                }
            }
        }
    }

    /// Reads until a whole request head is at the front of the buffer.
    fn head(&mut self, conn: &OwnedFd, fresh: &mut bool) -> Result<Request, End> {
        let mut deadline = None;
        loop {
            match wire::parse_request(self.rx.as_slice(), &wire::SCF) {
                Ok(Some(req)) => return Ok(req),
                Ok(None) => {}
                Err(r) => return Err(End::Refuse(r)),
            }
            if !core::mem::take(fresh) {
                // The rest of a head that has begun must come in time.
                let until = *deadline.get_or_insert_with(|| sys::monotonic_ms() + wire::HEAD_TIMEOUT_MS);
                let left = until.saturating_sub(sys::monotonic_ms());
                if left == 0 || !sys::poll_in(conn, left as i32) {
                    return Err(End::Refuse(Refusal::Timeout));
                }
            }
            match self.fill(conn, true) {
                Ok(0) | Err(End::Close) => return Err(End::Close),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Serves the request whose head `req` is at the front of the buffer:
    /// reads its body, calls the handler, answers. `Ok(keep)`: answered,
    /// and whether the connection stays open.
    fn request(&mut self, conn: &OwnedFd, req: &Request) -> Result<bool, End> {
        if wire::send_continue(req, self.rx.len() - req.len) {
            sys::send_all(conn, &[wire::CONTINUE]).map_err(|_| End::Close)?;
        }
        let (len, end) = self.body(conn, req)?;
        // The event's strings made C strings in place: the byte after a
        // value is a blank or the line's end, in the head already parsed.
        let received = self.rx.as_mut_slice();
        for f in [Field::RequestId, Field::FunctionName, Field::Namespace, Field::FunctionVersion, Field::Region] {
            if let Some(b) = req.context.get(f).and_then(|r| received.get_mut(r.end)) {
                *b = 0;
            }
        }
        let deadline_ms = match req.context.timeout_ms {
            0 => 0,
            ms => sys::realtime_ms().saturating_add(ms),
        };
        let received = self.rx.as_slice();
        let ctx = RawContext {
            memory_limit_mb: req.context.memory_mb,
            time_limit_ms: req.context.timeout_ms,
            deadline_ms,
            ..context(&self.meta, Some((&req.context, received)))
        };
        let event = received.get(req.len..req.len + len).unwrap_or_default();
        let post =
            Post { conn: Some(conn), reconnect: None, head: &wire::CRASH_HEAD, body: crash_body, answered: false };
        let answer = match invoke::call(self.entry, event, &ctx, self.tx, Some(post)) {
            Outcome::Ok => Answer::Result,
            Outcome::Failed(_) => Answer::HandlerError,
        };
        let mut digits = itoa::Buffer::new();
        let ([a, b, c, d, e], keep) = wire::answer_head(answer, Some(req), self.tx.len(), &mut digits);
        sys::send_all(conn, &[a, b, c, d, e, self.tx.as_slice()]).map_err(|_| End::Close)?;
        self.rx.consume(req.len + end);
        Ok(keep)
    }

    /// Reads `req`'s body to its end: its length and where the request
    /// ends, counted from the end of the head.
    fn body(&mut self, conn: &OwnedFd, req: &Request) -> Result<(usize, usize), End> {
        let mut framer = wire::body_framer(req);
        let mut closed = false;
        loop {
            let region = self.rx.as_mut_slice().get_mut(req.len..).unwrap_or_default();
            let grow = match wire::body_step(&mut framer, region, closed) {
                Ok(BodyStep::Done { len, end }) => return Ok((len, end)),
                Ok(BodyStep::Need(n)) => {
                    // Straight into memory of the body's size.
                    self.rx.reserve_exact(n).map_err(|_| End::Refuse(Refusal::NoMemory))?;
                    false
                }
                Ok(_) => true,
                Err(f) => return Err(wire::body_refusal(f).map_or(End::Close, End::Refuse)),
            };
            closed = self.fill(conn, grow)? == 0;
        }
    }

    /// One `read` into the free end of the buffer (doubled first, with
    /// `grow`, when less than 1 KiB is free); `Ok(0)` is the client's end
    /// of stream. A read that waited past the receive timeout is `408`.
    fn fill(&mut self, conn: &OwnedFd, grow: bool) -> Result<usize, End> {
        let free = self.rx.capacity() - self.rx.len();
        if free == 0 || (grow && free < 1024) {
            self.rx.reserve(self.rx.capacity().max(4096)).map_err(|_| End::Refuse(Refusal::NoMemory))?;
        }
        match self.rx.read_from(conn) {
            Ok(n) => Ok(n),
            Err(Errno::AGAIN) => Err(End::Refuse(Refusal::Timeout)),
            Err(_) => Err(End::Close),
        }
    }

    /// Accepts every connection waiting.
    fn accept_all(&mut self) {
        for _ in 0..MAX_CONNS {
            match sys::accept(&self.listener) {
                Ok(fd) => self.add(fd),
                Err(Errno::AGAIN) => return,
                Err(e) => return self.accept_failed(e),
            }
        }
    }

    /// Keeps `fd` in a free slot, or in the one of the connection idle
    /// longest, which is closed.
    fn add(&mut self, fd: OwnedFd) {
        self.tick += 1;
        let free = self.conns.iter().position(Option::is_none);
        let oldest = || self.used.iter().enumerate().min_by_key(|(_, t)| **t).map_or(0, |(i, _)| i);
        let i = free.unwrap_or_else(oldest);
        if let (Some(slot), Some(used)) = (self.conns.get_mut(i), self.used.get_mut(i)) {
            *slot = Some(fd);
            *used = self.tick;
            self.high = self.high.max(i + 1);
        }
    }

    /// `accept` failed otherwise than for an empty queue (out of
    /// descriptors, say): the connection idle longest is closed, or with
    /// none open the server pauses, so that a queue it cannot take does not
    /// make `poll` spin; told on stderr once.
    #[cold]
    fn accept_failed(&mut self, e: Errno) {
        if !core::mem::replace(&mut self.warned, true) {
            msg!("warning: accept failed: {}; an idle connection is closed to make room (said once)", Arg::Errno(e))
                .emit();
        }
        let oldest = (0..MAX_CONNS)
            .filter(|&i| self.conns.get(i).is_some_and(Option::is_some))
            .min_by_key(|&i| self.used.get(i).copied().unwrap_or_default());
        match oldest.and_then(|i| self.conns.get_mut(i)) {
            Some(slot) => *slot = None,
            None => sys::sleep_ms(10),
        }
    }
}

/// The context of an event whose strings (made C strings in place) are
/// those `event`'s context locates in the head it was parsed from, each
/// absent one the environment's; `None`: the init hook's, with no event.
fn context<'a>(meta: &Meta, event: Option<(&Context, &'a [u8])>) -> RawContext<'a> {
    let text = |f: Field, env: Option<&'static CStr>| {
        let with_nul = event.and_then(|(c, head)| c.get(f).and_then(|r| head.get(r.start..r.end + 1)));
        // The environment's value only where the event has none (measured
        // then).
        with_nul.map_or_else(|| Str::from_cstr(env), Str::nul_terminated)
    };
    RawContext {
        size: core::mem::size_of::<RawContext>() as u32,
        abi_version: ffi::ABI_VERSION,
        request_id: text(Field::RequestId, Some(c"")),
        memory_limit_mb: 0,
        time_limit_ms: 0,
        deadline_ms: 0,
        function_name: text(Field::FunctionName, meta.name),
        function_namespace: text(Field::Namespace, meta.namespace),
        function_version: text(Field::FunctionVersion, meta.version),
        region: text(Field::Region, meta.region),
        platform: ffi::PLATFORM_SCF,
        reserved: 0,
        function_arn: Str::NONE,
        trace_id: Str::NONE,
        client_context: Str::NONE,
        cognito_identity: Str::NONE,
    }
}

/// A crash report's body: its line, as it is (see [`crate::crash::Body`]).
fn crash_body<'l>(line: &'l [u8], _: &'l mut [u8; BODY_ROOM]) -> [&'l [u8]; 5] {
    [line, b"", b"", b"", b""]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_ip_literals_with_a_port() {
        for (v, want) in [
            ("0.0.0.0:9000", Some("0.0.0.0:9000")),
            ("127.0.0.1:1", Some("127.0.0.1:1")),
            ("[::]:9000", Some("[::]:9000")),
            ("[::1]:65535", Some("[::1]:65535")),
            ("[fe80::1]:80", Some("[fe80::1]:80")),
            ("0.0.0.0", None),
            ("0.0.0.0:", None),
            ("0.0.0.0:0", None),
            ("0.0.0.0:65536", None),
            ("0.0.0.0:09000", None),
            (":9000", None),
            ("*:9000", None),
            ("localhost:9000", None),
            ("::1:9000", None),
            ("[::1]", None),
            ("[127.0.0.1]:9000", None),
            ("", None),
        ] {
            let got = listen_addr(v.as_bytes()).map(|a| a.to_std().to_string());
            assert_eq!(got.as_deref(), want, "{v:?}");
        }
        assert!(listen_addr(DEFAULT_LISTEN).is_some());
    }
}
