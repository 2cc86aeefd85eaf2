//! The emulator hosting this project's own `bootstrap` (the echo demo),
//! checked on the Invoke JSON the way `bash_curl.rs` checks the guide's.
//!
//! Set `SCF_BOOTSTRAP_BIN` to a built `bootstrap` to test that binary;
//! otherwise it is built once into `target/it` (see `common::own_bootstrap`).
//! Scenarios that need a handler to misbehave on purpose (error push,
//! timeouts, crashes during init) are covered with the bash fixtures only:
//! the echo demo cannot be told to misbehave.

mod common;

use common::*;
use scf_emulator::report::SYNC_LIMIT;
use scf_emulator::{CloseMode, HeaderCase, Quirks, Status};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

fn echo(event: &str) -> String {
    format!("Echoing request: '{event}'")
}

#[test]
fn success_cold_then_warm() {
    let dir = own_function();
    let em = emulator(dir.path(), config(dir.path()));
    let v = json(&em.invoke(EVENT.as_bytes()));
    let res = &v["Result"];
    assert_eq!(res["InvokeResult"], 0, "{v}");
    assert_eq!(res["RetMsg"], echo(EVENT));
    assert_eq!(res["ErrMsg"], "");
    assert!(res["MemUsage"].as_u64().unwrap() > 0);
    assert_eq!(v["Emulator"]["Cold"], true);
    let init = v["Emulator"]["InitDurationUs"].as_u64().unwrap();
    assert!(
        init < 1_000_000,
        "a static bootstrap initializes in well under a second: {init} us"
    );
    let pid = em.instance_pid().unwrap();
    for i in 0..5 {
        let event = format!("{{\"n\":{i}}}");
        let v = json(&em.invoke(event.as_bytes()));
        assert_eq!(v["Result"]["RetMsg"], echo(&event));
        assert_eq!(v["Emulator"]["Cold"], false);
        assert_eq!(v["Emulator"]["Polls"], 1, "one GET /next per event");
    }
    assert_eq!(em.instance_pid(), Some(pid));
}

#[test]
fn log_holds_only_this_invocations_output() {
    let dir = own_function();
    let em = emulator(dir.path(), config(dir.path()));
    let first = json(&em.invoke(br#"{"first":1}"#));
    let second = json(&em.invoke(br#"{"second":2}"#));
    let log2 = second["Result"]["Log"].as_str().unwrap();
    assert!(
        !log2.contains("first"),
        "no output from the previous invocation: {log2:?}"
    );
    assert!(first["Result"]["Log"].as_str().unwrap().len() <= 4096);
}

#[test]
fn non_executable_bootstrap_is_a_start_failure() {
    let dir = own_function();
    fs::set_permissions(
        dir.path().join("bootstrap"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let v = json(&emulator(dir.path(), config(dir.path())).invoke(EVENT.as_bytes()));
    assert_eq!(v["Result"]["InvokeResult"], 445, "{v}");
}

#[test]
fn event_size_limits() {
    let dir = own_function();
    let em = emulator(dir.path(), config(dir.path()));
    let event_of = |len: usize| {
        let mut e = br#"{"pad":""#.to_vec();
        e.resize(len - 2, b'x');
        e.extend_from_slice(b"\"}");
        e
    };
    // Over 6 MB: refused before anything runs.
    let r = em.invoke(&event_of(SYNC_LIMIT + 1));
    assert_eq!(r.status, Status::RequestTooLarge);
    assert_eq!(em.instance_pid(), None);
    // Just under: the echo comes back whole.
    let event = event_of(SYNC_LIMIT - 64);
    let r = em.invoke(&event);
    assert_eq!(r.status, Status::Success, "{}", r.err_msg);
    assert_eq!(r.ret_msg.len(), event.len() + echo("").len());
    // Exactly 6 MB is a valid event, but its echo is over the response
    // limit: either the bootstrap pushes it and the platform refuses it
    // (407), or the bootstrap notices and pushes an error (430).
    let r = em.invoke(&event_of(SYNC_LIMIT));
    assert!(
        matches!(
            r.status,
            Status::ResponseTooLarge | Status::UserCodeException
        ),
        "{:?}: {}",
        r.status,
        r.err_msg
    );
}

#[test]
fn concurrent_invokes_are_queued() {
    let dir = own_function();
    let em = Arc::new(emulator(dir.path(), config(dir.path())));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let em = em.clone();
            thread::spawn(move || (i, em.invoke(format!("{{\"n\":{i}}}").as_bytes())))
        })
        .collect();
    let mut cold = 0;
    for h in handles {
        let (i, r) = h.join().unwrap();
        assert_eq!(r.status, Status::Success);
        assert_eq!(r.ret_msg, echo(&format!("{{\"n\":{i}}}")));
        cold += usize::from(r.cold);
    }
    assert_eq!(cold, 1);
}

#[test]
fn killed_between_invocations_means_a_cold_start() {
    let dir = own_function();
    let em = emulator(dir.path(), config(dir.path()));
    assert!(em.invoke(EVENT.as_bytes()).cold);
    let pid = em.instance_pid().unwrap();
    scf_emulator::sys::signal_process(pid, 9).unwrap();
    assert!(wait_gone(pid));
    let r = em.invoke(EVENT.as_bytes());
    assert_eq!(r.status, Status::Success, "{}", r.err_msg);
    assert!(r.cold, "the recycled instance is replaced by a cold start");
}

/// The runtime API misbehaving in each supported way: the bootstrap must
/// still answer every event correctly.
#[test]
fn survives_every_quirk() {
    let quirks = [
        (
            "close with header",
            Quirks {
                close: CloseMode::AfterEachResponseWithHeader,
                ..Quirks::default()
            },
        ),
        (
            "close silently",
            Quirks {
                close: CloseMode::AfterEachResponseSilently,
                ..Quirks::default()
            },
        ),
        (
            "chunked events",
            Quirks {
                chunked_events: true,
                ..Quirks::default()
            },
        ),
        (
            "Title_Case headers",
            Quirks {
                header_case: HeaderCase::Title,
                ..Quirks::default()
            },
        ),
        (
            "UPPER_CASE headers",
            Quirks {
                header_case: HeaderCase::Upper,
                ..Quirks::default()
            },
        ),
        (
            "128 extra headers",
            Quirks {
                extra_headers: 128,
                ..Quirks::default()
            },
        ),
        (
            "slow /next",
            Quirks {
                next_delay: Some(Duration::from_millis(30)),
                ..Quirks::default()
            },
        ),
        (
            "500 on the first /next",
            Quirks {
                fail_next: 1,
                ..Quirks::default()
            },
        ),
    ];
    for (name, q) in quirks {
        let dir = own_function();
        let mut cfg = config(dir.path());
        cfg.quirks = q;
        let em = emulator(dir.path(), cfg);
        for i in 0..3 {
            let event = format!("{{\"quirk\":\"{name}\",\"n\":{i}}}");
            let r = em.invoke(event.as_bytes());
            assert_eq!(
                r.status,
                Status::Success,
                "{name}, event {i}: {}",
                r.to_json()
            );
            assert_eq!(r.ret_msg, echo(&event), "{name}, event {i}");
        }
    }
}
