//! The runtime API core, driven by raw TCP clients playing the bootstrap.

use scf_emulator::http::client::{Client, Response};
use scf_emulator::{
    ApiConfig, CloseMode, HeaderCase, InvokeError, InvokeOptions, Outcome, Quirks, RuntimeApi,
};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);

fn start(quirks: Quirks) -> Arc<RuntimeApi> {
    let cfg = ApiConfig {
        memory_mb: 256,
        timeout_ms: 1500,
        quirks,
        ..ApiConfig::default()
    };
    Arc::new(RuntimeApi::start(cfg).expect("start runtime API"))
}

/// A bootstrap-side connection over the crate's shared HTTP client (which
/// keeps each response's bytes as sent), with the runtime API's requests
/// as methods.
struct Raw(Client);

impl Raw {
    fn connect(api: &RuntimeApi) -> Raw {
        Raw(Client::connect(api.addr(), Some(T)).unwrap())
    }

    fn send(&mut self, bytes: &[u8]) {
        self.0.send(bytes).unwrap();
    }

    fn read(&mut self) -> Response {
        self.0.read_response().expect("a response")
    }

    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Response {
        self.0.request(method, path, body).expect("a response")
    }

    fn ready(&mut self) -> Response {
        self.request("POST", "/runtime/init/ready", b" ")
    }
    fn next(&mut self) -> Response {
        self.request("GET", "/runtime/invocation/next", b"")
    }
    fn respond(&mut self, body: &[u8]) -> Response {
        self.request("POST", "/runtime/invocation/response", body)
    }
    fn error(&mut self, body: &[u8]) -> Response {
        self.request("POST", "/runtime/invocation/error", body)
    }

    /// True when the server closed the connection (EOF with nothing more).
    fn closed_by_server(&mut self) -> bool {
        self.0.closed_by_server()
    }
}

fn invoke_in_background(
    api: &Arc<RuntimeApi>,
    event: &[u8],
) -> thread::JoinHandle<Result<Outcome, InvokeError>> {
    let api = api.clone();
    let event = event.to_vec();
    thread::spawn(move || api.invoke(&event, T))
}

#[test]
fn keep_alive_ready_next_response() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    assert!(!api.wait_ready(Duration::from_millis(10)));
    let before = Instant::now();
    assert_eq!(c.ready().status(), 200);
    assert!(api.wait_ready(T));
    assert!(api.ready_at().unwrap() >= before);
    for i in 0..3 {
        let event = format!("{{\"n\":{i}}}");
        let h = invoke_in_background(&api, event.as_bytes());
        let ev = c.next();
        assert_eq!(ev.status(), 200);
        assert_eq!(ev.body, event.as_bytes());
        assert_eq!(ev.header("request_id").unwrap().len(), 36);
        assert_eq!(ev.header("memory_limit_in_mb"), Some("256"));
        assert_eq!(ev.header("time_limit_in_ms"), Some("1500"));
        assert!(
            ev.raw_head.contains("\r\nrequest_id: "),
            "documented lower-case names by default"
        );
        assert_eq!(c.respond(format!("r{i}").as_bytes()).status(), 200);
        assert_eq!(
            h.join().unwrap().unwrap(),
            Outcome::Response(format!("r{i}").into_bytes())
        );
    }
    let st = api.stats();
    assert_eq!(
        st.connections, 1,
        "one keep-alive connection carried everything"
    );
    assert_eq!(
        (st.ready_posts, st.next_requests, st.response_posts),
        (1, 3, 3)
    );
}

#[test]
fn repeated_next_returns_the_same_event_and_timing_is_recorded() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.ready();
    let api2 = api.clone();
    let h = thread::spawn(move || {
        api2.invoke_with(
            b"same",
            InvokeOptions {
                timeout: T,
                dispatch_timeout: Some(T),
                request_id: Some("rid-1".into()),
            },
        )
    });
    let a = c.next();
    let mut other = Raw::connect(&api);
    let b = other.next();
    let d = c.next();
    for w in [&a, &b, &d] {
        assert_eq!(w.body, b"same");
        assert_eq!(w.header("request_id"), Some("rid-1"));
    }
    thread::sleep(Duration::from_millis(20));
    c.error(b"boom");
    let inv = h.join().unwrap().unwrap();
    assert_eq!(inv.request_id, "rid-1");
    assert_eq!(inv.outcome, Outcome::Error(b"boom".to_vec()));
    assert_eq!(inv.polls, 3);
    assert!(inv.duration() >= Duration::from_millis(20));
    assert!(inv.dispatched_at >= inv.offered_at && inv.finished_at >= inv.dispatched_at);
}

#[test]
fn first_result_is_final() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.ready();
    let h = invoke_in_background(&api, b"e");
    c.next();
    assert_eq!(c.respond(b"first").status(), 200);
    assert_eq!(c.error(b"second").status(), 200);
    assert_eq!(c.respond(b"third").status(), 200);
    assert_eq!(
        h.join().unwrap().unwrap(),
        Outcome::Response(b"first".to_vec())
    );
    // The next invocation is unaffected by the late pushes.
    let h = invoke_in_background(&api, b"e2");
    assert_eq!(c.next().body, b"e2");
    c.respond(b"fourth");
    assert_eq!(
        h.join().unwrap().unwrap(),
        Outcome::Response(b"fourth".to_vec())
    );
    let st = api.stats();
    assert_eq!(st.ignored_results, 2);
    assert_eq!((st.response_posts, st.error_posts), (3, 1));
}

#[test]
fn results_before_dispatch_are_ignored() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    assert_eq!(c.respond(b"stray").status(), 200);
    let h = invoke_in_background(&api, b"e");
    assert_eq!(c.next().body, b"e");
    c.respond(b"real");
    assert_eq!(
        h.join().unwrap().unwrap(),
        Outcome::Response(b"real".to_vec())
    );
    assert_eq!(api.stats().ignored_results, 1);
}

#[test]
fn empty_ready_is_rejected() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    let w = c.request("POST", "/runtime/init/ready", b"");
    assert_eq!(w.status(), 400);
    assert!(String::from_utf8_lossy(&w.body).contains("must not be empty"));
    assert!(api.ready_at().is_none());
    // The connection survives a semantic 400.
    assert_eq!(c.ready().status(), 200);
    assert!(api.ready_at().is_some());
    assert_eq!(c.ready().status(), 200, "repeats are harmless");
    assert_eq!(api.stats().ready_posts, 2);
}

#[test]
fn malformed_requests_get_400_and_close() {
    let api = start(Quirks::default());
    let cases: &[&[u8]] = &[
        b"GET /runtime/invocation/next\r\n\r\n",
        b"POST /runtime/invocation/response HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST /runtime/invocation/response HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        b"POST /runtime/invocation/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"POST /runtime/invocation/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /runtime/invocation/response HTTP/1.1\r\nBad Header: 1\r\n\r\n",
        b"GET /runtime/invocation/next HTTP/9.9\r\n\r\n",
    ];
    for raw in cases {
        let mut c = Raw::connect(&api);
        c.send(raw);
        let w = c.read();
        assert_eq!(w.status(), 400, "{}", String::from_utf8_lossy(raw));
        assert!(w.body.starts_with(b"bad request: "));
        assert!(c.closed_by_server());
    }
    assert_eq!(api.stats().bad_requests, cases.len() as u64);
}

#[test]
fn unknown_paths_and_methods() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    assert_eq!(
        c.request("GET", "/2018-06-01/runtime/invocation/next", b"")
            .status(),
        404
    );
    let w = c.request("POST", "/runtime/invocation/next", b"x");
    assert_eq!((w.status(), w.header("allow")), (405, Some("GET")));
    assert_eq!(c.request("GET", "/runtime/init/ready", b"").status(), 405);
    assert_eq!(c.ready().status(), 200, "still usable after 404/405");
    let st = api.stats();
    assert_eq!((st.not_found, st.method_not_allowed), (1, 2));
}

#[test]
fn chunked_and_expect_continue_request_bodies() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.ready();
    let h = invoke_in_background(&api, b"e");
    c.next();
    c.send(b"POST /runtime/invocation/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert_eq!(c.read().status(), 200);
    assert_eq!(
        h.join().unwrap().unwrap(),
        Outcome::Response(b"hello world".to_vec())
    );

    // curl's large -d bodies: the server must say 100 Continue first.
    let h = invoke_in_background(&api, b"e");
    c.next();
    let body = vec![b'x'; 5000];
    c.send(format!("POST /runtime/invocation/response HTTP/1.1\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", body.len()).as_bytes());
    let cont = c.read();
    assert_eq!(cont.status(), 100);
    c.send(&body);
    assert_eq!(c.read().status(), 200);
    assert_eq!(h.join().unwrap().unwrap(), Outcome::Response(body));
}

#[test]
fn pipelined_requests_on_one_connection() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.send(b"POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 1\r\n\r\n POST /runtime/init/ready HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(c.read().status(), 200);
    assert_eq!(c.read().status(), 200);
    assert_eq!(api.stats().ready_posts, 2);
}

#[test]
fn http10_and_connection_close_from_the_client() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.send(b"POST /runtime/init/ready HTTP/1.0\r\nContent-Length: 1\r\n\r\n ");
    let w = c.read();
    assert_eq!(w.header("connection"), Some("close"));
    assert!(c.closed_by_server());
    let mut c = Raw::connect(&api);
    c.send(b"POST /runtime/init/ready HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\n ");
    assert_eq!(c.read().status(), 200);
    assert!(c.closed_by_server());
}

#[test]
fn long_poll_waits_for_an_event() {
    let api = start(Quirks::default());
    let api2 = api.clone();
    let poller = thread::spawn(move || {
        let mut c = Raw::connect(&api2);
        let t = Instant::now();
        let w = c.next();
        (w.body, t.elapsed())
    });
    assert!(!api.is_polling());
    thread::sleep(Duration::from_millis(300));
    assert!(api.is_polling(), "the long poll is waiting");
    let h = invoke_in_background(&api, b"late event");
    let (body, waited) = poller.join().unwrap();
    assert_eq!(body, b"late event");
    assert!(
        waited >= Duration::from_millis(280),
        "returned after {waited:?}"
    );
    assert!(!api.is_polling(), "it took the event");
    let mut c = Raw::connect(&api);
    c.respond(b"ok");
    h.join().unwrap().unwrap();
}

#[test]
fn timeout_and_not_dispatched() {
    let api = start(Quirks::default());
    // Nobody polls: the event is never dispatched.
    let err = api.invoke(b"e", Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, InvokeError::NotDispatched { .. }), "{err:?}");
    // Dispatched, but the result comes too late.
    let mut c = Raw::connect(&api);
    let api2 = api.clone();
    let h = thread::spawn(move || api2.invoke(b"slow", Duration::from_millis(150)));
    assert_eq!(c.next().body, b"slow");
    let err = h.join().unwrap().unwrap_err();
    assert!(matches!(err, InvokeError::Timeout { .. }), "{err:?}");
    assert_eq!(c.respond(b"too late").status(), 200);
    assert_eq!(api.stats().ignored_results, 1);
    // The server goes on serving.
    let h = invoke_in_background(&api, b"again");
    assert_eq!(c.next().body, b"again");
    c.respond(b"fine");
    assert_eq!(
        h.join().unwrap().unwrap(),
        Outcome::Response(b"fine".to_vec())
    );
}

#[test]
fn concurrent_invokes_queue_one_at_a_time() {
    let api = start(Quirks::default());
    let handles: Vec<_> = (0..4)
        .map(|i| invoke_in_background(&api, format!("ev{i}").as_bytes()))
        .collect();
    let mut c = Raw::connect(&api);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let ev = c.next();
        // While this event is current, a second poller sees the same one.
        let again = Raw::connect(&api).next();
        assert_eq!(again.body, ev.body);
        assert_eq!(again.header("request_id"), ev.header("request_id"));
        seen.push(String::from_utf8(ev.body.clone()).unwrap());
        let mut reply = b"echo ".to_vec();
        reply.extend_from_slice(&ev.body);
        c.respond(&reply);
    }
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(
            h.join().unwrap().unwrap(),
            Outcome::Response(format!("echo ev{i}").into_bytes())
        );
    }
    seen.sort();
    assert_eq!(seen, ["ev0", "ev1", "ev2", "ev3"]);
}

#[test]
fn abort_fails_pending_and_later_invocations() {
    let api = start(Quirks::default());
    let h = invoke_in_background(&api, b"e");
    let mut c = Raw::connect(&api);
    c.next();
    api.abort();
    assert!(matches!(
        h.join().unwrap().unwrap_err(),
        InvokeError::Aborted {
            dispatched_at: Some(_),
            ..
        }
    ));
    assert!(matches!(
        api.invoke(b"x", T).unwrap_err(),
        InvokeError::Aborted { .. }
    ));
    assert!(!api.wait_ready(T), "wait_ready returns at once after abort");
}

#[test]
fn drop_does_not_hang_and_fails_waiters() {
    let api = start(Quirks::default());
    let mut pollers = Vec::new();
    for _ in 0..3 {
        let mut c = Raw::connect(&api);
        pollers.push(thread::spawn(move || {
            c.send(b"GET /runtime/invocation/next HTTP/1.1\r\n\r\n");
            c.closed_by_server()
        }));
    }
    thread::sleep(Duration::from_millis(50));
    let api = Arc::try_unwrap(api).unwrap();
    let t = Instant::now();
    drop(api);
    assert!(t.elapsed() < Duration::from_secs(2));
    for p in pollers {
        assert!(
            p.join().unwrap(),
            "long-polling client sees the connection close"
        );
    }
}

#[test]
fn quirk_close_after_each_response_with_header() {
    let api = start(Quirks {
        close: CloseMode::AfterEachResponseWithHeader,
        ..Quirks::default()
    });
    let mut c = Raw::connect(&api);
    let w = c.ready();
    assert_eq!(w.header("connection"), Some("close"));
    assert!(c.closed_by_server());
    let h = invoke_in_background(&api, b"e");
    let mut c = Raw::connect(&api);
    let w = c.next();
    assert_eq!(
        (w.body.as_slice(), w.header("connection")),
        (&b"e"[..], Some("close"))
    );
    assert!(c.closed_by_server());
    let mut c = Raw::connect(&api);
    c.respond(b"r");
    assert!(c.closed_by_server());
    h.join().unwrap().unwrap();
    assert_eq!(api.stats().connections, 3);
}

#[test]
fn quirk_close_after_each_response_silently() {
    let api = start(Quirks {
        close: CloseMode::AfterEachResponseSilently,
        ..Quirks::default()
    });
    let mut c = Raw::connect(&api);
    let w = c.ready();
    assert_eq!(w.header("connection"), None);
    assert!(!w.raw_head.to_ascii_lowercase().contains("connection"));
    assert!(c.closed_by_server());
}

#[test]
fn quirk_chunked_events() {
    let api = start(Quirks {
        chunked_events: true,
        ..Quirks::default()
    });
    let event = scf_emulator::GUIDE_EVENT.as_bytes();
    let h = invoke_in_background(&api, event);
    let mut c = Raw::connect(&api);
    let w = c.next();
    assert!(w.raw_head.contains("Transfer-Encoding: chunked"));
    assert!(!w.raw_head.to_ascii_lowercase().contains("content-length"));
    assert_eq!(w.body, event);
    let raw = String::from_utf8_lossy(&w.raw_body);
    assert!(raw.matches("\r\n").count() >= 7, "several chunks: {raw:?}");
    assert!(raw.contains(";scf-emulator="), "a chunk extension: {raw:?}");
    c.respond(b"ok");
    h.join().unwrap().unwrap();
    // An empty event is a lone last-chunk.
    let h = invoke_in_background(&api, b"");
    let w = c.next();
    assert_eq!(
        (w.body.len(), w.raw_body.as_slice()),
        (0, &b"0\r\n\r\n"[..])
    );
    c.respond(b"ok");
    h.join().unwrap().unwrap();
}

#[test]
fn quirk_header_case() {
    for (case, names) in [
        (
            HeaderCase::Title,
            [
                "Request_Id: ",
                "Memory_Limit_In_Mb: 256",
                "Time_Limit_In_Ms: 1500",
            ],
        ),
        (
            HeaderCase::Upper,
            [
                "REQUEST_ID: ",
                "MEMORY_LIMIT_IN_MB: 256",
                "TIME_LIMIT_IN_MS: 1500",
            ],
        ),
    ] {
        let api = start(Quirks {
            header_case: case,
            ..Quirks::default()
        });
        let h = invoke_in_background(&api, b"e");
        let mut c = Raw::connect(&api);
        let w = c.next();
        for n in names {
            assert!(
                w.raw_head.contains(&format!("\r\n{n}")),
                "{n} in {}",
                w.raw_head
            );
        }
        c.respond(b"ok");
        h.join().unwrap().unwrap();
    }
}

#[test]
fn quirk_extra_headers_and_decoy() {
    let api = start(Quirks {
        extra_headers: 128,
        ..Quirks::default()
    });
    let api2 = api.clone();
    let h = thread::spawn(move || {
        api2.invoke_with(
            b"e",
            InvokeOptions {
                timeout: T,
                dispatch_timeout: Some(T),
                request_id: Some("the-real-id".into()),
            },
        )
    });
    let mut c = Raw::connect(&api);
    let w = c.next();
    assert!(
        w.head.headers.len() >= 128 + 4,
        "{} headers",
        w.head.headers.len()
    );
    let decoy = w
        .raw_head
        .find("\r\nrequest_idx: wrong\r\n")
        .expect("decoy header");
    let real = w
        .raw_head
        .find("\r\nrequest_id: the-real-id\r\n")
        .expect("real header");
    assert!(
        decoy < real,
        "decoy comes first, so prefix matching picks it"
    );
    c.respond(b"ok");
    h.join().unwrap().unwrap();
}

#[test]
fn quirk_fail_next() {
    let api = start(Quirks {
        fail_next: 2,
        ..Quirks::default()
    });
    let h = invoke_in_background(&api, b"e");
    let mut c = Raw::connect(&api);
    assert_eq!(c.next().status(), 500);
    assert_eq!(c.next().status(), 500);
    let w = c.next();
    assert_eq!((w.status(), w.body.as_slice()), (200, &b"e"[..]));
    c.respond(b"ok");
    h.join().unwrap().unwrap();
    assert_eq!(api.stats().server_errors, 2);
}

#[test]
fn quirk_next_delay() {
    let api = start(Quirks {
        next_delay: Some(Duration::from_millis(200)),
        ..Quirks::default()
    });
    let h = invoke_in_background(&api, b"queued already");
    thread::sleep(Duration::from_millis(20));
    let mut c = Raw::connect(&api);
    let t = Instant::now();
    assert_eq!(c.next().body, b"queued already");
    assert!(
        t.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t.elapsed()
    );
    c.respond(b"ok");
    h.join().unwrap().unwrap();
}

#[test]
fn large_bodies_both_ways() {
    let api = start(Quirks::default());
    let event: Vec<u8> = (0..7_000_000u32).map(|i| (i % 251) as u8).collect();
    let h = invoke_in_background(&api, &event);
    let mut c = Raw::connect(&api);
    let w = c.next();
    assert_eq!(w.body, event);
    c.respond(&event);
    assert_eq!(h.join().unwrap().unwrap(), Outcome::Response(event));
}

fn start_lambda(quirks: Quirks, prefix: &str) -> Arc<RuntimeApi> {
    let cfg = ApiConfig {
        dialect: scf_emulator::dialect::Dialect::Lambda,
        prefix: prefix.into(),
        record_requests: true,
        quirks,
        ..ApiConfig::default()
    };
    Arc::new(RuntimeApi::start(cfg).expect("start runtime API"))
}

/// Lambda's dialect: no init/ready (the first `/next` is the ready
/// signal), paths under the prefix, the event's id and the invoker's
/// headers on `/next`, results under the event's id only, `202` answers,
/// `init/error` kept, 204s first with `empty_next`, every request recorded.
#[test]
fn lambda_dialect_routes_results_by_id_and_answers_202() {
    let api = start_lambda(
        Quirks {
            empty_next: 2,
            ..Quirks::default()
        },
        "/.rt",
    );
    let mut c = Raw::connect(&api);
    let base = "/.rt/2018-06-01/runtime";
    // SCF's paths, and Lambda's without the prefix, are not there.
    assert_eq!(c.request("POST", "/runtime/init/ready", b" ").status(), 404);
    assert_eq!(
        c.request("GET", "/2018-06-01/runtime/invocation/next", b"")
            .status(),
        404
    );
    assert_eq!(
        c.request("POST", &format!("{base}/invocation/next"), b"")
            .status(),
        405
    );
    assert!(!api.wait_ready(Duration::ZERO));
    let api2 = api.clone();
    let h = thread::spawn(move || {
        let opts = InvokeOptions {
            timeout: T,
            dispatch_timeout: Some(T),
            request_id: Some("id-1".into()),
        };
        api2.invoke_with_headers(
            b"{}",
            &[("Lambda-Runtime-Deadline-Ms", "1900000000000")],
            opts,
        )
    });
    for _ in 0..2 {
        let r = c.request("GET", &format!("{base}/invocation/next"), b"");
        assert_eq!(r.status(), 204);
        assert!(!r.raw_head.contains("Content-Length"), "{}", r.raw_head);
    }
    assert!(api.wait_ready(T), "the first /next is the ready signal");
    let ev = c.request("GET", &format!("{base}/invocation/next"), b"");
    assert_eq!((ev.status(), &ev.body[..]), (200, &b"{}"[..]));
    assert!(
        ev.raw_head.contains("\r\nLambda-Runtime-Aws-Request-Id: id-1\r\nLambda-Runtime-Deadline-Ms: 1900000000000\r\n"),
        "{}",
        ev.raw_head
    );
    assert!(ev.header("request_id").is_none() && ev.header("memory_limit_in_mb").is_none());
    // A result under another id changes nothing; under the event's, it ends it.
    let other = c.request(
        "POST",
        &format!("{base}/invocation/someone-else/response"),
        b"no",
    );
    assert_eq!(other.status(), 202);
    let mine = c.request(
        "POST",
        &format!("{base}/invocation/id-1/error"),
        b"{\"errorType\":\"E\"}",
    );
    assert_eq!(
        (mine.status(), mine.text()),
        (202, "{\"status\":\"OK\"}\n".to_string())
    );
    let inv = h.join().unwrap().unwrap();
    assert_eq!(
        inv.outcome,
        Outcome::Error(b"{\"errorType\":\"E\"}".to_vec())
    );
    assert_eq!(inv.head.target, format!("{base}/invocation/id-1/error"));
    // init/error is kept (the first), and ends wait_ready's hopes.
    assert!(api.wait_init_error(Duration::ZERO).is_none());
    assert_eq!(
        c.request("POST", &format!("{base}/init/error"), b"{\"a\":1}")
            .status(),
        202
    );
    assert_eq!(api.wait_init_error(T).unwrap().body, b"{\"a\":1}");
    let s = api.stats();
    assert_eq!(
        (s.ready_posts, s.next_requests, s.empty_nexts, s.events_sent),
        (0, 3, 2, 1)
    );
    assert_eq!(
        (
            s.response_posts,
            s.error_posts,
            s.ignored_results,
            s.init_errors
        ),
        (1, 1, 1, 1)
    );
    assert_eq!((s.not_found, s.method_not_allowed), (2, 1));
    let paths: Vec<String> = api
        .requests()
        .iter()
        .map(|r| r.head.target.clone())
        .collect();
    assert_eq!(paths.len() as u64, s.requests, "{paths:?}");
    assert_eq!(paths[3], format!("{base}/invocation/next"));
}

/// Without `record_requests`, nothing is kept.
#[test]
fn requests_are_recorded_only_when_asked() {
    let api = start(Quirks::default());
    let mut c = Raw::connect(&api);
    c.ready();
    assert_eq!(api.stats().requests, 1);
    assert!(api.requests().is_empty());
}
