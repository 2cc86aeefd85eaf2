//! /etc/hosts lines and resolv.conf text, for a name of up to 31 bytes
//! taken from the front of the input: each checked against the small
//! models of src/fuzz_tests.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing;

fuzz_target!(|data: &[u8]| {
    let (name, text) = data.split_at(data.len().min(data.first().map_or(0, |&b| usize::from(b % 32))));
    fuzzing::hosts_line(text, name);
    fuzzing::resolv_conf(text, name);
});
