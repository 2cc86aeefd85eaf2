//! `scf-bench listen BOOTSTRAP FLOOR [RUNS]`: exec -> listening of an image
//! function's server (`BOOTSTRAP serve`, push mode) against the C floor
//! that only binds and listens (bench/floor/listen.c), in interleaved
//! runs: medians, p90s and the ratio of the medians, with the machine.
//!
//! Each run gets a fresh loopback port in `SCF_BOOTSTRAP_LISTEN` and the
//! environment of an SCF image (docs/image-functions.md); the clock starts
//! just before the spawn (fork + exec, the same for both programs) and
//! stops when a `connect` to the port succeeds, which it does as soon as
//! `listen(2)` has returned (the kernel completes the handshake into the
//! backlog: the floor never accepts). Until then each `connect` is refused
//! at once, so the prober retries without sleeping; it runs unpinned, so
//! that on a machine with two CPUs it does not take the one the program
//! starts on. The program is then killed and reaped.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{exit, Stdio};
use std::time::{Duration, Instant};

use crate::{proc, stats, sys};

/// What a run waits for at most before calling the program broken.
const LIMIT: Duration = Duration::from_secs(10);

/// An image's built-in environment on SCF, and the address to serve.
fn env(addr: SocketAddr) -> Vec<(String, String)> {
    [
        ("SCF_BOOTSTRAP_LISTEN", addr.to_string()),
        ("TENCENTCLOUD_RUNENV", "SCF".into()),
        ("USER_CODE_ROOT", "/var/user/".into()),
        ("USER", "qcloud".into()),
        ("SCF_FUNCTIONNAME", "bench-echo".into()),
        ("SCF_FUNCTIONVERSION", "$LATEST".into()),
        ("TENCENTCLOUD_REGION", "ap-guangzhou".into()),
        ("TENCENTCLOUD_APPID", "1250000000".into()),
        ("TENCENTCLOUD_UIN", "100000000001".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// One run of `argv`: microseconds from the spawn to a successful
/// connect, and the connection (still open, for the check).
fn once(argv: &[&OsStr]) -> Result<(f64, TcpStream), String> {
    let addr = free_port().map_err(|e| format!("no free port: {e}"))?;
    let dir = Path::new("/");
    let started = proc::start(dir, argv, &env(addr), Stdio::null()).map_err(|e| format!("cannot start: {e}"))?;
    let result = loop {
        if let Ok(s) = TcpStream::connect(addr) {
            break Ok((started.at.elapsed().as_secs_f64() * 1e6, s));
        }
        if let Some(status) = sys::try_reap(started.pid) {
            break Err(format!("exited ({}) before listening on {addr}", sys::describe_status(status)));
        }
        if started.at.elapsed() > LIMIT {
            break Err(format!("not listening on {addr} within {LIMIT:?}"));
        }
    };
    if result.is_ok() {
        proc::stop(started.pid, libc::SIGKILL);
    }
    result
}

/// The bootstrap is the image's server: a pushed event gets the demo's
/// echo (so the time measured is that of a working server).
fn check_serves(argv: &[&OsStr]) -> Result<(), String> {
    let addr = free_port().map_err(|e| format!("no free port: {e}"))?;
    let started =
        proc::start(Path::new("/"), argv, &env(addr), Stdio::null()).map_err(|e| format!("cannot start: {e}"))?;
    let answer = (|| {
        let mut s = loop {
            match TcpStream::connect(addr) {
                Ok(s) => break s,
                Err(_) if started.at.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(format!("not listening on {addr}: {e}")),
            }
        };
        s.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
        let req = "POST /event-invoke HTTP/1.1\r\nHost: x\r\nX-Scf-Request-Id: check\r\nContent-Length: 2\r\n\
                   Connection: close\r\n\r\n{}";
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut a = Vec::new();
        let _ = s.read_to_end(&mut a);
        Ok(String::from_utf8_lossy(&a).into_owned())
    })();
    proc::stop(started.pid, libc::SIGKILL);
    let a = answer?;
    if a.starts_with("HTTP/1.1 200 ") && a.ends_with("Echoing request: '{}'") {
        Ok(())
    } else {
        Err(format!("a pushed event got {a:?}, not the demo's echo"))
    }
}

pub fn main(args: &[String]) -> ! {
    let usage = || -> ! {
        eprintln!("usage: scf-bench listen BOOTSTRAP FLOOR [RUNS]   (RUNS: 2000 by default)");
        exit(2)
    };
    let (boot, floor, runs) = match args {
        [b, f] => (b, f, 2000),
        [b, f, n] => (b, f, n.parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    };
    if runs == 0 {
        usage();
    }
    // The programs run from /: their paths made absolute first.
    let absolute = |p: &String| {
        std::fs::canonicalize(p).map(|p| p.display().to_string()).unwrap_or_else(|e| {
            eprintln!("scf-bench listen: {p}: {e}");
            exit(1)
        })
    };
    let (boot, floor) = (&absolute(boot), &absolute(floor));
    sys::become_subreaper();
    let serve = [OsStr::new(boot.as_str()), OsStr::new("serve")];
    let programs: [(&str, &[&OsStr]); 2] =
        [("bootstrap serve (push mode)", &serve), ("C floor (bench/floor/listen.c)", &[OsStr::new(floor.as_str())])];
    if let Err(e) = check_serves(&serve) {
        eprintln!("scf-bench listen: {boot} serve: {e}");
        exit(1)
    }
    let load_before = crate::loadavg();
    let t0 = Instant::now();
    let mut samples = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    for round in 0..runs {
        // Interleaved, each first in every other round.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            match once(programs[i].1) {
                Ok((us, _)) => samples[i].push(us),
                Err(e) => {
                    eprintln!("scf-bench listen: {}: {e}", programs[i].0);
                    exit(1)
                }
            }
        }
    }
    let summaries = samples.each_ref().map(|s| stats::summarize(s).expect("runs > 0"));
    println!("| program | exec → listening, median | p90 | runs |");
    println!("|---|--:|--:|--:|");
    for ((name, _), s) in programs.iter().zip(&summaries) {
        println!("| {name} | {:.1} µs | {:.1} µs | {} |", s.median, s.p90, s.n);
    }
    println!();
    println!(
        "bootstrap / floor, medians: {:.3}× (issue 22's target: within 1.05×)",
        summaries[0].median / summaries[1].median
    );
    println!();
    println!(
        "Machine: {} ({} logical CPUs), Linux {}; load average {} before, {} after; {runs} interleaved rounds in {:.1} s.",
        crate::cpu_model(),
        crate::logical_cores(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        load_before,
        crate::loadavg(),
        t0.elapsed().as_secs_f64()
    );
    exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that listens on SCF_BOOTSTRAP_LISTEN is timed (and then
    /// killed); one that exits first is a one-line error naming its exit.
    #[test]
    fn a_run_times_the_listener_and_names_an_early_exit() {
        sys::become_subreaper();
        let listens = "import os, socket\nh, p = os.environ['SCF_BOOTSTRAP_LISTEN'].rsplit(':', 1)\n\
                       s = socket.socket(); s.bind((h, int(p))); s.listen()\n\
                       while True: s.accept()[0].close()\n";
        let argv = [OsStr::new("/usr/bin/python3"), OsStr::new("-c"), OsStr::new(listens)];
        let (us, _conn) = once(&argv).unwrap();
        assert!(us > 0.0 && us < LIMIT.as_secs_f64() * 1e6, "{us}");
        let err = once(&[OsStr::new("/bin/false")]).unwrap_err();
        assert!(err.starts_with("exited (exit 1) before listening on 127.0.0.1:"), "{err}");
        // Something that listens but is not the image's server fails the check.
        let err = check_serves(&argv).unwrap_err();
        assert!(err.starts_with("a pushed event got"), "{err}");
    }
}
