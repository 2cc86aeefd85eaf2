//! Just enough of the zip format to unpack a function's code package:
//! stored and deflated entries, read through the central directory, with
//! the Unix mode bits from the external attributes (what `zip` on Linux and
//! macOS records, and what makes `bootstrap` executable). No zip64, no
//! encryption, no multi-disk archives: each is refused with a clear error.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Refuse archives that would unpack to more than this.
pub const MAX_UNPACKED: u64 = 1 << 30;

/// Why an archive could not be unpacked.
#[derive(Debug)]
pub enum ZipError {
    /// The bytes are not a zip archive this reader understands.
    Format(String),
    /// Writing the unpacked files failed.
    Io(PathBuf, io::Error),
}

impl fmt::Display for ZipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZipError::Format(msg) => write!(f, "invalid zip: {msg}"),
            ZipError::Io(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for ZipError {}

fn bad(msg: impl Into<String>) -> ZipError {
    ZipError::Format(msg.into())
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ZipError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| bad("truncated record"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ZipError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| bad("truncated record"))
}

const EOCD_SIG: u32 = 0x0605_4b50;
const CDH_SIG: u32 = 0x0201_4b50;
const LFH_SIG: u32 = 0x0403_4b50;
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFDIR: u32 = 0o040_000;

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, `/`-separated.
    pub name: String,
    /// Unix mode (type and permission bits) when the archive recorded one.
    pub unix_mode: Option<u32>,
    method: u16,
    flags: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    local_offset: u64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/') || self.unix_mode.is_some_and(|m| m & S_IFMT == S_IFDIR)
    }

    pub fn is_symlink(&self) -> bool {
        self.unix_mode.is_some_and(|m| m & S_IFMT == S_IFLNK)
    }
}

/// Lists the entries of an archive held in memory.
pub fn entries(data: &[u8]) -> Result<Vec<Entry>, ZipError> {
    // The end-of-central-directory record is 22 bytes plus a comment of at
    // most 65535 bytes, at the very end.
    if data.len() < 22 {
        return Err(bad("too short to be a zip archive"));
    }
    let earliest = data.len().saturating_sub(22 + 65535);
    let eocd = (earliest..=data.len() - 22)
        .rev()
        .find(|&i| u32_at(data, i).ok() == Some(EOCD_SIG))
        .ok_or_else(|| bad("no end-of-central-directory record (not a zip file?)"))?;
    if u16_at(data, eocd + 4)? != 0 || u16_at(data, eocd + 6)? != 0 {
        return Err(bad("multi-disk archives are not supported"));
    }
    let count = u16_at(data, eocd + 10)? as usize;
    let cd_size = u32_at(data, eocd + 12)? as usize;
    let cd_offset = u32_at(data, eocd + 16)?;
    if count == 0xffff || cd_offset == 0xffff_ffff {
        return Err(bad("zip64 archives are not supported"));
    }
    let cd_offset = cd_offset as usize;
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > eocd) {
        return Err(bad("central directory out of bounds"));
    }
    let mut out = Vec::with_capacity(count);
    let mut at = cd_offset;
    for _ in 0..count {
        if u32_at(data, at)? != CDH_SIG {
            return Err(bad("bad central directory entry signature"));
        }
        let made_by = u16_at(data, at + 4)?;
        let flags = u16_at(data, at + 8)?;
        let method = u16_at(data, at + 10)?;
        let crc32 = u32_at(data, at + 16)?;
        let compressed_size = u32_at(data, at + 20)?;
        let size = u32_at(data, at + 24)?;
        let name_len = u16_at(data, at + 28)? as usize;
        let extra_len = u16_at(data, at + 30)? as usize;
        let comment_len = u16_at(data, at + 32)? as usize;
        let external = u32_at(data, at + 38)?;
        let local_offset = u32_at(data, at + 42)?;
        if compressed_size == 0xffff_ffff || size == 0xffff_ffff || local_offset == 0xffff_ffff {
            return Err(bad("zip64 entries are not supported"));
        }
        let name = data
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad("truncated entry name"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        // "Version made by" high byte 3 = Unix: the high 16 bits of the
        // external attributes are st_mode.
        let unix_mode = (made_by >> 8 == 3 && external >> 16 != 0).then_some(external >> 16);
        out.push(Entry {
            name,
            unix_mode,
            method,
            flags,
            crc32,
            compressed_size: compressed_size.into(),
            size: size.into(),
            local_offset: local_offset.into(),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// The uncompressed contents of `entry`, checked against its CRC-32.
pub fn read(data: &[u8], entry: &Entry) -> Result<Vec<u8>, ZipError> {
    if entry.flags & 1 != 0 {
        return Err(bad(format!(
            "{}: encrypted entries are not supported",
            entry.name
        )));
    }
    let lfh = usize::try_from(entry.local_offset).map_err(|_| bad("offset out of range"))?;
    if u32_at(data, lfh)? != LFH_SIG {
        return Err(bad(format!("{}: bad local header signature", entry.name)));
    }
    let name_len = u16_at(data, lfh + 26)? as usize;
    let extra_len = u16_at(data, lfh + 28)? as usize;
    let start = lfh + 30 + name_len + extra_len;
    let len = usize::try_from(entry.compressed_size).map_err(|_| bad("size out of range"))?;
    let raw = data
        .get(start..start.saturating_add(len))
        .ok_or_else(|| bad(format!("{}: data out of bounds", entry.name)))?;
    let size = usize::try_from(entry.size).map_err(|_| bad("size out of range"))?;
    let content = match entry.method {
        0 => raw.to_vec(),
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, size).map_err(|e| {
            bad(format!(
                "{}: corrupt deflate data ({:?})",
                entry.name, e.status
            ))
        })?,
        m => {
            return Err(bad(format!(
                "{}: compression method {m} is not supported",
                entry.name
            )))
        }
    };
    if content.len() != size {
        return Err(bad(format!("{}: size mismatch", entry.name)));
    }
    if crc32(&content) != entry.crc32 {
        return Err(bad(format!("{}: CRC-32 mismatch", entry.name)));
    }
    Ok(content)
}

/// The entry's path below `root`, refusing anything that would land outside
/// it (absolute paths, `..`).
fn safe_path(root: &Path, name: &str) -> Result<PathBuf, ZipError> {
    let rel = Path::new(name.trim_end_matches('/'));
    let mut out = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return Err(bad(format!("{name}: path escapes the archive root"))),
        }
    }
    Ok(out)
}

/// Unpacks `data` into the existing directory `root`, applying Unix modes
/// where recorded (files without one get 0644, directories 0755).
/// Symbolic links are created last, so no entry is written through one.
pub fn unpack(data: &[u8], root: &Path) -> Result<(), ZipError> {
    let list = entries(data)?;
    let total: u64 = list.iter().map(|e| e.size).sum();
    if total > MAX_UNPACKED {
        return Err(bad(format!(
            "unpacks to {total} bytes, over the {MAX_UNPACKED}-byte limit"
        )));
    }
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| ZipError::Io(p, e)
    };
    let mut links = Vec::new();
    let mut dirs = Vec::new();
    for entry in &list {
        let path = safe_path(root, &entry.name)?;
        if path == root {
            continue;
        }
        if entry.is_dir() {
            fs::create_dir_all(&path).map_err(io_err(&path))?;
            dirs.push((path, entry.unix_mode.map_or(0o755, |m| m & 0o7777)));
            continue;
        }
        let content = read(data, entry)?;
        if entry.is_symlink() {
            links.push((path, content));
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        fs::write(&path, &content).map_err(io_err(&path))?;
        let mode = entry.unix_mode.map_or(0o644, |m| m & 0o7777);
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
    }
    for (path, target) in links {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let target = String::from_utf8_lossy(&target).into_owned();
        std::os::unix::fs::symlink(&target, &path).map_err(io_err(&path))?;
    }
    // Directory modes last: a read-only directory must not stop its own
    // entries from being written.
    for (path, mode) in dirs.into_iter().rev() {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
    }
    Ok(())
}

/// CRC-32 (IEEE 802.3, reflected), as zip uses.
pub fn crc32(data: &[u8]) -> u32 {
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    }
    static TABLE: [u32; 256] = table();
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Writes a zip archive of stored (uncompressed) entries: `(name, mode,
/// contents)`, with `mode` the full Unix `st_mode`. Enough for tests and for
/// packaging small functions; not a general zip writer.
pub fn write_stored(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, mode, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let len = data.len() as u32;
        let mut common = Vec::new();
        common.extend_from_slice(&20u16.to_le_bytes()); // version needed
        common.extend_from_slice(&0u16.to_le_bytes()); // flags
        common.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        common.extend_from_slice(&0u16.to_le_bytes()); // time
        common.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&len.to_le_bytes());
        common.extend_from_slice(&len.to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(&LFH_SIG.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&CDH_SIG.to_le_bytes());
        central.extend_from_slice(&(0x0300u16 | 20).to_le_bytes()); // made by: Unix
        central.extend_from_slice(&common);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&EOCD_SIG.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn stored_round_trip_with_modes() {
        let zip = write_stored(&[
            ("bootstrap", 0o100755, b"#!/bin/sh\n"),
            ("lib/", 0o040755, b""),
            ("lib/data.txt", 0o100600, b"data"),
            ("link", 0o120777, b"lib/data.txt"),
        ]);
        let list = entries(&zip).unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list[0].unix_mode, Some(0o100755));
        assert!(list[1].is_dir() && list[3].is_symlink());
        let dir = std::env::temp_dir().join(format!("scf-emu-zip-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        unpack(&zip, &dir).unwrap();
        let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("bootstrap"), 0o755);
        assert_eq!(mode("lib/data.txt"), 0o600);
        assert_eq!(fs::read_to_string(dir.join("link")).unwrap(), "data");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deflated_entry() {
        // A deflated entry built by hand around miniz_oxide's compressor.
        let content = b"hello hello hello hello hello".repeat(20);
        let deflated = miniz_oxide::deflate::compress_to_vec(&content, 6);
        let mut zip = write_stored(&[("f", 0o100644, &deflated)]);
        // Patch method (8) and sizes/CRC in both headers.
        let crc = crc32(&content).to_le_bytes();
        let size = (content.len() as u32).to_le_bytes();
        zip[8] = 8;
        zip[14..18].copy_from_slice(&crc);
        zip[22..26].copy_from_slice(&size);
        let cd = zip.len() - 22 - 46 - 1;
        zip[cd + 10] = 8;
        zip[cd + 16..cd + 20].copy_from_slice(&crc);
        zip[cd + 24..cd + 28].copy_from_slice(&size);
        let list = entries(&zip).unwrap();
        assert_eq!(read(&zip, &list[0]).unwrap(), content);
    }

    #[test]
    fn refuses_bad_archives() {
        assert!(entries(b"not a zip at all, just some bytes").is_err());
        let mut zip = write_stored(&[("f", 0o100644, b"abc")]);
        let list = entries(&zip).unwrap();
        zip[30 + 1] ^= 0xff; // corrupt the data
        assert!(read(&zip, &list[0])
            .unwrap_err()
            .to_string()
            .contains("CRC-32"));
        let evil = write_stored(&[("../evil", 0o100644, b"x")]);
        let dir = std::env::temp_dir();
        assert!(unpack(&evil, &dir)
            .unwrap_err()
            .to_string()
            .contains("escapes"));
        let abs = write_stored(&[("/etc/evil", 0o100644, b"x")]);
        assert!(unpack(&abs, &dir)
            .unwrap_err()
            .to_string()
            .contains("escapes"));
    }
}
