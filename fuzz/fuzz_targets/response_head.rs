//! Response heads: any bytes parse to a head, "need more", or an error,
//! and a parsed head's offsets lie inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(head)) = wire::parse_head(&mut data.to_vec()) {
        assert!(head.len <= data.len());
        if let Some(r) = head.context.request_id {
            assert!(r.start <= r.end && r.end < head.len);
        }
    }
});
