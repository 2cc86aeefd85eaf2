//! The function zip: one member, `bootstrap`, at the root, Unix mode 0755
//! in its external attributes (what SCF and Lambda need to execute it), a
//! fixed timestamp (1980-01-01 00:00), no extra fields and no comment,
//! deflated at zlib's maximum setting or by Zopfli. The bytes depend on the
//! binary's bytes only (and the compressor's version): the same binary
//! always gives the same zip.

use crate::zlib::{self, Strategy};

/// MS-DOS date of 1980-01-01 (year 0 of the format, month 1, day 1).
const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
/// A regular file, rwxr-xr-x.
const MODE: u32 = 0o100755;
/// "Made by" Unix (host system 3), zip specification 2.0.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
/// General-purpose bits 1-2 = 01: compressed at the maximum setting.
const FLAG_MAX_COMPRESSION: u16 = 0x0002;
/// Zopfli's default number of iterations: more save a few bytes for
/// seconds of time.
const ZOPFLI_ITERATIONS: u64 = 15;

/// The compressor of the member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compressor {
    /// zlib at level 9, the smaller of its default and filtered strategies.
    Zlib,
    /// Zopfli: some 4% smaller, about a second slower, still plain deflate.
    Zopfli,
}

/// A raw deflate stream of `data` (see [`Compressor`]).
pub fn deflate(data: &[u8], with: Compressor) -> Result<Vec<u8>, String> {
    match with {
        Compressor::Zlib => {
            let a = zlib::deflate_raw(data, 9, Strategy::Default)?;
            let b = zlib::deflate_raw(data, 9, Strategy::Filtered)?;
            Ok(if b.len() < a.len() { b } else { a })
        }
        Compressor::Zopfli => {
            let options = zopfli::Options {
                iteration_count: std::num::NonZeroU64::new(ZOPFLI_ITERATIONS).expect("nonzero"),
                ..Default::default()
            };
            let mut out = Vec::new();
            zopfli::compress(options, zopfli::Format::Deflate, data, &mut out).map_err(|e| format!("zopfli: {e}"))?;
            Ok(out)
        }
    }
}

/// A zip archive whose only member is `data`, named `name`, mode 0755.
pub fn zip_bytes(data: &[u8], name: &str, with: Compressor) -> Result<Vec<u8>, String> {
    let packed = deflate(data, with)?;
    let size = |n: usize| u32::try_from(n).map_err(|_| format!("{name} is over 4 GiB: no zip64 here"));
    let (csize, usize_, name_len) = (size(packed.len())?, size(data.len())?, name.len() as u16);
    // From "version needed" to "extra field length": the same in the local
    // header and in the central directory.
    let mut common = Vec::with_capacity(26);
    for v in [20u16, FLAG_MAX_COMPRESSION, 8, 0, DOS_DATE_1980_01_01] {
        common.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc32fast::hash(data), csize, usize_] {
        common.extend_from_slice(&v.to_le_bytes());
    }
    common.extend_from_slice(&name_len.to_le_bytes());
    common.extend_from_slice(&0u16.to_le_bytes());

    let mut local = 0x0403_4b50u32.to_le_bytes().to_vec();
    local.extend_from_slice(&common);
    local.extend_from_slice(name.as_bytes());
    // Then: comment length, disk number, internal attributes, external
    // attributes (the Unix mode in the high half), local header offset.
    let mut central = 0x0201_4b50u32.to_le_bytes().to_vec();
    central.extend_from_slice(&MADE_BY_UNIX.to_le_bytes());
    central.extend_from_slice(&common);
    for v in [0u16, 0, 0] {
        central.extend_from_slice(&v.to_le_bytes());
    }
    central.extend_from_slice(&(MODE << 16).to_le_bytes());
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name.as_bytes());

    let cd_at = size(local.len() + packed.len())?;
    let mut end = 0x0605_4b50u32.to_le_bytes().to_vec();
    for v in [0u16, 0, 1, 1] {
        end.extend_from_slice(&v.to_le_bytes());
    }
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&cd_at.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    Ok([local, packed, central, end].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emulator's reader (the `zip` crate, which checks the CRC) gets
    /// the member back, executable, from both compressors; the archive is
    /// the same bytes each time.
    #[test]
    fn the_zip_unpacks_to_one_executable_bootstrap() {
        use std::os::unix::fs::PermissionsExt;
        let data: Vec<u8> = (0..5_000u32).map(|i| (i * 7 % 253) as u8).collect();
        for with in [Compressor::Zlib, Compressor::Zopfli] {
            let z = zip_bytes(&data, "bootstrap", with).unwrap();
            assert!(z == zip_bytes(&data, "bootstrap", with).unwrap(), "{with:?}: not reproducible");
            let dir = scf_emulator::code::TempDir::new("cargo-scf-zip-test").unwrap();
            scf_emulator::zip::unpack(&z, dir.path()).unwrap();
            let path = dir.path().join("bootstrap");
            assert!(std::fs::read(&path).unwrap() == data, "{with:?}");
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755, "{with:?}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "{with:?}: one member");
        }
    }
}
