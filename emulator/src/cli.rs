//! The `scf-emulator` command line, as a library function: the
//! `scf-emulator` binary is [`main`] over its arguments, and `cargo scf`
//! calls it for `invoke`, `run` and `emulator` with the zip it built. See
//! `--help` and the crate's README.

use crate::api::{ApiConfig, InvokeOptions, Outcome};
use crate::emulator::check_event;
use crate::frontend::{Handler, InvokeServer, Options};
use crate::report::{LogType, SYNC_LIMIT};
use crate::{
    sys, Emulator, FunctionCode, FunctionConfig, InvokeError, InvokeReport, RuntimeApi, Status,
};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "\
scf-emulator: run and invoke a Tencent Cloud SCF Custom Runtime function locally

USAGE:
  scf-emulator invoke FUNCTION --event FILE|- [--event FILE]... [OPTIONS]
      Start FUNCTION (a directory or a .zip with `bootstrap` at its root, or
      an image function: an OCI image archive or layout), invoke it with
      each event in turn (FILE, or - for stdin; warm after the first), print
      the Invoke API JSON of each, and a one-line summary per invoke on
      stderr. Exit 0 when every InvokeResult is 0, 1 when an invocation
      failed, 2 when none could be attempted.
  scf-emulator run FUNCTION [OPTIONS] [--listen ADDR] [--apigw] [--watch]
      Serve FUNCTION on ADDR: `POST /invoke` with the event as the body, and
      TencentCloud API 3.0 `Invoke`/`InvokeFunction` (Tencent's SDKs, tccli
      --endpoint). With --apigw every other request is an API gateway event
      and the function's integrated response is the HTTP response.
  scf-emulator --runtime-api-only --port N [--listen ADDR] [--memory MB] [--timeout S]
      Serve only the runtime API on 127.0.0.1:N and start nothing, so you can
      start the bootstrap yourself (under gdb, strace...). Events are taken
      from `POST /invoke` on ADDR and wait until the bootstrap fetches them.

OPTIONS (`--opt value` or `--opt=value`):
  --handler NAME       _HANDLER (default index.main_handler)
  --memory MB          memory size: sent as memory_limit_in_mb, and enforced
                       (an instance holding more is ended: 434) (default 128)
  --timeout S          invocation timeout in seconds (default 3)
  --init-timeout S     init timeout in seconds (default 60)
  -e, --env KEY=VALUE  add an environment variable (repeatable)
  --env-file FILE      add the KEY=VALUE lines of FILE (# comments allowed)
  --name NAME          SCF_FUNCTIONNAME (default: FUNCTION's file name)
  --namespace NS       SCF_NAMESPACE (default default)
  --region REGION      TENCENTCLOUD_REGION (default ap-guangzhou)
  --appid ID           TENCENTCLOUD_APPID (default 1250000000)
  --uin UIN            TENCENTCLOUD_UIN (default 100000000001)
  --allow-non-json     accept events that are not JSON (SCF refuses them: 400)
  image functions (an OCI image archive or layout is one; see docs/image-functions.md):
  --image              run a directory or .zip as an image function's root:
                       start its `/bootstrap serve` and POST each event to its
                       /event-invoke
  --start-timeout S    the server must accept connections within S seconds
                       of exec, else 446 PortBindingFailed (default 30, SCF's)
  --image-listen ADDR  the SCF_BOOTSTRAP_LISTEN address the instance is given
                       (default: a free 127.0.0.1 port; SCF's is 0.0.0.0:9000)
  --push-close         each event on a new connection with Connection: close
                       (default: one keep-alive connection)
  invoke:
  --pretty             indented JSON
  --raw                print only the function's answer (RetMsg); a failure's
                       ErrMsg goes to stderr
  --log-type TYPE      Tail (the last 4 KB of output in Log) or None
  run:
  --listen ADDR        address to serve (default 127.0.0.1:9001)
  --apigw              API gateway trigger mode
  --watch              reload the code when the zip or directory changes
                       (the next invoke is a cold start of the new code)
  --quiet              do not copy the function's output to stderr
  -h, --help           this text
  -V, --version        the version
";

/// Every long option, for "did you mean".
const LONG: &[&str] = &[
    "handler",
    "memory",
    "timeout",
    "init-timeout",
    "env",
    "env-file",
    "name",
    "namespace",
    "region",
    "appid",
    "uin",
    "allow-non-json",
    "event",
    "pretty",
    "raw",
    "log-type",
    "listen",
    "apigw",
    "watch",
    "image",
    "start-timeout",
    "image-listen",
    "push-close",
    "quiet",
    "port",
    "runtime-api-only",
    "help",
    "version",
];

/// A command-line mistake or a setup failure: one line, exit status 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Fatal {
        Fatal(e.to_string())
    }
}

enum Mode {
    Run,
    Invoke,
    ApiOnly,
}

#[derive(PartialEq)]
enum Output {
    Line,
    Pretty,
    Raw,
}

struct Args {
    mode: Mode,
    function: PathBuf,
    events: Vec<String>,
    listen: SocketAddr,
    port: u16,
    quiet: bool,
    apigw: bool,
    output: Output,
    log_type: LogType,
    name: Option<String>,
    cfg: FunctionConfig,
}

fn seconds(flag: &str, v: &str) -> Result<Duration, Fatal> {
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(Fatal(format!(
            "{flag}: expected a positive number of seconds, got {v:?}"
        ))),
    }
}

/// The candidate closest to `name` if it is close enough to be a typo of
/// it (an edit distance of 2, or a third of its length): for "did you mean"
/// (`cargo scf` asks the same).
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .copied()
        .min_by_key(|c| strsim::levenshtein(name, c))
        .filter(|c| strsim::levenshtein(name, c) <= 2.max(name.len() / 3))
}

fn unknown_option(opt: &str) -> Fatal {
    match closest(opt.trim_start_matches('-'), LONG) {
        Some(c) => Fatal(format!(
            "unknown option {opt}; did you mean --{c}? (see --help)"
        )),
        None => Fatal(format!("unknown option {opt} (see --help)")),
    }
}

/// `KEY=VALUE` lines of an env file: blank lines and `#` comments skipped,
/// an `export ` prefix and quotes around the value allowed.
fn env_file(path: &str) -> Result<Vec<(String, String)>, Fatal> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("--env-file: cannot read {path}: {e}")))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .ok_or_else(|| {
                Fatal(format!(
                    "--env-file {path}:{}: expected KEY=VALUE, got {line:?}",
                    n + 1
                ))
            })?;
        let v = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|&(a, b)| v.strip_prefix(a).and_then(|v| v.strip_suffix(b)))
            .unwrap_or(v);
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn parse_args(argv: Vec<OsString>) -> Result<Option<Args>, Fatal> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(argv);
    let mut mode = None;
    let mut function = None;
    let mut port = None;
    let mut a = Args {
        mode: Mode::Run,
        function: PathBuf::new(),
        events: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 9001)),
        port: 0,
        quiet: false,
        apigw: false,
        output: Output::Line,
        log_type: LogType::Tail,
        name: None,
        cfg: FunctionConfig::default(),
    };
    let lex = |e: lexopt::Error| match e {
        lexopt::Error::MissingValue { option: Some(o) } => Fatal(format!("{o} needs a value")),
        lexopt::Error::UnexpectedValue { option, .. } => Fatal(format!("{option} takes no value")),
        e => Fatal(e.to_string()),
    };
    while let Some(arg) = p.next().map_err(lex)? {
        let (flag, positional) = match arg {
            Long(l) => (format!("--{l}"), None),
            Short(c) => (format!("-{c}"), None),
            Value(v) => (String::new(), Some(v)),
        };
        let mut value = || -> Result<String, Fatal> {
            p.value()
                .map_err(lex)?
                .into_string()
                .map_err(|v| Fatal(format!("{flag}: not UTF-8: {v:?}")))
        };
        if let Some(v) = positional {
            match v.to_str() {
                Some("run") if mode.is_none() => mode = Some(Mode::Run),
                Some("invoke") if mode.is_none() => mode = Some(Mode::Invoke),
                _ if function.is_none() && mode.is_some() => function = Some(PathBuf::from(v)),
                _ => return Err(Fatal(format!("unexpected argument {v:?} (see --help)"))),
            }
            continue;
        }
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("scf-emulator {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--runtime-api-only" => mode = Some(Mode::ApiOnly),
            "--handler" => a.cfg.handler = value()?,
            "--memory" => {
                let v = value()?;
                a.cfg.memory_mb = v
                    .parse()
                    .ok()
                    .filter(|&m: &u32| m > 0 && m <= 1 << 20)
                    .ok_or_else(|| Fatal(format!("--memory: expected a size in MB, got {v:?}")))?;
            }
            "--timeout" => a.cfg.timeout = seconds("--timeout", &value()?)?,
            "--init-timeout" => a.cfg.init_timeout = seconds("--init-timeout", &value()?)?,
            "-e" | "--env" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| Fatal(format!("--env: expected KEY=VALUE, got {v:?}")))?;
                a.cfg.env.push((k.to_string(), val.to_string()));
            }
            "--env-file" => a.cfg.env.extend(env_file(&value()?)?),
            "--name" => a.name = Some(value()?),
            "--namespace" => a.cfg.namespace = value()?,
            "--region" => a.cfg.region = value()?,
            "--appid" => a.cfg.appid = value()?,
            "--uin" => a.cfg.uin = value()?,
            "--allow-non-json" => a.cfg.require_json = false,
            "--event" => a.events.push(value()?),
            "--pretty" => a.output = Output::Pretty,
            "--raw" => a.output = Output::Raw,
            "--log-type" => {
                a.log_type = value()?
                    .parse()
                    .map_err(|e| Fatal(format!("--log-type: {e}")))?
            }
            "--listen" => {
                let v = value()?;
                a.listen = v
                    .parse()
                    .map_err(|_| Fatal(format!("--listen: expected IP:PORT, got {v:?}")))?;
            }
            "--port" => {
                let v = value()?;
                port =
                    Some(v.parse().map_err(|_| {
                        Fatal(format!("--port: expected a port number, got {v:?}"))
                    })?);
            }
            "--quiet" => a.quiet = true,
            "--apigw" => a.apigw = true,
            "--watch" => a.cfg.watch = true,
            "--image" => a.cfg.image = true,
            "--start-timeout" => a.cfg.start_timeout = seconds("--start-timeout", &value()?)?,
            "--image-listen" => {
                let v = value()?;
                a.cfg.image_listen =
                    Some(v.parse().map_err(|_| {
                        Fatal(format!("--image-listen: expected IP:PORT, got {v:?}"))
                    })?);
            }
            "--push-close" => a.cfg.push_close = true,
            _ => return Err(unknown_option(&flag)),
        }
    }
    a.mode = mode.ok_or_else(|| {
        Fatal("no command given: use run, invoke or --runtime-api-only (see --help)".into())
    })?;
    match a.mode {
        Mode::Run | Mode::Invoke => {
            a.function = function.ok_or_else(|| {
                Fatal("missing FUNCTION: a directory or a .zip with bootstrap at its root, or an OCI image archive".into())
            })?
        }
        Mode::ApiOnly => {
            a.port = port.ok_or_else(|| Fatal("--runtime-api-only needs --port N".into()))?
        }
    }
    if matches!(a.mode, Mode::Invoke) && a.events.is_empty() {
        return Err(Fatal("invoke needs --event FILE (or - for stdin)".into()));
    }
    Ok(Some(a))
}

/// Runs the command line `args` (without the program name): what the
/// `scf-emulator` binary does. `run` and `--runtime-api-only` serve until
/// the process is ended by a signal (the function's instance and temporary
/// files are cleaned up then); `invoke` returns its exit status (0 when
/// every InvokeResult is 0, 1 when an invocation failed, 2 when none could
/// be attempted, with one line on stderr).
pub fn main(args: Vec<OsString>) -> ExitCode {
    if let Err(e) = sys::exit_cleanly_on_termination_signals() {
        eprintln!("scf-emulator: cannot set up signal handling: {e}");
    }
    let result = parse_args(args).and_then(|args| match args {
        None => Ok(ExitCode::SUCCESS),
        Some(a) => match a.mode {
            Mode::Invoke => invoke(a),
            Mode::Run => run(a),
            Mode::ApiOnly => api_only(a),
        },
    });
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            eprintln!("scf-emulator: {msg}");
            sys::cleanup();
            ExitCode::from(2)
        }
    }
}

fn load(a: &mut Args) -> Result<Emulator, Fatal> {
    let code = FunctionCode::load(&a.function)?;
    a.cfg.name = a.name.take().unwrap_or_else(|| code.default_name());
    Ok(Emulator::new(code, a.cfg.clone()))
}

fn read_event(file: &str) -> Result<Vec<u8>, Fatal> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Fatal(format!("cannot read the event from stdin: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(file).map_err(|e| Fatal(format!("cannot read the event file {file}: {e}")))
}

fn invoke(mut a: Args) -> Result<ExitCode, Fatal> {
    let events = a
        .events
        .iter()
        .map(|f| read_event(f))
        .collect::<Result<Vec<_>, _>>()?;
    let emulator = load(&mut a)?;
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for event in &events {
        let mut report = emulator.invoke(event);
        if a.log_type == LogType::None {
            report.log.clear();
        }
        failed |= !report.is_success();
        match a.output {
            Output::Line => writeln!(out, "{}", report.to_json())?,
            Output::Pretty => writeln!(out, "{}", report.to_json_pretty())?,
            Output::Raw if report.is_success() => {
                out.write_all(report.ret_msg.as_bytes())?;
                if !report.ret_msg.ends_with('\n') {
                    out.write_all(b"\n")?;
                }
            }
            Output::Raw => eprintln!(
                "scf-emulator: InvokeResult {} ({}): {}",
                report.status.invoke_result(),
                report.status.message(),
                report.err_msg
            ),
        }
        out.flush()?;
        eprintln!("scf-emulator: {}", report.summary());
    }
    drop(emulator);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn serve_forever(a: &Args, handler: Handler, banner: &[String]) -> Result<ExitCode, Fatal> {
    let opts = Options {
        function_name: a.cfg.name.clone(),
        namespace: a.cfg.namespace.clone(),
        apigw: a.apigw,
    };
    let server = InvokeServer::start(a.listen, handler, opts)
        .map_err(|e| Fatal(format!("cannot listen on {}: {e}", a.listen)))?;
    let addr = server.addr();
    for line in banner {
        eprintln!("scf-emulator: {line}");
    }
    if a.apigw {
        eprintln!("scf-emulator: API gateway endpoint http://{addr}/ (every request is an API gateway event)");
        eprintln!("scf-emulator: try: curl -s 'http://{addr}/hello?name=scf'");
    } else {
        eprintln!("scf-emulator: invoke endpoint http://{addr}/invoke");
        eprintln!("scf-emulator: try: curl -s -X POST http://{addr}/invoke -d '{{\"key1\":\"test value 1\"}}'");
    }
    eprintln!(
        "scf-emulator: TencentCloud API endpoint {addr} (Invoke, FunctionName {:?}; SDK: HttpProfile(protocol=\"http\", endpoint=\"{addr}\"))",
        a.cfg.name
    );
    let _ = std::io::stderr().flush();
    loop {
        std::thread::park();
    }
}

fn run(mut a: Args) -> Result<ExitCode, Fatal> {
    a.cfg.echo_logs = !a.quiet;
    let emulator = Arc::new(load(&mut a)?);
    let em = emulator.clone();
    let handler: Handler = Arc::new(move |event: &[u8]| {
        let report = em.invoke(event);
        eprintln!("scf-emulator: {}", report.summary());
        report
    });
    let code = emulator.code();
    let image = match (code.image(), a.cfg.image) {
        (Some(run), _) => format!(
            ", an image function ({}, events posted to /event-invoke)",
            run.command().join(" ")
        ),
        (None, true) => {
            ", an image function (/bootstrap serve, events posted to /event-invoke)".to_string()
        }
        (None, false) => String::new(),
    };
    let banner = [format!(
        "serving {} (root {}) as function {:?}{image}{}",
        code.source().display(),
        code.root().display(),
        a.cfg.name,
        if a.cfg.watch {
            ", reloaded when it changes"
        } else {
            ""
        }
    )];
    serve_forever(&a, handler, &banner)
}

fn api_only(mut a: Args) -> Result<ExitCode, Fatal> {
    let port = a.port;
    a.cfg.name = a.name.take().unwrap_or_else(|| "function".into());
    let cfg = ApiConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], port)),
        memory_mb: a.cfg.memory_mb,
        timeout_ms: a.cfg.timeout.as_millis() as u64,
        ..ApiConfig::default()
    };
    let api = Arc::new(
        RuntimeApi::start(cfg)
            .map_err(|e| Fatal(format!("cannot listen on 127.0.0.1:{port}: {e}")))?,
    );
    let (api2, fcfg) = (api.clone(), a.cfg.clone());
    let first = Arc::new(AtomicBool::new(true));
    let handler: Handler = Arc::new(move |event: &[u8]| {
        let report = invoke_external(&api2, &fcfg, event, &first);
        eprintln!("scf-emulator: {}", report.summary());
        report
    });
    let env: Vec<String> = a
        .cfg
        .environment()
        .into_iter()
        .filter(|(k, _)| k != "PATH")
        .map(|(k, v)| format!("{k}='{v}'"))
        .collect();
    let banner = [
        format!("runtime API on 127.0.0.1:{port}; no bootstrap started. Start yours with:"),
        format!(
            "  env SCF_RUNTIME_API=127.0.0.1 SCF_RUNTIME_API_PORT={port} {} ./bootstrap",
            env.join(" ")
        ),
        "events wait until the bootstrap fetches them".into(),
    ];
    serve_forever(&a, handler, &banner)
}

/// An invocation against a bootstrap the emulator did not start: no log
/// capture, no memory figure, no instance to end on a timeout.
fn invoke_external(
    api: &RuntimeApi,
    cfg: &FunctionConfig,
    event: &[u8],
    first: &AtomicBool,
) -> InvokeReport {
    let request_id = crate::api::new_request_id();
    if let Some(refused) = check_event(cfg, &request_id, event) {
        return refused;
    }
    let opts = InvokeOptions {
        timeout: cfg.timeout,
        dispatch_timeout: None,
        request_id: Some(request_id.clone()),
    };
    let mut report = InvokeReport::dispatched(request_id);
    match api.invoke_with(event, opts) {
        Ok(inv) => {
            report.cold = first.swap(false, Ordering::SeqCst);
            report.duration = inv.duration();
            report.polls = inv.polls;
            match inv.outcome {
                Outcome::Response(b) if b.len() > SYNC_LIMIT => report.fail(
                    Status::ResponseTooLarge,
                    Status::ResponseTooLarge.message().into(),
                ),
                Outcome::Response(b) => report.ret_msg = String::from_utf8_lossy(&b).into_owned(),
                Outcome::Error(b) => report.fail(
                    Status::UserCodeException,
                    String::from_utf8_lossy(&b).into_owned(),
                ),
            }
        }
        Err(InvokeError::Timeout { dispatched_at, .. }) => {
            report.duration = dispatched_at.elapsed();
            report.fail(
                Status::TimeLimitReached,
                format!(
                    "Invoking task timed out after {}",
                    crate::emulator::seconds(cfg.timeout)
                ),
            );
        }
        Err(e) => report.fail(Status::InternalError, format!("InternalError: {e}")),
    }
    report
}
