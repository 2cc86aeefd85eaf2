//! Unpacking a function's code package with the `zip` crate: entries
//! checked against their CRC-32 by the crate, paths kept inside the target
//! directory (`enclosed_name`), Unix modes applied (what makes `bootstrap`
//! executable), symbolic links created last so no entry is written through
//! one, and a bound on the unpacked size.

use std::fmt;
use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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

fn bad(e: impl fmt::Display) -> ZipError {
    ZipError::Format(e.to_string())
}

/// Unpacks `data` into the existing directory `root`, applying Unix modes
/// where recorded (files without one get 0644, directories 0755).
pub fn unpack(data: &[u8], root: &Path) -> Result<(), ZipError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(bad)?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        total = total.saturating_add(archive.by_index_raw(i).map_err(bad)?.size());
    }
    if total > MAX_UNPACKED {
        return Err(bad(format!(
            "unpacks to {total} bytes, over the {MAX_UNPACKED}-byte limit"
        )));
    }
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| ZipError::Io(p, e)
    };
    let (mut links, mut dirs) = (Vec::new(), Vec::new());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| bad(format!("{name}: path escapes the archive root")))?;
        let path = root.join(rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            fs::create_dir_all(&path).map_err(io_err(&path))?;
            dirs.push((path, mode.map_or(0o755, |m| m & 0o7777)));
            continue;
        }
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        if entry.is_symlink() {
            links.push((path, content));
            continue;
        }
        fs::write(&path, &content).map_err(io_err(&path))?;
        let mode = mode.map_or(0o644, |m| m & 0o7777);
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
    }
    for (path, target) in links {
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

/// Writes a zip archive of stored (uncompressed) entries: `(name, mode,
/// contents)`, with `mode` the full Unix `st_mode` (a directory's name ends
/// in `/`; a symbolic link's contents are its target). For tests and small
/// packages.
pub fn write_stored(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, mode, data) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(mode & 0o7777);
        let done = match mode & 0o170_000 {
            0o040_000 => w.add_directory(*name, opts),
            0o120_000 => w.add_symlink(*name, String::from_utf8_lossy(data), opts),
            _ => w
                .start_file(*name, opts)
                .and_then(|()| Ok(w.write_all(data)?)),
        };
        done.expect("writing to memory");
    }
    w.finish().expect("writing to memory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scf-emu-zip-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn modes_directories_and_links() {
        let zip = write_stored(&[
            ("bootstrap", 0o100755, b"#!/bin/sh\n"),
            ("lib/", 0o040755, b""),
            ("lib/data.txt", 0o100600, b"data"),
            ("link", 0o120777, b"lib/data.txt"),
        ]);
        let dir = scratch("modes");
        unpack(&zip, &dir).unwrap();
        let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("bootstrap"), 0o755);
        assert_eq!(mode("lib/data.txt"), 0o600);
        assert!(fs::symlink_metadata(dir.join("link")).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(dir.join("link")).unwrap(), "data");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_bad_archives() {
        let dir = scratch("bad");
        assert!(unpack(b"not a zip at all, just some bytes", &dir)
            .unwrap_err()
            .to_string()
            .starts_with("invalid zip"));
        let mut zip = write_stored(&[("f", 0o100644, b"abc")]);
        let at = zip.windows(3).position(|w| w == b"abc").unwrap();
        zip[at] = b'x'; // corrupt the data: the CRC no longer matches
        assert!(unpack(&zip, &dir).is_err());
        // The writer cleans names, so the evil ones are patched in.
        let patched = |made: &str, evil: &str| {
            let mut z = write_stored(&[(made, 0o100644, b"x")]);
            for at in 0..z.len() - made.len() {
                if &z[at..at + made.len()] == made.as_bytes() {
                    z[at..at + made.len()].copy_from_slice(evil.as_bytes());
                }
            }
            z
        };
        let e = unpack(&patched("xx/evil", "../evil"), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("../evil: path escapes"), "{e}");
        // An absolute name lands below the root, not at the root of the disk.
        unpack(&patched("ab/scf-emu-evil", "/a/scf-emu-evil"), &dir).unwrap();
        assert!(dir.join("a/scf-emu-evil").is_file());
        fs::remove_dir_all(&dir).unwrap();
    }
}
