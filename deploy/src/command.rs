//! The command line of `cargo scf deploy` (and of the `scf-deploy`
//! binary): arguments, help, and the run from zip to `Active`.

use crate::api::{Client, Endpoint, DEFAULT_ENDPOINT};
use crate::bootstrap::Arch;
use crate::deploy::{Deployer, RealClock};
use crate::requests::{Action, Plan};
use crate::settings::{
    Settings, DEFAULTS, DESCRIPTION_MAX, INIT_TIMEOUT_RANGE, MEMORY_MAX, MEMORY_MIN, MEMORY_STEP, TIMEOUT_RANGE,
};
use crate::tc3::{Credentials, SECRET_ID_VAR, SECRET_KEY_VAR, TOKEN_VAR};
use crate::{package, Project};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long each wait for `Active` may take unless `--wait` says.
const DEFAULT_WAIT_S: u32 = 300;

/// What a deployment leaves alone: said by `--help` and after deploying.
pub const NOT_CREATED: &str = "Not created or changed: triggers (API gateway, timer, COS...), the \
execution role, layers, VPC, environment variables, logging: scf-bootstrap docs/deploy.md";

/// Every long option, for "did you mean" and the help test.
pub const OPTIONS: &[&str] = &[
    "name",
    "region",
    "namespace",
    "handler",
    "memory",
    "timeout",
    "init-timeout",
    "description",
    "wait",
    "endpoint",
    "dry-run",
    "print-request",
    "help",
];

/// `path` as the user would type it from the current directory.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd).unwrap_or(path).display().to_string()
}

/// The help text of `prog` (`cargo scf deploy`) for `project`, every
/// default in it.
pub fn help(prog: &str, project: &Project) -> String {
    let d = DEFAULTS;
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    let (usage_zip, zip) = match &project.zip {
        Some(z) => ("[ZIP]", format!("default {}, from `cargo scf build`", shown(z))),
        None => ("ZIP", "the function zip (required)".to_string()),
    };
    let (usage_name, name) = match &project.name {
        Some(n) => ("[--name NAME]", format!("FunctionName, default {n} (the package's)")),
        None => ("--name NAME", "FunctionName (required)".to_string()),
    };
    let keys = format!(
        "Keys from the environment only: {SECRET_ID_VAR}, {SECRET_KEY_VAR}, and {TOKEN_VAR} for temporary keys."
    );
    // At most 24 lines (one screen): the name's rules, the reasons for the
    // defaults and the other ways to deploy are in docs/deploy.md.
    format!(
        "\
Deploy a zip as an SCF Custom Runtime function: check, create or update, wait.

Usage: {prog} {usage_zip} {usage_name} [OPTIONS]

  ZIP                 {zip}
  --name NAME         {name}
  --region REGION     default {region}
  --namespace NS      default {namespace}
  --handler F.FUNC    default {handler} (FUNC picks the linked handler)
  --memory MB         MemorySize: {MEMORY_MIN}, or {MEMORY_STEP}-{MEMORY_MAX} in steps of {MEMORY_STEP}; default {memory}
  --timeout S         Timeout: {t0}-{t1} s; default {timeout}
  --init-timeout S    InitTimeout: {i0}-{i1} s; default {init}
  --description TEXT  up to {DESCRIPTION_MAX} chars; default \"{description}\"
  --wait S            how long each step may take to be Active; default {DEFAULT_WAIT_S}
  --endpoint URL      default {DEFAULT_ENDPOINT}
  --dry-run           print every request as JSON; send nothing (no keys needed)
  --print-request A   {actions}
  -h, --help          this text

{keys}
{not_created}
",
        region = d.region,
        namespace = d.namespace,
        handler = d.handler,
        memory = d.memory,
        t0 = TIMEOUT_RANGE.0,
        t1 = TIMEOUT_RANGE.1,
        timeout = d.timeout,
        i0 = INIT_TIMEOUT_RANGE.0,
        i1 = INIT_TIMEOUT_RANGE.1,
        init = d.init_timeout,
        description = d.description,
        zip = wrap(&zip, 80, 22),
        name = wrap(&name, 80, 22),
        actions = wrap(&format!("request A whole, for tccli: {}", actions.join(", ")), 80, 22),
        keys = wrap(&keys, 80, 0),
        not_created = wrap(NOT_CREATED, 80, 0),
    )
}

/// `text` broken at spaces into lines of at most `width` characters, the
/// first starting at column `indent` (after what the caller printed), the
/// others indented to it.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// A command line that could not be read: exit status 2.
struct Usage(String);

impl From<lexopt::Error> for Usage {
    fn from(e: lexopt::Error) -> Usage {
        Usage(e.to_string())
    }
}

/// The parsed command line.
struct Args {
    zip: Option<PathBuf>,
    name: Option<String>,
    region: String,
    namespace: String,
    handler: String,
    memory: u32,
    timeout: u32,
    init_timeout: u32,
    description: String,
    wait: Duration,
    endpoint: String,
    dry_run: bool,
    print_request: Option<Action>,
    help: bool,
}

fn text(flag: &str, v: OsString) -> Result<String, Usage> {
    v.into_string().map_err(|v| Usage(format!("--{flag} {v:?}: not valid UTF-8")))
}

fn whole(flag: &str, unit: &str, v: OsString) -> Result<u32, Usage> {
    let v = text(flag, v)?;
    v.parse().map_err(|_| Usage(format!("--{flag}: expected a whole number of {unit}, got {v:?}")))
}

fn parse(args: Vec<OsString>) -> Result<Args, Usage> {
    use lexopt::Arg::{Long, Short, Value};
    let d = DEFAULTS;
    let mut a = Args {
        zip: None,
        name: None,
        region: d.region.into(),
        namespace: d.namespace.into(),
        handler: d.handler.into(),
        memory: d.memory,
        timeout: d.timeout,
        init_timeout: d.init_timeout,
        description: d.description.into(),
        wait: Duration::from_secs(DEFAULT_WAIT_S.into()),
        endpoint: DEFAULT_ENDPOINT.into(),
        dry_run: false,
        print_request: None,
        help: false,
    };
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next()? {
        match arg {
            Short('h') | Long("help") => a.help = true,
            Long("name") => a.name = Some(text("name", p.value()?)?),
            Long("region") => a.region = text("region", p.value()?)?,
            Long("namespace") => a.namespace = text("namespace", p.value()?)?,
            Long("handler") => a.handler = text("handler", p.value()?)?,
            Long("memory") => a.memory = whole("memory", "MB", p.value()?)?,
            Long("timeout") => a.timeout = whole("timeout", "seconds", p.value()?)?,
            Long("init-timeout") => a.init_timeout = whole("init-timeout", "seconds", p.value()?)?,
            Long("description") => a.description = text("description", p.value()?)?,
            Long("endpoint") => a.endpoint = text("endpoint", p.value()?)?,
            Long("dry-run") => a.dry_run = true,
            Long("wait") => {
                let v = text("wait", p.value()?)?;
                a.wait = match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s <= 86_400.0 => Duration::from_secs_f64(s),
                    _ => return Err(Usage(format!("--wait: expected a number of seconds up to 86400, got {v:?}"))),
                };
            }
            Long("print-request") => {
                let v = text("print-request", p.value()?)?;
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                a.print_request = Some(
                    Action::from_name(&v)
                        .ok_or_else(|| Usage(format!("--print-request {v:?}: one of {}", names.join(", "))))?,
                );
            }
            Value(v) if a.zip.is_none() => a.zip = Some(PathBuf::from(v)),
            Value(v) => return Err(Usage(format!("unexpected argument {v:?}: one ZIP at most"))),
            Long(other) => {
                let near = OPTIONS.iter().copied().min_by_key(|o| strsim::levenshtein(o, other));
                let hint = near
                    .filter(|o| strsim::levenshtein(o, other) <= 3)
                    .map(|o| format!(" (did you mean --{o}?)"))
                    .unwrap_or_default();
                return Err(Usage(format!("unknown option --{other}{hint}")));
            }
            Short(c) => return Err(Usage(format!("unknown option -{c}"))),
        }
    }
    Ok(a)
}

/// Where a run's output goes, and how it reads the environment.
pub(crate) struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// The whole command: `prog` names it in messages. The exit status: 0
/// done, 1 refused or failed, 2 a command line that could not be read.
pub(crate) fn run(prog: &str, args: Vec<OsString>, project: &Project, io: Io<'_>) -> u8 {
    let Io { out, err, env } = io;
    let a = match parse(args) {
        Ok(a) => a,
        Err(Usage(e)) => {
            let _ = writeln!(err, "{prog}: error: {e} (see --help)");
            return 2;
        }
    };
    if a.help {
        let _ = out.write_all(help(prog, project).as_bytes());
        return 0;
    }
    let Some(name) = a.name.as_deref().or(project.name.as_deref()) else {
        let _ = writeln!(err, "{prog}: error: --name is required: the function's name on SCF (see --help)");
        return 2;
    };
    let zip = match (&a.zip, &project.zip) {
        (Some(given), _) => given.clone(),
        (None, Some(built)) if built.exists() => built.clone(),
        (None, Some(built)) => {
            let _ = writeln!(
                err,
                "{prog}: error: no zip at {}: build it with `cargo scf build`, or name one: {prog} ZIP",
                shown(built)
            );
            return 1;
        }
        (None, None) => {
            let _ = writeln!(err, "{prog}: error: ZIP is required: the function zip to deploy (see --help)");
            return 2;
        }
    };
    match deploy(prog, &a, name, &zip, out, err, env) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "{prog}: error: {e}");
            1
        }
    }
}

fn deploy(
    prog: &str,
    a: &Args,
    name: &str,
    zip_path: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let settings = Settings {
        name,
        region: &a.region,
        namespace: &a.namespace,
        handler: &a.handler,
        memory: a.memory,
        timeout: a.timeout,
        init_timeout: a.init_timeout,
        description: &a.description,
    };
    settings.check()?;
    for w in settings.warnings() {
        let _ = writeln!(err, "{prog}: warning: {w}");
    }
    let endpoint = Endpoint::parse(&a.endpoint)?;
    // SCF's Custom Runtime executes x86_64 code packages.
    let zip = package::load(zip_path, Arch::X86_64)?;
    for w in &zip.warnings {
        let _ = writeln!(err, "{prog}: warning: {} {w}", zip_path.display());
    }
    let plan = Plan::new(settings, &zip.bytes);
    plan.check_size()?;
    let print = |out: &mut dyn Write, text: &str| {
        writeln!(out, "{text}").and_then(|()| out.flush()).map_err(|e| format!("writing the output: {e}"))
    };
    if let Some(action) = a.print_request {
        return print(out, &plan.pretty(action));
    }
    if a.dry_run {
        return print(out, &plan.dry_run(endpoint.url()));
    }
    let credentials = Credentials::from_env(env)?;
    let mut client = Client::new(endpoint, &a.region, credentials);
    let mut clock = RealClock::default();
    Deployer { scf: &mut client, out: &mut *out, clock: &mut clock, wait_limit: a.wait }
        .deploy(&plan)
        .map_err(|r| r.0)?;
    let _ = writeln!(out, "{}", wrap(NOT_CREATED, 80, 0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project as cargo-scf describes one.
    fn hello() -> Project {
        Project { zip: Some(PathBuf::from("target/scf/hello.zip")), name: Some("hello".into()) }
    }

    #[test]
    fn help_fits_one_screen_and_shows_every_default_and_option() {
        for (project, zip, name) in [
            (hello(), "ZIP                 default target/scf/hello.zip, from `cargo scf build`", "default hello"),
            (Project::default(), "ZIP                 the function zip (required)", "FunctionName (required)"),
        ] {
            let h = help("cargo scf deploy", &project);
            let (rows, cols) = (h.lines().count(), h.lines().map(|l| l.chars().count()).max().unwrap());
            assert!(rows <= 24 && cols <= 80, "{rows} lines, {cols} columns:\n{h}");
            let d = DEFAULTS;
            for shown in [
                zip.to_string(),
                name.to_string(),
                format!("default {}", d.region),
                format!("default {}\n", d.namespace),
                format!("default {}", d.handler),
                format!("default {}\n", d.memory),
                format!("default {}\n", d.timeout),
                format!("default {}\n", d.init_timeout),
                format!("default \"{}\"", d.description),
                format!("default {DEFAULT_WAIT_S}"),
                format!("default {DEFAULT_ENDPOINT}"),
            ] {
                assert!(h.contains(&shown), "help lacks {shown:?}:\n{h}");
            }
            for o in OPTIONS {
                assert!(h.contains(&format!("--{o}")), "help lacks --{o}");
            }
            for a in Action::ALL {
                assert!(h.contains(a.name()), "help lacks {}", a.name());
            }
            for not_created in ["triggers", "API gateway", "role", "layers", "VPC", "environment variables"] {
                assert!(h.contains(not_created), "help does not say {not_created:?} is not created");
            }
            assert!(h.contains(SECRET_ID_VAR) && h.contains(SECRET_KEY_VAR) && h.contains(TOKEN_VAR));
        }
        assert!(help("p", &hello()).contains("Usage: p [ZIP] [--name NAME] [OPTIONS]"));
        assert!(help("p", &Project::default()).contains("Usage: p ZIP --name NAME [OPTIONS]"));
    }

    /// `run` with `args` and `project`, no credentials: (status, stdout, stderr).
    fn run_with(args: &[&str], project: &Project) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let env = |_: &str| None;
        let args = args.iter().map(OsString::from).collect();
        let status = run("cargo scf deploy", args, project, Io { out: &mut out, err: &mut err, env: &env });
        (status, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn the_project_s_zip_and_name_are_the_defaults() {
        let dir = std::env::temp_dir().join(format!("scf-deploy-project-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zip = dir.join("hello.zip");
        let project = Project { zip: Some(zip.clone()), name: Some("hello".into()) };
        let (status, out, err) = run_with(&["--dry-run"], &project);
        assert_eq!((status, out.as_str()), (1, ""));
        assert_eq!(
            err,
            format!(
                "cargo scf deploy: error: no zip at {}: build it with `cargo scf build`, or name one: cargo scf deploy ZIP\n",
                zip.display()
            )
        );
        // A zip that is not one gets as far as the zip check: the default was taken.
        std::fs::write(&zip, b"not a zip").unwrap();
        let (status, _, err) = run_with(&["--dry-run"], &project);
        assert_eq!((status, err), (1, format!("cargo scf deploy: error: {} is not a zip file\n", zip.display())));
        // --name and ZIP override the project's.
        let (status, _, err) = run_with(&["--dry-run", "--name", "x"], &project);
        assert_eq!(
            (status, err.as_str()),
            (1, "cargo scf deploy: error: --name \"x\": must be 2 to 60 characters long, not 1\n")
        );
        let other = dir.join("other.zip");
        let (_, _, err) = run_with(&[other.to_str().unwrap(), "--dry-run"], &project);
        assert!(err.contains(&format!("cannot read {}", other.display())), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_a_project_zip_and_name_are_required() {
        let none = Project::default();
        assert_eq!(
            run_with(&["--dry-run"], &none),
            (
                2,
                String::new(),
                "cargo scf deploy: error: --name is required: the function's name on SCF (see --help)\n".into()
            )
        );
        assert_eq!(
            run_with(&["--dry-run", "--name", "fn"], &none),
            (
                2,
                String::new(),
                "cargo scf deploy: error: ZIP is required: the function zip to deploy (see --help)\n".into()
            )
        );
    }

    #[test]
    fn every_option_the_parser_takes_is_in_the_list() {
        for o in OPTIONS {
            let needs_value = !["dry-run", "help"].contains(o);
            let mut args: Vec<OsString> = vec![format!("--{o}").into()];
            if needs_value {
                args.push(if *o == "print-request" { "GetFunction" } else { "5" }.into());
            }
            assert!(parse(args).is_ok(), "--{o} is listed but not parsed");
        }
    }

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5, 0), "aa bb\ncc dd");
        assert_eq!(wrap("abcdefgh ij", 5, 0), "abcdefgh\nij");
        assert_eq!(wrap("aa bb cc", 6, 2), "aa\n  bb\n  cc");
        let wrapped = wrap(NOT_CREATED, 80, 0);
        assert!(wrapped.lines().count() > 1 && wrapped.lines().all(|l| l.chars().count() <= 80), "{wrapped}");
        assert_eq!(wrapped.replace('\n', " "), NOT_CREATED);
    }

    fn usage(args: &[&str]) -> String {
        match parse(args.iter().map(OsString::from).collect()) {
            Err(Usage(e)) => e,
            Ok(_) => panic!("{args:?} parsed"),
        }
    }

    #[test]
    fn command_line_mistakes_are_one_line_each() {
        assert_eq!(usage(&["--nmae", "x"]), "unknown option --nmae (did you mean --name?)");
        assert_eq!(usage(&["--frobnicate"]), "unknown option --frobnicate");
        assert_eq!(usage(&["-x"]), "unknown option -x");
        assert_eq!(usage(&["--memory", "lots"]), "--memory: expected a whole number of MB, got \"lots\"");
        assert_eq!(usage(&["--timeout", "-5"]), "--timeout: expected a whole number of seconds, got \"-5\"");
        assert_eq!(usage(&["--wait", "0"]), "--wait: expected a number of seconds up to 86400, got \"0\"");
        assert_eq!(usage(&["--wait", "NaN"]), "--wait: expected a number of seconds up to 86400, got \"NaN\"");
        assert_eq!(
            usage(&["--print-request", "Invoke"]),
            "--print-request \"Invoke\": one of GetFunction, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration"
        );
        assert_eq!(usage(&["a.zip", "b.zip"]), "unexpected argument \"b.zip\": one ZIP at most");
        assert_eq!(usage(&["--name"]), "missing argument for option '--name'");
    }

    #[test]
    fn options_take_both_spellings_and_values_that_look_like_options() {
        let a =
            parse(["--name=fn", "--timeout", "9", "--description", "--dry-run", "z.zip"].map(OsString::from).to_vec())
                .ok()
                .unwrap();
        assert_eq!((a.name.as_deref(), a.timeout, a.description.as_str()), (Some("fn"), 9, "--dry-run"));
        assert!(!a.dry_run);
        assert_eq!(a.zip, Some(PathBuf::from("z.zip")));
    }
}
