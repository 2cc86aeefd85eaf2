//! What the platform makes of a file as `bootstrap`, read from its bytes:
//! the ELF header and program headers (the kernel starts an executable
//! from those alone), a `#!` script line; and the section-header strip.

/// The architectures a bootstrap is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The Rust target triple of the static musl build.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// ELF's e_machine.
    pub fn machine(self) -> u16 {
        match self {
            Arch::X86_64 => 62,
            Arch::Aarch64 => 183,
        }
    }

    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn from_triple(triple: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.triple() == triple)
    }
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
/// Elf64_Ehdr and Elf64_Phdr sizes.
const EHDR: usize = 64;
const PHDR: usize = 56;

fn u16_at(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().expect("8 bytes"))
}

/// What the platform (`platform`, e.g. "SCF") would make of `data` as
/// `bootstrap`: `Err` with a one-line reason if it cannot start there;
/// `Ok(Some(warning))` for what starts only if the image provides something
/// (a script's interpreter, a dynamic binary's loader and libraries);
/// `Ok(None)` for a static executable for `arch`.
pub fn check_bootstrap(data: &[u8], name: &str, arch: Arch, platform: &str) -> Result<Option<String>, String> {
    if let Some(rest) = data.strip_prefix(b"#!") {
        let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let interp = String::from_utf8_lossy(line).trim().to_string();
        if interp.is_empty() {
            return Err(format!("{name} starts with '#!' but names no interpreter"));
        }
        let program = interp.split_whitespace().next().unwrap_or_default();
        return Ok(Some(format!(
            "{name} is a script for {interp}: {platform} runs it only if its image has {program}"
        )));
    }
    check_elf(data, name, arch, platform)
}

/// `Err` unless `data` is an ELF executable for `arch`; `Ok(Some(warning))`
/// if it needs a program interpreter or shared libraries, `Ok(None)` if it
/// is static. A static-PIE binary has a dynamic section for its
/// self-relocation but needs neither.
pub fn check_elf(data: &[u8], name: &str, arch: Arch, platform: &str) -> Result<Option<String>, String> {
    let (machine, triple) = (arch.machine(), arch.triple());
    if data.len() < EHDR || !data.starts_with(b"\x7fELF") {
        return Err(format!(
            "{name} is neither an ELF executable nor a script starting with '#!' \
             ({platform} executes it directly on {} Linux)",
            arch.name()
        ));
    }
    if data[4] != 2 || data[5] != 1 {
        return Err(format!("{name} is not a 64-bit little-endian ELF file, as {triple} needs"));
    }
    let (e_type, e_machine) = (u16_at(data, 16), u16_at(data, 18));
    if e_machine != machine {
        let hint = Arch::ALL
            .into_iter()
            .find(|a| a.machine() == e_machine)
            .map(|a| format!(" (for {}: --target {})", a.name(), a.triple()))
            .unwrap_or_default();
        return Err(format!(
            "{name} is built for ELF machine {e_machine}, not {} ({machine}) as {triple} needs{hint}",
            arch.name()
        ));
    }
    if e_type != ET_EXEC && e_type != ET_DYN {
        return Err(format!("{name} is an ELF file of type {e_type}, not an executable"));
    }
    let phoff = u64_at(data, 32) as usize;
    let (phentsize, phnum) = (u16_at(data, 54) as usize, u16_at(data, 56) as usize);
    if phnum == 0 || phentsize < PHDR || phoff.checked_add(phnum * phentsize).is_none_or(|end| end > data.len()) {
        return Err(format!("{name} has no valid program headers"));
    }
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (p_type, p_offset, p_filesz) =
            (u32_at(data, ph), u64_at(data, ph + 8) as usize, u64_at(data, ph + 32) as usize);
        let end = p_offset.saturating_add(p_filesz).min(data.len());
        if p_type == PT_INTERP {
            let bytes = &data[p_offset.min(end)..end];
            let interp = String::from_utf8_lossy(bytes.split(|&b| b == 0).next().unwrap_or_default()).into_owned();
            return Ok(Some(format!(
                "{name} is dynamically linked (interpreter {interp}): it starts on {platform} only if \
                 {platform}'s image has that loader and its libraries"
            )));
        }
        if p_type == PT_DYNAMIC {
            let mut at = p_offset;
            while at + 16 <= end {
                let tag = u64_at(data, at) as i64;
                if tag == DT_NULL {
                    break;
                }
                if tag == DT_NEEDED {
                    return Ok(Some(format!(
                        "{name} needs shared libraries: it starts on {platform} only if {platform}'s image has them"
                    )));
                }
                at += 16;
            }
        }
    }
    Ok(None)
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
        let mut pie = with_section_table(elf(2, 62, ET_DYN, &[(1, vec![0u8; 16])]));
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
