//! Deterministic mutation fuzzing of every parser entry point, run with the
//! unit tests: valid seeds are mutated (byte flips, insertions, deletions,
//! truncations, splices) by a fixed-seed generator, and each parser must
//! return (a value or an error) without panicking; in the no_std binary a
//! panic is an abort. The decoders are also checked for internal
//! consistency on what they accept.

use crate::http::wire::{self, Chunked, Dechunker};

/// xorshift64*: small, fast, and the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b"\r\n:; \t0123456789abcdefABCDEF\0\xff\x80-_.,HTTP/1.";

fn mutate(rng: &mut Rng, seed: &[u8], seeds: &[&[u8]]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            3 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            4 => {
                let other = seeds[rng.below(seeds.len())];
                let (a, b) = (rng.below(v.len() + 1), rng.below(other.len() + 1));
                v.truncate(a);
                v.extend_from_slice(&other[b..]);
            }
            _ => {
                let i = rng.below(v.len() + 1);
                let d = INTERESTING[rng.below(INTERESTING.len())];
                for _ in 0..rng.below(40) {
                    v.insert(i, d);
                }
            }
        }
    }
    v
}

pub(crate) fn run(seeds: &[&[u8]], iterations: usize, mut check: impl FnMut(&[u8])) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for s in seeds {
        check(s);
    }
    for _ in 0..iterations {
        let seed = seeds[rng.below(seeds.len())];
        check(&mutate(&mut rng, seed, seeds));
    }
}

#[test]
fn response_heads() {
    let seeds: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nrequest_id: abc\r\nmemory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, close\r\n\r\n",
        b"HTTP/1.0 500 Internal Server Error\r\nConnection: keep-alive\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nrequest_id: ab\r\n \tcd\r\nContent-Length:\r\n 0\r\nx: \r\n \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4\r\nLambda-Runtime-Deadline-Ms: 1542409706888\r\n\
          Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\nLambda-Runtime-Trace-Id: Root=1-5\r\n\
          Lambda-Runtime-Client-Context: {}\r\nLambda-Runtime-Cognito-Identity: {}\r\nContent-Length: 2\r\n\r\n{}",
    ];
    run(seeds, 60_000, |input| {
        let mut spans = Spans(Vec::new());
        if let Ok(Some(h)) = wire::parse_head(input, &mut spans) {
            assert!(h.len <= input.len());
            // Every value lies inside the head, before its end: the
            // dialects write a NUL over the byte after each.
            for r in spans.0 {
                assert!(r.start <= r.end && r.end < h.len, "{r:?} outside a head of {}", h.len);
            }
        }
    });
}

/// Every field value's span, as the dialects would take them.
struct Spans(Vec<core::ops::Range<usize>>);

impl wire::Fields for Spans {
    fn clear(&mut self) {
        self.0.clear();
    }
    fn field(&mut self, _: &[u8], _: &[u8], at: wire::Span) {
        self.0.push(at.range());
    }
}

#[test]
fn chunked_bodies() {
    let seeds: &[&[u8]] = &[
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        b"a;ext=1\r\n0123456789\r\n0\r\ntrailer: x\r\n\r\n",
        b"1\nx\r\n0\n\n",
        b"1;a=b;c=d\r\nx\r\n0\r\nt1: x\r\nt2: y\r\n\r\n",
    ];
    run(seeds, 60_000, |input| {
        // Fed whole, and fed in two pieces: the same verdict either way.
        let mut whole = input.to_vec();
        let a = Dechunker::default().feed(&mut whole);
        let split = input.len() / 2;
        let mut grown = input[..split].to_vec();
        let mut d = Dechunker::default();
        let first = d.feed(&mut grown);
        let b = match first {
            Ok(Chunked::NeedMore) => {
                grown.extend_from_slice(&input[split..]);
                d.feed(&mut grown)
            }
            other => other,
        };
        // Every verdict (done, need more, or the same error) must agree,
        // not only the successful ones.
        assert_eq!(b, a, "split at {split}: {input:?}");
        if let Ok(Chunked::Done { body_len, consumed }) = a {
            assert!(body_len <= consumed && consumed <= input.len());
            assert!(consumed - body_len <= wire::MAX_FRAMING);
            assert_eq!(grown[..body_len], whole[..body_len]);
        }
    });
}

#[test]
fn decimals() {
    run(&[b"123", b"18446744073709551615", b" 7 "], 20_000, |input| {
        if let Some(n) = crate::text::parse_decimal(input) {
            let text = core::str::from_utf8(input).unwrap().trim_matches([' ', '\t', '\r', '\n']);
            assert_eq!(text.parse::<u64>().ok(), Some(n));
        }
    });
}

#[cfg(feature = "resolve")]
#[test]
fn resolver_inputs() {
    use crate::resolve::{hosts_line, parse_answer, Conf};
    run(&[b"127.0.0.1 localhost api # c", b"::1\tip6-localhost"], 20_000, |line| {
        // An address found is one of the line's own words, before any
        // comment, on a line that names the host.
        if let Some(addr) = hosts_line(line, b"api") {
            let at = addr.as_ptr() as usize - line.as_ptr() as usize;
            assert!(at + addr.len() <= line.len(), "address outside the line");
            assert!(!addr.is_empty() && !addr.iter().any(|b| b" \t#".contains(b)));
            assert!(!line[..at].contains(&b'#'), "address taken from a comment");
            assert!(line.windows(3).any(|w| w.eq_ignore_ascii_case(b"api")));
        }
    });
    run(&[b"nameserver 10.0.0.1\nsearch a b\noptions ndots:3 timeout:2 attempts:9\n"], 20_000, |text| {
        let conf = Conf::parse(text);
        let mut out = [0u8; 256];
        let mut n = 0;
        for c in conf.candidates(b"api") {
            n += 1;
            // A written query name starts with the name asked for.
            if let Some(len) = c.write(b"api", &mut out) {
                assert!(len >= 3 && out[..3] == *b"api", "{:?}", &out[..len]);
            }
        }
        // The name as is, plus at most six search domains.
        assert!((1..=7).contains(&n), "{n} candidates");
    });
    let answer: &[u8] = b"\x00\x07\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03api\x07example\x00\x00\x01\x00\x01\
        \xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x06\x03web\xc0\x10\
        \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x09";
    // Two A records for two answers: each answer yields at most one address.
    let two_a: &[u8] = b"\x00\x07\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03api\x00\x00\x01\x00\x01\
        \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01\
        \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x02";
    run(&[answer, two_a], 60_000, |p| {
        let mut addresses = 0;
        if let Ok(rcode) = parse_answer(p, 7, |_| addresses += 1) {
            // Accepted only with our id, the response bit, and no more
            // addresses than the header's answer count.
            assert!(p.len() >= 12 && p[..2] == [0, 7] && p[2] & 0x80 != 0);
            assert!(rcode <= 15);
            assert!(addresses <= usize::from(u16::from_be_bytes([p[6], p[7]])), "{addresses} addresses");
        }
    });
}
