//! The runtime API, served on loopback: the platform side of the protocol
//! a Custom Runtime `bootstrap` speaks, in SCF's dialect (the default) or
//! AWS Lambda's ([`ApiConfig::dialect`], [`crate::dialect`]).
//!
//! ```text
//!  bootstrap                          RuntimeApi                 caller
//!  ---------                          ----------                 ------
//!  POST /runtime/init/ready  ───────▶ ready_at = now ──────────▶ wait_ready()
//!  GET  /runtime/invocation/next ───▶ (long poll)   ◀─────────── invoke(event)
//!       ◀── event + request_id, memory_limit_in_mb, time_limit_in_ms
//!  POST /runtime/invocation/response ▶ first result is final ───▶ Ok(Outcome)
//!    or /runtime/invocation/error
//! ```
//!
//! One event is current at a time; concurrent [`RuntimeApi::invoke`] calls
//! wait their turn in FIFO order. Every `GET /next` made while an event is
//! current returns that same event; the first `response` or `error` pushed
//! after it was dispatched ends the invocation, and later pushes are
//! answered `200` but change nothing (they are counted in
//! [`Stats::ignored_results`]).
//!
//! In Lambda's dialect there is no `init/ready` (the first `/next` is the
//! ready signal), results go to `.../invocation/{id}/response` or `/error`
//! and count only under the current event's id, `init/error` is kept
//! ([`RuntimeApi::wait_init_error`]), and results are answered `202`.
//!
//! Each connection gets its own thread and may carry any number of requests
//! (keep-alive). Bodies may be framed by `Content-Length` or be chunked; a
//! request that cannot be framed is answered `400` with a one-line reason and
//! the connection is closed. [`Quirks`] make the server misbehave in the
//! ways a robust client must survive.

use crate::dialect::{Dialect, Endpoint, EventContext};
use crate::http;
use crate::server::{Acceptor, ReadError, Reader, Request};
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Largest request body the server will read. Bodies over SCF's 6 MB limit
/// are still read (the caller decides to refuse them, as SCF does with
/// status 407); beyond this the connection is answered `413` and closed.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// When the server closes a connection on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CloseMode {
    /// Keep-alive: close only when the client asks or errs.
    #[default]
    Never,
    /// Send `Connection: close` on every response, then close.
    AfterEachResponseWithHeader,
    /// Close after every response without announcing it.
    AfterEachResponseSilently,
}

/// Spelling of the context header names on `/next` responses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeaderCase {
    /// `request_id`, as documented.
    #[default]
    Lower,
    /// `Request_Id`, as printed in the Custom Runtime guide.
    Title,
    /// `REQUEST_ID`.
    Upper,
}

impl HeaderCase {
    fn apply(self, lower: &str) -> String {
        match self {
            HeaderCase::Lower => lower.to_string(),
            HeaderCase::Upper => lower.to_ascii_uppercase(),
            HeaderCase::Title => lower
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("_"),
        }
    }
}

/// Deliberate misbehaviour, to test a client's robustness. The default is a
/// well-behaved server.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// When to close connections.
    pub close: CloseMode,
    /// Send `/next` bodies with `Transfer-Encoding: chunked`, split into
    /// three chunks, one of them with chunk extensions.
    pub chunked_events: bool,
    /// Spelling of `request_id`, `memory_limit_in_mb`, `time_limit_in_ms`.
    pub header_case: HeaderCase,
    /// Add this many filler headers to `/next` responses and, when non-zero,
    /// a decoy `request_idx: wrong` header before the real `request_id`.
    pub extra_headers: usize,
    /// Answer the first this-many `/next` requests with `500`.
    pub fail_next: u32,
    /// Then answer this many with `204 No Content` (Lambda's "no event
    /// yet": the client polls again).
    pub empty_next: u32,
    /// Hold every `/next` this long before answering, even when an event is
    /// already queued.
    pub next_delay: Option<Duration>,
    /// Write the context headers of `/next` responses with obsolete line
    /// folding (RFC 9112, 5.2): each value starts on a continuation line,
    /// and the request id is split over two (`request_id:\r\n <first
    /// half>\r\n\t<second half>`), which a client must read as the two
    /// halves joined by one space.
    pub fold_headers: bool,
}

/// Configuration of a [`RuntimeApi`].
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Sent as `memory_limit_in_mb`.
    pub memory_mb: u32,
    /// Sent as `time_limit_in_ms`.
    pub timeout_ms: u64,
    pub quirks: Quirks,
    /// SCF's runtime API or AWS Lambda's.
    pub dialect: Dialect,
    /// A path prefix in front of every endpoint (cargo-lambda serves
    /// Lambda's under `/.rt`); empty for none.
    pub prefix: String,
    /// Keep every request read, for [`RuntimeApi::requests`] (tests that
    /// check the exchange; off, nothing is kept).
    pub record_requests: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            memory_mb: 128,
            timeout_ms: 3000,
            quirks: Quirks::default(),
            dialect: Dialect::Scf,
            prefix: String::new(),
            record_requests: false,
        }
    }
}

/// The first result pushed for an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Body of `POST /runtime/invocation/response`.
    Response(Vec<u8>),
    /// Body of `POST /runtime/invocation/error`.
    Error(Vec<u8>),
}

impl Outcome {
    /// The pushed body, whichever endpoint it came to.
    pub fn body(&self) -> &[u8] {
        match self {
            Outcome::Response(b) | Outcome::Error(b) => b,
        }
    }
}

/// A finished invocation with its timing.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// When the event became current (was offered to `/next`).
    pub offered_at: Instant,
    /// When the first `/next` answer carrying it was about to be written.
    pub dispatched_at: Instant,
    /// When the first result's body had been read completely.
    pub finished_at: Instant,
    /// How many `/next` requests were answered with this event.
    pub polls: u32,
    /// The head of the request that pushed the result (its path and
    /// headers: Lambda's error type, for one).
    pub head: http::Head,
}

/// A request as the server read it ([`ApiConfig::record_requests`],
/// [`RuntimeApi::wait_init_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub head: http::Head,
    pub body: Vec<u8>,
}

impl Invocation {
    /// SCF's invocation clock: dispatch to first result.
    pub fn duration(&self) -> Duration {
        self.finished_at
            .saturating_duration_since(self.dispatched_at)
    }
}

/// Limits for one [`RuntimeApi::invoke_with`] call.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// Budget from dispatch to the first result (SCF's `Timeout`).
    pub timeout: Duration,
    /// Budget from becoming current until some `/next` takes the event;
    /// `None` waits for a poller indefinitely (until aborted or dropped).
    pub dispatch_timeout: Option<Duration>,
    /// The request id to send; `None` generates a UUID-shaped one.
    pub request_id: Option<String>,
}

/// Why an invocation produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// Dispatched, but no result arrived within the timeout.
    Timeout {
        request_id: String,
        dispatched_at: Instant,
    },
    /// No `/next` took the event within the dispatch timeout.
    NotDispatched { request_id: String },
    /// [`RuntimeApi::abort`] was called (the bootstrap is gone).
    Aborted {
        request_id: String,
        dispatched_at: Option<Instant>,
    },
    /// The server is shutting down.
    Closed,
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::Timeout { request_id, .. } => {
                write!(f, "invocation {request_id}: no result before the timeout")
            }
            InvokeError::NotDispatched { request_id } => {
                write!(
                    f,
                    "invocation {request_id}: no GET /runtime/invocation/next took the event"
                )
            }
            InvokeError::Aborted { request_id, .. } => {
                write!(f, "invocation {request_id}: aborted (runtime gone)")
            }
            InvokeError::Closed => f.write_str("runtime API server is shut down"),
        }
    }
}

impl std::error::Error for InvokeError {}

/// Counters of what the server saw and sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Requests fully read (any path).
    pub requests: u64,
    /// Requests read with the next request's bytes already buffered
    /// behind them: the client sent the next one before this one was
    /// answered (HTTP/1.1 pipelining; the reader serves them in order).
    pub pipelined: u64,
    /// Accepted `POST /runtime/init/ready` (non-empty body).
    pub ready_posts: u64,
    /// `GET /runtime/invocation/next` received.
    pub next_requests: u64,
    /// `/next` answers that carried an event.
    pub events_sent: u64,
    /// `POST /runtime/invocation/response` received.
    pub response_posts: u64,
    /// `POST /runtime/invocation/error` received.
    pub error_posts: u64,
    /// Pushed results that changed nothing: late, repeated or with no
    /// dispatched invocation.
    pub ignored_results: u64,
    /// `400` answers (malformed request, empty `init/ready`).
    pub bad_requests: u64,
    /// `404` answers (a path the runtime API does not have).
    pub not_found: u64,
    /// `405` answers (a known path with the wrong method).
    pub method_not_allowed: u64,
    /// `500` answers (from [`Quirks::fail_next`]).
    pub server_errors: u64,
    /// `204` answers to `/next` (from [`Quirks::empty_next`]).
    pub empty_nexts: u64,
    /// Lambda's `POST .../init/error` received.
    pub init_errors: u64,
}

struct Current {
    request_id: String,
    event: Arc<Vec<u8>>,
    /// Sent with the event, after the context headers.
    headers: Arc<Vec<(String, String)>>,
    dispatched_at: Option<Instant>,
    polls: u32,
    result: Option<(Outcome, Instant, http::Head)>,
}

#[derive(Default)]
struct State {
    closed: bool,
    aborted: bool,
    ready_at: Option<Instant>,
    current: Option<Current>,
    /// Generation of `current`, so a failed `/next` write can tell whether
    /// the invocation it served is still the current one.
    generation: u64,
    fail_next_left: u32,
    empty_next_left: u32,
    /// Lambda's first `init/error` post.
    init_error: Option<Recorded>,
    /// Every request, with [`ApiConfig::record_requests`].
    requests: Vec<Recorded>,
    /// `/next` requests waiting for an event right now.
    waiting_polls: u32,
    stats: Stats,
}

struct Shared {
    cfg: ApiConfig,
    /// Invocations take turns here, in arrival order.
    turn: Fifo,
    state: Mutex<State>,
    cond: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain counters behind; carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.cond.wait(g).unwrap_or_else(|e| e.into_inner())
    }

    fn wait_until<'a>(&self, g: MutexGuard<'a, State>, deadline: Instant) -> MutexGuard<'a, State> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.cond
            .wait_timeout(g, left)
            .unwrap_or_else(|e| e.into_inner())
            .0
    }
}

/// A running runtime API server. Dropping it stops the listener and closes
/// every connection; pending `invoke` calls return [`InvokeError::Closed`].
pub struct RuntimeApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<Acceptor>,
}

impl fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl RuntimeApi {
    /// Binds and starts serving on a background thread.
    pub fn start(cfg: ApiConfig) -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind(cfg.bind)?;
        let addr = listener.local_addr()?;
        let state = State {
            fail_next_left: cfg.quirks.fail_next,
            empty_next_left: cfg.quirks.empty_next,
            ..State::default()
        };
        let shared = Arc::new(Shared {
            cfg,
            turn: Fifo::default(),
            state: Mutex::new(state),
            cond: Condvar::new(),
        });
        let sh = shared.clone();
        let acceptor = Acceptor::start(
            listener,
            "scf-api",
            Arc::new(move |stream| {
                sh.lock().stats.connections += 1;
                serve_connection(&sh, stream)
            }),
        )?;
        Ok(RuntimeApi {
            shared,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address (with the port picked when binding port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration this server runs with.
    pub fn config(&self) -> &ApiConfig {
        &self.shared.cfg
    }

    /// Waits until the first accepted `init/ready` (Lambda: the first
    /// `/next`); false on timeout, abort, shutdown or an `init/error`.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if st.ready_at.is_some() {
                return true;
            }
            if st.closed || st.aborted || st.init_error.is_some() || Instant::now() >= deadline {
                return false;
            }
            st = self.shared.wait_until(st, deadline);
        }
    }

    /// When the first accepted `init/ready` had been read, if it has.
    pub fn ready_at(&self) -> Option<Instant> {
        self.shared.lock().ready_at
    }

    /// Queues one event and waits for its first result, for at most
    /// `timeout` after it was dispatched and at most `timeout` for a `/next`
    /// to take it. Waiting for earlier invocations is not counted.
    pub fn invoke(&self, event: &[u8], timeout: Duration) -> Result<Outcome, InvokeError> {
        let opts = InvokeOptions {
            timeout,
            dispatch_timeout: Some(timeout),
            request_id: None,
        };
        self.invoke_with(event, opts).map(|inv| inv.outcome)
    }

    /// Like [`invoke`](Self::invoke), with every limit explicit and the
    /// timing returned.
    pub fn invoke_with(
        &self,
        event: &[u8],
        opts: InvokeOptions,
    ) -> Result<Invocation, InvokeError> {
        self.invoke_with_headers(event, &[], opts)
    }

    /// Like [`invoke_with`](Self::invoke_with), sending `headers` with the
    /// event after the context headers (Lambda's deadline, ARN, trace id;
    /// anything a test wants the bootstrap to see).
    pub fn invoke_with_headers(
        &self,
        event: &[u8],
        headers: &[(&str, &str)],
        opts: InvokeOptions,
    ) -> Result<Invocation, InvokeError> {
        let request_id = opts.request_id.unwrap_or_else(new_request_id);
        let sh = &*self.shared;
        // Our turn first; a closed or aborted server is noticed after it.
        let _turn = sh.turn.lock();
        let mut st = sh.lock();
        if st.closed {
            return Err(InvokeError::Closed);
        }
        if st.aborted {
            return Err(InvokeError::Aborted {
                request_id,
                dispatched_at: None,
            });
        }
        let offered_at = Instant::now();
        st.generation += 1;
        st.current = Some(Current {
            request_id: request_id.clone(),
            event: Arc::new(event.to_vec()),
            headers: Arc::new(
                headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            ),
            dispatched_at: None,
            polls: 0,
            result: None,
        });
        sh.cond.notify_all();
        let result = loop {
            let cur = st
                .current
                .as_mut()
                .expect("current invocation is ours until we end it");
            if let Some((outcome, finished_at, head)) = cur.result.take() {
                break Ok(Invocation {
                    request_id: request_id.clone(),
                    outcome,
                    offered_at,
                    dispatched_at: cur.dispatched_at.unwrap_or(offered_at),
                    finished_at,
                    polls: cur.polls,
                    head,
                });
            }
            let dispatched_at = cur.dispatched_at;
            if st.closed {
                break Err(InvokeError::Closed);
            }
            if st.aborted {
                break Err(InvokeError::Aborted {
                    request_id: request_id.clone(),
                    dispatched_at,
                });
            }
            let deadline = match (dispatched_at, opts.dispatch_timeout) {
                (Some(t), _) => Some(t + opts.timeout),
                (None, Some(d)) => Some(offered_at + d),
                (None, None) => None,
            };
            match deadline {
                Some(d) if Instant::now() >= d => {
                    break Err(match dispatched_at {
                        Some(t) => InvokeError::Timeout {
                            request_id: request_id.clone(),
                            dispatched_at: t,
                        },
                        None => InvokeError::NotDispatched {
                            request_id: request_id.clone(),
                        },
                    })
                }
                Some(d) => st = sh.wait_until(st, d),
                None => st = sh.wait(st),
            }
        };
        st.current = None;
        sh.cond.notify_all();
        result
    }

    /// Fails the pending invocation and every later one with
    /// [`InvokeError::Aborted`], and ends [`wait_ready`](Self::wait_ready).
    /// Call it when the bootstrap process is gone. A result already pushed
    /// is still delivered.
    pub fn abort(&self) {
        self.shared.lock().aborted = true;
        self.shared.cond.notify_all();
    }

    /// Whether a `GET /runtime/invocation/next` is waiting for an event now
    /// (the runtime is alive and idle).
    pub fn is_polling(&self) -> bool {
        self.shared.lock().waiting_polls > 0
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats
    }

    /// Every request read so far, in order, with
    /// [`ApiConfig::record_requests`] (otherwise none).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Waits up to `timeout` for Lambda's `init/error` post (the first one).
    pub fn wait_init_error(&self, timeout: Duration) -> Option<Recorded> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        while st.init_error.is_none() && !st.closed && Instant::now() < deadline {
            st = self.shared.wait_until(st, deadline);
        }
        st.init_error.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Long polls and invoke() calls see `closed` and return; then the
        // acceptor closes every connection and stops.
        self.shared.lock().closed = true;
        self.shared.cond.notify_all();
        self.acceptor.take();
    }
}

/// What to do with the connection after a response.
#[derive(PartialEq, Eq)]
enum After {
    KeepOpen,
    Close,
}

struct Conn<'a> {
    sh: &'a Shared,
    reader: Reader,
}

impl Conn<'_> {
    /// Writes a complete response, applying the close quirks. Returns
    /// whether the connection should stay open.
    fn send(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        keep_alive: bool,
    ) -> After {
        let close_mode = self.sh.cfg.quirks.close;
        let mut hs: Vec<(&str, &str)> = headers.to_vec();
        if close_mode == CloseMode::AfterEachResponseWithHeader || !keep_alive {
            hs.push(("Connection", "close"));
        }
        let ok = self.reader.write(&http::response(status, &hs, body));
        if !ok || !keep_alive || close_mode != CloseMode::Never {
            After::Close
        } else {
            After::KeepOpen
        }
    }

    /// The dialect's answer to a pushed result.
    fn accepted(&mut self, keep_alive: bool) -> After {
        let (status, headers, body) = self.sh.cfg.dialect.accepted();
        self.send(status, headers, body, keep_alive)
    }

    fn send_text(&mut self, status: u16, text: &str, keep_alive: bool) -> After {
        let body = format!("{text}\n");
        self.send(
            status,
            &[("Content-Type", "text/plain; charset=utf-8")],
            body.as_bytes(),
            keep_alive,
        )
    }
}

fn serve_connection(sh: &Shared, stream: TcpStream) {
    let mut conn = Conn {
        sh,
        reader: Reader::new(stream, MAX_BODY),
    };
    loop {
        let req = match conn.reader.read_request() {
            Ok(r) => r,
            Err(ReadError::Gone) => break,
            Err(ReadError::Bad(status, reason)) => {
                sh.lock().stats.bad_requests += 1;
                conn.send_text(status, &format!("bad request: {reason}"), false);
                break;
            }
        };
        {
            let mut st = sh.lock();
            st.stats.requests += 1;
            st.stats.pipelined += u64::from(conn.reader.conn.has_buffered());
            if sh.cfg.record_requests {
                let (head, body) = (req.head.clone(), req.body.clone());
                st.requests.push(Recorded { head, body });
            }
        }
        if handle(&mut conn, req) == After::Close {
            break;
        }
    }
    let _ = conn.reader.conn.get_ref().shutdown(Shutdown::Both);
}

fn handle(conn: &mut Conn<'_>, req: Request) -> After {
    let sh = conn.sh;
    let keep = req.head.keep_alive();
    // The path without a query string; the runtime API's paths take no
    // parameters.
    let path = req.head.path().to_string();
    let method = req.head.method.as_str();
    let unprefixed = path.strip_prefix(sh.cfg.prefix.as_str()).unwrap_or("");
    let Some(route) = sh.cfg.dialect.route(unprefixed.as_bytes()) else {
        sh.lock().stats.not_found += 1;
        return conn.send_text(404, &format!("not found: {path}"), keep);
    };
    let allow = route.endpoint.method();
    if method != allow {
        sh.lock().stats.method_not_allowed += 1;
        let text = format!("method not allowed: {method} {path} (use {allow})\n");
        return conn.send(405, &[("Allow", allow)], text.as_bytes(), keep);
    }
    match route.endpoint {
        Endpoint::Ready => {
            if req.body.is_empty() {
                sh.lock().stats.bad_requests += 1;
                return conn.send_text(400, "bad request: init/ready body must not be empty", keep);
            }
            {
                let mut st = sh.lock();
                st.stats.ready_posts += 1;
                if st.ready_at.is_none() {
                    st.ready_at = Some(req.complete_at);
                }
            }
            sh.cond.notify_all();
            conn.send(200, &[], b"", keep)
        }
        Endpoint::InitError => {
            {
                let mut st = sh.lock();
                st.stats.init_errors += 1;
                st.init_error.get_or_insert(Recorded {
                    head: req.head,
                    body: req.body,
                });
            }
            sh.cond.notify_all();
            conn.accepted(keep)
        }
        Endpoint::Response | Endpoint::Error => {
            // Lambda's result names its event; SCF's is the current one's.
            let id = &unprefixed[route.id];
            let response = route.endpoint == Endpoint::Response;
            let outcome = if response {
                Outcome::Response(req.body)
            } else {
                Outcome::Error(req.body)
            };
            {
                let mut st = sh.lock();
                if response {
                    st.stats.response_posts += 1;
                } else {
                    st.stats.error_posts += 1;
                }
                match st.current.as_mut() {
                    Some(cur)
                        if cur.dispatched_at.is_some()
                            && cur.result.is_none()
                            && (id.is_empty() || id == cur.request_id) =>
                    {
                        cur.result = Some((outcome, req.complete_at, req.head));
                    }
                    _ => st.stats.ignored_results += 1,
                }
            }
            sh.cond.notify_all();
            conn.accepted(keep)
        }
        Endpoint::Next => next(conn, keep, req.complete_at),
    }
}

/// `GET /runtime/invocation/next`: long-polls for the current event.
fn next(conn: &mut Conn<'_>, keep: bool, complete_at: Instant) -> After {
    let sh = conn.sh;
    let quirks = &sh.cfg.quirks;
    {
        let mut st = sh.lock();
        st.stats.next_requests += 1;
        if sh.cfg.dialect == Dialect::Lambda && st.ready_at.is_none() {
            // No init/ready on Lambda: the first /next is the signal.
            st.ready_at = Some(complete_at);
            sh.cond.notify_all();
        }
        if st.fail_next_left > 0 {
            st.fail_next_left -= 1;
            st.stats.server_errors += 1;
            drop(st);
            return conn.send_text(500, "injected failure (Quirks::fail_next)", keep);
        }
        if st.empty_next_left > 0 {
            st.empty_next_left -= 1;
            st.stats.empty_nexts += 1;
            drop(st);
            return conn.send(204, &[], b"", keep);
        }
    }
    if let Some(delay) = quirks.next_delay {
        let until = Instant::now() + delay;
        let mut st = sh.lock();
        while !st.closed && Instant::now() < until {
            st = sh.wait_until(st, until);
        }
    }
    let (event, request_id, extra, generation, first) = {
        let mut st = sh.lock();
        loop {
            if st.closed {
                return After::Close;
            }
            let generation = st.generation;
            if let Some(cur) = st.current.as_mut().filter(|c| c.result.is_none()) {
                cur.polls += 1;
                let first = cur.dispatched_at.is_none();
                if first {
                    cur.dispatched_at = Some(Instant::now());
                }
                let out = (
                    cur.event.clone(),
                    cur.request_id.clone(),
                    cur.headers.clone(),
                    generation,
                    first,
                );
                st.stats.events_sent += 1;
                break out;
            }
            st.waiting_polls += 1;
            st = sh.wait(st);
            st.waiting_polls -= 1;
        }
    };
    let scf = sh.cfg.dialect == Dialect::Scf;
    let ctx = EventContext {
        request_id: &request_id,
        memory_mb: sh.cfg.memory_mb,
        timeout_ms: sh.cfg.timeout_ms,
        ..EventContext::default()
    };
    // SCF's context with its quirks: the names' spelling, and the values
    // folded over continuation lines (the request id over two).
    let context: Vec<(String, String)> = sh
        .cfg
        .dialect
        .context_headers(&ctx)
        .into_iter()
        .enumerate()
        .map(|(i, (name, value))| match i {
            _ if !scf => (name.to_string(), value),
            _ if !quirks.fold_headers => (quirks.header_case.apply(name), value),
            0 => {
                let (a, b) = value.split_at(value.len() / 2);
                (quirks.header_case.apply(name), format!("\r\n {a}\r\n\t{b}"))
            }
            1 => (quirks.header_case.apply(name), format!("\r\n {value}")),
            _ => (quirks.header_case.apply(name), format!("\r\n\t{value}")),
        })
        .collect();
    let fillers: Vec<(String, String)> = (0..quirks.extra_headers)
        .map(|i| {
            (
                format!("x-scf-filler-{i:03}"),
                format!("filler value {i} for header-table stress"),
            )
        })
        .collect();
    let mut headers: Vec<(&str, &str)> = fillers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if quirks.extra_headers > 0 && scf {
        headers.push(("request_idx", "wrong"));
    }
    headers.extend(
        context
            .iter()
            .chain(extra.iter())
            .map(|(n, v)| (n.as_str(), v.as_str())),
    );
    let close_mode = quirks.close;
    if close_mode == CloseMode::AfterEachResponseWithHeader || !keep {
        headers.push(("Connection", "close"));
    }
    let written = if quirks.chunked_events {
        let mut ok = conn.reader.write(&http::response_head(200, &headers, None));
        for chunk in http::encode_chunks(&event, 3) {
            ok = ok && conn.reader.write(&chunk);
        }
        ok
    } else {
        conn.reader.write(&http::response(200, &headers, &event))
    };
    if !written && first {
        // Nobody received it: it was not dispatched after all, and the next
        // poller should start the clock.
        let mut st = sh.lock();
        if st.generation == generation {
            if let Some(cur) = st.current.as_mut().filter(|c| c.result.is_none()) {
                cur.dispatched_at = None;
            }
        }
    }
    if !written || !keep || close_mode != CloseMode::Never {
        After::Close
    } else {
        After::KeepOpen
    }
}

/// A queue: callers of [`lock`](Fifo::lock) are served one at a time in
/// arrival order (std's `Mutex` promises no order). The one queue of the
/// crate: invocations of a runtime API and of a function wait in it.
#[derive(Default)]
pub(crate) struct Fifo {
    tickets: Mutex<(u64, u64)>,
    cond: Condvar,
}

pub(crate) struct FifoTurn<'a>(&'a Fifo);

impl Fifo {
    pub fn lock(&self) -> FifoTurn<'_> {
        let mut t = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let mine = t.0;
        t.0 += 1;
        while t.1 != mine {
            t = self.cond.wait(t).unwrap_or_else(|e| e.into_inner());
        }
        FifoTurn(self)
    }
}

impl Drop for FifoTurn<'_> {
    fn drop(&mut self) {
        self.0.tickets.lock().unwrap_or_else(|e| e.into_inner()).1 += 1;
        self.0.cond.notify_all();
    }
}

/// A random UUID-shaped (version 4 layout) request id, without a random
/// number crate: std's `RandomState` is seeded from the OS per process and
/// perturbed per call.
pub fn new_request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let word = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.finish()
    };
    let (a, b) = (word(1), word(2));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0x0fff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_case() {
        assert_eq!(
            HeaderCase::Lower.apply("memory_limit_in_mb"),
            "memory_limit_in_mb"
        );
        assert_eq!(
            HeaderCase::Title.apply("memory_limit_in_mb"),
            "Memory_Limit_In_Mb"
        );
        assert_eq!(HeaderCase::Upper.apply("request_id"), "REQUEST_ID");
    }

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(a.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
    }
}
