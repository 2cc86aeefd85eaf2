//! Response heads, and whole responses (the head's framing, then the body
//! framer on what follows): the checks of src/fuzz_tests.rs, which assert
//! their properties on every input, whatever the verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::lambda_response_head(data);
    fuzzing::response(data);
});
