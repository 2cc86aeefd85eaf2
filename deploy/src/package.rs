//! The function zip: read once, checked against what SCF needs to start
//! it, and against what one API request can carry. The tests are
//! `deploy/tests/checks.rs`.

use crate::bootstrap::{self, Arch};
use std::io::{Cursor, Read};
use std::path::Path;
use zip::System;

/// TencentCloud API 3.0 takes a `POST` signed with TC3-HMAC-SHA256 of at
/// most 10 MB ("POST 请求使用签名方法 v3（TC3-HMAC-SHA256）时最大支持10MB",
/// the API 3.0 request structure, cloud.tencent.com/document/product/1278/46710).
/// The zip travels in the request as base64, so this bounds the zip to
/// about 7.5 MB, well below what SCF's own parameter docs allow for
/// `ZipFile` (CreateFunction: 50 MB; UpdateFunctionCode: 20 MB; SDK doc):
/// beyond it, upload the zip to COS and name it instead (not done here).
/// MB read as MiB (the page does not say which).
pub const REQUEST_MAX: usize = 10 << 20;

/// The largest `bootstrap` read out of a zip (a bound on a deflate bomb;
/// the emulator's unpacker stops at the same).
const BOOTSTRAP_READ_MAX: u64 = 1 << 30;

/// A zip that passed the checks.
#[derive(Debug)]
pub struct Package {
    /// The whole file, as it is sent.
    pub bytes: Vec<u8>,
    /// One-line warnings: what starts on SCF only if its image helps.
    pub warnings: Vec<String>,
}

/// Reads the zip at `path` and checks what SCF needs to start it: a
/// `bootstrap` at its root, a regular file with mode 0755 in the entry's
/// Unix attributes, that is an executable for `arch` or a `#!` script
/// ([`bootstrap::check`]). `Err` is one line naming the file and the fault.
pub fn load(path: &Path, arch: Arch) -> Result<Package, String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {}", crate::io_reason(&e)))?;
    from_bytes(bytes, &shown, arch)
}

/// [`load`]'s checks on a zip already in memory, `name` being how messages
/// call it.
pub fn from_bytes(bytes: Vec<u8>, name: &str, arch: Arch) -> Result<Package, String> {
    let warnings = check(&bytes, arch).map_err(|e| format!("{name}{e}"))?;
    Ok(Package { bytes, warnings })
}

/// [`load`]'s checks on the bytes: `Err` is the fault as the tail of a
/// message that starts with the file's name (" is not a zip file", ":
/// `bootstrap` has mode 0644...").
fn check(bytes: &[u8], arch: Arch) -> Result<Vec<String>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| " is not a zip file".to_string())?;
    let Some(index) = zip.index_for_name("bootstrap") else {
        let nested =
            zip.file_names().filter_map(Result::ok).find(|n| n.ends_with("/bootstrap")).map(|n| n.into_owned());
        let hint = nested
            .map(|n| format!(" (there is {n:?}: zip the directory's contents, not the directory)"))
            .unwrap_or_default();
        return Err(format!(" has no `bootstrap` at its root{hint}"));
    };
    let mut entry = zip.by_index(index).map_err(|e| format!(": cannot read `bootstrap`: {e}"))?;
    let mode = entry.external_attributes() >> 16;
    if entry.system() != System::Unix || mode == 0 {
        return Err(": `bootstrap` has no Unix mode (zipped on a system without one); SCF needs 0755".into());
    }
    if mode & 0o170_000 != 0o100_000 {
        return Err(format!(": `bootstrap` is not a regular file (mode {mode:o})"));
    }
    if mode & 0o755 != 0o755 {
        return Err(format!(": `bootstrap` has mode {:04o}; SCF needs 0755 (rwxr-xr-x)", mode & 0o7777));
    }
    if entry.size() > BOOTSTRAP_READ_MAX {
        return Err(format!(": `bootstrap` unpacks to {} bytes, more than this tool reads", entry.size()));
    }
    let mut content = Vec::new();
    (&mut entry)
        .take(BOOTSTRAP_READ_MAX)
        .read_to_end(&mut content)
        .map_err(|e| format!(": cannot read `bootstrap`: {e}"))?;
    let warning = bootstrap::check(&content, "`bootstrap`", arch, "SCF").map_err(|e| format!(": {e}"))?;
    Ok(warning.into_iter().collect())
}
