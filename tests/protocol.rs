//! The real static `bootstrap` (echo demo build) against the loopback
//! runtime API: the protocol paths a healthy or quirky platform takes.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn demo_echoes_the_guide_event_and_logs_it() {
    let api = api(Quirks::default());
    let p = spawn(&demo(), &api, "index.main_handler");
    assert!(api.wait_ready(T), "no init/ready");
    let event = GUIDE_EVENT;
    assert_eq!(invoke_ok(&api, event), echo_of(event));
    assert_eq!(api.stats().ready_posts, 1);
    let stderr = p.stop();
    assert!(stderr.starts_with(scf_emulator::GUIDE_EVENT), "{stderr}");
}

#[test]
fn six_megabyte_event() {
    let api = api(Quirks::default());
    let _p = spawn(&demo(), &api, "index.main_handler");
    // 6 MB (decimal), so that the echo (+19 bytes) stays within SCF's
    // 6 MB response limit (6291456 bytes); tests/handlers.rs sends a
    // 6291456-byte event.
    let event = six_mb_event();
    assert_eq!(invoke_ok(&api, &event), echo_of(&event));
    // And the grown buffer serves small events afterwards.
    assert_eq!(invoke_ok(&api, b"small"), echo_of(b"small"));
}

#[test]
fn an_echo_over_the_response_limit_is_a_clear_error() {
    let api = api(Quirks::default());
    let _p = spawn(&demo(), &api, "index.main_handler");
    let event = vec![b'x'; 6 << 20];
    match api.invoke(&event, T).unwrap() {
        Outcome::Error(msg) => assert_eq!(
            String::from_utf8(msg).unwrap(),
            "the echo of a 6291456-byte event exceeds SCF's 6 MB response limit"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(invoke_ok(&api, b"after"), echo_of(b"after"));
}

#[test]
fn binary_events_pass_untouched() {
    let api = api(Quirks::default());
    let _p = spawn(&demo(), &api, "index.main_handler");
    let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    for event in [&b""[..], b"\0", b"\0\0a\0", b"\xff\xfe\x80", b"\r\n\r\n", &all] {
        assert_eq!(invoke_ok(&api, event), echo_of(event), "{event:?}");
    }
}

#[test]
fn two_hundred_invocations_over_one_connection() {
    let api = api(Quirks::default());
    let _p = spawn(&demo(), &api, "index.main_handler");
    for i in 0..200 {
        let event = format!("{{\"n\":{i}}}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()));
    }
    let s = api.stats();
    assert_eq!((s.connections, s.events_sent, s.response_posts), (1, 200, 200), "{s:?}");
}

fn survives_close(close: CloseMode) {
    let api = api(Quirks { close, ..Quirks::default() });
    let _p = spawn(&demo(), &api, "index.main_handler");
    for i in 0..30 {
        let event = format!("event {i}");
        assert_eq!(invoke_ok(&api, event.as_bytes()), echo_of(event.as_bytes()));
    }
    let s = api.stats();
    assert_eq!((s.events_sent, s.response_posts, s.ignored_results), (30, 30, 0), "{s:?}");
    assert!(s.connections >= 30, "{s:?}");
}

#[test]
fn platform_closes_after_every_response_with_connection_close() {
    survives_close(CloseMode::AfterEachResponseWithHeader);
}

#[test]
fn platform_closes_after_every_response_silently() {
    survives_close(CloseMode::AfterEachResponseSilently);
}

#[test]
fn chunked_event_bodies() {
    let api = api(Quirks { chunked_events: true, ..Quirks::default() });
    let _p = spawn(&demo(), &api, "index.main_handler");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for event in [&b"x"[..], b"hello chunked world", &big] {
        assert_eq!(invoke_ok(&api, event), echo_of(event));
    }
}

#[test]
fn long_poll_answered_after_seconds() {
    let api = api(Quirks { next_delay: Some(Duration::from_secs(3)), ..Quirks::default() });
    let _p = spawn(&demo(), &api, "index.main_handler");
    assert!(api.wait_ready(T));
    let start = Instant::now();
    assert_eq!(invoke_ok(&api, b"late"), echo_of(b"late"));
    assert!(start.elapsed() >= Duration::from_secs(3));
    assert_eq!(api.stats().connections, 1);
}

#[test]
fn one_500_on_next_then_recovery() {
    let api = api(Quirks { fail_next: 1, ..Quirks::default() });
    let _p = spawn(&demo(), &api, "index.main_handler");
    assert_eq!(invoke_ok(&api, b"after 500"), echo_of(b"after 500"));
    assert_eq!(invoke_ok(&api, b"again"), echo_of(b"again"));
    let s = api.stats();
    assert_eq!(s.server_errors, 1, "{s:?}");
}

#[test]
fn several_500s_in_a_row_are_retried() {
    let api = api(Quirks { fail_next: 4, ..Quirks::default() });
    let _p = spawn(&demo(), &api, "index.main_handler");
    assert_eq!(invoke_ok(&api, b"patience"), echo_of(b"patience"));
    assert_eq!(api.stats().server_errors, 4);
}

fn reaches(bind: &str, api_value: &str) {
    let api = api_on(bind, Quirks::default());
    let port = api.addr().port().to_string();
    let _p = spawn_env(
        &demo(),
        &[("SCF_RUNTIME_API", api_value), ("SCF_RUNTIME_API_PORT", &port), ("_HANDLER", "index.main_handler")],
    );
    assert_eq!(invoke_ok(&api, b"addr"), echo_of(b"addr"), "{bind} via {api_value}");
}

#[test]
fn ipv6_bare_and_bracketed() {
    reaches("[::1]:0", "::1");
    reaches("[::1]:0", "[::1]");
}

#[test]
fn localhost_on_either_family() {
    reaches("127.0.0.1:0", "localhost");
    reaches("[::1]:0", "localhost");
}

// Host names through /etc/hosts and DNS: tests/resolve.rs.

/// Runs the demo under an address-space limit of `bytes` (RLIMIT_AS, set
/// by util-linux's `prlimit`) and invokes it once with `event`; `None` if
/// the process ended first (it could not even hold the event).
fn invoke_under_address_space_limit(bytes: u64, event: &[u8]) -> Option<Outcome> {
    let api = api(Quirks::default());
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg(format!("--as={bytes}")).arg(demo());
    cmd.env_clear().envs(scf_env(&api, "index.main_handler"));
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut p = Proc::spawn(cmd);
    std::thread::scope(|s| {
        let inv = s.spawn(|| api.invoke(event, T));
        loop {
            if inv.is_finished() {
                return inv.join().unwrap().ok();
            }
            if p.child.try_wait().unwrap().is_some() {
                api.abort();
                return inv.join().unwrap().ok();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

/// The least address space (to the page) in which the demo echoes a
/// 6,000,000-byte event, by bisection between 1 MiB and 64 MiB.
fn address_space_for_a_six_megabyte_echo(event: &[u8]) -> u64 {
    let (mut lo, mut hi) = (1u64 << 8, 64u64 << 8); // in 4 KiB pages: fails, succeeds
    assert!(matches!(invoke_under_address_space_limit(hi << 12, event), Some(Outcome::Response(_))));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match invoke_under_address_space_limit(mid << 12, event) {
            Some(Outcome::Response(body)) => {
                assert_eq!(body.len(), event.len() + 19);
                hi = mid;
            }
            _ => lo = mid,
        }
    }
    hi << 12
}

/// What a 6 MB echo costs in address space (docs/platforms.md shows this
/// test's figure from its record: `scripts/figures update address-space`
/// runs `cargo test --test protocol address_space -- --nocapture`): the
/// binary and stack, the event read straight into memory of its size
/// (5.7 MiB), and the response grown to at most SCF's 6 MB limit.
/// Just below that, memory runs out while the echo is written, and the
/// message says so rather than blaming the size limit.
#[test]
fn address_space_for_a_six_megabyte_echo_and_out_of_memory_named_as_such() {
    let event = six_mb_event();
    let need = address_space_for_a_six_megabyte_echo(&event);
    println!("a 6,000,000-byte echo needs {need} bytes ({:.2} MiB) of address space", need as f64 / (1 << 20) as f64);
    assert!(need <= 12 << 20, "{need} bytes");
    match invoke_under_address_space_limit(need - 4096, &event) {
        Some(Outcome::Error(msg)) => assert_eq!(
            String::from_utf8(msg).unwrap(),
            "the echo of a 6000000-byte event ran out of memory (it is within SCF's 6 MB limit)"
        ),
        other => panic!("{:?}", other.map(|o| o.body().len())),
    }
}
