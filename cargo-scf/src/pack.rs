//! `cargo scf package`: the scf-bootstrap repository's own packager, which
//! scripts/package runs (hidden from `cargo scf --help`: a user's project
//! has `cargo scf build`). It builds this repository's runtime with native
//! handlers linked in, or a Rust handler crate in its own target directory,
//! or takes a finished binary, and zips it with the rules of
//! [`crate::package`].
//!
//! A handler is named by what it is: `*.c` (C, compiled for musl by the
//! runtime's build.rs against include/scf_bootstrap.h), `*.o` and `*.a`
//! (built for the target's musl), `*.zig` (compiled to an object here with
//! the Zig toolchain), or a directory: a Rust handler crate whose binary is
//! `bootstrap`. Several C, object, archive and Zig handlers may go into one
//! bootstrap (each registers under its own name; _HANDLER picks one).
//! Without a handler, the runtime's built-in echo demo is packaged.

use crate::cargo::Build;
use crate::elf::Arch;
use crate::package::{self, Packing, Platform};
use crate::project::Project;
use crate::zip::Compressor;
use crate::{runtime, toolchain, Fatal, Msg};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository cargo-scf was built from.
fn repository() -> Result<PathBuf, Fatal> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    fs::canonicalize(&root).ok().filter(|r| r.join("Cargo.toml").is_file()).ok_or_else(|| {
        Fatal::new(format!(
            "cargo scf package builds in the scf-bootstrap repository cargo-scf was built from ({}), which is gone; \
             in a project, use cargo scf build",
            root.display()
        ))
    })
}

/// What `cargo scf package` was asked for.
#[derive(Debug, Default, Clone)]
pub struct PackageArgs {
    pub handlers: Vec<PathBuf>,
    pub bootstrap: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub minimal: bool,
    pub pipeline: bool,
    /// More of the runtime's features (`--features`).
    pub features: Vec<String>,
    pub zopfli: bool,
    /// An OCI image archive (`/bootstrap serve`) instead of a zip.
    pub image: bool,
    pub arch: Option<Arch>,
    pub platform: Option<Platform>,
    pub target_dir: Option<PathBuf>,
    pub quiet: bool,
}

/// The runtime's cargo arguments for `platform`, `minimal` or not, with
/// `extra` features: none for its defaults; with platform features (`scf`
/// and `lambda`), the one asked for and, unless minimal, the other
/// defaults.
fn runtime_features(platform: Platform, minimal: bool, pipeline: bool, extra: &[String]) -> Vec<String> {
    let mut features: Vec<String> = Vec::new();
    let mut args = Vec::new();
    // An image's bootstrap (`serve` asked for, by --image) is push mode
    // alone: an image function has no runtime API to pull from, and the
    // pull loop would cost its archive some 13 KB.
    let push_only = extra.iter().any(|f| f == "serve") && runtime::has_feature("serve");
    if runtime::has_feature("scf") && runtime::has_feature("lambda") {
        if !minimal {
            features.extend(
                runtime::default_features().iter().filter(|f| **f != "scf" && **f != "lambda").map(|f| f.to_string()),
            );
        }
        if !push_only {
            features.push(platform.feature().into());
        }
        args.push("--no-default-features".to_string());
    } else if minimal {
        args.push("--no-default-features".into());
        if runtime::has_feature(platform.feature()) {
            features.push(platform.feature().into());
        }
    }
    if pipeline {
        features.push("pipeline".into());
    }
    for f in extra {
        if !features.contains(f) {
            features.push(f.clone());
        }
    }
    if !features.is_empty() {
        args.extend(["--features".to_string(), features.join(",")]);
    }
    args
}

/// Holds `dir`/.build-lock: builds into one target directory write one
/// `bootstrap` path, whatever their handlers.
fn build_lock(dir: &Path) -> Result<fs::File, Fatal> {
    fs::create_dir_all(dir).map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(".build-lock");
    let f = fs::File::create(&path).map_err(|e| Fatal::new(format!("cannot create {}: {e}", path.display())))?;
    f.lock().map_err(|e| Fatal::new(format!("cannot lock {}: {e}", path.display())))?;
    Ok(f)
}

/// Compiles a `.zig` handler to an object for `arch`'s musl under `out`.
fn compile_zig(src: &Path, out: &Path, arch: Arch, abi: &Path) -> Result<PathBuf, Fatal> {
    let dir = out.join(arch.triple());
    fs::create_dir_all(&dir).map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    let stem = src.file_stem().and_then(|s| s.to_str()).unwrap_or("handler");
    let obj = dir.join(format!("{stem}.o"));
    let mut zig = toolchain::zig_command()?;
    let program = zig.remove(0);
    let mut cmd = Command::new(&program);
    cmd.args(&zig)
        .args(["build-obj", "-target", &format!("{}-linux-musl", arch.name())])
        .args(crate::new::ZIG_FLAGS)
        .arg(format!("-femit-bin={}", obj.display()))
        .args(["--dep", "scf_bootstrap"])
        .arg(format!("-Mroot={}", src.display()))
        .arg(format!("-Mscf_bootstrap={}", abi.display()));
    // Zig keeps its caches beside the source unless told otherwise.
    for (var, sub) in [("ZIG_LOCAL_CACHE_DIR", "cache"), ("ZIG_GLOBAL_CACHE_DIR", "global-cache")] {
        if std::env::var_os(var).is_none() {
            cmd.env(var, dir.join(sub));
        }
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(obj),
        Ok(s) => Err(Fatal::new(format!("{program} build-obj {} failed ({s}); its output is above", src.display()))),
        Err(e) => Err(Fatal::new(format!("cannot run the Zig compiler {program}: {e}"))),
    }
}

/// Builds the bootstrap the arguments describe and returns its bytes.
fn build(a: &PackageArgs, arch: Arch, platform: Platform) -> Result<Vec<u8>, Fatal> {
    let cwd = std::env::current_dir().map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    let handlers: Vec<PathBuf> = a.handlers.iter().map(|h| cwd.join(h)).collect();
    let crates: Vec<&PathBuf> = handlers.iter().filter(|h| h.is_dir()).collect();
    if !crates.is_empty() && handlers.len() > 1 {
        return Err(Fatal::new("a Rust handler crate is a bootstrap of its own: package it alone"));
    }
    let remove_libs = [("SCF_HANDLER_LIBS", None)];
    if let [dir] = crates[..] {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(Fatal::new(format!("{} is a directory without a Cargo.toml", dir.display())));
        }
        if a.pipeline {
            return Err(Fatal::new(
                "--pipeline builds this repository's bootstrap; a Rust handler crate enables scf-bootstrap's \
                 feature `pipeline` in its own Cargo.toml",
            ));
        }
        let project = Project::find(Some(&manifest))?;
        let mut args: Vec<OsString> = vec!["--manifest-path".into(), manifest.clone().into()];
        // A crate without platform features builds as it is for its own
        // platform and is refused for the other (feature_args says so).
        let mut features =
            if a.minimal { project.minimal_args(platform) } else { project.feature_args(&[platform])? };
        for f in &a.features {
            features = project.with_feature(features, f).map_err(|()| {
                Fatal::new(format!(
                    "--features {f}: package {} has no `{f}` feature: add {f} = [\"scf-bootstrap/{f}\"] to its \
                     [features]",
                    project.name
                ))
            })?;
        }
        args.extend(features.into_iter().map(OsString::from));
        let target_dir = a.target_dir.clone().unwrap_or_else(|| project.target_dir.clone());
        let _lock = build_lock(&target_dir)?;
        // In the crate's directory, so that its .cargo/config.toml applies
        // (a project made by cargo scf new keeps its link flags there), as
        // `cargo build` there would.
        let built =
            Build { dir, arch, args, target_dir: a.target_dir.as_deref(), env: remove_libs.to_vec(), quiet: a.quiet }
                .run()?;
        return fs::read(&built).map_err(|e| Fatal::new(format!("no bootstrap was built at {}: {e}", built.display())));
    }
    let repo = repository()?;
    let target_dir = match (&a.target_dir, std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty())) {
        (Some(t), _) => cwd.join(t),
        (None, Some(t)) => cwd.join(t),
        (None, None) => repo.join("target"),
    };
    let mut libs = Vec::new();
    for h in &handlers {
        let shown = h.display();
        if !h.exists() {
            return Err(Fatal::new(format!("handler {shown} does not exist")));
        }
        if !h.is_file() {
            return Err(Fatal::new(format!("handler {shown} is not a file")));
        }
        let text = h.to_str().ok_or_else(|| Fatal::new(format!("handler path {shown} is not UTF-8")))?;
        if text.contains(':') {
            return Err(Fatal::new(format!(
                "handler path {shown} contains ':', which SCF_HANDLER_LIBS uses as a separator"
            )));
        }
        match h.extension().and_then(|e| e.to_str()) {
            Some("zig") => {
                let abi = repo.join("include/scf_bootstrap.zig");
                let obj = compile_zig(h, &target_dir.join("zig-handlers"), arch, &abi)?;
                libs.push(obj.display().to_string());
            }
            Some("c" | "o" | "a") => libs.push(text.to_string()),
            _ => {
                return Err(Fatal::new(format!(
                    "handler {shown}: expected a .c, .o, .a or .zig file, or a Rust crate directory"
                )))
            }
        }
    }
    let mut args: Vec<OsString> = ["-p", "scf-bootstrap", "--bin", "bootstrap"].map(OsString::from).to_vec();
    args.extend(runtime_features(platform, a.minimal, a.pipeline, &a.features).into_iter().map(OsString::from));
    let mut env = vec![("CARGO_TARGET_DIR", None)];
    env.push(("SCF_HANDLER_LIBS", (!libs.is_empty()).then(|| libs.join(":").into())));
    let _lock = build_lock(&target_dir)?;
    let built = Build { dir: &repo, arch, args, target_dir: Some(&target_dir), env, quiet: a.quiet }.run()?;
    fs::read(&built).map_err(|e| Fatal::new(format!("no bootstrap was built at {}: {e}", built.display())))
}

pub fn run(a: &PackageArgs, msg: &Msg) -> Result<(), Fatal> {
    let arch = a.arch.unwrap_or(Arch::X86_64);
    let platform = a.platform.unwrap_or(Platform::Scf);
    platform.check_arch(arch, "--target").map_err(Fatal::new)?;
    if a.pipeline && platform == Platform::Lambda {
        return Err(Fatal::new("--pipeline: pipelining is SCF's (Lambda refuses it), not for --platform lambda"));
    }
    if a.image && platform == Platform::Lambda {
        return Err(Fatal::new(
            "--image makes an SCF image function (/bootstrap serve, events pushed to /event-invoke): not for \
             --platform lambda",
        ));
    }
    let default = if a.image { "function-image.tar" } else { "function.zip" };
    let out = a.output.clone().unwrap_or_else(|| PathBuf::from(default));
    let with = if a.zopfli { Compressor::Zopfli } else { Compressor::Zlib };
    let how = Packing { arch, platform, with, msg };
    let write = |data: Vec<u8>, name: &str, built: bool| match a.image {
        true => package::write_image(data, &out, name, &how),
        false => package::write_zip(data, &out, name, built, &how),
    };
    let packaged = if let Some(bin) = &a.bootstrap {
        if !a.handlers.is_empty() || a.minimal || a.pipeline || !a.features.is_empty() {
            return Err(Fatal::new(
                "--bootstrap packages a finished binary: it takes no --handler, --minimal, --pipeline or --features",
            ));
        }
        let data = fs::read(bin).map_err(|_| Fatal::new(format!("no bootstrap at {}", bin.display())))?;
        write(data, &bin.display().to_string(), false).map_err(Fatal::new)?
    } else {
        toolchain::ensure_target(&std::env::current_dir().unwrap_or_else(|_| ".".into()), arch, msg)?;
        toolchain::ensure_link_driver(arch)?;
        // An image's bootstrap serves: the runtime's feature `serve` on top.
        let mut with_serve = a.clone();
        if a.image && !a.features.iter().any(|f| f == "serve") {
            with_serve.features.push("serve".into());
        }
        let data = build(&with_serve, arch, platform)?;
        write(data, "the built bootstrap", true).map_err(Fatal::new)?
    };
    crate::print_sizes(&packaged, &out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's features per platform follow its own table: with
    /// platform features, the other platform's is off; without, the
    /// defaults stand (every build speaks SCF).
    #[test]
    fn runtime_features_follow_the_carried_manifest() {
        let scf = runtime_features(Platform::Scf, false, false, &[]);
        let lambda = runtime_features(Platform::Lambda, false, true, &[]);
        if runtime::has_feature("scf") {
            assert!(scf.contains(&"--no-default-features".to_string()), "{scf:?}");
            let list = scf.last().unwrap();
            assert!(list.split(',').any(|f| f == "scf") && !list.split(',').any(|f| f == "lambda"), "{scf:?}");
            assert!(lambda.last().unwrap().split(',').any(|f| f == "lambda"), "{lambda:?}");
            let image = runtime_features(Platform::Scf, false, false, &["serve".into()]);
            let list = image.last().unwrap();
            assert!(list.split(',').any(|f| f == "serve") && !list.split(',').any(|f| f == "scf"), "{image:?}");
        } else {
            assert!(scf.is_empty(), "{scf:?}");
            assert_eq!(lambda, ["--features", "pipeline"]);
            assert_eq!(runtime_features(Platform::Scf, true, false, &[]), ["--no-default-features"]);
        }
    }
}
