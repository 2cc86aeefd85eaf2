//! Pure byte-text helpers that several layers share: trimming blanks,
//! decimal numbers (HTTP header values, `resolv.conf` options, environment
//! settings) and IP literals (the runtime API's address, /etc/hosts and
//! resolv.conf entries). No I/O, no allocation.

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
/// blanks (an environment setting, a resolv.conf option).
// Unused in the SCF build without `resolve` or `serve` (its numbers are all
// field values: `parse_digits`).
#[cfg_attr(not(any(feature = "lambda", feature = "resolve", feature = "serve")), allow(dead_code))]
pub fn parse_decimal(v: &[u8]) -> Option<u64> {
    parse_digits(trim(v))
}

/// A non-empty run of decimal digits that fits in a u64, nothing around
/// it: a field value as httparse hands it over, which has no blank (nor a
/// fold) before or after it (`fuzz_tests::response_head` checks it).
pub fn parse_digits(v: &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for (i, &b) in v.iter().enumerate() {
        let d = u64::from(b.wrapping_sub(b'0'));
        if d > 9 {
            return None;
        }
        // The first 19 digits cannot overflow (10^19 - 1 < 2^64): only a
        // longer run (leading zeros, or a number too large) is checked.
        n = match i < 19 {
            true => n * 10 + d,
            false => n.checked_mul(10)?.checked_add(d)?,
        };
    }
    (!v.is_empty()).then_some(n)
}

/// An IPv4 literal as musl's `inet_pton` reads it: four dot-separated
/// decimal parts, each 0 to 255 without a leading zero.
pub fn parse_ipv4(s: &[u8]) -> Option<[u8; 4]> {
    // One pass, byte by byte: splitting at the dots first took 270
    // instructions of a cold start for `127.0.0.1`.
    let mut out = [0u8; 4];
    let (mut i, mut v, mut digits) = (0, 0u32, 0);
    for &b in s {
        match b {
            b'0'..=b'9' => {
                // A second digit after a leading 0 is a leading zero.
                if digits == 1 && v == 0 {
                    return None;
                }
                v = v * 10 + u32::from(b - b'0');
                digits += 1;
                if v > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 => {
                *out.get_mut(i)? = v as u8;
                (i, v, digits) = (i + 1, 0, 0);
            }
            _ => return None,
        }
    }
    // The fourth part, which no dot follows.
    (digits > 0 && i == 3).then_some(())?;
    *out.get_mut(3)? = v as u8;
    Some(out)
}

/// An IPv6 literal (no brackets, no zone) as musl's `inet_pton` reads it:
/// eight groups of 1 to 4 hex digits, separated by `:`, of which one `::`
/// may stand for one or more zero groups, and the last two may be written
/// as an IPv4 literal.
///
/// Out of line: inlined into the endpoint parsing it made the minimal
/// build 152 bytes bigger (scripts/size, 2026-12-01).
#[inline(never)]
pub fn parse_ipv6(s: &[u8]) -> Option<[u8; 16]> {
    // The groups before the `::` go to the front, those after it to the
    // back; without one, they must fill all eight.
    let (head, tail) = match s.windows(2).position(|w| w == b"::") {
        Some(i) => {
            let (h, t) = s.split_at_checked(i)?;
            (h, Some(t.get(2..)?))
        }
        None => (s, None),
    };
    let mut front = [0u8; 16];
    let nf = groups(head, &mut front, tail.is_none())?;
    let mut back = [0u8; 16];
    let nb = match tail {
        Some(t) => groups(t, &mut back, true)?,
        None => 0,
    };
    let total = nf + nb;
    let fits = if tail.is_some() { total <= 14 } else { total == 16 };
    if !fits {
        return None;
    }
    // `front` keeps its bytes; the last `nb` bytes come from `back`.
    let mut out = front;
    out.iter_mut().rev().zip(back.iter().take(nb).rev()).for_each(|(d, &b)| *d = b);
    Some(out)
}

/// Writes the `:`-separated groups of `s` (none if it is empty) to the
/// front of `out` and returns how many bytes they took; the last one may be
/// an IPv4 literal if `quad` (at the end of the address). `None` if one is
/// not a group, or they are too many.
fn groups(s: &[u8], out: &mut [u8; 16], quad: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut items = s.split(|&b| b == b':').peekable();
    while let Some(item) = items.next() {
        // Not `contains`: its generic search is 199 bytes of code.
        #[allow(clippy::manual_contains)]
        if quad && items.peek().is_none() && item.iter().any(|&b| b == b'.') {
            let q = parse_ipv4(item)?;
            out.get_mut(n..n + 4)?.iter_mut().zip(q).for_each(|(d, c)| *d = c);
            return Some(n + 4);
        }
        if item.is_empty() || item.len() > 4 {
            return None;
        }
        let mut v: u16 = 0;
        for &d in item {
            v = v << 4 | char::from(d).to_digit(16)? as u16;
        }
        let [hi, lo] = v.to_be_bytes();
        *out.get_mut(n)? = hi;
        *out.get_mut(n + 1)? = lo;
        n += 2;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_alone() {
        for (s, want) in [
            (&b"0"[..], Some(0)),
            (b"1010", Some(1010)),
            (b"9999999999999999999", Some(9_999_999_999_999_999_999)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"000000000000000000000018446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"99999999999999999999", None),
            (b"", None),
            (b" 1", None),
            (b"1 ", None),
            (b"1\r\n", None),
            (b"+1", None),
            (b"1a", None),
            (b"/", None),
            (b":", None),
        ] {
            assert_eq!(parse_digits(s), want, "{s:?}");
        }
    }

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
}

#[cfg(test)]
mod ip_tests {
    use super::*;
    use std::ffi::CString;

    /// Compares our two parsers with the C library's inet_pton on `s`:
    /// musl's under `cargo test --lib --target x86_64-unknown-linux-musl`
    /// (the one the bootstrap linked before), glibc's on a gnu test build
    /// (on every input here the two agree). Counts the literals accepted.
    fn check(s: &[u8], bad: &mut Vec<String>, accepted: &mut [usize; 2]) {
        let c = CString::new(s).unwrap();
        let want = (crate::sys::inet_pton4(&c), crate::sys::inet_pton6(&c));
        let got = (parse_ipv4(s), parse_ipv6(s));
        if got != want {
            bad.push(format!("{:?}: ours {got:?}, libc {want:?}", String::from_utf8_lossy(s)));
        }
        accepted[0] += usize::from(want.0.is_some());
        accepted[1] += usize::from(want.1.is_some());
    }

    #[test]
    fn literals_are_read_as_libc_reads_them() {
        let edge: &[&str] = &[
            "",
            ".",
            ":",
            "::",
            ":::",
            "::::",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.0",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "01.2.3.4",
            "1.2.3.04",
            "0.0.0.00",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1234.1.1.1",
            "+1.2.3.4",
            "1.2.3.-4",
            "0x1.2.3.4",
            "1",
            "::1",
            "1::",
            "1::2",
            ":1::2",
            "1::2:",
            "1:::2",
            "::1::2",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1:2:3::4:5:6:7",
            "1:2:3::4:5:6:7:8",
            "FFFF::abcd",
            "ffff::ABCD",
            "fFfF::aBcD",
            "00000::1",
            "0000::1",
            "12345::",
            "g::1",
            "::ffff:1.2.3.4",
            "::ffff:01.2.3.4",
            "::1.2.3.4",
            "1.2.3.4::",
            "::1.2.3.4:1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "::1234.1.1.1",
            "::a.1.2.3",
            "::256.1.1.1",
            "::1.2.3",
            "::1.2.3.4.5",
            "[::1]",
            "::1%eth0",
            "1:2:3:4:5:6:7:8%1",
            "::ffff:1.2.3.4:",
            "fe80::1",
            "2001:db8::8a2e:370:7334",
            "::0:0:0:0:0:0:0",
        ];
        let (mut bad, mut accepted) = (Vec::new(), [0; 2]);
        for s in edge {
            check(s.as_bytes(), &mut bad, &mut accepted);
        }
        // Generated: random strings over the literals' alphabet, and
        // random well-formed-ish addresses with one thing wrong or not.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let alphabet = b"0123456789abcdefABCDEFg:.:.";
        for _ in 0..100_000 {
            let len = rnd(24);
            let s: Vec<u8> = (0..len).map(|_| alphabet[rnd(alphabet.len() as u64) as usize]).collect();
            check(&s, &mut bad, &mut accepted);
        }
        for _ in 0..100_000 {
            let mut s = Vec::new();
            let n = rnd(10);
            let gap = rnd(n + 3);
            for i in 0..n {
                if i == gap {
                    s.extend_from_slice(b"::");
                } else if i > 0 {
                    s.push(b':');
                }
                let digits = rnd(6);
                for _ in 0..digits {
                    s.push(b"0123456789abcdefABCDEF"[rnd(22) as usize]);
                }
            }
            if gap == n {
                s.extend_from_slice(b"::");
            }
            if rnd(3) == 0 {
                if !s.is_empty() && !s.ends_with(b":") {
                    s.push(b':');
                }
                for p in 0..4 + rnd(3) / 2 {
                    if p > 0 {
                        s.push(b'.');
                    }
                    let v = match rnd(4) {
                        0 => rnd(10).to_string(),
                        1 => rnd(300).to_string(),
                        2 => format!("0{}", rnd(10)),
                        _ => rnd(256).to_string(),
                    };
                    s.extend_from_slice(v.as_bytes());
                }
            }
            check(&s, &mut bad, &mut accepted);
        }
        for _ in 0..50_000 {
            let parts = [3, 4, 4, 4, 5][rnd(5) as usize];
            let mut s = Vec::new();
            for p in 0..parts {
                if p > 0 {
                    s.push(b'.');
                }
                let v = match rnd(10) {
                    0 => String::new(),
                    1 => format!("0{}", rnd(100)),
                    2 => rnd(1000).to_string(),
                    3 => format!("{}x", rnd(10)),
                    _ => rnd(256).to_string(),
                };
                s.extend_from_slice(v.as_bytes());
            }
            check(&s, &mut bad, &mut accepted);
        }
        // Both verdicts are well represented. (Printed before the asserts:
        // a failing test on the musl target aborts without its message.)
        eprintln!("accepted: {accepted:?} of 250,000 and {}", edge.len());
        for b in bad.iter().take(20) {
            eprintln!("{b}");
        }
        assert!(accepted[0] > 2_000 && accepted[1] > 10_000, "accepted: {accepted:?}");
        assert!(bad.is_empty(), "{} differences, first: {:#?}", bad.len(), &bad[..bad.len().min(20)]);
    }
}
