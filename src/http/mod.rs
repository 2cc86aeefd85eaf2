//! A blocking HTTP/1.1 client for exactly one peer, a runtime API.
//!
//! It keeps one keep-alive TCP connection and reuses it for every request;
//! the framing is done by the pure functions of [`wire`], and this module
//! only moves bytes. A request comes as the pieces that, joined, make it
//! (for SCF's routes: the constant request line, the Host line joined once
//! at start, the body length and the body) and goes out in one `sendmsg`,
//! whatever dialect built it. Responses are read into one growable buffer
//! that is reused for the life of the process, and bodies and the fields a
//! caller asked for ([`wire::Fields`]) are handed out as slices and spans
//! of it.
//!
//! Failure policy:
//! - a connection that was idle and has been closed by the peer (EOF or reset
//!   before the first byte of the response) is reopened and the request sent
//!   again at once, one time per request: the runtime API makes a repeated
//!   `/next` return the same event and keeps the first result pushed;
//! - connection failures and 5xx answers are retried with a doubling backoff
//!   (10 ms up to 1 s) for [`RETRY_BUDGET_MS`], then reported;
//! - a malformed or truncated response is reported at once, never retried;
//! - bytes left in the receive buffer after a complete response, when the
//!   next request is about to go out, mean the peer sent something nobody
//!   asked for: the connection is out of step (each answer would be read as
//!   the answer to the request after it), so it is closed and the request
//!   goes out on a new one, as curl does; stderr is told the first time.
//!   This costs no syscall: the buffer knows what it holds. Bytes that
//!   arrive after the last read returned are not seen until the next
//!   response is read; a `recv` per request to look for them would cost
//!   every warm invocation a syscall.
//!
//! Pipelining (opt-in, see [`Client::request_then`]): a request may take
//! the next one along in its `sendmsg`; its answer is then the next
//! response on the connection, read by [`Client::request_sent`] without
//! sending anything. Once the first answer is
//! complete, the rules above hold for the second (a close before its
//! first byte is the idle case: it is resent at once, once). Before that,
//! nothing is resent: the peer may have read both, and resending the
//! first (a result) after the second (a `/next`) was served could attach
//! it to the next event; the caller decides.
//!
//! No read has a timeout: `/runtime/invocation/next` is a long poll that the
//! platform may hold for minutes, and the platform's own invocation timeout
//! bounds every other exchange.

pub mod wire;

use crate::diag::{put, Arg, Line};
use crate::sys::{self, Addrs, Buf, Errno, OwnedFd};

/// How long connection failures and 5xx answers are retried before giving up.
pub const RETRY_BUDGET_MS: u64 = 10_000;

/// What went wrong with a request; the caller knows which endpoint it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Retries exhausted; the last cause is given. (From
    /// [`Client::request_then`]: its one try failed.)
    Unreachable(Cause),
    /// The response could not be framed.
    Malformed(wire::Error),
    /// The connection ended in the middle of a response.
    Truncated,
    /// A body larger than [`wire::MAX_BODY`] or a head larger than 1 MiB.
    TooLarge(u64),
    /// The receive buffer could not grow.
    NoMemory,
}

/// The retry policy as pure functions of the clock, so that it can be
/// tested without sleeping: a run of failures that began at `since` is
/// given up at a failure at `now` (monotonic ms) once [`RETRY_BUDGET_MS`]
/// have passed; until then each failure is followed by a pause that starts
/// at [`FIRST_DELAY_MS`] and doubles up to 1 s.
#[inline(always)]
const fn budget_spent(since: u64, now: u64) -> bool {
    now.saturating_sub(since) >= RETRY_BUDGET_MS
}

/// The pause after one of `delay` ms (see [`budget_spent`]).
#[inline(always)]
fn next_delay(delay: u64) -> u64 {
    (delay * 2).min(1000)
}

/// The first pause of a run of failures.
const FIRST_DELAY_MS: u64 = 10;

/// Why one attempt failed in a way worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    Connect(Errno),
    Send(Errno),
    Recv(Errno),
    /// The peer closed the connection before answering.
    Closed,
    /// The runtime API answered with a 5xx status.
    Status(u16),
}

/// A received response: its status and its body (see [`Client::body`]).
/// Its other fields went to the caller's [`wire::Fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    body: (usize, usize),
}

/// What an attempt does besides its own request: nothing, send a second
/// request in the same write (pipelining), or nothing but read, its
/// request having gone out with the one before.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pipe<'r> {
    Alone,
    #[cfg_attr(not(feature = "pipeline"), allow(dead_code))]
    Then(&'r [&'r [u8]]),
    Sent,
}

/// A framing fault as the client reports it.
fn fault(f: wire::Fault) -> Attempt {
    Attempt::Fatal(match f {
        wire::Fault::Malformed(e) => Error::Malformed(e),
        wire::Fault::Truncated => Error::Truncated,
        wire::Fault::TooLarge(n) => Error::TooLarge(n),
    })
}

enum Attempt {
    /// An idle connection turned out to be closed: resend once, at once.
    Stale(Cause),
    Retry(Cause),
    Fatal(Error),
}

/// What it takes to send one more message to the client's peer without
/// the client: its kept connection (if open) and the addresses to connect
/// to afresh. For [`crate::crash`], which posts a crash report from a
/// signal handler and must not touch the client's buffers or its retry
/// policy.
#[derive(Clone, Copy)]
pub struct Peer<'a> {
    pub conn: Option<&'a OwnedFd>,
    pub addrs: &'a Addrs,
}

/// The client. `'b` is the lifetime of its receive buffer's initial memory
/// and of the joined Host tail.
pub struct Client<'b> {
    addrs: Addrs,
    conn: Option<OwnedFd>,
    /// The connection has completed an exchange, so a close before the next
    /// response is the idle-close case rather than a failure.
    reused: bool,
    rx: Buf<'b>,
    /// Bytes at the front of `rx` that belong to the last response.
    done: usize,
    /// The Host value and what follows it ([`wire::Tail`]).
    tail: &'b [u8],
    /// An out-of-step connection was reported on stderr already.
    warned: bool,
    /// A request went out with the last one, and its answer is still to
    /// be read from the connection: where the first of its pieces starts
    /// (see [`Client::request_then`]).
    pending: Option<usize>,
}

impl<'b> Client<'b> {
    /// A client for the peer at `addrs`, whose requests carry `tail` (see
    /// [`Client::tail`]).
    pub fn new(addrs: Addrs, tail: &'b [u8], rx: Buf<'b>) -> Client<'b> {
        Client { addrs, conn: None, reused: false, rx, done: 0, tail, warned: false, pending: None }
    }

    /// The joined Host value and what follows it, for the requests' pieces
    /// (see [`wire::request`]). A borrow of the tail, not of the client.
    pub fn tail(&self) -> &'b [u8] {
        self.tail
    }

    /// The bytes of `r`'s body, valid until the next request.
    pub fn body(&self, r: &Response) -> &[u8] {
        self.rx.as_slice().get(r.body.0..r.body.1).unwrap_or_default()
    }

    /// A view of the connection and the addresses (see [`Peer`]).
    pub fn peer(&self) -> Peer<'_> {
        Peer { conn: self.conn.as_ref(), addrs: &self.addrs }
    }

    /// The whole receive buffer: what the spans of the last head's fields
    /// (see [`wire::Fields`]) point into, valid until the next request.
    pub fn received(&self) -> &[u8] {
        self.rx.as_slice()
    }

    /// The same, mutable, so that a caller can NUL-terminate or unfold a
    /// field's value in place.
    pub fn received_mut(&mut self) -> &mut [u8] {
        self.rx.as_mut_slice()
    }

    /// Sends one request, `pieces` joined, and reads its response, with the
    /// retry policy in the module docs; the head's fields go to `fields`.
    /// If the request went out with the last one (see
    /// [`Client::request_then`]), its answer is read without sending it
    /// again.
    pub fn request<F: wire::Fields>(&mut self, pieces: &[&[u8]], fields: &mut F) -> Result<Response, Error> {
        let pipe = self.take_pending(pieces);
        self.send(pieces, pipe, fields)
    }

    /// [`Client::request`] with the request `then` in the same `sendmsg`;
    /// returns the first answer. The second is read by the next
    /// [`Client::request`] of the same pieces, which sends nothing if the
    /// connection it went out on is still open (any other request drops
    /// that connection first).
    ///
    /// Nothing is resent: a failure that would be retried (a connection
    /// closed or broken before the first answer, a 5xx) is returned at
    /// once as [`Error::Unreachable`], because the peer may have read both
    /// requests. Only the caller can tell whether the first still needs
    /// sending (SCF: by what `then`, a `/next`, now brings).
    #[cfg(feature = "pipeline")]
    pub fn request_then<F: wire::Fields>(
        &mut self,
        pieces: &[&[u8]],
        then: &[&[u8]],
        fields: &mut F,
    ) -> Result<Response, Error> {
        let pipe = match self.take_pending(pieces) {
            Pipe::Sent => Pipe::Sent,
            _ => Pipe::Then(then),
        };
        self.send(pieces, pipe, fields)
    }

    /// How the request `pieces` goes out: its answer may already be on its
    /// way (the same first piece, a constant line, as the request that went
    /// out with the last). Any other request drops that connection, so that
    /// the unread answer is not taken for its own.
    #[inline(always)]
    fn take_pending(&mut self, pieces: &[&[u8]]) -> Pipe<'static> {
        match self.pending.take() {
            None => Pipe::Alone,
            Some(p) if pieces.first().map(|f| f.as_ptr() as usize) == Some(p) => Pipe::Sent,
            Some(_) => {
                self.conn = None;
                Pipe::Alone
            }
        }
    }

    /// Every kind of request: one call of [`Client::attempt`], so that it
    /// is inlined into the retry loop (a second call site would keep it a
    /// function, and its response would be copied out of each call).
    /// `pipe` applies to the first attempt only; a pipelined attempt is
    /// not retried (see [`Client::request_then`]).
    fn send<F: wire::Fields>(&mut self, pieces: &[&[u8]], mut pipe: Pipe, fields: &mut F) -> Result<Response, Error> {
        self.with_retries(|c| {
            let p = core::mem::replace(&mut pipe, Pipe::Alone);
            c.attempt(pieces, p, fields).map_err(|e| match (p, e) {
                (Pipe::Then(_), Attempt::Stale(c) | Attempt::Retry(c)) => Attempt::Fatal(Error::Unreachable(c)),
                (_, e) => e,
            })
        })
    }

    fn with_retries<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T, Attempt>) -> Result<T, Error> {
        let mut resent = false;
        let mut failing_since: Option<u64> = None;
        let mut delay = FIRST_DELAY_MS;
        loop {
            let cause = match f(self) {
                Ok(v) => return Ok(v),
                Err(Attempt::Fatal(e)) => {
                    self.conn = None;
                    return Err(e);
                }
                Err(Attempt::Stale(c)) if !resent => {
                    resent = true;
                    self.drop_conn(c);
                    continue;
                }
                Err(Attempt::Stale(c) | Attempt::Retry(c)) => c,
            };
            self.drop_conn(cause);
            let now = sys::monotonic_ms();
            let since = *failing_since.get_or_insert(now);
            if budget_spent(since, now) {
                return Err(Error::Unreachable(cause));
            }
            sys::sleep_ms(delay);
            delay = next_delay(delay);
        }
    }

    /// Drops the connection after a failure for `cause`. One whose socket
    /// the failure found no longer behind its number (a handler closed it,
    /// and may have opened a file of its own there) is forgotten rather
    /// than closed: closing the number would close the handler's file.
    #[cold]
    #[inline(never)]
    fn drop_conn(&mut self, cause: Cause) {
        if let (Some(fd), Cause::Send(e) | Cause::Recv(e)) = (self.conn.take(), cause) {
            if e.not_this_socket() {
                fd.forget();
            }
        }
    }

    fn ensure_connected(&mut self) -> Result<(), Cause> {
        if self.conn.is_some() {
            return Ok(());
        }
        let mut last = Errno::CONNREFUSED;
        for a in self.addrs.iter() {
            match sys::connect(a) {
                Ok(fd) => {
                    self.conn = Some(fd);
                    self.reused = false;
                    // Anything left from the old connection is meaningless now.
                    self.rx.clear();
                    self.done = 0;
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(Cause::Connect(last))
    }

    /// One try: the request (with `pipe`'s), then the response.
    fn attempt<F: wire::Fields>(&mut self, pieces: &[&[u8]], pipe: Pipe, fields: &mut F) -> Result<Response, Attempt> {
        self.rx.consume(self.done);
        self.done = 0;
        // Bytes left over are the start of the answer already asked for
        // when the request went out with the last one.
        // (A request that went out on a connection since dropped is sent
        // again.)
        let pipe = match pipe {
            Pipe::Sent if self.conn.is_none() => Pipe::Alone,
            p => p,
        };
        if !self.rx.is_empty() && self.conn.is_some() && pipe != Pipe::Sent {
            self.out_of_step();
        }
        self.ensure_connected().map_err(Attempt::Retry)?;
        let reused = self.reused;
        let failed = |c| if reused { Attempt::Stale(c) } else { Attempt::Retry(c) };
        let fd = self.conn.as_ref().ok_or(Attempt::Retry(Cause::Closed))?;
        let sent = match pipe {
            Pipe::Sent => Ok(()),
            Pipe::Then(then) => {
                let mut both: [&[u8]; wire::PIECES] = [b""; wire::PIECES];
                both.iter_mut().zip(pieces.iter().chain(then)).for_each(|(d, s)| *d = s);
                sys::send_all(fd, &both)
            }
            Pipe::Alone => sys::send_all(fd, pieces),
        };
        sent.map_err(|e| failed(Cause::Send(e)))?;

        // Read until a final (non-1xx) head is complete.
        let mut received = false;
        let head = loop {
            let parsed =
                wire::parse_head(self.rx.as_slice(), fields).map_err(|e| Attempt::Fatal(Error::Malformed(e)))?;
            match wire::head_step(parsed.as_ref().map(|h| (h.status, h.len)), self.rx.len()).map_err(fault)? {
                wire::HeadStep::Skip(n) => self.rx.consume(n),
                // (`parsed` is a head here: that is what Final says.)
                wire::HeadStep::Final => {
                    if let Some(h) = parsed {
                        break h;
                    }
                }
                wire::HeadStep::More => match self.fill(true) {
                    Ok(0) if !received && self.rx.is_empty() => return Err(failed(Cause::Closed)),
                    Ok(0) => return Err(Attempt::Fatal(Error::Truncated)),
                    Ok(_) => received = true,
                    Err(Error::Unreachable(Cause::Recv(e))) if !received && self.rx.is_empty() => {
                        return Err(failed(Cause::Recv(e)))
                    }
                    Err(Error::Unreachable(_)) => return Err(Attempt::Fatal(Error::Truncated)),
                    Err(e) => return Err(Attempt::Fatal(e)),
                },
            }
        };

        // Then its body, as wire's framing policy says.
        let start = head.len;
        let mut framer = wire::BodyFramer::new(head.framing, wire::MAX_BODY);
        let mut closed = false;
        let (body, end) = loop {
            // The head is within what was read, so `start` is too.
            let region = self.rx.as_mut_slice().get_mut(start..).unwrap_or_default();
            // Each read but an until-close body's takes a failed read for
            // the close (the framer then says whether the body was whole).
            let (grow, read_error_is_close) = match framer.step(region, closed).map_err(fault)? {
                wire::BodyStep::Done { len, end } => break ((start, start + len), start + end),
                wire::BodyStep::Need(n) => {
                    // Straight into memory of the body's size: a 6 MB
                    // event takes 6 MB, not the next power of two.
                    self.rx.reserve_exact(n).map_err(|_| Attempt::Fatal(Error::NoMemory))?;
                    (false, true)
                }
                wire::BodyStep::More => (true, true),
                wire::BodyStep::UntilClose => (true, false),
            };
            closed = match self.fill(grow) {
                Ok(n) => n == 0,
                Err(Error::Unreachable(_)) if read_error_is_close => true,
                Err(e) => return Err(Attempt::Fatal(e)),
            };
        };
        self.done = end;
        if head.keep_alive {
            self.reused = true;
        } else {
            self.conn = None;
        }
        if head.status >= 500 {
            return Err(Attempt::Retry(Cause::Status(head.status)));
        }
        // The second request's answer follows on this connection, if it
        // stays open.
        if let (Pipe::Then(then), Some(_)) = (pipe, &self.conn) {
            self.pending = then.first().map(|f| f.as_ptr() as usize);
        }
        Ok(Response { status: head.status, body })
    }

    /// Drops a connection on which the peer sent more than was asked for.
    #[cold]
    fn out_of_step(&mut self) {
        if !self.warned {
            self.warned = true;
            let mut l = Line::new();
            put!(
                l,
                "warning: the runtime API sent {} bytes after a complete response; closed that connection and opened \
                 a new one (said once)",
                Arg::Num(self.rx.len() as u64)
            )
            .emit();
        }
        self.conn = None;
    }

    /// One `read` into the free end of the buffer. With `grow`, the buffer
    /// doubles first when less than 1 KiB is free; without, only when nothing
    /// is (the caller has reserved exactly what it needs). Errors are
    /// reported as `Unreachable(Recv)` for the caller to classify.
    fn fill(&mut self, grow: bool) -> Result<usize, Error> {
        let free = self.rx.capacity() - self.rx.len();
        if free == 0 || (grow && free < 1024) {
            self.rx.reserve(self.rx.capacity().max(4096)).map_err(|_| Error::NoMemory)?;
        }
        let Some(fd) = self.conn.as_ref() else { return Ok(0) };
        self.rx.read_from(fd).map_err(|e| Error::Unreachable(Cause::Recv(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::{budget_spent, next_delay, FIRST_DELAY_MS, RETRY_BUDGET_MS};

    /// The policy as `Client::with_retries` applies it: after a failure at
    /// `now` in a run that began at `since`, the pause to take and the
    /// next one, or `None` to give up.
    fn backoff(since: u64, now: u64, delay: u64) -> Option<(u64, u64)> {
        (!budget_spent(since, now)).then(|| (delay, next_delay(delay)))
    }

    /// Drives the policy as `Client::with_retries` does (the run starts at
    /// its first failure) over a simulated clock where each attempt takes
    /// `cost` ms; returns the pauses and the clock when it gave up.
    fn run(start: u64, cost: u64) -> (Vec<u64>, u64) {
        let (mut now, mut delay, mut pauses) = (start, FIRST_DELAY_MS, Vec::new());
        let since = start + cost;
        loop {
            now += cost;
            match backoff(since, now, delay) {
                Some((pause, next)) => {
                    pauses.push(pause);
                    now += pause;
                    delay = next;
                }
                None => return (pauses, now),
            }
        }
    }

    #[test]
    fn retries_double_from_10_ms_to_1_s_for_the_budget_then_give_up() {
        // An attempt that fails at once (connection refused).
        let (pauses, end) = run(5_000, 0);
        assert_eq!(pauses[..8], [10, 20, 40, 80, 160, 320, 640, 1000]);
        assert!(pauses[7..].iter().all(|&p| p == 1000), "{pauses:?}");
        // Gives up at the first failure at or past the budget: 1270 ms of
        // growing pauses, then 9 of 1 s reach 10,270 ms.
        assert_eq!((pauses.len(), end - 5_000), (16, 10_270));
        // Slow attempts (a timeout each) spend the same budget in fewer tries.
        let (pauses, end) = run(0, 3_000);
        assert_eq!(pauses, [10, 20, 40, 80]);
        assert!((RETRY_BUDGET_MS..RETRY_BUDGET_MS + 3_000).contains(&(end - 3_000)), "{end}");
    }

    #[test]
    fn the_budget_is_counted_from_the_first_failure() {
        assert_eq!(backoff(0, 0, FIRST_DELAY_MS), Some((10, 20)));
        assert_eq!(backoff(0, RETRY_BUDGET_MS - 1, 1000), Some((1000, 1000)));
        assert_eq!(backoff(0, RETRY_BUDGET_MS, 20), None);
        // A new run (after a success) has the whole budget again.
        assert_eq!(backoff(RETRY_BUDGET_MS * 5, RETRY_BUDGET_MS * 5, FIRST_DELAY_MS), Some((10, 20)));
    }
}
