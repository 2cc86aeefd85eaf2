//! Chunked bodies: fed whole or in two pieces, the decoder reaches the same
//! verdict, and a decoded body lies inside what was consumed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use scf_bootstrap::fuzzing::wire::{Chunked, Dechunker};

fuzz_target!(|data: &[u8]| {
    let mut whole = data.to_vec();
    let a = Dechunker::default().feed(&mut whole);
    let split = data.first().map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let mut grown = data[..split].to_vec();
    let mut d = Dechunker::default();
    let b = match d.feed(&mut grown) {
        Ok(Chunked::NeedMore) => {
            grown.extend_from_slice(&data[split..]);
            d.feed(&mut grown)
        }
        other => other,
    };
    // Every verdict (done, need more, or the same error) must agree.
    assert_eq!(a, b);
    if let Ok(Chunked::Done { body_len, consumed }) = a {
        assert!(body_len <= consumed && consumed <= data.len());
        assert_eq!(whole[..body_len], grown[..body_len]);
    }
});
