//! DNS answers: any datagram is read or rejected without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::parse_answer;

fuzz_target!(|data: &[u8]| {
    let id = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let mut n = 0usize;
    let _ = parse_answer(data, id, |_| n += 1);
});
