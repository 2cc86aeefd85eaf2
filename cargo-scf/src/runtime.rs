//! The runtime crate cargo-scf carries: scf-bootstrap as `cargo package`
//! ships it (build.rs packs it when cargo-scf is built), its version and
//! features, and its copy in a cache outside any checkout.
//!
//! Why a cache and `[patch.crates-io]`: a generated project names the
//! runtime as a published crate would (`scf-bootstrap = "0.1.0"`), so its
//! manifest is already what it will be once the crate is on crates.io.
//! Until then, the project's `[patch.crates-io]` points at the copy
//! unpacked here, which needs neither the network nor a path into the clone
//! cargo-scf was built from (the clone can be deleted after `cargo install`).
//! The copy is rewritten before every build (only files that differ), so it
//! is always what this cargo-scf carries. Deleting the patch section is the
//! whole migration once the crate is published.

use crate::Fatal;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

mod carried {
    include!(concat!(env!("OUT_DIR"), "/runtime.rs"));
}

/// The runtime crate's version (its Cargo.toml), the one projects depend on.
pub const VERSION: &str = carried::VERSION;

/// A file of the packaged crate.
pub fn file(path: &str) -> Option<&'static [u8]> {
    carried::FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

#[cfg(test)]
/// The paths of the packaged crate's files, sorted.
pub fn paths() -> impl Iterator<Item = &'static str> {
    carried::FILES.iter().map(|(p, _)| *p)
}

/// The runtime's features and what each enables.
pub fn features() -> &'static [(&'static str, &'static [&'static str])] {
    carried::FEATURES
}

pub fn has_feature(name: &str) -> bool {
    features().iter().any(|(n, _)| *n == name)
}

/// The runtime's default features.
pub fn default_features() -> &'static [&'static str] {
    features().iter().find(|(n, _)| *n == "default").map_or(&[], |(_, f)| f)
}

/// The directory the cache lives in: `CARGO_SCF_CACHE`, else
/// `$XDG_CACHE_HOME/cargo-scf`, else `~/.cache/cargo-scf`.
pub fn cache_root() -> Result<PathBuf, Fatal> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("CARGO_SCF_CACHE") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(dir.join("cargo-scf"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".cache").join("cargo-scf")),
        None => Err(Fatal::new(
            "HOME is not set: set CARGO_SCF_CACHE to a directory for cargo-scf's copy of the runtime crate",
        )),
    }
}

/// Where the carried crate is unpacked (whether or not it is yet).
pub fn unpacked_dir() -> Result<PathBuf, Fatal> {
    Ok(cache_root()?.join(format!("scf-bootstrap-{VERSION}")))
}

/// Writes the carried crate into the cache and returns its directory.
pub fn ensure_unpacked() -> Result<PathBuf, Fatal> {
    unpack_into(&cache_root()?)
}

/// Writes the carried crate into `root`/scf-bootstrap-VERSION (files that
/// differ, and none that it does not have), under a lock.
fn unpack_into(root: &Path) -> Result<PathBuf, Fatal> {
    let dir = root.join(format!("scf-bootstrap-{VERSION}"));
    let fail = |what: &str, p: &Path, e: std::io::Error| Fatal::new(format!("cannot {what} {}: {e}", p.display()));
    fs::create_dir_all(&dir).map_err(|e| fail("create", &dir, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = fs::File::create(&lock_path).map_err(|e| fail("create", &lock_path, e))?;
    lock.lock().map_err(|e| fail("lock", &lock_path, e))?;
    for (rel, bytes) in carried::FILES {
        let path = dir.join(rel);
        if fs::read(&path).is_ok_and(|have| have == *bytes) {
            continue;
        }
        let parent = path.parent().expect("a file in the crate has a parent");
        fs::create_dir_all(parent).map_err(|e| fail("create", parent, e))?;
        let tmp = path.with_extension("cargo-scf-tmp");
        fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|e| fail("write", &path, e))?;
    }
    remove_others(&dir, &dir)?;
    Ok(dir)
}

/// Removes the files under `dir` that the carried crate does not have
/// (left by an earlier cargo-scf of the same version).
fn remove_others(root: &Path, dir: &Path) -> Result<(), Fatal> {
    let entries = fs::read_dir(dir).map_err(|e| Fatal::new(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_others(root, &path)?;
            if fs::read_dir(&path).is_ok_and(|mut rd| rd.next().is_none()) {
                let _ = fs::remove_dir(&path);
            }
            continue;
        }
        let rel = path.strip_prefix(root).ok().and_then(|r| r.to_str()).unwrap_or_default();
        // Cargo writes nothing into a path dependency; anything else is ours.
        if file(rel).is_none() {
            fs::remove_file(&path).map_err(|e| Fatal::new(format!("cannot remove {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// A section of a TOML file's text, verbatim with its comments: the line
/// `[header]`, the comment lines just above it, and what follows it up to
/// the next header, without the trailing comments and blank lines (those
/// introduce the next section).
pub fn toml_section(text: &str, header: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.trim() == format!("[{header}]"))?;
    let mut start = at;
    while start > 0 && lines[start - 1].trim_start().starts_with('#') {
        start -= 1;
    }
    let mut end =
        lines[at + 1..].iter().position(|l| l.trim_start().starts_with('[')).map_or(lines.len(), |n| at + 1 + n);
    while end > at + 1 && (lines[end - 1].trim().is_empty() || lines[end - 1].trim_start().starts_with('#')) {
        end -= 1;
    }
    Some(lines[start..end].join("\n") + "\n")
}

/// The runtime's `.cargo/config.toml` section for `triple` (its rustflags
/// and, for aarch64, the linker): what no dependency can set for the
/// binary that links it.
pub fn target_config(triple: &str) -> Option<String> {
    let text = std::str::from_utf8(file(".cargo/config.toml")?).ok()?;
    toml_section(text, &format!("target.{triple}"))
}

/// The runtime's `[profile.NAME]` section (from Cargo.toml.orig, the
/// manifest as written, with its comments): profiles are taken from the
/// workspace being built, never from a dependency.
pub fn profile(name: &str) -> Option<String> {
    let text = std::str::from_utf8(file("Cargo.toml.orig")?).ok()?;
    toml_section(text, &format!("profile.{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_crate_is_what_a_handler_link_needs_and_nothing_else() {
        for need in [
            "Cargo.toml",
            "Cargo.toml.orig",
            "build.rs",
            "src/lib.rs",
            "src/main.rs",
            "include/scf_bootstrap.h",
            "include/scf_bootstrap.zig",
            ".cargo/config.toml",
        ] {
            assert!(file(need).is_some(), "{need} is not in the packaged crate");
        }
        for path in paths() {
            for not in ["tests/", "bench/", "scripts/", "deploy/", "emulator/", "fuzz/", "examples/", "cargo-scf/"] {
                assert!(!path.starts_with(not), "{path} is packaged");
            }
        }
        assert!(file(".cargo_vcs_info.json").is_none(), "the commit is not carried");
        let manifest = std::str::from_utf8(file("Cargo.toml.orig").unwrap()).unwrap();
        assert!(manifest.contains(&format!("\nversion = \"{VERSION}\"\n")), "VERSION is the manifest's");
        assert!(default_features().iter().all(|f| has_feature(f)));
    }

    #[test]
    fn a_toml_section_keeps_its_comments_and_leaves_the_next_one_s() {
        let text = "# one\n[a]\nx = 1 # why\n\n# about b\n[b]\ny = [\n  \"z\",\n]\n";
        assert_eq!(toml_section(text, "a").unwrap(), "# one\n[a]\nx = 1 # why\n");
        assert_eq!(toml_section(text, "b").unwrap(), "# about b\n[b]\ny = [\n  \"z\",\n]\n");
        assert_eq!(toml_section(text, "c"), None);
        let x86 = target_config("x86_64-unknown-linux-musl").unwrap();
        assert!(x86.contains("relocation-model=static") && !x86.contains("aarch64"), "{x86}");
        let arm = target_config("aarch64-unknown-linux-musl").unwrap();
        assert!(arm.contains("linker = \"aarch64-linux-gnu-gcc\""), "{arm}");
        let release = profile("release").unwrap();
        assert!(release.contains("panic = \"abort\"") && release.contains("lto = true"), "{release}");
        assert!(!release.contains("[profile.dev]"), "{release}");
    }

    #[test]
    fn the_cache_is_rewritten_to_what_cargo_scf_carries() {
        let tmp = scf_emulator::code::TempDir::new("cargo-scf-cache-test").unwrap();
        let dir = tmp.path().join(format!("scf-bootstrap-{VERSION}"));
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/lib.rs"), "stale").unwrap();
        fs::write(dir.join("src/gone.rs"), "not in the crate").unwrap();
        let got = unpack_into(tmp.path()).unwrap();
        assert_eq!(got, dir);
        assert!(fs::read(dir.join("src/lib.rs")).unwrap() == file("src/lib.rs").unwrap());
        assert!(!dir.join("src/gone.rs").exists());
        assert_eq!(crate::tests::files_under(&dir).len(), paths().count());
    }
}
