//! One-line messages on standard error, built without `core::fmt` (whose
//! machinery would cost more bytes than the rest of the runtime) and written
//! with a single `write`.
//!
//! A message is data: a template, whose `{}` holes are filled in order by
//! [`Arg`]s, appended by one function, [`Line::put`]. A call site is then
//! a constant string and its arguments rather than a chain of appends
//! inlined into the caller, and the escaping, number and errno code exists
//! once. The [`put!`] macro checks at compile time that a template has as
//! many holes as it is given arguments.
//!
//! Nothing here can panic: a line's buffer is only reached through checked
//! slices, so a message never brings the panic machinery (and the
//! `core::fmt` code its messages name) into the binary.

use crate::sys::{self, Buf, Errno};
use core::ffi::c_int;

const PREFIX: &[u8] = b"scf-bootstrap: ";

/// The room of a line, with its prefix, `...` and newline.
const CAP: usize = 1024;

/// What fills one `{}` of a template.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Text as it is: a constant, or bytes the runtime has checked (a host
    /// it parsed, a handler name, a request id).
    Str(&'a str),
    Bytes(&'a [u8]),
    /// Pieces pushed one after another, as they are.
    Cat(&'a [&'a [u8]]),
    /// A value from the environment or the wire, between single quotes with
    /// control characters, `\` and bytes outside ASCII escaped as `\xNN`, so
    /// that it cannot break the line.
    Quoted(&'a [u8]),
    Num(u64),
    Int(i64),
    /// Lower-case hexadecimal digits, without a prefix (fault addresses).
    #[cfg_attr(not(feature = "crash"), allow(dead_code))]
    Hex(u64),
    /// What the error is, in words ([`errno_text`]).
    Errno(Errno),
}

/// The number of `{}` holes in `template`.
pub const fn holes(template: &str) -> usize {
    let b = template.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'}' {
            n += 1;
            i += 1;
        }
        i += 1;
    }
    n
}

/// `put!(line, "template with {} holes", args...)`: [`Line::put`], with
/// the holes counted against the arguments at compile time.
macro_rules! put {
    ($l:expr, $t:literal $(, $a:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::diag::holes($t) == <[&str]>::len(&[$(stringify!($a)),*]),
            "a put! template's holes and its arguments differ in count"
        );
        $l.put($t, &[$($a),*])
    }};
}
pub(crate) use put;

/// `msg!("template", args...)`: a new [`Line`] with the template put in
/// (see [`put!`]).
macro_rules! msg {
    ($($t:tt)*) => {{
        let mut l = $crate::diag::Line::new();
        $crate::diag::put!(l, $($t)*);
        l
    }};
}
pub(crate) use msg;

/// A message line under construction; text past its capacity is cut and
/// marked with `...`.
pub struct Line {
    buf: [u8; CAP],
    /// At most `CAP - 4`, leaving room for `...` and the newline.
    len: usize,
    cut: bool,
}

impl Line {
    /// Starts a line with the program's prefix.
    pub fn new() -> Line {
        let mut l = Line { buf: [0; CAP], len: 0, cut: false };
        l.push(PREFIX);
        l
    }

    pub fn push(&mut self, b: &[u8]) -> &mut Line {
        let room = self.buf.get_mut(self.len..CAP - 4).unwrap_or_default();
        let n = b.len().min(room.len());
        // Byte by byte: no length check to fail, as copy_from_slice has.
        room.iter_mut().zip(b).for_each(|(d, &c)| *d = c);
        self.len += n;
        self.cut |= n < b.len();
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Line {
        self.push(s.as_bytes())
    }

    /// Appends `template` with each `{}` replaced by the next of `args`
    /// (a hole without an argument is left out). The one formatter of the
    /// runtime's messages; see [`put!`].
    #[inline(never)]
    pub fn put(&mut self, template: &str, args: &[Arg]) -> &mut Line {
        let mut args = args.iter();
        let mut rest = template.as_bytes();
        while let Some((text, after)) = split_hole(rest) {
            self.push(text);
            if let Some(a) = args.next() {
                self.arg(a);
            }
            rest = after;
        }
        self.push(rest)
    }

    fn arg(&mut self, a: &Arg) {
        match *a {
            Arg::Str(s) => _ = self.push(s.as_bytes()),
            Arg::Bytes(b) => _ = self.push(b),
            Arg::Cat(pieces) => pieces.iter().for_each(|p| _ = self.push(p)),
            Arg::Quoted(b) => self.quote(b),
            Arg::Num(n) => self.num(n),
            Arg::Int(n) => {
                if n < 0 {
                    self.push(b"-");
                }
                self.num(n.unsigned_abs());
            }
            Arg::Hex(v) => {
                let digits = (64 - v.leading_zeros() as usize).div_ceil(4).max(1);
                for i in (0..digits).rev() {
                    self.push(&[HEX[(v >> (4 * i)) as usize & 15]]);
                }
            }
            Arg::Errno(e) => _ = self.push(errno_text(e)),
        }
    }

    fn num(&mut self, n: u64) {
        self.push(itoa::Buffer::new().format(n).as_bytes());
    }

    fn quote(&mut self, b: &[u8]) {
        self.push(b"'");
        for &c in b {
            if (0x20..0x7f).contains(&c) && c != b'\\' {
                self.push(&[c]);
            } else {
                self.push(&[b'\\', b'x', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
            }
        }
        self.push(b"'");
    }

    /// The finished line, with `...` if cut and a newline. Finishing twice
    /// (the message, then the log line) gives the same line.
    pub fn finish(&mut self) -> &[u8] {
        if self.cut {
            if let Some(dots) = self.buf.get_mut(self.len..self.len + 3) {
                dots.copy_from_slice(b"...");
                self.len += 3;
            }
            self.cut = false;
        }
        if let Some(end) = self.buf.get_mut(self.len) {
            *end = b'\n';
        }
        self.buf.get(..=self.len).unwrap_or_default()
    }

    /// The text without the program prefix and newline (for messages that
    /// go to the error endpoint rather than the log).
    pub fn message(&mut self) -> &[u8] {
        let n = self.finish().len();
        self.buf.get(PREFIX.len()..n.saturating_sub(1)).unwrap_or_default()
    }

    /// Replaces the contents of `tx` with the [`message`](Line::message):
    /// an error text for the error endpoint.
    pub fn store(&mut self, tx: &mut Buf) {
        tx.clear();
        // A message is at most 1 KiB; if even that cannot be stored, the
        // error endpoint gets an empty body rather than nothing at all.
        let _ = tx.extend(self.message());
    }

    /// Writes the line to standard error.
    pub fn emit(&mut self) {
        // A line may come before the crash reports are armed (a warning
        // before ready): its write to a pipe whose reader has gone must
        // not end the process either.
        sys::catch_sigpipe();
        sys::write_stderr(&[self.finish()]);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The `i`-th of the NUL-separated texts of `table` (empty past the last):
/// descriptions kept as one string, so that choosing one costs an index
/// in code rather than a pointer and a length for each.
pub fn pick(table: &'static [u8], i: usize) -> &'static [u8] {
    let mut rest = table;
    for _ in 0..i {
        match rest.iter().position(|&b| b == 0) {
            Some(end) => rest = rest.get(end + 1..).unwrap_or_default(),
            None => return b"",
        }
    }
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// What an errno value means, in a few words. A small table of the errors
/// a socket client meets, rather than libc's `strerror`, whose full message
/// table would be the largest object in the binary.
pub fn errno_text(e: Errno) -> &'static [u8] {
    const CODES: [c_int; 14] = [
        libc::ECONNREFUSED,
        libc::ECONNRESET,
        libc::ECONNABORTED,
        libc::EPIPE,
        libc::ETIMEDOUT,
        libc::EHOSTUNREACH,
        libc::ENETUNREACH,
        libc::EADDRNOTAVAIL,
        libc::EAFNOSUPPORT,
        libc::ENOMEM,
        libc::EMFILE,
        libc::ENFILE,
        libc::EACCES,
        libc::EPERM,
    ];
    const TEXTS: &[u8] = b"connection refused\0connection reset by peer\0connection aborted\0broken pipe\0\
        connection timed out\0host unreachable\0network unreachable\0address not available\0\
        address family not supported\0out of memory\0too many open files\0too many open files\0\
        permission denied\0permission denied\0system error";
    pick(TEXTS, CODES.iter().position(|&c| c == e.0).unwrap_or(CODES.len()))
}

/// `s` split around its first `{}`: the text before and after it.
fn split_hole(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b'{' && s.get(i + 1) == Some(&b'}') {
            return Some((s.get(..i)?, s.get(i + 2..)?));
        }
        i += 1;
    }
    None
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_escape_and_cut() {
        let mut l = Line::new();
        put!(l, "bad {} at {}", Arg::Quoted(b"a\nb\xff\\"), Arg::Num(42));
        assert_eq!(l.finish(), b"scf-bootstrap: bad 'a\\x0ab\\xff\\x5c' at 42\n");
        assert_eq!(l.message(), b"bad 'a\\x0ab\\xff\\x5c' at 42");
        let mut l = Line::new();
        l.push(&[b'x'; 2000]);
        let out = l.finish().to_vec();
        assert_eq!(out.len(), 1024);
        assert!(out.ends_with(b"x...\n"));
        // Finishing again (message, then log line) adds nothing.
        assert_eq!(l.message().len(), 1024 - PREFIX.len() - 1);
        assert_eq!(l.finish(), &out[..]);
        // Past the cut, nothing more goes in.
        put!(l, "{}", Arg::Num(7));
        assert_eq!(l.finish(), &out[..]);
    }

    fn render(template: &str, args: &[Arg]) -> String {
        let mut l = Line::new();
        l.put(template, args);
        String::from_utf8(l.message().to_vec()).unwrap()
    }

    #[test]
    fn templates_take_their_arguments_in_order() {
        assert_eq!(render("plain", &[]), "plain");
        assert_eq!(render("{}", &[Arg::Str("all")]), "all");
        assert_eq!(
            render(
                "{} {}={} at {}: {}",
                &[
                    Arg::Str("GET"),
                    Arg::Bytes(b"X"),
                    Arg::Quoted(b"v"),
                    Arg::Cat(&[b"[::1]", b":", b"80"]),
                    Arg::Int(-3)
                ]
            ),
            "GET X='v' at [::1]:80: -3"
        );
        assert_eq!(
            render("{}{}", &[Arg::Num(u64::MAX), Arg::Int(i64::MIN)]),
            "18446744073709551615-9223372036854775808"
        );
        // Braces that are not a hole are text; a hole without an argument is left out.
        assert_eq!(render("{ {x} }{", &[]), "{ {x} }{");
        assert_eq!(render("a{}b{}c", &[Arg::Num(1)]), "a1bc");
        for (v, hex) in [(0, "0"), (0xf, "f"), (0x10, "10"), (0xdead_beef, "deadbeef"), (u64::MAX, "ffffffffffffffff")]
        {
            assert_eq!(render("0x{}", &[Arg::Hex(v)]), format!("0x{hex}"));
        }
        assert_eq!(render("connect: {}", &[Arg::Errno(Errno::CONNREFUSED)]), "connect: connection refused");
    }

    #[test]
    fn errno_values_in_words() {
        for (e, text) in [
            (libc::ECONNREFUSED, "connection refused"),
            (libc::ECONNRESET, "connection reset by peer"),
            (libc::ECONNABORTED, "connection aborted"),
            (libc::EPIPE, "broken pipe"),
            (libc::ETIMEDOUT, "connection timed out"),
            (libc::EHOSTUNREACH, "host unreachable"),
            (libc::ENETUNREACH, "network unreachable"),
            (libc::EADDRNOTAVAIL, "address not available"),
            (libc::EAFNOSUPPORT, "address family not supported"),
            (libc::ENOMEM, "out of memory"),
            (libc::EMFILE, "too many open files"),
            (libc::ENFILE, "too many open files"),
            (libc::EACCES, "permission denied"),
            (libc::EPERM, "permission denied"),
            (libc::EINVAL, "system error"),
            (0, "system error"),
            (-1, "system error"),
        ] {
            assert_eq!(errno_text(Errno(e)), text.as_bytes(), "{e}");
        }
        assert_eq!(pick(b"a\0\0c", 0), b"a");
        assert_eq!(pick(b"a\0\0c", 1), b"");
        assert_eq!(pick(b"a\0\0c", 2), b"c");
        assert_eq!(pick(b"a\0\0c", 3), b"");
    }

    #[test]
    fn holes_are_counted_as_put_fills_them() {
        for (t, n) in [("", 0), ("{}", 1), ("{{}", 1), ("{}}", 1), ("{}{}", 2), ("a{b}c", 0), ("x {} y {} z", 2)] {
            assert_eq!(holes(t), n, "{t:?}");
            let args = [Arg::Str("#"); 3];
            assert_eq!(render(t, &args).matches('#').count(), n, "{t:?}");
        }
    }
}
