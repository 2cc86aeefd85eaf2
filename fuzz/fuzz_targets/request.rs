//! Push-mode requests: any bytes parse to a request to serve, "need more",
//! or a refusal; a served request's head is complete on its own and its
//! context values lie inside it; its body, fed whole or in two pieces,
//! gets the same verdict; and every answer is a well-framed response.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::serve_wire as wire;

fuzz_target!(|data: &[u8]| {
    let mut digits = itoa::Buffer::new();
    match wire::parse_request(data, &wire::SCF) {
        Ok(Some(req)) => {
            assert!(req.len <= data.len() && req.len <= wire::MAX_HEAD);
            assert_eq!(wire::parse_request(&data[..req.len], &wire::SCF), Ok(Some(req.clone())));
            for f in wire::Field::ALL {
                if let Some(r) = req.context.get(f) {
                    assert!(r.start <= r.end && r.end < req.len);
                }
            }
            assert!(req.body != wire::Framing::UntilClose);
            let after = &data[req.len..];
            let split = data.first().map_or(0, |&b| usize::from(b) % (after.len() + 1));
            let run = |pieces: &[&[u8]]| -> Result<Option<(usize, usize)>, wire::Fault> {
                let mut f = wire::body_framer(&req);
                let mut buf = Vec::new();
                for p in pieces {
                    buf.extend_from_slice(p);
                    if let wire::BodyStep::Done { len, end } = f.step(&mut buf, false)? {
                        return Ok(Some((len, end)));
                    }
                }
                Ok(None)
            };
            let whole = run(&[after]);
            let (a, b) = after.split_at(split);
            assert_eq!(run(&[a, b]), whole);
            if let Ok(Some((len, end))) = whole {
                assert!(len <= end && end <= after.len() && len <= wire::MAX_EVENT);
            }
            let (head, keep) = wire::answer_head(wire::Answer::Result, Some(&req), 3, &mut digits);
            assert_eq!(keep, req.keep_alive);
            assert!(head.concat().ends_with(b"\r\n\r\n"));
        }
        Ok(None) => assert!(data.len() < wire::MAX_HEAD),
        Err(r) => {
            assert!((400..600).contains(&r.status()));
            let answer = wire::refusal(r, None, &mut digits).concat();
            assert!(answer.ends_with(b"\n") && answer.starts_with(r.status_line()));
        }
    }
});
