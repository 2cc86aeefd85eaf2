//! Pipelining (`SCF_BOOTSTRAP_PIPELINE=1`): each result goes out with the
//! next `GET /runtime/invocation/next` in one write. The real static
//! bootstrap against the emulator's runtime API (which counts requests that
//! arrive pipelined), and against a scripted peer for the answers a
//! platform may give other than "accepted": a refused result, a 5xx, a
//! connection closed between the two answers.

mod common;
use common::*;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

/// [`spawn`] with pipelining on.
fn spawn_pipelined(bin: &std::path::Path, api: &RuntimeApi, handler: &str) -> Proc {
    let mut env = scf_env(api, handler);
    env.push(("SCF_BOOTSTRAP_PIPELINE", "1".into()));
    spawn_env(bin, &env.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
}

#[test]
fn results_and_events_flow_pipelined_over_one_connection() {
    let api = api(Quirks::default());
    let _p = spawn_pipelined(&pipelined_demo(), &api, "index.main_handler");
    for i in 0..200 {
        let event = format!("{{\"n\":{i}}}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()));
    }
    let s = api.stats();
    // Every response had the next /next behind it in the same write; the
    // last /next is waiting now.
    assert_eq!((s.connections, s.events_sent, s.response_posts, s.pipelined), (1, 200, 200, 200), "{s:?}");
}

#[test]
fn error_posts_are_pipelined_too() {
    let api = api(Quirks::default());
    let bin = build(&Build {
        name: "c-handlers-pipeline",
        handlers: &["tests/c/handlers.c"],
        features: "pipeline",
        ..Default::default()
    });
    let _p = spawn_pipelined(&bin, &api, "index.fail_with_message");
    for i in 0..20 {
        let event = format!("e{i}");
        let out = api.invoke(event.as_bytes(), T).expect("invoke");
        assert_eq!(out, Outcome::Error(format!("cannot handle event: {event}").into_bytes()));
    }
    let s = api.stats();
    assert_eq!((s.connections, s.error_posts, s.pipelined), (1, 20, 20), "{s:?}");
}

/// The platform closes after every answer, so the /next that went out with
/// a result is never answered on that connection: it is sent again on a
/// new one, and no event or result is lost or posted twice. Returns the
/// runtime API's counters.
fn survives_close(close: CloseMode) -> scf_emulator::api::Stats {
    let api = api(Quirks { close, ..Quirks::default() });
    let p = spawn_pipelined(&pipelined_demo(), &api, "index.main_handler");
    for i in 0..20 {
        let event = format!("{{\"n\":{i}}}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()));
    }
    let s = api.stats();
    assert_eq!((s.response_posts, s.ignored_results), (20, 0), "{s:?}");
    let stderr = p.stop();
    assert!(!stderr.contains("scf-bootstrap:"), "{stderr}");
    s
}

#[test]
fn a_platform_that_closes_after_every_answer_loses_nothing() {
    // Announced: each result goes out pipelined on a new connection; the
    // /next behind it is never answered there and goes out again.
    let s = survives_close(CloseMode::AfterEachResponseWithHeader);
    assert_eq!((s.pipelined, s.events_sent), (20, 20), "{s:?}");
    // Silent: each result and its /next find the connection the event
    // came on closed before any answer. The /next goes out again first,
    // brings the same event (the result was not taken), and the result is
    // sent again, alone: every event is sent twice, every result taken once.
    let s = survives_close(CloseMode::AfterEachResponseSilently);
    assert_eq!((s.pipelined, s.events_sent), (0, 40), "{s:?}");
}

#[test]
fn a_setting_other_than_0_or_1_is_a_clean_failure() {
    let api = api(Quirks::default());
    let mut env = scf_env(&api, "index.main_handler");
    env.push(("SCF_BOOTSTRAP_PIPELINE", "yes".into()));
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, stderr, _) = spawn_env(&pipelined_demo(), &env).wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "scf-bootstrap: SCF_BOOTSTRAP_PIPELINE='yes' is neither 0 (pipelining off) nor 1 (on)"
    );
    // 0 is off, as unset is: the demo serves without pipelining.
    env.retain(|(k, _)| *k != "SCF_BOOTSTRAP_PIPELINE");
    env.push(("SCF_BOOTSTRAP_PIPELINE", "0"));
    let _p = spawn_env(&pipelined_demo(), &env);
    assert_eq!(invoke_ok(&api, b"x"), echo_of(b"x"));
    assert_eq!(invoke_ok(&api, b"y"), echo_of(b"y"));
    assert_eq!(api.stats().pipelined, 0);
}

use common::Reply::*;

fn ok() -> Reply {
    Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec())
}

fn event(id: &str, body: &str) -> Reply {
    Answer(format!("HTTP/1.1 200 OK\r\nrequest_id: {id}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes())
}

/// A reply that is not HTTP: the run ends at once, with a clean failure.
fn garbage() -> Reply {
    Answer(b"garbage\r\n\r\n".to_vec())
}

/// Runs the demo with pipelining against a peer playing `replies`; returns
/// what the peer saw and the runtime's stderr lines, after checking that
/// the run ended, promptly, on the garbage answer to the last `/next`.
fn run_script(replies: Vec<Reply>) -> (Vec<String>, Vec<String>) {
    let (port, peer) = scripted_peer(replies);
    let port = port.to_string();
    let p = spawn_env(
        &pipelined_demo(),
        &[
            ("SCF_RUNTIME_API", "127.0.0.1"),
            ("SCF_RUNTIME_API_PORT", &port),
            ("_HANDLER", "index.main_handler"),
            ("SCF_BOOTSTRAP_PIPELINE", "1"),
        ],
    );
    let (status, stderr, took) = p.wait(Duration::from_secs(15));
    let seen = peer.join().unwrap();
    assert_eq!((status.signal(), status.code()), (None, Some(1)), "{stderr}");
    let ours: Vec<String> = stderr.lines().filter(|l| l.starts_with("scf-bootstrap: ")).map(String::from).collect();
    let last = ours.last().expect("a runtime line");
    assert!(last.contains("GET /runtime/invocation/next") && last.contains("malformed response"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    (seen, ours[..ours.len() - 1].to_vec())
}

const READY: &str = "POST /runtime/init/ready HTTP/1.1 < >";
const NEXT: &str = "GET /runtime/invocation/next HTTP/1.1";

fn response(body: &str) -> String {
    format!("POST /runtime/invocation/response HTTP/1.1 <Echoing request: '{body}'> +")
}

#[test]
fn a_refused_response_still_current_is_reported_on_the_error_endpoint() {
    let refused = Answer(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_vec());
    // The /next that went out with the refused response brings the same
    // event (r1): the invocation is still open, so the refusal is posted
    // as an error, and the /next that goes with it brings r2.
    let replies = vec![ok(), event("r1", "hi"), refused, event("r1", "hi"), ok(), event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(
        seen,
        [
            READY,
            NEXT,
            &response("hi"),
            NEXT,
            "POST /runtime/invocation/error HTTP/1.1 <the runtime API refused the response with status 413> +",
            NEXT,
            &response("yo"),
            NEXT,
        ]
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_refused_response_after_which_the_platform_moved_on_is_not_posted_for_the_next_event() {
    let refused = Answer(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_vec());
    // The /next that went out with the refused response brings a new
    // event: an error posted now would count for r2, so it is not posted;
    // stderr says so, and r2 is served.
    let replies = vec![ok(), event("r1", "hi"), refused, event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, &response("yo"), NEXT]);
    assert_eq!(
        warnings,
        ["scf-bootstrap: warning: the runtime API refused the response with status 413 and the pipelined /next \
          brought the next event, so no error was posted for the refused one"]
    );
}

#[test]
fn a_connection_closed_between_the_two_answers_is_reopened_for_the_next_event() {
    // The response is answered, then the connection closed with the /next
    // unanswered: the /next is sent again at once on a new connection.
    let replies = vec![ok(), event("r1", "hi"), ok(), Close, event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, NEXT, &response("yo"), NEXT]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn an_answer_with_connection_close_sends_the_next_poll_on_a_new_connection() {
    // The peer closes after the response's answer without reading the
    // /next behind it (which it never sees): the runtime does not wait
    // for an answer on that connection.
    let close = AnswerThenClose(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec());
    let replies = vec![ok(), event("r1", "hi"), close, event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, &response("yo"), NEXT]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The response as sent again alone.
fn alone(body: &str) -> String {
    response(body).trim_end_matches(" +").to_string()
}

#[test]
fn a_5xx_on_a_pipelined_response_asks_for_the_event_before_sending_it_again() {
    let failed =
        AnswerThenClose(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec());
    // The /next goes out again first and brings r1 again: the result was
    // not taken, and is sent again, alone.
    let replies = vec![ok(), event("r1", "hi"), failed, event("r1", "hi"), ok(), event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, &alone("hi"), NEXT, &response("yo"), NEXT]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_connection_lost_before_the_result_s_answer_is_resent_only_while_the_event_is_current() {
    // Closed with both requests read and neither answered. The platform
    // may have taken the result and handed the next event to the lost
    // /next; sending the result again then would attach it to that event.
    // So the /next goes out again first. It brings r2: the result was
    // taken, and is not sent again.
    let replies = vec![ok(), event("r1", "hi"), Close, event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, &response("yo"), NEXT]);
    assert!(warnings.is_empty(), "{warnings:?}");
    // It brings r1 again: the result was not taken, and is sent again.
    let replies = vec![ok(), event("r1", "hi"), Close, event("r1", "hi"), ok(), event("r2", "yo"), ok(), garbage()];
    let (seen, warnings) = run_script(replies);
    assert_eq!(seen, [READY, NEXT, &response("hi"), NEXT, &alone("hi"), NEXT, &response("yo"), NEXT]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// A build without the `pipeline` feature (the default and the minimal
/// one) refuses the setting with one warning and serves one request at a
/// time.
#[test]
fn a_build_without_the_feature_refuses_the_setting_with_one_warning() {
    let minimal = build(&Build { name: "minimal", no_default_features: true, features: "scf", ..Default::default() });
    for bin in [demo(), minimal] {
        refused_without_the_feature(&bin);
    }
}

fn refused_without_the_feature(bin: &std::path::Path) {
    let api = api(Quirks::default());
    let p = spawn_pipelined(bin, &api, "index.main_handler");
    for e in [&b"a"[..], b"b"] {
        assert_eq!(invoke_ok(&api, e), echo_of(e));
    }
    assert_eq!(api.stats().pipelined, 0);
    let stderr = p.stop();
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("scf-bootstrap: ")).collect();
    assert_eq!(
        ours,
        ["scf-bootstrap: warning: SCF_BOOTSTRAP_PIPELINE is ignored: this build has no pipelining (feature `pipeline` \
          is off)"]
    );
}

/// `scripts/package --pipeline` ships a bootstrap built with the feature:
/// the setting works in it (every result pipelined), while the packaged
/// default build only warns (see above).
#[test]
fn scripts_package_pipeline_ships_a_bootstrap_that_pipelines() {
    let dir = scratch("pipeline", "package");
    let zip = dir.join("function.zip");
    let o = run_package(&["--pipeline"], &zip);
    assert!(o.status.success(), "scripts/package --pipeline:\n{}", String::from_utf8_lossy(&o.stderr));
    let unzip = std::process::Command::new("unzip").arg("-o").arg("-q").arg(&zip).arg("-d").arg(&dir).status();
    assert!(unzip.expect("unzip (apt-get install unzip)").success());
    let api = api(Quirks::default());
    let _p = spawn_pipelined(&dir.join("bootstrap"), &api, "index.main_handler");
    for e in [&b"one"[..], b"two", b"three"] {
        assert_eq!(invoke_ok(&api, e), echo_of(e));
    }
    assert_eq!(api.stats().pipelined, 3);
}
