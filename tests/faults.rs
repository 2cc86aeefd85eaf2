//! The bootstrap against a broken platform: bad environment, garbage and
//! truncated replies, a connection closed while idle, an API that goes
//! away. Every failure must be one clear line on stderr and a non-zero
//! exit, promptly; no hang, no crash by signal, no lost event.

mod common;
use common::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::thread;
use std::time::Duration;

/// Asserts a clean failure: exit status 1 (not a signal), and exactly one
/// line from the runtime on stderr (the demo handler logs events there
/// too), the last one, which contains every one of `needles`.
fn assert_clean_failure(status: std::process::ExitStatus, stderr: &str, needles: &[&str]) {
    assert_eq!(status.signal(), None, "killed by a signal; stderr: {stderr}");
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("scf-bootstrap: ")).collect();
    assert_eq!(ours.len(), 1, "expected one runtime line: {stderr:?}");
    assert_eq!(stderr.lines().last(), Some(ours[0]), "{stderr:?}");
    for n in needles {
        assert!(ours[0].contains(n), "{stderr:?} lacks {n:?}");
    }
}

fn env_failure(env: &[(&str, &str)], needles: &[&str]) {
    let (status, stderr, took) = spawn_env(&demo(), env).wait(Duration::from_secs(5));
    assert_clean_failure(status, &stderr, needles);
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn missing_or_malformed_environment() {
    let h = ("_HANDLER", "index.main_handler");
    env_failure(&[h], &["SCF_RUNTIME_API is not set"]);
    env_failure(&[h, ("SCF_RUNTIME_API", "127.0.0.1")], &["SCF_RUNTIME_API_PORT is not set"]);
    for port in ["", "0", "65536", "http", "80 80", "-1", "0x50"] {
        env_failure(
            &[h, ("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", port)],
            &["SCF_RUNTIME_API_PORT=", "is not a port number"],
        );
    }
    for (api, why) in [
        ("", "is empty"),
        ("[::1", "is not an IPv6 address"),
        ("127.0.0.1:9000", "is not an IPv6 address"),
        ("http://host", "is not an IPv6 address"),
        ("two words", "neither an IP address nor a host name"),
    ] {
        env_failure(&[h, ("SCF_RUNTIME_API", api), ("SCF_RUNTIME_API_PORT", "9000")], &["SCF_RUNTIME_API=", why]);
    }
    // A host name, and the default build has no resolver: one line that
    // names the feature that resolves it (tests/resolve.rs runs the build
    // with it).
    env_failure(
        &[h, ("SCF_RUNTIME_API", "runtime-api.internal"), ("SCF_RUNTIME_API_PORT", "9000")],
        &["SCF_RUNTIME_API='runtime-api.internal' is a host name", "build with the cargo feature `resolve`"],
    );
}

/// The test kit's [`scripted_peer`], `None` standing for "close the
/// connection without answering".
fn scripted(replies: Vec<Option<Vec<u8>>>) -> (u16, thread::JoinHandle<Vec<String>>) {
    scripted_peer(replies.into_iter().map(|r| r.map_or(Reply::Close, Reply::Answer)).collect())
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
/// A reply that is not HTTP: the runtime stops at once with a clean failure.
const GARBAGE: &[u8] = b"garbage\r\n\r\n";

fn run_against(port: u16) -> Proc {
    let port = port.to_string();
    spawn_env(
        &demo(),
        &[("SCF_RUNTIME_API", "127.0.0.1"), ("SCF_RUNTIME_API_PORT", &port), ("_HANDLER", "index.main_handler")],
    )
}

#[test]
fn garbage_reply_is_a_prompt_clean_failure() {
    for garbage in [
        &b"garbage\r\n\r\n"[..],
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let (port, peer) = scripted(vec![Some(garbage.to_vec())]);
        let (status, stderr, took) = run_against(port).wait(Duration::from_secs(5));
        assert_clean_failure(status, &stderr, &["POST /runtime/init/ready", "malformed response"]);
        assert!(took < Duration::from_secs(2), "{took:?}");
        drop(peer);
    }
}

#[test]
fn bad_chunked_event_is_a_clean_failure() {
    let reply = b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX".to_vec();
    let (port, _peer) = scripted(vec![Some(OK.to_vec()), Some(reply)]);
    let (status, stderr, _) = run_against(port).wait(Duration::from_secs(5));
    assert_clean_failure(status, &stderr, &["GET /runtime/invocation/next", "chunk data not followed by CRLF"]);
}

#[test]
fn truncated_replies_are_prompt_clean_failures() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nContent-Length: 100\r\n\r\nonly part of the event",
            "closed in the middle",
        ),
        (b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nContent-Le", "closed in the middle"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "closed in the middle"),
    ];
    for (reply, needle) in cases {
        // Ready is answered; the event is cut off and the connection closed.
        let (port, _peer) = scripted(vec![Some(OK.to_vec()), Some(reply.to_vec())]);
        let (status, stderr, took) = run_against(port).wait(Duration::from_secs(5));
        assert_clean_failure(status, &stderr, &["GET /runtime/invocation/next", needle]);
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

#[test]
fn idle_connection_closed_by_the_platform_is_reopened_without_losing_the_event() {
    let event = b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nContent-Length: 5\r\n\r\nhello".to_vec();
    // ready OK; the first /next is dropped (the idle close); the resent
    // /next on a new connection gets the event; the response is accepted;
    // the next poll is answered with garbage, which ends the run at once
    // (waiting out the retry budget is api_never_there's and the unit
    // tests' of http::Backoff).
    let (port, peer) = scripted(vec![Some(OK.to_vec()), None, Some(event), Some(OK.to_vec()), Some(GARBAGE.to_vec())]);
    let (status, stderr, took) = run_against(port).wait(Duration::from_secs(15));
    let seen = peer.join().unwrap();
    assert_eq!(
        seen,
        [
            "POST /runtime/init/ready HTTP/1.1 < >",
            "GET /runtime/invocation/next HTTP/1.1",
            "GET /runtime/invocation/next HTTP/1.1",
            "POST /runtime/invocation/response HTTP/1.1 <Echoing request: 'hello'>",
            "GET /runtime/invocation/next HTTP/1.1",
        ]
    );
    assert_clean_failure(status, &stderr, &["GET /runtime/invocation/next", "malformed response"]);
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_refused_response_is_reported_on_the_error_endpoint() {
    let event = b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let refused = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_vec();
    let no_content = b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
    // ready; the event; its response refused; the error accepted with 204
    // (any 2xx is success); then the next poll, dropped, and resent: the
    // garbage answer to that ends the run at once.
    let (port, peer) =
        scripted(vec![Some(OK.to_vec()), Some(event), Some(refused), Some(no_content), None, Some(GARBAGE.to_vec())]);
    let (status, stderr, took) = run_against(port).wait(Duration::from_secs(15));
    let seen = peer.join().unwrap();
    assert_eq!(
        seen,
        [
            "POST /runtime/init/ready HTTP/1.1 < >",
            "GET /runtime/invocation/next HTTP/1.1",
            "POST /runtime/invocation/response HTTP/1.1 <Echoing request: 'hi'>",
            "POST /runtime/invocation/error HTTP/1.1 <the runtime API refused the response with status 413>",
            "GET /runtime/invocation/next HTTP/1.1",
            // The peer dropped that poll unanswered: sent again, once.
            "GET /runtime/invocation/next HTTP/1.1",
        ]
    );
    // No warning about the 204; the run ends with the garbage.
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_clean_failure(status, &stderr, &["GET /runtime/invocation/next", "malformed response"]);
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn api_disappearing_ends_the_process_within_the_retry_budget() {
    let api = api(Quirks::default());
    let p = spawn(&demo(), &api, "index.main_handler");
    assert_eq!(invoke_ok(&api, b"before"), echo_of(b"before"));
    let addr = api.addr();
    drop(api);
    let (status, stderr, took) = p.wait(Duration::from_secs(20));
    // Which request meets the closed port first is a race (the response's
    // answer may or may not have left before the server went away).
    assert_clean_failure(status, &stderr, &[&addr.to_string(), "unreachable for 10 s", "connection refused"]);
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(14), "{took:?}");
}

#[test]
fn api_never_there() {
    // A port with nobody listening (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (status, stderr, took) = run_against(port).wait(Duration::from_secs(20));
    assert_clean_failure(status, &stderr, &["POST /runtime/init/ready", "connect: connection refused"]);
    assert!(took >= Duration::from_secs(9) && took < Duration::from_secs(14), "{took:?}");
}

#[test]
fn a_stream_that_is_not_http_at_all() {
    // Something answers with an endless stream of bytes and no head end.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let junk = [b'A'; 65536];
        let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
        while s.write_all(&junk).is_ok() {}
    });
    let (status, stderr, took) = run_against(port).wait(Duration::from_secs(10));
    assert_clean_failure(status, &stderr, &["POST /runtime/init/ready", "malformed response"]);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let _ = TcpStream::connect(("127.0.0.1", port));
    t.join().unwrap();
}

/// Started with standard descriptors closed, the runtime must not let its
/// socket take one of their numbers: the demo logs every event to fd 2,
/// which would then write into the HTTP stream (the API answers 400 and
/// every invocation fails).
#[test]
fn closed_standard_descriptors_are_reopened_on_dev_null() {
    for redirects in ["2>&-", "<&- >&- 2>&-", "<&-"] {
        let api = api(Quirks::default());
        let _p = spawn_redirected(&demo(), &api, "index.main_handler", redirects);
        for event in [&b"{\"first\":1}"[..], b"second"] {
            assert_eq!(invoke_ok(&api, event), echo_of(event), "{redirects}");
        }
        let s = api.stats();
        assert_eq!((s.bad_requests, s.ready_posts, s.response_posts), (0, 1, 2), "{redirects}");
    }
}

const STRAY: &[u8] = b"HTTP/1.1 200 OK\r\nrequest_id: stray\r\nContent-Length: 5\r\n\r\nstray";

fn event(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nrequest_id: r1\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// An answer nobody asked for, sent right after a real one: taken as the
/// answer to the next request, every later answer would be one step behind
/// (a stray response posted as an event's result). The client drops the
/// connection and sends the request on a new one, and says so once.
#[test]
fn bytes_after_a_complete_response_put_the_connection_out_of_step_and_it_is_replaced() {
    let replies = vec![
        Some([OK, STRAY].concat()),
        Some([&event("one")[..], STRAY].concat()),
        Some(OK.to_vec()),
        Some(event("two")),
        Some(OK.to_vec()),
    ];
    let (port, peer) = scripted(replies);
    let mut p = run_against(port);
    let seen = peer.join().unwrap();
    let _ = p.child.kill();
    let (_, stderr, _) = p.wait(Duration::from_secs(5));
    assert_eq!(
        seen,
        [
            "POST /runtime/init/ready HTTP/1.1 < >",
            "GET /runtime/invocation/next HTTP/1.1",
            "POST /runtime/invocation/response HTTP/1.1 <Echoing request: 'one'>",
            "GET /runtime/invocation/next HTTP/1.1",
            "POST /runtime/invocation/response HTTP/1.1 <Echoing request: 'two'>",
        ]
    );
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains(&format!("sent {} bytes after a complete response", STRAY.len())), "{stderr}");
}

/// Trailer lines (or chunk extensions) add nothing to the decoded body, so
/// the body limit does not bound them: their own bounds stop a flood early,
/// with a line naming which bound.
#[test]
fn a_flood_of_chunked_trailers_is_stopped_by_its_bound() {
    let mut reply =
        b"HTTP/1.1 200 OK\r\nrequest_id: r1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n".to_vec();
    let line = format!("x-trailer: {}\r\n", "t".repeat(1000));
    reply.extend(line.repeat(256).bytes());
    let (port, _peer) = scripted(vec![Some(OK.to_vec()), Some(reply), None]);
    let (status, stderr, took) = run_against(port).wait(Duration::from_secs(5));
    assert_clean_failure(
        status,
        &stderr,
        &["GET /runtime/invocation/next", "chunked trailer section longer than 16384 bytes"],
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// The runtime asks for no transfer-coding; an event sent gzip-coded (and
/// chunked) must not reach the handler as if it were the event.
#[test]
fn a_transfer_coding_other_than_chunked_is_refused() {
    for te in ["gzip, chunked", "gzip", "chunked, chunked"] {
        let reply =
            format!("HTTP/1.1 200 OK\r\nrequest_id: r1\r\nTransfer-Encoding: {te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        let (port, _peer) = scripted(vec![Some(OK.to_vec()), Some(reply.into_bytes()), Some(OK.to_vec()), None]);
        let (status, stderr, took) = run_against(port).wait(Duration::from_secs(5));
        assert_clean_failure(
            status,
            &stderr,
            &["GET /runtime/invocation/next", "Transfer-Encoding other than a lone chunked"],
        );
        assert!(took < Duration::from_secs(2), "{te}: {took:?}");
    }
}
