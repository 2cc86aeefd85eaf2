//! The `scf-emulator` command. See `--help` and the crate's README.

use scf_emulator::api::{ApiConfig, InvokeOptions, Outcome};
use scf_emulator::frontend::{Handler, InvokeServer};
use scf_emulator::report::SYNC_LIMIT;
use scf_emulator::{
    sys, Emulator, FunctionCode, FunctionConfig, InvokeError, InvokeReport, RuntimeApi, Status,
};
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
  scf-emulator run FUNCTION [OPTIONS] [--listen ADDR]
      Serve FUNCTION (a directory or a .zip with `bootstrap` at its root) and
      invoke it on every `POST /invoke` to ADDR, the event as the body. The
      answer is the Invoke API JSON. The first invocation cold-starts it.
  scf-emulator invoke FUNCTION --event FILE|- [OPTIONS]
      Start FUNCTION, invoke it once with the event in FILE (- for stdin),
      print the Invoke API JSON and exit: 0 when InvokeResult is 0, 1 when the
      invocation failed, 2 when it could not be attempted.
  scf-emulator --runtime-api-only --port N [--listen ADDR] [--memory MB] [--timeout S]
      Serve only the runtime API on 127.0.0.1:N and start nothing, so you can
      start the bootstrap yourself (under gdb, strace...). Events are taken
      from `POST /invoke` on ADDR and wait until the bootstrap fetches them.

OPTIONS:
  --handler NAME       _HANDLER (default index.main_handler)
  --memory MB          memory size, sent as memory_limit_in_mb (default 128)
  --timeout S          invocation timeout in seconds (default 3)
  --init-timeout S     init timeout in seconds (default 60)
  -e, --env KEY=VALUE  add an environment variable (repeatable)
  --name NAME          SCF_FUNCTIONNAME (default: FUNCTION's file name)
  --namespace NS       SCF_NAMESPACE (default default)
  --region REGION      TENCENTCLOUD_REGION (default ap-guangzhou)
  --appid ID           TENCENTCLOUD_APPID (default 1250000000)
  --uin UIN            TENCENTCLOUD_UIN (default 100000000001)
  --allow-non-json     accept events that are not JSON (SCF refuses them: 400)
  --listen ADDR        invoke endpoint address (default 127.0.0.1:9001)
  --quiet              run: do not copy the function's output to stderr
  -h, --help           this text
  -V, --version        the version
";

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

struct Args {
    mode: Mode,
    function: Option<PathBuf>,
    event: Option<String>,
    listen: SocketAddr,
    port: Option<u16>,
    quiet: bool,
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

fn parse_args(argv: Vec<String>) -> Result<Option<Args>, Fatal> {
    let mut it = argv.into_iter();
    let mut mode = None;
    let mut function = None;
    let mut a = Args {
        mode: Mode::Run,
        function: None,
        event: None,
        listen: SocketAddr::from(([127, 0, 0, 1], 9001)),
        port: None,
        quiet: false,
        name: None,
        cfg: FunctionConfig::default(),
    };
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .ok_or_else(|| Fatal(format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("scf-emulator {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "run" if mode.is_none() => mode = Some(Mode::Run),
            "invoke" if mode.is_none() => mode = Some(Mode::Invoke),
            "--runtime-api-only" => mode = Some(Mode::ApiOnly),
            "--handler" => a.cfg.handler = value("--handler")?,
            "--memory" => {
                let v = value("--memory")?;
                a.cfg.memory_mb =
                    v.parse().ok().filter(|&m: &u32| m > 0).ok_or_else(|| {
                        Fatal(format!("--memory: expected a size in MB, got {v:?}"))
                    })?;
            }
            "--timeout" => a.cfg.timeout = seconds("--timeout", &value("--timeout")?)?,
            "--init-timeout" => {
                a.cfg.init_timeout = seconds("--init-timeout", &value("--init-timeout")?)?
            }
            "-e" | "--env" => {
                let v = value("--env")?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or_else(|| Fatal(format!("--env: expected KEY=VALUE, got {v:?}")))?;
                a.cfg.env.push((k.to_string(), val.to_string()));
            }
            "--name" => a.name = Some(value("--name")?),
            "--namespace" => a.cfg.namespace = value("--namespace")?,
            "--region" => a.cfg.region = value("--region")?,
            "--appid" => a.cfg.appid = value("--appid")?,
            "--uin" => a.cfg.uin = value("--uin")?,
            "--allow-non-json" => a.cfg.require_json = false,
            "--event" => a.event = Some(value("--event")?),
            "--listen" => {
                let v = value("--listen")?;
                a.listen = v
                    .parse()
                    .map_err(|_| Fatal(format!("--listen: expected IP:PORT, got {v:?}")))?;
            }
            "--port" => {
                let v = value("--port")?;
                a.port =
                    Some(v.parse().map_err(|_| {
                        Fatal(format!("--port: expected a port number, got {v:?}"))
                    })?);
            }
            "--quiet" => a.quiet = true,
            s if s.starts_with('-') && s != "-" => {
                return Err(Fatal(format!("unknown option {s} (see --help)")))
            }
            s if function.is_none() && mode.is_some() => function = Some(PathBuf::from(s)),
            s => return Err(Fatal(format!("unexpected argument {s:?} (see --help)"))),
        }
    }
    a.mode = mode.ok_or_else(|| {
        Fatal("no command given: use run, invoke or --runtime-api-only (see --help)".into())
    })?;
    a.function = function;
    match a.mode {
        Mode::Run | Mode::Invoke if a.function.is_none() => {
            return Err(Fatal(
                "missing FUNCTION: a directory or a .zip with bootstrap at its root".into(),
            ))
        }
        Mode::Invoke if a.event.is_none() => {
            return Err(Fatal("invoke needs --event FILE (or - for stdin)".into()))
        }
        Mode::ApiOnly if a.port.is_none() => {
            return Err(Fatal("--runtime-api-only needs --port N".into()))
        }
        _ => {}
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    if let Err(e) = sys::exit_cleanly_on_termination_signals() {
        eprintln!("scf-emulator: cannot set up signal handling: {e}");
    }
    let result = parse_args(std::env::args().skip(1).collect()).and_then(|args| match args {
        None => Ok(ExitCode::SUCCESS),
        Some(a) => match a.mode {
            Mode::Invoke => invoke_once(a),
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
    let path = a.function.take().expect("checked by parse_args");
    let code = FunctionCode::load(&path)?;
    a.cfg.name = a.name.take().unwrap_or_else(|| code.default_name());
    Ok(Emulator::new(code, a.cfg.clone()))
}

fn invoke_once(mut a: Args) -> Result<ExitCode, Fatal> {
    let event = match a.event.as_deref() {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Fatal(format!("cannot read the event from stdin: {e}")))?;
            buf
        }
        Some(file) => std::fs::read(file)
            .map_err(|e| Fatal(format!("cannot read the event file {file}: {e}")))?,
        None => unreachable!("checked by parse_args"),
    };
    let emulator = load(&mut a)?;
    let report = emulator.invoke(&event);
    drop(emulator);
    println!("{}", report.to_json());
    Ok(if report.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
    let server = InvokeServer::start(a.listen, handler)
        .map_err(|e| Fatal(format!("cannot listen on {}: {e}", a.listen)))?;
    let addr = server.addr();
    eprintln!(
        "scf-emulator: serving {} (root {}) as function {:?}",
        emulator.code().source().display(),
        emulator.code().root().display(),
        emulator.config().name
    );
    eprintln!("scf-emulator: invoke endpoint http://{addr}/invoke");
    eprintln!("scf-emulator: try: curl -s -X POST http://{addr}/invoke -d '{{\"key1\":\"test value 1\"}}'");
    let _ = std::io::stderr().flush();
    loop {
        std::thread::park();
    }
}

fn api_only(a: Args) -> Result<ExitCode, Fatal> {
    let port = a.port.expect("checked by parse_args");
    let cfg = ApiConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], port)),
        memory_mb: a.cfg.memory_mb,
        timeout_ms: a.cfg.timeout.as_millis() as u64,
        quirks: Default::default(),
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
    let server = InvokeServer::start(a.listen, handler)
        .map_err(|e| Fatal(format!("cannot listen on {}: {e}", a.listen)))?;
    let env: Vec<String> = a
        .cfg
        .environment()
        .into_iter()
        .filter(|(k, _)| k != "PATH")
        .map(|(k, v)| format!("{k}='{v}'"))
        .collect();
    eprintln!(
        "scf-emulator: runtime API on 127.0.0.1:{port}; no bootstrap started. Start yours with:"
    );
    eprintln!(
        "  env SCF_RUNTIME_API=127.0.0.1 SCF_RUNTIME_API_PORT={port} {} ./bootstrap",
        env.join(" ")
    );
    eprintln!("scf-emulator: invoke endpoint http://{}/invoke (events wait until the bootstrap fetches them)", server.addr());
    let _ = std::io::stderr().flush();
    loop {
        std::thread::park();
    }
}

/// An invocation against a bootstrap the emulator did not start: no log
/// capture, no memory figure, no instance to end on a timeout.
fn invoke_external(
    api: &RuntimeApi,
    cfg: &FunctionConfig,
    event: &[u8],
    first: &AtomicBool,
) -> InvokeReport {
    let request_id = scf_emulator::api::new_request_id();
    if event.len() > SYNC_LIMIT {
        let msg = format!(
            "RequestTooLarge: the event is {} bytes; the limit is 6 MB",
            event.len()
        );
        return InvokeReport::refused(request_id, Status::RequestTooLarge, msg);
    }
    if cfg.require_json && serde_json::from_slice::<serde_json::Value>(event).is_err() {
        return InvokeReport::refused(
            request_id,
            Status::InvalidParameterValue,
            "InvalidParameterValue: the event is not JSON".into(),
        );
    }
    let opts = InvokeOptions {
        timeout: cfg.timeout,
        dispatch_timeout: None,
        request_id: Some(request_id.clone()),
    };
    let mut report = InvokeReport::refused(request_id, Status::Success, String::new());
    match api.invoke_with(event, opts) {
        Ok(inv) => {
            report.cold = first.swap(false, Ordering::SeqCst);
            report.duration = inv.duration();
            report.polls = inv.polls;
            match inv.outcome {
                Outcome::Response(b) if b.len() > SYNC_LIMIT => {
                    report.status = Status::ResponseTooLarge;
                    report.err_msg = Status::ResponseTooLarge.message().into();
                }
                Outcome::Response(b) => report.ret_msg = String::from_utf8_lossy(&b).into_owned(),
                Outcome::Error(b) => {
                    report.status = Status::UserCodeException;
                    report.err_msg = String::from_utf8_lossy(&b).into_owned();
                }
            }
        }
        Err(InvokeError::Timeout { dispatched_at, .. }) => {
            report.duration = dispatched_at.elapsed();
            report.status = Status::TimeLimitReached;
            report.err_msg = format!(
                "Invoking task timed out after {}",
                scf_emulator::emulator::seconds(cfg.timeout)
            );
        }
        Err(e) => {
            report.status = Status::InternalError;
            report.err_msg = format!("InternalError: {e}");
        }
    }
    report
}
