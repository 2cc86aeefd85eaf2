//! The section-header strip, and the architectures (scf-deploy's `Arch`:
//! the deployer and cargo-scf judge a bootstrap with one set of checks,
//! `scf_deploy::bootstrap::check`).

pub use scf_deploy::bootstrap::Arch;

const ET_EXEC: u16 = 2;
/// Elf64_Ehdr and Elf64_Phdr sizes.
const EHDR: usize = 64;
const PHDR: usize = 56;

fn u16_at(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().expect("8 bytes"))
}

/// `data` without its section header table: the ELF header says "no
/// section headers" (e_shoff = e_shnum = e_shstrndx = 0) and the file ends
/// where the last segment's bytes end. The kernel loads an executable by
/// its program headers alone; section headers are for linkers, debuggers
/// and `readelf -S`, and after `strip` what is left of them is about 1 KiB
/// (the table, `.shstrtab`, non-allocated sections after the last
/// segment). `Err` (a reason) rather than a guess when the file is not a
/// 64-bit little-endian position-dependent executable, when a segment lies
/// past the section table (cutting would lose it), or when nothing would
/// be saved.
pub fn strip_sections(data: &[u8]) -> Result<Vec<u8>, &'static str> {
    if data.len() < EHDR || !data.starts_with(b"\x7fELF") {
        return Err("not an ELF file");
    }
    if data[4] != 2 || data[5] != 1 {
        return Err("not a 64-bit little-endian ELF file");
    }
    if u16_at(data, 16) != ET_EXEC {
        return Err("not a position-dependent executable (ET_EXEC)");
    }
    let (phoff, shoff) = (u64_at(data, 32) as usize, u64_at(data, 40));
    let (ehsize, phentsize, phnum, shnum) =
        (u16_at(data, 52) as usize, u16_at(data, 54) as usize, u16_at(data, 56) as usize, u16_at(data, 60));
    if shoff == 0 && shnum == 0 {
        return Err("it has no section headers already");
    }
    if phentsize != PHDR || phoff.checked_add(phnum * phentsize).is_none_or(|end| end > data.len()) {
        return Err("its program header table is malformed");
    }
    let mut end = ehsize.max(phoff + phnum * phentsize);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let seg_end = (u64_at(data, ph + 8)).checked_add(u64_at(data, ph + 32));
        match seg_end {
            Some(e) if e as usize <= data.len() => end = end.max(e as usize),
            _ => return Err("a segment extends past the end of the file"),
        }
    }
    if shoff != 0 && (shoff as usize) < end {
        return Err("the section table lies inside the loaded segments");
    }
    if end >= data.len() {
        return Err("nothing lies after the last segment");
    }
    let mut out = data[..end].to_vec();
    out[40..48].fill(0); // e_shoff
    out[60..64].fill(0); // e_shnum, e_shstrndx
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf_fixture::{elf, with_section_table};

    #[test]
    fn the_strip_cuts_after_the_last_segment_and_clears_the_section_fields() {
        let f = with_section_table(elf(2, 62, ET_EXEC, &[(1, vec![7u8; 16])]));
        let out = strip_sections(&f).unwrap();
        assert_eq!(out.len(), 64 + 56 + 16);
        assert_eq!((u64_at(&out, 40), u16_at(&out, 60), u16_at(&out, 62)), (0, 0, 0));
        assert_eq!(&out[..40], &f[..40]);
        assert_eq!(&out[64..], &f[64..64 + 56 + 16]);
        assert_eq!(strip_sections(&out), Err("it has no section headers already"));
    }

    #[test]
    fn the_strip_refuses_rather_than_guess() {
        let mut pie = with_section_table(elf(2, 62, 3, &[(1, vec![0u8; 16])]));
        assert_eq!(strip_sections(&pie), Err("not a position-dependent executable (ET_EXEC)"));
        pie[16] = ET_EXEC as u8;
        // The section table before the segment's end.
        let mut inside = pie.clone();
        inside[40..48].copy_from_slice(&64u64.to_le_bytes());
        assert_eq!(strip_sections(&inside), Err("the section table lies inside the loaded segments"));
        let mut past = pie.clone();
        past[64 + 32..64 + 40].copy_from_slice(&10_000u64.to_le_bytes());
        assert_eq!(strip_sections(&past), Err("a segment extends past the end of the file"));
        assert_eq!(strip_sections(b"#!/bin/sh\n"), Err("not an ELF file"));
    }
}
