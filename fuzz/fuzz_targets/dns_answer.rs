//! DNS answers, for the query id in the datagram's first two bytes (so the
//! fuzzer reaches past the id check): the properties of src/fuzz_tests.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing;

fuzz_target!(|data: &[u8]| {
    let id = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    fuzzing::dns_answer(data, id);
});
