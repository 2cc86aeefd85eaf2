//! `cargo scf invoke` and `cargo scf run`: the project built (as `cargo
//! scf build` builds it), then the zip given to the emulator's command line
//! (`scf_emulator::cli`, the emulator as a library). `run --watch` follows
//! the sources, rebuilds when they change, and the emulator reloads the new
//! zip at the next invocation (a cold start of the new code).
//!
//! The emulator serves SCF's runtime API. A Lambda project is built for the
//! local run with both dialects (the bootstrap chooses SCF's from the
//! emulator's environment): the same handler code, one line says so.

use crate::function::{self, BuildArgs, Built};
use crate::package::Platform;
use crate::project::Project;
use crate::{Fatal, Msg};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Builds the project for a local run; returns the build and the line
/// that names the zip.
fn build_for_emulator(a: &BuildArgs, msg: &Msg) -> Result<Built, Fatal> {
    let project = function::project(a.manifest_path.as_deref())?;
    let platforms: &[Platform] = match project.default_platform() {
        Platform::Scf => &[Platform::Scf],
        Platform::Lambda => {
            msg.say(
                "a Lambda project: built with both dialects for the local run (the emulator speaks SCF's runtime API; \
                 the handler is the same)",
            );
            &[Platform::Scf, Platform::Lambda]
        }
    };
    let mut a = a.clone();
    a.platform = Some(Platform::Scf);
    let built = function::build(&a, Some(platforms), msg)?;
    msg.say(&format!(
        "built {} ({} bytes; bootstrap {} bytes)",
        built.zip.display(),
        built.sizes.zip,
        built.sizes.shipped
    ));
    Ok(built)
}

/// Whether the emulator arguments already name an option.
fn has_option(args: &[OsString], name: &str) -> bool {
    args.iter().any(|a| a.to_str().is_some_and(|a| a == name || a.starts_with(&format!("{name}="))))
}

/// `cargo scf invoke`: `event.json` of the project unless `--event` names
/// other events.
pub fn invoke(a: &BuildArgs, mut emulator: Vec<OsString>, msg: &Msg) -> Result<ExitCode, Fatal> {
    let built = build_for_emulator(a, msg)?;
    if !has_option(&emulator, "--event") {
        let event = built.project.dir.join("event.json");
        if !event.is_file() {
            return Err(Fatal::new(format!(
                "no --event given and {} does not exist: cargo scf invoke --event FILE",
                event.display()
            )));
        }
        emulator.extend(["--event".into(), event.into()]);
    }
    let mut args: Vec<OsString> = vec!["invoke".into(), built.zip.into()];
    args.extend(emulator);
    Ok(scf_emulator::cli::main(args))
}

/// `cargo scf run`: serves the zip until the process is ended; with
/// `watch`, rebuilds it when the sources change.
pub fn run(a: &BuildArgs, watch: bool, mut emulator: Vec<OsString>, msg: &Msg) -> Result<ExitCode, Fatal> {
    let built = build_for_emulator(a, msg)?;
    if watch {
        emulator.push("--watch".into());
        let (a, msg, project) = (a.clone(), msg.clone(), built.project);
        std::thread::spawn(move || follow(&project, &a, &msg));
    }
    let mut args: Vec<OsString> = vec!["run".into(), built.zip.into()];
    args.extend(emulator);
    Ok(scf_emulator::cli::main(args))
}

/// The files a build reads, with their sizes and modification times:
/// Cargo.toml, build.rs, .cargo/config.toml and everything under src/ and
/// any other directory of the project but target/ (C and Zig sources may
/// live beside src/). Cargo.lock is left out: the build itself writes it.
fn sources(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(meta) = e.metadata() else {
                continue;
            };
            if meta.is_dir() {
                let top = d == dir;
                if !(top && (name == "target" || name.starts_with('.') && name != ".cargo")) {
                    todo.push(path);
                }
            } else if !(d == dir && (name == "Cargo.lock" || name.ends_with(".zip"))) {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

/// Polls the project's sources; rebuilds on each change.
fn follow(project: &Project, a: &BuildArgs, msg: &Msg) {
    let mut seen = sources(&project.dir);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = sources(&project.dir);
        if now == seen {
            continue;
        }
        let changed = now
            .iter()
            .find(|f| !seen.contains(f))
            .or_else(|| seen.iter().find(|f| !now.contains(f)))
            .map(|(p, _, _)| p.strip_prefix(&project.dir).unwrap_or(p).display().to_string())
            .unwrap_or_default();
        seen = now;
        msg.say(&format!("{changed} changed: rebuilding"));
        match build_for_emulator(a, msg) {
            Ok(_) => msg.say("rebuilt: the next invocation cold-starts the new code"),
            Err(e) => {
                e.report(msg);
                msg.say("the build failed: still serving the previous code");
            }
        }
        // The build wrote target/ and maybe Cargo.lock, neither followed;
        // an edit made during the build is seen next time round.
    }
}
