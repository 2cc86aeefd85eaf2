//! `scf-deploy`: deploys a Tencent Cloud SCF Custom Runtime function zip,
//! `cargo scf deploy`'s library. One binary does it all: no Python, no
//! SDK, no CLI to install.
//!
//! ```text
//! settings ─ check ─┐                  (nothing is sent until all pass)
//! zip ───── check ──┴─ Plan ─┬─ --dry-run / --print-request: JSON on stdout
//!                            └─ GetFunction ─┬─ none:   CreateFunction ──────────────── wait Active
//!                                            └─ exists: wait Active ─ UpdateFunctionCode ─ wait Active
//!                                                       ─ UpdateFunctionConfiguration ── wait Active
//! ```
//!
//! The crate is layered, bottom up:
//!
//! - [`settings`]: the function's settings, their defaults, and the
//!   documented ranges they are checked against (each figure's source
//!   beside it).
//! - [`bootstrap`], [`package`]: what SCF would make of the zip's
//!   `bootstrap` (an ELF for the machine, static or not, or a script), and
//!   the zip itself (entry at the root, mode 0755, what one request carries).
//! - [`requests`]: the API's JSON parameters for each action, and the dry run.
//! - [`tc3`]: TencentCloud API 3.0's TC3-HMAC-SHA256 signature, pure, and
//!   checked byte for byte against Tencent's Python SDK by
//!   `deploy/tests/sdk.rs`.
//! - [`api`]: the signed `POST`s over HTTPS (ureq, rustls) and API 3.0's
//!   answers and errors.
//! - [`deploy`]: create or update, then wait until `Active`, against any
//!   [`api::Scf`].
//! - [`command`]: the command line; [`cli()`] is its entry point.
//!
//! What a deployment does not create (triggers, a role, layers...) is said
//! by `--help` and after each deployment: [`command::NOT_CREATED`].
#![deny(unsafe_code)]

pub mod api;
pub mod bootstrap;
pub mod command;
pub mod deploy;
pub mod package;
pub mod requests;
pub mod settings;
pub mod tc3;

pub use settings::function_name_problem;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// What the calling tool knows about the function's project: the defaults
/// of `ZIP` and `--name`. `Project::default()` knows nothing, so both must
/// be given (the `scf-deploy` binary's case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// The zip `cargo scf build` writes for SCF; deployed when no ZIP is
    /// given (a missing file is one line naming `cargo scf build`).
    pub zip: Option<PathBuf>,
    /// The function's name (a project's package name is its function's);
    /// used when no `--name` is given.
    pub name: Option<String>,
}

/// `cargo scf deploy`: `args` are the arguments after `deploy` (`[ZIP]
/// [--name NAME] [OPTIONS]`, see `--help`), `project` what cargo-scf knows
/// of the project (the zip it builds, the function's name), shown as the
/// defaults in `--help`. A ZIP given as an argument is taken as given
/// (relative to the current directory). Reads the credentials from the
/// environment (`TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`,
/// `TENCENTCLOUD_SESSION_TOKEN`) and nowhere else, prints progress and
/// results on stdout and one line per warning or error on stderr, prefixed
/// `cargo scf deploy:`. Exit status 0 done, 1 refused or failed, 2 a
/// command line that could not be read.
pub fn cli(args: Vec<OsString>, project: &Project) -> ExitCode {
    run_as("cargo scf deploy", args, project)
}

/// [`cli()`] with another command name in its messages and help (the
/// `scf-deploy` binary's).
pub fn run_as(prog: &str, args: Vec<OsString>, project: &Project) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let status = command::run(prog, args, project, command::Io { out: &mut out, err: &mut err, env: &env });
    ExitCode::from(status)
}

/// An I/O error's reason in a few words, without "(os error N)".
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        ConnectionRefused => "connection refused".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}
