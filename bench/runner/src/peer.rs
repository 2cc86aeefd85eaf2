//! The lean loopback peer: the runtime API side of every measurement.
//!
//! It must cost the same for every contender and as little as possible, so
//! that it does not drown the differences being measured:
//!
//! - one thread, one `poll` over the listener and the open connections, one
//!   `read` per wake-up; no per-request allocation (connection buffers are
//!   pooled and reused across sessions);
//! - every reply is pre-serialised: `/next` gets one `write` of a ready-made
//!   head and event, the other endpoints a constant `200` with an empty body;
//! - any number of connections, in any order (curl opens one per request,
//!   the others keep one alive), with `Expect: 100-continue` honoured
//!   (curl asks for it on larger bodies);
//! - timestamps come from the monotonic clock (`Instant`), taken right after
//!   the `read` that completed a request, or just before the `write` that
//!   sends an event.
//!
//! It speaks either platform's dialect ([`Dialect`]): SCF's
//! (`/runtime/init/ready`, `/runtime/invocation/{next,response,error}`,
//! `request_id` and limits as headers) or AWS Lambda's (no `init/ready`: the
//! first `/next` is the ready signal; `/2018-06-01/runtime/invocation/next`,
//! results to `/2018-06-01/runtime/invocation/{id}/response`, the
//! `Lambda-Runtime-*` context headers, `202 Accepted`).
//!
//! Request framing is a pure function ([`parse_head`]) so it is unit-tested
//! without sockets. Only `Content-Length` bodies are accepted: no contender
//! sends chunked requests, and one that started would be reported, not
//! silently mis-framed.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::sys::{self, Poller};

/// Which runtime API the peer serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Scf,
    Lambda,
}

/// The endpoint a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Ready,
    Next,
    Response,
    Error,
    /// Lambda's `POST /2018-06-01/runtime/init/error`.
    InitError,
    Other,
}

/// Lambda's endpoints, under the API version.
const LAMBDA_NEXT: &[u8] = b"/2018-06-01/runtime/invocation/next";
const LAMBDA_INVOCATION: &[u8] = b"/2018-06-01/runtime/invocation/";
const LAMBDA_INIT_ERROR: &[u8] = b"/2018-06-01/runtime/init/error";

/// A parsed request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub route: Route,
    /// Bytes of the request line and headers, final blank line included.
    pub head_len: usize,
    /// The `Content-Length` (0 when absent).
    pub body_len: usize,
    /// The client sent `Expect: 100-continue` and waits for a go-ahead.
    pub expect_continue: bool,
    /// Lambda: where the request id of `.../invocation/{id}/response` or
    /// `/error` lies in the head (start, end); empty otherwise.
    pub id: (usize, usize),
}

/// Why a request head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    RequestLine,
    HeaderLine,
    ContentLength,
    /// `Transfer-Encoding` on a request: not supported by this peer.
    Chunked,
    /// No end of head within [`MAX_HEAD`] bytes.
    TooLong,
}

impl HeadError {
    pub fn as_str(self) -> &'static str {
        match self {
            HeadError::RequestLine => "malformed request line",
            HeadError::HeaderLine => "malformed header line",
            HeadError::ContentLength => "invalid Content-Length",
            HeadError::Chunked => "chunked request bodies are not supported by the bench peer",
            HeadError::TooLong => "request head longer than 64 KiB",
        }
    }
}

pub const MAX_HEAD: usize = 64 << 10;

/// Parses the request head at the start of `buf`, routing it by
/// `dialect`'s endpoints (the other platform's paths are
/// [`Route::Other`]). `Ok(None)` means the head is not complete yet;
/// `scan_from` is where to resume looking for its end (bytes before it are
/// known not to contain it).
pub fn parse_head(buf: &[u8], scan_from: usize, dialect: Dialect) -> Result<Option<Head>, HeadError> {
    let from = scan_from.saturating_sub(3);
    let Some(end) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|p| from + p + 4) else {
        return if buf.len() > MAX_HEAD { Err(HeadError::TooLong) } else { Ok(None) };
    };
    if end > MAX_HEAD {
        return Err(HeadError::TooLong);
    }
    let mut lines = buf[..end - 4].split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let line = lines.next().ok_or(HeadError::RequestLine)?;
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::RequestLine);
    };
    if !version.starts_with(b"HTTP/1.") {
        return Err(HeadError::RequestLine);
    }
    let (route, id) = match dialect {
        Dialect::Scf => (
            match (method, target) {
                (b"POST", b"/runtime/init/ready") => Route::Ready,
                (b"GET", b"/runtime/invocation/next") => Route::Next,
                (b"POST", b"/runtime/invocation/response") => Route::Response,
                (b"POST", b"/runtime/invocation/error") => Route::Error,
                _ => Route::Other,
            },
            (0, 0),
        ),
        Dialect::Lambda => lambda_route(method, target, line),
    };
    let mut head = Head { route, head_len: end, body_len: 0, expect_continue: false, id };
    for line in lines {
        let colon = line.iter().position(|&b| b == b':').ok_or(HeadError::HeaderLine)?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            if value.is_empty() || value.len() > 12 || !value.iter().all(u8::is_ascii_digit) {
                return Err(HeadError::ContentLength);
            }
            head.body_len = value.iter().fold(0, |n, &d| n * 10 + usize::from(d - b'0'));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(HeadError::Chunked);
        } else if name.eq_ignore_ascii_case(b"expect") && value.eq_ignore_ascii_case(b"100-continue") {
            head.expect_continue = true;
        }
    }
    Ok(Some(head))
}

/// Lambda's routes; the request id of a result is returned as its place in
/// the request line (`line` starts the head, `target` lies within it).
fn lambda_route(method: &[u8], target: &[u8], line: &[u8]) -> (Route, (usize, usize)) {
    let none = (0, 0);
    match method {
        b"GET" if target == LAMBDA_NEXT => (Route::Next, none),
        b"POST" if target == LAMBDA_INIT_ERROR => (Route::InitError, none),
        b"POST" => {
            let Some(rest) = target.strip_prefix(LAMBDA_INVOCATION) else { return (Route::Other, none) };
            let (id, route) = if let Some(id) = rest.strip_suffix(b"/response") {
                (id, Route::Response)
            } else if let Some(id) = rest.strip_suffix(b"/error") {
                (id, Route::Error)
            } else {
                return (Route::Other, none);
            };
            if id.is_empty() || id.contains(&b'/') {
                return (Route::Other, none);
            }
            // `id` is a subslice of `line`, which starts the head.
            let start = id.as_ptr() as usize - line.as_ptr() as usize;
            (route, (start, start + id.len()))
        }
        _ => (Route::Other, none),
    }
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Serialises the reply to `/next` that hands out `event`, with the context
/// headers the platform sends. Lambda's deadline is `deadline_ms` (epoch
/// milliseconds); `Content-Type` is sent in both dialects (awslambdaric
/// fails without it).
pub fn event_reply(dialect: Dialect, event: &[u8], request_id: &str, deadline_ms: u64) -> Vec<u8> {
    let mut r = Vec::with_capacity(event.len() + 512);
    match dialect {
        Dialect::Scf => write!(
            r,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nrequest_id: {request_id}\r\n\
             memory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: {}\r\n\r\n",
            event.len()
        ),
        Dialect::Lambda => write!(
            r,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Lambda-Runtime-Aws-Request-Id: {request_id}\r\n\
             Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench-echo\r\n\
             Lambda-Runtime-Trace-Id: Root=1-5e1b4151-43a0913a12345678901234567;Parent=53995c3f42cd8ad8;Sampled=0\r\n\
             Content-Length: {}\r\n\r\n",
            event.len()
        ),
    }
    .expect("writing to a Vec");
    r.extend_from_slice(event);
    r
}

const OK_EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
/// What AWS answers to a result.
const LAMBDA_ACCEPTED: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What one session serves, and when it stops.
pub struct Plan<'a> {
    pub dialect: Dialect,
    /// Lambda: the request id in the event's headers, which every result's
    /// path must carry.
    pub request_id: &'a [u8],
    /// The whole reply to `/next` (see [`event_reply`]), sent for each event.
    pub event: &'a [u8],
    /// The response body every invocation must post.
    pub expected: &'a [u8],
    /// How many events to hand out.
    pub events: usize,
    /// Stop as soon as this many responses have arrived; the last one is
    /// left unanswered, so the client is blocked waiting for the reply when
    /// it is stopped. With 0, stop at the first `/next` that finds no event
    /// left (the client is then idle, blocked in the long poll).
    pub stop_after: usize,
    /// Give up (outcome [`Outcome::Timeout`]) at this time.
    pub deadline: Instant,
}

/// When things happened in one session.
#[derive(Default, Debug)]
pub struct Timeline {
    /// The first `/init/ready` (Lambda: the first `/next`) was completely
    /// received.
    pub ready: Option<Instant>,
    /// Each event was about to be written to the socket.
    pub sent: Vec<Instant>,
    /// Each `/response` was completely received.
    pub responses: Vec<Instant>,
    /// Connections accepted.
    pub connections: u32,
}

impl Timeline {
    pub fn clear(&mut self) {
        self.ready = None;
        self.sent.clear();
        self.responses.clear();
        self.connections = 0;
    }
}

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `stop_after` responses arrived.
    Done,
    /// The client asked for an event when none was left.
    Idle,
    /// The contender's main process exited (raw wait status).
    Exited(i32),
    Timeout,
    /// The client broke the protocol or posted a wrong result.
    Failed(String),
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..filled]`.
    start: usize,
    filled: usize,
    /// Head of the request being received, once parsed.
    head: Option<Head>,
    /// How far (from `start`) the head has been searched for its end.
    scanned: usize,
}

/// The peer: a loopback listener and its connections. One session at a
/// time; [`Peer::reset`] gives each session a fresh listener.
pub struct Peer {
    listener: TcpListener,
    conns: Vec<Conn>,
    spare: Vec<Vec<u8>>,
    poller: Poller,
    /// How long one write may block on a client that does not read.
    pub write_timeout: Duration,
}

const CONN_BUF: usize = 64 << 10;

impl Peer {
    pub fn new() -> io::Result<Peer> {
        Ok(Peer {
            listener: TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?,
            conns: Vec::new(),
            spare: Vec::new(),
            poller: Poller::default(),
            write_timeout: Duration::from_secs(30),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Closes every connection of the session. Call it as soon as the
    /// session's contender is gone, so that the kernel's work of tearing
    /// the connections down is not done during the next session.
    pub fn close(&mut self) {
        for c in self.conns.drain(..) {
            self.spare.push(c.buf);
        }
    }

    /// Closes every connection and replaces the listener, so that nothing
    /// of one session (a half-open connection, a queued connect from a
    /// killed process) leaks into the next.
    pub fn reset(&mut self) -> io::Result<()> {
        self.close();
        self.listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        Ok(())
    }

    /// Serves `plan` until it is complete, the process `pid` (if given)
    /// exits, or the deadline passes. `tl` is cleared first.
    pub fn serve(&mut self, plan: &Plan, tl: &mut Timeline, pid: Option<u32>) -> io::Result<Outcome> {
        tl.clear();
        loop {
            let now = Instant::now();
            if now >= plan.deadline {
                return Ok(Outcome::Timeout);
            }
            // Wake up now and then only to notice a contender that died
            // without closing a connection first.
            let wait_ms = (plan.deadline - now).as_millis().min(50) as i32;
            self.poller.clear();
            self.poller.add(self.listener.as_raw_fd());
            for c in &self.conns {
                self.poller.add(c.stream.as_raw_fd());
            }
            if self.poller.wait(wait_ms.max(1))? == 0 {
                if let Some(status) = pid.and_then(sys::try_reap) {
                    return Ok(Outcome::Exited(status));
                }
                continue;
            }
            // Connections accepted below are not in this round's poll set;
            // they are looked at on the next round.
            let polled = self.conns.len();
            if self.poller.ready(0) {
                let (stream, _) = self.listener.accept()?;
                stream.set_nodelay(true)?;
                // A client that stops reading must not hang the benchmark
                // in a write of a large event, beyond any deadline.
                stream.set_write_timeout(Some(self.write_timeout))?;
                let buf = self.spare.pop().unwrap_or_else(|| vec![0; CONN_BUF]);
                self.conns.push(Conn { stream, buf, start: 0, filled: 0, head: None, scanned: 0 });
                tl.connections += 1;
            }
            // Backwards, so that swap_remove only moves a connection that was
            // already looked at (or was not polled) into the freed slot.
            let mut i = polled;
            while i > 0 {
                i -= 1;
                if !self.poller.ready(i + 1) {
                    continue;
                }
                match self.on_readable(i, plan, tl)? {
                    Step::Continue => {}
                    Step::Closed => {
                        let c = self.conns.swap_remove(i);
                        self.spare.push(c.buf);
                    }
                    Step::Stop(outcome) => return Ok(outcome),
                }
            }
        }
    }

    fn on_readable(&mut self, i: usize, plan: &Plan, tl: &mut Timeline) -> io::Result<Step> {
        let c = &mut self.conns[i];
        // Make room: move a partial request to the front, and grow for a
        // body whose size is known so that it arrives in as few reads as
        // the socket allows.
        if c.start > 0 {
            c.buf.copy_within(c.start..c.filled, 0);
            c.filled -= c.start;
            c.start = 0;
        }
        let want = c.head.map_or(0, |h| h.head_len + h.body_len).max(c.filled + CONN_BUF / 2);
        if c.buf.len() < want {
            c.buf.resize(want.max(c.buf.len() * 2), 0);
        }
        let n = match c.stream.read(&mut c.buf[c.filled..]) {
            Ok(0) => return Ok(Step::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Step::Continue),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(Step::Closed),
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        c.filled += n;

        // Serve every request this read completed.
        loop {
            let c = &mut self.conns[i];
            let head = match c.head {
                Some(h) => h,
                None => match parse_head(&c.buf[c.start..c.filled], c.scanned, plan.dialect) {
                    Ok(Some(h)) => {
                        c.head = Some(h);
                        if h.expect_continue && c.filled - c.start < h.head_len + h.body_len {
                            c.stream.write_all(CONTINUE)?;
                        }
                        h
                    }
                    Ok(None) => {
                        c.scanned = c.filled - c.start;
                        return Ok(Step::Continue);
                    }
                    Err(e) => return Ok(Step::Stop(Outcome::Failed(e.as_str().into()))),
                },
            };
            let len = head.head_len + head.body_len;
            if c.filled - c.start < len {
                return Ok(Step::Continue);
            }
            let body = c.start + head.head_len..c.start + len;
            let id = c.start + head.id.0..c.start + head.id.1;
            c.start += len;
            c.head = None;
            c.scanned = 0;
            if c.start == c.filled {
                c.start = 0;
                c.filled = 0;
            }
            if let Some(outcome) = self.handle(i, head.route, id, body, now, plan, tl)? {
                return Ok(Step::Stop(outcome));
            }
        }
    }

    /// Acts on one complete request; `id` (Lambda's request id in the
    /// path) and `body` index the connection buffer (still intact: it is
    /// only overwritten by the next read).
    #[allow(clippy::too_many_arguments)]
    fn handle(
        &mut self,
        i: usize,
        route: Route,
        id: std::ops::Range<usize>,
        body: std::ops::Range<usize>,
        now: Instant,
        plan: &Plan,
        tl: &mut Timeline,
    ) -> io::Result<Option<Outcome>> {
        let c = &mut self.conns[i];
        match route {
            Route::Ready => {
                tl.ready.get_or_insert(now);
                c.stream.write_all(OK_EMPTY)?;
            }
            Route::Next => {
                if plan.dialect == Dialect::Lambda {
                    // No init/ready on Lambda: the first /next is the signal.
                    tl.ready.get_or_insert(now);
                }
                if tl.sent.len() == plan.events {
                    return Ok(Some(if plan.stop_after == 0 {
                        Outcome::Idle
                    } else {
                        Outcome::Failed(format!("asked for event {} of {}", tl.sent.len() + 1, plan.events))
                    }));
                }
                // Stamped before the write: on loopback the write itself
                // wakes the client, which may answer before it returns.
                tl.sent.push(Instant::now());
                c.stream.write_all(plan.event)?;
            }
            Route::Response => {
                tl.responses.push(now);
                if plan.dialect == Dialect::Lambda && c.buf[id.clone()] != *plan.request_id {
                    let shown = String::from_utf8_lossy(&c.buf[id]).into_owned();
                    return Ok(Some(Outcome::Failed(format!(
                        "response for request id {shown:?}, not the one handed out"
                    ))));
                }
                let got = &c.buf[body];
                if got != plan.expected {
                    let shown = String::from_utf8_lossy(&got[..got.len().min(80)]).into_owned();
                    return Ok(Some(Outcome::Failed(format!(
                        "response {} is not the expected echo: {} bytes, {shown:?}...",
                        tl.responses.len(),
                        got.len()
                    ))));
                }
                if tl.responses.len() == plan.stop_after {
                    return Ok(Some(Outcome::Done));
                }
                c.stream.write_all(match plan.dialect {
                    Dialect::Scf => OK_EMPTY,
                    Dialect::Lambda => LAMBDA_ACCEPTED,
                })?;
            }
            Route::Error => {
                let got = &c.buf[body];
                let shown = String::from_utf8_lossy(&got[..got.len().min(200)]).into_owned();
                return Ok(Some(Outcome::Failed(format!("posted an invocation error: {shown:?}"))));
            }
            Route::InitError => {
                let got = &c.buf[body];
                let shown = String::from_utf8_lossy(&got[..got.len().min(200)]).into_owned();
                return Ok(Some(Outcome::Failed(format!("posted an init error: {shown:?}"))));
            }
            Route::Other => return Ok(Some(Outcome::Failed("request to an unknown endpoint".into()))),
        }
        Ok(None)
    }
}

enum Step {
    Continue,
    Closed,
    Stop(Outcome),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Result<Option<Head>, HeadError> {
        parse_head(s.as_bytes(), 0, Dialect::Scf)
    }

    #[test]
    fn parses_the_four_endpoints() {
        let table = [
            ("POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 1\r\n\r\n", Route::Ready, 1),
            ("GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n", Route::Next, 0),
            ("POST /runtime/invocation/response HTTP/1.1\r\ncontent-length:  42 \r\n\r\n", Route::Response, 42),
            ("POST /runtime/invocation/error HTTP/1.0\r\nCONTENT-LENGTH: 7\r\n\r\n", Route::Error, 7),
            ("GET /runtime/init/ready HTTP/1.1\r\n\r\n", Route::Other, 0),
        ];
        for (req, route, body_len) in table {
            let h = head(req).unwrap().unwrap();
            assert_eq!((h.route, h.body_len, h.head_len), (route, body_len, req.len()), "{req:?}");
            assert!(!h.expect_continue);
        }
    }

    #[test]
    fn parses_lambdas_endpoints_and_the_request_id() {
        let lambda = |s: &str| parse_head(s.as_bytes(), 0, Dialect::Lambda).unwrap().unwrap();
        let h = lambda("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((h.route, h.id), (Route::Next, (0, 0)));
        let req =
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8/response HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
        let h = lambda(req);
        assert_eq!((h.route, h.body_len, h.head_len), (Route::Response, 3, req.len()));
        assert_eq!(&req[h.id.0..h.id.1], "8476a536-e9f4-11e8");
        let req = "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
        let h = lambda(req);
        assert_eq!((h.route, &req[h.id.0..h.id.1]), (Route::Error, "abc"));
        assert_eq!(lambda("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n\r\n").route, Route::InitError);
        // Not Lambda's: SCF's paths, no id, an id with a slash, a wrong
        // method, an unknown result kind.
        for req in [
            "POST /runtime/init/ready HTTP/1.1\r\n\r\n",
            "GET /runtime/invocation/next HTTP/1.1\r\n\r\n",
            "POST /runtime/invocation/response HTTP/1.1\r\n\r\n",
            "POST /2018-06-01/runtime/invocation//response HTTP/1.1\r\n\r\n",
            "POST /2018-06-01/runtime/invocation/a/b/response HTTP/1.1\r\n\r\n",
            "GET /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\n\r\n",
            "POST /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n",
            "POST /2018-06-01/runtime/invocation/abc/result HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(lambda(req).route, Route::Other, "{req:?}");
        }
        // And Lambda's paths are not SCF's.
        assert_eq!(
            head("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n").unwrap().unwrap().route,
            Route::Other
        );
    }

    #[test]
    fn incomplete_heads_wait_and_resume_scanning() {
        let req = b"POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 1\r\n\r\n ";
        for cut in 0..req.len() - 2 {
            assert_eq!(parse_head(&req[..cut], 0, Dialect::Scf), Ok(None), "cut at {cut}");
        }
        // Resuming from any point before the end finds the same head.
        for from in 0..req.len() - 1 {
            assert_eq!(parse_head(req, from, Dialect::Scf).unwrap().unwrap().head_len, req.len() - 1);
        }
    }

    #[test]
    fn notices_expect_continue() {
        let h = head("POST /runtime/invocation/response HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        assert!(h.unwrap().unwrap().expect_continue);
    }

    #[test]
    fn refuses_what_it_cannot_frame() {
        let table = [
            ("GET /x\r\n\r\n", HeadError::RequestLine),
            ("GET /x HTTP/1.1 extra\r\n\r\n", HeadError::RequestLine),
            ("GET /x SPDY/3\r\n\r\n", HeadError::RequestLine),
            ("POST /x HTTP/1.1\r\nno colon\r\n\r\n", HeadError::HeaderLine),
            ("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", HeadError::ContentLength),
            ("POST /x HTTP/1.1\r\nContent-Length:\r\n\r\n", HeadError::ContentLength),
            ("POST /x HTTP/1.1\r\nContent-Length: 9999999999999\r\n\r\n", HeadError::ContentLength),
            ("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HeadError::Chunked),
        ];
        for (req, err) in table {
            assert_eq!(head(req), Err(err), "{req:?}");
        }
        assert_eq!(parse_head(&vec![b'a'; MAX_HEAD + 1], 0, Dialect::Scf), Err(HeadError::TooLong));
    }

    #[test]
    fn event_reply_frames_the_event() {
        let r = event_reply(Dialect::Scf, b"{\"a\":1}", "rid-1", 0);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("\r\nrequest_id: rid-1\r\n"));
        assert!(text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"));
    }

    #[test]
    fn lambda_event_reply_carries_the_context_headers() {
        let r = event_reply(Dialect::Lambda, b"{}", "id-9", 1_764_547_200_000);
        let text = String::from_utf8(r).unwrap();
        for h in [
            "\r\nContent-Type: application/json\r\n",
            "\r\nLambda-Runtime-Aws-Request-Id: id-9\r\n",
            "\r\nLambda-Runtime-Deadline-Ms: 1764547200000\r\n",
            "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:",
            "\r\nLambda-Runtime-Trace-Id: Root=",
        ] {
            assert!(text.contains(h), "{h:?} missing from {text:?}");
        }
        assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
        assert!(!text.contains("request_id"));
    }

    /// A Lambda-dialect client on one keep-alive connection: no ready,
    /// `next`, then the echo posted under the id of the event's header
    /// (or under `wrong_id`).
    fn lambda_client(port: u16, invocations: usize, wrong_id: Option<&str>) {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        s.set_nodelay(true).unwrap();
        for _ in 0..invocations {
            s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let (head, event) = read_reply_with_head(&mut s);
            let id = head
                .lines()
                .find_map(|l| l.strip_prefix("Lambda-Runtime-Aws-Request-Id: "))
                .expect("a request id header")
                .to_string();
            let mut echo = b"Echoing request: '".to_vec();
            echo.extend_from_slice(&event);
            echo.push(b'\'');
            let id = wrong_id.unwrap_or(&id);
            write!(
                s,
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                echo.len()
            )
            .unwrap();
            s.write_all(&echo).unwrap();
            let (head, body) = read_reply_with_head(&mut s);
            assert!(head.starts_with("HTTP/1.1 202 "), "{head}");
            assert_eq!(body, b"{\"status\":\"OK\"}\n");
        }
    }

    fn lambda_session(invocations: usize, wrong_id: Option<&'static str>) -> (Outcome, Timeline) {
        let client = move |port| lambda_client(port, invocations, wrong_id);
        session(Dialect::Lambda, b"{\"k\":1}", "req-1", 1_764_547_200_000, invocations, client)
    }

    /// The peer serving `invocations` of `event` (the echo's answer
    /// expected) to `client`, which runs on its own thread against the
    /// peer's port: the peer's outcome and timeline.
    fn session(
        dialect: Dialect,
        event: &[u8],
        request_id: &'static str,
        deadline_ms: u64,
        invocations: usize,
        client: impl FnOnce(u16) + Send + 'static,
    ) -> (Outcome, Timeline) {
        let mut peer = Peer::new().unwrap();
        let port = peer.port();
        let reply = event_reply(dialect, event, request_id, deadline_ms);
        let mut expected = b"Echoing request: '".to_vec();
        expected.extend_from_slice(event);
        expected.push(b'\'');
        let plan = Plan {
            dialect,
            request_id: request_id.as_bytes(),
            event: &reply,
            expected: &expected,
            events: invocations,
            stop_after: invocations,
            deadline: Instant::now() + Duration::from_secs(20),
        };
        let t = std::thread::spawn(move || {
            // The client blocks on the unanswered last response; closing
            // the peer's side (by dropping it) ends the thread with an error.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client(port)));
        });
        let mut tl = Timeline::default();
        let outcome = peer.serve(&plan, &mut tl, None).unwrap();
        drop(peer);
        t.join().unwrap();
        (outcome, tl)
    }

    #[test]
    fn serves_a_lambda_client_without_init_ready() {
        let (outcome, tl) = lambda_session(20, None);
        assert_eq!(outcome, Outcome::Done);
        assert_eq!((tl.sent.len(), tl.responses.len(), tl.connections), (20, 20, 1));
        // Ready is the first /next, just before the first event went out.
        assert!(tl.ready.unwrap() <= tl.sent[0]);
    }

    #[test]
    fn refuses_a_lambda_result_under_another_id() {
        match lambda_session(1, Some("someone-else")).0 {
            Outcome::Failed(msg) => assert!(msg.contains("\"someone-else\""), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    /// A client that speaks the protocol like the contenders do:    /// A client that speaks the protocol like the contenders do: `reconnect`
    /// opens a connection per request (curl), otherwise one keep-alive
    /// connection is used; bodies are sent with `Expect: 100-continue`
    /// when `expect` is set.
    fn client(port: u16, invocations: usize, reconnect: bool, expect: bool) {
        let mut conn: Option<TcpStream> = None;
        let mut exchange = |req_head: &str, body: &[u8]| -> Vec<u8> {
            if reconnect || conn.is_none() {
                let s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
                // Head and body go out in two writes: without this, Nagle
                // holds the body until the peer's delayed ACK (40 ms).
                s.set_nodelay(true).unwrap();
                conn = Some(s);
            }
            let s = conn.as_mut().unwrap();
            let ask = expect && !body.is_empty();
            let extra = if ask { "Expect: 100-continue\r\n" } else { "" };
            write!(s, "{req_head}\r\n{extra}Content-Length: {}\r\n\r\n", body.len()).unwrap();
            if ask {
                let mut cont = [0u8; CONTINUE.len()];
                s.read_exact(&mut cont).unwrap();
                assert_eq!(&cont[..], CONTINUE);
            }
            s.write_all(body).unwrap();
            read_reply(s)
        };
        exchange("POST /runtime/init/ready HTTP/1.1", b" ");
        for _ in 0..invocations {
            let event = exchange("GET /runtime/invocation/next HTTP/1.1", b"");
            let mut echo = b"Echoing request: '".to_vec();
            echo.extend_from_slice(&event);
            echo.push(b'\'');
            exchange("POST /runtime/invocation/response HTTP/1.1", &echo);
        }
    }

    fn read_reply(s: &mut TcpStream) -> Vec<u8> {
        read_reply_with_head(s).1
    }

    /// Reads one reply: its head as text and its body.
    fn read_reply_with_head(s: &mut TcpStream) -> (String, Vec<u8>) {
        let mut buf = Vec::new();
        let mut byte = [0u8];
        while !buf.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
            .unwrap();
        let mut body = vec![0; len];
        s.read_exact(&mut body).unwrap();
        (head, body)
    }

    fn run(invocations: usize, event: &[u8], reconnect: bool, expect: bool) -> (Outcome, Timeline) {
        let client = move |port| client(port, invocations, reconnect, expect);
        session(Dialect::Scf, event, "r", 0, invocations, client)
    }

    #[test]
    fn serves_a_keep_alive_client_in_order() {
        let (outcome, tl) = run(50, b"{\"k\":\"v\"}", false, false);
        assert_eq!(outcome, Outcome::Done);
        assert_eq!((tl.sent.len(), tl.responses.len(), tl.connections), (50, 50, 1));
        let ready = tl.ready.unwrap();
        assert!(ready <= tl.sent[0]);
        for i in 0..50 {
            assert!(tl.sent[i] <= tl.responses[i]);
            if i > 0 {
                assert!(tl.responses[i - 1] <= tl.sent[i]);
            }
        }
    }

    #[test]
    fn serves_a_connection_per_request_with_expect_continue() {
        let event = vec![b'x'; 3000];
        let (outcome, tl) = run(5, &event, true, true);
        assert_eq!(outcome, Outcome::Done);
        assert_eq!((tl.responses.len(), tl.connections), (5, 11));
    }

    #[test]
    fn carries_a_6_mb_event() {
        let event = vec![b'e'; 6_000_000];
        let (outcome, tl) = run(2, &event, false, false);
        assert_eq!(outcome, Outcome::Done);
        assert_eq!(tl.responses.len(), 2);
    }

    #[test]
    fn gives_up_on_a_client_that_stops_reading() {
        let mut peer = Peer::new().unwrap();
        peer.write_timeout = Duration::from_millis(200);
        let port = peer.port();
        let event = vec![b'e'; 6_000_000];
        let reply = event_reply(Dialect::Scf, &event, "r", 0);
        let plan = Plan {
            dialect: Dialect::Scf,
            request_id: b"r",
            event: &reply,
            expected: b"",
            events: 1,
            stop_after: 1,
            deadline: Instant::now() + Duration::from_secs(20),
        };
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
            s.write_all(b"GET /runtime/invocation/next HTTP/1.1\r\n\r\n").unwrap();
            let _ = rx.recv(); // never reads; holds the connection open
        });
        let err = peer.serve(&plan, &mut Timeline::default(), None).unwrap_err();
        assert!(matches!(err.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{err}");
        drop(tx);
        t.join().unwrap();
    }

    #[test]
    fn reports_a_wrong_echo_and_an_idle_client() {
        let mut peer = Peer::new().unwrap();
        let port = peer.port();
        let reply = event_reply(Dialect::Scf, b"abc", "r", 0);
        let plan = Plan {
            dialect: Dialect::Scf,
            request_id: b"r",
            event: &reply,
            expected: b"something else",
            events: 1,
            stop_after: 1,
            deadline: Instant::now() + Duration::from_secs(20),
        };
        let t = std::thread::spawn(move || {
            let _ = std::panic::catch_unwind(|| client(port, 1, false, false));
        });
        let mut tl = Timeline::default();
        match peer.serve(&plan, &mut tl, None).unwrap() {
            Outcome::Failed(msg) => assert!(msg.contains("Echoing request: 'abc'"), "{msg}"),
            other => panic!("{other:?}"),
        }
        peer.reset().unwrap();
        t.join().unwrap();

        // Idle: the plan hands out no event; the client's first /next is
        // the end of the session.
        let port = peer.port();
        let plan = Plan { events: 0, stop_after: 0, ..plan };
        let t = std::thread::spawn(move || {
            let _ = std::panic::catch_unwind(|| client(port, 1, false, false));
        });
        assert_eq!(peer.serve(&plan, &mut tl, None).unwrap(), Outcome::Idle);
        assert!(tl.ready.is_some());
        drop(peer);
        t.join().unwrap();
    }
}
