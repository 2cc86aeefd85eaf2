//! `cargo scf`: functions for Tencent Cloud SCF (and AWS Lambda) on the
//! scf-bootstrap runtime, from the function's own directory.
//!
//! ```text
//! new ──▶ project ── build ──▶ cargo build --release (the project's own target dir)
//!                                 └─▶ bootstrap ── checks, strip, run once ──▶ zip
//!                    invoke / run ──▶ the same zip ──▶ scf_emulator::cli (the emulator as a library)
//! ```
//!
//! The modules, bottom up:
//! - [`elf`], [`zlib`], [`zip`]: what a file is as `bootstrap`, the
//!   section-header strip, zlib's deflate over its C ABI, the one-member
//!   zip.
//! - [`package`]: the packaging rules (refusals, warnings, the run-once
//!   check of the stripped binary), for every command that writes a zip.
//! - [`runtime`]: the runtime crate cargo-scf carries (`cargo package`'s
//!   files, build.rs) and its copy in a cache outside any checkout.
//! - [`toolchain`], [`cargo`], [`project`]: the musl target, Zig and the
//!   link driver; running cargo (and showing a failed build script's own
//!   stderr); the project as `cargo metadata` describes it.
//! - [`new`], [`function`], [`emulate`], [`pack`]: the commands (`pack` is
//!   the repository's own `package`, which scripts/package runs).

mod cargo;
mod elf;
#[cfg(test)]
mod elf_fixture;
mod emulate;
mod function;
mod names;
mod new;
mod pack;
mod package;
mod project;
mod runtime;
mod toolchain;
mod zip;
mod zlib;

use elf::Arch;
use package::{Packaged, Platform};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where messages go, and who says them (`cargo scf`, or scripts/package
/// for the repository's wrapper).
#[derive(Clone, Debug)]
pub struct Msg {
    prog: String,
}

impl Msg {
    /// A progress line on stderr.
    pub fn say(&self, line: &str) {
        eprintln!("{}: {line}", self.prog);
    }

    pub fn note(&self, line: &str) {
        eprintln!("{}: note: {line}", self.prog);
    }

    pub fn warning(&self, line: &str) {
        eprintln!("{}: warning: {line}", self.prog);
    }

    /// A result line on stdout.
    pub fn out(&self, line: &str) {
        println!("{line}");
    }
}

/// Why a command stopped: one line (none when it was printed already, by
/// cargo or a build script), and the exit status.
#[derive(Debug)]
pub struct Fatal {
    line: Option<String>,
    code: u8,
}

impl Fatal {
    pub fn new(line: impl Into<String>) -> Fatal {
        Fatal { line: Some(line.into()), code: 1 }
    }

    /// A command-line mistake: exit status 2.
    pub fn usage(line: impl Into<String>) -> Fatal {
        Fatal { line: Some(line.into()), code: 2 }
    }

    /// The failure is on stderr already.
    pub fn silent() -> Fatal {
        Fatal { line: None, code: 1 }
    }

    pub fn report(&self, msg: &Msg) {
        if let Some(line) = &self.line {
            eprintln!("{}: error: {line}", msg.prog);
        }
    }
}

/// The sizes of a zip just written, on stdout.
pub fn print_sizes(p: &Packaged, zip: &Path) {
    match p.built {
        Some(built) if built != p.shipped => println!("bootstrap: {} bytes ({built} as built)", p.shipped),
        _ => println!("bootstrap: {} bytes", p.shipped),
    }
    println!("{}: {} bytes", zip.display(), p.zip);
}

const HELP: &str = "\
cargo scf: functions for Tencent Cloud SCF and AWS Lambda on the scf-bootstrap
runtime (a static bootstrap with a handler in Rust, C or Zig), run from the
function's own directory.

Usage: cargo scf COMMAND [OPTIONS]

Commands:
  new PATH    create a function project (Rust, C or Zig; SCF or Lambda)
  build       build the static bootstrap and its zip (target/scf/NAME.zip)
  invoke      build, then invoke the function locally with event.json
  run         build, then serve it locally (POST /invoke, API gateway, SDK)
  deploy      deploy the zip to SCF (create or update, then wait)
  emulator    the SCF emulator's command line, on any zip or directory

  cargo scf new hello --lang c && cd hello && cargo scf invoke

Each command's options: cargo scf COMMAND --help. The guide: docs/cargo-scf.md
in the scf-bootstrap repository.
";

const HELP_NEW: &str = "\
cargo scf new: create a function project in PATH (which must not exist, or be
empty); its last component is the function's name unless --name gives one.

Usage: cargo scf new PATH [OPTIONS]

Options:
  --lang rust|c|zig      the handler's language (default rust)
  --std                  Rust with std and serde_json (a typed event)
  --platform scf|lambda  the platform it targets (default scf); `cargo scf
                         build --platform` can still choose the other
  --name NAME            the function's name (SCF: 2-60 letters, digits, - and
                         _, a letter first; Lambda: 1-64)
  --runtime-path DIR     take the scf-bootstrap crate from DIR
  --runtime-git URL      take the scf-bootstrap crate from a git repository

The project depends on scf-bootstrap by version; until that crate is on
crates.io, its [patch.crates-io] names where it comes from: by default the
copy cargo-scf carries, unpacked in ~/.cache/cargo-scf (CARGO_SCF_CACHE).
It gets a sample event per trigger of the platform in events/, and event.json.
";

const HELP_BUILD: &str = "\
cargo scf build: build the project's static bootstrap (cargo build --release
in its directory) and package it as a zip: `bootstrap` at the root, mode 0755,
the same bytes for the same binary. The binary is checked, stripped of its
section headers and run once before it is packaged.

Usage: cargo scf build [OPTIONS]

Options:
  --platform scf|lambda   the platform (default: the project's)
  --arch x86_64|aarch64   the architecture (default x86_64; aarch64: Lambda)
  -o, --output ZIP        where the zip goes (default target/PLATFORM/NAME.zip,
                          target/lambda/NAME-aarch64.zip for aarch64)
  --zopfli                compress with Zopfli: smaller, slower, still deflate
  --image                 an OCI image archive for an SCF image function
                          instead (target/scf/NAME-image.tar; /bootstrap serve)
  --manifest-path FILE    the project's Cargo.toml (default: found from here)
  -q, --quiet             less of cargo's output

A missing musl target is installed with rustup target add (one line says so).
";

const HELP_INVOKE: &str = "\
cargo scf invoke: build the project (as cargo scf build), start the zip under
the SCF emulator, invoke it with each event in turn (the first cold, the next
warm) and print the Invoke API JSON of each; a one-line summary goes to stderr.

Usage: cargo scf invoke [--event FILE|-]... [OPTIONS]

Options:
  --event FILE|-         the event (default event.json; - reads stdin)
  --pretty | --raw       indented JSON | the function's answer only
  -e, --env KEY=VALUE    an environment variable (repeatable)
  --memory MB            memory size, enforced (default 128)
  --timeout S            invocation timeout (default 3)
  --handler NAME         _HANDLER (default index.main_handler)
  --image                as an SCF image function (cargo scf build --image)
  --manifest-path FILE   the project's Cargo.toml (default: found from here)
  -q, --quiet            less of cargo's output

Any other option of the emulator's invoke goes to it (cargo scf emulator
--help-all).
Exit status: 0 when every InvokeResult is 0, 1 when one failed, 2 when none
could be attempted.
";

const HELP_RUN: &str = "\
cargo scf run: build the project (as cargo scf build) and serve it under the
SCF emulator until interrupted: POST /invoke with the event as the body, the
TencentCloud API 3.0 Invoke (Tencent's SDKs, tccli), and with --apigw every
other request as an API gateway event.

Usage: cargo scf run [OPTIONS]

Options:
  --watch                follow the sources (src/, Cargo.toml, build.rs, ...):
                         rebuild on each change; the next invocation
                         cold-starts the new code
  --apigw                the API gateway trigger
  --listen ADDR          the address to serve (default 127.0.0.1:9001)
  -e, --env KEY=VALUE    an environment variable (repeatable)
  --manifest-path FILE   the project's Cargo.toml (default: found from here)
  -q, --quiet            less of cargo's output, none of the function's

Any other option of the emulator's run goes to it (cargo scf emulator
--help-all).
";

const HELP_EMULATOR: &str = "\
cargo scf emulator: the SCF emulator's own command line, on any function (a
directory or a .zip with `bootstrap` at its root), built by cargo scf or not.

Usage:
  cargo scf emulator invoke FUNCTION --event FILE|- [--event FILE]... [OPTIONS]
  cargo scf emulator run FUNCTION [--listen ADDR] [--apigw] [--watch] [OPTIONS]
  cargo scf emulator --runtime-api-only --port N [--listen ADDR]
      the runtime API alone, on 127.0.0.1:N: start the bootstrap yourself
      (under gdb or strace); events wait until it fetches them

Options (the common ones):
  --handler NAME       _HANDLER (default index.main_handler)
  --memory MB          memory size, enforced (default 128)
  --timeout S          invocation timeout in seconds (default 3)
  -e, --env KEY=VALUE  an environment variable (repeatable)
  --pretty | --raw     invoke: indented JSON | the function's answer only
  --apigw              run: the API gateway trigger

Every option, with its default: cargo scf emulator --help-all.
";

const HELP_PACKAGE: &str = "\
cargo scf package: the scf-bootstrap repository's own packager (scripts/package
runs it): this repository's runtime with native handlers linked in, a Rust
handler crate, or a finished binary, zipped by cargo scf build's rules.

Usage: cargo scf package [--handler PATH]... [-o ZIP] [OPTIONS]
       cargo scf package --bootstrap FILE [-o ZIP] [--target T] [--platform P]

Options:
  --handler PATH      a .c, .o, .a or .zig handler, or a Rust handler crate
                      directory (repeatable; none: the built-in echo demo)
  --bootstrap FILE    package this binary, checked, as it is
  -o, --output ZIP    default function.zip
  --minimal           the smallest runtime (its platform's dialect alone)
  --pipeline          with the runtime's feature `pipeline` (SCF only)
  --features F,...    the runtime's features F too (`resolve`: host names;
                      `lambda` on an SCF build: both dialects)
  --zopfli            compress with Zopfli
  --image             an OCI image instead (function-image.tar, push mode)
  --target T          x86_64-unknown-linux-musl (default) or aarch64-...
  --platform scf|lambda  where the zip goes (SCF: x86_64 only)
  --target-dir DIR    cargo's target directory (default: $CARGO_TARGET_DIR,
                      the repository's target/, or a crate's own)
  -q, --quiet         less of cargo's output
";

/// The options of every command, for "did you mean".
const OPTIONS: &[&str] = &[
    "lang",
    "std",
    "platform",
    "name",
    "runtime-path",
    "runtime-git",
    "arch",
    "output",
    "zopfli",
    "image",
    "manifest-path",
    "quiet",
    "event",
    "watch",
    "apigw",
    "listen",
    "handler",
    "bootstrap",
    "minimal",
    "pipeline",
    "features",
    "target",
    "target-dir",
    "help",
];

fn unknown(opt: &str, cmd: &str) -> Fatal {
    match scf_emulator::cli::closest(opt.trim_start_matches('-'), OPTIONS) {
        Some(c) => Fatal::usage(format!("unknown option {opt}; did you mean --{c}? (cargo scf {cmd} --help)")),
        None => Fatal::usage(format!("unknown option {opt} (cargo scf {cmd} --help)")),
    }
}

fn lex_error(e: lexopt::Error) -> Fatal {
    match e {
        lexopt::Error::MissingValue { option: Some(o) } => Fatal::usage(format!("{o} needs a value")),
        lexopt::Error::UnexpectedValue { option, .. } => Fatal::usage(format!("{option} takes no value")),
        e => Fatal::usage(e.to_string()),
    }
}

fn string(v: OsString, flag: &str) -> Result<String, Fatal> {
    v.into_string().map_err(|v| Fatal::usage(format!("{flag}: not UTF-8: {v:?}")))
}

fn platform(v: &str) -> Result<Platform, Fatal> {
    Platform::from_name(v).ok_or_else(|| Fatal::usage(format!("--platform: expected scf or lambda, got {v:?}")))
}

/// One command-line argument, owned (lexopt's borrows its parser): an
/// option as written (`--name`, `-o`) or a positional value.
enum Arg {
    Opt(String),
    Value(OsString),
}

/// Parses one command's options with `each` (which returns false for an
/// option it does not take); `-h`/`--help` prints `help`. `Ok(false)`: help
/// was shown.
fn parse(
    args: Vec<OsString>,
    cmd: &str,
    help: &str,
    mut each: impl FnMut(&Arg, &mut lexopt::Parser) -> Result<bool, Fatal>,
) -> Result<bool, Fatal> {
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(lex_error)? {
        let arg = match arg {
            lexopt::Arg::Long(l) => Arg::Opt(format!("--{l}")),
            lexopt::Arg::Short(c) => Arg::Opt(format!("-{c}")),
            lexopt::Arg::Value(v) => Arg::Value(v),
        };
        if matches!(&arg, Arg::Opt(o) if o == "-h" || o == "--help") {
            print!("{help}");
            return Ok(false);
        }
        if !each(&arg, &mut p)? {
            return Err(match arg {
                Arg::Opt(o) => unknown(&o, cmd),
                Arg::Value(v) => Fatal::usage(format!("unexpected argument {v:?} (cargo scf {cmd} --help)")),
            });
        }
    }
    Ok(true)
}

fn value(p: &mut lexopt::Parser, flag: &str) -> Result<String, Fatal> {
    string(p.value().map_err(lex_error)?, flag)
}

fn cmd_new(args: Vec<OsString>, msg: &Msg) -> Result<ExitCode, Fatal> {
    use Arg::*;
    let (mut path, mut name, mut lang, mut std, mut plat, mut source) =
        (None, None, new::Lang::Rust, false, Platform::Scf, None);
    let shown = parse(args, "new", HELP_NEW, |arg, p| {
        let o = match arg {
            Value(v) if path.is_none() => {
                path = Some(PathBuf::from(v));
                return Ok(true);
            }
            Value(_) => return Ok(false),
            Opt(o) => o.as_str(),
        };
        match o {
            "--name" => name = Some(value(p, "--name")?),
            "--lang" => {
                let v = value(p, "--lang")?;
                lang = new::Lang::from_name(&v)
                    .ok_or_else(|| Fatal::usage(format!("--lang: expected rust, c or zig, got {v:?}")))?;
            }
            "--std" => std = true,
            "--platform" => plat = platform(&value(p, "--platform")?)?,
            "--runtime-path" | "--runtime-git" => {
                let flag = o;
                if source.is_some() {
                    return Err(Fatal::usage("name one source for scf-bootstrap: --runtime-path or --runtime-git"));
                }
                let v = value(p, flag)?;
                source = Some(if flag == "--runtime-path" { new::Source::Path(v.into()) } else { new::Source::Git(v) });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !shown {
        return Ok(ExitCode::SUCCESS);
    }
    let path = path.ok_or_else(|| Fatal::usage("cargo scf new needs a PATH: cargo scf new hello"))?;
    let a = new::NewArgs { path, name, lang, std, platform: plat, source: source.unwrap_or(new::Source::Carried) };
    new::create(&a, msg)?;
    Ok(ExitCode::SUCCESS)
}

fn arch(v: &str) -> Result<Arch, Fatal> {
    Arch::from_name(v).ok_or_else(|| Fatal::usage(format!("--arch: expected x86_64 or aarch64, got {v:?}")))
}

fn cmd_build(args: Vec<OsString>, msg: &Msg) -> Result<ExitCode, Fatal> {
    use Arg::*;
    let mut a = function::BuildArgs::default();
    let shown = parse(args, "build", HELP_BUILD, |arg, p| {
        let Opt(o) = arg else {
            return Ok(false);
        };
        match o.as_str() {
            "--platform" => a.platform = Some(platform(&value(p, "--platform")?)?),
            "--arch" => a.arch = Some(arch(&value(p, "--arch")?)?),
            "-o" | "--output" => a.output = Some(value(p, "--output")?.into()),
            "--zopfli" => a.zopfli = true,
            "--image" => a.image = true,
            "--manifest-path" => a.manifest_path = Some(value(p, "--manifest-path")?.into()),
            "-q" | "--quiet" => a.quiet = true,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !shown {
        return Ok(ExitCode::SUCCESS);
    }
    let built = function::build(&a, None, msg)?;
    print_sizes(&built.sizes, &built.zip);
    Ok(ExitCode::SUCCESS)
}

/// Splits `invoke`/`run` arguments into the build's and the emulator's:
/// `--manifest-path`, `-q` and (for run) `--watch` are the build's (run's
/// `-q` is the emulator's `--quiet` too), everything else goes to the
/// emulator as it is.
fn split_emulator_args(
    args: Vec<OsString>,
    help: &str,
    run: bool,
) -> Result<Option<(function::BuildArgs, bool, Vec<OsString>)>, Fatal> {
    let mut a = function::BuildArgs::default();
    let (mut watch, mut rest) = (false, Vec::new());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("-h" | "--help") => {
                print!("{help}");
                return Ok(None);
            }
            Some("-q" | "--quiet") => {
                a.quiet = true;
                // And for run, the emulator's own --quiet: the function's
                // output is not copied to stderr.
                if run {
                    rest.push("--quiet".into());
                }
            }
            Some("--watch") if run => watch = true,
            // The image function, built and run as one (the emulator
            // recognises the archive).
            Some("--image") => a.image = true,
            Some("--manifest-path") => {
                let v = it.next().ok_or_else(|| Fatal::usage("--manifest-path needs a value"))?;
                a.manifest_path = Some(v.into());
            }
            Some(s) if s.starts_with("--manifest-path=") => {
                a.manifest_path = Some(s["--manifest-path=".len()..].into())
            }
            _ => rest.push(arg),
        }
    }
    Ok(Some((a, watch, rest)))
}

fn cmd_package(args: Vec<OsString>, msg: &mut Msg) -> Result<ExitCode, Fatal> {
    use Arg::*;
    let mut a = pack::PackageArgs::default();
    let mut prog = None;
    let shown = parse(args, "package", HELP_PACKAGE, |arg, p| {
        let Opt(o) = arg else {
            return Ok(false);
        };
        match o.as_str() {
            "--handler" => a.handlers.push(value(p, "--handler")?.into()),
            "--bootstrap" => a.bootstrap = Some(value(p, "--bootstrap")?.into()),
            "-o" | "--output" => a.output = Some(value(p, "--output")?.into()),
            "--minimal" | "--no-default-features" => a.minimal = true,
            "--pipeline" => a.pipeline = true,
            "--features" => {
                let v = value(p, "--features")?;
                a.features.extend(v.split([',', ' ']).filter(|f| !f.is_empty()).map(String::from));
            }
            "--zopfli" => a.zopfli = true,
            "--image" => a.image = true,
            "--target" => {
                let v = value(p, "--target")?;
                a.arch = Some(Arch::from_triple(&v).ok_or_else(|| {
                    Fatal::usage(format!(
                        "--target: expected x86_64-unknown-linux-musl or aarch64-unknown-linux-musl, got {v:?}"
                    ))
                })?);
            }
            "--platform" => a.platform = Some(platform(&value(p, "--platform")?)?),
            "--target-dir" => a.target_dir = Some(value(p, "--target-dir")?.into()),
            "-q" | "--quiet" => a.quiet = true,
            // Who is speaking, for scripts/package's messages.
            "--as" => prog = Some(value(p, "--as")?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if let Some(prog) = prog {
        msg.prog = prog;
    }
    if !shown {
        return Ok(ExitCode::SUCCESS);
    }
    pack::run(&a, msg)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo scf elfstrip IN OUT`: the section-header strip alone (for
/// scripts/size, which shows what it saves).
fn cmd_elfstrip(args: Vec<OsString>) -> Result<ExitCode, Fatal> {
    let [input, output] = &args[..] else {
        return Err(Fatal::usage("usage: cargo scf elfstrip IN OUT"));
    };
    let data =
        std::fs::read(input).map_err(|e| Fatal::new(format!("cannot read {}: {e}", Path::new(input).display())))?;
    let out = elf::strip_sections(&data)
        .map_err(|why| Fatal::new(format!("{}: not stripped: {why}", Path::new(input).display())))?;
    std::fs::write(output, &out)
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", Path::new(output).display())))?;
    println!("{}: {} bytes ({} fewer)", Path::new(output).display(), out.len(), data.len() - out.len());
    Ok(ExitCode::SUCCESS)
}

/// `cargo scf deploy`: the scf-deploy library, told the project's SCF zip
/// (target/scf/NAME.zip, what `cargo scf build` writes) and its name as the
/// defaults of ZIP and --name. Outside a project both must be given.
fn cmd_deploy(args: Vec<OsString>) -> Result<ExitCode, Fatal> {
    let help = args.iter().any(|a| a == "-h" || a == "--help");
    let zip_given = args.iter().any(|a| a.to_str().is_some_and(|a| a.ends_with(".zip")));
    let project = match function::project(None) {
        Ok(p) => p,
        Err(_) => return Ok(scf_deploy::cli(args, &scf_deploy::Project::default())),
    };
    if project.default_platform() == Platform::Lambda && !help && !zip_given {
        return Err(Fatal::new(format!(
            "cargo scf deploy deploys to SCF, and {} is a Lambda project: its zip (cargo scf build: \
             target/lambda/{}.zip) deploys with aws lambda create-function (see its README.md)",
            project.name, project.name
        )));
    }
    let zip = function::default_zip(&project, Platform::Scf, Arch::X86_64);
    let known = scf_deploy::Project { zip: Some(zip), name: Some(project.name.clone()) };
    Ok(scf_deploy::cli(args, &known))
}

fn dispatch(mut args: Vec<OsString>, msg: &mut Msg) -> Result<ExitCode, Fatal> {
    // cargo runs `cargo-scf scf ARGS` for `cargo scf ARGS`.
    if args.first().is_some_and(|a| a == "scf") {
        args.remove(0);
    }
    if args.is_empty() {
        print!("{HELP}");
        return Ok(ExitCode::from(2));
    }
    let cmd = args.remove(0);
    match cmd.to_str().unwrap_or_default() {
        "-h" | "--help" | "help" => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("cargo-scf {} (scf-bootstrap {})", env!("CARGO_PKG_VERSION"), runtime::VERSION);
            Ok(ExitCode::SUCCESS)
        }
        "new" => cmd_new(args, msg),
        "build" => cmd_build(args, msg),
        "invoke" => match split_emulator_args(args, HELP_INVOKE, false)? {
            Some((a, _, rest)) => emulate::invoke(&a, rest, msg),
            None => Ok(ExitCode::SUCCESS),
        },
        "run" => match split_emulator_args(args, HELP_RUN, true)? {
            Some((a, watch, rest)) => emulate::run(&a, watch, rest, msg),
            None => Ok(ExitCode::SUCCESS),
        },
        "deploy" => cmd_deploy(args),
        "emulator" => match args.first().and_then(|a| a.to_str()) {
            Some("-h" | "--help") => {
                print!("{HELP_EMULATOR}");
                Ok(ExitCode::SUCCESS)
            }
            Some("--help-all") => Ok(scf_emulator::cli::main(vec!["--help".into()])),
            _ => Ok(scf_emulator::cli::main(args)),
        },
        "package" => cmd_package(args, msg),
        "elfstrip" => cmd_elfstrip(args),
        other => {
            let commands = ["new", "build", "invoke", "run", "deploy", "emulator"];
            Err(Fatal::usage(match scf_emulator::cli::closest(other, &commands) {
                Some(c) => format!("unknown command {other:?}; did you mean {c}? (cargo scf --help)"),
                None => format!("unknown command {other:?} (cargo scf --help)"),
            }))
        }
    }
}

fn main() -> ExitCode {
    let mut msg = Msg { prog: "cargo scf".into() };
    match dispatch(std::env::args_os().skip(1).collect(), &mut msg) {
        Ok(code) => code,
        Err(e) => {
            e.report(&msg);
            ExitCode::from(e.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every file under `dir`, recursively.
    pub fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
