//! One-line messages on standard error, built without `core::fmt` (whose
//! machinery would cost more bytes than the rest of the runtime) and written
//! with a single `write`.

use crate::sys;

const PREFIX: &[u8] = b"scf-bootstrap: ";

/// A message line under construction; text past its capacity is cut and
/// marked with `...`.
pub struct Line {
    buf: [u8; 1024],
    len: usize,
    cut: bool,
}

impl Line {
    /// Starts a line with the program's prefix.
    pub fn new() -> Line {
        let mut l = Line { buf: [0; 1024], len: 0, cut: false };
        l.push(PREFIX);
        l
    }

    pub fn push(&mut self, b: &[u8]) -> &mut Line {
        let room = self.buf.len() - 4 - self.len;
        let n = b.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self.cut |= n < b.len();
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Line {
        self.push(s.as_bytes())
    }

    pub fn num(&mut self, n: u64) -> &mut Line {
        self.push(itoa::Buffer::new().format(n).as_bytes())
    }

    pub fn int(&mut self, n: i64) -> &mut Line {
        self.push(itoa::Buffer::new().format(n).as_bytes())
    }

    /// Pushes `b` with control characters and bytes outside ASCII escaped as
    /// `\xNN`, so that a value from the environment or the wire cannot break
    /// the line.
    pub fn quoted(&mut self, b: &[u8]) -> &mut Line {
        self.push(b"'");
        for &c in b {
            if (0x20..0x7f).contains(&c) && c != b'\\' {
                self.push(&[c]);
            } else {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.push(&[b'\\', b'x', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
            }
        }
        self.push(b"'")
    }

    /// The finished line, with `...` if cut and a newline. Finishing twice
    /// (the message, then the log line) gives the same line.
    pub fn finish(&mut self) -> &[u8] {
        if self.cut {
            self.buf[self.len..self.len + 3].copy_from_slice(b"...");
            self.len += 3;
            self.cut = false;
        }
        self.buf[self.len] = b'\n';
        &self.buf[..self.len + 1]
    }

    /// The text without the program prefix and newline (for messages that
    /// go to the error endpoint rather than the log).
    pub fn message(&mut self) -> &[u8] {
        let n = self.finish().len();
        &self.buf[PREFIX.len()..n - 1]
    }

    /// Writes the line to standard error.
    pub fn emit(&mut self) {
        sys::write_stderr(&[self.finish()]);
    }
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
        l.str("bad ").quoted(b"a\nb\xff\\").str(" at ").num(42);
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
    }
}
