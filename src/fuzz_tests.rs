//! Mutation fuzzing of every parser entry point: the properties, and a
//! deterministic run of them with the unit tests.
//!
//! Each check below hands one entry point one input, asserts what must hold
//! whatever the verdict, and returns the verdict. What must hold: length
//! bounds; that a parse changes no byte it was not meant to; that the same
//! bytes give one verdict fed whole, in two pieces or a byte at a time (the
//! runtime parses a buffer that grows as reads complete, so a prefix of an
//! accepted head is incomplete, never an error); round trips of what was
//! accepted; agreement between entry points that read the same bytes, and
//! with a small independent model where the rule is short enough to restate.
//! A panic is a failure too: in the no_std binary it is an abort.
//!
//! The unit tests (`tests`, below) mutate valid seeds (byte flips,
//! insertions, deletions, truncations, splices) with a fixed-seed
//! generator, require every seed to be accepted, and count the verdicts of
//! the mutated inputs: each entry point must accept a share of them and
//! reject a share, so a parser that refused everything, or took everything,
//! fails, and so would a mutator that stopped reaching both sides. The
//! libFuzzer targets in `fuzz/` run the same checks, coverage-guided
//! (through `crate::fuzzing`, built with `--cfg fuzzing`).

extern crate alloc;

use crate::http::wire::{self, BodyFramer, BodyStep, Chunked, Dechunker, Fault, Framing};
use alloc::vec::Vec;

/// What an entry point made of one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A value: a head, a body, an address, a number, a name found.
    Accepted,
    /// Not complete yet: more bytes could make it either.
    Incomplete,
    /// An error, or nothing found.
    Rejected,
}

/// Every field value's span, as a dialect would take them.
#[derive(Default)]
pub struct Spans(pub Vec<core::ops::Range<usize>>);

impl wire::Fields for Spans {
    fn clear(&mut self) {
        self.0.clear();
    }
    fn field(&mut self, _: &[u8], _: &[u8], at: wire::Span) {
        self.0.push(at.range());
    }
}

/// `wire::parse_head`, the client's head parser (whatever the dialect),
/// and `dialect::terminate`, which makes each context value a C string in
/// place (unfolding it).
pub fn response_head(input: &[u8]) -> Verdict {
    let mut spans = Spans::default();
    let got = wire::parse_head(input, &mut spans);
    let mut cuts = [input.len() / 2, input.len().saturating_sub(1), input.len()];
    if let Ok(Some(h)) = &got {
        assert!(0 < h.len && h.len <= input.len(), "head of {} bytes in {}", h.len, input.len());
        assert!((100..=599).contains(&h.status), "status {}", h.status);
        assert!(!(h.keep_alive && h.framing == Framing::UntilClose), "kept alive without an end: {h:?}");
        // Every value lies inside the head, before its end: the dialects
        // write a NUL over the byte after each. Made a C string, a value
        // holds no line break (a folded one is unfolded) and only its own
        // bytes and the one after it change.
        for r in &spans.0 {
            assert!(r.start <= r.end && r.end < h.len, "{r:?} outside a head of {}", h.len);
            // No blank around a value: `text::parse_digits` takes the
            // numbers as they are.
            let v = &input[r.clone()];
            assert_eq!(crate::text::trim(v), v, "a value with blanks around it");
            let mut buf = input.to_vec();
            let at = wire::Span { start: r.start as u32, end: r.end as u32 };
            let c = crate::dialect::terminate(&mut buf, Some(at)).expect("a value inside the buffer");
            assert!(c.start == r.start && r.start < c.end && c.end <= r.end + 1, "{c:?} for {r:?}");
            assert_eq!(buf[c.end - 1], 0);
            assert!(!buf[c.start..c.end - 1].iter().any(|&b| b == b'\r' || b == b'\n' || b == 0), "{:?}", &buf[c]);
            assert!(buf[..r.start] == input[..r.start] && buf[r.end + 1..] == input[r.end + 1..]);
        }
        cuts[2] = h.len;
    }
    // A prefix agrees: the same head once it holds the whole head,
    // incomplete before; an error only where the whole input has it.
    for cut in cuts {
        let mut cut_spans = Spans::default();
        let prefix = wire::parse_head(&input[..cut], &mut cut_spans);
        match &got {
            Ok(Some(h)) if cut >= h.len => {
                assert_eq!(prefix, got, "cut at {cut}");
                assert_eq!(cut_spans.0, spans.0, "cut at {cut}");
            }
            Ok(_) => assert_eq!(prefix, Ok(None), "cut at {cut} of a head that is {got:?}"),
            Err(e) => assert!(prefix == Ok(None) || prefix == got, "cut at {cut}: {prefix:?}, whole: {e:?}"),
        }
    }
    match got {
        Ok(Some(_)) => Verdict::Accepted,
        Ok(None) => Verdict::Incomplete,
        Err(e) => {
            assert!(!e.describe().is_empty());
            Verdict::Rejected
        }
    }
}

/// A whole response: the head's framing, [`BodyFramer`] on what follows
/// it, and (for a chunked body) [`Dechunker`] directly, which must agree.
/// Accepted when the body is complete once the peer has closed.
pub fn response(input: &[u8]) -> Verdict {
    let head = match wire::parse_head(input, &mut ()) {
        Ok(Some(h)) => h,
        Ok(None) => return Verdict::Incomplete,
        Err(_) => return Verdict::Rejected,
    };
    let after = &input[head.len..];
    let n = after.len();
    let mut verdict = Verdict::Rejected;
    for closed in [false, true] {
        let mut body = after.to_vec();
        let step = BodyFramer::new(head.framing, wire::MAX_BODY).step(&mut body, closed);
        match (&step, head.framing) {
            (Ok(BodyStep::Done { len, end }), _) => assert!(len <= end && *end <= n, "{step:?} of {n} bytes"),
            (Ok(BodyStep::Need(more)), Framing::Length(l)) => assert_eq!(n as u64 + *more as u64, l),
            (Ok(BodyStep::More), Framing::Chunked) | (Ok(BodyStep::UntilClose), Framing::UntilClose) => {}
            (Err(Fault::TooLarge(size)), _) => assert!(*size > wire::MAX_BODY),
            (Err(Fault::Malformed(_)), Framing::Chunked) => {}
            (Err(Fault::Truncated), Framing::Length(_) | Framing::Chunked) => {}
            _ => panic!("{step:?} for a body framed {:?}", head.framing),
        }
        // Once the peer has closed, nothing more comes: the body is done
        // or it is a fault, never "read on".
        if closed {
            assert!(matches!(step, Ok(BodyStep::Done { .. }) | Err(_)), "{step:?} after the close");
        }
        if head.framing == Framing::Chunked {
            let mut alone = after.to_vec();
            let direct = Dechunker::default().feed(&mut alone);
            match (&step, direct) {
                (Ok(BodyStep::Done { len, end }), Ok(Chunked::Done { body_len, consumed })) => {
                    assert_eq!((*len, *end), (body_len, consumed));
                    assert_eq!(body[..*len], alone[..body_len]);
                }
                (Ok(BodyStep::More) | Err(Fault::Truncated), Ok(Chunked::NeedMore)) => {}
                (Err(Fault::Malformed(a)), Err(b)) => assert_eq!(*a, b),
                (s, d) => panic!("the framer says {s:?}, the de-chunker {d:?}"),
            }
        }
        if closed && step.is_ok() {
            verdict = Verdict::Accepted;
        }
    }
    verdict
}

/// Feeds `input` to a fresh [`Dechunker`] as a region that grows: the first
/// `first` bytes, then `each` more at a time, until a verdict other than
/// "need more" or the end of the input. Returns the verdict and the region.
fn feed_in_pieces(input: &[u8], first: usize, each: usize) -> (Result<Chunked, wire::Error>, Vec<u8>) {
    let mut d = Dechunker::default();
    let mut region = Vec::new();
    let mut upto = first.min(input.len());
    loop {
        region.extend_from_slice(&input[region.len()..upto]);
        let got = d.feed(&mut region);
        if got != Ok(Chunked::NeedMore) || upto == input.len() {
            assert!(d.decoded() <= region.len());
            return (got, region);
        }
        upto = (upto + each).min(input.len());
    }
}

/// `Dechunker::feed`, on a chunked body (what follows the head).
pub fn chunked_body(input: &[u8]) -> Verdict {
    let (got, whole) = feed_in_pieces(input, input.len(), 0);
    // Fed in two pieces, and a byte at a time: the same verdict, done,
    // need more or the same error.
    let (halves, halved) = feed_in_pieces(input, input.len() / 2, input.len());
    let (bytes, trickled) = feed_in_pieces(input, 0, 1);
    assert_eq!(halves, got, "split at {}", input.len() / 2);
    assert_eq!(bytes, got, "fed a byte at a time");
    match got {
        Ok(Chunked::Done { body_len, consumed }) => {
            assert!(body_len <= consumed && consumed <= input.len());
            assert!(consumed - body_len <= wire::MAX_FRAMING);
            assert!(halved[..body_len] == whole[..body_len] && trickled[..body_len] == whole[..body_len]);
            // What follows the message is left as it came.
            assert_eq!(whole[consumed..], input[consumed..]);
            // Round trip: the body sent again as one chunk decodes to itself.
            let body = &whole[..body_len];
            let mut again = Vec::new();
            if !body.is_empty() {
                again.extend_from_slice(alloc::format!("{body_len:x}\r\n").as_bytes());
                again.extend_from_slice(body);
                again.extend_from_slice(b"\r\n");
            }
            again.extend_from_slice(b"0\r\n\r\n");
            let n = again.len();
            assert_eq!(Dechunker::default().feed(&mut again), Ok(Chunked::Done { body_len, consumed: n }));
            assert_eq!(again[..body_len], *body);
            Verdict::Accepted
        }
        Ok(Chunked::NeedMore) => Verdict::Incomplete,
        Err(e) => {
            assert!(!e.describe().is_empty());
            Verdict::Rejected
        }
    }
}

/// `text::parse_decimal`: exactly what std's `u64` parser takes from the
/// text with its blanks trimmed, minus std's leading `+`.
pub fn decimal(input: &[u8]) -> Verdict {
    let got = crate::text::parse_decimal(input);
    let want = core::str::from_utf8(input)
        .ok()
        .map(|s| s.trim_matches([' ', '\t', '\r', '\n']))
        .filter(|s| !s.starts_with('+'))
        .and_then(|s| s.parse::<u64>().ok());
    assert_eq!(got, want, "{input:?}");
    if got.is_some() {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    }
}

/// Blank-separated words, as /etc/hosts and resolv.conf have them: a
/// model for the resolver's checks, written apart from its own.
#[cfg(feature = "resolve")]
fn model_words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b" \t\r".contains(b)).filter(|w| !w.is_empty())
}

/// `resolve::hosts_line`: the address of a line that names `name`, which
/// is its first word, before any comment.
#[cfg(feature = "resolve")]
pub fn hosts_line(line: &[u8], name: &[u8]) -> Verdict {
    let got = crate::resolve::hosts_line(line, name);
    let mut words = model_words(line.split(|&b| b == b'#').next().unwrap_or(line));
    let first = words.next();
    let named = words.any(|w| w.eq_ignore_ascii_case(name));
    assert_eq!(got, first.filter(|_| named), "{line:?}");
    match got {
        Some(addr) => {
            let at = addr.as_ptr() as usize - line.as_ptr() as usize;
            assert!(at + addr.len() <= line.len(), "address outside the line");
            Verdict::Accepted
        }
        None => Verdict::Rejected,
    }
}

/// `resolve::Conf`: the names asked for `name` are the name as given once,
/// first or last, and the last `search` (or `domain`) line's first six
/// domains, in order; each written as the name, a dot and the domain,
/// refused past 253 bytes. Accepted when a search domain was read.
#[cfg(feature = "resolve")]
pub fn resolv_conf(text: &[u8], name: &[u8]) -> Verdict {
    use crate::resolve::{Candidate, Conf};
    let conf = Conf::parse(text);
    let got: Vec<Candidate> = conf.candidates(name).collect();
    // The last search or domain line wins.
    let search = text
        .rsplit(|&b| b == b'\n')
        .find_map(|l| {
            let mut w = model_words(l);
            matches!(w.next(), Some(b"search" | b"domain")).then(|| w.take(6).collect::<Vec<_>>())
        })
        .unwrap_or_default();
    let domains = if name.last() == Some(&b'.') { Vec::new() } else { search };
    let searched: Vec<&[u8]> =
        got.iter().filter_map(|c| if let Candidate::Search(d) = c { Some(*d) } else { None }).collect();
    assert_eq!(searched, domains, "{text:?}");
    let as_is: Vec<usize> = (0..got.len()).filter(|&i| got[i] == Candidate::AsIs).collect();
    assert!(as_is.len() == 1 && (as_is[0] == 0 || as_is[0] == got.len() - 1), "{got:?}");
    let bare = |n: &[u8]| n.strip_suffix(b".").unwrap_or(n).to_vec();
    for c in &got {
        let mut want = bare(name);
        if let Candidate::Search(d) = c {
            want.push(b'.');
            want.extend_from_slice(&bare(d));
        }
        let mut out = [0u8; 256];
        match c.write(name, &mut out) {
            Some(len) => assert!(len <= 253 && out[..len] == want[..], "{c:?}: {:?}", &out[..len]),
            None => assert!(want.len() > 253, "{c:?} refused at {} bytes", want.len()),
        }
    }
    if searched.is_empty() {
        Verdict::Rejected
    } else {
        Verdict::Accepted
    }
}

/// `resolve::parse_answer`, on a datagram answering query `id`.
#[cfg(feature = "resolve")]
pub fn dns_answer(p: &[u8], id: u16) -> Verdict {
    use crate::resolve::{parse_answer, BadPacket};
    let mut addresses = 0;
    let got = parse_answer(p, id, |_| addresses += 1);
    // Only our id, with the response bit, is read at all.
    if p.len() < 12 || p[..2] != id.to_be_bytes() || p[2] & 0x80 == 0 {
        assert_eq!((got, addresses), (Err(BadPacket), 0));
        return Verdict::Rejected;
    }
    // Each answer yields at most one address, even in a packet refused
    // after some.
    let answers = usize::from(u16::from_be_bytes([p[6], p[7]]));
    assert!(addresses <= answers, "{addresses} addresses from {answers} answers");
    let Ok(rcode) = got else { return Verdict::Rejected };
    assert_eq!(rcode, p[3] & 0x0f);
    // Bytes after the records change nothing.
    let mut again = 0;
    let longer = [p, b"\xc0\x0c\x00\x01 trailing"].concat();
    assert_eq!(parse_answer(&longer, id, |_| again += 1), got);
    assert_eq!(again, addresses);
    Verdict::Accepted
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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

    /// The verdicts of one run's mutated inputs.
    #[derive(Debug, Default)]
    pub(crate) struct Tally {
        accepted: usize,
        incomplete: usize,
        rejected: usize,
    }

    impl Tally {
        /// Fails unless at least `accepted` and `rejected` per cent of the
        /// mutated inputs got those verdicts.
        pub(crate) fn require(&self, what: &str, accepted: usize, rejected: usize) {
            let total = self.accepted + self.incomplete + self.rejected;
            println!("{what}: {self:?} of {total}");
            assert!(
                self.accepted * 100 >= accepted * total && self.rejected * 100 >= rejected * total,
                "{what}: {self:?} of {total} mutated inputs; at least {accepted} % must be accepted \
                 and {rejected} % rejected"
            );
        }
    }

    /// Runs `check` on every seed, each of which it must accept, then on
    /// `iterations` mutations of them, and counts their verdicts.
    pub(crate) fn run(seeds: &[&[u8]], iterations: usize, mut check: impl FnMut(&[u8]) -> Verdict) -> Tally {
        for s in seeds {
            assert_eq!(check(s), Verdict::Accepted, "seed {:?}", String::from_utf8_lossy(s));
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut tally = Tally::default();
        for _ in 0..iterations {
            let seed = seeds[rng.below(seeds.len())];
            match check(&mutate(&mut rng, seed, seeds)) {
                Verdict::Accepted => tally.accepted += 1,
                Verdict::Incomplete => tally.incomplete += 1,
                Verdict::Rejected => tally.rejected += 1,
            }
        }
        tally
    }

    const HEADS: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nrequest_id: abc\r\nmemory_limit_in_mb: 128\r\ntime_limit_in_ms: 3000\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, close\r\n\r\n",
        b"HTTP/1.0 500 Internal Server Error\r\nConnection: keep-alive\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nrequest_id: ab\r\n \tcd\r\nContent-Length:\r\n 0\r\nx: \r\n \r\n\r\n",
    ];

    #[test]
    fn response_heads() {
        run(HEADS, 60_000, response_head).require("parse_head", 15, 40);
    }

    #[test]
    fn whole_responses() {
        let seeds: &[&[u8]] = &[
            HEADS[0],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nt: 1\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close",
            b"HTTP/1.1 204 No Content\r\nrequest_id: r\r\n\r\n",
        ];
        run(seeds, 40_000, response).require("parse_head + BodyFramer", 15, 40);
    }

    #[test]
    fn chunked_bodies() {
        let seeds: &[&[u8]] = &[
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            b"a;ext=1\r\n0123456789\r\n0\r\ntrailer: x\r\n\r\n",
            b"1\nx\r\n0\n\n",
            b"1;a=b;c=d\r\nx\r\n0\r\nt1: x\r\nt2: y\r\n\r\n",
        ];
        run(seeds, 60_000, chunked_body).require("Dechunker", 10, 30);
    }

    #[test]
    fn decimals() {
        run(&[b"123", b"18446744073709551615", b" 7 "], 20_000, decimal).require("parse_decimal", 20, 50);
    }

    #[cfg(feature = "resolve")]
    #[test]
    fn hosts_lines() {
        let seeds: &[&[u8]] = &[b"127.0.0.1 localhost api # c", b"::1\tip6-localhost\tAPI", b"10.0.0.9 api"];
        run(seeds, 20_000, |line| hosts_line(line, b"api")).require("hosts_line", 30, 30);
    }

    #[cfg(feature = "resolve")]
    #[test]
    fn resolv_confs() {
        let long = [&b"search "[..], &[b'd'; 250], b"\n"].concat();
        let seeds: &[&[u8]] = &[
            b"nameserver 10.0.0.1\nsearch a b\noptions ndots:3 timeout:2 attempts:9\n",
            b"domain example.\r\nsearch x.y. z u v w t s\nnameserver ::1",
            &long,
        ];
        run(seeds, 20_000, |text| resolv_conf(text, b"api")).require("Conf", 50, 10);
        assert_eq!(resolv_conf(b"search a", b"api."), Verdict::Rejected, "an absolute name is not searched");
    }

    #[cfg(feature = "resolve")]
    #[test]
    fn dns_answers() {
        let answer: &[u8] = b"\x00\x07\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03api\x07example\x00\x00\x01\x00\x01\
            \xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x06\x03web\xc0\x10\
            \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x09";
        // Two A records for two answers.
        let two_a: &[u8] = b"\x00\x07\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03api\x00\x00\x01\x00\x01\
            \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01\
            \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x02";
        run(&[answer, two_a], 60_000, |p| dns_answer(p, 7)).require("parse_answer", 5, 60);
    }
}
