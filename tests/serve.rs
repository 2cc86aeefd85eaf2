//! Push mode, `bootstrap serve` (cargo feature `serve`), against clients
//! nobody here wrote: curl, Python's http.client, nginx as a reverse proxy
//! with upstream keep-alive; and against raw sockets for what those clients
//! will not send (malformed requests, stalls, pipelining). The handler is
//! tests/c/serve.c's `probe` (its event says what it does), so that one
//! server meets each case in turn and is seen to go on.
//!
//! Needs curl, python3 and nginx (Debian's; .ci/run installs them): a
//! missing one skips its test with a marker line, or fails it under CI.

mod common;

use common::*;
use scf_emulator::http::{parse_response_head, Conn};
use scf_emulator::testkit::require_tool;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The bootstrap of these tests: the probe handler (and the C test
/// handlers, for the init hook and the crash scenes), with push mode.
fn probe_bin() -> PathBuf {
    build(&Build {
        name: "serve-c",
        handlers: &["tests/c/serve.c", "tests/c/handlers.c", "tests/c/crashes.c"],
        features: "serve",
        ..Default::default()
    })
}

/// The image build: push mode alone, the echo demo (tests/common).
fn demo_serve() -> PathBuf {
    image_demo()
}

/// A free loopback port (bound, then released).
fn free_port(ip: &str) -> SocketAddr {
    TcpListener::bind(format!("{ip}:0")).unwrap().local_addr().unwrap()
}

/// A running `bootstrap serve`, stopped (and its stderr read) on drop or
/// by [`Server::stop`].
struct Server {
    proc: Option<Proc>,
    addr: SocketAddr,
}

impl Server {
    /// Starts `bin serve` on a free 127.0.0.1 port with `_HANDLER=probe`,
    /// SCF's image environment and `extra`, and waits for it to listen.
    fn start(bin: &Path, extra: &[(&str, &str)]) -> Server {
        Server::start_at(bin, free_port("127.0.0.1"), extra)
    }

    fn start_at(bin: &Path, addr: SocketAddr, extra: &[(&str, &str)]) -> Server {
        let listen = addr.to_string();
        let mut env = vec![
            ("SCF_BOOTSTRAP_LISTEN", listen.as_str()),
            ("_HANDLER", "probe"),
            ("SCF_FUNCTIONNAME", "from-env"),
            ("SCF_FUNCTIONVERSION", "$LATEST"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_RUNENV", "SCF"),
        ];
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k, v));
        }
        let mut cmd = command(bin);
        cmd.arg("serve").env_clear().envs(env).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        no_core_dumps(&mut cmd);
        let mut proc = Proc::spawn(cmd);
        let started = Instant::now();
        // The platform's health check: a TCP connection, closed at once.
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = proc.child.try_wait().unwrap() {
                panic!("bootstrap serve exited ({status}) before listening: {}", proc.stop());
            }
            assert!(started.elapsed() < T, "not listening on {addr} within {T:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
        Server { proc: Some(proc), addr }
    }

    fn pid(&self) -> u32 {
        self.proc.as_ref().unwrap().child.id()
    }

    /// Waits for the process to end (it must, within `limit`): its status
    /// and stderr.
    fn wait(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let (status, err, _) = self.proc.take().unwrap().wait(limit);
        (status, err)
    }

    /// Stops it: its stderr.
    fn stop(mut self) -> String {
        self.proc.take().unwrap().stop()
    }

    fn connect(&self) -> Conn<TcpStream> {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        Conn::new(s)
    }

    fn url(&self) -> String {
        format!("http://{}/event-invoke", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(p) = self.proc.take() {
            p.stop();
        }
    }
}

/// An answer as a client reads it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The probe's `key=value` report.
    fn report(&self) -> HashMap<String, String> {
        assert_eq!(self.status, 200, "{self:?}");
        fields(&self.body)
    }
}

/// Reads one answer from `c` (100 Continue included: it is an answer).
fn read_answer(c: &mut Conn<TcpStream>) -> Option<Answer> {
    let raw = c.read_head_bytes().ok()??;
    let head = parse_response_head(&raw).expect("a response head");
    let body = c.read_body(head.framing().expect("framed"), 8 << 20).expect("a body");
    Some(Answer { status: head.status, headers: head.headers, body })
}

/// A POST of `event` to /event-invoke with `fields` (and a Host), in one
/// write.
fn post(event: &[u8], fields: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("POST /event-invoke HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nContent-Length: {}\r\n", event.len());
    for (k, v) in fields {
        r += &format!("{k}: {v}\r\n");
    }
    r += "\r\n";
    [r.as_bytes(), event].concat()
}

/// Sends `request` on a new connection and reads one answer.
fn exchange(s: &Server, request: &[u8]) -> Answer {
    let mut c = s.connect();
    c.send(request).unwrap();
    read_answer(&mut c).expect("an answer")
}

/// Whether the server answers an ordinary event (it goes on).
fn still_serves(s: &Server) {
    let a = exchange(s, &post(b"ok?", &[("X-Scf-Request-Id", "after")]));
    assert_eq!(a.report()["request_id"], "after");
}

/// SCF's headers for an event, as [E] in docs/image-functions.md shows
/// them (with credentials, as a function with a role gets them).
const SCF_HEADERS: &[(&str, &str)] = &[
    ("X-Scf-Request-Id", "3b21a413-6e6a-11ee-b2ba-52540008c7f7"),
    ("X-Scf-Memory", "512"),
    ("X-Scf-Timeout", "300000"),
    ("X-Scf-Version", "$LATEST"),
    ("X-Scf-Name", "ceac"),
    ("X-Scf-Namespace", "default"),
    ("X-Scf-Region", "na-siliconvalley"),
    ("X-Scf-Appid", "1252245989"),
    ("X-Scf-Uin", "100000090134"),
    ("X-Scf-Secret-Id", "AKIDsecretidvalue"),
    ("X-Scf-Secret-Key", "secretkeyvalue"),
    ("X-Scf-Session-Token", "sessiontokenvalue"),
    ("User-Agent", "Go-http-client/1.1"),
    ("Content-Type", "application/json"),
];

fn curl() -> Option<&'static str> {
    let found = Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    require_tool("curl", found.then_some("curl"), "apt-get install curl")
}

/// `curl -sS -i ARGS URL`: the status line's code, the head's lines and the body.
fn curl_run(args: &[&str], url: &str) -> (u16, String, Vec<u8>) {
    let out = Command::new("curl").args(["-sS", "-i", "--max-time", "30"]).args(args).arg(url).output().unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    // The last head (a 100 Continue comes first).
    let text = out.stdout;
    let mut at = 0;
    loop {
        let end = text.windows(4).skip(at).position(|w| w == b"\r\n\r\n").map(|p| p + at + 4).expect("a head");
        let head = String::from_utf8_lossy(&text[at..end]).into_owned();
        if head.starts_with("HTTP/1.1 100") {
            at = end;
            continue;
        }
        let code = head.split(' ').nth(1).unwrap().parse().unwrap();
        return (code, head, text[end..].to_vec());
    }
}

#[test]
fn curl_posts_events_with_scf_s_headers_and_reads_the_results() {
    let Some(_) = curl() else { return };
    let s = Server::start(&probe_bin(), &[]);
    let mut args: Vec<String> = vec!["-X".into(), "POST".into(), "--data-binary".into(), r#"{"key1":"v1"}"#.into()];
    for (k, v) in SCF_HEADERS {
        args.extend(["-H".into(), format!("{k}: {v}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let (code, head, body) = curl_run(&args, &s.url());
    assert_eq!(code, 200, "{head}");
    let r = fields(&body);
    assert_eq!(r["request_id"], "3b21a413-6e6a-11ee-b2ba-52540008c7f7");
    assert_eq!((r["memory"].as_str(), r["time"].as_str()), ("512", "300000"));
    let deadline: u64 = r["deadline"].parse().unwrap();
    assert!((before + 300_000..before + 310_000).contains(&deadline), "{deadline} for {before}");
    assert_eq!(
        [&r["function"], &r["namespace"], &r["version"], &r["region"]],
        ["ceac", "default", "$LATEST", "na-siliconvalley"]
    );
    assert_eq!((r["platform"].as_str(), r["event_len"].as_str()), ("1", "13"));
    // Without the headers: the environment's metadata, no request id, no
    // limits, no deadline.
    let (code, _, body) = curl_run(&["--data-binary", "x"], &s.url());
    assert_eq!(code, 200);
    let r = fields(&body);
    assert_eq!(
        [&r["request_id"], &r["memory"], &r["time"], &r["deadline"], &r["function"], &r["namespace"], &r["region"]],
        ["", "0", "0", "0", "from-env", "(absent)", "ap-guangzhou"]
    );
    let err = s.stop();
    for secret in ["AKIDsecretidvalue", "secretkeyvalue", "sessiontokenvalue"] {
        assert!(!err.contains(secret), "a credential on stderr: {err}");
    }
}

/// The demo (the image build) answers the event's echo, and its stderr
/// log line; a handler's error is 500 with the message as the body, and
/// the server goes on.
#[test]
fn results_are_200_and_handler_errors_500_with_the_message() {
    let Some(_) = curl() else { return };
    let s = Server::start(&demo_serve(), &[("_HANDLER", "index.main_handler")]);
    let (code, head, body) = curl_run(&["--data-binary", "hello"], &s.url());
    assert_eq!((code, body.as_slice()), (200, &b"Echoing request: 'hello'"[..]), "{head}");
    assert!(!head.to_ascii_lowercase().contains("connection: close"), "{head}");
    drop(s);

    let s = Server::start(&probe_bin(), &[]);
    for (event, want) in [
        ("fail:bad input: no key1", "bad input: no key1"),
        ("silent", "handler 'probe' failed with status 7 and no message"),
    ] {
        let (code, head, body) = curl_run(&["--data-binary", event], &s.url());
        assert_eq!((code, String::from_utf8_lossy(&body).as_ref()), (500, want), "{head}");
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"), "{head}");
    }
    still_serves(&s);
}

/// `-H 'Transfer-Encoding: chunked'` makes curl send the body in chunks;
/// a 1.5 MB body in chunks of curl's choosing comes out whole.
#[test]
fn curl_s_chunked_bodies_are_de_chunked() {
    let Some(_) = curl() else { return };
    let s = Server::start(&probe_bin(), &[]);
    let dir = scratch("serve", "chunked");
    let big: Vec<u8> = (0..1_500_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(dir.join("big"), [b"len".as_slice(), &big].concat()).unwrap();
    let (code, head, body) = curl_run(
        &[
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect:",
            "--data-binary",
            &format!("@{}", dir.join("big").display()),
        ],
        &s.url(),
    );
    assert!(head.contains("200 OK"), "{head}");
    assert_eq!((code, String::from_utf8_lossy(&body).as_ref()), (200, "1500003"));
    // A small one, its framing checked on the wire: one chunk, then the end.
    let (code, _, body) = curl_run(&["-H", "Transfer-Encoding: chunked", "--data-binary", "len-0123456789"], &s.url());
    assert_eq!((code, body.as_slice()), (200, &b"14"[..]));
}

/// `Expect: 100-continue`: the server says `100 Continue` before the body
/// comes (curl's verbose output shows it received one, rather than
/// sending after its one-second wait), and refuses a body it will not
/// take instead of asking for it.
#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let Some(_) = curl() else { return };
    let s = Server::start(&probe_bin(), &[]);
    let out = Command::new("curl")
        .args(["-sS", "-v", "--max-time", "30", "--expect100-timeout", "20", "-H", "Expect: 100-continue"])
        .args(["--data-binary", "len-continued", &s.url()])
        .output()
        .unwrap();
    let verbose = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{verbose}");
    assert!(verbose.contains("< HTTP/1.1 100 Continue"), "{verbose}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "13");
    // Raw: the interim answer comes before any body byte is sent.
    let mut c = s.connect();
    c.send(b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut c).unwrap().status, 100);
    c.send(b"len").unwrap();
    assert_eq!(read_answer(&mut c).unwrap().text(), "3");
    // Too large: 413 at once, no 100, and the server goes on.
    let mut c = s.connect();
    c.send(b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 6291457\r\n\r\n")
        .unwrap();
    let a = read_answer(&mut c).unwrap();
    assert_eq!((a.status, a.header("Connection")), (413, Some("close")), "{a:?}");
    still_serves(&s);
}

/// Events up to SCF's 6 MB (6 × 2^20 bytes) are taken whole; one byte
/// more is 413 (by its length, or as its chunks pass the limit), and the
/// server goes on. No memory grows after the first 6 MB event: see
/// tests/footprint.rs.
#[test]
fn a_6_mb_event_is_taken_and_one_byte_more_is_413() {
    let Some(_) = curl() else { return };
    let s = Server::start(&probe_bin(), &[]);
    let dir = scratch("serve", "six-mb");
    let limit = 6 * 1024 * 1024;
    for (name, len) in [("limit", limit), ("over", limit + 1)] {
        let mut event = b"len".to_vec();
        event.resize(len, b'x');
        std::fs::write(dir.join(name), &event).unwrap();
    }
    let at = |name: &str| format!("@{}", dir.join(name).display());
    for framing in [&[][..], &["-H", "Transfer-Encoding: chunked"][..]] {
        let mut args = framing.to_vec();
        let limit_file = at("limit");
        args.extend(["--data-binary", &limit_file]);
        let (code, head, body) = curl_run(&args, &s.url());
        assert_eq!((code, String::from_utf8_lossy(&body).into_owned()), (200, limit.to_string()), "{head}");
        let mut args = framing.to_vec();
        let over_file = at("over");
        args.extend(["--data-binary", &over_file]);
        let (code, head, body) = curl_run(&args, &s.url());
        assert_eq!(code, 413, "{framing:?}: {head}");
        assert_eq!(String::from_utf8_lossy(&body), "event larger than 6 MB (6291456 bytes)\n");
        still_serves(&s);
    }
}

/// Requests no client here would send: each gets its 4xx (or 501) with a
/// one-line reason and `Connection: close`, and the server goes on.
#[test]
fn malformed_requests_get_a_4xx_and_the_server_goes_on() {
    let s = Server::start(&probe_bin(), &[]);
    let long = format!("POST /event-invoke HTTP/1.1\r\nHost: h\r\nX-Filler: {}\r\n\r\n", "x".repeat(40 << 10));
    let cases: &[(&[u8], u16, &str)] = &[
        (b"garbage\r\n\r\n", 400, "invalid method or request target"),
        (b"POST /event-invoke HTTP/1.1\r\n\r\n", 400, "a request needs exactly one Host header field"),
        (b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n", 400, "invalid Content-Length"),
        (
            b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "both Content-Length and Transfer-Encoding",
        ),
        (
            b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
            "invalid chunk size line",
        ),
        (
            b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nX-Scf-Memory: lots\r\n\r\n",
            400,
            "invalid memory size or timeout",
        ),
        (b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nX-Scf-Timeout: -1\r\n\r\n", 400, "invalid memory size or timeout"),
        (b"GET /event-invoke HTTP/1.1\r\nHost: h\r\n\r\n", 405, "method not allowed"),
        (b"POST /web-invoke/x HTTP/1.1\r\nHost: h\r\n\r\n", 404, "not found: this bootstrap serves event functions"),
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 404, "not found"),
        (b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nExpect: later\r\n\r\n", 417, "expectation failed"),
        (
            b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
            "transfer coding not implemented",
        ),
        (long.as_bytes(), 431, "request head larger than 32768 bytes"),
    ];
    for (request, status, reason) in cases {
        let mut c = s.connect();
        c.send(request).unwrap();
        let a = read_answer(&mut c).unwrap_or_else(|| panic!("no answer to {:?}", String::from_utf8_lossy(request)));
        assert_eq!(a.status, *status, "{a:?}");
        assert!(a.text().starts_with(reason) && a.text().ends_with('\n') && a.text().lines().count() == 1, "{a:?}");
        assert_eq!(a.header("Connection"), Some("close"), "{a:?}");
        if *status == 405 {
            assert_eq!(a.header("Allow"), Some("POST"));
        }
        // Closed after the answer.
        assert!(read_answer(&mut c).is_none(), "{a:?}");
        still_serves(&s);
    }
}

/// A client that connects and sends nothing holds nobody up (its
/// connection is not read until it sends); one that starts a head and
/// stalls holds the server for at most the head timeout (5 s), and gets
/// 408; the clients behind both are served.
#[test]
fn stalled_clients_keep_the_next_one_waiting_at_most_the_head_timeout() {
    let s = Server::start(&probe_bin(), &[]);
    let _silent = s.connect();
    let t = Instant::now();
    still_serves(&s);
    assert!(t.elapsed() < Duration::from_secs(2), "a silent connection held the server {:?}", t.elapsed());

    let mut stalled = s.connect();
    stalled.send(b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nContent-Le").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    still_serves(&s);
    let waited = t.elapsed();
    assert!(waited < Duration::from_secs(8), "the next client waited {waited:?}");
    let a = read_answer(&mut stalled).expect("an answer to the stalled client");
    assert_eq!(a.status, 408, "{a:?}");
    assert!(a.text().starts_with("request timeout"), "{a:?}");
}

/// Each client on its own keep-alive connection, 8 at once, 10 events
/// each: all 80 are answered, each with its own request id, and no two
/// handler calls overlap in time (one event at a time).
#[test]
fn concurrent_clients_are_all_answered_one_event_at_a_time() {
    let s = Server::start(&probe_bin(), &[]);
    let addr = s.addr;
    let clients: Vec<_> = (0..8)
        .map(|c| {
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                stream.set_read_timeout(Some(T)).unwrap();
                let mut conn = Conn::new(stream);
                (0..10)
                    .map(|i| {
                        let id = format!("c{c}-{i}");
                        conn.send(&post(b"sleep:5", &[("X-Scf-Request-Id", &id)])).unwrap();
                        let a = read_answer(&mut conn).expect("an answer on the kept connection");
                        let r = a.report();
                        assert_eq!(r["request_id"], id);
                        (r["start"].parse::<u64>().unwrap(), r["end"].parse::<u64>().unwrap())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut spans: Vec<(u64, u64)> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    assert_eq!(spans.len(), 80);
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "two handler calls overlap: {:?} and {:?}", w[0], w[1]);
    }
}

/// Requests pipelined in one write are answered in order on the same
/// connection; `Connection: close` and HTTP/1.0 close after their answer,
/// HTTP/1.0 with `keep-alive` is kept (and told so).
#[test]
fn pipelined_requests_and_the_connection_rules() {
    let s = Server::start(&probe_bin(), &[]);
    let mut c = s.connect();
    let three: Vec<u8> = (0..3).flat_map(|i| post(b"x", &[("X-Scf-Request-Id", &format!("p{i}"))])).collect();
    c.send(&three).unwrap();
    for i in 0..3 {
        assert_eq!(read_answer(&mut c).unwrap().report()["request_id"], format!("p{i}"));
    }
    c.send(&post(b"x", &[("Connection", "close")])).unwrap();
    assert_eq!(read_answer(&mut c).unwrap().header("Connection"), Some("close"));
    assert!(read_answer(&mut c).is_none(), "closed after Connection: close");

    let mut c = s.connect();
    c.send(b"POST /event-invoke HTTP/1.0\r\nContent-Length: 1\r\n\r\nx").unwrap();
    assert_eq!(read_answer(&mut c).unwrap().header("Connection"), Some("close"));
    assert!(read_answer(&mut c).is_none(), "HTTP/1.0 is closed");
    let mut c = s.connect();
    for _ in 0..2 {
        c.send(b"POST /event-invoke HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx").unwrap();
        assert_eq!(read_answer(&mut c).unwrap().header("Connection"), Some("keep-alive"));
    }
}

/// A crash in the handler: the request gets a 500 with the crash line and
/// `Connection: close`, stderr the same line, and the process dies by the
/// signal. Before any event, and in the init hook, as in pull mode.
#[test]
fn a_crash_is_a_500_with_the_crash_line_then_the_signal() {
    for (event, signal, cause) in [
        ("crash", libc::SIGSEGV, "SIGSEGV (invalid memory access at address 0x0)"),
        ("abort", libc::SIGABRT, "SIGABRT"),
    ] {
        let s = Server::start(&probe_bin(), &[]);
        still_serves(&s);
        let mut c = s.connect();
        c.send(&post(event.as_bytes(), &[("X-Scf-Request-Id", "req-1"), ("X-Scf-Secret-Key", "secretkeyvalue")]))
            .unwrap();
        let a = read_answer(&mut c).expect("the crash's answer");
        let line = format!("handler 'probe' crashed: {cause}");
        assert_eq!(a.status, 500, "{a:?}");
        assert!(a.text().starts_with(&line) && a.text().ends_with(" while handling request req-1"), "{a:?}");
        assert_eq!(a.header("Connection"), Some("close"));
        assert!(read_answer(&mut c).is_none());
        let (status, err) = s.wait(T);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(signal), "{status}: {err}");
        assert_eq!(err.trim_end(), format!("scf-bootstrap: {}", a.text()), "{err}");
        assert!(!err.contains("secretkeyvalue"));
    }
}

/// The init hook runs before the first event (after listening: the
/// platform's health check sees the port at once); its failure ends the
/// process with one line, as in pull mode.
#[test]
fn the_init_hook_runs_before_the_first_event() {
    let s = Server::start(&probe_bin(), &[("_HANDLER", "guarded")]);
    let a = exchange(&s, &post(b"e", &[]));
    assert_eq!((a.status, a.text()), (200, "guarded:e".to_string()));
    drop(s);
    let addr = free_port("127.0.0.1");
    let mut cmd = command(&probe_bin());
    cmd.arg("serve").env_clear();
    cmd.envs([("SCF_BOOTSTRAP_LISTEN", addr.to_string().as_str()), ("_HANDLER", "guarded"), ("FAIL_INIT", "1")]);
    let out = cmd.envs([("SCF_FUNCTIONNAME", "fn-1")]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "scf-bootstrap: init hook of handler 'guarded' failed with status 3: 'config missing for fn-1'\n"
    );
}

/// `SCF_BOOTSTRAP_LISTEN` takes IPv4 and bracketed IPv6 literals; a bad
/// value or a taken port is one line and status 1.
#[test]
fn listen_addresses_ipv6_and_failures() {
    if TcpListener::bind("[::1]:0").is_ok() {
        let s = Server::start_at(&probe_bin(), free_port("[::1]"), &[]);
        assert!(s.addr.is_ipv6());
        still_serves(&s);
    }
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    for (value, want) in [
        ("localhost:9000", "scf-bootstrap: SCF_BOOTSTRAP_LISTEN='localhost:9000' is not an IPv4 address and port"),
        ("0.0.0.0", "scf-bootstrap: SCF_BOOTSTRAP_LISTEN='0.0.0.0' is not an IPv4"),
        (&at, &format!("scf-bootstrap: cannot listen on '{at}': ")),
    ] {
        let out = command(&probe_bin()).arg("serve").env_clear().env("SCF_BOOTSTRAP_LISTEN", value).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{value}: {err}");
        assert!(err.starts_with(want) && err.lines().count() == 1, "{value}: {err}");
    }
}

/// The arguments: none is pull mode, `serve` push mode; anything else is
/// one line and status 2. A build without the feature never listens: it
/// ignores its arguments, as it did before push mode (reading them would
/// cost the zip build bytes), so `bootstrap serve` there is pull mode's
/// start, here its one line for a missing runtime API (what `cargo scf
/// build --image` reports of a project built without `serve`).
#[test]
fn arguments_other_than_serve_are_refused_in_one_line() {
    for (bin, args, want) in [
        (probe_bin(), &["server"][..], "unknown arguments starting with 'server' (1 in all): bootstrap takes none"),
        (probe_bin(), &["serve", "now"], "unknown arguments starting with 'serve' (2 in all)"),
        (demo(), &["serve"], "SCF_RUNTIME_API is not set"),
        (demo(), &["x"], "SCF_RUNTIME_API is not set"),
    ] {
        let mut cmd = command(&bin);
        cmd.args(args).env_clear().env("SCF_BOOTSTRAP_LISTEN", "127.0.0.1:1");
        if bin == probe_bin() {
            cmd.env("SCF_RUNTIME_API", "127.0.0.1").env("SCF_RUNTIME_API_PORT", "1");
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let code = if bin == probe_bin() { 2 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.starts_with(&format!("scf-bootstrap: {want}")) && err.lines().count() == 1, "{args:?}: {err}");
    }
}

fn python3() -> Option<&'static str> {
    let found = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    require_tool("python3", found.then_some("python3"), "apt-get install python3")
}

/// Python's http.client on one HTTPConnection: several events on the one
/// kept connection (the socket stays the same), a handler's error as 500,
/// a body sent in chunks (`encode_chunked`), and a crash's 500 after which
/// the connection is closed.
#[test]
fn python_http_client_keeps_one_connection() {
    let Some(_) = python3() else { return };
    let s = Server::start(&probe_bin(), &[]);
    let script = r#"
import http.client, sys
host, port = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, port, timeout=20)
socks = set()
for i in range(5):
    c.request("POST", "/event-invoke", body=b"x" * i, headers={"X-Scf-Request-Id": "py-%d" % i})
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 200 and "request_id=py-%d " % i in body, (r.status, body)
    assert r.getheader("Connection") is None
    socks.add(id(c.sock))
assert len(socks) == 1, socks
c.request("POST", "/event-invoke", body=b"fail:from python")
r = c.getresponse()
assert (r.status, r.read()) == (500, b"from python"), r.status
c.request("POST", "/event-invoke", body=iter([b"len", b"-chunk", b"ed"]), encode_chunked=True,
          headers={"Transfer-Encoding": "chunked"})
r = c.getresponse()
assert (r.status, r.read()) == (200, b"11")
assert len(socks | {id(c.sock)}) == 1
c.request("POST", "/event-invoke", body=b"crash")
r = c.getresponse()
body = r.read().decode()
assert r.status == 500 and body.startswith("handler 'probe' crashed: SIGSEGV"), (r.status, body)
assert r.getheader("Connection") == "close"
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script, &s.addr.ip().to_string(), &s.addr.port().to_string()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n", "{}", String::from_utf8_lossy(&out.stderr));
    let (status, _) = s.wait(T);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGSEGV));
}

/// nginx's path, when installed (Debian's, or one on PATH).
fn nginx() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.is_file());
    require_tool("nginx", found, "apt-get install nginx")
}

/// nginx on loopback in front of the server, with upstream keep-alive
/// (`proxy_http_version 1.1; proxy_set_header Connection ""; keepalive
/// 4`), as SCF's own front: 4 clients at once, 25 events each, all
/// answered through nginx, on at most a handful of upstream connections
/// (counted by the accepts the server made, under strace), and nginx's
/// upstream connections reused while idle ones stay open beside them.
#[test]
fn nginx_in_front_with_upstream_keepalive() {
    let Some(nginx) = nginx() else { return };
    strace_available();
    let dir = scratch("serve", "nginx");
    let backend = free_port("127.0.0.1");
    // The server under strace, counting its accepted connections.
    let trace = dir.join("accepts");
    let mut cmd = Command::new("strace");
    cmd.args(["-qq", "-f", "-e", "trace=accept4", "-e", "signal=none", "-o"]).arg(&trace).arg(probe_bin()).arg("serve");
    cmd.env_clear().envs([("SCF_BOOTSTRAP_LISTEN", backend.to_string().as_str()), ("_HANDLER", "probe")]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let server = Proc::spawn(cmd);
    let started = Instant::now();
    while TcpStream::connect(backend).is_err() {
        assert!(started.elapsed() < T, "the server did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The traced server: strace's child (ended by its PID: killing strace
    // would leave it running, detached).
    let children = format!("/proc/{0}/task/{0}/children", server.child.id());
    let traced: i32 = std::fs::read_to_string(children).unwrap().trim().parse().expect("strace's child");
    let front = free_port("127.0.0.1");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/logs/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
         upstream function {{ server {backend}; keepalive 4; }}\n\
         server {{\n    listen {front};\n    location / {{\n      proxy_pass http://function;\n\
         proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n    }}\n  }}\n}}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut front_proc = Command::new(&nginx)
        .args(["-p", &dir.display().to_string(), "-c", &dir.join("nginx.conf").display().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(front).is_err() {
        assert!(
            started.elapsed() < T,
            "nginx did not listen: {}",
            std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let clients: Vec<_> = (0..4)
        .map(|c| {
            std::thread::spawn(move || {
                let stream = TcpStream::connect(front).unwrap();
                stream.set_read_timeout(Some(T)).unwrap();
                let mut conn = Conn::new(stream);
                for i in 0..25 {
                    let id = format!("n{c}-{i}");
                    conn.send(&post(b"sleep:1", &[("X-Scf-Request-Id", &id)])).unwrap();
                    let a = read_answer(&mut conn).expect("an answer through nginx");
                    assert_eq!(a.report()["request_id"], id, "{a:?}");
                }
            })
        })
        .collect();
    let results: Vec<_> = clients.into_iter().map(|c| c.join()).collect();
    // Stopped by PID: the test's own processes.
    let _ = front_proc.kill();
    let _ = front_proc.wait();
    // SAFETY: kill(2) of the process this test started (strace's child).
    unsafe { libc::kill(traced, libc::SIGKILL) };
    let (_, err, _) = server.wait(T);
    assert!(
        results.iter().all(Result::is_ok),
        "a client failed; nginx: {}; server: {err}",
        std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
    );
    let accepts = std::fs::read_to_string(&trace).unwrap();
    let accepted = accepts.lines().filter(|l| l.contains("accept4(") && !l.contains("= -1")).count();
    // The health-check connection, and nginx's pool (at most the 4 clients
    // at once): 100 events on a handful of connections.
    assert!((2..=8).contains(&accepted), "{accepted} connections accepted for 100 events:\n{accepts}");
}

fn strace_available() {
    let ok = Command::new("strace").arg("-V").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    assert!(ok, "strace is required for this test (apt-get install strace)");
}

/// Reads what `r` sends until it closes (bounded by its read timeout).
#[allow(dead_code)]
fn drain(r: &mut impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}

/// The health check's connection, closed without a request, leaves no
/// trace; nor does a client that closes half-way through its request.
#[test]
fn connections_closed_without_a_whole_request_get_nothing() {
    let s = Server::start(&probe_bin(), &[]);
    for partial in [&b""[..], b"POST /event-invoke HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"] {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(partial).unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        c.set_read_timeout(Some(T)).unwrap();
        assert_eq!(drain(&mut c), b"", "{partial:?}");
        still_serves(&s);
    }
    let pid = s.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let err = s.stop();
    assert!(err.is_empty(), "{err}");
}

/// `bin` as an OCI image archive (scf_emulator::oci, what `cargo scf
/// package --image` writes), in `dir`.
fn image_of(bin: &Path, dir: &Path) -> PathBuf {
    let archive = dir.join("image.tar");
    let bytes = std::fs::read(bin).unwrap();
    std::fs::write(&archive, scf_emulator::oci::write(&bytes, scf_emulator::oci::Arch::Amd64)).unwrap();
    archive
}

/// The emulator runs this bootstrap's image as SCF would: it starts the
/// archive's `/bootstrap serve`, waits for the port, pushes the events.
/// The echo demo answers cold then warm on the same instance; the probe's
/// handler error is 430 with its message and the instance goes on; its
/// crash is 439 with the crash line, the process dead by its signal, and
/// the next invocation a cold start.
#[test]
fn the_emulator_runs_this_bootstrap_s_image_cold_warm_error_and_crash() {
    use scf_emulator::{Emulator, FunctionCode, FunctionConfig, Status};
    let dir = scratch("serve", "emulator");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // An image's environment has no _HANDLER: the demo's one handler is
    // the default; the probe's bootstrap links several and is told.
    let config = |handler: &[(&str, &str)]| FunctionConfig {
        timeout: Duration::from_secs(10),
        start_timeout: T,
        // The probe's events are words ("crash", "fail:..."), not JSON.
        require_json: false,
        env: [("TMPDIR", tmp.to_str().unwrap())]
            .iter()
            .chain(handler)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..FunctionConfig::default()
    };
    let demo_dir = dir.join("demo");
    std::fs::create_dir_all(&demo_dir).unwrap();
    let demo = Emulator::new(FunctionCode::load(&image_of(&demo_serve(), &demo_dir)).unwrap(), config(&[]));
    let cold = demo.invoke(GUIDE_EVENT);
    assert_eq!(cold.status, Status::Success, "{}", cold.to_json());
    assert_eq!(cold.ret_msg.as_bytes(), echo_of(GUIDE_EVENT));
    assert!(cold.cold && cold.init_duration.is_some_and(|d| d > Duration::ZERO), "{}", cold.to_json());
    let pid = demo.instance_pid().expect("an instance");
    let warm = demo.invoke(br#"{"n":2}"#);
    assert_eq!(warm.status, Status::Success, "{}", warm.to_json());
    assert_eq!(warm.ret_msg.as_bytes(), echo_of(br#"{"n":2}"#));
    assert!(!warm.cold, "{}", warm.to_json());
    assert_eq!(demo.instance_pid(), Some(pid), "the same instance");
    assert!(warm.log.contains(r#"{"n":2}"#), "the demo's log line: {}", warm.to_json());
    demo.shutdown_instance();

    let probe_dir = dir.join("probe");
    std::fs::create_dir_all(&probe_dir).unwrap();
    let probe = Emulator::new(
        FunctionCode::load(&image_of(&probe_bin(), &probe_dir)).unwrap(),
        config(&[("_HANDLER", "probe")]),
    );
    let r = probe.invoke(br#""hello""#);
    assert_eq!(r.status, Status::Success, "{}", r.to_json());
    let seen = fields(r.ret_msg.as_bytes());
    assert_eq!(seen["request_id"], r.request_id, "{seen:?}");
    assert_eq!((seen["memory"].as_str(), seen["function"].as_str()), ("128", "function"), "{seen:?}");
    let pid = probe.instance_pid().expect("an instance");
    let r = probe.invoke(b"fail:no key1 in the event");
    assert_eq!(r.status, Status::UserCodeException, "{}", r.to_json());
    assert_eq!(r.err_msg, "no key1 in the event");
    assert_eq!(probe.instance_pid(), Some(pid), "an error leaves the instance serving");
    let r = probe.invoke(b"crash");
    assert_eq!(r.status, Status::UserProcessExit, "{}", r.to_json());
    assert!(r.err_msg.starts_with("handler 'probe' crashed: SIGSEGV"), "{}", r.to_json());
    assert_eq!(r.exit_signal, Some(libc::SIGSEGV), "{}", r.to_json());
    assert_eq!(probe.instance_pid(), None, "the crashed instance is gone");
    let after = probe.invoke(br#""again""#);
    assert!(after.status == Status::Success && after.cold, "{}", after.to_json());
    probe.shutdown_instance();
}

/// `scf-emulator run` on this bootstrap's image answers the TencentCloud
/// API 3.0 `Invoke` (and `POST /invoke`) as for a zip function: the echo,
/// cold then warm.
#[test]
fn the_emulator_s_api_3_invoke_serves_this_bootstrap_s_image() {
    use scf_emulator::http::client::Client;
    let dir = scratch("serve", "emulator-api3");
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let archive = image_of(&demo_serve(), &dir);
    let mut cmd = Command::new(emulator_bin());
    cmd.arg("run").arg(&archive).args(["--listen", "127.0.0.1:0", "--quiet", "-e"]);
    cmd.arg(format!("TMPDIR={}", dir.join("tmp").display()));
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run scf-emulator");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let emulator = Terminated(child);
    let addr: SocketAddr = loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut err, &mut line).unwrap();
        assert!(n > 0, "scf-emulator run ended before naming its endpoint");
        if let Some(rest) = line.split(" endpoint http://").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let mut c = Client::connect(addr, Some(T)).unwrap();
    let body = format!(
        r#"{{"FunctionName":"image","ClientContext":{}}}"#,
        serde_json::to_string(scf_emulator::GUIDE_EVENT).unwrap()
    );
    for cold in [true, false] {
        let r = c
            .request_with("POST", "/", &[("X-TC-Action", "Invoke"), ("X-TC-Version", "2018-04-16")], body.as_bytes())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let result = &v["Response"]["Result"];
        assert_eq!(result["InvokeResult"], 0, "{v}");
        assert_eq!(result["RetMsg"].as_str().map(str::as_bytes), Some(&echo_of(GUIDE_EVENT)[..]), "{v}");
        let r = c.request("POST", "/invoke", b"{}").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (v["Result"]["RetMsg"].as_str(), v["Emulator"]["Cold"].as_bool()),
            (Some("Echoing request: '{}'"), Some(false)),
            "{v} (cold API call first: {cold})"
        );
    }
    drop(emulator);
}

/// A child ended with SIGTERM when dropped (the emulator then stops the
/// instance it started), and waited for.
struct Terminated(std::process::Child);

impl Drop for Terminated {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child this test started and has not waited for.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

/// Copies `from` into `to`, every file and folder below it, leaving out
/// the paths (relative to `from`) in `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str], at: &Path) {
    std::fs::create_dir_all(to.join(at)).unwrap();
    for entry in std::fs::read_dir(from.join(at)).unwrap() {
        let rel = at.join(entry.unwrap().file_name());
        if skip.iter().any(|s| Path::new(s) == rel) {
            continue;
        }
        if from.join(&rel).is_dir() {
            copy_tree(from, to, skip, &rel);
        } else {
            std::fs::copy(from.join(&rel), to.join(&rel)).unwrap();
        }
    }
}

/// Push mode costs the zip function nothing (Cargo.toml, feature
/// `serve`): the plain build made from a copy of the runtime's package
/// without src/serve/ is, byte for byte, the plain build made here. The
/// copy is a workspace of its own (the other members and the test-only
/// dependencies left out, which the bootstrap does not build), with this
/// Cargo.lock, so the same crates go in.
#[test]
fn the_plain_build_is_the_same_without_the_serve_sources() {
    let root = root();
    let copy = scratch("no-serve", "package");
    for dir in ["src", "include", ".cargo"] {
        copy_tree(&root, &copy, &["src/serve"], Path::new(dir));
    }
    for file in ["build.rs", "Cargo.lock"] {
        std::fs::copy(root.join(file), copy.join(file)).unwrap();
    }
    assert!(!copy.join("src/serve").exists() && copy.join("src/lib.rs").exists());
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = "members = [\".\", \"emulator\", \"deploy\", \"cargo-scf\"]";
    assert!(manifest.contains(members), "Cargo.toml's workspace members changed: update this test");
    // The [dev-dependencies] table, up to the next table.
    let dev = manifest.find("\n[dev-dependencies]").expect("a [dev-dependencies] table");
    let next = manifest[dev + 1..].find("\n[").map_or(manifest.len(), |i| dev + 1 + i);
    let manifest = format!("{}{}", &manifest[..dev], &manifest[next..]).replace(members, "members = [\".\"]");
    std::fs::write(copy.join("Cargo.toml"), manifest).unwrap();

    let target = build_dir("no-serve-release");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&copy)
        .args(["build", "--quiet", "--release", "--target", X86_64, "--bin", "bootstrap", "--target-dir"])
        .arg(&target)
        .env("SCF_HANDLER_LIBS", "")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the copy without src/serve/ failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let without = std::fs::read(target.join(X86_64).join("release/bootstrap")).unwrap();
    let with = std::fs::read(demo()).unwrap();
    assert!(without.len() > 10_000, "{} bytes", without.len());
    assert!(
        with == without,
        "the plain build is {} bytes with src/serve/ and {} without: push mode costs the zip build bytes",
        with.len(),
        without.len()
    );
}
