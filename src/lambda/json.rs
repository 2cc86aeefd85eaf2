//! JSON strings for Lambda's error objects (`{"errorMessage": ...,
//! "errorType": ...}`): one escaping routine, [`escape_json`], whose
//! output is valid JSON string content whatever the bytes, counted by
//! [`escaped_len`] and copied by [`escape_into`] (cut at a whole escape and
//! a whole character when the room runs out). Both the error posts and the
//! crash reports' bodies use it.

/// Feeds `s` to `out` JSON-escaped, in pieces (the one escaping routine:
/// [`escaped_len`] counts with it and [`escape_into`] copies with it): `"`
/// and `\` escaped,
/// control bytes as `\n`, `\r`, `\t` or `\u00XX`, and each invalid UTF-8
/// sequence as `\ufffd` (the replacement character), so the result is
/// valid JSON string content whatever the bytes.
pub fn escape_json(s: &[u8], out: &mut dyn FnMut(&[u8])) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let (mut start, mut i) = (0, 0);
    while i < s.len() {
        let b = s[i];
        let u = [b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        let (esc, skip): (&[u8], usize) = match b {
            b'"' => (b"\\\"", 1),
            b'\\' => (b"\\\\", 1),
            b'\n' => (b"\\n", 1),
            b'\r' => (b"\\r", 1),
            b'\t' => (b"\\t", 1),
            0..=0x1f => (&u, 1),
            0x20..=0x7f => {
                i += 1;
                continue;
            }
            _ => match utf8_sequence(s.get(i..).unwrap_or_default()) {
                (true, n) => {
                    i += n;
                    continue;
                }
                (false, n) => (b"\\ufffd", n),
            },
        };
        out(s.get(start..i).unwrap_or_default());
        out(esc);
        i += skip;
        start = i;
    }
    out(s.get(start..).unwrap_or_default());
}

/// Whether `s` (not empty, starting with a byte >= 0x80) starts with a
/// valid UTF-8 sequence, and its length; if not valid, the length of the
/// invalid part to replace by one U+FFFD (the longest prefix of a valid
/// sequence, at least one byte: what `String::from_utf8_lossy` replaces).
fn utf8_sequence(s: &[u8]) -> (bool, usize) {
    // The sequence's length and the range of its second byte (RFC 3629:
    // no overlong forms, no surrogates, nothing past U+10FFFF).
    let (n, lo, hi) = match s.first().copied().unwrap_or_default() {
        0xc2..=0xdf => (2, 0x80, 0xbf),
        0xe0 => (3, 0xa0, 0xbf),
        0xed => (3, 0x80, 0x9f),
        0xe1..=0xef => (3, 0x80, 0xbf),
        0xf0 => (4, 0x90, 0xbf),
        0xf1..=0xf3 => (4, 0x80, 0xbf),
        0xf4 => (4, 0x80, 0x8f),
        _ => return (false, 1),
    };
    if !s.get(1).is_some_and(|c| (lo..=hi).contains(c)) {
        return (false, 1);
    }
    let mut k = 2;
    while k < n && s.get(k).is_some_and(|c| c & 0xc0 == 0x80) {
        k += 1;
    }
    (k == n, k)
}

/// The length of `s` JSON-escaped.
pub fn escaped_len(s: &[u8]) -> usize {
    let mut n = 0;
    escape_json(s, &mut |p| n += p.len());
    n
}

/// JSON-escapes `s` into `out`; what does not fit is left out, cut at a
/// whole escape and a whole UTF-8 sequence so the result stays a valid
/// JSON string. Returns its length.
pub fn escape_into(s: &[u8], out: &mut [u8]) -> usize {
    let mut at = 0;
    let mut full = false;
    escape_json(s, &mut |piece| {
        if full {
            return;
        }
        let mut k = piece.len().min(out.len() - at);
        if k < piece.len() {
            full = true;
            // An escape goes whole or not at all; raw text is cut before
            // the sequence that would be split.
            k = if piece.first() == Some(&b'\\') { 0 } else { utf8_floor(piece, k) };
        }
        let room = out.get_mut(at..).unwrap_or_default();
        room.iter_mut().zip(piece.iter().take(k)).for_each(|(d, &c)| *d = c);
        at += k;
    });
    at
}

/// The largest `k' <= k` at which `s` (valid UTF-8 up to its end) can be
/// cut without splitting a sequence.
fn utf8_floor(s: &[u8], mut k: usize) -> usize {
    while k > 0 && s.get(k).is_some_and(|c| c & 0xc0 == 0x80) {
        k -= 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> String {
        let mut out = Vec::new();
        escape_json(s, &mut |p| out.extend_from_slice(p));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_escaping() {
        assert_eq!(esc(b"plain"), "plain");
        assert_eq!(esc(b"a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(esc(b"\n\r\t\x00\x1f\x7f"), "\\n\\r\\t\\u0000\\u001f\x7f");
        assert_eq!(esc("h\u{e9}\u{2603}".as_bytes()), "h\u{e9}\u{2603}");
        assert_eq!(esc(b"a\xffb\xe2\x98"), "a\\ufffdb\\ufffd");
        // Sequences next to the edges of UTF-8 (each checked against the
        // standard library's lossy decoding, as below).
        for s in [
            &b"\xe2\x98\x83 \xf0\x9f\x98\x80 \xdf\xbf \xef\xbf\xbf"[..],
            b"\xed\xa0\x80 \xed\x9f\xbf \xf4\x90\x80\x80 \xf4\x8f\xbf\xbf",
            b"\xc0\xaf \xc1\xbf \xe0\x80\xaf \xe0\xa0\x80 \xf0\x80\x80\x80 \xf5\x80",
            b"\xf0\x9f\x98 \xe2\x98 \x80\xbf \xfe\xff",
        ] {
            assert_eq!(parse_json_string(&format!("\"{}\"", esc(s))).unwrap(), String::from_utf8_lossy(s), "{s:?}");
        }
        // Whatever the bytes, the result is a JSON string's content.
        let mut seed = 0x2545f4914f6cdd1du64;
        for _ in 0..20000 {
            let bytes: Vec<u8> = (0..(seed % 40))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let e = esc(&bytes);
            let v: String = parse_json_string(&format!("\"{e}\"")).unwrap_or_else(|| panic!("{bytes:?} -> {e:?}"));
            assert_eq!(v, String::from_utf8_lossy(&bytes), "{bytes:?}");
        }
    }

    /// A minimal JSON string decoder for the test (no dependency).
    fn parse_json_string(s: &str) -> Option<String> {
        let inner = s.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut it = inner.chars();
        while let Some(c) = it.next() {
            match c {
                '"' => return None,
                '\\' => match it.next()? {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let h: String = it.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
                    }
                    _ => return None,
                },
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn an_escaped_line_is_cut_at_whole_escapes_and_whole_characters() {
        let cut = |s: &[u8]| {
            let mut out = [0u8; 8];
            let n = escape_into(s, &mut out);
            out[..n].to_vec()
        };
        // A quote's escape does not fit whole after seven letters.
        assert_eq!(cut(b"abcdefg\"x"), b"abcdefg");
        // A two-byte character does not fit after seven letters.
        assert_eq!(cut("abcdefg\u{e9}".as_bytes()), b"abcdefg");
        // Everything fits.
        assert_eq!(cut(b"a\"\n"), b"a\\\"\\n");
        let mut big = [0u8; 2048];
        let n = escape_into(&[1u8; 1024], &mut big);
        assert_eq!(n, 2048 / 6 * 6, "only whole \\u0001 escapes");
        assert_eq!(escaped_len(b"a\"\n\x01"), 11);
    }
}
