//! Deterministic mutation testing of the push-mode request parser, run
//! with the unit tests (the libFuzzer target `fuzz/fuzz_targets/
//! request.rs` explores the same entry points without the seeds' bias).
//! Valid requests are mutated by a fixed-seed generator; every outcome is
//! counted, every outcome's invariants are asserted (not only the
//! accepted ones'), and the counts must show that each outcome was
//! reached, so the test cannot pass by exercising nothing.

use super::wire::{self, BodyStep, Field, Framing, Refusal, Request, SCF};

/// SplitMix64: a fixed sequence on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn upto(&mut self, n: usize) -> usize {
        (self.next() % (n as u64 + 1)) as usize
    }
}

/// Fragments a request is made of, for insertions.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b": ",
    b",",
    b" ",
    b"\t",
    b"\0",
    b"\x7f",
    b"\xff",
    b"0",
    b"9",
    b"HTTP/1.0",
    b"HTTP/1.1",
    b"Host: h\r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: 99999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"Connection: close\r\n",
    b"Expect: 100-continue\r\n",
    b"X-Scf-Request-Id: r\r\n",
    b"X-Scf-Memory: 128\r\n",
    b"3\r\nabc\r\n0\r\n\r\n",
    b"\r\n\r\n",
];

fn mutate(g: &mut Gen, seed: &[u8], seeds: &[&[u8]]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + g.upto(3) {
        let at = g.upto(v.len());
        match g.upto(5) {
            0 => {
                if let Some(b) = v.get_mut(at) {
                    *b ^= 1 << g.upto(7);
                }
            }
            1 => {
                let t = TOKENS[g.upto(TOKENS.len() - 1)];
                v.splice(at..at, t.iter().copied());
            }
            2 => {
                let end = (at + 1 + g.upto(8)).min(v.len());
                v.drain(at..end);
            }
            3 => v.truncate(at),
            4 => {
                // Crossover: this seed's front, another's back.
                let other = seeds[g.upto(seeds.len() - 1)];
                v.truncate(at);
                v.extend_from_slice(&other[g.upto(other.len())..]);
            }
            _ => {
                // A run of one byte (long values, long lines).
                let b = *v.get(at).unwrap_or(&b'x');
                v.splice(at..at, core::iter::repeat_n(b, g.upto(300)));
            }
        }
    }
    v
}

/// A framed answer, as the client would read it: a valid status line and
/// a Content-Length of `body_len`; the pieces hold the head and then
/// either nothing (`with_body` false: the caller's body follows) or
/// exactly the body.
fn check_answer(pieces: &[&[u8]], body_len: usize, with_body: bool) {
    let bytes = pieces.concat();
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut res = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(n)) = res.parse(&bytes) else { panic!("bad answer head {bytes:?}") };
    let length = res.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-length")).unwrap();
    assert_eq!(core::str::from_utf8(length.value).unwrap().parse::<usize>().unwrap(), body_len);
    assert_eq!(bytes.len() - n, if with_body { body_len } else { 0 }, "{bytes:?}");
}

/// The verdict of feeding a body in one piece and in two: they must agree.
fn body_verdict(req: &Request, after: &[u8], split: usize) -> Result<Option<(usize, usize)>, wire::Fault> {
    let run = |pieces: &[&[u8]]| {
        let mut f = wire::body_framer(req);
        let mut buf = Vec::new();
        for p in pieces {
            buf.extend_from_slice(p);
            if let BodyStep::Done { len, end } = wire::body_step(&mut f, &mut buf, false)? {
                return Ok(Some((len, end)));
            }
        }
        Ok(None)
    };
    let whole = run(&[after]);
    let (a, b) = after.split_at(split.min(after.len()));
    assert_eq!(run(&[a, b]), whole, "split at {split}");
    whole
}

#[derive(Default, Debug)]
struct Counts {
    accepted: u32,
    with_body: u32,
    partial: u32,
    malformed: u32,
    too_large: u32,
    not_found: u32,
    method: u32,
    other_refusals: u32,
}

#[test]
fn request_heads_and_bodies() {
    let seeds: &[&[u8]] = &[
        b"POST /event-invoke HTTP/1.1\r\nHost: 11.148.165.112:10217\r\nUser-Agent: Go-http-client/1.1\r\n\
          Content-Length: 2\r\nContent-Type: application/json\r\nX-Scf-Appid: 1252245989\r\nX-Scf-Memory: 512\r\n\
          X-Scf-Name: f\r\nX-Scf-Request-Id: 3b21a413-6e6a\r\nX-Scf-Timeout: 300000\r\nConnection: close\r\n\r\n{}",
        b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
        b"POST /event-invoke?x HTTP/1.0\r\nConnection: keep-alive\r\nX-Scf-Secret-Id: AKID\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"POST /event-invoke HTTP/1.1\r\nX-Scf-Request-Id: big\r\nHost: h\r\nContent-Length: 7000000\r\n\r\n",
        b"POST http://h/event-invoke HTTP/1.1\r\nhost: h\r\ncontent-length: 3, 3\r\n\r\nabcPOST /event-invoke",
    ];
    let mut g = Gen(0x5eed);
    let mut counts = Counts::default();
    for i in 0..40_000 {
        let input = match seeds.get(i) {
            Some(s) => s.to_vec(),
            None => {
                let seed = seeds[g.upto(seeds.len() - 1)];
                mutate(&mut g, seed, seeds)
            }
        };
        let verdict = wire::parse_request(&input, &SCF);
        assert_eq!(wire::parse_request(&input, &SCF), verdict, "deterministic");
        let mut digits = itoa::Buffer::new();
        match verdict {
            Ok(Some(req)) => {
                counts.accepted += 1;
                // The head ends at a blank line inside the input...
                assert!(req.len <= input.len() && req.len <= wire::MAX_HEAD);
                assert!(input[..req.len].ends_with(b"\n\n") || input[..req.len].ends_with(b"\n\r\n"));
                // ...and is complete on its own, with the same reading.
                assert_eq!(wire::parse_request(&input[..req.len], &SCF), Ok(Some(req.clone())));
                // Every context value lies inside the head, on one line.
                for f in Field::ALL {
                    if let Some(r) = req.context.get(f) {
                        assert!(r.start <= r.end && r.end < req.len, "{f:?} {r:?}");
                        let v = &input[r];
                        assert!(!v.contains(&b'\n'));
                        let blank = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
                        assert!(!blank(v.first()) && !blank(v.last()), "{v:?}");
                    }
                }
                match req.body {
                    Framing::Length(n) => assert!(n <= wire::MAX_EVENT as u64),
                    Framing::Chunked => assert!(!req.http10),
                    Framing::UntilClose => panic!("a request body never runs until close"),
                }
                assert!(!req.http10 || !req.expects_continue);
                let after = &input[req.len..];
                if let Ok(Some((len, end))) = body_verdict(&req, after, g.upto(after.len())) {
                    counts.with_body += 1;
                    assert!(len <= end && end <= after.len());
                }
                let (head, keep) = wire::answer_head(wire::Answer::Result, Some(&req), 7, &mut digits);
                assert_eq!(keep, req.keep_alive);
                check_answer(&head, 7, false);
            }
            Ok(None) => {
                counts.partial += 1;
                assert!(input.len() < wire::MAX_HEAD);
                // A shorter prefix of an incomplete head is incomplete too.
                let cut = g.upto(input.len());
                assert_eq!(wire::parse_request(&input[..cut], &SCF), Ok(None), "prefix {cut}");
            }
            Err(r) => {
                match r {
                    Refusal::Malformed(_) => counts.malformed += 1,
                    Refusal::TooLarge => counts.too_large += 1,
                    Refusal::NotFound => counts.not_found += 1,
                    Refusal::MethodNotAllowed => counts.method += 1,
                    _ => counts.other_refusals += 1,
                }
                assert!((400..600).contains(&r.status()));
                let msg = r.message();
                assert!(!msg.is_empty() && !msg.contains('\n'), "{r:?}");
                let answer = wire::refusal(r, None, &mut digits);
                check_answer(&answer, msg.len() + 1, true);
            }
        }
    }
    // Each outcome was reached often enough to mean something.
    let c = &counts;
    assert!(c.accepted > 4_000 && c.with_body > 2_000 && c.partial > 1_000, "{c:?}");
    assert!(c.malformed > 4_000 && c.not_found > 500 && c.method > 100, "{c:?}");
    assert!(c.too_large > 50 && c.other_refusals > 50, "{c:?}");
}
