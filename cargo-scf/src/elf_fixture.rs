//! Minimal ELF files for tests: cargo-scf's unit tests (elf, package)
//! and the repository's tests/package.rs (through tests/common, which
//! includes this file by path) build the same fixtures.

/// A minimal ELF file: class (2: 64-bit), machine, type, and program
/// headers (type, contents), each segment's bytes placed after the table.
pub fn elf(class: u8, machine: u16, e_type: u16, segments: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = class;
    f[5] = 1; // little-endian
    f[6] = 1; // version
    f[16..18].copy_from_slice(&e_type.to_le_bytes());
    f[18..20].copy_from_slice(&machine.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    let mut data_at = 64 + 56 * segments.len();
    let mut data = Vec::new();
    for (p_type, bytes) in segments {
        let mut ph = [0u8; 56];
        ph[..4].copy_from_slice(&p_type.to_le_bytes());
        ph[8..16].copy_from_slice(&(data_at as u64).to_le_bytes());
        ph[32..40].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        f.extend_from_slice(&ph);
        data.extend_from_slice(bytes);
        data_at += bytes.len();
    }
    f.extend_from_slice(&data);
    f
}

/// `f` with a section table of one zeroed entry appended (for the strip to
/// remove).
pub fn with_section_table(mut f: Vec<u8>) -> Vec<u8> {
    let shoff = f.len() as u64;
    f.extend_from_slice(&[0u8; 64]);
    f[40..48].copy_from_slice(&shoff.to_le_bytes());
    f[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    f[60..62].copy_from_slice(&1u16.to_le_bytes()); // e_shnum
    f
}
