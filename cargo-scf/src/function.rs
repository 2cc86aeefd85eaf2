//! `cargo scf build`, and the build behind `invoke` and `run`: the
//! project's own `cargo build --release` (in its directory and its target
//! directory, once), then the zip by the rules of [`crate::package`], or
//! with `--image` an OCI image archive for an SCF image function: the
//! bootstrap built with the runtime's `serve` feature alone (push mode, no
//! pull loop: [`Project::image_args`]), checked, stripped and seen to
//! serve, as `/bootstrap` of a FROM-scratch image started as `/bootstrap
//! serve` (`scf_emulator::oci`).

use crate::cargo::Build;
use crate::elf::Arch;
use crate::package::{self, Packaged, Packing, Platform};
use crate::project::Project;
use crate::zip::Compressor;
use crate::{runtime, toolchain, Fatal, Msg};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// What `cargo scf build` was asked for.
#[derive(Debug, Default, Clone)]
pub struct BuildArgs {
    pub platform: Option<Platform>,
    pub arch: Option<Arch>,
    pub output: Option<PathBuf>,
    pub zopfli: bool,
    pub image: bool,
    pub manifest_path: Option<PathBuf>,
    pub quiet: bool,
}

/// A built zip (or image archive).
pub struct Built {
    pub project: Project,
    pub zip: PathBuf,
    pub sizes: Packaged,
}

/// The project `manifest_path` names (or the current directory's), with
/// its runtime crate in place when it is the carried one.
pub fn project(manifest_path: Option<&Path>) -> Result<Project, Fatal> {
    // A project whose patch names the cache gets the cache written first:
    // cargo reads the path dependency's manifest even for metadata.
    let manifest = match manifest_path {
        Some(m) => Some(m.to_path_buf()),
        None => find_manifest(),
    };
    if let Some(text) = manifest.and_then(|m| fs::read_to_string(m).ok()) {
        let dir = runtime::unpacked_dir()?;
        if dir.to_str().is_some_and(|d| text.contains(d)) {
            runtime::ensure_unpacked()?;
        }
    }
    Project::find(manifest_path)
}

/// Cargo.toml in the current directory or the nearest one above.
fn find_manifest() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|d| d.join("Cargo.toml")).find(|m| m.is_file())
}

/// The zip's default path: `target/PLATFORM/NAME.zip` (aarch64 ones with
/// `-aarch64`).
pub fn default_zip(project: &Project, platform: Platform, arch: Arch) -> PathBuf {
    let suffix = if arch == Arch::X86_64 { String::new() } else { format!("-{}", arch.name()) };
    project.target_dir.join(platform.feature()).join(format!("{}{suffix}.zip", project.name))
}

/// The image archive's default path: `target/scf/NAME-image.tar`.
pub fn default_image(project: &Project) -> PathBuf {
    project.target_dir.join("scf").join(format!("{}-image.tar", project.name))
}

/// Builds the project for `platforms` (one, or SCF and Lambda together for
/// a local run of a Lambda project) and zips the bootstrap.
pub fn build(a: &BuildArgs, platforms: Option<&[Platform]>, msg: &Msg) -> Result<Built, Fatal> {
    let project = project(a.manifest_path.as_deref())?;
    let arch = a.arch.unwrap_or(Arch::X86_64);
    let platform = a.platform.unwrap_or_else(|| project.default_platform());
    if a.image && platform != Platform::Scf {
        return Err(Fatal::new(
            "--image makes an SCF image function (/bootstrap serve, events pushed to /event-invoke): \
             not for --platform lambda",
        ));
    }
    platform.check_arch(arch, "--arch").map_err(Fatal::new)?;
    let platforms = platforms.unwrap_or(std::slice::from_ref(&platform));
    let features = if a.image {
        project.image_args().map_err(|()| {
            Fatal::new(format!(
                "--image: package {} has no `serve` feature (the runtime's push mode, `bootstrap serve`): \
                 add serve = [\"scf-bootstrap/serve\"] to its [features] (cargo scf new writes it)",
                project.name
            ))
        })?
    } else {
        project.feature_args(platforms)?
    };
    toolchain::ensure_target(&project.dir, arch, msg)?;
    toolchain::ensure_link_driver(arch)?;
    let mut args: Vec<OsString> = vec!["--manifest-path".into(), project.manifest.clone().into()];
    args.extend(features.into_iter().map(OsString::from));
    // The project's .cargo/config.toml names its handler sources; a value
    // inherited from the shell would win over it.
    let env = vec![("SCF_HANDLER_LIBS", None)];
    let built = Build { dir: &project.dir, arch, args, target_dir: None, env, quiet: a.quiet }.run()?;
    let data =
        fs::read(&built).map_err(|e| Fatal::new(format!("no bootstrap was built at {}: {e}", built.display())))?;
    let default = if a.image { default_image(&project) } else { default_zip(&project, platforms[0], arch) };
    let zip = a.output.clone().unwrap_or(default);
    if let Some(dir) = zip.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    let with = if a.zopfli { Compressor::Zopfli } else { Compressor::Zlib };
    let how = Packing { arch, platform: platforms[0], with, msg };
    let sizes = if a.image {
        package::write_image(data, &zip, "the built bootstrap", &how).map_err(Fatal::new)?
    } else {
        package::write_zip(data, &zip, "the built bootstrap", true, &how).map_err(Fatal::new)?
    };
    Ok(Built { project, zip, sizes })
}
