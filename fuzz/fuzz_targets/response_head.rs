//! Response heads: any bytes parse to a head, "need more", or an error,
//! and a parsed head's offsets lie inside the input: its length, and every
//! field value offered to the caller, before the head's end (the dialects
//! write a NUL over the byte after each).
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::wire;

/// Every field value's span.
struct Spans(Vec<wire::Span>);

impl wire::Fields for Spans {
    fn clear(&mut self) {
        self.0.clear();
    }
    fn field(&mut self, _: &[u8], _: &[u8], at: wire::Span) {
        self.0.push(at);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut spans = Spans(Vec::new());
    if let Ok(Some(head)) = wire::parse_head(data, &mut spans) {
        assert!(head.len <= data.len());
        for r in spans.0.iter().map(|s| s.range()) {
            assert!(r.start <= r.end && r.end < head.len);
        }
    }
});
