//! HTTP/1.1 framing: the one request framer of every runtime API peer in
//! the repository, one reader for both directions, and the response writer.
//!
//! [`frame_request`] frames a request head in place, without allocating:
//! method, target, version, where the head ends, how its body is framed,
//! keep-alive and `Expect: 100-continue`. The threaded servers (the runtime
//! API, [`crate::api`], and the invoke endpoint) reach it through [`Conn`]
//! and [`parse_request_head`]; the benchmark's lean poll-loop peer
//! (`bench/runner`) calls it on its own buffers. One set of framing rules
//! serves requests and responses alike ([`Head::framing`]).
//!
//! Heads are parsed by `httparse` (request heads by the servers, response
//! heads by [`client`]); chunk-size lines by `httparse::parse_chunk_size`.
//! [`Conn`] does the reading over any `Read` (a socket in practice): a head,
//! then the body its headers frame, optionally recording the exact bytes
//! consumed so tests can check what went over the wire.
//!
//! The response writer ([`response`], [`response_head`], [`encode_chunks`])
//! stays hand-written on purpose: the runtime API's fault-injection quirks
//! need byte-level control over what a bootstrap receives (header spelling
//! and order, a decoy header, chunk sizes in both hex cases, chunk
//! extensions, `Connection: close` with or without the close), which no
//! server crate lets a caller dictate.
//!
//! What a request may look like is deliberately narrow (this is a loopback
//! peer, not a general web server): `HTTP/1.0` or `HTTP/1.1`, at most
//! [`MAX_HEADERS`] headers in at most [`MAX_HEAD`] bytes, a body framed by
//! `Content-Length` or by `Transfer-Encoding: chunked`, never both. Anything
//! else is an [`Error`], which a server answers with `400` and a one-line
//! reason.

use std::io::{self, BufRead, BufReader, Read, Write};

/// Longest head (start line plus headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header lines accepted in one head.
pub const MAX_HEADERS: usize = 200;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Why a message could not be framed. Each names exactly one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    HeadTooLarge,
    TooManyHeaders,
    /// The start line or a header line is malformed (httparse's verdict).
    BadHead(&'static str),
    BadVersion,
    BadContentLength,
    ConflictingContentLength,
    ContentLengthWithChunked,
    UnsupportedTransferEncoding,
    BadChunkSize,
    ChunkExpectedCrLf,
    BadTrailer,
    BodyTooLarge,
}

impl Error {
    /// A short description, suitable as a one-line error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Error::HeadTooLarge => "head too large",
            Error::TooManyHeaders => "too many header lines",
            Error::BadHead(why) => why,
            Error::BadVersion => "unsupported HTTP version",
            Error::BadContentLength => "invalid Content-Length",
            Error::ConflictingContentLength => "conflicting Content-Length values",
            Error::ContentLengthWithChunked => "both Content-Length and Transfer-Encoding",
            Error::UnsupportedTransferEncoding => "unsupported Transfer-Encoding (only chunked)",
            Error::BadChunkSize => "invalid chunk size line",
            Error::ChunkExpectedCrLf => "chunk data not followed by CRLF",
            Error::BadTrailer => "invalid chunked trailer",
            Error::BodyTooLarge => "body too large",
        }
    }

    /// The status a server answers this fault with.
    pub fn status(self) -> u16 {
        match self {
            Error::HeadTooLarge | Error::TooManyHeaders => 431,
            Error::BodyTooLarge => 413,
            _ => 400,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Error {}

fn head_error(e: httparse::Error) -> Error {
    match e {
        httparse::Error::TooManyHeaders => Error::TooManyHeaders,
        httparse::Error::Version => Error::BadVersion,
        httparse::Error::HeaderName => Error::BadHead("invalid header name"),
        httparse::Error::HeaderValue => Error::BadHead("invalid header value"),
        httparse::Error::Status => Error::BadHead("malformed status line"),
        _ => Error::BadHead("malformed start line"),
    }
}

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes follow the head (0: no body).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Responses only: the body runs until the peer closes.
    UntilClose,
}

/// A parsed head, request or response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// Request method (empty for a response).
    pub method: String,
    /// Request target (empty for a response).
    pub target: String,
    /// Response status (0 for a request).
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Names as sent (case kept) and values, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request path without its query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// How the body is framed (RFC 9112 section 6), or why it cannot be. A
    /// response without length or chunking runs until close; 1xx, 204 and
    /// 304 responses have none.
    pub fn framing(&self) -> Result<Framing, Error> {
        self.fields().framing(self.status)
    }

    /// Whether the connection stays open after this exchange: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with `keep-alive`.
    pub fn keep_alive(&self) -> bool {
        self.fields().keep_alive(self.minor_version)
    }

    /// Whether the client waits for `100 Continue` before its body (curl
    /// does for large `-d` bodies).
    pub fn expects_continue(&self) -> bool {
        self.fields().expects_continue(self.minor_version)
    }

    fn fields(&self) -> Fields {
        let mut f = Fields::default();
        for (name, value) in &self.headers {
            f.add(name.as_bytes(), value.as_bytes());
        }
        f
    }
}

/// What the framing rules read from a head's fields, gathered in one pass
/// over them: the rules of [`Head`] and of [`frame_request`] alike.
#[derive(Default)]
struct Fields {
    /// The first fault in `Content-Length` or `Transfer-Encoding`, if any.
    fault: Option<Error>,
    chunked: Option<bool>,
    length: Option<usize>,
    close: bool,
    keep_alive: bool,
    /// The first `Expect` field, if it is `100-continue`.
    expect: Option<bool>,
}

impl Fields {
    fn add(&mut self, name: &[u8], value: &[u8]) {
        // On the length first: one comparison per field, not four (this
        // runs for every field of every request the benchmark's peer reads).
        let is = |want: &[u8]| name.eq_ignore_ascii_case(want);
        match name.len() {
            17 if is(b"transfer-encoding") => {
                // Several lines form one list whose last coding must be
                // chunked, the only coding implemented.
                let chunked = value.trim_ascii().eq_ignore_ascii_case(b"chunked");
                if self.chunked.replace(chunked).is_some() {
                    self.fail(Error::UnsupportedTransferEncoding);
                }
            }
            14 if is(b"content-length") => {
                // "5, 5" is allowed when all members agree.
                for part in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if part.is_empty() || part.len() > 18 || !part.iter().all(u8::is_ascii_digit) {
                        return self.fail(Error::BadContentLength);
                    }
                    let n = part.iter().fold(0, |n, &d| n * 10 + usize::from(d - b'0'));
                    if self.length.replace(n).is_some_and(|prev| prev != n) {
                        return self.fail(Error::ConflictingContentLength);
                    }
                }
            }
            10 if is(b"connection") => {
                for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    self.close |= token.eq_ignore_ascii_case(b"close");
                    self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            6 if is(b"expect") && self.expect.is_none() => {
                self.expect = Some(value.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
            }
            _ => {}
        }
    }

    fn fail(&mut self, e: Error) {
        self.fault.get_or_insert(e);
    }

    /// `status` 0 for a request.
    fn framing(&self, status: u16) -> Result<Framing, Error> {
        if status != 0 && (status / 100 == 1 || matches!(status, 204 | 304)) {
            return Ok(Framing::Length(0));
        }
        if let Some(e) = self.fault {
            return Err(e);
        }
        match (self.chunked, self.length) {
            (Some(_), Some(_)) => Err(Error::ContentLengthWithChunked),
            (Some(true), None) => Ok(Framing::Chunked),
            (Some(false), None) => Err(Error::UnsupportedTransferEncoding),
            (None, Some(n)) => Ok(Framing::Length(n)),
            (None, None) if status != 0 => Ok(Framing::UntilClose),
            (None, None) => Ok(Framing::Length(0)),
        }
    }

    fn keep_alive(&self, minor_version: u8) -> bool {
        if minor_version == 0 {
            self.keep_alive
        } else {
            !self.close
        }
    }

    fn expects_continue(&self, minor_version: u8) -> bool {
        minor_version == 1 && self.expect == Some(true)
    }
}

/// A request head framed in place by [`frame_request`]: everything a peer
/// needs to route the request and read its body, borrowed from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// A token (ASCII).
    pub method: &'a [u8],
    /// The request target as sent (path and query; valid UTF-8).
    pub target: &'a [u8],
    /// Bytes of `target` before its query string.
    pub path_len: usize,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Bytes of the head through its blank line (blank lines before the
    /// start line included): the body starts here.
    pub len: usize,
    pub framing: Framing,
    /// Whether the connection stays open after this exchange.
    pub keep_alive: bool,
    /// The client waits for `100 Continue` before its body.
    pub expect_continue: bool,
}

impl<'a> RequestHead<'a> {
    /// The request path without its query string.
    pub fn path(&self) -> &'a [u8] {
        self.target.get(..self.path_len).unwrap_or(self.target)
    }
}

/// Frames the request head at the start of `buf`, without allocating.
/// `Ok(None)`: the head is not complete yet (read more and call again with
/// the longer buffer). A head that cannot be framed is an [`Error`] as soon
/// as the bytes show it: malformed, more than [`MAX_HEADERS`] fields, no
/// end within [`MAX_HEAD`] bytes, or a body framing the rules refuse.
///
/// Hand-written rather than httparse (which still reads response heads):
/// the benchmark's peer frames every request with it, and must not cost
/// more a request than its own framer did. Through httparse, framing took
/// about 2,900 instructions a request in the peer's session test, against
/// 1,640 for that framer (callgrind); this takes 1,118 for a whole head,
/// where that framer took 1,488. It accepts exactly what httparse's request
/// parser does, with the same faults at the same points (a test compares
/// the two on every one-byte change of sample requests).
pub fn frame_request(buf: &[u8]) -> Result<Option<RequestHead<'_>>, Error> {
    frame_request_with(buf, |_, _| {})
}

/// Whether `buf` may hold a whole head: a line end followed by an empty
/// line (LF LF, or LF CR LF) occurs in it. Never false for a complete
/// head, so a peer that reads a head in pieces may skip
/// [`frame_request`] until it is true, looking only at what is new: bytes
/// before `from` are known to hold no such end.
pub fn head_end_seen(buf: &[u8], from: usize) -> bool {
    let from = from.saturating_sub(2).min(buf.len());
    let mut rest = &buf[from..];
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        rest = &rest[i + 1..];
        if matches!(rest, [b'\n', ..] | [b'\r', b'\n', ..]) {
            return true;
        }
    }
    false
}

/// [`frame_request`], also handing each field to `each` (name, value).
fn frame_request_with<'b>(
    buf: &'b [u8],
    mut each: impl FnMut(&'b [u8], &'b [u8]),
) -> Result<Option<RequestHead<'b>>, Error> {
    let mut fields = Fields::default();
    let parsed = parse_request(buf, |name, value| {
        fields.add(name, value);
        each(name, value)
    });
    let (line, len) = match parsed? {
        Some((_, len)) if len > MAX_HEAD => return Err(Error::HeadTooLarge),
        Some(done) => done,
        None if buf.len() >= MAX_HEAD => return Err(Error::HeadTooLarge),
        None => return Ok(None),
    };
    Ok(Some(RequestHead {
        method: line.method,
        target: line.target,
        path_len: line.path_len,
        minor_version: line.minor_version,
        len,
        framing: fields.framing(0)?,
        keep_alive: fields.keep_alive(line.minor_version),
        expect_continue: fields.expects_continue(line.minor_version),
    }))
}

/// A byte class as a table, for one lookup per byte.
const fn byte_class(pick: u8) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match pick {
            // RFC 9110 tchar: method and field names.
            0 => {
                matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'%' | b'&'
                | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
            }
            // A request target's path in ASCII: visible ASCII but '?'
            // (the whole target adds '?' and obs-text, as httparse takes).
            1 => matches!(b, b'!'..=0x7e) && b != b'?',
            // A field value: HTAB, SP, visible ASCII, obs-text.
            _ => matches!(b, b'\t' | b' '..=0x7e | 0x80..=0xff),
        };
        i += 1;
    }
    table
}

static TCHAR: [bool; 256] = byte_class(0);
static PATH: [bool; 256] = byte_class(1);
static VALUE: [bool; 256] = byte_class(2);

/// The request line.
struct RequestLine<'a> {
    method: &'a [u8],
    target: &'a [u8],
    /// Where the path ends in the target (at its query, if any).
    path_len: usize,
    minor_version: u8,
}

/// A position in a head being parsed.
struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    /// Steps over the bytes of `class`, and over the first byte past
    /// them, which it returns; `None` at the end of the buffer.
    fn past(&mut self, class: &[bool; 256]) -> Option<u8> {
        let rest = self.buf.get(self.at..)?;
        let n = rest.iter().position(|&b| !class[usize::from(b)])?;
        self.at += n + 1;
        rest.get(n).copied()
    }
}

/// A request head as httparse's request parser reads one (default
/// settings): blank lines skipped before the request line, `METHOD SP
/// TARGET SP HTTP/1.x`, fields `name: value` with the value's outer blanks
/// dropped, lines ended by CRLF or LF. `Ok(None)` at the end of the buffer
/// before the blank line that ends the head; the head's length otherwise.
fn parse_request<'b>(
    buf: &'b [u8],
    mut each: impl FnMut(&'b [u8], &'b [u8]),
) -> Result<Option<(RequestLine<'b>, usize)>, Error> {
    const START: Error = Error::BadHead("malformed start line");
    const NAME: Error = Error::BadHead("invalid header name");
    const VALUE_FAULT: Error = Error::BadHead("invalid header value");
    macro_rules! more {
        ($e:expr) => {
            match $e {
                Some(b) => b,
                None => return Ok(None),
            }
        };
    }
    let mut c = Cursor { buf, at: 0 };
    // Blank lines before the request line (RFC 9112, 2.2).
    loop {
        match more!(buf.get(c.at)) {
            b'\r' => {
                c.at += 1;
                if more!(c.next()) != b'\n' {
                    return Err(START);
                }
            }
            b'\n' => c.at += 1,
            _ => break,
        }
    }
    let start = c.at;
    if !TCHAR[usize::from(more!(c.next()))] || more!(c.past(&TCHAR)) != b' ' {
        return Err(START);
    }
    let method = &buf[start..c.at - 1];
    // The target: its path up to the first '?', obs-text noted (the whole
    // must then be UTF-8, as httparse requires).
    let start = c.at;
    let (mut path_end, mut ascii) = (None, true);
    let after = loop {
        match more!(c.past(&PATH)) {
            b'?' => {
                path_end.get_or_insert(c.at - 1);
            }
            0x80..=0xff => ascii = false,
            b => break b,
        }
    };
    let target = &buf[start..c.at - 1];
    if after != b' ' || target.is_empty() || (!ascii && std::str::from_utf8(target).is_err()) {
        return Err(START);
    }
    let path_len = path_end.map_or(target.len(), |end| end - start);
    let rest = &buf[c.at..];
    let minor_version = match rest.get(..8) {
        Some(b"HTTP/1.0") => 0,
        Some(b"HTTP/1.1") => 1,
        Some(_) => return Err(Error::BadVersion),
        None if b"HTTP/1.".starts_with(&rest[..rest.len().min(7)]) => return Ok(None),
        None => return Err(Error::BadVersion),
    };
    c.at += 8;
    match more!(c.next()) {
        b'\r' if more!(c.next()) == b'\n' => {}
        b'\n' => {}
        _ => return Err(START),
    }
    let mut fields = 0;
    loop {
        let first = more!(c.next());
        match first {
            b'\r' if more!(c.next()) == b'\n' => break,
            b'\r' => return Err(START),
            b'\n' => break,
            _ => {}
        }
        let start = c.at - 1;
        if !TCHAR[usize::from(first)] || more!(c.past(&TCHAR)) != b':' {
            return Err(NAME);
        }
        let name = &buf[start..c.at - 1];
        // Blanks after the colon, then the value to the line's end.
        let value = loop {
            let b = more!(c.next());
            if b == b' ' || b == b'\t' {
                continue;
            }
            let start = c.at - 1;
            let end = if VALUE[usize::from(b)] {
                more!(c.past(&VALUE))
            } else {
                b
            };
            let value = &buf[start..c.at - 1];
            match end {
                b'\r' if more!(c.next()) == b'\n' => {}
                b'\n' => {}
                _ => return Err(VALUE_FAULT),
            }
            break value.trim_ascii_end();
        };
        fields += 1;
        if fields > MAX_HEADERS {
            return Err(Error::TooManyHeaders);
        }
        each(name, value);
    }
    let line = RequestLine {
        method,
        target,
        path_len,
        minor_version,
    };
    Ok(Some((line, c.at)))
}

fn owned(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect()
}

/// Parses a complete request head (through its blank line) into an owned
/// [`Head`], framed by [`frame_request`]'s rules.
pub fn parse_request_head(raw: &[u8]) -> Result<Head, Error> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut headers = Vec::new();
    let framed = frame_request_with(raw, |name, value| headers.push((text(name), text(value))))?;
    let req = framed.ok_or(Error::BadHead("incomplete head"))?;
    Ok(Head {
        method: text(req.method),
        target: text(req.target),
        minor_version: req.minor_version,
        headers,
        ..Head::default()
    })
}

/// Parses a complete response head (through its blank line).
pub fn parse_response_head(raw: &[u8]) -> Result<Head, Error> {
    let mut hs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut hs);
    match resp.parse(raw).map_err(head_error)? {
        httparse::Status::Complete(_) => Ok(Head {
            status: resp.code.unwrap_or_default(),
            minor_version: resp.version.unwrap_or(1),
            headers: owned(resp.headers),
            ..Head::default()
        }),
        httparse::Status::Partial => Err(Error::BadHead("incomplete head")),
    }
}

/// Why reading a message failed.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed or the socket failed.
    Io(io::Error),
    /// The bytes cannot be framed.
    Http(Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<Error> for ReadError {
    fn from(e: Error) -> Self {
        ReadError::Http(e)
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            ReadError::Http(e) => io::Error::new(io::ErrorKind::InvalidData, e.as_str()),
        }
    }
}

/// One side of a connection: a buffered reader of heads and bodies, and
/// the writer. With [`record`](Self::record) on, every byte consumed is
/// also appended to [`recorded`](Self::recorded).
pub struct Conn<S> {
    r: BufReader<S>,
    recording: Option<Vec<u8>>,
}

impl<S: Read + Write> Conn<S> {
    pub fn new(stream: S) -> Conn<S> {
        Conn {
            r: BufReader::with_capacity(64 * 1024, stream),
            recording: None,
        }
    }

    pub fn get_ref(&self) -> &S {
        self.r.get_ref()
    }

    pub fn get_mut(&mut self) -> &mut S {
        self.r.get_mut()
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.r.get_mut().write_all(bytes)
    }

    /// Starts (or restarts) recording the bytes consumed.
    pub fn record(&mut self) {
        self.recording = Some(Vec::new());
    }

    /// The bytes consumed since [`record`](Self::record), taken.
    pub fn recorded(&mut self) -> Vec<u8> {
        self.recording
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Whether bytes the peer already sent are waiting in the buffer.
    pub fn has_buffered(&self) -> bool {
        !self.r.buffer().is_empty()
    }

    /// Reads one line (LF-terminated, LF kept) of at most `max` bytes.
    /// `Ok(None)` at a clean end of stream before any byte.
    fn line(&mut self, max: usize, too_long: Error) -> Result<Option<Vec<u8>>, ReadError> {
        let mut line = Vec::new();
        let n = (&mut self.r)
            .take(max as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") {
            if line.len() > max {
                return Err(too_long.into());
            }
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        if let Some(rec) = &mut self.recording {
            rec.extend_from_slice(&line);
        }
        Ok(Some(line))
    }

    fn exact(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), ReadError> {
        let start = out.len();
        let got = (&mut self.r).take(n as u64).read_to_end(out)?;
        if got < n {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        if let Some(rec) = &mut self.recording {
            rec.extend_from_slice(&out[start..]);
        }
        Ok(())
    }

    /// Reads a head through its blank line (blank lines before the start
    /// line are skipped, RFC 9112 section 2.2). `Ok(None)`: the peer closed
    /// cleanly between messages.
    pub fn read_head_bytes(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        let mut head = Vec::new();
        loop {
            let left = MAX_HEAD.saturating_sub(head.len());
            let Some(line) = self.line(left, Error::HeadTooLarge)? else {
                return if head.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::from(io::ErrorKind::UnexpectedEof).into())
                };
            };
            let blank = line == b"\n" || line == b"\r\n";
            if blank && head.is_empty() {
                continue;
            }
            head.extend_from_slice(&line);
            if blank {
                return Ok(Some(head));
            }
        }
    }

    /// Reads a body framed as `framing`, refusing more than `max` bytes.
    pub fn read_body(&mut self, framing: Framing, max: usize) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        match framing {
            Framing::Length(n) if n > max => return Err(Error::BodyTooLarge.into()),
            Framing::Length(n) => self.exact(n, &mut body)?,
            Framing::UntilClose => {
                self.r.read_to_end(&mut body)?;
                if let Some(rec) = &mut self.recording {
                    rec.extend_from_slice(&body);
                }
            }
            Framing::Chunked => loop {
                let line = self
                    .line(MAX_LINE, Error::BadChunkSize)?
                    .ok_or(io::Error::from(io::ErrorKind::UnexpectedEof))?;
                let size = match httparse::parse_chunk_size(&line) {
                    Ok(httparse::Status::Complete((_, size))) => size,
                    _ => return Err(Error::BadChunkSize.into()),
                };
                if size == 0 {
                    // Trailer fields up to the blank line; checked, dropped.
                    loop {
                        let t = self
                            .line(MAX_LINE, Error::BadTrailer)?
                            .ok_or(io::Error::from(io::ErrorKind::UnexpectedEof))?;
                        if t == b"\r\n" || t == b"\n" {
                            return Ok(body);
                        }
                        let mut hs = [httparse::EMPTY_HEADER; 1];
                        let mut t = t;
                        t.extend_from_slice(b"\r\n");
                        if httparse::parse_headers(&t, &mut hs).is_err() {
                            return Err(Error::BadTrailer.into());
                        }
                    }
                }
                if size > (max - body.len()) as u64 {
                    return Err(Error::BodyTooLarge.into());
                }
                self.exact(size as usize, &mut body)?;
                let mut crlf = Vec::new();
                self.exact(2, &mut crlf)?;
                if crlf != b"\r\n" {
                    return Err(Error::ChunkExpectedCrLf.into());
                }
            },
        }
        Ok(body)
    }
}

/// The standard reason phrase for the status codes this crate sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Serializes a response head. `headers` must not contain framing headers;
/// `content_length` adds `Content-Length`, `None` adds
/// `Transfer-Encoding: chunked`; a status that never has a body (1xx, 204,
/// 304) gets neither (RFC 9110, 8.6).
pub fn response_head(
    status: u16,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    match content_length {
        _ if status / 100 == 1 || matches!(status, 204 | 304) => {}
        Some(n) => out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()),
        None => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The interim answer to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// A complete response with a `Content-Length` body.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = response_head(status, headers, Some(body.len()));
    out.extend_from_slice(body);
    out
}

/// Splits `body` into `pieces` roughly equal chunks and encodes each one
/// (plus the last-chunk and an empty trailer) as separate byte strings, so a
/// caller can write them one by one. Chunk sizes alternate between lower-
/// and upper-case hex, and the second chunk carries extensions, to exercise
/// a client's chunk parser.
pub fn encode_chunks(body: &[u8], pieces: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if !body.is_empty() {
        let per = body.len().div_ceil(pieces.max(1));
        for (i, piece) in body.chunks(per).enumerate() {
            let mut c = if i % 2 == 0 {
                format!("{:x}", piece.len())
            } else {
                format!("{:X}", piece.len())
            }
            .into_bytes();
            if i == 1 {
                c.extend_from_slice(b";scf-emulator=\"chunk ext\";x");
            }
            c.extend_from_slice(b"\r\n");
            c.extend_from_slice(piece);
            c.extend_from_slice(b"\r\n");
            out.push(c);
        }
    }
    out.push(b"0\r\n\r\n".to_vec());
    out
}

pub mod client {
    //! A small blocking HTTP/1.1 client over [`Conn`]: what the emulator's
    //! tests (and anyone scripting it from Rust) use to talk to it. It keeps
    //! the exact bytes of each response for tests that check the wire.

    use super::{parse_response_head, Conn, Head};
    use std::io::{self, Read};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// A response read by [`Client::read_response`].
    #[derive(Debug, Clone)]
    pub struct Response {
        pub head: Head,
        /// The head exactly as sent.
        pub raw_head: String,
        /// The body after de-chunking.
        pub body: Vec<u8>,
        /// The body bytes as sent (chunk framing included).
        pub raw_body: Vec<u8>,
    }

    impl Response {
        pub fn status(&self) -> u16 {
            self.head.status
        }
        pub fn header(&self, name: &str) -> Option<&str> {
            self.head.header(name)
        }
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// One keep-alive connection.
    pub struct Client {
        conn: Conn<TcpStream>,
    }

    impl Client {
        /// Connects; `timeout` bounds every read and write (None: no bound).
        pub fn connect(addr: SocketAddr, timeout: Option<Duration>) -> io::Result<Client> {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(timeout)?;
            stream.set_write_timeout(timeout)?;
            Ok(Client {
                conn: Conn::new(stream),
            })
        }

        /// Writes raw bytes (a hand-made request, or part of one).
        pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.conn.send(bytes)
        }

        /// Sends one request with a `Content-Length` body and reads the
        /// response.
        pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> io::Result<Response> {
            self.request_with(method, path, &[], body)
        }

        /// [`request`](Self::request) with extra headers.
        pub fn request_with(
            &mut self,
            method: &str,
            path: &str,
            headers: &[(&str, &str)],
            body: &[u8],
        ) -> io::Result<Response> {
            let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
            for (n, v) in headers {
                req.push_str(&format!("{n}: {v}\r\n"));
            }
            req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let mut bytes = req.into_bytes();
            bytes.extend_from_slice(body);
            self.send(&bytes)?;
            self.read_response()
        }

        /// Reads one response, `100 Continue` included (it is a response of
        /// its own on the wire; the caller decides what to do with it).
        pub fn read_response(&mut self) -> io::Result<Response> {
            self.conn.record();
            let raw = self.conn.read_head_bytes()?.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                )
            })?;
            let head = parse_response_head(&raw).map_err(super::ReadError::from)?;
            let framing = head.framing().map_err(super::ReadError::from)?;
            self.conn.record();
            let body = self.conn.read_body(framing, usize::MAX)?;
            Ok(Response {
                raw_head: String::from_utf8_lossy(&raw).into_owned(),
                raw_body: self.conn.recorded(),
                head,
                body,
            })
        }

        /// Whether the server closed the connection (end of stream with
        /// nothing unread).
        pub fn closed_by_server(&mut self) -> bool {
            let mut tmp = [0u8; 16];
            !self.conn.has_buffered()
                && matches!(self.conn.get_mut().read(&mut tmp), Ok(0) | Err(_))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Result<(Head, Vec<u8>), ReadError> {
        let mut c = Conn::new(io::Cursor::new(input.to_vec()));
        let raw = c.read_head_bytes()?.expect("a head");
        let head = parse_request_head(&raw)?;
        let body = c.read_body(head.framing()?, 1 << 20)?;
        Ok((head, body))
    }

    fn err(input: &[u8]) -> Error {
        match read(input) {
            Err(ReadError::Http(e)) => e,
            other => panic!(
                "{:?}: expected an HTTP error, got {other:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }

    #[test]
    fn requests_and_their_framing() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n", b""),
            (b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
            (b"POST /a HTTP/1.1\r\ncontent-length: 5, 5\r\n\r\nhello", b"hello"),
            (b"\r\nPOST /a HTTP/1.0\r\nContent-Length: 1\r\n\r\nx", b"x"),
            (
                b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6 ; a=\"b\"\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
                b"hello world",
            ),
            (b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
        ];
        for (input, body) in ok {
            let (_, got) = read(input)
                .unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(input)));
            assert_eq!(got, *body, "{:?}", String::from_utf8_lossy(input));
        }
        let bad: &[(&[u8], Error)] = &[
            (b"GET /\r\n\r\n", Error::BadHead("malformed start line")),
            (b"GET / HTTP/2.0\r\n\r\n", Error::BadVersion),
            (
                b"G(T / HTTP/1.1\r\n\r\n",
                Error::BadHead("malformed start line"),
            ),
            (
                b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                Error::BadHead("invalid header name"),
            ),
            (
                b"GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n",
                Error::BadHead("invalid header value"),
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                Error::BadContentLength,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
                Error::BadContentLength,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Error::ConflictingContentLength,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Error::ContentLengthWithChunked,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                Error::UnsupportedTransferEncoding,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                Error::BadChunkSize,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
                Error::ChunkExpectedCrLf,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
                Error::BadChunkSize,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
                Error::BadTrailer,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n",
                Error::BodyTooLarge,
            ),
        ];
        for (input, want) in bad {
            assert_eq!(err(input), *want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn requests_are_framed_in_place_as_the_owned_head_frames_them() {
        let requests: &[&[u8]] = &[
            b"GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /runtime/invocation/response HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            b"POST /a?q=1 HTTP/1.1\r\ncontent-length: 5, 5\r\nConnection: close\r\n\r\nhello",
            b"\r\nPOST /a HTTP/1.0\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nx",
            b"POST /b HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ];
        for input in requests {
            let text = String::from_utf8_lossy(input);
            let h = frame_request(input).unwrap().expect(&text);
            let owned = parse_request_head(&input[..h.len]).unwrap();
            assert_eq!(
                (h.method, h.target, h.path(), h.minor_version),
                (
                    owned.method.as_bytes(),
                    owned.target.as_bytes(),
                    owned.path().as_bytes(),
                    owned.minor_version
                ),
                "{text}"
            );
            assert_eq!(
                (h.framing, h.keep_alive, h.expect_continue),
                (
                    owned.framing().unwrap(),
                    owned.keep_alive(),
                    owned.expects_continue()
                ),
                "{text}"
            );
            assert!(input[..h.len].ends_with(b"\r\n\r\n"), "{text}");
            // Fed as it arrives, it is incomplete until the head's last byte.
            for cut in 0..h.len {
                assert_eq!(
                    frame_request(&input[..cut]),
                    Ok(None),
                    "{text} cut at {cut}"
                );
            }
        }
        let h = frame_request(requests[2]).unwrap().unwrap();
        assert_eq!(
            (h.path(), h.framing, h.keep_alive),
            (&b"/a"[..], Framing::Length(5), false)
        );
        let h = frame_request(requests[4]).unwrap().unwrap();
        assert_eq!((h.framing, h.expect_continue), (Framing::Chunked, true));
        // Each fault of the owned path, at the same point.
        for (input, want) in [
            (
                &b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"[..],
                Error::BadContentLength,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Error::ConflictingContentLength,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                Error::UnsupportedTransferEncoding,
            ),
            (b"GET / HTTP/2.0\r\n\r\n", Error::BadVersion),
            (
                b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                Error::BadHead("invalid header name"),
            ),
        ] {
            assert_eq!(
                frame_request(input),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(err(input), want);
        }
        // Limits: no end within MAX_HEAD bytes, too many fields.
        let huge = format!("GET / HTTP/1.1\r\nA: {}", "x".repeat(MAX_HEAD));
        assert_eq!(frame_request(huge.as_bytes()), Err(Error::HeadTooLarge));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(frame_request(many.as_bytes()), Err(Error::TooManyHeaders));
    }

    /// httparse's request parser (default settings) as a model of
    /// [`parse_request`]: the head's length, request line and fields, or
    /// its fault; `None` while incomplete.
    type Parsed = Result<Option<(String, String, u8, Vec<(String, String)>, usize)>, Error>;

    fn by_httparse(buf: &[u8]) -> Parsed {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut slots);
        match req.parse(buf).map_err(head_error)? {
            httparse::Status::Partial => Ok(None),
            httparse::Status::Complete(n) => Ok(Some((
                req.method.unwrap().to_string(),
                req.path.unwrap().to_string(),
                req.version.unwrap(),
                req.headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                n,
            ))),
        }
    }

    fn by_the_kit(buf: &[u8]) -> Parsed {
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let mut fields = Vec::new();
        let parsed = parse_request(buf, |n, v| {
            fields.push((text(n), String::from_utf8_lossy(v).into_owned()))
        })?;
        Ok(parsed.map(|(line, n)| {
            (
                text(line.method),
                text(line.target),
                line.minor_version,
                fields,
                n,
            )
        }))
    }

    /// The hand-written framer against httparse, on sample requests and
    /// every change of one byte to them (each position replaced by each of
    /// the 256 values, deleted, or cut there), and on every prefix: the
    /// same head, the same fault, or both incomplete.
    #[test]
    fn the_framer_reads_requests_exactly_as_httparse_does() {
        let samples: &[&[u8]] = &[
            b"GET /runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n",
            b"POST /2018-06-01/runtime/invocation/a-b/response HTTP/1.1\r\nContent-Length: 2\r\nA:\t v \t\r\n\r\n{}",
            b"\r\n\nPUT /x?y=%20\xc3\xa9 HTTP/1.0\nE:\n\n",
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for s in samples {
            for i in 0..s.len() {
                for b in 0..=255u8 {
                    let mut v = s.to_vec();
                    v[i] = b;
                    inputs.push(v);
                }
                inputs.push([&s[..i], &s[i + 1..]].concat());
                inputs.push(s[..i].to_vec());
            }
        }
        let (mut complete, mut faults) = (0, 0);
        for input in &inputs {
            let want = by_httparse(input);
            assert_eq!(
                by_the_kit(input),
                want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            complete += usize::from(matches!(want, Ok(Some(_))));
            faults += usize::from(want.is_err());
        }
        // Both sides of the comparison are reached, often.
        assert!(
            complete > inputs.len() / 4 && faults > inputs.len() / 4,
            "{complete} heads, {faults} faults of {}",
            inputs.len()
        );
        // Too many fields, as httparse counts them.
        for n in [MAX_HEADERS, MAX_HEADERS + 1] {
            let many: String = (0..n).map(|i| format!("h{i}: v\r\n")).collect();
            let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
            assert_eq!(
                by_the_kit(req.as_bytes()),
                by_httparse(req.as_bytes()),
                "{n} fields"
            );
        }
    }

    #[test]
    fn a_head_end_is_seen_whatever_the_pieces() {
        let heads: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\nHost: x\n\n",
            b"\r\nGET / HTTP/1.1\r\n\r\n",
        ];
        for head in heads {
            let len = frame_request(head).unwrap().unwrap().len;
            assert_eq!(len, head.len());
            // Not one byte before its end; at its end, looking from any
            // earlier point.
            assert!(!head_end_seen(&head[..len - 1], 0));
            for from in 0..len {
                assert!(
                    head_end_seen(head, from),
                    "{:?} from {from}",
                    String::from_utf8_lossy(head)
                );
            }
        }
    }

    #[test]
    fn bodiless_statuses_get_no_framing_header() {
        for status in [100, 204, 304] {
            let head = String::from_utf8(response_head(status, &[("A", "b")], Some(0))).unwrap();
            assert!(
                !head.contains("Content-Length") && !head.contains("Transfer-Encoding"),
                "{head}"
            );
        }
        assert!(String::from_utf8(response(200, &[], b""))
            .unwrap()
            .contains("\r\nContent-Length: 0\r\n"));
    }

    #[test]
    fn head_limits() {
        let huge = format!("GET / HTTP/1.1\r\nA: {}\r\n\r\n", "x".repeat(MAX_HEAD));
        assert_eq!(err(huge.as_bytes()), Error::HeadTooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        assert_eq!(
            err(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()),
            Error::TooManyHeaders
        );
        // A clean close between messages is not an error; inside one it is.
        let mut c = Conn::new(io::Cursor::new(Vec::new()));
        assert!(c.read_head_bytes().unwrap().is_none());
        assert!(matches!(
            read(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn keep_alive_and_continue() {
        let head = |s: &str| parse_request_head(s.as_bytes()).unwrap();
        let h = head("POST /x HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n");
        assert!(!h.keep_alive() && h.expects_continue());
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
        assert!(head("GET /a?b=c HTTP/1.1\r\n\r\n").keep_alive());
        assert_eq!(head("GET /a?b=c HTTP/1.1\r\n\r\n").path(), "/a");
    }

    #[test]
    fn responses_and_chunk_encoding_round_trip() {
        let h =
            parse_response_head(b"HTTP/1.1 200 OK\r\nrequest_id: abc\r\nContent-Length: 2\r\n\r\n")
                .unwrap();
        assert_eq!((h.status, h.header("REQUEST_ID")), (200, Some("abc")));
        assert_eq!(h.framing().unwrap(), Framing::Length(2));
        let h = parse_response_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert_eq!(h.framing().unwrap(), Framing::UntilClose);
        assert!(parse_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n").is_err());
        for body in [
            &b""[..],
            b"a",
            b"hello world, this is an event",
            &[0u8; 1000][..],
        ] {
            let mut wire = response_head(200, &[], None);
            wire.extend(encode_chunks(body, 3).concat());
            let mut c = Conn::new(io::Cursor::new(wire));
            let head = parse_response_head(&c.read_head_bytes().unwrap().unwrap()).unwrap();
            assert_eq!(
                c.read_body(head.framing().unwrap(), usize::MAX).unwrap(),
                body
            );
        }
        assert!(
            String::from_utf8_lossy(&encode_chunks(b"abcdefghijkl", 3).concat())
                .contains(";scf-emulator=")
        );
    }
}
