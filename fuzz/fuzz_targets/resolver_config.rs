//! /etc/hosts lines and resolv.conf text: any bytes parse without panicking,
//! and every candidate name written fits the 253-byte limit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::{hosts_line, Conf};

fuzz_target!(|data: &[u8]| {
    let (name, text) = data.split_at(data.len().min(data.first().map_or(0, |&b| usize::from(b % 32))));
    let _ = hosts_line(text, name);
    let conf = Conf::parse(text);
    let mut out = [0u8; 256];
    for c in conf.candidates(name) {
        if let Some(n) = c.write(name, &mut out) {
            assert!(n <= 253);
        }
    }
});
