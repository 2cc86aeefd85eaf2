//! AWS_LAMBDA_RUNTIME_API values and numbers (context headers, Content-Length):
//! the parts in order, their round trip, and the decimal parser against std's
//! (src/fuzz_tests.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::lambda_runtime_api(data);
    fuzzing::decimal(data);
});
