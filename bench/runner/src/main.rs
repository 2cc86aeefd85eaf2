//! `scf-bench`: measures the contenders that `scripts/bench` built and
//! writes the report.
//!
//! ```text
//! scf-bench --stage DIR --out DIR [--platform scf|lambda] [--quick] [--no-callgrind] [--only ID,ID]
//!           [--readme FILE] [--cold-runs N] [--warm-n N] [--no-pin]
//! scf-bench peer scf|lambda PORT N READY_FILE
//! scf-bench listen BOOTSTRAP FLOOR [RUNS]
//! ```
//!
//! `scf-bench listen` is exec -> listening of `bootstrap serve` against a C
//! floor, for `bench/listen` ([`listen`]).
//!
//! `scf-bench peer` is the peer alone, for `bench/dialects/measure`
//! ([`callgrind_peer`]).
//!
//! `--stage` holds one directory per contender (see [`bench::CONTENDERS`]
//! and, with `--platform lambda`, [`bench::LAMBDA_CONTENDERS`]) and
//! `build-info.txt` (`key: value` lines for the report); `--out` gets
//! `report.md` and `report.svg` (Lambda: `report-lambda.md` and
//! `report-lambda.svg`); `--readme` (repeatable) names a file whose
//! `bench:summary` (Lambda: `bench:lambda-summary`) block gets the headline
//! table, its link to the report relative to that file. Raw
//! samples and scratch files go to `DIR/../results` (Lambda:
//! `results-lambda`) next to the stage.
//!
//! Layers: [`peer`] is the runtime API side (pure request framing and a
//! poll loop), [`proc`] starts, stops and inspects contenders, [`bench`](mod@bench)
//! defines each measurement as a peer session, [`report`] turns the figures
//! into Markdown and SVG. [`sys`] holds the only `unsafe` code.

mod bench;
mod listen;
mod peer;
mod proc;
mod report;
mod stats;
mod sys;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bench::{Bench, Contender, Measured, Settings};
use peer::Dialect;

struct Args {
    stage: PathBuf,
    out: PathBuf,
    quick: bool,
    callgrind: bool,
    only: Option<Vec<String>>,
    readme: Vec<PathBuf>,
    cold_runs: Option<usize>,
    warm_n: Option<usize>,
    pin: bool,
    dialect: Dialect,
}

fn usage() -> ! {
    eprintln!("usage: scf-bench --stage DIR --out DIR [--platform scf|lambda] [--quick] [--no-callgrind] [--only ID,ID,...] [--readme FILE] [--cold-runs N] [--warm-n N] [--no-pin]");
    for d in [Dialect::Scf, Dialect::Lambda] {
        let ids = bench::contenders(d).iter().map(|c| c.id).collect::<Vec<_>>().join(", ");
        eprintln!("contender ids, {}: {ids}", report::platform_name(d));
    }
    exit(2)
}

fn parse_args() -> Args {
    let mut stage = None;
    let mut out = None;
    let mut quick = false;
    let mut callgrind = true;
    let mut only = None;
    let mut readme = Vec::new();
    let mut cold_runs = None;
    let mut warm_n = None;
    let mut pin = true;
    let mut dialect = Dialect::Scf;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--stage" => stage = it.next().map(PathBuf::from),
            "--out" => out = it.next().map(PathBuf::from),
            "--quick" => quick = true,
            "--no-callgrind" => callgrind = false,
            "--no-pin" => pin = false,
            "--platform" => {
                dialect = match it.next().as_deref() {
                    Some("scf") => Dialect::Scf,
                    Some("lambda") => Dialect::Lambda,
                    _ => usage(),
                }
            }
            "--only" => only = it.next().map(|s| s.split(',').map(str::to_string).collect()),
            "--readme" => readme.push(it.next().map(PathBuf::from).unwrap_or_else(|| usage())),
            "--cold-runs" => cold_runs = Some(it.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| usage())),
            "--warm-n" => warm_n = Some(it.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let (Some(stage), Some(out)) = (stage, out) else { usage() };
    Args { stage, out, quick, callgrind, only, readme, cold_runs, warm_n, pin, dialect }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("peer") {
        callgrind_peer()
    }
    if std::env::args().nth(1).as_deref() == Some("listen") {
        listen::main(&std::env::args().skip(2).collect::<Vec<_>>())
    }
    let args = parse_args();
    let t0 = Instant::now();
    let mut settings = if args.quick { Settings::quick() } else { Settings::full() };
    settings.callgrind = args.callgrind;
    settings.dialect = args.dialect;
    if let Some(n) = args.cold_runs {
        settings.cold_runs = n;
    }
    if let Some(n) = args.warm_n {
        settings.warm_n = n;
    }
    let contenders: Vec<Contender> = bench::contenders(args.dialect)
        .iter()
        .copied()
        .filter(|c| args.only.as_ref().is_none_or(|o| o.iter().any(|id| id == c.id)))
        .collect();
    if contenders.is_empty() {
        usage();
    }
    // One CPU for the peer and every contender: the protocol is strictly
    // sequential, so nothing runs less in parallel, and a hand-over is a
    // local context switch instead of a cross-CPU wake-up. In a VM with
    // haltpoll cpuidle, such wake-ups cost ~100 µs once the halt-poll window
    // has adapted (after a few hundred round trips): they would bury every
    // warm-path difference under the hypervisor's wake-up latency.
    let pinned = if args.pin {
        match sys::pin_to_last_cpu() {
            Ok(cpu) => Some(cpu),
            Err(e) => {
                eprintln!("bench: cannot pin to one CPU ({e}); running unpinned");
                None
            }
        }
    } else {
        None
    };
    let lambda = args.dialect == Dialect::Lambda;
    let results = args.stage.parent().unwrap_or(Path::new(".")).join(if lambda { "results-lambda" } else { "results" });
    let load_before = loadavg();
    let mut bench = Bench::new(&args.stage, &results, settings.clone()).unwrap_or_else(|e| {
        eprintln!("bench: cannot set up: {e}");
        exit(1)
    });
    let measured = bench.run_all(&contenders);
    let (cold_event_len, _, _) = bench.event_sizes();

    if let Err(e) = write_raw(&results, &contenders, &measured) {
        eprintln!("bench: cannot write raw samples: {e}");
    }
    let ctx = report::Context {
        date_utc: utc_now(),
        cpu: cpu_model(),
        cores: logical_cores(),
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string(),
        mem_gib: mem_total_gib(),
        load_before,
        load_after: loadavg(),
        build_info: build_info(&args.stage),
        platform_bytes: Some((with_libraries("bash", None), with_libraries("curl", None)))
            .filter(|(a, b)| *a > 0 && *b > 0),
        // The python3 the awslambdaric contender finds on its PATH.
        python_bytes: Some(with_libraries("python3", Some(bench::CONTENDER_PATH))).filter(|n| *n > 0),
        settings,
        cold_event_len,
        pinned,
        elapsed_s: t0.elapsed().as_secs_f64(),
    };
    let md = report::markdown(&contenders, &measured, &ctx);
    let svg = report::svg(&contenders, &measured, &ctx);
    let write = |name: &str, text: &str| {
        let path = args.out.join(name);
        if let Err(e) = fs::create_dir_all(&args.out).and_then(|_| fs::write(&path, text)) {
            eprintln!("bench: cannot write {}: {e}", path.display());
            exit(1);
        }
        eprintln!("bench: wrote {}", path.display());
    };
    let (md_name, svg_name) = report::file_names(args.dialect);
    write(md_name, &md);
    write(svg_name, &svg);
    for readme in &args.readme {
        let link = relative_to(&args.out.join(md_name), readme.parent().unwrap_or(Path::new("")));
        let summary = report::summary(&contenders, &measured, &ctx, &link);
        let marker = report::summary_marker(args.dialect);
        let spliced = fs::read_to_string(readme).ok().and_then(|doc| report::splice(&doc, marker, &summary));
        match spliced.map(|doc| fs::write(readme, doc)) {
            Some(Ok(())) => eprintln!("bench: updated the summary in {}", readme.display()),
            Some(Err(e)) => eprintln!("bench: cannot write {}: {e}", readme.display()),
            None => eprintln!("bench: {} has no {marker} markers; not updated", readme.display()),
        }
    }
    print!("{md}");
}

/// `path` as seen from directory `dir` when `path` lies under it, else
/// `path` itself (both relative to the same working directory).
fn relative_to(path: &Path, dir: &Path) -> String {
    let (p, d): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    d[common..].iter().for_each(|_| out.push(".."));
    p[common..].iter().for_each(|c| out.push(c));
    out.to_string_lossy().into_owned()
}

/// Every cold-start and warm-path sample, for anyone who wants more than
/// median and p90.
fn write_raw(dir: &Path, cs: &[Contender], m: &[Measured]) -> std::io::Result<()> {
    let mut tsv = String::from("contender\trun\texec_to_ready_us\texec_to_first_response_us\n");
    for (c, x) in cs.iter().zip(m) {
        for (i, (r, f)) in x.cold_ready_us.iter().zip(&x.cold_first_us).enumerate() {
            let _ = writeln!(tsv, "{}\t{i}\t{r:.1}\t{f:.1}", c.id);
        }
    }
    fs::write(dir.join("cold.tsv"), tsv)?;
    let mut tsv = String::from("contender\tinvocation\tlatency_us\n");
    for (c, x) in cs.iter().zip(m) {
        for (i, l) in x.warm_latencies_us.iter().enumerate() {
            let _ = writeln!(tsv, "{}\t{i}\t{l:.1}", c.id);
        }
    }
    fs::write(dir.join("warm.tsv"), tsv)
}

fn loadavg() -> String {
    let s = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn cpu_model() -> String {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Logical CPUs of the machine (not of this process, which is pinned).
fn logical_cores() -> usize {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines().filter(|l| l.starts_with("processor")).count()
}

fn mem_total_gib() -> f64 {
    let info = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / (1024.0 * 1024.0)
}

fn build_info(stage: &Path) -> Vec<(String, String)> {
    fs::read_to_string(stage.join("build-info.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Bytes of the executable `name` (found on `path`, else on PATH) plus the
/// shared libraries `ldd` lists for it: what the platform image must
/// provide for the bash + curl bootstrap (or the Python one) to run. 0 if
/// it cannot be found.
fn with_libraries(name: &str, path: Option<&str>) -> u64 {
    let search = path.map(std::ffi::OsString::from).or_else(|| std::env::var_os("PATH"));
    let Some(path) = search.and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file())) else {
        return 0;
    };
    let mut total = fs::metadata(&path).map_or(0, |m| m.len());
    if let Ok(out) = Command::new("ldd").arg(&path).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or
            // "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let lib = line.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if lib.starts_with('/') {
                total += fs::metadata(lib).map_or(0, |m| m.len());
            }
        }
    }
    total
}

/// The current UTC time as "YYYY-MM-DD HH:MM UTC".
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// Gregorian date of a count of days since 1970-01-01 (the well-known
/// era-based conversion: 400-year eras of 146,097 days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The event [`callgrind_peer`] hands out (1,022 bytes of JSON) and its
/// context, as the Python peer had them.
fn callgrind_event(dialect: Dialect) -> (Vec<u8>, scf_emulator::dialect::EventContext<'static>) {
    use scf_emulator::dialect::EventContext;
    let mut event = b"{\"k\":\"".to_vec();
    event.extend(b"a1".repeat(505));
    event.extend_from_slice(b"\"}xxxx");
    let ctx = match dialect {
        Dialect::Scf => EventContext {
            request_id: "0123456789abcdef0123456789abcdef",
            memory_mb: 128,
            timeout_ms: 3000,
            ..EventContext::default()
        },
        Dialect::Lambda => EventContext {
            request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
            deadline_ms: Some(1_900_000_000_000),
            function_arn: Some("arn:aws:lambda:eu-west-1:123456789012:function:f"),
            trace_id: Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"),
            ..EventContext::default()
        },
    };
    (event, ctx)
}

/// `scf-bench peer scf|lambda PORT N READY_FILE`: the peer of
/// `bench/dialects/measure`, which counts a bootstrap's instructions under
/// callgrind. It listens on 127.0.0.1:PORT, creates READY_FILE, serves N
/// 1 KiB events and leaves the next `/next` unanswered (with N = 0: one
/// event, and its response unanswered), then holds the connection open
/// until it is killed. Its bytes are those of the Python peer it replaces
/// (no `Content-Type`, these ids and context values, `200` with no body
/// for every result in both dialects), so the figures stay comparable with
/// those measured before.
fn callgrind_peer() -> ! {
    use peer::{Outcome, Peer, Plan, Timeline};
    let usage = || -> ! {
        eprintln!("usage: scf-bench peer scf|lambda PORT N READY_FILE");
        exit(2)
    };
    let a: Vec<String> = std::env::args().skip(2).collect();
    let [dialect, port, n, ready] = &a[..] else { usage() };
    let dialect = match dialect.as_str() {
        "scf" => Dialect::Scf,
        "lambda" => Dialect::Lambda,
        _ => usage(),
    };
    let (Ok(port), Ok(n)) = (port.parse::<u16>(), n.parse::<usize>()) else { usage() };
    let (event, ctx) = callgrind_event(dialect);
    let reply = peer::reply_with(dialect, &ctx, &[], &event);
    let expected = [&b"Echoing request: '"[..], &event, b"'"].concat();
    let fail = |what: &str| -> ! {
        eprintln!("scf-bench peer: {what}");
        exit(1)
    };
    let mut p = Peer::on_port(port).unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")));
    fs::write(ready, "").unwrap_or_else(|e| fail(&format!("cannot create {ready}: {e}")));
    let plan = Plan {
        dialect,
        request_id: ctx.request_id.as_bytes(),
        event: &reply,
        accepted: peer::accepted(Dialect::Scf),
        expected: &expected,
        events: n.max(1),
        stop_after: if n == 0 { 1 } else { 0 },
        deadline: Instant::now() + std::time::Duration::from_secs(3600),
    };
    match p.serve(&plan, &mut Timeline::default(), None) {
        Ok(Outcome::Done | Outcome::Idle) => {}
        Ok(other) => fail(&format!("{other:?}")),
        Err(e) => fail(&e.to_string()),
    }
    // The bootstrap waits for the answer left out; keep its connection.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::{callgrind_event, civil_from_days, peer, Dialect};

    /// `scf-bench peer` sends the bytes the Python peer of
    /// bench/dialects/measure sent, so its figures stay comparable.
    #[test]
    fn the_callgrind_peer_sends_the_python_peers_bytes() {
        let event = format!("{{\"k\":\"{}\"}}xxxx", "a1".repeat(505));
        assert_eq!(event.len(), 1022);
        let want = [
            (Dialect::Scf, format!(
                "HTTP/1.1 200 OK\r\nrequest_id: 0123456789abcdef0123456789abcdef\r\nmemory_limit_in_mb: 128\r\n\
                 time_limit_in_ms: 3000\r\nContent-Length: 1022\r\n\r\n{event}"
            )),
            (Dialect::Lambda, format!(
                "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
                 Lambda-Runtime-Deadline-Ms: 1900000000000\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:f\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\nContent-Length: 1022\r\n\r\n{event}"
            )),
        ];
        for (dialect, want) in want {
            let (ev, ctx) = callgrind_event(dialect);
            assert_eq!(ev, event.as_bytes());
            assert_eq!(String::from_utf8(peer::reply_with(dialect, &ctx, &[], &ev)).unwrap(), want);
        }
        assert_eq!(peer::accepted(Dialect::Scf), b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn report_links_are_relative_to_the_readme() {
        use std::path::Path;
        assert_eq!(super::relative_to(Path::new("bench/report-lambda.md"), Path::new("bench")), "report-lambda.md");
        assert_eq!(super::relative_to(Path::new("bench/report-lambda.md"), Path::new("")), "bench/report-lambda.md");
        // The figures records, where scripts/bench splices its summary.
        assert_eq!(super::relative_to(Path::new("bench/report.md"), Path::new("docs/figures")), "../../bench/report.md");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
