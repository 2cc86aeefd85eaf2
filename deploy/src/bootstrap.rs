//! What SCF would make of a file as `bootstrap`: an ELF executable for the
//! right machine (static, or needing a loader and libraries the platform's
//! image may or may not have), a `#!` script, or something it cannot
//! start. Pure: it reads the bytes it is given.
//!
//! These are the checks of `scripts/package` (`check_bootstrap`,
//! `check_elf`), with the same verdicts: refused, a one-line warning, or
//! fine. The ELF fields are those of the System V ABI's ELF-64 header and
//! program header table. The tests are `deploy/tests/checks.rs`.

/// A machine a bootstrap can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `x86_64-unknown-linux-musl`; the only machine SCF runs.
    X86_64,
    /// `aarch64-unknown-linux-musl` (AWS Lambda's arm64).
    Aarch64,
}

impl Arch {
    /// Both, x86_64 first.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    /// The name (`x86_64`, `aarch64`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The Rust target of the static musl build.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The ELF `e_machine` value (EM_X86_64, EM_AARCH64).
    pub fn machine(self) -> u16 {
        match self {
            Arch::X86_64 => 62,
            Arch::Aarch64 => 183,
        }
    }

    /// The arch called `name`.
    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The arch of the Rust target `triple`.
    pub fn from_triple(triple: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.triple() == triple)
    }
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// The verdict of `platform` (`"SCF"`, `"Lambda"`: how messages name it)
/// on `data` as the bootstrap for `arch`, `name` being how messages call
/// the file: `Err` (one line) when it cannot start, `Ok(Some)` with a
/// one-line warning when it starts only if the platform's image provides
/// something (a script's interpreter, a dynamic binary's loader and
/// libraries), `Ok(None)` for a static executable. A static-PIE binary has
/// a dynamic section for its self-relocation but needs neither.
pub fn check(data: &[u8], name: &str, arch: Arch, platform: &str) -> Result<Option<String>, String> {
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
    if data.len() < 64 || &data[..4] != b"\x7fELF" {
        return Err(format!(
            "{name} is neither an ELF executable nor a script starting with '#!' \
             ({platform} executes it directly on {} Linux)",
            arch.name()
        ));
    }
    if data[4] != 2 || data[5] != 1 {
        return Err(format!("{name} is not a 64-bit little-endian ELF file, as {} needs", arch.triple()));
    }
    let (e_type, e_machine) = (u16_at(data, 16).unwrap_or(0), u16_at(data, 18).unwrap_or(0));
    if e_machine != arch.machine() {
        let what = Arch::ALL.into_iter().find(|a| a.machine() == e_machine);
        let what = what.map(|a| format!(" ({})", a.name())).unwrap_or_default();
        return Err(format!(
            "{name} is built for ELF machine {e_machine}{what}, not {} ({})",
            arch.name(),
            arch.machine()
        ));
    }
    if e_type != 2 && e_type != 3 {
        return Err(format!("{name} is an ELF file of type {e_type}, not an executable"));
    }
    let phoff = u64_at(data, 32).and_then(|v| usize::try_from(v).ok());
    let (phentsize, phnum) = (usize::from(u16_at(data, 54).unwrap_or(0)), usize::from(u16_at(data, 56).unwrap_or(0)));
    let table_end = phoff.and_then(|o| o.checked_add(phentsize.checked_mul(phnum)?));
    let (Some(phoff), Some(end)) = (phoff, table_end) else {
        return Err(format!("{name} has no valid program headers"));
    };
    if phnum == 0 || phentsize < 56 || end > data.len() {
        return Err(format!("{name} has no valid program headers"));
    }
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let p_type = u32_at(data, at).unwrap_or(0);
        let offset = u64_at(data, at + 8).and_then(|v| usize::try_from(v).ok()).unwrap_or(usize::MAX);
        let filesz = u64_at(data, at + 32).and_then(|v| usize::try_from(v).ok()).unwrap_or(0);
        // The segment's bytes, cut to the file (a truncated file gives fewer).
        let start = offset.min(data.len());
        let body = &data[start..offset.saturating_add(filesz).min(data.len())];
        if p_type == PT_INTERP {
            let path = body.split(|&b| b == 0).next().unwrap_or_default();
            return Ok(Some(format!(
                "{name} is dynamically linked (interpreter {}): it starts on {platform} only if \
                 {platform}'s image has that loader and its libraries",
                String::from_utf8_lossy(path)
            )));
        }
        if p_type == PT_DYNAMIC {
            for entry in body.chunks_exact(16) {
                let tag = i64::from_le_bytes(entry[..8].try_into().unwrap_or_default());
                if tag == DT_NULL {
                    break;
                }
                if tag == DT_NEEDED {
                    return Ok(Some(format!(
                        "{name} needs shared libraries: it starts on {platform} only if {platform}'s image has them"
                    )));
                }
            }
        }
    }
    Ok(None)
}
