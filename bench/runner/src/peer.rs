//! The lean loopback peer: the runtime API side of every measurement.
//!
//! It must cost the same for every contender and as little as possible, so
//! that it does not drown the differences being measured:
//!
//! - one thread, one `poll` over the listener and the open connections, one
//!   `read` per wake-up; no per-request allocation (connection buffers are
//!   pooled and reused across sessions);
//! - every reply is pre-serialised: `/next` gets one `write` of a ready-made
//!   head and event, the other endpoints a constant answer;
//! - any number of connections, in any order (curl opens one per request,
//!   the others keep one alive), with `Expect: 100-continue` honoured
//!   (curl asks for it on larger bodies);
//! - timestamps come from the monotonic clock (`Instant`), taken right after
//!   the `read` that completed a request, or just before the `write` that
//!   sends an event.
//!
//! It is the benchmark's configuration of the repository's peer kit, the
//! emulator library: requests are framed by its framer
//! (`scf_emulator::http::frame_request`, in place, no allocation) and
//! routed by its dialects (`scf_emulator::dialect`): SCF's
//! (`/runtime/init/ready`, `/runtime/invocation/{next,response,error}`,
//! `request_id` and limits as headers) or AWS Lambda's (no `init/ready`: the
//! first `/next` is the ready signal; `/2018-06-01/runtime/invocation/next`,
//! results to `/2018-06-01/runtime/invocation/{id}/response`, the
//! `Lambda-Runtime-*` context headers, `202 Accepted`). What is its own is
//! the I/O: the poll loop, and the plan of one session. Only
//! `Content-Length` bodies are accepted: no contender sends chunked
//! requests, and one that started would be reported, not silently
//! mis-framed.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use scf_emulator::dialect::EventContext;
pub use scf_emulator::dialect::{Dialect, Endpoint};
use scf_emulator::http::{self, Framing};

use crate::sys::{self, Poller};

/// A request head as the peer acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// `None`: a path the dialect does not have, or the wrong method.
    pub endpoint: Option<Endpoint>,
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

/// The largest request body accepted (the runtime API server's bound): the
/// connection buffer grows to hold a whole request.
pub const MAX_BODY: usize = scf_emulator::api::MAX_BODY;

/// Frames the request head at the start of `buf` (the kit's framer) and
/// routes it by `dialect`'s endpoints (the other platform's paths have
/// none). `Ok(None)` means the head is not complete yet.
#[inline(never)]
pub fn frame(buf: &[u8], dialect: Dialect) -> Result<Option<Head>, String> {
    let Some(h) = http::frame_request(buf).map_err(|e| e.as_str().to_string())? else { return Ok(None) };
    let body_len = match h.framing {
        Framing::Length(n) if n <= MAX_BODY => n,
        Framing::Length(n) => return Err(format!("a request body of {n} bytes, over {MAX_BODY}")),
        _ => return Err("chunked request bodies are not supported by the bench peer".into()),
    };
    let path = h.path();
    let route = dialect.route(path).filter(|r| r.endpoint.method().as_bytes() == h.method);
    // The path is a slice of `buf`: the id's place in the head.
    let at = path.as_ptr() as usize - buf.as_ptr() as usize;
    let id = route.as_ref().map_or((0, 0), |r| if r.id.is_empty() { (0, 0) } else { (at + r.id.start, at + r.id.end) });
    Ok(Some(Head {
        endpoint: route.map(|r| r.endpoint),
        head_len: h.len,
        body_len,
        expect_continue: h.expect_continue,
        id,
    }))
}

/// The function ARN and trace id of the benchmark's Lambda events.
const BENCH_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench-echo";
const BENCH_TRACE: &str = "Root=1-5e1b4151-43a0913a12345678901234567;Parent=53995c3f42cd8ad8;Sampled=0";

/// Serialises the reply to `/next` that hands out `event`, with the context
/// headers the platform sends (SCF: 128 MB, 3000 ms; Lambda: the deadline
/// `deadline_ms`, epoch milliseconds, a function ARN and a trace id);
/// `Content-Type` is sent in both dialects (awslambdaric fails without it).
pub fn event_reply(dialect: Dialect, event: &[u8], request_id: &str, deadline_ms: u64) -> Vec<u8> {
    let ctx = EventContext {
        request_id,
        memory_mb: 128,
        timeout_ms: 3000,
        deadline_ms: Some(deadline_ms),
        function_arn: Some(BENCH_ARN),
        trace_id: Some(BENCH_TRACE),
    };
    reply_with(dialect, &ctx, &[("Content-Type", "application/json")], event)
}

/// The reply to `/next` handing out `event`: `first` headers, then
/// `dialect`'s context headers for `ctx`.
pub fn reply_with(dialect: Dialect, ctx: &EventContext, first: &[(&str, &str)], event: &[u8]) -> Vec<u8> {
    let context = dialect.context_headers(ctx);
    let mut headers = first.to_vec();
    headers.extend(context.iter().map(|(n, v)| (*n, v.as_str())));
    http::response(200, &headers, event)
}

/// The platform's answer to a result, pre-serialised: SCF's `200` with no
/// body (also its answer to `init/ready`), Lambda's `202 Accepted` with
/// `{"status":"OK"}`, as AWS sends it.
pub fn accepted(dialect: Dialect) -> &'static [u8] {
    static ANSWERS: LazyLock<[Vec<u8>; 2]> = LazyLock::new(|| {
        [Dialect::Scf, Dialect::Lambda].map(|d| {
            let (status, headers, body) = d.accepted();
            http::response(status, headers, body)
        })
    });
    &ANSWERS[usize::from(dialect == Dialect::Lambda)]
}

/// What one session serves, and when it stops.
pub struct Plan<'a> {
    pub dialect: Dialect,
    /// Lambda: the request id in the event's headers, which every result's
    /// path must carry.
    pub request_id: &'a [u8],
    /// The whole reply to `/next` (see [`event_reply`]), sent for each event.
    pub event: &'a [u8],
    /// The answer to each result (see [`accepted`]).
    pub accepted: &'a [u8],
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
    /// How far (from `start`) the bytes are known to hold no head end.
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
        Peer::on_port(0)
    }

    /// A peer listening on 127.0.0.1:`port` (0: a free one).
    pub fn on_port(port: u16) -> io::Result<Peer> {
        Ok(Peer {
            listener: TcpListener::bind((Ipv4Addr::LOCALHOST, port))?,
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
                // A head is framed as soon as it is read; one that came in
                // pieces is framed again only once its end has come, not
                // once a piece.
                None if c.scanned > 0 && !http::head_end_seen(&c.buf[c.start..c.filled], c.scanned) => {
                    c.scanned = c.filled - c.start;
                    return Ok(Step::Continue);
                }
                None => match frame(&c.buf[c.start..c.filled], plan.dialect) {
                    Ok(Some(h)) => {
                        c.head = Some(h);
                        if h.expect_continue && c.filled - c.start < h.head_len + h.body_len {
                            c.stream.write_all(http::CONTINUE)?;
                        }
                        h
                    }
                    Ok(None) => {
                        c.scanned = c.filled - c.start;
                        return Ok(Step::Continue);
                    }
                    Err(e) => return Ok(Step::Stop(Outcome::Failed(e))),
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
            if let Some(outcome) = self.handle(i, head.endpoint, id, body, now, plan, tl)? {
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
        endpoint: Option<Endpoint>,
        id: std::ops::Range<usize>,
        body: std::ops::Range<usize>,
        now: Instant,
        plan: &Plan,
        tl: &mut Timeline,
    ) -> io::Result<Option<Outcome>> {
        let c = &mut self.conns[i];
        match endpoint {
            Some(Endpoint::Ready) => {
                tl.ready.get_or_insert(now);
                c.stream.write_all(accepted(Dialect::Scf))?;
            }
            Some(Endpoint::Next) => {
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
            Some(Endpoint::Response) => {
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
                c.stream.write_all(plan.accepted)?;
            }
            Some(Endpoint::Error) => {
                let got = &c.buf[body];
                let shown = String::from_utf8_lossy(&got[..got.len().min(200)]).into_owned();
                return Ok(Some(Outcome::Failed(format!("posted an invocation error: {shown:?}"))));
            }
            Some(Endpoint::InitError) => {
                let got = &c.buf[body];
                let shown = String::from_utf8_lossy(&got[..got.len().min(200)]).into_owned();
                return Ok(Some(Outcome::Failed(format!("posted an init error: {shown:?}"))));
            }
            None => return Ok(Some(Outcome::Failed("request to an unknown endpoint".into()))),
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

    fn head(s: &str) -> Result<Option<Head>, String> {
        frame(s.as_bytes(), Dialect::Scf)
    }

    #[test]
    fn parses_the_four_endpoints() {
        let table = [
            ("POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 1\r\n\r\n", Some(Endpoint::Ready), 1),
            ("GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n", Some(Endpoint::Next), 0),
            (
                "POST /runtime/invocation/response HTTP/1.1\r\ncontent-length:  42 \r\n\r\n",
                Some(Endpoint::Response),
                42,
            ),
            ("POST /runtime/invocation/error HTTP/1.0\r\nCONTENT-LENGTH: 7\r\n\r\n", Some(Endpoint::Error), 7),
            ("GET /runtime/init/ready HTTP/1.1\r\n\r\n", None, 0),
        ];
        for (req, endpoint, body_len) in table {
            let h = head(req).unwrap().unwrap();
            assert_eq!((h.endpoint, h.body_len, h.head_len), (endpoint, body_len, req.len()), "{req:?}");
            assert!(!h.expect_continue);
        }
    }

    #[test]
    fn parses_lambdas_endpoints_and_the_request_id() {
        let lambda = |s: &str| frame(s.as_bytes(), Dialect::Lambda).unwrap().unwrap();
        let h = lambda("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((h.endpoint, h.id), (Some(Endpoint::Next), (0, 0)));
        let req =
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8/response HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
        let h = lambda(req);
        assert_eq!((h.endpoint, h.body_len, h.head_len), (Some(Endpoint::Response), 3, req.len()));
        assert_eq!(&req[h.id.0..h.id.1], "8476a536-e9f4-11e8");
        let req = "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
        let h = lambda(req);
        assert_eq!((h.endpoint, &req[h.id.0..h.id.1]), (Some(Endpoint::Error), "abc"));
        assert_eq!(lambda("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n\r\n").endpoint, Some(Endpoint::InitError));
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
            let h = lambda(req);
            assert_eq!((h.endpoint, h.id), (None, (0, 0)), "{req:?}");
        }
        // And Lambda's paths are not SCF's.
        assert_eq!(head("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n").unwrap().unwrap().endpoint, None);
    }

    #[test]
    fn incomplete_heads_wait() {
        let req = b"POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 1\r\n\r\n ";
        for cut in 0..req.len() - 1 {
            assert_eq!(frame(&req[..cut], Dialect::Scf), Ok(None), "cut at {cut}");
        }
        assert_eq!(frame(req, Dialect::Scf).unwrap().unwrap().head_len, req.len() - 1);
    }

    #[test]
    fn notices_expect_continue() {
        let h = head("POST /runtime/invocation/response HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        assert!(h.unwrap().unwrap().expect_continue);
    }

    #[test]
    fn refuses_what_it_cannot_frame() {
        let table = [
            ("GET /x\r\n\r\n", "malformed start line"),
            ("GET /x HTTP/1.1 extra\r\n\r\n", "malformed start line"),
            ("GET /x SPDY/3\r\n\r\n", "unsupported HTTP version"),
            ("POST /x HTTP/1.1\r\nno colon\r\n\r\n", "invalid header name"),
            ("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
            ("POST /x HTTP/1.1\r\nContent-Length:\r\n\r\n", "invalid Content-Length"),
            (
                "POST /x HTTP/1.1\r\nContent-Length: 9999999999999\r\n\r\n",
                "a request body of 9999999999999 bytes, over 67108864",
            ),
            (
                "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "chunked request bodies are not supported by the bench peer",
            ),
        ];
        for (req, err) in table {
            assert_eq!(head(req), Err(err.to_string()), "{req:?}");
        }
        assert_eq!(frame(&vec![b'a'; http::MAX_HEAD + 1], Dialect::Scf), Err("head too large".into()));
    }

    /// The replies as they were before the peer used the kit, byte for
    /// byte: the contenders parse the same bytes, so the figures stay
    /// comparable.
    #[test]
    fn replies_are_the_bytes_they_were() {
        assert_eq!(
            event_reply(Dialect::Scf, b"{}", "r", 0),
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nrequest_id: r\r\n\
              memory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert_eq!(
            event_reply(Dialect::Lambda, b"{}", "id-9", 1_764_547_200_000),
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
              Lambda-Runtime-Aws-Request-Id: id-9\r\n\
              Lambda-Runtime-Deadline-Ms: 1764547200000\r\n\
              Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench-echo\r\n\
              Lambda-Runtime-Trace-Id: Root=1-5e1b4151-43a0913a12345678901234567;Parent=53995c3f42cd8ad8;Sampled=0\r\n\
              Content-Length: 2\r\n\r\n{}"
        );
        assert_eq!(accepted(Dialect::Scf), b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            accepted(Dialect::Lambda),
            b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n"
        );
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
            accepted: accepted(dialect),
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
                let mut cont = [0u8; http::CONTINUE.len()];
                s.read_exact(&mut cont).unwrap();
                assert_eq!(&cont[..], http::CONTINUE);
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
            accepted: accepted(Dialect::Scf),
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
            accepted: accepted(Dialect::Scf),
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
