//! HTTP/1.1 server framing without I/O, for push mode: a request head
//! parsed zero-copy (through `httparse`) into its route, body framing,
//! connection rules and the platform's context headers; the policy for
//! `Expect: 100-continue`; and every answer's head as pieces for one
//! vectored write. Request bodies are framed by the client's own
//! [`BodyFramer`] (a `Content-Length` or a chunked body, de-chunked in
//! place), bounded by [`MAX_EVENT`].
//!
//! A platform is a [`Dialect`]: the path events are posted to and a table
//! of header names, one per context [`Field`]. SCF's is [`SCF`]; another
//! platform that pushes events the same way (Alibaba Function Compute's
//! `POST /invoke` with `x-fc-*` headers, Huawei FunctionGraph's `X-CFF-*`)
//! would be another table.
//!
//! Every function here works on byte slices only and allocates nothing.

use crate::http::wire::eq_lowercase;
pub use crate::http::wire::{BodyFramer, BodyStep, Fault, Framing};
use crate::text::{parse_decimal, parse_digits, trim};
use core::mem::MaybeUninit;
use core::ops::Range;

/// The largest request head accepted (start line and fields). SCF's heads
/// are well under 1 KB; this is nginx's default bound for a client's head
/// (four 8 KB buffers), and past it the answer is `431`.
pub const MAX_HEAD: usize = 32 << 10;

/// The most header fields one request head may carry (past it, `431`).
pub const MAX_HEADERS: usize = 100;

/// The largest event accepted: SCF's limit on a synchronous event, "6 MB",
/// read as 6 × 2^20 bytes as the response limit is
/// ([`crate::ffi::MAX_RESPONSE`], which says why). The platform refuses
/// larger events itself (status 406), so a larger body did not come from
/// it; it is answered `413`.
pub const MAX_EVENT: usize = crate::ffi::MAX_RESPONSE;

/// How long the server waits for the rest of a request head once it has
/// started reading one (a client that connects and stalls is not read
/// until it sends: see the driver), before answering `408` and closing.
pub const HEAD_TIMEOUT_MS: u64 = 5000;

/// How long a request body may pause (no bytes arriving) before the
/// server answers `408` and closes.
pub const BODY_IDLE_MS: u64 = 5000;

/// Why a request whose memory size or timeout header is not a decimal
/// number is refused.
pub const INVALID_NUMBER: &str = "invalid memory size or timeout header: not a decimal number";

/// One piece of the invocation context a platform sends as a request
/// header. The discriminant indexes [`Dialect::names`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    RequestId,
    /// The memory size, in MB.
    MemoryMb,
    /// The invocation's time limit, in ms.
    TimeoutMs,
    FunctionName,
    FunctionVersion,
    Namespace,
    Region,
    AppId,
    Uin,
    /// Temporary credentials: never logged ([`Field::is_secret`]).
    SecretId,
    SecretKey,
    SessionToken,
    /// What triggered the invocation (SCF: `timer` for a timer trigger).
    TriggerSource,
}

/// How many [`Field`]s there are.
pub const FIELDS: usize = 13;

impl Field {
    /// Every field, in discriminant order.
    pub const ALL: [Field; FIELDS] = [
        Field::RequestId,
        Field::MemoryMb,
        Field::TimeoutMs,
        Field::FunctionName,
        Field::FunctionVersion,
        Field::Namespace,
        Field::Region,
        Field::AppId,
        Field::Uin,
        Field::SecretId,
        Field::SecretKey,
        Field::SessionToken,
        Field::TriggerSource,
    ];

    /// Whether the value is a credential, which no message may show. (The
    /// driver shows no header at all; the tests hold it to this list.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub const fn is_secret(self) -> bool {
        matches!(self, Field::SecretId | Field::SecretKey | Field::SessionToken)
    }
}

/// A platform's push protocol, as far as framing is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The path events are POSTed to.
    pub path: &'static [u8],
    /// Each field's header name in lowercase, indexed by `Field as usize`;
    /// empty for a field the platform does not send.
    pub names: [&'static [u8]; FIELDS],
    /// For each name length, the fields whose names have it, a bit each
    /// (`1 << Field as usize`): a header is compared only with the names
    /// of its length, one or two, instead of all of them (which took a
    /// twelfth of a warm pushed invocation).
    by_len: [u16; MAX_NAME + 1],
}

/// The longest context header name a dialect may have.
const MAX_NAME: usize = 31;

impl Dialect {
    /// The dialect of `names` (see [`Dialect::names`]) posted to `path`.
    /// A name longer than 31 bytes fails the build (or panics).
    pub const fn new(path: &'static [u8], names: [&'static [u8]; FIELDS]) -> Dialect {
        let mut by_len = [0u16; MAX_NAME + 1];
        let mut i = 0;
        while i < FIELDS {
            let n = names[i].len();
            assert!(n <= MAX_NAME, "a context header name of more than 31 bytes");
            if n > 0 {
                by_len[n] |= 1 << i;
            }
            i += 1;
        }
        Dialect { path, names, by_len }
    }

    /// The field whose header is `name` (in any case).
    fn field(&self, name: &[u8]) -> Option<Field> {
        let mut fields = self.by_len.get(name.len()).copied().unwrap_or(0);
        while fields != 0 {
            let i = fields.trailing_zeros() as usize;
            fields &= fields - 1;
            if self.names.get(i).is_some_and(|w| eq_lowercase(name, w)) {
                return Field::ALL.get(i).copied();
            }
        }
        None
    }
}

/// SCF's: `POST /event-invoke` and the request headers of the "WebServer
/// Image Function" page (product 583, document 41076), in [`Field`] order.
pub const SCF: Dialect = Dialect::new(
    b"/event-invoke",
    [
        b"x-scf-request-id",
        b"x-scf-memory",
        b"x-scf-timeout",
        b"x-scf-name",
        b"x-scf-version",
        b"x-scf-namespace",
        b"x-scf-region",
        b"x-scf-appid",
        b"x-scf-uin",
        b"x-scf-secret-id",
        b"x-scf-secret-key",
        b"x-scf-session-token",
        b"x-scf-trigger-src",
    ],
);

/// Where a header value lies in the buffer its head was parsed from, in
/// 16 bits a side: a head is at most [`MAX_HEAD`] bytes, so no value
/// starts at `u16::MAX`, which marks a field not sent. (Half the size of
/// 32-bit offsets with an `Option` tag: the context is set up and moved
/// once per request.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u16,
    end: u16,
}

const _: () = assert!(MAX_HEAD < u16::MAX as usize);

impl Span {
    const NONE: Span = Span { start: u16::MAX, end: u16::MAX };
}

/// The context headers of one request, as offsets into the buffer its head
/// was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    spans: [Span; FIELDS],
    /// [`Field::MemoryMb`] as a number (0: not sent).
    pub memory_mb: u64,
    /// [`Field::TimeoutMs`] as a number (0: not sent).
    pub timeout_ms: u64,
}

impl Context {
    /// Where `field`'s value lies in the head's buffer, if it was sent. A
    /// field sent twice keeps its last value.
    pub fn get(&self, field: Field) -> Option<Range<usize>> {
        let s = self.spans.get(field as usize).copied().filter(|s| *s != Span::NONE)?;
        Some(s.start as usize..s.end as usize)
    }
}

/// Why a request is answered with an error and its connection closed.
/// Each variant names one fault and has one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `400`: not a valid HTTP/1.x request head, or a body whose framing
    /// cannot be trusted; the reason says which.
    Malformed(&'static str),
    /// `431`: no complete head within [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// `431`: more than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// `404`: a path other than the dialect's (HTTP-triggered functions'
    /// paths among them).
    NotFound,
    /// `405`: the dialect's path with a method other than POST.
    MethodNotAllowed,
    /// `413`: a body over [`MAX_EVENT`] bytes.
    TooLarge,
    /// `417`: an `Expect` other than `100-continue`.
    Expectation,
    /// `501`: a transfer coding other than a lone `chunked`.
    UnsupportedCoding,
    /// `408`: a head not complete within [`HEAD_TIMEOUT_MS`] of the
    /// server starting to wait for it, or a body that paused for
    /// [`BODY_IDLE_MS`].
    Timeout,
    /// `503`: no memory to receive the event.
    NoMemory,
}

impl Refusal {
    /// The status code and the status line (CRLF included).
    fn status_parts(self) -> (u16, &'static [u8]) {
        match self {
            Refusal::Malformed(_) => (400, b"HTTP/1.1 400 Bad Request\r\n"),
            Refusal::HeadTooLarge | Refusal::TooManyHeaders => {
                (431, b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
            }
            Refusal::NotFound => (404, b"HTTP/1.1 404 Not Found\r\n"),
            Refusal::MethodNotAllowed => (405, b"HTTP/1.1 405 Method Not Allowed\r\n"),
            Refusal::TooLarge => (413, b"HTTP/1.1 413 Content Too Large\r\n"),
            Refusal::Expectation => (417, b"HTTP/1.1 417 Expectation Failed\r\n"),
            Refusal::UnsupportedCoding => (501, b"HTTP/1.1 501 Not Implemented\r\n"),
            Refusal::Timeout => (408, b"HTTP/1.1 408 Request Timeout\r\n"),
            Refusal::NoMemory => (503, b"HTTP/1.1 503 Service Unavailable\r\n"),
        }
    }

    /// The status code (for tests and tools: the driver sends the line).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn status(self) -> u16 {
        self.status_parts().0
    }

    /// The status line, CRLF included.
    pub fn status_line(self) -> &'static [u8] {
        self.status_parts().1
    }

    /// The one-line reason sent as the body (without its line end).
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Malformed(why) => why,
            Refusal::HeadTooLarge => "request head larger than 32768 bytes",
            Refusal::TooManyHeaders => "more than 100 request header fields",
            Refusal::NotFound => {
                "not found: this bootstrap serves event functions at POST /event-invoke \
                 (HTTP-triggered functions are not served)"
            }
            Refusal::MethodNotAllowed => "method not allowed: events are posted with POST",
            Refusal::TooLarge => "event larger than 6 MB (6291456 bytes)",
            Refusal::Expectation => "expectation failed: only Expect: 100-continue is understood",
            Refusal::UnsupportedCoding => "transfer coding not implemented: only a lone chunked is decoded",
            Refusal::Timeout => {
                "request timeout: a head takes at most 5000 ms, and a body may pause for at most 5000 ms"
            }
            Refusal::NoMemory => "no memory to receive the event",
        }
    }
}

/// A parsed request head that is to be served: the event's body framing,
/// the connection rules and the context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Bytes of the head, including the blank line; the body starts here.
    pub len: usize,
    /// How the body is delimited: [`Framing::Length`] or
    /// [`Framing::Chunked`], never [`Framing::UntilClose`] (a request
    /// without either has no body, RFC 9112, 6.3).
    pub body: Framing,
    /// Whether the connection may carry another request afterwards.
    pub keep_alive: bool,
    /// An HTTP/1.0 request: a kept connection must be announced in the
    /// answer (`Connection: keep-alive`).
    pub http10: bool,
    /// The client waits for `100 Continue` before sending the body.
    pub expects_continue: bool,
    pub context: Context,
}

/// Parses the request head at the start of `buf` (all bytes received so
/// far on the connection) for `dialect`. `Ok(None)`: the head is not
/// complete yet; read more and call again with the longer buffer. `Err`:
/// answer with the refusal and close.
///
/// Checked in this order, so that a request is refused for the first fault
/// a reader would meet: the head's syntax and size, then its framing (a
/// fault there makes the rest of the connection unreadable), then the
/// route, then the event's size.
pub fn parse_request(buf: &[u8], dialect: &Dialect) -> Result<Option<Request>, Refusal> {
    // Left uninitialised: httparse fills only what it parses.
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_request_with_uninit_headers(&mut req, buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) if n > MAX_HEAD => return Err(Refusal::HeadTooLarge),
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(Refusal::HeadTooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::TooManyHeaders),
        Err(e) => return Err(Refusal::Malformed(describe_httparse(e))),
    };
    // All three are Some once parsing completed.
    let http10 = req.version == Some(0);
    let method = req.method.unwrap_or_default().as_bytes();
    let target = req.path.unwrap_or_default().as_bytes();

    let mut length: Option<u64> = None;
    let mut codings = Codings::None;
    let mut hosts = 0u32;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expects_continue = false;
    let mut context = Context { spans: [Span::NONE; FIELDS], memory_mb: 0, timeout_ms: 0 };
    let base = buf.as_ptr() as usize;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        let is = |want: &[u8]| eq_lowercase(name, want);
        match name.len() {
            14 if is(b"content-length") => {
                // A list of equal values ("5, 5") is one length (RFC 9110, 8.6).
                for v in h.value.split(|&b| b == b',') {
                    let n = parse_decimal(v).ok_or(Refusal::Malformed("invalid Content-Length"))?;
                    if length.is_some_and(|l| l != n) {
                        return Err(Refusal::Malformed("Content-Length values that differ"));
                    }
                    length = Some(n);
                }
            }
            17 if is(b"transfer-encoding") => {
                for c in h.value.split(|&b| b == b',').map(trim) {
                    codings = codings.then(c);
                }
            }
            10 if is(b"connection") => {
                for t in h.value.split(|&b| b == b',').map(trim) {
                    close |= eq_lowercase(t, b"close");
                    keep_alive_token |= eq_lowercase(t, b"keep-alive");
                }
            }
            6 if is(b"expect") => {
                // HTTP/1.0 clients cannot expect anything (RFC 9110, 10.1.1).
                if !http10 {
                    if !eq_lowercase(h.value, b"100-continue") {
                        return Err(Refusal::Expectation);
                    }
                    expects_continue = true;
                }
            }
            4 if is(b"host") => hosts += 1,
            _ => {
                if let Some(field) = dialect.field(name) {
                    // httparse leaves no blank around a value. It borrows
                    // from buf: as an offset range it outlives the parse.
                    let value = h.value;
                    let start = value.as_ptr() as usize - base;
                    // (Both within the head: at most MAX_HEAD.)
                    let span = Span { start: start as u16, end: (start + value.len()) as u16 };
                    if let Some(slot) = context.spans.get_mut(field as usize) {
                        *slot = span;
                    }
                    // A number the handler cannot be given: the request is
                    // faulty (the platform always sends decimal ones).
                    let number = || parse_digits(value).ok_or(Refusal::Malformed(INVALID_NUMBER));
                    match field {
                        Field::MemoryMb => context.memory_mb = number()?,
                        Field::TimeoutMs => context.timeout_ms = number()?,
                        _ => {}
                    }
                }
            }
        }
    }

    // RFC 9112, 3.2: one Host in HTTP/1.1, at most one in HTTP/1.0.
    if hosts > 1 || (hosts == 0 && !http10) {
        return Err(Refusal::Malformed("a request needs exactly one Host header field"));
    }
    let body = match (codings, length) {
        (Codings::None, None) => Framing::Length(0),
        (Codings::None, Some(n)) => Framing::Length(n),
        // Both: a smuggling attempt or a broken proxy (RFC 9112, 6.3).
        (_, Some(_)) => return Err(Refusal::Malformed("both Content-Length and Transfer-Encoding")),
        // RFC 9112, 6.1: an HTTP/1.0 message with Transfer-Encoding is faulty.
        (_, None) if http10 => return Err(Refusal::Malformed("Transfer-Encoding in an HTTP/1.0 request")),
        (Codings::Chunked, None) => Framing::Chunked,
        // RFC 9112, 6.3: chunked must be the final coding of a request.
        (Codings::NotFinal, None) => {
            return Err(Refusal::Malformed("Transfer-Encoding whose final coding is not chunked"))
        }
        (Codings::Other, None) => return Err(Refusal::UnsupportedCoding),
    };
    // (Eight bytes at a time: musl's memcmp takes the path byte by byte.)
    if !crate::sys::same(origin_path(target), dialect.path) {
        return Err(Refusal::NotFound);
    }
    if method != b"POST" {
        return Err(Refusal::MethodNotAllowed);
    }
    if matches!(body, Framing::Length(n) if n > MAX_EVENT as u64) {
        return Err(Refusal::TooLarge);
    }
    let keep_alive = !close && (!http10 || keep_alive_token);
    Ok(Some(Request { len, body, keep_alive, http10, expects_continue, context }))
}

/// What a request's `Transfer-Encoding` list amounts to, read coding by
/// coding (several fields are one list, RFC 9110, 5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codings {
    /// No coding (no field).
    None,
    /// `chunked` alone.
    Chunked,
    /// Some coding other than `chunked` is last.
    NotFinal,
    /// `chunked` last, after another coding (which is not decoded).
    Other,
}

impl Codings {
    fn then(self, coding: &[u8]) -> Codings {
        match (self, eq_lowercase(coding, b"chunked")) {
            (Codings::None, true) => Codings::Chunked,
            (_, true) => Codings::Other,
            (_, false) => Codings::NotFinal,
        }
    }
}

/// The path of a request target: the origin form up to any query, also
/// out of an absolute-form target (`http://host/path?q`, RFC 9112, 3.2.2).
fn origin_path(target: &[u8]) -> &[u8] {
    let scheme =
        [&b"http://"[..], b"https://"].into_iter().find(|s| target.get(..s.len()).is_some_and(|p| eq_lowercase(p, s)));
    let target = match scheme {
        // From the first '/' after the authority; none: the empty path.
        Some(s) => {
            let rest = target.get(s.len()..).unwrap_or_default();
            rest.iter().position(|&b| b == b'/').and_then(|i| rest.get(i..)).unwrap_or_default()
        }
        None => target,
    };
    target.split(|&b| b == b'?').next().unwrap_or_default()
}

fn describe_httparse(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid request line",
        httparse::Error::Token => "invalid method or request target",
        httparse::Error::Version => "not an HTTP/1.x request line",
        httparse::Error::TooManyHeaders => "more than 100 request header fields",
    }
}

/// The body framer for a request: its framing, bounded by [`MAX_EVENT`].
/// Fed every byte received after the head, it de-chunks in place.
pub fn body_framer(req: &Request) -> BodyFramer {
    BodyFramer::new(req.body, MAX_EVENT as u64)
}

/// One step of reading an event's body ([`BodyFramer::step`] of
/// [`body_framer`]'s framer), held to [`MAX_EVENT`] at its end too: a
/// chunked body that arrived whole in one read was not checked as it
/// streamed in.
pub fn body_step(framer: &mut BodyFramer, region: &mut [u8], closed: bool) -> Result<BodyStep, Fault> {
    match framer.step(region, closed)? {
        BodyStep::Done { len, .. } if len > MAX_EVENT => Err(Fault::TooLarge(len as u64)),
        step => Ok(step),
    }
}

/// The answer to a body that cannot be read to its end: a refusal, or
/// `None` when the client closed before the end (nobody is left to answer).
pub fn body_refusal(fault: Fault) -> Option<Refusal> {
    match fault {
        Fault::Malformed(e) => Some(Refusal::Malformed(e.describe())),
        Fault::TooLarge(_) => Some(Refusal::TooLarge),
        Fault::Truncated => None,
    }
}

/// The interim answer to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Whether to write [`CONTINUE`] before reading the body: the client asked,
/// there is a body, and none of it has arrived (a client that did not wait
/// needs no go-ahead; RFC 9110, 10.1.1). `body_bytes` is what was received
/// after the head. A refused request gets its refusal instead.
pub fn send_continue(req: &Request, body_bytes: usize) -> bool {
    req.expects_continue && body_bytes == 0 && req.body != Framing::Length(0)
}

/// What the answer to a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `200`: the handler's result is the body.
    Result,
    /// `500`: the handler's error message is the body.
    HandlerError,
    /// `500` with `Connection: close`: the crash line is the body, and the
    /// process dies after writing it. (The crash report writes it from
    /// [`CRASH_HEAD`], from a signal handler; this is the same answer, as
    /// the tests compare.)
    #[cfg_attr(not(test), allow(dead_code))]
    Crash,
    /// The request's refusal; its message is the body.
    Refused(Refusal),
}

/// The head of an answer comes in this many pieces.
pub const HEAD_PIECES: usize = 5;

const TEXT: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\n";
const TEXT_ALLOW_POST: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\nAllow: POST\r\n";
const LENGTH: &[u8] = b"Content-Length: ";
const END: &[u8] = b"\r\n\r\n";
const END_CLOSE: &[u8] = b"\r\nConnection: close\r\n\r\n";
const END_KEEP_ALIVE: &[u8] = b"\r\nConnection: keep-alive\r\n\r\n";

/// The head of `answer` to `req` (`None`: no request head could be parsed)
/// for a body of `body_len` bytes, as pieces for one vectored write (the
/// body's pieces follow), and whether the connection stays open after it.
/// A result and a handler's error keep the connection as the request
/// allows; a crash and a refusal close it.
pub fn answer_head<'a>(
    answer: Answer,
    req: Option<&Request>,
    body_len: usize,
    digits: &'a mut itoa::Buffer,
) -> ([&'a [u8]; HEAD_PIECES], bool) {
    let (status, fields): (&[u8], &[u8]) = match answer {
        Answer::Result => (b"HTTP/1.1 200 OK\r\n", b""),
        Answer::HandlerError | Answer::Crash => (b"HTTP/1.1 500 Internal Server Error\r\n", TEXT),
        Answer::Refused(Refusal::MethodNotAllowed) => (Refusal::MethodNotAllowed.status_line(), TEXT_ALLOW_POST),
        Answer::Refused(r) => (r.status_line(), TEXT),
    };
    let keep = matches!(answer, Answer::Result | Answer::HandlerError) && req.is_some_and(|r| r.keep_alive);
    let end = match req {
        _ if !keep => END_CLOSE,
        Some(r) if r.http10 => END_KEEP_ALIVE,
        _ => END,
    };
    ([status, fields, LENGTH, digits.format(body_len).as_bytes(), end], keep)
}

/// The head of a crash report's answer, for a crash report's post
/// (`crash::Post::head`): a `500` that closes the connection, up to its
/// body's length (the report's writer adds the length and the body, the
/// crash line). What [`answer_head`] writes for [`Answer::Crash`], with
/// the fields in the order a post needs them.
pub const CRASH_HEAD: [&[u8]; 3] = [
    b"HTTP/1.1 500 Internal Server Error\r\n",
    b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n",
    LENGTH,
];

/// A refusal's whole answer (head and one-line body), as pieces, for the
/// request it refuses (`None` when no head could be parsed).
pub fn refusal<'a>(r: Refusal, req: Option<&Request>, digits: &'a mut itoa::Buffer) -> [&'a [u8]; HEAD_PIECES + 2] {
    let msg = r.message().as_bytes();
    let ([a, b, c, d, e], _) = answer_head(Answer::Refused(r), req, msg.len() + 1, digits);
    [a, b, c, d, e, msg, b"\n"]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<Request>, Refusal> {
        parse_request(s.as_bytes(), &SCF)
    }

    fn ok(s: &str) -> Request {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e:?}")).unwrap_or_else(|| panic!("partial: {s:?}"))
    }

    const POST: &str = "POST /event-invoke HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n";

    #[test]
    fn framing_keep_alive_and_continue() {
        use Framing::*;
        let cases: &[(&str, Framing, bool, bool)] = &[
            ("Content-Length: 5\r\n\r\nhello", Length(5), true, false),
            ("content-length:  7 \r\n\r\n", Length(7), true, false),
            ("Content-Length: 5\r\nContent-Length: 5\r\n\r\n", Length(5), true, false),
            ("Content-Length: 5, 5\r\n\r\n", Length(5), true, false),
            ("\r\n", Length(0), true, false),
            ("Transfer-Encoding: chunked\r\n\r\n", Chunked, true, false),
            ("Transfer-Encoding:  Chunked \r\n\r\n", Chunked, true, false),
            ("Connection: close\r\nContent-Length: 0\r\n\r\n", Length(0), false, false),
            ("Connection: Upgrade, CLOSE\r\n\r\n", Length(0), false, false),
            ("Connection: keep-alive\r\n\r\n", Length(0), true, false),
            ("Expect: 100-continue\r\nContent-Length: 9\r\n\r\n", Length(9), true, true),
            ("Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n", Chunked, true, true),
            (&format!("Content-Length: {MAX_EVENT}\r\n\r\n"), Length(MAX_EVENT as u64), true, false),
        ];
        for (rest, body, keep, expect) in cases {
            let text = format!("{POST}{rest}");
            let r = ok(&text);
            assert_eq!(
                (r.body, r.keep_alive, r.expects_continue, r.http10),
                (*body, *keep, *expect, false),
                "{text:?}"
            );
            assert_eq!(r.len, text.find("\r\n\r\n").unwrap() + 4, "{text:?}");
        }
        // HTTP/1.0: closed unless asked, announced when kept; Expect ignored.
        let r = ok("POST /event-invoke HTTP/1.0\r\nContent-Length: 2\r\n\r\n");
        assert_eq!((r.keep_alive, r.http10, r.body), (false, true, Length(2)));
        let r = ok("POST /event-invoke HTTP/1.0\r\nConnection: Keep-Alive\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!((r.keep_alive, r.http10, r.expects_continue), (true, true, false));
        // Blank lines before the request line are skipped (RFC 9112, 2.2).
        assert_eq!(ok(&format!("\r\n{POST}\r\n")).body, Length(0));
    }

    #[test]
    fn routes() {
        for target in ["/event-invoke", "/event-invoke?x=1", "http://h:9000/event-invoke", "HTTPS://h/event-invoke?a"] {
            let text = format!("POST {target} HTTP/1.1\r\nHost: h\r\n\r\n");
            assert!(ok(&text).keep_alive, "{text:?}");
        }
        let cases: &[(&str, Refusal)] = &[
            ("POST /web-invoke/python-flask-http HTTP/1.1", Refusal::NotFound),
            ("GET / HTTP/1.1", Refusal::NotFound),
            ("POST /event-invoke/ HTTP/1.1", Refusal::NotFound),
            ("POST /Event-Invoke HTTP/1.1", Refusal::NotFound),
            ("POST /invoke HTTP/1.1", Refusal::NotFound),
            ("POST http://h HTTP/1.1", Refusal::NotFound),
            ("POST * HTTP/1.1", Refusal::NotFound),
            ("GET /event-invoke HTTP/1.1", Refusal::MethodNotAllowed),
            ("post /event-invoke HTTP/1.1", Refusal::MethodNotAllowed),
            ("PUT /event-invoke?x HTTP/1.1", Refusal::MethodNotAllowed),
        ];
        for (line, want) in cases {
            let text = format!("{line}\r\nHost: h\r\n\r\n");
            assert_eq!(parse(&text), Err(*want), "{text:?}");
        }
    }

    #[test]
    fn partial_heads_wait_and_huge_ones_are_refused() {
        for p in ["", "POST", "POST /event-invoke HTTP/1.1\r\n", &format!("{POST}Content-Length: 5\r\n")] {
            assert_eq!(parse(p), Ok(None), "{p:?}");
        }
        let long = format!("{POST}X-Filler: {}", "x".repeat(MAX_HEAD));
        assert_eq!(parse(&long[..MAX_HEAD - 1]), Ok(None));
        assert_eq!(parse(&long[..MAX_HEAD]), Err(Refusal::HeadTooLarge));
        // A complete head past the bound is refused too.
        let complete = format!("{POST}X-Filler: {}\r\n\r\n", "x".repeat(MAX_HEAD));
        assert_eq!(parse(&complete), Err(Refusal::HeadTooLarge));
        let mut many = String::from(POST);
        for i in 0..MAX_HEADERS {
            many += &format!("x-{i}: {i}\r\n");
        }
        assert_eq!(parse(&(many.clone() + "\r\n")), Err(Refusal::TooManyHeaders));
        // One fewer (Host is one of them) is fine.
        let fewer = many.rsplit_once("x-").unwrap().0.to_string() + "\r\n";
        assert!(parse(&fewer).unwrap().is_some());
    }

    #[test]
    fn refusals() {
        let m = Refusal::Malformed;
        let cases: &[(&str, Refusal)] = &[
            ("garbage\r\n\r\n", m("invalid method or request target")),
            ("POST /event-invoke HTTP/2.0\r\nHost: h\r\n\r\n", m("not an HTTP/1.x request line")),
            ("POST /event-invoke HTTP/1.1\r\nBad Name: x\r\n\r\n", m("invalid header name")),
            ("POST /event-invoke HTTP/1.1\r\nA: b\x01c\r\n\r\n", m("invalid header value")),
            // Obsolete line folding is refused in requests (RFC 9112, 5.2).
            ("POST /event-invoke HTTP/1.1\r\nHost: h\r\nX-Scf-Name: a\r\n b\r\n\r\n", m("invalid header name")),
            ("POST /event-invoke HTTP/1.1\r\n\r\n", m("a request needs exactly one Host header field")),
            (
                "POST /event-invoke HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                m("a request needs exactly one Host header field"),
            ),
            (
                "POST /event-invoke HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
                m("a request needs exactly one Host header field"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Err(*want), "{text:?}");
        }
        let fields: &[(&str, Refusal)] = &[
            ("Content-Length: x", m("invalid Content-Length")),
            ("Content-Length: -1", m("invalid Content-Length")),
            ("Content-Length: +1", m("invalid Content-Length")),
            ("Content-Length: 1,", m("invalid Content-Length")),
            ("Content-Length: 99999999999999999999", m("invalid Content-Length")),
            ("Content-Length: 1\r\nContent-Length: 2", m("Content-Length values that differ")),
            ("Content-Length: 1, 2", m("Content-Length values that differ")),
            ("Content-Length: 1\r\nTransfer-Encoding: chunked", m("both Content-Length and Transfer-Encoding")),
            ("Transfer-Encoding: gzip", m("Transfer-Encoding whose final coding is not chunked")),
            ("Transfer-Encoding: chunked, gzip", m("Transfer-Encoding whose final coding is not chunked")),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
                m("Transfer-Encoding whose final coding is not chunked"),
            ),
            ("Transfer-Encoding:", m("Transfer-Encoding whose final coding is not chunked")),
            ("Transfer-Encoding: gzip, chunked", Refusal::UnsupportedCoding),
            ("Transfer-Encoding: chunked, chunked", Refusal::UnsupportedCoding),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", Refusal::UnsupportedCoding),
            ("Expect: something", Refusal::Expectation),
            ("Expect: 100-continue, x", Refusal::Expectation),
            (&format!("Content-Length: {}", MAX_EVENT + 1), Refusal::TooLarge),
        ];
        for (field, want) in fields {
            let text = format!("{POST}{field}\r\n\r\n");
            assert_eq!(parse(&text), Err(*want), "{text:?}");
        }
        let text = "POST /event-invoke HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(text), Err(m("Transfer-Encoding in an HTTP/1.0 request")));
        // Framing faults come before the route: the connection is unreadable either way.
        let text = "GET /nowhere HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n";
        assert_eq!(parse(text), Err(m("invalid Content-Length")));
        // The route before the size: a wrong path is the clearer message.
        let text = format!("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n", MAX_EVENT + 1);
        assert_eq!(parse(&text), Err(Refusal::NotFound));
    }

    #[test]
    fn each_refusal_has_its_status_and_a_one_line_message() {
        let all = [
            (Refusal::Malformed("x"), 400),
            (Refusal::HeadTooLarge, 431),
            (Refusal::TooManyHeaders, 431),
            (Refusal::NotFound, 404),
            (Refusal::MethodNotAllowed, 405),
            (Refusal::TooLarge, 413),
            (Refusal::Expectation, 417),
            (Refusal::UnsupportedCoding, 501),
            (Refusal::Timeout, 408),
            (Refusal::NoMemory, 503),
        ];
        for (r, status) in all {
            assert_eq!(r.status(), status, "{r:?}");
            let line = core::str::from_utf8(r.status_line()).unwrap();
            assert!(line.starts_with(&format!("HTTP/1.1 {status} ")) && line.ends_with("\r\n"), "{line:?}");
            assert!(!r.message().is_empty() && !r.message().contains('\n'), "{r:?}");
        }
        // The messages name the bounds the code applies.
        assert!(Refusal::HeadTooLarge.message().contains(&MAX_HEAD.to_string()));
        assert!(Refusal::TooManyHeaders.message().contains(&MAX_HEADERS.to_string()));
        assert!(Refusal::TooLarge.message().contains(&MAX_EVENT.to_string()));
        let timeout = Refusal::Timeout.message();
        assert!(timeout.contains(&format!("head takes at most {HEAD_TIMEOUT_MS} ms")), "{timeout}");
        assert!(timeout.contains(&format!("pause for at most {BODY_IDLE_MS} ms")), "{timeout}");
        assert!(Refusal::NotFound.message().contains(core::str::from_utf8(SCF.path).unwrap()));
    }

    #[test]
    fn scf_context_headers_in_any_case() {
        let text = format!(
            "{POST}X-Scf-Request-Id: 3b21a413-6e6a-11ee-b2ba-52540008c7f7\r\nX-SCF-MEMORY: 512\r\n\
             x-scf-timeout: 300000\r\nX-Scf-Name: ceac\r\nX-Scf-Version: $LATEST\r\nX-Scf-Namespace: default\r\n\
             X-Scf-Region: na-siliconvalley\r\nX-Scf-Appid: 1252245989\r\nX-Scf-Uin: 100000090134\r\n\
             X-Scf-Secret-Id: AKID\r\nX-Scf-Secret-Key: key\r\nX-Scf-Session-Token: tok\r\nX-Scf-Trigger-Src: timer\r\n\
             X-Scf-Request-Idx: decoy\r\nX-Scf-Memor: decoy\r\nContent-Length: 0\r\n\r\n"
        );
        let r = ok(&text);
        let got = |f| r.context.get(f).map(|s| &text[s]);
        let want = [
            "3b21a413-6e6a-11ee-b2ba-52540008c7f7",
            "512",
            "300000",
            "ceac",
            "$LATEST",
            "default",
            "na-siliconvalley",
            "1252245989",
            "100000090134",
            "AKID",
            "key",
            "tok",
            "timer",
        ];
        for (f, w) in Field::ALL.into_iter().zip(want) {
            assert_eq!(got(f), Some(w), "{f:?}");
            assert_eq!(Field::ALL[f as usize], f);
        }
        assert_eq!((r.context.memory_mb, r.context.timeout_ms), (512, 300000));
        let secret: Vec<Field> = Field::ALL.into_iter().filter(|f| f.is_secret()).collect();
        assert_eq!(secret, [Field::SecretId, Field::SecretKey, Field::SessionToken]);
        // Blanks around a value are not part of it.
        let text = format!("{POST}X-Scf-Request-Id: \t abc \t \r\nX-Scf-Memory: 64 \r\n\r\n");
        let r = ok(&text);
        assert_eq!(&text[r.context.get(Field::RequestId).unwrap()], "abc");
        assert_eq!(r.context.memory_mb, 64);
        // Absent, repeated, invalid.
        let r = ok(&format!("{POST}X-Scf-Timeout: 0\r\nX-Scf-Name: a\r\nX-Scf-Name: b\r\n\r\n"));
        assert_eq!((r.context.memory_mb, r.context.timeout_ms), (0, 0));
        for bad in ["X-Scf-Timeout: soon", "X-Scf-Memory: -1", "x-scf-memory: 1e3", "X-Scf-Timeout:"] {
            assert_eq!(parse(&format!("{POST}{bad}\r\n\r\n")), Err(Refusal::Malformed(INVALID_NUMBER)), "{bad}");
        }
        assert_eq!(r.context.get(Field::RequestId), None);
        assert!(r.context.get(Field::FunctionName).is_some_and(|s| s.len() == 1));
        // Every name of the table is lowercase, distinct and one of SCF's.
        for (i, n) in SCF.names.iter().enumerate() {
            assert!(n.starts_with(b"x-scf-") && !n.iter().any(u8::is_ascii_uppercase), "{n:?}");
            assert!(!SCF.names[..i].contains(n), "{n:?} twice");
        }
    }

    /// Another platform is another table: the same parser reads it.
    #[test]
    fn a_dialect_is_a_table() {
        let mut names = [&b""[..]; FIELDS];
        names[Field::RequestId as usize] = b"x-fc-request-id";
        names[Field::MemoryMb as usize] = b"x-fc-function-memory";
        let fc = Dialect::new(b"/invoke", names);
        let text = "POST /invoke HTTP/1.1\r\nHost: h\r\nx-fc-request-id: r1\r\nX-Fc-Function-Memory: 256\r\n\r\n";
        let r = parse_request(text.as_bytes(), &fc).unwrap().unwrap();
        assert_eq!(&text[r.context.get(Field::RequestId).unwrap()], "r1");
        assert_eq!(r.context.memory_mb, 256);
        // Unsent fields stay absent, whatever an empty name would match.
        assert_eq!(r.context.get(Field::Region), None);
        assert_eq!(parse_request(text.as_bytes(), &SCF), Err(Refusal::NotFound));
    }

    fn joined(pieces: &[&[u8]]) -> String {
        String::from_utf8(pieces.concat()).unwrap()
    }

    #[test]
    fn answers() {
        let keep = ok(&format!("{POST}\r\n"));
        let close = ok(&format!("{POST}Connection: close\r\n\r\n"));
        let keep10 = ok("POST /event-invoke HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let t = "Content-Type: text/plain; charset=utf-8\r\n";
        let cases: &[(Answer, Option<&Request>, usize, String, bool)] = &[
            (Answer::Result, Some(&keep), 5, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".into(), true),
            (Answer::Result, Some(&close), 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(), false),
            (
                Answer::Result,
                Some(&keep10),
                6291456,
                "HTTP/1.1 200 OK\r\nContent-Length: 6291456\r\nConnection: keep-alive\r\n\r\n".into(),
                true,
            ),
            (
                Answer::HandlerError,
                Some(&keep),
                3,
                format!("HTTP/1.1 500 Internal Server Error\r\n{t}Content-Length: 3\r\n\r\n"),
                true,
            ),
            (
                Answer::Crash,
                Some(&keep),
                40,
                format!("HTTP/1.1 500 Internal Server Error\r\n{t}Content-Length: 40\r\nConnection: close\r\n\r\n"),
                false,
            ),
            (
                Answer::Refused(Refusal::MethodNotAllowed),
                Some(&keep),
                1,
                format!("HTTP/1.1 405 Method Not Allowed\r\n{t}Allow: POST\r\nContent-Length: 1\r\nConnection: close\r\n\r\n"),
                false,
            ),
            (
                Answer::Refused(Refusal::HeadTooLarge),
                None,
                2,
                format!("HTTP/1.1 431 Request Header Fields Too Large\r\n{t}Content-Length: 2\r\nConnection: close\r\n\r\n"),
                false,
            ),
            (
                Answer::Result,
                None,
                0,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
                false,
            ),
        ];
        for (answer, req, len, want, want_keep) in cases {
            let mut digits = itoa::Buffer::new();
            let (pieces, keep) = answer_head(*answer, *req, *len, &mut digits);
            assert_eq!((joined(&pieces), keep), (want.clone(), *want_keep), "{answer:?}");
        }
        // A refusal's whole answer frames its own one-line body.
        let mut digits = itoa::Buffer::new();
        let text = joined(&refusal(Refusal::TooLarge, None, &mut digits));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 413 Content Too Large\r\n"), "{head}");
        assert!(head.ends_with(&format!("Content-Length: {}\r\nConnection: close", body.len())), "{head}");
        assert_eq!(body, "event larger than 6 MB (6291456 bytes)\n");
    }

    /// A crash report's post writes the same answer as [`Answer::Crash`]'s
    /// head: the same status and fields (in the order a post needs, the
    /// length last), so a client reads the same.
    #[test]
    fn the_crash_post_head_is_the_crash_answer() {
        let mut digits = itoa::Buffer::new();
        let keep = ok(&format!("{POST}\r\n"));
        let (pieces, keep_open) = answer_head(Answer::Crash, Some(&keep), 40, &mut digits);
        let fields = |head: String| {
            let mut lines: Vec<String> = head.split("\r\n").map(String::from).collect();
            lines[1..].sort();
            lines
        };
        let post = joined(&CRASH_HEAD) + "40\r\n\r\n";
        assert_eq!(fields(post), fields(joined(&pieces)));
        assert!(!keep_open);
        assert!(joined(&CRASH_HEAD).ends_with("Content-Length: "));
    }

    #[test]
    fn continue_only_for_an_awaited_body() {
        let head = |rest: &str| ok(&format!("{POST}Expect: 100-continue\r\n{rest}\r\n"));
        assert!(send_continue(&head("Content-Length: 3\r\n"), 0));
        assert!(send_continue(&head("Transfer-Encoding: chunked\r\n"), 0));
        // Some of the body is already here: the client did not wait.
        assert!(!send_continue(&head("Content-Length: 3\r\n"), 1));
        // No body to wait for.
        assert!(!send_continue(&head(""), 0));
        assert!(!send_continue(&ok(&format!("{POST}Content-Length: 3\r\n\r\n")), 0));
        assert_eq!(CONTINUE, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    /// Feeds a request's body through its framer as a driver would: the
    /// bytes after the head in pieces, then the end.
    fn body(text: &str, step: usize) -> Result<Vec<u8>, Option<Refusal>> {
        let req = ok(text);
        let mut f = body_framer(&req);
        let mut buf = Vec::new();
        let rest = &text.as_bytes()[req.len..];
        for piece in rest.chunks(step.max(1)).map(Some).chain([None]) {
            if let Some(p) = piece {
                buf.extend_from_slice(p);
            }
            match body_step(&mut f, &mut buf, piece.is_none()) {
                Ok(BodyStep::Done { len, .. }) => return Ok(buf[..len].to_vec()),
                Ok(_) => {}
                Err(e) => return Err(body_refusal(e)),
            }
        }
        unreachable!("the close ends every body")
    }

    #[test]
    fn bodies_by_length_and_chunked_in_any_reads() {
        type Want = Result<&'static [u8], Option<Refusal>>;
        let cases: &[(&str, Want)] = &[
            ("Content-Length: 5\r\n\r\nhello", Ok(b"hello")),
            ("Content-Length: 5\r\n\r\nhelloPOST /next", Ok(b"hello")),
            ("\r\nPOST /x HTTP/1.1\r\n\r\n", Ok(b"")),
            ("Content-Length: 5\r\n\r\nhel", Err(None)),
            (
                "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n",
                Ok(b"hello world"),
            ),
            ("Transfer-Encoding: chunked\r\n\r\n5\r\nhel", Err(None)),
            ("Transfer-Encoding: chunked\r\n\r\nzz\r\n", Err(Some(Refusal::Malformed("invalid chunk size line")))),
            (
                "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
                Err(Some(Refusal::Malformed("chunk data not followed by CRLF"))),
            ),
        ];
        for (rest, want) in cases {
            let text = format!("{POST}{rest}");
            for step in [1, 3, text.len()] {
                assert_eq!(body(&text, step).as_deref(), want.as_deref(), "{text:?} step {step}");
            }
        }
        // A chunked body is refused as soon as it passes the event limit.
        let mut text = format!("{POST}Transfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("100000\r\n{}\r\n", "e".repeat(1 << 20));
        text += &chunk.repeat(7);
        assert_eq!(body(&text, 1 << 16), Err(Some(Refusal::TooLarge)));
        // And when all of it, its end included, comes in one read.
        text += "0\r\n\r\n";
        assert_eq!(body(&text, text.len()), Err(Some(Refusal::TooLarge)));
        let exact = format!("{POST}Transfer-Encoding: chunked\r\n\r\n600000\r\n{}\r\n0\r\n\r\n", "e".repeat(MAX_EVENT));
        assert_eq!(body(&exact, exact.len()).map(|b| b.len()), Ok(MAX_EVENT));
        assert_eq!(body_refusal(Fault::TooLarge(1)), Some(Refusal::TooLarge));
    }

    #[test]
    fn origin_paths() {
        for (target, path) in [
            ("/event-invoke", "/event-invoke"),
            ("/event-invoke?a=b?c", "/event-invoke"),
            ("http://h/event-invoke", "/event-invoke"),
            ("http://h:9000/a/b?q", "/a/b"),
            ("https://h", ""),
            ("http://", ""),
            ("http:/x", "http:/x"),
            ("*", "*"),
            ("", ""),
        ] {
            assert_eq!(origin_path(target.as_bytes()), path.as_bytes(), "{target:?}");
        }
    }
}
