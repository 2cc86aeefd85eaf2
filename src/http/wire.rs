//! HTTP/1.1 framing without I/O: a request as pieces for one write, a
//! response head parsed zero-copy (through `httparse`), a chunked body
//! decoded in place, and the framing policy that tells the client what to
//! read next ([`head_step`], [`BodyFramer`]).
//! Every function here works on byte slices only, so it can be unit-tested
//! and fuzzed without a socket.

use crate::text::{parse_digits, trim};
use core::mem::MaybeUninit;
use core::ops::Range;

/// The most headers one response head may carry.
pub const MAX_HEADERS: usize = 256;

/// Why a response could not be framed. Each variant names one fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The status line or a header is not valid HTTP/1.x (httparse's reason).
    Head(&'static str),
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// A `Content-Length` that is not a decimal number, or two that differ.
    BadContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` are present.
    LengthAndEncoding,
    /// A `Transfer-Encoding` other than one `chunked` (the runtime asks for
    /// no coding, so any other would hand the handler encoded bytes).
    TransferCoding,
    /// A chunk-size line that is not hexadecimal.
    BadChunkSize,
    /// A chunk-size line (with its extensions) longer than [`MAX_CHUNK_LINE`].
    ChunkLineTooLong,
    /// Chunk data not followed by CRLF.
    ChunkExpectedCrLf,
    /// One trailer line longer than [`MAX_TRAILER_LINE`].
    TrailerLineTooLong,
    /// The trailer section longer than [`MAX_TRAILER`].
    TrailerTooLong,
    /// More than [`MAX_FRAMING`] bytes of chunk-size lines, extensions,
    /// line ends and trailers in one body.
    FramingTooLong,
}

impl Error {
    pub fn describe(self) -> &'static str {
        match self {
            Error::Head(why) => why,
            Error::TooManyHeaders => "more than 256 header fields",
            Error::BadContentLength => "invalid Content-Length",
            Error::LengthAndEncoding => "both Content-Length and Transfer-Encoding",
            Error::TransferCoding => {
                "Transfer-Encoding other than a lone chunked (the runtime accepts no other coding)"
            }
            Error::BadChunkSize => "invalid chunk size line",
            Error::ChunkLineTooLong => "chunk-size line longer than 4096 bytes",
            Error::ChunkExpectedCrLf => "chunk data not followed by CRLF",
            Error::TrailerLineTooLong => "chunked trailer line longer than 4096 bytes",
            Error::TrailerTooLong => "chunked trailer section longer than 16384 bytes",
            Error::FramingTooLong => "chunked framing (size lines, extensions, trailers) over 1048576 bytes",
        }
    }
}

/// How the body that follows a response head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    /// No length given: the body runs until the server closes the connection.
    UntilClose,
}

/// A numeric header value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Num {
    #[default]
    Absent,
    Value(u64),
    /// Present but not a decimal number that fits in 64 bits.
    Invalid,
}

impl Num {
    /// A present value as httparse hands it over (no blanks around it): a
    /// decimal number, or invalid.
    pub fn parse(value: &[u8]) -> Num {
        parse_digits(value).map_or(Num::Invalid, Num::Value)
    }
}

/// Where a header value lies in the buffer its head was parsed from, in
/// 32 bits a side (a head is at most 1 MiB, far below 4 GiB).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// What a caller reads of a response head besides its framing (the
/// dialects' context headers): every field that the framing does not use
/// is offered to it, in order. Generic, so that the matching is inlined
/// into the parsing loop.
pub trait Fields {
    /// Forgets the fields of the last head (called before each head).
    fn clear(&mut self);
    /// Offers the field `name: value`; `at` is where `value` lies in the
    /// buffer the head was parsed from, to be read after the parse.
    fn field(&mut self, name: &[u8], value: &[u8], at: Span);
}

/// Reads no fields (for heads whose fields nobody needs).
impl Fields for () {
    fn clear(&mut self) {}
    fn field(&mut self, _: &[u8], _: &[u8], _: Span) {}
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head, including the blank line; the body starts here.
    pub len: usize,
    pub framing: Framing,
    /// Whether the connection may carry another request afterwards.
    pub keep_alive: bool,
}

/// Parses the response head at the start of `buf`, offering its other
/// fields to `fields` (cleared first). `Ok(None)` means the head is not
/// complete yet: read more and call again with the longer buffer.
///
/// Obsolete line folding (RFC 9112, 5.2) is accepted: a field value may
/// continue on lines that start with a blank. httparse leaves the fold's
/// bytes in the value; the framing's values are tokens and numbers, for
/// which a fold is only blank space (a caller that reads a value as it is
/// can [`unfold`] it in place).
pub fn parse_head<F: Fields>(buf: &[u8], fields: &mut F) -> Result<Option<Head>, Error> {
    // Left uninitialised: httparse fills only what it parses, so a head of
    // ten fields costs ten, not a 8 KiB clear of all 256 slots per response.
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    let len = match config.parse_response_with_uninit_headers(&mut res, buf, &mut headers) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyHeaders),
        Err(e) => return Err(Error::Head(describe_httparse(e))),
    };
    // Both are Some once parsing completed.
    let status = res.code.unwrap_or(0);
    let http10 = res.version == Some(0);

    let mut length: Option<u64> = None;
    let mut chunked = None;
    let mut close = false;
    let mut keep_alive_token = false;
    fields.clear();
    let base = buf.as_ptr() as usize;
    for h in res.headers.iter() {
        let name = h.name.as_bytes();
        // Dispatch on the length first: one comparison per field instead of
        // three (this loop runs for every field of every response).
        let is = |want: &[u8]| eq_lowercase(name, want);
        match name.len() {
            14 if is(b"content-length") => {
                let n = parse_digits(h.value).ok_or(Error::BadContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(Error::BadContentLength);
                }
                length = Some(n);
            }
            // The runtime asks for no coding; `chunked` alone is the only
            // one it decodes, and anything else (another coding, a list, a
            // second field) is refused rather than passed on still encoded.
            17 if is(b"transfer-encoding") => {
                if chunked.is_some() || !trim(h.value).eq_ignore_ascii_case(b"chunked") {
                    return Err(Error::TransferCoding);
                }
                chunked = Some(());
            }
            10 if is(b"connection") => {
                for t in h.value.split(|&b| b == b',') {
                    let t = trim(t);
                    close |= t.eq_ignore_ascii_case(b"close");
                    keep_alive_token |= t.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            _ => {
                // The value borrows from buf: as an offset range it
                // outlives the parse.
                let start = h.value.as_ptr() as usize - base;
                let at = Span { start: start as u32, end: (start + h.value.len()) as u32 };
                fields.field(name, h.value, at);
            }
        }
    }

    let framing = match (chunked, length) {
        (Some(()), Some(_)) => return Err(Error::LengthAndEncoding),
        (Some(()), None) => Framing::Chunked,
        (None, Some(n)) => Framing::Length(n),
        // 1xx, 204 and 304 never carry a body (RFC 9112, 6.3).
        (None, None) if status < 200 || status == 204 || status == 304 => Framing::Length(0),
        (None, None) => Framing::UntilClose,
    };
    let keep_alive = !close && (!http10 || keep_alive_token) && framing != Framing::UntilClose;
    // httparse takes any three digits; RFC 9110, 15, says those outside
    // 100 to 599 are invalid (`000` would have been taken for a final
    // answer, `099` for an interim one).
    if !(100..=599).contains(&status) {
        return Err(Error::Head("invalid status code"));
    }
    Ok(Some(Head { status, len, framing, keep_alive }))
}

/// Replaces each obsolete line fold in a field value, with the blanks
/// around it, by one space, moving the rest of the value forward in place;
/// returns the value's new length. (RFC 9112, 5.2: a fold is replaced with
/// a space before the value is interpreted; runs of blanks next to it carry
/// no meaning in a field value, so they go with it.)
pub fn unfold(v: &mut [u8]) -> usize {
    let (mut r, mut w) = (0, 0);
    // `w <= r` throughout, so each write is in bounds.
    while let Some(&c) = v.get(r) {
        let out = if c == b'\r' || c == b'\n' {
            while w > 0 && matches!(v.get(w - 1), Some(b' ' | b'\t')) {
                w -= 1;
            }
            while matches!(v.get(r), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                r += 1;
            }
            b' '
        } else {
            r += 1;
            c
        };
        if let Some(b) = v.get_mut(w) {
            *b = out;
        }
        w += 1;
    }
    w
}

/// Whether the header name `name` is `want` (lowercase letters, digits,
/// `-`, `_`) in any letter case. `name` is a token, as httparse gives
/// every name (RFC 9110 tchar: letters, digits, ``!#$%&'*+-.^_`|~``).
///
/// Both sides are compared with the case bit (0x20) set in every byte,
/// eight bytes at a time, the last eight overlapping the ones before where
/// the length is not a multiple of eight. For a token that is exact: a
/// letter meets only its other case, and the other bytes that differ from
/// a wanted byte in that bit alone are no tokens (CR for `-`, DEL for `_`,
/// controls for digits). A name of 8 to 16 bytes takes two comparisons:
/// about 20 instructions, where folding only the name's capitals (exact
/// for any byte) took 45, and comparing the eight-byte chunks and then the
/// rest byte by byte 65.
#[inline(never)]
pub fn eq_lowercase(name: &[u8], want: &[u8]) -> bool {
    const CASE: u64 = 0x2020_2020_2020_2020;
    let n = want.len();
    if name.len() != n {
        return false;
    }
    if n < 8 {
        return name.iter().zip(want).all(|(&b, &w)| b | 0x20 == w | 0x20);
    }
    let word =
        |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| w.try_into().ok()).map_or(0, u64::from_le_bytes) | CASE;
    let mut i = 0;
    while i + 8 < n {
        if word(name, i) != word(want, i) {
            return false;
        }
        i += 8;
    }
    word(name, n - 8) == word(want, n - 8)
}

fn describe_httparse(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid token",
        httparse::Error::Version => "not an HTTP/1.x status line",
        httparse::Error::TooManyHeaders => "more than 256 header fields",
    }
}

/// The largest response body accepted (SCF events are at most 6 MB).
pub const MAX_BODY: u64 = 32 << 20;

/// The largest response head accepted.
pub const MAX_HEAD: usize = 1 << 20;

/// Why a response cannot be read to its end (the client reports each as
/// it is, never retried).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The head or the chunked framing is invalid.
    Malformed(Error),
    /// The peer closed before the end of the body.
    Truncated,
    /// A head of more than [`MAX_HEAD`] bytes, or a body of more than the
    /// limit, whose size (as far as known) is given.
    TooLarge(u64),
}

/// What the reader does next while a response head comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadStep {
    /// An interim (1xx) head of this many bytes: drop it and parse on.
    Skip(usize),
    /// The head parsed is the final one: read its body.
    Final,
    /// Read more bytes.
    More,
}

/// The framing policy for a response head: given the parsed head's status
/// and length, if the `buffered` bytes received so far hold a whole one
/// (see [`parse_head`]), what to do next. 1xx heads are skipped; a head
/// still incomplete at [`MAX_HEAD`] bytes is too large.
#[inline(always)]
pub fn head_step(parsed: Option<(u16, usize)>, buffered: usize) -> Result<HeadStep, Fault> {
    match parsed {
        Some((status, len)) if (100..200).contains(&status) => Ok(HeadStep::Skip(len)),
        Some(_) => Ok(HeadStep::Final),
        None if buffered >= MAX_HEAD => Err(Fault::TooLarge(buffered as u64)),
        None => Ok(HeadStep::More),
    }
}

/// Where a response body stands, given the bytes received after its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyStep {
    /// Complete: the body is the first `len` bytes, and the response's
    /// bytes end at `end` (both counted from the end of the head).
    Done { len: usize, end: usize },
    /// Exactly this many more bytes are needed (a `Content-Length` body),
    /// so memory of the body's size can be reserved; a close before they
    /// come truncates the response.
    Need(usize),
    /// More bytes are needed, how many is not known yet (a chunked body);
    /// a close before the last chunk truncates the response.
    More,
    /// The body runs until the peer closes: read on.
    UntilClose,
}

/// The framing policy for a response body, fed the bytes received after
/// the head each time more have come: it keeps the de-chunker's state
/// between calls.
pub struct BodyFramer {
    framing: Framing,
    max: u64,
    chunks: Dechunker,
}

impl BodyFramer {
    /// A body framed by `framing`, refused past `max` bytes.
    #[inline(always)]
    pub fn new(framing: Framing, max: u64) -> BodyFramer {
        BodyFramer { framing, max, chunks: Dechunker::default() }
    }

    /// What to do next, given `buf` (all bytes received after the head; a
    /// chunked body is decoded in place at its front) and whether the peer
    /// has `closed` the connection (nothing more will come). A length past
    /// the limit is refused before any of the body is read; a chunked or
    /// until-close body as soon as it is seen to pass it.
    #[inline(always)]
    pub fn step(&mut self, buf: &mut [u8], closed: bool) -> Result<BodyStep, Fault> {
        match self.framing {
            Framing::Length(n) if n > self.max => Err(Fault::TooLarge(n)),
            Framing::Length(n) if n as usize <= buf.len() => Ok(BodyStep::Done { len: n as usize, end: n as usize }),
            Framing::Length(_) if closed => Err(Fault::Truncated),
            Framing::Length(n) => Ok(BodyStep::Need(n as usize - buf.len())),
            Framing::Chunked => match self.chunks.feed(buf).map_err(Fault::Malformed)? {
                Chunked::Done { body_len, consumed } => Ok(BodyStep::Done { len: body_len, end: consumed }),
                Chunked::NeedMore if self.chunks.decoded() as u64 > self.max => {
                    Err(Fault::TooLarge(self.chunks.decoded() as u64))
                }
                Chunked::NeedMore if closed => Err(Fault::Truncated),
                Chunked::NeedMore => Ok(BodyStep::More),
            },
            Framing::UntilClose if buf.len() as u64 > self.max => Err(Fault::TooLarge(buf.len() as u64)),
            Framing::UntilClose if closed => Ok(BodyStep::Done { len: buf.len(), end: buf.len() }),
            Framing::UntilClose => Ok(BodyStep::UntilClose),
        }
    }
}

const LENGTH_FIELD: &[u8] = b"\r\nContent-Length: ";

/// The value of a request's Host header, `host:port`, with brackets around
/// an IPv6 address: kept as the pieces that, joined, make it (the host and
/// port borrowed from the environment), so that nothing is formatted twice.
/// Kept joinable rather than as its parts: rebuilding the pieces at each
/// use cost 180 to 490 bytes of code. Joined, it is a [`host_tail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host<'a> {
    pieces: [&'a [u8]; 4],
}

impl<'a> Host<'a> {
    /// No host yet (messages before the endpoint was parsed show nothing).
    /// A function, not a constant: a constant is copied from 64 bytes of
    /// read-only data, where this is four stores.
    pub fn none() -> Host<'static> {
        Host { pieces: [b""; 4] }
    }

    /// `name` is the host without brackets, `v6` whether it is an IPv6
    /// address (which gets them), `port` the port's digits.
    pub const fn new(name: &'a [u8], v6: bool, port: &'a [u8]) -> Host<'a> {
        Host { pieces: [if v6 { b"[" } else { b"" }, name, if v6 { b"]:" } else { b":" }, port] }
    }

    /// The value in the pieces that, joined, make it.
    pub const fn pieces(&self) -> [&'a [u8]; 4] {
        self.pieces
    }
}

/// The longest host a Host value takes (a DNS name's limit; longer
/// settings are refused before they get here).
pub const MAX_HOST: usize = 255;

/// Room for a joined [`host_tail`]: a host of up to [`MAX_HOST`] bytes, in
/// brackets, with a port of up to five digits and the field.
pub const TAIL_ROOM: usize = 2 + MAX_HOST + 2 + 5 + LENGTH_FIELD.len();

/// The Host value and the field that follows it, to be joined once (into
/// [`TAIL_ROOM`] bytes) and put in every request: `HOST\r\nContent-Length: `.
pub fn host_tail<'a>(host: &Host<'a>) -> [&'a [u8]; 5] {
    let [h0, h1, h2, h3] = host.pieces();
    [h0, h1, h2, h3, LENGTH_FIELD]
}

/// The front of a joined [`host_tail`] without the length field: `HOST\r\n`,
/// for a request without a body (a blank line follows).
pub fn host_line(tail: &[u8]) -> &[u8] {
    tail.get(..tail.len().saturating_sub(LENGTH_FIELD.len() - 2)).unwrap_or_default()
}

/// The most pieces a [`message`] comes in: what one `sendmsg` takes.
pub const PIECES: usize = 16;

/// A message whose head (a request line or a status line, and fields) is
/// given in pieces that end with `Content-Length: `, as pieces for one
/// vectored write, written into `out`: the head, the body's length, the
/// blank line, the body's pieces. Returns how many; pieces past
/// [`PIECES`] are left out (callers pass fewer). Empty pieces are skipped
/// by the write.
// Unused in a build without crash reports that speaks SCF only (SCF's
// requests are `scf::request`'s constant heads).
#[allow(dead_code)]
pub fn message<'a>(
    out: &mut [&'a [u8]; PIECES],
    head: &[&'a [u8]],
    digits: &'a mut itoa::Buffer,
    body: &[&'a [u8]],
) -> usize {
    let mut n = 0;
    let mut push = |p: &'a [u8]| {
        if let Some(o) = out.get_mut(n) {
            *o = p;
            n += 1;
        }
    };
    head.iter().for_each(|p| push(p));
    push(digits.format(body.iter().map(|p| p.len()).sum::<usize>()).as_bytes());
    push(b"\r\n\r\n");
    body.iter().for_each(|p| push(p));
    n
}

/// The longest chunk-size line accepted, extensions included.
pub const MAX_CHUNK_LINE: usize = 4096;
/// The longest trailer line accepted.
pub const MAX_TRAILER_LINE: usize = 4096;
/// The largest trailer section accepted (all its lines).
pub const MAX_TRAILER: usize = 16 << 10;
/// The most framing bytes (everything but chunk data: size lines and their
/// extensions, line ends, trailers) accepted in one chunked body. Only
/// decoded bytes count against the body limit, and framing read stays in
/// the receive buffer until the body ends, so without this bound a peer
/// could make it hold any amount of memory. 1 MiB lets a 6 MB event
/// arrive in chunks as small as about 64 bytes.
pub const MAX_FRAMING: usize = 1 << 20;

/// Decodes a chunked body in place. The decoder is fed the whole body region
/// read so far (starting right after the head) every time more bytes arrive;
/// it moves chunk data towards the front of that region, over the framing it
/// has already read, so the finished body is one contiguous slice and no
/// second buffer is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dechunker {
    /// Next byte of the region to read.
    pos: usize,
    /// Decoded body bytes so far, at the front of the region.
    out: usize,
    /// Bytes of the trailer section read so far.
    trailer: usize,
    state: ChunkState,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// Progress of [`Dechunker::feed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunked {
    /// Read more bytes into the region and feed again.
    NeedMore,
    /// The body is `region[..body_len]`; the message ended at `region[consumed]`.
    Done { body_len: usize, consumed: usize },
}

impl Dechunker {
    /// Decoded bytes so far (to bound the body size while it streams in).
    pub fn decoded(&self) -> usize {
        self.out
    }

    pub fn feed(&mut self, region: &mut [u8]) -> Result<Chunked, Error> {
        loop {
            // `pos` never passes the region's end (see `advance`'s callers).
            let avail = region.get(self.pos..).unwrap_or_default();
            match self.state {
                ChunkState::Size => {
                    let Some(line) = take_line(avail, MAX_CHUNK_LINE, Error::ChunkLineTooLong)? else {
                        return Ok(Chunked::NeedMore);
                    };
                    let size = parse_chunk_size(line.content)?;
                    self.advance(line.total)?;
                    self.state = if size == 0 { ChunkState::Trailer } else { ChunkState::Data(size) };
                }
                ChunkState::Data(left) => {
                    if avail.is_empty() {
                        return Ok(Chunked::NeedMore);
                    }
                    let take = (avail.len() as u64).min(left) as usize;
                    // The data moves down over the framing before it: from
                    // the end of `region[out..pos + take]` to its start.
                    if let Some(span) = region.get_mut(self.out..self.pos + take) {
                        let from = span.len().saturating_sub(take);
                        crate::sys::shift_down(span, from);
                    }
                    self.pos += take;
                    self.out += take;
                    self.state =
                        if left == take as u64 { ChunkState::DataEnd } else { ChunkState::Data(left - take as u64) };
                }
                ChunkState::DataEnd => match avail {
                    [b'\r', b'\n', ..] => {
                        self.advance(2)?;
                        self.state = ChunkState::Size;
                    }
                    [] | [b'\r'] => return Ok(Chunked::NeedMore),
                    _ => return Err(Error::ChunkExpectedCrLf),
                },
                ChunkState::Trailer => {
                    let Some(line) = take_line(avail, MAX_TRAILER_LINE, Error::TrailerLineTooLong)? else {
                        return Ok(Chunked::NeedMore);
                    };
                    self.trailer += line.total;
                    if self.trailer > MAX_TRAILER {
                        return Err(Error::TrailerTooLong);
                    }
                    self.advance(line.total)?;
                    if line.content.is_empty() {
                        self.state = ChunkState::Done;
                    }
                }
                ChunkState::Done => return Ok(Chunked::Done { body_len: self.out, consumed: self.pos }),
            }
        }
    }

    /// Steps over `n` framing bytes, within [`MAX_FRAMING`] for the body.
    fn advance(&mut self, n: usize) -> Result<(), Error> {
        self.pos += n;
        // Everything read that is not decoded data is framing.
        if self.pos - self.out > MAX_FRAMING {
            return Err(Error::FramingTooLong);
        }
        Ok(())
    }
}

struct Line<'a> {
    /// The line without its ending.
    content: &'a [u8],
    /// Its length with the ending.
    total: usize,
}

/// Finds one CRLF-terminated line at the start of `b` (a bare LF is
/// accepted too, as most servers and clients do), of at most `max` bytes
/// with its line end; a longer one, complete or not, is `too_long`.
fn take_line(b: &[u8], max: usize, too_long: Error) -> Result<Option<Line<'_>>, Error> {
    // Only the first max bytes can hold the end of an acceptable line.
    let window = &b[..b.len().min(max)];
    match memchr::memchr(b'\n', window).and_then(|i| window.split_at_checked(i)) {
        Some((text, _)) => {
            let content = text.strip_suffix(b"\r").unwrap_or(text);
            Ok(Some(Line { content, total: text.len() + 1 }))
        }
        None if b.len() >= max => Err(too_long),
        None => Ok(None),
    }
}

/// `1*HEXDIG [ BWS ";" chunk-ext ]`: the size, ignoring any extensions.
fn parse_chunk_size(line: &[u8]) -> Result<u64, Error> {
    let end = line.iter().position(|&b| !b.is_ascii_hexdigit()).unwrap_or(line.len());
    if end == 0 || end > 16 {
        return Err(Error::BadChunkSize);
    }
    let Some((digits, rest)) = line.split_at_checked(end) else { return Err(Error::BadChunkSize) };
    // Blanks (BWS) only, not the CR that trim() would also take.
    match rest.iter().find(|&&b| b != b' ' && b != b'\t') {
        None | Some(b';') => {}
        Some(_) => return Err(Error::BadChunkSize),
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        n = (n << 4) | u64::from(d);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Result<Option<Head>, Error> {
        parse_head(s.as_bytes(), &mut ())
    }

    #[test]
    fn tails_and_messages() {
        let longest = [b'h'; MAX_HOST];
        for (host, want) in [
            (Host::new(b"127.0.0.1", false, b"9001"), "127.0.0.1:9001\r\nContent-Length: ".to_string()),
            (Host::new(b"::1", true, b"80"), "[::1]:80\r\nContent-Length: ".to_string()),
            (Host::new(&longest, true, b"65535"), format!("[{}]:65535\r\nContent-Length: ", "h".repeat(MAX_HOST))),
        ] {
            let tail = host_tail(&host).concat();
            assert!(tail.len() <= TAIL_ROOM);
            assert_eq!(String::from_utf8_lossy(&tail), want);
            assert_eq!(host_line(&tail), want.strip_suffix("Content-Length: ").unwrap().as_bytes());
        }
        let mut out: [&[u8]; PIECES] = [b""; PIECES];
        let mut digits = itoa::Buffer::new();
        let n = message(&mut out, &[b"HTTP/1.1 500 Oops\r\n", b"Content-Length: "], &mut digits, &[b"ab", b"", b"c"]);
        assert_eq!(out[..n].concat(), b"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nabc");
        // Before the endpoint is known, messages show no host at all.
        assert_eq!(Host::none().pieces().concat(), b"");
    }

    #[test]
    fn head_policy_skips_1xx_and_bounds_the_head() {
        use HeadStep::*;
        for (parsed, buffered, want) in [
            (Some((100, 25)), 40, Ok(Skip(25))),
            (Some((103, 60)), 60, Ok(Skip(60))),
            (Some((199, 9)), 9, Ok(Skip(9))),
            (Some((200, 38)), 38, Ok(Final)),
            (Some((204, 20)), MAX_HEAD + 5, Ok(Final)),
            (Some((99, 20)), 20, Ok(Final)),
            (Some((500, 20)), 20, Ok(Final)),
            (None, 0, Ok(More)),
            (None, MAX_HEAD - 1, Ok(More)),
            (None, MAX_HEAD, Err(Fault::TooLarge(MAX_HEAD as u64))),
        ] {
            assert_eq!(head_step(parsed, buffered), want, "{parsed:?} {buffered}");
        }
    }

    /// Feeds a body to a framer as the client does: the bytes received so
    /// far, then the rest, then a close. Returns the first step at each
    /// stage (a Done or fault ends the run).
    fn frame(framing: Framing, max: u64, parts: &[&[u8]]) -> Vec<Result<BodyStep, Fault>> {
        let mut f = BodyFramer::new(framing, max);
        let mut buf = Vec::new();
        let mut steps = Vec::new();
        for part in parts {
            buf.extend_from_slice(part);
            let step = f.step(&mut buf, false);
            let end = !matches!(step, Ok(BodyStep::Need(_) | BodyStep::More | BodyStep::UntilClose));
            steps.push(step);
            if end {
                return steps;
            }
        }
        steps.push(f.step(&mut buf, true));
        steps
    }

    #[test]
    fn body_policy_for_each_framing() {
        use BodyStep::*;
        let done = |len, end| Ok(Done { len, end });
        for (framing, max, parts, want) in [
            // Content-Length: exactly what is missing, then done; bytes past
            // the body are the next response's.
            (Framing::Length(5), MAX_BODY, &[&b"he"[..], b"llo"][..], vec![Ok(Need(3)), done(5, 5)]),
            (Framing::Length(5), MAX_BODY, &[&b"helloHTTP"[..]], vec![done(5, 5)]),
            (Framing::Length(0), MAX_BODY, &[&b""[..]], vec![done(0, 0)]),
            (Framing::Length(5), MAX_BODY, &[&b"hel"[..]], vec![Ok(Need(2)), Err(Fault::Truncated)]),
            (
                Framing::Length(MAX_BODY),
                MAX_BODY,
                &[&b""[..]],
                vec![Ok(Need(MAX_BODY as usize)), Err(Fault::Truncated)],
            ),
            (Framing::Length(MAX_BODY + 1), MAX_BODY, &[&b""[..]], vec![Err(Fault::TooLarge(MAX_BODY + 1))]),
            // Chunked: decoded in place; the end is the last chunk's trailer.
            (Framing::Chunked, MAX_BODY, &[&b"5\r\nhel"[..], b"lo\r\n0\r\n\r\nX"], vec![Ok(More), done(5, 15)]),
            (Framing::Chunked, MAX_BODY, &[&b"5\r\nhel"[..]], vec![Ok(More), Err(Fault::Truncated)]),
            (Framing::Chunked, MAX_BODY, &[&b"x\r\n"[..]], vec![Err(Fault::Malformed(Error::BadChunkSize))]),
            (Framing::Chunked, 4, &[&b"5\r\nhello\r\n"[..]], vec![Err(Fault::TooLarge(5))]),
            (Framing::Chunked, 5, &[&b"5\r\nhello\r\n"[..], b"0\r\n\r\n"], vec![Ok(More), done(5, 15)]),
            // Until close: everything received, ended by the close.
            (Framing::UntilClose, MAX_BODY, &[&b"ab"[..], b"c"], vec![Ok(UntilClose), Ok(UntilClose), done(3, 3)]),
            (Framing::UntilClose, MAX_BODY, &[&b""[..]], vec![Ok(UntilClose), done(0, 0)]),
            (Framing::UntilClose, 2, &[&b"ab"[..], b"c"], vec![Ok(UntilClose), Err(Fault::TooLarge(3))]),
        ] {
            assert_eq!(frame(framing, max, parts), want, "{framing:?} {parts:?}");
        }
    }

    #[test]
    fn framing_and_keep_alive() {
        use Framing::*;
        let cases: &[(&str, u16, Framing, bool)] = &[
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, Length(5), true),
            ("HTTP/1.1 200 OK\r\ncontent-length:  7 \r\n\r\n", 200, Length(7), true),
            // Folds before and after the number (httparse drops them with
            // the blanks: the value is the digits alone).
            ("HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\n", 200, Length(3), true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 4\t\r\n \r\n\r\n", 200, Length(4), true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 200, Length(5), true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, Chunked, true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n", 200, Chunked, true),
            ("HTTP/1.1 200 OK\r\n\r\n", 200, UntilClose, false),
            ("HTTP/1.1 204 No Content\r\n\r\n", 204, Length(0), true),
            ("HTTP/1.1 100 Continue\r\n\r\n", 100, Length(0), true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, Length(0), false),
            ("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", 200, Length(0), false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, Length(0), false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, Length(0), true),
            ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno", 500, Length(2), true),
            ("HTTP/1.1 599 Last\r\nContent-Length: 0\r\n\r\n", 599, Length(0), true),
        ];
        for (text, status, framing, keep) in cases {
            let h = head(text).unwrap().unwrap_or_else(|| panic!("partial: {text:?}"));
            assert_eq!((h.status, h.framing, h.keep_alive), (*status, *framing, *keep), "{text:?}");
            assert_eq!(h.len, text.find("\r\n\r\n").unwrap() + 4, "{text:?}");
        }
    }

    #[test]
    fn partial_and_invalid_heads() {
        let partial = ["", "HTTP/1.1", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"];
        for p in partial {
            assert_eq!(head(p), Ok(None), "{p:?}");
        }
        let bad: &[(&str, Error)] = &[
            ("garbage\r\n\r\n", Error::Head("not an HTTP/1.x status line")),
            ("HTTP/2 200 OK\r\n\r\n", Error::Head("not an HTTP/1.x status line")),
            ("HTTP/1.1 2x0 OK\r\n\r\n", Error::Head("invalid status code")),
            ("HTTP/1.1 000 Zero\r\n\r\n", Error::Head("invalid status code")),
            ("HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", Error::Head("invalid status code")),
            ("HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n", Error::Head("invalid status code")),
            ("HTTP/1.1 999 High\r\n\r\n", Error::Head("invalid status code")),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Error::BadContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", Error::BadContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", Error::BadContentLength),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", Error::LengthAndEncoding),
            ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", Error::Head("invalid header name")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Error::TransferCoding),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Error::TransferCoding),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", Error::TransferCoding),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                Error::TransferCoding,
            ),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", Error::TransferCoding),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", Error::TransferCoding),
        ];
        for (text, err) in bad {
            assert_eq!(head(text), Err(*err), "{text:?}");
        }
    }

    /// A sink that records every field offered, as the dialects' do.
    #[derive(Default)]
    struct Recorded(Vec<(String, String, Span)>);

    impl Fields for Recorded {
        fn clear(&mut self) {
            self.0.clear();
        }
        fn field(&mut self, name: &[u8], value: &[u8], at: Span) {
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            self.0.push((text(name), text(value), at));
        }
    }

    #[test]
    fn fields_other_than_the_framing_are_offered_in_order_with_their_spans() {
        let text = "HTTP/1.1 200 OK\r\nrequest_id: abc-123\r\nContent-Length: 0\r\nX-Y:  z \r\n\
                    Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut f = Recorded::default();
        let err = parse_head(text.as_bytes(), &mut f).unwrap_err();
        assert_eq!(err, Error::LengthAndEncoding);
        let text = text.replace("Transfer-Encoding: chunked\r\n", "");
        parse_head(text.as_bytes(), &mut f).unwrap().unwrap();
        let got: Vec<(&str, &str, &str)> =
            f.0.iter().map(|(n, v, at)| (n.as_str(), v.as_str(), &text[at.range()])).collect();
        assert_eq!(got, [("request_id", "abc-123", "abc-123"), ("X-Y", "z", "z")]);
        // Each head starts afresh.
        parse_head(b"HTTP/1.1 204 No Content\r\n\r\n", &mut f).unwrap().unwrap();
        assert!(f.0.is_empty());
    }

    /// RFC 9112, 5.2: each obs-fold is read as a space. The framing's
    /// values are read through the fold; a value a caller takes as it is
    /// is unfolded in place (`unfold`).
    #[test]
    fn obsolete_line_folding_is_read_as_a_space() {
        let text = "HTTP/1.1 200 OK\r\nx-note: a\r\n b\r\nrequest_id: abc \r\n \r\n\tdef\r\n\
                    Connection: keep-alive,\r\n close\r\nContent-Length:\r\n\t5\r\n\r\nhello";
        let mut f = Recorded::default();
        let h = parse_head(text.as_bytes(), &mut f).unwrap().unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Length(5), false));
        assert_eq!(&text[h.len..], "hello");
        let mut id = text.as_bytes()[f.0[1].2.range()].to_vec();
        let n = unfold(&mut id);
        assert_eq!(&id[..n], b"abc def");
        for (value, want) in [
            (&b"a\r\n b"[..], &b"a b"[..]),
            (b"a \t\n\t\t b", b"a b"),
            (b"a\r\n \r\n  b\r\n c", b"a b c"),
            (b"no fold", b"no fold"),
        ] {
            let mut v = value.to_vec();
            let n = unfold(&mut v);
            assert_eq!(&v[..n], want, "{value:?}");
        }
    }

    /// RFC 9110's tchar: what httparse lets into a header name.
    fn is_token(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
    }

    #[test]
    fn lowercase_matching() {
        for (name, want, eq) in [
            ("request_id", "request_id", true),
            ("REQUEST_ID", "request_id", true),
            ("Request_Id", "request_id", true),
            ("request_iD", "request_id", true),
            ("request-id", "request_id", false),
            ("request_i", "request_id", false),
            ("request_idx", "request_id", false),
            ("Content-Length", "content-length", true),
            ("content_length", "content-length", false),
            ("content.length", "content-length", false),
            ("time_limit_in_ms", "time_limit_in_ms", true),
            ("time_limit_in_MS", "time_limit_in_ms", true),
            ("time_limit_in_mz", "time_limit_in_ms", false),
            ("memory_limit_in_mb", "memory_limit_in_mb", true),
            ("MEMORY_LIMIT_IN_MB", "memory_limit_in_mb", true),
            ("memory_limit_in_mc", "memory_limit_in_mb", false),
            ("xemory_limit_in_mb", "memory_limit_in_mb", false),
            ("TE", "te", true),
            ("T-", "te", false),
        ] {
            assert!(name.bytes().all(is_token), "{name:?}");
            assert_eq!(eq_lowercase(name.as_bytes(), want.as_bytes()), eq, "{name:?}");
        }
    }

    /// Against the obvious definition: every name that differs from a
    /// wanted one in one byte, for every token byte (the only bytes a
    /// name httparse parsed holds).
    #[test]
    fn lowercase_matching_agrees_with_eq_ignore_ascii_case() {
        let wants = [
            "content-length",
            "transfer-encoding",
            "connection",
            "request_id",
            "memory_limit_in_mb",
            "time_limit_in_ms",
            // Every way a length meets the eight-byte words: shorter than
            // one, exactly one or two, and a last word overlapping.
            "te",
            "x-trace",
            "x-trace_",
            "x-trace-id-abc_9",
            "lambda-runtime-aws-request-id",
        ];
        let mut tried = 0;
        for want in wants {
            for pos in 0..want.len() {
                for b in (0..=255u8).filter(|&b| is_token(b)) {
                    let mut name = want.as_bytes().to_vec();
                    name[pos] = b;
                    assert_eq!(
                        eq_lowercase(&name, want.as_bytes()),
                        name.eq_ignore_ascii_case(want.as_bytes()),
                        "{name:?}"
                    );
                    tried += 1;
                }
            }
        }
        assert!(tried > 10_000, "{tried}");
    }

    /// httparse refuses a name with any byte outside tchar, so that
    /// `eq_lowercase` only ever sees tokens.
    #[test]
    fn header_names_hold_only_token_bytes() {
        for b in (0..=255u8).filter(|&b| !is_token(b) && b != b':' && b != b' ' && b != b'\t') {
            let text = [&b"HTTP/1.1 200 OK\r\nx"[..], &[b], b"y: 1\r\n\r\n"].concat();
            let got = parse_head(&text, &mut ()).map(|h| h.is_some());
            assert!(got.is_err(), "{b:#x}: {got:?}");
        }
    }

    #[test]
    fn many_headers() {
        let mut text = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..200 {
            text += &format!("x-filler-{i}: {i}\r\n");
        }
        text += "request_id: r\r\nContent-Length: 0\r\n\r\n";
        assert!(head(&text).unwrap().is_some());
        let mut text = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..=MAX_HEADERS {
            text += &format!("x-{i}: {i}\r\n");
        }
        text += "\r\n";
        assert_eq!(head(&text), Err(Error::TooManyHeaders));
    }

    /// Feeds `wire` to a fresh decoder in pieces of `step` bytes, as reads
    /// would deliver it, and returns the decoded body and consumed length.
    fn dechunk(wire: &[u8], step: usize) -> Result<(Vec<u8>, usize), Error> {
        let mut region = Vec::new();
        let mut d = Dechunker::default();
        for piece in wire.chunks(step) {
            region.extend_from_slice(piece);
            if let Chunked::Done { body_len, consumed } = d.feed(&mut region)? {
                return Ok((region[..body_len].to_vec(), consumed));
            }
        }
        panic!("incomplete");
    }

    #[test]
    fn chunked_bodies_decode_in_place_whatever_the_read_sizes() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A;name=value\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"a \r\n\0\x01\xff\r\n\n\r\n\0\0\r\n0\r\nx-trailer: 1\r\n\r\n", b"\0\x01\xff\r\n\n\r\n\0\0"),
            (b"3\nabc\r\n0\n\n", b"abc"),
        ];
        for (wire, body) in cases {
            for step in [1, 2, 3, 7, wire.len()] {
                let (got, consumed) = dechunk(wire, step).unwrap();
                assert_eq!((&got[..], consumed), (*body, wire.len()), "{wire:?} step {step}");
            }
        }
    }

    #[test]
    fn chunked_leaves_bytes_after_the_message_alone() {
        let mut region = b"2\r\nhi\r\n0\r\n\r\nNEXT".to_vec();
        let r = Dechunker::default().feed(&mut region).unwrap();
        assert_eq!(r, Chunked::Done { body_len: 2, consumed: 12 });
        assert_eq!(&region[12..], b"NEXT");
    }

    #[test]
    fn chunked_errors() {
        let cases: &[(&[u8], Error)] = &[
            (b"x\r\n", Error::BadChunkSize),
            (b"\r\n", Error::BadChunkSize),
            (b"5 x\r\nhello\r\n", Error::BadChunkSize),
            (b"11111111111111111\r\n", Error::BadChunkSize),
            (b"5\r\nhelloXX0\r\n\r\n", Error::ChunkExpectedCrLf),
            (b"5\r\r\nhello\r\n", Error::BadChunkSize),
        ];
        for (wire, err) in cases {
            let mut region = wire.to_vec();
            assert_eq!(Dechunker::default().feed(&mut region), Err(*err), "{wire:?}");
        }
    }

    /// Feeds `wire` in 64 KiB reads, as the client would, until an error
    /// or the end; returns the error (or `None`) and the bytes fed.
    fn feed_until_error(wire: impl Iterator<Item = u8>) -> (Option<Error>, usize) {
        let mut region = Vec::new();
        let mut d = Dechunker::default();
        let wire: Vec<u8> = wire.collect();
        for piece in wire.chunks(64 << 10) {
            region.extend_from_slice(piece);
            match d.feed(&mut region) {
                Ok(Chunked::NeedMore) => {}
                Ok(Chunked::Done { .. }) => return (None, region.len()),
                Err(e) => return (Some(e), region.len()),
            }
        }
        (None, region.len())
    }

    /// Only decoded bytes count against the body limit; the framing around
    /// them is bounded here, each bound by its own error.
    #[test]
    fn chunked_framing_is_bounded() {
        let line = |n: usize| b"1;".iter().copied().chain(std::iter::repeat_n(b'e', n - 3)).chain(*b"\n");
        // A size line at the bound is fine; one byte more is not, whether
        // its end has arrived or not.
        assert_eq!(feed_until_error(line(MAX_CHUNK_LINE).chain(*b"x\r\n0\r\n\r\n")), (None, MAX_CHUNK_LINE + 8));
        assert_eq!(feed_until_error(line(MAX_CHUNK_LINE + 1)).0, Some(Error::ChunkLineTooLong));
        assert_eq!(feed_until_error(std::iter::repeat_n(b'1', 1 << 20)).0, Some(Error::ChunkLineTooLong));
        // Enough chunks of one byte with an n-byte extension to pass every bound.
        let ext = |n: usize| {
            std::iter::repeat_n(format!("1;{}\r\nx\r\n", "e".repeat(n)).into_bytes(), 2 * MAX_FRAMING / n).flatten()
        };
        assert_eq!(feed_until_error(ext(MAX_CHUNK_LINE)).0, Some(Error::ChunkLineTooLong));
        // Chunk extensions under the line bound, but without end: the
        // framing bound stops them, long before the data bound would.
        let (err, fed) = feed_until_error(ext(1000));
        assert_eq!(err, Some(Error::FramingTooLong));
        assert!(fed <= MAX_FRAMING + (64 << 10), "{fed}");
        // Trailer lines: each bounded, and all of them together.
        let trailer = |line: &str, n| b"0\r\n".iter().copied().chain(line.repeat(n).into_bytes());
        let long = format!("x: {}\r\n", "y".repeat(MAX_TRAILER_LINE));
        assert_eq!(feed_until_error(trailer(&long, 1)).0, Some(Error::TrailerLineTooLong));
        let (err, fed) = feed_until_error(trailer(&format!("x: {}\r\n", "y".repeat(1000)), 64));
        assert_eq!(err, Some(Error::TrailerTooLong));
        assert!(fed <= 64 << 10, "{fed}");
        let ok = format!("0\r\n{}\r\n", format!("x: {}\r\n", "y".repeat(1000)).repeat(MAX_TRAILER / 1005));
        assert_eq!(feed_until_error(ok.bytes()), (None, ok.len()));
        // Each message names its bound.
        for (e, bound) in [
            (Error::ChunkLineTooLong, MAX_CHUNK_LINE),
            (Error::TrailerLineTooLong, MAX_TRAILER_LINE),
            (Error::TrailerTooLong, MAX_TRAILER),
            (Error::FramingTooLong, MAX_FRAMING),
        ] {
            assert!(e.describe().contains(&format!(" {bound} bytes")), "{e:?}");
        }
    }
}
