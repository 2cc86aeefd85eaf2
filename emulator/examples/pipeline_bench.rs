//! What `SCF_BOOTSTRAP_PIPELINE=1` saves on the warm path: a bootstrap
//! served by the emulator's runtime API directly, and through nginx and
//! haproxy as reverse proxies, with pipelining off and on, the six runs
//! interleaved round after round in one process. Run by `bench/pipeline`,
//! which builds the bootstrap and says how to call this.
//!
//! Per invocation it takes, from the runtime API's own clock: the gap from
//! the result read completely to the next event handed to a `/next`
//! (result posted -> next event received), and the cycle from one result
//! to the next; every outcome is checked against the demo's echo.

use scf_emulator::{ApiConfig, InvokeOptions, Outcome, RuntimeApi};
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: pipeline_bench BOOTSTRAP SCRATCH_DIR [ROUNDS [N]]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    let bin = PathBuf::from(&args[0]);
    let dir = PathBuf::from(&args[1]);
    let rounds: usize = args.get(2).map_or(10, |a| a.parse().expect(USAGE));
    let n: usize = args.get(3).map_or(500, |a| a.parse().expect(USAGE));
    fs::create_dir_all(&dir).expect("create the scratch directory");
    // Absolute: nginx takes relative paths as relative to its prefix.
    let dir = dir.canonicalize().expect("the scratch directory");

    let api = RuntimeApi::start(ApiConfig {
        timeout_ms: 60_000,
        ..ApiConfig::default()
    })
    .expect("start runtime API");
    let upstream = api.addr();
    let mut paths = vec![Path_ {
        name: "direct",
        port: upstream.port(),
        proxy: None,
    }];
    for (name, start) in [
        ("nginx", nginx as fn(&Path, u16, u16) -> Option<Child>),
        ("haproxy", haproxy),
    ] {
        let port = free_port();
        match start(&dir, port, upstream.port()) {
            Some(child) if wait_listening(port) => paths.push(Path_ {
                name,
                port,
                proxy: Some(child),
            }),
            Some(child) => {
                stop(child);
                println!(
                    "{name}: started but not listening on 127.0.0.1:{port}; skipped (see {})",
                    dir.display()
                );
            }
            None => println!("{name}: not installed (apt-get install -y {name}); skipped"),
        }
    }

    let event = json_event(1024);
    let echo = [&b"Echoing request: '"[..], &event, b"'"].concat();
    // [path][pipelining off, on]: gaps and cycles in µs, wall time, count.
    let mut runs: Vec<[Samples; 2]> = paths.iter().map(|_| Default::default()).collect();
    for round in 0..rounds {
        for (pi, p) in paths.iter().enumerate() {
            // Alternate which mode goes first, round by round.
            for k in 0..2 {
                let on = (round + k) % 2 == 1;
                let s = &mut runs[pi][usize::from(on)];
                run(&api, &bin, p.port, on, n, &event, &echo, s).unwrap_or_else(|e| {
                    panic!(
                        "{} with pipelining {}: {e}",
                        p.name,
                        if on { "on" } else { "off" }
                    )
                });
            }
        }
    }
    let pipelined_at_peer = api.stats().pipelined;

    println!();
    println!(
        "machine: {} ({} CPUs)",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{rounds} rounds x {n} warm invocations per path and setting, interleaved; 1 KiB JSON event, demo echo handler"
    );
    println!();
    println!(
        "| path | pipelining | result → next event, median | result → result, median | p90 | invocations/s (wall) | \
         on/off: gap | on/off: result → result | on/off: invocations/s |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|--:|");
    for (p, [off, on]) in paths.iter().zip(&mut runs) {
        for s in [&mut *off, &mut *on] {
            s.gap.sort_by(f64::total_cmp);
            s.cycle.sort_by(f64::total_cmp);
        }
        let row = |s: &Samples, mode: &str, ratios: &str| {
            println!(
                "| {} | {mode} | {:.1} µs | {:.1} µs | {:.1} µs | {:.0} | {ratios}",
                p.name,
                median(&s.gap),
                median(&s.cycle),
                s.cycle[s.cycle.len() * 9 / 10],
                s.rate()
            )
        };
        row(off, "off", "| | |");
        let ratios = format!(
            "{:.2}× | {:.2}× | {:.2}× |",
            median(&on.gap) / median(&off.gap),
            median(&on.cycle) / median(&off.cycle),
            on.rate() / off.rate()
        );
        row(on, "on", &ratios);
    }
    println!();
    println!(
        "every outcome was the demo's echo; requests that reached the runtime API pipelined: {pipelined_at_peer} \
         (the proxies forward one request at a time)"
    );
    for p in paths {
        if let Some(c) = p.proxy {
            stop(c);
        }
    }
}

/// Stops a proxy by its PID with SIGTERM, on which the nginx master also
/// stops its worker (SIGKILL would leave the worker running).
fn stop(mut child: Child) {
    // SAFETY: kill(2) on the PID of a child this program started and has
    // not reaped yet, so the PID is still its.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
}

struct Path_ {
    name: &'static str,
    port: u16,
    proxy: Option<Child>,
}

#[derive(Default)]
struct Samples {
    gap: Vec<f64>,
    cycle: Vec<f64>,
    wall: Duration,
    count: usize,
}

impl Samples {
    fn rate(&self) -> f64 {
        self.count as f64 / self.wall.as_secs_f64()
    }
}

fn median(v: &[f64]) -> f64 {
    v[v.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// One run: a bootstrap pointed at `port`, a few unmeasured invocations,
/// then `n` measured ones; the bootstrap is killed at the end.
#[allow(clippy::too_many_arguments)]
fn run(
    api: &RuntimeApi,
    bin: &Path,
    port: u16,
    on: bool,
    n: usize,
    event: &[u8],
    echo: &[u8],
    s: &mut Samples,
) -> Result<(), String> {
    let mut child = Command::new(bin)
        .env_clear()
        .env("SCF_RUNTIME_API", "127.0.0.1")
        .env("SCF_RUNTIME_API_PORT", port.to_string())
        .env("_HANDLER", "index.main_handler")
        .env("SCF_BOOTSTRAP_PIPELINE", if on { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start {}: {e}", bin.display()))?;
    let result = (|| {
        let warmup = 20;
        let mut last: Option<Instant> = None;
        let start_at = Instant::now();
        let mut measured_from = start_at;
        for i in 0..warmup + n {
            let opts = InvokeOptions {
                timeout: Duration::from_secs(10),
                dispatch_timeout: Some(Duration::from_secs(10)),
                request_id: None,
            };
            let inv = api.invoke_with(event, opts).map_err(|e| e.to_string())?;
            if inv.outcome != Outcome::Response(echo.to_vec()) {
                return Err(format!(
                    "invocation {i}: unexpected outcome {:?}",
                    inv.outcome
                ));
            }
            if i >= warmup {
                let prev = last.expect("a warm-up invocation came before");
                s.gap
                    .push(micros(inv.dispatched_at.saturating_duration_since(prev)));
                s.cycle
                    .push(micros(inv.finished_at.saturating_duration_since(prev)));
            } else {
                measured_from = inv.finished_at;
            }
            last = Some(inv.finished_at);
        }
        s.wall += last
            .expect("invoked")
            .saturating_duration_since(measured_from);
        s.count += n;
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// nginx in the foreground with its files in `dir`, proxying
/// 127.0.0.1:`port` to the runtime API with keep-alive both ways.
fn nginx(dir: &Path, port: u16, upstream: u16) -> Option<Child> {
    let exe = find(&["/usr/sbin/nginx", "/usr/bin/nginx"])?;
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/nginx-error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {d}/nginx-body;\n\
           proxy_temp_path {d}/nginx-proxy;\n\
           upstream api {{ server 127.0.0.1:{upstream}; keepalive 8; }}\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             keepalive_timeout 600s;\n\
             keepalive_requests 1000000;\n\
             location / {{\n\
               proxy_pass http://api;\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n\
               proxy_read_timeout 600s;\n\
             }}\n\
           }}\n\
         }}\n"
    );
    let path = dir.join("nginx.conf");
    fs::write(&path, conf).ok()?;
    Command::new(exe)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("nginx-stderr.log")).ok()?)
        .spawn()
        .ok()
}

/// haproxy in the foreground (`-db`), the same proxying.
fn haproxy(dir: &Path, port: u16, upstream: u16) -> Option<Child> {
    let exe = find(&["/usr/sbin/haproxy", "/usr/bin/haproxy"])?;
    let conf = format!(
        "global\n  maxconn 64\n\
         defaults\n  mode http\n  option http-keep-alive\n  timeout connect 5s\n  timeout client 600s\n  \
         timeout server 600s\n  timeout http-keep-alive 600s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
         backend b\n  server api 127.0.0.1:{upstream}\n"
    );
    let path = dir.join("haproxy.cfg");
    fs::write(&path, conf).ok()?;
    Command::new(exe)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("haproxy-stderr.log")).ok()?)
        .spawn()
        .ok()
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

fn wait_listening(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A JSON object of `len` bytes: `{"pad":"xxx…"}`.
fn json_event(len: usize) -> Vec<u8> {
    let mut e = b"{\"pad\":\"".to_vec();
    e.resize(len - 2, b'x');
    e.extend_from_slice(b"\"}");
    e
}
