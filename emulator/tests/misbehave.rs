//! A bootstrap that dies by a signal or holds more memory than its size:
//! what the Invoke answer says, and that the next invoke cold-starts
//! (`tests/fixtures/misbehave`).

mod common;

use common::*;
use scf_emulator::Status;

#[test]
fn death_by_signal_is_439_with_the_signal_and_a_cold_start_after() {
    let dir = copy_fixture("misbehave");
    let em = emulator(dir.path(), config(dir.path()));
    let v = json(&em.invoke(br#"{"warm":"up"}"#));
    assert_eq!(v["Result"]["RetMsg"], r#"ok {"warm":"up"}"#, "{v}");
    assert!(v["Emulator"].get("ExitSignal").is_none(), "{v}");

    let r = em.invoke(br#"{"crash":1}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::UserProcessExit, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 439);
    assert_eq!(
        v["Result"]["ErrMsg"],
        "User process exit when running: bootstrap process exited with signal 11 (SIGSEGV) during the invocation"
    );
    assert_eq!(v["Emulator"]["ExitSignal"], "SIGSEGV");
    assert!(
        v["Emulator"].get("ExitCode").is_none(),
        "killed, not exited: {v}"
    );
    assert!(
        v["Result"]["Log"]
            .as_str()
            .unwrap()
            .starts_with("handling "),
        "{v}"
    );
    assert_eq!(em.instance_pid(), None, "the instance is gone");

    let v = json(&em.invoke(br#"{"after":1}"#));
    assert_eq!(v["Result"]["RetMsg"], r#"ok {"after":1}"#);
    assert_eq!(
        v["Emulator"]["Cold"], true,
        "the next invoke is a cold start"
    );
}

#[test]
fn a_crash_report_posted_before_dying_is_the_errmsg() {
    let dir = copy_fixture("misbehave");
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(br#"{"post-then-crash":1}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::UserProcessExit, "{v}");
    assert_eq!(
        v["Result"]["ErrMsg"],
        format!(
            "handler 'main_handler' crashed: SIGSEGV while handling request {}",
            v["RequestId"].as_str().unwrap()
        )
    );
    assert_eq!(v["Result"]["RetMsg"], "");
    assert_eq!(v["Emulator"]["ExitSignal"], "SIGSEGV");
    assert_eq!(em.instance_pid(), None);
    the_next_invoke_succeeds_cold(&em);
}

#[test]
fn memory_over_the_size_is_434_and_ends_the_instance() {
    let dir = copy_fixture("misbehave");
    let mut cfg = config(dir.path());
    cfg.memory_mb = 64;
    cfg.timeout = std::time::Duration::from_secs(5);
    let em = emulator(dir.path(), cfg);
    let v = json(&em.invoke(b"{}"));
    assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
    let pid = em.instance_pid().unwrap();

    let t = std::time::Instant::now();
    let r = em.invoke(br#"{"allocate":"200 MB"}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::MemoryLimitReached, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 434);
    let err = v["Result"]["ErrMsg"].as_str().unwrap();
    assert!(
        err.starts_with("MemoryLimitReached: the instance held ")
            && err.ends_with("over its memory size of 64 MB"),
        "{err}"
    );
    assert_eq!(v["Emulator"]["ExitSignal"], "SIGKILL");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(4),
        "ended, not timed out: {:?}",
        t.elapsed()
    );
    assert!(wait_gone(pid), "the process group is killed");

    the_next_invoke_succeeds_cold(&em);
}

/// A bootstrap that dies while idle between invocations (killed here by
/// SIGKILL, as an out-of-memory killer or an operator would) is replaced by
/// a new instance at the next invoke, and that invoke's report says how the
/// old one ended: nothing else would.
#[test]
fn a_bootstrap_killed_while_idle_is_named_at_the_next_cold_start() {
    let dir = copy_fixture("misbehave");
    let em = emulator(dir.path(), config(dir.path()));
    let v = json(&em.invoke(br#"{"warm":"up"}"#));
    assert!(v["Emulator"].get("PreviousExit").is_none(), "{v}");
    let pid = em.instance_pid().expect("a live instance after an invoke");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Until the kernel has made it a zombie (the emulator has not reaped
    // it): an invoke before that would be dispatched to it.
    let dying = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while dying() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let r = em.invoke(br#"{"after":1}"#);
    let v = json(&r);
    assert_eq!(v["Result"]["RetMsg"], r#"ok {"after":1}"#, "{v}");
    assert_eq!(v["Emulator"]["Cold"], true, "{v}");
    assert_eq!(v["Emulator"]["PreviousExit"], "SIGKILL", "{v}");
    assert!(
        r.summary()
            .ends_with("(the previous instance ended while idle: SIGKILL)"),
        "{}",
        r.summary()
    );
    // The instance after that is warm and has nothing to report.
    let v = json(&em.invoke(br#"{"again":1}"#));
    assert_eq!(
        (
            v["Emulator"]["Cold"].as_bool(),
            v["Emulator"].get("PreviousExit")
        ),
        (Some(false), None),
        "{v}"
    );
}

/// After an instance ended, the next invoke starts a new one and succeeds.
fn the_next_invoke_succeeds_cold(em: &scf_emulator::Emulator) {
    let v = json(&em.invoke(b"{}"));
    assert_eq!(
        (&v["Result"]["InvokeResult"], &v["Emulator"]["Cold"]),
        (&0.into(), &true.into())
    );
}
