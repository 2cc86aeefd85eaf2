//! zlib's deflate over its C ABI (libz-sys, zlib built from source), with
//! the two settings no Rust wrapper exposes: the memory level and the
//! strategy. The only module of cargo-scf with `unsafe`.

use libz_sys as z;
use std::ffi::c_int;

/// How zlib chooses its matches.
#[derive(Clone, Copy, Debug)]
pub enum Strategy {
    Default,
    /// Z_FILTERED: favours Huffman coding over short matches; sometimes
    /// smaller on machine code.
    Filtered,
}

extern "C" fn zalloc(_opaque: z::voidpf, items: z::uInt, size: z::uInt) -> z::voidpf {
    // SAFETY: calloc may be called with any sizes; it returns null or a
    // block zlib owns until it calls zfree with it.
    unsafe { libc::calloc(items as usize, size as usize) }
}

extern "C" fn zfree(_opaque: z::voidpf, address: z::voidpf) {
    // SAFETY: zlib passes back only blocks zalloc returned (or null).
    unsafe { libc::free(address) }
}

/// A raw deflate stream (no zlib header or trailer) of `data` at `level`,
/// with a 32 KiB window and memory level 9 (zlib's largest).
pub fn deflate_raw(data: &[u8], level: c_int, strategy: Strategy) -> Result<Vec<u8>, String> {
    let strategy = match strategy {
        Strategy::Default => z::Z_DEFAULT_STRATEGY,
        Strategy::Filtered => z::Z_FILTERED,
    };
    let avail_in = z::uInt::try_from(data.len()).map_err(|_| "more than 4 GiB to compress".to_string())?;
    let mut stream = z::z_stream {
        next_in: std::ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc,
        zfree,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    };
    let size = std::mem::size_of::<z::z_stream>() as c_int;
    // SAFETY: `stream` is initialised as deflateInit2_ requires (allocator
    // functions set, `state` null), and the version and size passed are
    // those of the zlib linked in.
    let rc = unsafe { z::deflateInit2_(&mut stream, level, z::Z_DEFLATED, -15, 9, strategy, z::zlibVersion(), size) };
    if rc != z::Z_OK {
        return Err(format!("zlib's deflateInit2 failed ({rc})"));
    }
    // SAFETY: the stream was initialised above.
    let bound = unsafe { z::deflateBound(&mut stream, avail_in as z::uLong) } as usize;
    let mut out = vec![0u8; bound];
    stream.next_in = data.as_ptr() as *mut u8;
    stream.avail_in = avail_in;
    stream.next_out = out.as_mut_ptr();
    stream.avail_out = z::uInt::try_from(bound).map_err(|_| "more than 4 GiB of output".to_string())?;
    // SAFETY: next_in/avail_in describe `data` (zlib only reads through
    // next_in), next_out/avail_out describe `out`, both alive until
    // deflateEnd; deflateBound's size holds the whole stream, so one
    // Z_FINISH call completes it.
    let rc = unsafe { z::deflate(&mut stream, z::Z_FINISH) };
    let written = stream.total_out as usize;
    // SAFETY: ends the stream initialised above, once.
    unsafe { z::deflateEnd(&mut stream) };
    if rc != z::Z_STREAM_END {
        return Err(format!("zlib's deflate did not finish ({rc})"));
    }
    out.truncate(written);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What zlib wrote inflates back to the input (read by flate2 on
    /// miniz_oxide, another implementation).
    #[test]
    fn deflate_raw_round_trips() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        for strategy in [Strategy::Default, Strategy::Filtered] {
            let packed = deflate_raw(&data, 9, strategy).unwrap();
            assert!(packed.len() < data.len() / 2, "{strategy:?}: {} bytes", packed.len());
            let mut back = Vec::new();
            let mut reader = flate2::read::DeflateDecoder::new(&packed[..]);
            std::io::Read::read_to_end(&mut reader, &mut back).unwrap();
            assert!(back == data, "{strategy:?}");
        }
        assert!(deflate_raw(b"", 9, Strategy::Default).unwrap().len() <= 2);
    }
}
