//! Pure byte-text helpers that several layers share: trimming blanks,
//! decimal numbers (HTTP header values, `resolv.conf` options, environment
//! settings) and JSON string escaping (Lambda's error bodies and crash
//! reports). No I/O, no allocation.

/// A field value or list element without the blanks around it. CR and LF
/// count as blanks: httparse lets them into a value only as part of an
/// obsolete line fold, which stands for a space.
pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// A non-empty decimal number that fits in a u64, with optional surrounding
/// blanks (httparse leaves trailing ones in the value).
pub fn parse_decimal(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Feeds `s` to `out` JSON-escaped, in pieces (one copy of the code for
/// both of its callers, which count and then copy): `"` and `\` escaped,
/// control bytes as `\n`, `\r`, `\t` or `\u00XX`, and each invalid UTF-8
/// sequence as `\ufffd` (the replacement character), so the result is
/// valid JSON string content whatever the bytes.
#[cfg(feature = "lambda")]
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
#[cfg(feature = "lambda")]
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

/// Copies `src` to the front of `dst`; `None`, and nothing copied, if it
/// does not fit. Byte by byte through a zip: unlike `copy_from_slice`, no
/// length check that could panic is linked in.
pub fn copy_to(dst: &mut [u8], src: &[u8]) -> Option<()> {
    let head = dst.get_mut(..src.len())?;
    head.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for (s, want) in [
            ("0", Some(0)),
            (" 42\t", Some(42)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("", None),
            ("+1", None),
            ("1 2", None),
        ] {
            assert_eq!(parse_decimal(s.as_bytes()), want, "{s:?}");
        }
    }

    #[cfg(feature = "lambda")]
    fn esc(s: &[u8]) -> String {
        let mut out = Vec::new();
        escape_json(s, &mut |p| out.extend_from_slice(p));
        String::from_utf8(out).unwrap()
    }

    #[cfg(feature = "lambda")]
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

    #[cfg(feature = "lambda")]
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
}
