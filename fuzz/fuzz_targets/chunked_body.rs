//! Chunked bodies: one verdict fed whole, in two pieces and a byte at a
//! time, the bytes after the message untouched, and the body's round trip
//! (src/fuzz_tests.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::chunked_body(data);
});
