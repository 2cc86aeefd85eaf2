//! Host names for SCF_RUNTIME_API in the default build: /etc/hosts, then
//! DNS to the servers of /etc/resolv.conf. Each case runs the real binary
//! in a private mount namespace (`unshare -m`) where test-made files are
//! bind-mounted over /etc/hosts and /etc/resolv.conf, and the name server
//! is a tiny scripted one on a loopback address, port 53 (root only, as CI
//! and the development machines run).

mod common;
use common::*;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How the scripted name server treats one name.
#[derive(Clone, Copy)]
enum Rule {
    A([u8; 4]),
    /// A CNAME to another name, then that name's A record.
    Cname(&'static str, [u8; 4]),
    NxDomain,
    ServFail,
    Silent,
}

fn rule_for(rules: &[(&str, Rule)], name: &str) -> Rule {
    rules.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, r)| *r).unwrap_or(Rule::NxDomain)
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

/// Answers queries on `sock` by `rules` until `stop`.
fn serve_dns(sock: UdpSocket, rules: Vec<(&'static str, Rule)>, stop: Arc<AtomicBool>) {
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        let q = &buf[..n];
        // Question name, as dotted text, and its type.
        let mut i = 12;
        let mut labels = Vec::new();
        while q[i] != 0 {
            let l = q[i] as usize;
            labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + l]).into_owned());
            i += 1 + l;
        }
        let qend = i + 5;
        let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
        let name = labels.join(".");
        let rule = rule_for(&rules, &name);
        let (rcode, records): (u8, Vec<Vec<u8>>) = match rule {
            Rule::Silent => continue,
            Rule::NxDomain => (3, vec![]),
            Rule::ServFail => (2, vec![]),
            Rule::A(ip) | Rule::Cname(_, ip) => {
                let mut recs = Vec::new();
                let mut owner = vec![0xc0, 0x0c];
                if let Rule::Cname(target, _) = rule {
                    let t = encode_name(target);
                    let mut r = owner.clone();
                    r.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0, 60, 0, t.len() as u8]);
                    r.extend_from_slice(&t);
                    recs.push(r);
                    owner = t;
                }
                if qtype == 1 {
                    let mut r = owner;
                    r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                    r.extend_from_slice(&ip);
                    recs.push(r);
                }
                (0, recs)
            }
        };
        let mut resp = vec![q[0], q[1], 0x81, 0x80 | rcode, 0, 1, 0, records.len() as u8, 0, 0, 0, 0];
        resp.extend_from_slice(&q[12..qend]);
        for r in records {
            resp.extend_from_slice(&r);
        }
        let _ = sock.send_to(&resp, from);
    }
}

struct Case {
    hosts: &'static str,
    resolv: String,
    rules: Vec<(&'static str, Rule)>,
}

/// Runs the demo bootstrap with SCF_RUNTIME_API=`name` in a namespace with
/// the case's files; returns the process (already started).
fn run_case(case: &Case, name: &str, api: &RuntimeApi) -> (Proc, Arc<AtomicBool>) {
    let dir = root().join("target/it/resolve").join(format!("{}-{}", std::process::id(), name.replace('.', "_")));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts");
    let resolv = dir.join("resolv.conf");
    std::fs::write(&hosts, case.hosts).unwrap();
    std::fs::write(&resolv, &case.resolv).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let sock = UdpSocket::bind("127.53.53.53:53").expect("bind a name server on 127.53.53.53:53 (needs root)");
    let rules = case.rules.clone();
    let s = stop.clone();
    thread::spawn(move || serve_dns(sock, rules, s));

    let script = "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/resolv.conf && exec \"$3\"";
    let port = api.addr().port().to_string();
    let bin = resolving_bootstrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", script, "sh"]).arg(&hosts).arg(&resolv).arg(&bin);
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("SCF_RUNTIME_API", name)
        .env("SCF_RUNTIME_API_PORT", &port)
        .env("_HANDLER", "index.main_handler")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    (Proc::spawn(cmd), stop)
}

/// The demo with the resolver, which the default build leaves out: as
/// `scripts/package --features resolve` ships it (built once per test process).
fn resolving_bootstrap() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let dir = scratch("resolve", "package");
        let zip = dir.join("resolve.zip");
        let o = run_package(&["--features", "resolve"], &zip);
        assert!(o.status.success(), "scripts/package --features resolve: {}", String::from_utf8_lossy(&o.stderr));
        let o = Command::new("unzip").arg("-oq").arg(&zip).arg("-d").arg(&dir).output().expect("run unzip");
        assert!(o.status.success(), "unzip: {}", String::from_utf8_lossy(&o.stderr));
        dir.join("bootstrap")
    })
    .clone()
}

const RESOLV: &str = "nameserver 127.53.53.53\nsearch test.internal\noptions timeout:1 attempts:1\n";

fn rules() -> Vec<(&'static str, Rule)> {
    vec![
        ("api.test.internal", Rule::A([127, 0, 0, 1])),
        ("alias.test.internal", Rule::Cname("api.test.internal", [127, 0, 0, 1])),
        ("broken.test.internal", Rule::ServFail),
        ("slow.test.internal", Rule::Silent),
    ]
}

fn case() -> Case {
    Case {
        hosts: "127.0.0.1 localhost\n# 10.9.9.9 runtime-api.local\n127.0.0.1 runtime-api.local api-alias\n",
        resolv: RESOLV.into(),
        rules: rules(),
    }
}

// One test, run in sequence: the name server needs port 53 on one address.
#[test]
fn host_names_from_hosts_file_and_dns() {
    let api = api(Quirks::default());
    let c = case();
    for name in ["runtime-api.local", "API-ALIAS", "api", "api.test.internal", "alias", "api.test.internal."] {
        let (p, stop) = run_case(&c, name, &api);
        let event = format!("via {name}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()), "{name}");
        drop(p);
        stop.store(true, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(150));
    }
    for (name, why, max) in [
        ("nowhere", "cannot be resolved: no address for it in /etc/hosts or DNS", 3),
        ("broken", "cannot be resolved: the DNS server answered with an error", 3),
        ("slow", "cannot be resolved: no DNS server from /etc/resolv.conf answered", 5),
    ] {
        let (p, stop) = run_case(&c, name, &api);
        let (status, stderr, took) = p.wait(Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(150));
        assert_eq!(status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr, format!("scf-bootstrap: SCF_RUNTIME_API='{name}' {why}\n"));
        assert!(took < Duration::from_secs(max), "{name}: {took:?}");
    }
}
