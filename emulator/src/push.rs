//! The platform side of an image function: SCF waits for the image's HTTP
//! server to accept connections, then POSTs each event to `/event-invoke`
//! with the context in `X-Scf-*` request headers and takes the answer's
//! body as the result (docs/image-functions.md, "Platform facts").
//!
//! ```text
//! emulator                          the image's server (SCF_BOOTSTRAP_LISTEN)
//!    │ connect, close ─────────────▶  (the start check, until it accepts)
//!    │ POST /event-invoke ─────────▶  X-Scf-Request-Id, X-Scf-Memory, ...
//!    ◀──────────── 200 + result │ non-2xx + error message
//! ```
//!
//! One connection is kept open between events (HTTP/1.1 keep-alive) and
//! reopened when the server closed it; [`Pusher::new`] can instead send
//! each event on a connection of its own with `Connection: close`, as the
//! one captured SCF request shows.

use crate::http::{self, Conn, Framing};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The path SCF posts events to.
pub const PATH: &str = "/event-invoke";

/// What came of waiting for the server to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// It accepted a connection this long after exec.
    Up(Duration),
    /// The process exited first.
    Exited,
    /// Neither within the limit.
    TimedOut,
}

/// Waits until `addr` accepts a TCP connection (closed again at once: the
/// start check sends nothing), the process started at `spawned_at` has
/// `exited`, or `limit` has passed since it started. Tries every half
/// millisecond at first, backing off to 5 ms, so the start time is
/// measured to within that.
pub fn wait_listening(
    addr: SocketAddr,
    spawned_at: Instant,
    limit: Duration,
    exited: impl Fn() -> bool,
) -> Listen {
    let deadline = spawned_at + limit;
    let mut pause = Duration::from_micros(500);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Listen::Up(spawned_at.elapsed());
        }
        if exited() {
            return Listen::Exited;
        }
        let now = Instant::now();
        if now >= deadline {
            return Listen::TimedOut;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// The request headers of one event, in the order SCF's own request shows
/// them (after `Host`, `User-Agent` and the body's length and type).
pub type Headers<'a> = [(&'static str, &'a str)];

/// An answer read in full.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub status: u16,
    pub body: Vec<u8>,
    /// The server closed (or announced it would close) the connection
    /// after this answer.
    pub closed: bool,
    /// When the request's first byte was about to be written, and when
    /// the answer's last byte had been read: SCF's invocation clock.
    pub started_at: Instant,
    pub done_at: Instant,
}

/// Why an event got no answer.
#[derive(Debug)]
pub enum PushError {
    /// The server could not be reached.
    Connect(io::Error),
    /// No complete answer within the time limit (counted from the first
    /// byte of the request).
    Timeout { started_at: Instant },
    /// The connection ended (closed or reset) before a complete answer.
    Closed { started_at: Instant },
    /// The answer cannot be framed.
    Malformed(http::Error),
    /// The answer's body is over the limit (its length, when known).
    TooLarge(Option<usize>),
}

/// An image function's server, as the platform reaches it.
pub struct Pusher {
    addr: SocketAddr,
    close_each: bool,
    conn: Option<Conn<TcpStream>>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("addr", &self.addr)
            .field("close_each", &self.close_each)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl Pusher {
    /// The server at `addr`; `close_each`: every event on a connection of
    /// its own, sent with `Connection: close`.
    pub fn new(addr: SocketAddr, close_each: bool) -> Pusher {
        Pusher {
            addr,
            close_each,
            conn: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A connection to send on: the kept one if the server has not closed
    /// it meanwhile (seen without blocking: end of stream, or bytes nobody
    /// asked for, mean it is of no use), else a new one.
    fn connection(&mut self) -> io::Result<&mut Conn<TcpStream>> {
        let usable = self.conn.as_mut().is_some_and(|c| {
            !c.has_buffered()
                && c.get_ref().set_nonblocking(true).is_ok()
                && matches!(c.get_ref().peek(&mut [0u8]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
                && c.get_ref().set_nonblocking(false).is_ok()
        });
        if !usable {
            let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
            stream.set_nodelay(true)?;
            self.conn = Some(Conn::new(stream));
        }
        Ok(self.conn.as_mut().expect("a connection was just made"))
    }

    /// Posts `event` with `headers` and reads the answer, within `timeout`;
    /// a body over `max` bytes is refused. The connection is kept for the
    /// next event only when both sides keep it.
    pub fn push(
        &mut self,
        event: &[u8],
        headers: &Headers,
        timeout: Duration,
        max: usize,
    ) -> Result<Pushed, PushError> {
        let started_at = Instant::now();
        let result = self.exchange(event, headers, timeout, max, started_at);
        if !matches!(&result, Ok(p) if !p.closed) {
            self.conn = None;
        }
        result
    }

    fn exchange(
        &mut self,
        event: &[u8],
        headers: &Headers,
        timeout: Duration,
        max: usize,
        started_at: Instant,
    ) -> Result<Pushed, PushError> {
        let (addr, close_each) = (self.addr, self.close_each);
        let conn = self.connection().map_err(PushError::Connect)?;
        let mut head = format!(
            "POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: Go-http-client/1.1\r\n\
             Content-Length: {}\r\nContent-Type: application/json\r\n",
            event.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close_each {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let fault = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                PushError::Timeout { started_at }
            }
            _ => PushError::Closed { started_at },
        };
        // What is left of the limit (`None`: nothing is, which as a socket
        // timeout would mean "none at all").
        let left = |now: Instant| {
            let d = timeout
                .checked_sub(now - started_at)
                .filter(|d| !d.is_zero());
            d.ok_or(PushError::Timeout { started_at })
        };
        let stream = conn.get_mut();
        stream
            .set_write_timeout(Some(left(Instant::now())?))
            .map_err(fault)?;
        stream.write_all(head.as_bytes()).map_err(fault)?;
        stream.write_all(event).map_err(fault)?;
        let sent_at = Instant::now();
        conn.get_ref()
            .set_read_timeout(Some(left(sent_at)?))
            .map_err(fault)?;
        let raw = conn.read_head_bytes().map_err(|e| read_fault(e, &fault))?;
        let raw = raw.ok_or(PushError::Closed { started_at })?;
        let answer = http::parse_response_head(&raw).map_err(PushError::Malformed)?;
        let framing = answer.framing().map_err(PushError::Malformed)?;
        if let Framing::Length(n) = framing {
            if n > max {
                return Err(PushError::TooLarge(Some(n)));
            }
        }
        let body = conn
            .read_body(framing, max)
            .map_err(|e| read_fault(e, &fault))?;
        let done_at = Instant::now();
        if done_at - started_at > timeout {
            return Err(PushError::Timeout { started_at });
        }
        let closed = close_each || !answer.keep_alive() || framing == Framing::UntilClose;
        Ok(Pushed {
            status: answer.status,
            body,
            closed,
            started_at,
            done_at,
        })
    }
}

fn read_fault(e: http::ReadError, io_fault: &dyn Fn(io::Error) -> PushError) -> PushError {
    match e {
        http::ReadError::Io(e) => io_fault(e),
        http::ReadError::Http(http::Error::BodyTooLarge) => PushError::TooLarge(None),
        http::ReadError::Http(e) => PushError::Malformed(e),
    }
}
