//! Packs the runtime crate, scf-bootstrap, the way `cargo package` ships it,
//! so that cargo-scf carries it: `cargo package --no-verify` on the
//! repository this crate sits in (its root manifest's `include` list says
//! what goes in), the .crate unpacked into OUT_DIR, and `runtime.rs`
//! generated there with every file as `include_bytes!`, the crate's version
//! and its features (read from the packaged manifest, so nothing is typed
//! twice). `cargo scf` writes those files to a cache outside any checkout,
//! where generated projects reach the crate with `[patch.crates-io]` until
//! it is published (src/runtime.rs, docs/cargo-scf.md).
//!
//! `.cargo_vcs_info.json` (the commit the crate was packed from) is left
//! out: it changes with every commit, and a changed file in a path
//! dependency rebuilds it in every project.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = here.parent().expect("cargo-scf's parent directory").to_path_buf();
    let manifest = root.join("Cargo.toml");
    let is_runtime = fs::read_to_string(&manifest).is_ok_and(|m| m.contains("\nname = \"scf-bootstrap\"\n"));
    if !is_runtime {
        panic!(
            "cargo-scf is built inside the scf-bootstrap repository (it packs the runtime crate from {}); \
             until the runtime is published, install it with `cargo install --locked --path cargo-scf` from a clone",
            root.display()
        );
    }
    for path in ["Cargo.toml", "Cargo.lock", "build.rs", "src", "include", ".cargo/config.toml", "README.md"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let crate_file = pack(&root, &out);
    let unpacked = out.join("runtime");
    let _ = fs::remove_dir_all(&unpacked);
    let files = unpack(&crate_file, &unpacked);
    let normalized = fs::read_to_string(unpacked.join("Cargo.toml")).expect("the packaged Cargo.toml");
    let manifest: toml::Table = normalized.parse().expect("the packaged Cargo.toml parses");
    let version = manifest["package"]["version"].as_str().expect("package.version");
    let mut rs = String::new();
    writeln!(rs, "/// The version of the runtime crate cargo-scf carries.").unwrap();
    writeln!(rs, "pub const VERSION: &str = {version:?};").unwrap();
    writeln!(rs, "/// Its files as `cargo package` ships them (path, bytes).").unwrap();
    writeln!(rs, "pub const FILES: &[(&str, &[u8])] = &[").unwrap();
    for rel in &files {
        let abs = unpacked.join(rel);
        writeln!(rs, "    ({rel:?}, include_bytes!({:?})),", abs.display().to_string()).unwrap();
    }
    writeln!(rs, "];").unwrap();
    writeln!(rs, "/// Its cargo features, each with what it enables (`default` among them).").unwrap();
    writeln!(rs, "pub const FEATURES: &[(&str, &[&str])] = &[").unwrap();
    if let Some(features) = manifest.get("features").and_then(|f| f.as_table()) {
        for (name, implied) in features {
            let implied: Vec<&str> =
                implied.as_array().expect("a feature's list").iter().filter_map(|v| v.as_str()).collect();
            writeln!(rs, "    ({name:?}, &{implied:?}),").unwrap();
        }
    }
    writeln!(rs, "];").unwrap();
    fs::write(out.join("runtime.rs"), rs).expect("write runtime.rs");
}

/// Runs `cargo package` for the runtime and returns the .crate it wrote.
fn pack(root: &Path, out: &Path) -> PathBuf {
    let target_dir = out.join("package-target");
    let _ = fs::remove_dir_all(target_dir.join("package"));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let run = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(root)
            .args(["package", "--no-verify", "--allow-dirty", "--quiet", "-p", "scf-bootstrap", "--target-dir"])
            .arg(&target_dir);
        if offline {
            cmd.arg("--offline");
        }
        // Settings of the build that runs this script, not of the packing.
        for var in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "CARGO_MAKEFLAGS"]
        {
            cmd.env_remove(var);
        }
        cmd.output().expect("run cargo package")
    };
    // Offline first: the runtime's few dependencies are already known to
    // the workspace that is building cargo-scf.
    let mut done = run(true);
    if !done.status.success() {
        done = run(false);
    }
    if !done.status.success() {
        panic!("cargo package -p scf-bootstrap failed:\n{}", String::from_utf8_lossy(&done.stderr));
    }
    let dir = target_dir.join("package");
    let crates: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("cargo package's output directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "crate"))
        .collect();
    match &crates[..] {
        [one] => one.clone(),
        _ => panic!("expected one .crate in {}, found {crates:?}", dir.display()),
    }
}

/// Unpacks the .crate into `dest` (without its top directory) and returns
/// the relative paths written, sorted.
fn unpack(crate_file: &Path, dest: &Path) -> Vec<String> {
    let gz = fs::File::open(crate_file).expect("open the .crate");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut files = Vec::new();
    for entry in archive.entries().expect("read the .crate") {
        let mut entry = entry.expect("a .crate entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().expect("an entry's path").into_owned();
        let rel: PathBuf = path.components().skip(1).collect();
        let rel = rel.to_str().expect("UTF-8 paths in the crate").to_string();
        if rel == ".cargo_vcs_info.json" {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read an entry");
        let to = dest.join(&rel);
        fs::create_dir_all(to.parent().expect("a parent")).expect("create a directory");
        fs::write(&to, bytes).expect("write an unpacked file");
        files.push(rel);
    }
    files.sort();
    files
}
