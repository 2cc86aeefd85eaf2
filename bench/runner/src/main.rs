//! `scf-bench`: measures the contenders that `scripts/bench` built and
//! writes the report.
//!
//! ```text
//! scf-bench --stage DIR --out DIR [--quick] [--no-callgrind] [--only ID,ID] [--readme FILE]
//!           [--cold-runs N] [--warm-n N] [--no-pin]
//! ```
//!
//! `--stage` holds one directory per contender (see [`bench::CONTENDERS`])
//! and `build-info.txt` (`key: value` lines for the report); `--out` gets
//! `report.md` and `report.svg`; `--readme` names a file whose
//! `bench:summary` block gets the headline table. Raw samples and scratch files go to
//! `DIR/../results` next to the stage.
//!
//! Layers: [`peer`] is the runtime API side (pure request framing and a
//! poll loop), [`proc`] starts, stops and inspects contenders, [`bench`](mod@bench)
//! defines each measurement as a peer session, [`report`] turns the figures
//! into Markdown and SVG. [`sys`] holds the only `unsafe` code.

mod bench;
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

use bench::{Bench, Contender, Measured, Settings, CONTENDERS};

struct Args {
    stage: PathBuf,
    out: PathBuf,
    quick: bool,
    callgrind: bool,
    only: Option<Vec<String>>,
    readme: Option<PathBuf>,
    cold_runs: Option<usize>,
    warm_n: Option<usize>,
    pin: bool,
}

fn usage() -> ! {
    eprintln!("usage: scf-bench --stage DIR --out DIR [--quick] [--no-callgrind] [--only ID,ID,...] [--readme FILE] [--cold-runs N] [--warm-n N] [--no-pin]");
    eprintln!("contender ids: {}", CONTENDERS.iter().map(|c| c.id).collect::<Vec<_>>().join(", "));
    exit(2)
}

fn parse_args() -> Args {
    let mut stage = None;
    let mut out = None;
    let mut quick = false;
    let mut callgrind = true;
    let mut only = None;
    let mut readme = None;
    let mut cold_runs = None;
    let mut warm_n = None;
    let mut pin = true;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--stage" => stage = it.next().map(PathBuf::from),
            "--out" => out = it.next().map(PathBuf::from),
            "--quick" => quick = true,
            "--no-callgrind" => callgrind = false,
            "--no-pin" => pin = false,
            "--only" => only = it.next().map(|s| s.split(',').map(str::to_string).collect()),
            "--readme" => readme = it.next().map(PathBuf::from),
            "--cold-runs" => cold_runs = Some(it.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| usage())),
            "--warm-n" => warm_n = Some(it.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let (Some(stage), Some(out)) = (stage, out) else { usage() };
    Args { stage, out, quick, callgrind, only, readme, cold_runs, warm_n, pin }
}

fn main() {
    let args = parse_args();
    let t0 = Instant::now();
    let mut settings = if args.quick { Settings::quick() } else { Settings::full() };
    settings.callgrind = args.callgrind;
    if let Some(n) = args.cold_runs {
        settings.cold_runs = n;
    }
    if let Some(n) = args.warm_n {
        settings.warm_n = n;
    }
    let contenders: Vec<Contender> =
        CONTENDERS.into_iter().filter(|c| args.only.as_ref().is_none_or(|o| o.iter().any(|id| id == c.id))).collect();
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
    let results = args.stage.parent().unwrap_or(Path::new(".")).join("results");
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
        platform_bytes: Some((with_libraries("bash"), with_libraries("curl"))).filter(|(a, b)| *a > 0 && *b > 0),
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
    write("report.md", &md);
    write("report.svg", &svg);
    if let Some(readme) = &args.readme {
        let summary = report::summary(&contenders, &measured, &ctx);
        let spliced = fs::read_to_string(readme).ok().and_then(|doc| report::splice(&doc, &summary));
        match spliced.map(|doc| fs::write(readme, doc)) {
            Some(Ok(())) => eprintln!("bench: updated the summary in {}", readme.display()),
            Some(Err(e)) => eprintln!("bench: cannot write {}: {e}", readme.display()),
            None => eprintln!("bench: {} has no bench:summary markers; not updated", readme.display()),
        }
    }
    print!("{md}");
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

/// Bytes of the executable `name` (found on PATH) plus the shared
/// libraries `ldd` lists for it: what the platform image must provide for
/// the bash + curl bootstrap to run. 0 if it cannot be found.
fn with_libraries(name: &str) -> u64 {
    let Some(path) =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
    else {
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

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
