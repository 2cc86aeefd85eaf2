//! HTTP/1.1 framing, sans-IO: pure functions over byte slices.
//!
//! The runtime API server ([`crate::api`]) and the invoke endpoint
//! ([`crate::frontend`]) read bytes from a socket and hand them here; nothing
//! in this module touches a socket, so every rule below is unit-tested on
//! plain buffers. [`client`] is a small blocking client over the same parsers,
//! used by the tests and by anyone scripting the emulator from Rust.
//!
//! What a request may look like is deliberately narrow (this is a loopback
//! peer for one program, not a general web server): a request line with an
//! `HTTP/1.0` or `HTTP/1.1` version, token header names, no obsolete line
//! folding, a body framed by `Content-Length` or by `Transfer-Encoding:
//! chunked`, never both. Anything else is an [`Error`], which the caller
//! answers with `400 Bad Request` and a one-line reason.

use std::fmt;

/// Longest request head (request line plus headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most header lines accepted in one head.
pub const MAX_HEADERS: usize = 200;
/// Longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// Why a request could not be framed. Each names exactly one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    HeadTooLarge,
    TooManyHeaders,
    BadRequestLine,
    BadMethod,
    BadTarget,
    BadVersion,
    BadHeaderName,
    BadHeaderValue,
    ObsoleteLineFolding,
    BadContentLength,
    ConflictingContentLength,
    ContentLengthWithChunked,
    UnsupportedTransferEncoding,
    BadChunkSize,
    ChunkExpectedCrLf,
    BadTrailer,
    BodyTooLarge,
    BadStatusLine,
}

impl Error {
    /// A short description, suitable as a one-line error body.
    pub fn as_str(self) -> &'static str {
        match self {
            Error::HeadTooLarge => "request head too large",
            Error::TooManyHeaders => "too many header lines",
            Error::BadRequestLine => "malformed request line",
            Error::BadMethod => "invalid method token",
            Error::BadTarget => "invalid request target",
            Error::BadVersion => "unsupported HTTP version",
            Error::BadHeaderName => "invalid header name",
            Error::BadHeaderValue => "invalid header value",
            Error::ObsoleteLineFolding => "obsolete header line folding",
            Error::BadContentLength => "invalid Content-Length",
            Error::ConflictingContentLength => "conflicting Content-Length values",
            Error::ContentLengthWithChunked => "both Content-Length and Transfer-Encoding",
            Error::UnsupportedTransferEncoding => "unsupported Transfer-Encoding (only chunked)",
            Error::BadChunkSize => "invalid chunk size line",
            Error::ChunkExpectedCrLf => "chunk data not followed by CRLF",
            Error::BadTrailer => "invalid chunked trailer",
            Error::BodyTooLarge => "body too large",
            Error::BadStatusLine => "malformed status line",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for Error {}

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes follow the head (0: no body).
    Length(usize),
    /// `Transfer-Encoding: chunked`; feed the bytes to a [`ChunkedDecoder`].
    Chunked,
    /// Responses only: the body runs until the peer closes.
    UntilClose,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Header names as sent (case preserved) and values with surrounding
    /// whitespace removed, in order.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// How the body is framed (RFC 9112 section 6), or why it cannot be.
    pub fn framing(&self) -> Result<Framing, Error> {
        request_framing(&self.headers)
    }

    /// Whether the connection stays open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let tokens = |t: &str| {
            self.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
                .any(|(_, v)| v.split(',').any(|p| p.trim().eq_ignore_ascii_case(t)))
        };
        if self.minor_version == 0 {
            tokens("keep-alive")
        } else {
            !tokens("close")
        }
    }

    /// Whether the client waits for `100 Continue` before sending its body
    /// (curl does so for large `-d` bodies).
    pub fn expects_continue(&self) -> bool {
        self.minor_version == 1
            && self
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// How the body is framed, given the request method was not HEAD.
    pub fn framing(&self) -> Result<Framing, Error> {
        if self.status / 100 == 1 || self.status == 204 || self.status == 304 {
            return Ok(Framing::Length(0));
        }
        match request_framing(&self.headers)? {
            Framing::Length(n) if self.header("content-length").is_none() => {
                debug_assert_eq!(n, 0);
                Ok(Framing::UntilClose)
            }
            f => Ok(f),
        }
    }
}

fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn request_framing(headers: &[(String, String)]) -> Result<Framing, Error> {
    let mut te: Option<&str> = None;
    let mut length: Option<usize> = None;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Several Transfer-Encoding lines form one list; the last coding
            // must be chunked, and chunked is the only coding we implement.
            if te.is_some() {
                return Err(Error::UnsupportedTransferEncoding);
            }
            te = Some(value);
        } else if name.eq_ignore_ascii_case("content-length") {
            // A list like "5, 5" is allowed when all members agree.
            for part in value.split(',') {
                let n = parse_decimal(part.trim()).ok_or(Error::BadContentLength)?;
                match length {
                    Some(prev) if prev != n => return Err(Error::ConflictingContentLength),
                    _ => length = Some(n),
                }
            }
        }
    }
    match (te, length) {
        (Some(_), Some(_)) => Err(Error::ContentLengthWithChunked),
        (Some(te), None) => {
            if te.trim().eq_ignore_ascii_case("chunked") {
                Ok(Framing::Chunked)
            } else {
                Err(Error::UnsupportedTransferEncoding)
            }
        }
        (None, Some(n)) => Ok(Framing::Length(n)),
        (None, None) => Ok(Framing::Length(0)),
    }
}

fn parse_decimal(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Finds the end of a head: the index just past the blank line, after
/// skipping blank lines before the start line (RFC 9112 section 2.2). Lines
/// may end in CRLF or a bare LF.
fn head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut start = 0;
    while buf[start..].starts_with(b"\r\n") || buf[start..].starts_with(b"\n") {
        start += if buf[start] == b'\r' { 2 } else { 1 };
    }
    let mut line_start = start;
    while let Some(off) = buf[line_start..].iter().position(|&b| b == b'\n') {
        let nl = line_start + off;
        let line = &buf[line_start..nl];
        if (line.is_empty() || line == b"\r") && line_start > start {
            return Some((start, nl + 1));
        }
        line_start = nl + 1;
    }
    None
}

fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

fn parse_header_line(line: &[u8]) -> Result<(String, String), Error> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(Error::ObsoleteLineFolding);
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(Error::BadHeaderName)?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(Error::BadHeaderName);
    }
    let value = line[colon + 1..].trim_ascii();
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::BadHeaderValue);
    }
    Ok((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ))
}

fn parse_version(v: &[u8]) -> Result<u8, Error> {
    match v {
        b"HTTP/1.1" => Ok(1),
        b"HTTP/1.0" => Ok(0),
        _ => Err(Error::BadVersion),
    }
}

/// Parses a request head at the start of `buf`.
///
/// `Ok(None)`: the head is not complete yet, read more. `Ok(Some((head,
/// n)))`: the head took `n` bytes; the body (if any) starts at `buf[n..]`.
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, Error> {
    let Some((start, end)) = head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(Error::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    if end > MAX_HEAD {
        return Err(Error::HeadTooLarge);
    }
    let mut it = lines(&buf[start..end]);
    let request_line = it.next().ok_or(Error::BadRequestLine)?;
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::BadRequestLine);
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(Error::BadMethod);
    }
    if target.is_empty() || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(Error::BadTarget);
    }
    let minor_version = parse_version(version)?;
    let mut headers = Vec::new();
    for line in it {
        if headers.len() == MAX_HEADERS {
            return Err(Error::TooManyHeaders);
        }
        headers.push(parse_header_line(line)?);
    }
    let head = RequestHead {
        method: String::from_utf8_lossy(method).into_owned(),
        target: String::from_utf8_lossy(target).into_owned(),
        minor_version,
        headers,
    };
    Ok(Some((head, end)))
}

/// Parses a response head at the start of `buf`; same contract as
/// [`parse_request_head`].
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, Error> {
    let Some((start, end)) = head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(Error::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let mut it = lines(&buf[start..end]);
    let status_line = it.next().ok_or(Error::BadStatusLine)?;
    let mut parts = status_line.splitn(3, |&b| b == b' ');
    let version = parts.next().ok_or(Error::BadStatusLine)?;
    let minor_version = parse_version(version)?;
    let code = parts.next().ok_or(Error::BadStatusLine)?;
    if code.len() != 3 || !code.iter().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadStatusLine);
    }
    let status = std::str::from_utf8(code).map_err(|_| Error::BadStatusLine)?;
    let status: u16 = status.parse().map_err(|_| Error::BadStatusLine)?;
    let reason = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut headers = Vec::new();
    for line in it {
        if headers.len() == MAX_HEADERS {
            return Err(Error::TooManyHeaders);
        }
        headers.push(parse_header_line(line)?);
    }
    Ok(Some((
        ResponseHead {
            status,
            reason,
            minor_version,
            headers,
        },
        end,
    )))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

/// Incremental decoder for a chunked body.
///
/// Feed it bytes as they arrive; it appends decoded data to `out` and says
/// how many input bytes it consumed. Unconsumed bytes are an incomplete line
/// and must be offered again with more data behind them.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: ChunkState,
    limit: usize,
    decoded: usize,
}

impl ChunkedDecoder {
    /// A decoder refusing bodies over `limit` decoded bytes.
    pub fn new(limit: usize) -> Self {
        ChunkedDecoder {
            state: ChunkState::Size,
            limit,
            decoded: 0,
        }
    }

    /// Whether the last chunk and the trailer have been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes as much of `input` as possible into `out`; returns the number
    /// of bytes consumed. Stops consuming once done.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                ChunkState::Done => return Ok(pos),
                ChunkState::Size => {
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(Error::BadChunkSize);
                        }
                        return Ok(pos);
                    };
                    if nl > MAX_CHUNK_LINE {
                        return Err(Error::BadChunkSize);
                    }
                    let line = &rest[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let size = parse_chunk_size(line)?;
                    pos += nl + 1;
                    if size == 0 {
                        self.state = ChunkState::Trailer;
                    } else {
                        if size > self.limit.saturating_sub(self.decoded) {
                            return Err(Error::BodyTooLarge);
                        }
                        self.state = ChunkState::Data(size);
                    }
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = left.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    self.decoded += take;
                    pos += take;
                    self.state = if take == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.starts_with(b"\r\n") {
                        pos += 2;
                    } else if rest.starts_with(b"\n") {
                        pos += 1;
                    } else if rest.is_empty() || rest == b"\r" {
                        return Ok(pos);
                    } else {
                        return Err(Error::ChunkExpectedCrLf);
                    }
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(Error::BadTrailer);
                        }
                        return Ok(pos);
                    };
                    let line = &rest[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    pos += nl + 1;
                    if line.is_empty() {
                        self.state = ChunkState::Done;
                    } else {
                        parse_header_line(line).map_err(|_| Error::BadTrailer)?;
                    }
                }
            }
        }
    }
}

/// `chunk-size [ chunk-ext ]`: hex digits, then optionally `;` extensions
/// (ignored, as RFC 9112 allows), with optional whitespace before the `;`.
fn parse_chunk_size(line: &[u8]) -> Result<usize, Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 {
        return Err(Error::BadChunkSize);
    }
    let rest = line[digits..].trim_ascii_start();
    if !rest.is_empty() && rest[0] != b';' {
        return Err(Error::BadChunkSize);
    }
    let hex = std::str::from_utf8(&line[..digits]).map_err(|_| Error::BadChunkSize)?;
    usize::from_str_radix(hex, 16).map_err(|_| Error::BadChunkSize)
}

/// The standard reason phrase for the status codes this crate sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Serializes a response head. `headers` must not contain framing headers;
/// `content_length` adds `Content-Length`, `None` adds
/// `Transfer-Encoding: chunked`.
pub fn response_head(
    status: u16,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match content_length {
        Some(n) => out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes()),
        None => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
    out
}

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
            let mut c = Vec::with_capacity(piece.len() + 32);
            let size = if i % 2 == 0 {
                format!("{:x}", piece.len())
            } else {
                format!("{:X}", piece.len())
            };
            c.extend_from_slice(size.as_bytes());
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
    //! A small blocking HTTP/1.1 client for loopback use (tests, scripts).

    use super::{parse_response_head, ChunkedDecoder, Framing, ResponseHead};
    use std::io::{self, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// A response read by [`Client::request`].
    #[derive(Debug, Clone)]
    pub struct Response {
        pub head: ResponseHead,
        pub body: Vec<u8>,
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
        stream: TcpStream,
        buf: Vec<u8>,
    }

    fn invalid(e: impl std::fmt::Display) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    }

    impl Client {
        /// Connects; `timeout` bounds every read and write (None: no bound).
        pub fn connect(addr: SocketAddr, timeout: Option<Duration>) -> io::Result<Client> {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(timeout)?;
            stream.set_write_timeout(timeout)?;
            Ok(Client {
                stream,
                buf: Vec::new(),
            })
        }

        /// The underlying stream, e.g. to write raw bytes.
        pub fn stream(&mut self) -> &mut TcpStream {
            &mut self.stream
        }

        /// Sends one request with a `Content-Length` body and reads the
        /// response.
        pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> io::Result<Response> {
            let mut req = format!(
                "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            req.extend_from_slice(body);
            self.stream.write_all(&req)?;
            self.read_response()
        }

        /// Reads one response (skipping `100 Continue`).
        pub fn read_response(&mut self) -> io::Result<Response> {
            loop {
                let head = loop {
                    if let Some((head, n)) = parse_response_head(&self.buf).map_err(invalid)? {
                        self.buf.drain(..n);
                        break head;
                    }
                    self.fill()?;
                };
                if head.status == 100 {
                    continue;
                }
                let body = match head.framing().map_err(invalid)? {
                    Framing::Length(n) => {
                        while self.buf.len() < n {
                            self.fill()?;
                        }
                        self.buf.drain(..n).collect()
                    }
                    Framing::Chunked => {
                        let mut dec = ChunkedDecoder::new(usize::MAX);
                        let mut body = Vec::new();
                        loop {
                            let used = dec.feed(&self.buf, &mut body).map_err(invalid)?;
                            self.buf.drain(..used);
                            if dec.is_done() {
                                break body;
                            }
                            self.fill()?;
                        }
                    }
                    Framing::UntilClose => {
                        self.stream.read_to_end(&mut self.buf)?;
                        std::mem::take(&mut self.buf)
                    }
                };
                return Ok(Response { head, body });
            }
        }

        fn fill(&mut self) -> io::Result<()> {
            let mut tmp = [0u8; 16 * 1024];
            let n = self.stream.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before a complete response",
                ));
            }
            self.buf.extend_from_slice(&tmp[..n]);
            Ok(())
        }
    }

    /// One request on a fresh connection.
    pub fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: &[u8],
        timeout: Option<Duration>,
    ) -> io::Result<Response> {
        Client::connect(addr, timeout)?.request(method, path, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Result<Option<(RequestHead, usize)>, Error> {
        parse_request_head(s.as_bytes())
    }

    #[test]
    fn request_heads() {
        // (input, expected error or framing)
        let ok: &[(&str, Framing)] = &[
            (
                "GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
                Framing::Length(0),
            ),
            (
                "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
                Framing::Length(5),
            ),
            (
                "POST /a HTTP/1.1\r\ncontent-length: 5, 5\r\n\r\n",
                Framing::Length(5),
            ),
            (
                "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked,
            ),
            (
                "POST /a HTTP/1.1\nContent-Length: 1\n\n",
                Framing::Length(1),
            ),
            ("\r\nGET / HTTP/1.0\r\n\r\n", Framing::Length(0)),
        ];
        for (input, framing) in ok {
            let (head, _) = req(input).unwrap().unwrap();
            assert_eq!(head.framing().unwrap(), *framing, "{input:?}");
        }
        let bad: &[(&str, Error)] = &[
            ("GET /\r\n\r\n", Error::BadRequestLine),
            ("GET  / HTTP/1.1\r\n\r\n", Error::BadRequestLine),
            ("GET /a\tb HTTP/1.1\r\n\r\n", Error::BadTarget),
            ("GET / HTTP/2.0\r\n\r\n", Error::BadVersion),
            ("G(T / HTTP/1.1\r\n\r\n", Error::BadMethod),
            (
                "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                Error::BadHeaderName,
            ),
            ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", Error::BadHeaderName),
            (
                "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
                Error::ObsoleteLineFolding,
            ),
            ("GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", Error::BadHeaderValue),
        ];
        for (input, err) in bad {
            assert_eq!(req(input).unwrap_err(), *err, "{input:?}");
        }
        let bad_framing: &[(&str, Error)] = &[
            (
                "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                Error::BadContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                Error::BadContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
                Error::BadContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                Error::ConflictingContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Error::ContentLengthWithChunked,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                Error::UnsupportedTransferEncoding,
            ),
        ];
        for (input, err) in bad_framing {
            let (head, _) = req(input).unwrap().unwrap();
            assert_eq!(head.framing().unwrap_err(), *err, "{input:?}");
        }
    }

    #[test]
    fn incomplete_and_oversized_heads() {
        assert_eq!(req("GET / HTTP/1.1\r\nHost: x\r\n").unwrap(), None);
        assert_eq!(req("").unwrap(), None);
        let huge = format!("GET / HTTP/1.1\r\nA: {}\r\n", "x".repeat(MAX_HEAD));
        assert_eq!(req(&huge).unwrap_err(), Error::HeadTooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(req(&many).unwrap_err(), Error::TooManyHeaders);
    }

    #[test]
    fn head_length_and_keep_alive() {
        let input = "POST /x HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\n\r\nBODY";
        let (head, n) = req(input).unwrap().unwrap();
        assert_eq!(&input[n..], "BODY");
        assert!(!head.keep_alive());
        assert!(head.expects_continue());
        let (head, _) = req("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!head.keep_alive());
        let (head, _) = req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.keep_alive());
        let (head, _) = req("GET / HTTP/1.1\r\n\r\n").unwrap().unwrap();
        assert!(head.keep_alive());
    }

    fn dechunk(input: &[u8], step: usize) -> Result<(Vec<u8>, usize), Error> {
        // Feed `step` bytes at a time, like a socket would.
        let mut dec = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let mut pending = Vec::new();
        let mut consumed = 0;
        for piece in input.chunks(step) {
            pending.extend_from_slice(piece);
            let used = dec.feed(&pending, &mut out)?;
            consumed += used;
            pending.drain(..used);
            if dec.is_done() {
                return Ok((out, consumed));
            }
        }
        panic!("chunked body incomplete after {consumed} bytes");
    }

    #[test]
    fn chunked_bodies() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (
                b"5;ext=1\r\nhello\r\n6 ; a=\"b\"\r\n world\r\n0\r\n\r\n",
                b"hello world",
            ),
            (b"A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", b"0123456789"),
            (b"a\n0123456789\n0\n\n", b"0123456789"),
            (b"0\r\n\r\n", b""),
        ];
        for (input, want) in cases {
            for step in [1, 2, 3, 7, 1000] {
                let (got, used) = dechunk(input, step).unwrap();
                assert_eq!(got, *want, "{input:?} step {step}");
                assert_eq!(used, input.len());
            }
        }
        let bad: &[(&[u8], Error)] = &[
            (b"x\r\n", Error::BadChunkSize),
            (b"5x\r\nhello\r\n", Error::BadChunkSize),
            (b"5\r\nhelloXX", Error::ChunkExpectedCrLf),
            (b"1000000000000000\r\n", Error::BadChunkSize),
            (b"0\r\nbad trailer\r\n\r\n", Error::BadTrailer),
        ];
        for (input, err) in bad {
            assert_eq!(dechunk(input, 1000).unwrap_err(), *err, "{input:?}");
        }
        let mut dec = ChunkedDecoder::new(4);
        assert_eq!(
            dec.feed(b"5\r\nhello\r\n", &mut Vec::new()).unwrap_err(),
            Error::BodyTooLarge
        );
    }

    #[test]
    fn encode_chunks_round_trips() {
        for body in [
            &b""[..],
            b"a",
            b"hello world, this is an event",
            &[0u8; 1000][..],
        ] {
            let wire: Vec<u8> = encode_chunks(body, 3).concat();
            let (got, _) = dechunk(&wire, 5).unwrap();
            assert_eq!(got, body);
        }
        let wire = encode_chunks(b"abcdefghijkl", 3).concat();
        assert!(String::from_utf8_lossy(&wire).contains(";scf-emulator="));
    }

    /// Arbitrary bytes never panic a parser: they parse, ask for more, or
    /// fail with an error. (A cheap stand-in for fuzzing, deterministic.)
    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet =
            b"GET /\r\n:; HTTP/1.1 chunked Content-Length 0123456789abcdefABCDEF\t\x00\xff";
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if let Ok(Some((head, _))) = parse_request_head(&input) {
                let _ = head.framing();
                let _ = head.keep_alive();
            }
            let _ = parse_response_head(&input);
            let mut dec = ChunkedDecoder::new(1 << 16);
            let _ = dec.feed(&input, &mut Vec::new());
        }
    }

    #[test]
    fn response_heads() {
        let raw = b"HTTP/1.1 200 OK\r\nrequest_id: abc\r\nContent-Length: 2\r\n\r\nhi";
        let (head, n) = parse_response_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("REQUEST_ID"), Some("abc"));
        assert_eq!(head.framing().unwrap(), Framing::Length(2));
        assert_eq!(&raw[n..], b"hi");
        let (head, _) = parse_response_head(b"HTTP/1.1 200 OK\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.framing().unwrap(), Framing::UntilClose);
        assert_eq!(
            parse_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n").unwrap_err(),
            Error::BadStatusLine
        );
    }
}
